import Foundation
import TwinBank
import TwinCore

/// The two-way loop for any ``ThreadBinding``: reads the twin's thread through the binding as known at
/// ``Options/knownAt`` (a replay with the same `knownAt` reads the same events), assimilates the readings with
/// the binding's ``Estimator``, forecasts the outputs over ``Options/horizon`` and writes back, as **one**
/// append batch, the estimate (``EstimateEvents``: one `prediction` event per parameter) and the forecast
/// (one `prediction` event per output and time, coded as the output's observations, the interval in its notes).
///
/// Every written event's provenance names the model and version, the estimator and its settings, the window,
/// `knownAt`, the seed, `inputs=KEY` (a hash of the events used and the settings, without `knownAt`) and
/// (derivedFrom) the events used. Guarantees: deterministic (the same thread state, binding, options and seed
/// give identical drafts); ``synchronise(_:in:binding:options:)`` writes only what the thread does not hold yet
/// (``HeldEvents``), so a second run over the same data writes nothing; nothing is written when reading or
/// estimating fails.
///
/// A binding with a ``ThreadBinding/Safety`` section (the glucose twin's) also gets the safety steps: alerts on
/// the readings themselves, the model health check (``ModelHealth``) that withholds the forecast and the estimate
/// of an unreliable model (an alert says why instead), and the rule's predicted alert. The glucose twin is one
/// binding (``ThreadBinding/glucose``) and one estimator (``GlucoseEstimator``); ``GlucoseSynchroniser`` is
/// its command-line face (its options and summary), running this loop.
public enum BindingSynchroniser {
    /// Code of the alert a binding with the ``ThreadBinding/Safety/Rule/hypotension`` rule writes when its forecast
    /// predicts hypotension (``HypotensionWatcher``).
    public static let hypotensionAlert = Concept(system: "urn:twinbank:alert", code: "hypotension-predicted", display: "Hypotension predicted")

    public struct Options: Sendable, Hashable {
        /// Start of the data window (default: the earliest bound event, the whole history).
        public var from: Instant?
        /// End of the data window and forecast origin (default: the latest reading known at `knownAt`).
        public var to: Instant?
        /// Read the thread as known at this recorded time (default: the bank clock's now).
        public var knownAt: Instant?
        /// Forecast horizon after `to`, in the binding's time unit (0: no forecast).
        public var horizon: Double = 0
        /// Forecast points over the horizon (evenly spaced, the last at the horizon).
        public var points = 12
        /// Central prediction interval level.
        public var level = 0.95
        /// Seeds the estimator's draws; recorded in provenance.
        public var seed: UInt64 = 1
        /// Appended to every event's provenance notes when set (e.g. which watch update ran this).
        public var context: String?
        public init() {}
    }

    /// A forecast value at an instant.
    public struct Point: Sendable, Hashable, Codable {
        public var time: Instant
        public var output: String
        public var unit: String
        public var mean: Double
        public var standardDeviation: Double
        public var lower: Double
        public var upper: Double
    }

    /// What a synchronisation computed (and, after ``synchronise(_:in:binding:options:)``, wrote).
    public struct Result: Sendable, Codable {
        public var twin: TwinID
        public var binding: String
        public var model: String
        public var from: Instant
        public var to: Instant
        public var knownAt: Instant
        public var readingsUsed: Int
        public var inputsUsed: Int
        /// Input events used, per binding input id.
        public var inputCounts: [String: Int]
        /// The effective time of the latest reading used.
        public var lastReading: Instant
        public var estimator: String
        public var seed: UInt64
        public var estimate: ParameterEstimate
        public var level: Double
        /// The forecast computed (written only when the twin is reliable).
        public var forecast: [Point]
        /// The watched output at the origin (a binding with ``ThreadBinding/Safety``), else empty.
        public var nowcast: [Point]
        /// The model health check (nil without ``ThreadBinding/Safety``); when not reliable, neither forecast
        /// nor estimate was written, a ``ModelHealth/unreliableAlert`` instead.
        public var health: ModelHealth?
        /// The events to append (alerts on readings, estimates, forecast points, then a predicted or
        /// unreliable-model alert), in order.
        public var drafts: [EventDraft]
        /// Set once written (nil when nothing new was written).
        public var written: AppendResult?
        /// Drafts not written because the thread already holds them (``HeldEvents``).
        public var alreadyHeld = 0
        /// The estimator as it ended (what it learnt; for callers that read a model's own details).
        public var finalEstimator: (any Estimator)?

