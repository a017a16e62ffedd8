import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// A prognostic prediction written to a twin's thread.
public struct PrognosticPrediction: Sendable, Hashable, Codable {
    public var twin: TwinID
    public var model: String
    public var outcome: String
    public var unit: String
    /// The index time (the person's latest outcome value) and the predicted time (index + horizon).
    public var index: Instant
    public var time: Instant
    public var value: Double
    public var lower: Double
    public var upper: Double
    public var intervalLevel: Double
    /// The features, by name (nil: missing, imputed with the training mean).
    public var features: [String: Double?]
    /// Features outside their training range, one sentence each (empty when the person is inside).
    public var outsideTrainingRange: [String]
    /// The id of the prediction event (nil when nothing was written).
    public var event: ContentHash?
}

/// A PROCOVA analysis of an aggregate, with who was left out and why.
public struct TrialReport: Sendable, Hashable, Codable {
    public var aggregate: String
    public var arm: String
    public var treatedValue: String
    public var controlValue: String
    public var outcome: String
    public var model: String
    public var analysis: TrialAnalysis
    /// Members without an arm, an outcome or a baseline a horizon earlier: (twin, reason).
    public var leftOut: [String: String]
    /// Members whose baseline features lie outside the model's training ranges (still analysed: randomisation keeps
    /// the adjusted test valid; the gain in precision may be smaller).
    public var outsideTrainingRange: [String]
}

/// The bank-facing operations of prognostic twins: fit over an aggregate, predict for a twin, analyse a trial.
public enum Prognostic {
    /// Reads the permitted members of `aggregate` (the gate asked for `aggregate` use: refused members are left out),
    /// fits a model (``PrognosticFit``) and stores it (``PrognosticStore``).
    public static func fit(bank: Bank, aggregate: AggregateID, spec: PrognosticSpec, seed: UInt64) throws -> (hash: ContentHash, model: PrognosticModel) {
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        var units: [CodeKey: String] = [:]
        var histories: [PersonHistory] = []
        let codes = [spec.outcome] + spec.covariates
        for record in cohort.records {
            let events = try observations(of: record.id, codes: codes, bank: bank, cohort: cohort)
            let (h, u) = PersonHistory.read(twin: record.twin, events: events, codes: codes, units: units)
            units = u
            histories.append(h)
        }
        let model = try PrognosticFit.fit(histories: histories, units: units, spec: spec, aggregate: aggregate.description,
                                          members: cohort.members, seed: seed)
        let hash = try PrognosticStore(bank: bank).save(model)
        return (hash, model)
    }

    /// A cohort member's current observations of `codes` only (a thread's other codes, such as a CGM's readings, are
    /// not read); a cohort's reads ask nothing more of the gate.
    static func observations(of twin: TwinID, codes: [CodeKey], bank: Bank, cohort: Cohort) throws -> [Event] {
        try codes.flatMap { try bank.events(ThreadQuery(twin: twin, code: $0, category: .observation), in: cohort) }
    }

    static func history(of record: TwinRecord, bank: Bank, model: PrognosticModel) throws -> PersonHistory {
        let twin = record.id
        let events = try bank.events(ThreadQuery(twin: twin, category: .observation))
        let codes = [model.spec.outcome] + model.spec.covariates
        var units: [CodeKey: String] = [:]
        for c in codes { if let u = model.units[c.description] { units[c] = u } }
        return PersonHistory.read(twin: record.twin, events: events, codes: codes, units: units).0
    }

    static func describe(_ v: (feature: String, value: Double, range: PrognosticModel.FeatureRange), aggregate: String) -> String {
        "\(v.feature) = \(short(v.value)) is outside the training range [\(short(v.range.min)), \(short(v.range.max))] of aggregate \(aggregate)"
    }

    /// Four significant digits, for messages.
    static func short(_ x: Double) -> String { String(format: "%.4g", x) }