        enum CodingKeys: String, CodingKey {
            case twin, binding, model, from, to, knownAt, readingsUsed, inputsUsed, inputCounts, lastReading, estimator, seed, estimate, level, forecast, nowcast, health, drafts, written, alreadyHeld
        }
        /// Whether the forecast may be written (reliable, or no safety section).
        public var reliable: Bool { health?.reliable ?? true }
    }

    /// Computes, then appends as one batch the result's events the thread does not hold yet.
    /// - Throws: what ``compute(_:in:binding:options:estimator:)`` throws; bank errors.
    @discardableResult
    public static func synchronise(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options = Options(),
                                   estimator make: (@Sendable (inout BoundThread) throws -> any Estimator)? = nil) async throws -> Result {
        try await BlockingWork.forbiddingOnTasks {
            var result = try await compute(twin, in: bank, binding: binding, options: options, estimator: make)
            let drafts = result.drafts
            let (fresh, written) = try await bank.run { bank in
                let fresh = try HeldEvents.unheld(drafts, twin: twin, in: bank)
                return (fresh, fresh.isEmpty ? nil : try bank.append(fresh.map { drafts[$0] }))
            }
            result.alreadyHeld = drafts.count - fresh.count
            if let written { result.written = written }
            return result
        }
    }

    /// The estimator a binding runs by default: ``PKEstimator`` for pk, ``PEtabEstimator`` for petab,
    /// ``SBMLEstimator`` for sbml and circulation, ``GlucoseEstimator`` (UKF from the twin's `virtualPatient`) for glucose.
    /// - Parameter horizon: the forecast horizon in the binding's time unit (the glucose estimator lays out its
    ///   inputs to it).
    /// - Throws: the estimators' errors.
    public static func estimator(for binding: ThreadBinding, thread: inout BoundThread, in bank: Bank, horizon: Double, seed: UInt64) throws -> any Estimator {
        switch binding.model.kind {
        case .pk: return try PKEstimator(binding: binding, thread: thread)
        case .petab: return try PEtabEstimator(binding: binding, seed: seed)
        case .sbml, .circulation: return try SBMLEstimator(binding: binding, thread: thread)
        case .glucose:
            return try GlucoseEstimator(binding: binding, thread: thread, horizon: Int(horizon.rounded(.up)),
                                        virtualPatient: try GlucoseSynchroniser.virtualPatient(of: thread.twin, in: bank), bodyWeight: nil, seed: seed)
        }
    }

    /// Reads, estimates, checks and forecasts, and returns the events it would write, without writing.
    /// - Parameter make: builds the estimator from the bound thread (it may add events it read to the thread's
    ///   `used`); nil: ``estimator(for:thread:in:horizon:seed:)``.
    /// - Throws: ``SyncError`` (`invalidTime`, `invalidArgument` naming the event or value, `invalidBinding`,
    ///   `calibrationFailed`, `unsupported`); bank errors.
    public static func compute(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options = Options(),
                               estimator make: (@Sendable (inout BoundThread) throws -> any Estimator)? = nil) async throws -> Result {
        try await BlockingWork.forbiddingOnTasks {
            try await computeOffTask(twin, in: bank, binding: binding, options: options, estimator: make)
        }
    }