    /// Predicts the model's outcome a horizon after the twin's latest outcome value and appends it to the twin's
    /// thread as a `prediction` event (effective at the predicted time) whose provenance names the model hash, the
    /// training cohort, the features and the events they were computed from, and the interval.
    ///
    /// Representativeness first: when a feature lies outside the training cohort's range the prediction is refused
    /// (``PrognosticError`` `outsideTrainingRange`, naming the feature, its value and the range), unless
    /// `allowOutside`, when it is written with the violations in its provenance notes and returned in
    /// ``PrognosticPrediction/outsideTrainingRange`` for the caller to warn about.
    /// With `write` false nothing is appended (the prediction is only returned, ``PrognosticPrediction/event`` nil).
    /// A prediction already in the thread (the same model on the same history) is returned with its event, not
    /// appended again.
    /// - Throws: also `missingFeature` when the twin has no value of the outcome; bank errors (unknown twin, access).
    public static func predict(bank: Bank, twin: TwinID, model hash: String, allowOutside: Bool = false, write: Bool = true) throws -> PrognosticPrediction {
        let record = try bank.twin(twin)  // the gate decides on the person before anything else is read
        let (h, model) = try PrognosticStore(bank: bank).load(hash)
        let person = try history(of: record, bank: bank, model: model)
        guard let latest = person.series[model.spec.outcome]?.last else {
            throw PrognosticError(.missingFeature, "twin \(twin) has no observation of \(model.spec.outcome) to predict from", value: model.spec.outcome.description)
        }
        let extractor = FeatureExtractor(spec: model.spec)
        guard let snapshot = extractor.snapshot(person, at: latest.time, gap: model.spec.horizonSeconds) else {
            throw PrognosticError(.missingFeature, "twin \(twin) has no observation of \(model.spec.outcome) to predict from", value: model.spec.outcome.description)
        }
        let outside = model.outsideTrainingRange(snapshot).map { describe($0, aggregate: model.cohort.aggregate) }
        if !outside.isEmpty && !allowOutside {
            throw PrognosticError(.outsideTrainingRange, "twin \(twin) is outside the population model \(h.hex.prefix(12)) was trained on: \(outside.joined(separator: "; ")). Nothing was written; pass --allow-outside to predict anyway (with a warning recorded)", value: outside[0])
        }
        let (value, lower, upper) = model.interval(snapshot, earlier: extractor.examples(person), history: person)
        guard value.isFinite, lower.isFinite, upper.isFinite else {
            throw PrognosticError(.invalidArgument, "model \(h.hex.prefix(12)) predicted a non-finite value for twin \(twin)", value: "\(value)")
        }
        let unit = model.units[model.spec.outcome.description] ?? "1"
        let time = latest.time.advanced(bySeconds: model.spec.horizonSeconds)
        var prediction = PrognosticPrediction(
            twin: twin, model: h.hex, outcome: model.spec.outcome.description, unit: unit, index: latest.time, time: time, value: value,
            lower: lower, upper: upper, intervalLevel: model.intervalLevel,
            features: Dictionary(uniqueKeysWithValues: zip(model.features, snapshot.values).map { ($0, $1) }),
            outsideTrainingRange: outside, event: nil)
        guard write else { return prediction }
        var notes = "prognostic \(model.kind.rawValue) cohort=\(model.cohort.aggregate) members=\(model.cohort.members.count) membersHash=\(model.cohort.membersHash)"
        notes += " interval\(Int(model.intervalLevel * 100))=[\(Value.format(prediction.lower)), \(Value.format(prediction.upper))]"
        notes += " features=" + zip(model.features, snapshot.values).map { "\($0)=\($1.map(Value.format) ?? "missing")" }.joined(separator: ",")
        notes += " generator=\(model.generator)"
        if !outside.isEmpty { notes += " WARNING outside training range: " + outside.joined(separator: "; ") }
        let draft = EventDraft(
            twin: twin, effective: EffectiveTime(time), category: .prediction, code: Concept(model.spec.outcome),
            value: .quantity(Quantity(value, unit)), source: Source(.model, "prognostic@\(model.codeVersion)"),
            provenance: Provenance(derivedFrom: snapshot.events, model: "prognostic/\(model.kind.rawValue)", modelVersion: model.codeVersion,
                                   parametersHash: h.hex, seed: model.seed, notes: notes))
        // the same model on the same history gives the same event: a repeated prediction is already in the thread
        let existing = try bank.events(ThreadQuery(twin: twin, code: model.spec.outcome, category: .prediction, from: time, to: time))
        if let same = existing.first(where: { $0.draft == draft }) {
            prediction.event = same.id
            return prediction
        }
        let result = try bank.append([draft])
        prediction.event = result.ids.first
        return prediction
    }

    /// PROCOVA over an aggregate: each permitted member's arm (the attribute `arm`: the member whose value is
    /// `treatedValue` is treated; without it, of two values the one that is not `control`, `placebo`, `standard`
    /// or `false`), outcome (the latest value of the model's outcome, at time T) and prognostic score (the model's
    /// prediction from the member's history up to the latest outcome value T − horizon ± window), then
    /// ``TrialAnalysis``.
    /// - Throws: ``PrognosticError`` `invalidArgument` when the arm attribute does not take exactly two values or the
    ///   treated one cannot be told; `tooFewData` from the analysis.
    public static func analyzeTrial(bank: Bank, aggregate: AggregateID, arm: String, treatedValue: String? = nil, model hash: String) throws -> TrialReport {
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        let (h, model) = try PrognosticStore(bank: bank).load(hash)
        let extractor = FeatureExtractor(spec: model.spec)
        var leftOut: [String: String] = [:]
        var rows: [(twin: TwinID, arm: String, outcome: Double, score: Double, outside: Bool)] = []
        let codes = [model.spec.outcome] + model.spec.covariates
        var units: [CodeKey: String] = [:]
        for c in codes { if let u = model.units[c.description] { units[c] = u } }
        for record in cohort.records {
            guard let a = record.twin.attributes[arm] else { leftOut[record.id.description] = "no attribute \(arm)"; continue }
            let armValue: String
            switch a {
            case .text(let s): armValue = s
            case .boolean(let b): armValue = b ? "true" : "false"
            case .concept(let c): armValue = c.code
            default: armValue = a.description
            }
            let events = try observations(of: record.id, codes: codes, bank: bank, cohort: cohort)
            let person = PersonHistory.read(twin: record.twin, events: events, codes: codes, units: units).0
            let series = person.series[model.spec.outcome] ?? []
            guard let final = series.last else { leftOut[record.id.description] = "no \(model.spec.outcome) value"; continue }
            let target = final.time.seconds - model.spec.horizonSeconds
            let baselines = series.filter { abs($0.time.seconds - target) <= model.spec.windowSeconds }
            guard let baseline = baselines.min(by: { abs($0.time.seconds - target) < abs($1.time.seconds - target) }),
                  let snapshot = extractor.snapshot(person, at: baseline.time, gap: final.time.seconds - baseline.time.seconds) else {
                leftOut[record.id.description] = "no \(model.spec.outcome) value \(Int(model.spec.horizonSeconds / 86_400)) ± \(Int(model.spec.windowSeconds / 86_400)) days before the last"
                continue
            }
            let score = model.predict(snapshot, earlier: extractor.examples(person), history: person)
            rows.append((record.id, armValue, final.value, score, !model.outsideTrainingRange(snapshot).isEmpty))
        }
        let values = Array(Set(rows.map(\.arm))).sorted()
        guard values.count == 2 else {
            throw PrognosticError(.invalidArgument, "the arm attribute '\(arm)' must take exactly two values among the analysed members of \(aggregate), not \(values.count) (\(values.joined(separator: ", ")))", value: values.joined(separator: ","))
        }
        let treated: String
        if let treatedValue {
            guard values.contains(treatedValue) else {
                throw PrognosticError(.invalidArgument, "no analysed member has \(arm) = '\(treatedValue)'; the values are \(values.joined(separator: ", "))", value: treatedValue)
            }
            treated = treatedValue
        } else {
            let controls = values.filter { ["control", "placebo", "standard", "false"].contains($0.lowercased()) }
            guard controls.count == 1 else {
                throw PrognosticError(.invalidArgument, "cannot tell which of \(values.joined(separator: " and ")) is the treated arm: name it with --treated", value: values.joined(separator: ","))
            }
            treated = values.first { $0 != controls[0] }!
        }
        let analysis = try TrialAnalysis.analyze(outcomes: rows.map(\.outcome), treated: rows.map { $0.arm == treated }, scores: rows.map(\.score))
        return TrialReport(aggregate: aggregate.description, arm: arm, treatedValue: treated, controlValue: values.first { $0 != treated }!,
                           outcome: model.spec.outcome.description, model: h.hex, analysis: analysis, leftOut: leftOut,
                           outsideTrainingRange: rows.filter(\.outside).map(\.twin.description))
    }
}