    /// ``compute(_:in:binding:options:estimator:)``'s body: the bank is read through ``TwinBank/Bank/run(_:)`` only.
    private static func computeOffTask(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options,
                                       estimator make: (@Sendable (inout BoundThread) throws -> any Estimator)?) async throws -> Result {
        guard options.horizon >= 0, options.horizon.isFinite else {
            throw SyncError(.invalidArgument, "the horizon must be a non-negative number of \(binding.timeUnit.rawValue).", value: String(options.horizon))
        }
        guard (1...1000).contains(options.points) else { throw SyncError(.invalidArgument, "forecast points must be 1 to 1000.", value: String(options.points)) }
        guard options.level > 0, options.level < 1 else { throw SyncError(.invalidArgument, "the prediction level must be in (0, 1).", value: String(options.level)) }
        // what the loop reads before it computes, in one hop onto the storage's threads
        let (read, latest, made) = try await bank.run { bank -> (BoundThread, Instant, any Estimator) in
            try bank.authorize(.sync, twin)
            var thread = try binding.read(twin, in: bank, window: BoundThread.Window(from: options.from, to: options.to, knownAt: options.knownAt, horizon: options.horizon))
            try refuseFutureReadings(twin, in: bank, binding: binding, knownAt: thread.knownAt)
            guard let latest = thread.readings.map(\.effective).max() else { throw try noReadings(twin, in: bank, binding: binding, thread: thread) }
            // without an explicit end, the window ends at the latest reading: the estimate rests on the data up to it,
            // and a later run over the same data is the same synchronisation (written once)
            if options.to == nil { thread.to = latest }
            let built = try make?(&thread) ?? Self.estimator(for: binding, thread: &thread, in: bank, horizon: options.horizon, seed: options.seed)
            return (thread, latest, built)
        }
        let thread = read
        var estimator = made
        let used = thread.used + estimator.usedEvents
        let now = binding.timeUnit.time(of: thread.to, from: thread.origin)
        let times = options.horizon > 0 ? (1...options.points).map { now + options.horizon * Double($0) / Double(options.points) } : []
        let safety = binding.safety
        let watched = safety.flatMap { s in binding.outputs.firstIndex { $0.output == s.output } }

        // assimilate and forecast; with a safety section, an estimator that fails on the readings is a finding
        var failure: SyncError?
        var nowPoints: [ForecastPoint] = [], forecast: [ForecastPoint] = []
        do {
            try await estimator.assimilate(contentsOf: thread.readings)
            (nowPoints, forecast) = try await estimator.outputs(now: watched == nil ? nil : now, forecastAt: times, level: options.level)
        } catch let e as SyncError where watched != nil && ModelHealth.filterFailureCodes.contains(e.code) {
            failure = e
            forecast = []
        }
        let estimate = failure == nil ? estimator.estimate : ParameterEstimate(parameters: [], readings: thread.readings.count)

        // provenance: what it was computed from, without the time the thread was read
        let label = estimator.label
        var settings = estimator.settings
        settings.append("level=\(Value.format(options.level))")
        if options.horizon > 0 { settings.append("horizon=\(Value.format(options.horizon))\(binding.timeUnit.rawValue)") }
        var keyHasher = EventHasher()
        let window = "window=\(thread.from.iso8601)..\(thread.to.iso8601)"
        let inputsText = (["binding=" + ((try? binding.canonicalJSON()) ?? binding.name), "estimator=\(label)", "seed=\(options.seed)", window]
                          + settings + (options.context.map { [$0] } ?? [])).joined(separator: " ")
        let inputs = keyHasher.hash(EventDraft(twin: twin, effective: EffectiveTime(thread.to), category: .prediction, code: EstimateEvents.code(binding: binding.name, parameter: "*"),
                                               value: .text(inputsText), source: EstimateEvents.source, provenance: Provenance(derivedFrom: used))).abbreviated(16)
        var runNotes = "estimator=\(label) \(window) knownAt=\(thread.knownAt.iso8601) " + settings.joined(separator: " ")
        if let context = options.context { runNotes += " " + context }
        runNotes += " inputs=\(inputs)"
        let source = EstimateEvents.source

        // the model health check
        var health: ModelHealth?
        var nowcast: [Point] = []
        var readingEvents: [Event] = []
        if let safety, let k = watched {
            let output = binding.outputs[k]
            let ours = thread.readings.filter { $0.output == k }
            let latestReading = ours.last!
            let nowPoint = nowPoints.first { $0.output == k }
            if let p = nowPoint {
                nowcast = [Point(time: thread.to, output: output.output, unit: output.unit, mean: p.mean, standardDeviation: p.standardDeviation, lower: p.lower, upper: p.upper)]
            }
            if let failure {
                health = ModelHealth(findings: [ModelHealth.Finding(kind: .filterFailed, message: "the \(label) failed: \(failure.message)", measures: [:])])
            } else {
                let parameters = estimate.parameters.compactMap { p -> ModelHealth.Parameter? in
                    guard let prior = p.prior, let sd = p.priorStandardDeviation, p.scale != .lin else { return nil }
                    return ModelHealth.Parameter(name: p.id, prior: prior, estimated: p.value, logPriorSD: p.scale == .log10 ? sd * log(10) : sd)
                }
                health = ModelHealth.check(ModelHealth.Input(output: output.output, unit: output.unit, nowcast: nowPoint?.mean ?? .nan, nowcastSD: nowPoint?.standardDeviation ?? .nan,
                                                             latestReading: latestReading.value, latestReadingAge: now - latestReading.time,
                                                             noiseSD: output.noise?.standardDeviation(at: latestReading.value) ?? 0,
                                                             innovations: estimator.innovations, parameters: parameters,
                                                             forecast: forecast.filter { $0.output == k }.map(\.mean)),
                                           settings: safety.health)
            }
            if safety.rule != nil {
                let query = ThreadQuery(twin: twin, code: output.code.key, category: .observation, from: thread.from, to: thread.to, knownAt: thread.knownAt)
                let byID = Dictionary(try await bank.run { try $0.events(query) }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                readingEvents = ours.compactMap { byID[$0.event] }
            }
        }
        let reliable = health?.reliable ?? true

        var drafts: [EventDraft] = []
        // 1. alerts on the readings themselves, whatever the model says
        if let safety, let k = watched, let rule = safety.rule {
            let values = Dictionary(thread.readings.filter { $0.output == k }.map { ($0.event, $0.value) }, uniquingKeysWith: { a, _ in a })
            let readings = readingEvents.map { (value: values[$0.id]!, event: $0) }
            let nowMean = nowcast.first?.mean
            // the model's value now is compared with the latest reading only (an earlier one may have recovered since)
            func model(at event: Event) -> Double? {
                event.id == readingEvents.last?.id && (nowMean?.isFinite ?? false) ? nowMean : nil
            }
            switch rule {
            case .hypoglycaemia:
                for low in LowGlucoseReading.alerting(readings) {
                    drafts.append(low.draft(twin: twin, source: source, nowcast: model(at: low.event), context: options.context))
                }
            case .hypotension:
                for low in LowPressureReading.alerting(readings) {
                    drafts.append(low.draft(twin: twin, source: source, nowcast: model(at: low.event), context: options.context))
                }
            }
        }
        // 2. what the loop learnt, as thread events (only from a reliable model)
        if reliable {
            drafts += EstimateEvents.drafts(twin: twin, binding: binding, estimate: estimate, estimator: label, settings: settings, seed: options.seed,
                                            from: thread.from, to: thread.to, knownAt: thread.knownAt, used: used, inputs: inputs, context: options.context)            // what it inferred beyond its parameters, as annotations; one already written within half an hour (by an
            // earlier synchronisation over an overlapping window) is not written again
            var inferred: [Instant] = []
            for inference in estimator.inferences {
                let at = binding.timeUnit.instant(inference.time, from: thread.origin)
                guard !inferred.contains(where: { abs($0.microseconds - at.microseconds) <= 30 * 60_000_000 }) else { continue }
                inferred.append(at)
                let query = ThreadQuery(twin: twin, code: inference.code.key, category: .annotation, from: at.advanced(byMicroseconds: -30 * 60_000_000),
                                        to: at.advanced(byMicroseconds: 30 * 60_000_000), knownAt: thread.knownAt)
                let near = try await bank.run { try $0.events(query) }
                guard near.isEmpty else { continue }
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .annotation, code: inference.code, value: inference.value.map { .quantity($0) } ?? .text(inference.evidence),
                                         source: source, provenance: Provenance(derivedFrom: used, model: binding.model.id, modelVersion: binding.model.version, seed: options.seed,
                                                                                notes: "\(inference.notes) evidence=\(inference.evidence); binding=\(binding.name) " + runNotes)))
            }
        }
        // 3. the forecast
        var points: [Point] = []
        var meanIDs: [ContentHash] = []
        var hasher = EventHasher()
        for f in forecast {
            let output = binding.outputs[f.output]
            let at = binding.timeUnit.instant(f.time, from: thread.origin)
            points.append(Point(time: at, output: output.output, unit: output.unit, mean: f.mean, standardDeviation: f.standardDeviation, lower: f.lower, upper: f.upper))
            guard reliable else { continue }
            let notes = "forecast binding=\(binding.name) output=\(output.output) sd=\(Value.format(f.standardDeviation)) lower=\(Value.format(f.lower)) upper=\(Value.format(f.upper)) " + runNotes
            let provenance = Provenance(derivedFrom: used, model: binding.model.id, modelVersion: binding.model.version, seed: options.seed, notes: notes)
            let mean = EventDraft(twin: twin, effective: EffectiveTime(at), category: .prediction, code: output.code, value: .quantity(Quantity(f.mean, output.unit)),
                                  source: source, provenance: provenance)
            if f.output == watched { meanIDs.append(hasher.hash(mean)) }
            drafts.append(mean)
            for (code, v) in [(output.lowerCode, f.lower), (output.upperCode, f.upper)] {
                guard let code else { continue }
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .prediction, code: code, value: .quantity(Quantity(v, output.unit)),
                                         source: source, provenance: provenance))
            }
        }
        // 4. an unreliable model says so instead of forecasting; a reliable one may predict an alert
        if let safety, let k = watched, let health {
            let output = binding.outputs[k]
            let latestReading = thread.readings.last { $0.output == k }!
            func r(_ x: Double) -> String { Value.format((x * 10).rounded() / 10) }
            if !health.reliable {
                let nowText = nowcast.first.map { $0.mean.isFinite ? "\(r($0.mean)) ± \(r($0.standardDeviation)) \(output.unit)" : "unknown" } ?? "unknown"
                let what = output.output.prefix(1).uppercased() + output.output.dropFirst()
                let predicted = safety.rule.map { " and no \($0.rawValue) is predicted from it" } ?? ""
                let text = (["\(what) twin unreliable: its forecast is withheld (not written as a forecast)\(predicted); rely on the readings."]
                            + health.warnings
                            + ["twin's \(output.output) now \(nowText); latest reading \(r(latestReading.value)) \(output.unit) at \(latestReading.effective.iso8601)"])
                    .joined(separator: " | ")
                let kinds = health.findings.map(\.kind.rawValue).joined(separator: ",")
                let measures = health.findings.flatMap { $0.measures.map { ($0.key, $0.value) } }
                let words = Dictionary(measures, uniquingKeysWith: { a, _ in a }).sorted { $0.key < $1.key }.map { "\($0.key)=\(Value.format($0.value))" }
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(thread.to), category: .alert, code: ModelHealth.unreliableAlert, value: .text(text), source: source,
                                         provenance: Provenance(derivedFrom: used, model: binding.model.id, modelVersion: binding.model.version, seed: options.seed,
                                                                notes: "watcher=model-health reliable=false findings=\(kinds) \(words.joined(separator: " ")); binding=\(binding.name) " + runNotes)))
            } else if let rule = safety.rule {
                let series = forecast.filter { $0.output == k }
                let f = Forecast(origin: now, stateNames: [output.output], level: options.level,
                                 points: series.map { Forecast.Point(time: $0.time, mean: [$0.mean], standardDeviation: [$0.standardDeviation], lower: [$0.lower], upper: [$0.upper]) },
                                 method: "estimator", provenance: Forecast.Provenance(filter: label, model: "\(binding.model.id)@\(binding.model.version ?? "?")",
                                                                                         dataWindow: (thread.readings.first?.time ?? now)...now, observationCount: thread.readings.count, seed: options.seed))
                let alert: Alert?, code: Concept
                switch rule {
                case .hypoglycaemia:
                    alert = try HypoglycaemiaWatcher(glucose: output.output, threshold: safety.threshold, horizon: safety.horizon, probability: safety.probability).evaluate(f)
                    code = GlucoseSynchroniser.hypoglycaemiaAlert
                case .hypotension:
                    alert = try HypotensionWatcher(pressure: output.output, threshold: safety.threshold, horizon: safety.horizon, probability: safety.probability,
                                                   timeUnit: binding.timeUnit.rawValue).evaluate(f)
                    code = Self.hypotensionAlert
                }
                if let alert {
                    let recent = readingEvents.suffix(3).map { e in "\(e.effective.start.iso8601) \(r(thread.readings.first { $0.event == e.id }?.value ?? .nan)) \(output.unit)" }
                    let text = ([alert.message] + alert.reasons + ["latest readings: " + recent.joined(separator: "; ")]).joined(separator: " | ")
                    drafts.append(EventDraft(twin: twin, effective: EffectiveTime(thread.to), category: .alert, code: code, value: .text(text), source: source,
                                             provenance: Provenance(derivedFrom: meanIDs + readingEvents.map(\.id), model: binding.model.id, modelVersion: binding.model.version, seed: options.seed,
                                                                    notes: "watcher=\(rule.rawValue) threshold=\(safety.threshold) horizon=\(safety.horizon)\(binding.timeUnit.rawValue) probability=\(safety.probability) severity=\(alert.severity.rawValue) \(alert.measureWords); binding=\(binding.name) " + runNotes)))
                }
            }
        }
        return Result(twin: twin, binding: binding.name, model: binding.model.id, from: thread.from, to: thread.to, knownAt: thread.knownAt,
                      readingsUsed: thread.readings.count, inputsUsed: thread.doses.count,
                      inputCounts: Dictionary(grouping: thread.doses, by: { binding.inputs[$0.input].input }).mapValues { Set($0.map(\.event)).count },
                      lastReading: latest, estimator: label, seed: options.seed,
                      estimate: estimate, level: options.level, forecast: points, nowcast: nowcast, health: health, drafts: drafts, finalEstimator: estimator)
    }

    /// Refuses a bound output's reading dated after the bank clock's now (known at `knownAt`): a clock or feed fault.
    static func refuseFutureReadings(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, knownAt: Instant) throws {
        let now = bank.clock.now()
        for o in binding.outputs {
            if let f = try bank.events(ThreadQuery(twin: twin, code: o.code.key, category: .observation, from: now.advanced(byMicroseconds: 1), knownAt: knownAt)).first {
                throw SyncError(.invalidTime, "\(o.output) observation \(f.id.abbreviated()) from \(f.source) is dated \(f.effective.start), in the future of the bank clock (\(now)).",
                                value: f.effective.start.iso8601)
            }
        }
    }

    /// The error for a window without readings, saying why: the readings there are flagged implausible (not
    /// model inputs), or where the data is (so the window can be moved onto it).
    static func noReadings(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, thread: BoundThread) throws -> SyncError {
        let names = binding.outputs.map { "\($0.output) observations (\($0.code.key))" }.joined(separator: " or ")
        for o in binding.outputs {
            let flagged = try bank.events(ThreadQuery(twin: twin, code: o.code.key, category: .observation, from: thread.from, to: thread.to, knownAt: thread.knownAt,
                                                      includeImplausible: true)).filter(\.isFlaggedImplausible)
            if let first = flagged.first {
                let value = first.value.map { "\($0)" } ?? "none"
                return SyncError(.invalidArgument, "twin '\(twin)' has no plausible \(o.output) observations (\(o.code.key)) from \(thread.from) to \(thread.to) as known at \(thread.knownAt): "
                                 + "all \(flagged.count) of its \(o.output) readings in the window are flagged implausible (the first: \(value) at \(first.effective.start), "
                                 + "event \(first.id.abbreviated())) and are not model inputs; correct or retract them.", value: value)
            }
        }
        var whereData = ""
        for o in binding.outputs {
            guard let range = try bank.effectiveRange(of: twin, code: o.code.key, category: .observation) else { continue }
            whereData += range.lowerBound == range.upperBound ? " Its \(o.output) data is at \(range.lowerBound): choose a window that holds it (--to \(range.upperBound))."
                : " Its \(o.output) data runs from \(range.lowerBound) to \(range.upperBound): choose a window within it (--to \(range.upperBound))."
        }
        if whereData.isEmpty { whereData = " It has no plausible readings of them at all." }
        return SyncError(.invalidArgument, "twin '\(twin)' has no readings: no \(names) from \(thread.from) to \(thread.to) as known at \(thread.knownAt).\(whereData)",
                         value: twin.rawValue)
    }
}
