import Foundation
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation

/// In-silico comparison of candidate treatments for a glucose twin: each option becomes a fork (instance)
/// of the twin at the comparison's start that records the option's interventions; every option is simulated
/// over the same ensemble of plausible patients (the twin's parameters with log-normal variation, seeded),
/// and the options are ranked by named outcome measures with their spread. The comparison, its inputs and
/// its ranking are recorded in the twin's thread as a `recommendation` event whose provenance names the model,
/// the parameter hash, the seed and the events it read, so it can be reproduced exactly.
public enum InSilicoComparison {
    /// A candidate treatment.
    public struct Option: Sendable, Hashable {
        public var name: String
        public var controller: BasalBolusController
        /// Meals added by this option (hours after the start, grams).
        public var extraMeals: [MealPlan.Meal]

        public init(name: String, controller: BasalBolusController = BasalBolusController(), extraMeals: [MealPlan.Meal] = []) {
            self.name = name; self.controller = controller; self.extraMeals = extraMeals
        }

        /// Parses `NAME=SPEC` where SPEC is comma-separated `basal=SCALE`, `bolus=SCALE`, `target=MG_DL`,
        /// `meal=HOURS:GRAMS` (e.g. `cautious=basal=0.8,bolus=0.9`, `usual=`).
        /// - Throws: ``RunError`` `invalidBinding` naming the offending item.
        public init(parsing text: String) throws {
            let (name, items) = try Self.split(text, example: "cautious=basal=0.8,bolus=0.9")
            var option = Option(name: name)
            for (key, value) in items {
                switch key {
                case "basal": option.controller.basalScale = try Self.number(value, 0...5, key, in: name)
                case "bolus": option.controller.bolusScale = try Self.number(value, 0...5, key, in: name)
                case "target": option.controller.target = try Self.number(value, 60...300, key, in: name)
                case "meal":
                    let hg = value.split(separator: ":").map(String.init)
                    guard hg.count == 2 else { throw RunError(.invalidBinding, "option '\(name)': meal must be HOURS:GRAMS, not '\(value)'", value: value) }
                    option.extraMeals.append(MealPlan.Meal(hours: try Self.number(hg[0], 0...1000, key, in: name), grams: try Self.number(hg[1], 0...500, key, in: name)))
                default:
                    throw RunError(.invalidBinding, "option '\(name)': unknown setting '\(key)' (use basal, bolus, target, meal)", value: key)
                }
            }
            self = option
        }

        /// Splits `NAME=SPEC` into the name (letters, digits, `-`, `_`) and SPEC's comma-separated `key=value`
        /// items, in order. Shared by every comparison's option syntax.
        static func split(_ text: String, example: String) throws -> (name: String, items: [(key: String, value: String)]) {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                throw RunError(.invalidBinding, "malformed option '\(text)': expected NAME=SPEC such as \(example)", value: text)
            }
            let name = String(text[..<eq])
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw RunError(.invalidBinding, "option name '\(name)' may hold letters, digits, - and _ only", value: name)
            }
            return (name, try text[text.index(after: eq)...].split(separator: ",").filter { !$0.isEmpty }.map { item in
                let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw RunError(.invalidBinding, "malformed option item '\(item)' in '\(text)'", value: String(item)) }
                return (kv[0], kv[1])
            })
        }

        /// A number in `range` for setting `key` of option `name`, or an error naming it.
        static func number(_ s: String, _ range: ClosedRange<Double>, _ key: String, in name: String) throws -> Double {
            guard let v = Double(s), v.isFinite, range.contains(v) else {
                throw RunError(.invalidBinding, "option '\(name)': \(key) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(s)'", value: s)
            }
            return v
        }
    }

    /// An outcome measure over a BG trace.
    public enum Measure: String, Sendable, CaseIterable, Codable {
        /// Fraction of minutes with 70 <= BG <= 180 mg/dL (higher is better).
        case timeInRange
        /// Fraction of minutes with BG < 70 mg/dL (lower is better).
        case timeBelowRange
        /// Kovatchev's low blood glucose index (hypoglycaemia risk; lower is better).
        case lowBGIndex
        /// Mean BG in mg/dL.
        case meanBG

        func value(_ bg: [Double]) -> Double {
            switch self {
            case .timeInRange: return Double(bg.count(where: { $0 >= 70 && $0 <= 180 })) / Double(max(1, bg.count))
            case .timeBelowRange: return Double(bg.count(where: { $0 < 70 })) / Double(max(1, bg.count))
            case .meanBG: return bg.reduce(0, +) / Double(max(1, bg.count))
            case .lowBGIndex:
                var sum = 0.0
                for g in bg {
                    let f = 1.509 * (pow(log(max(g, 1)), 1.084) - 5.381)
                    let r = 10 * f * f
                    if f < 0 { sum += r }
                }
                return sum / Double(max(1, bg.count))
            }
        }
    }

    /// The spread of a measure over the ensemble.
    public struct Spread: Sendable, Hashable, Codable {
        public var mean: Double
        public var p05: Double
        public var p95: Double

        /// The mean and the 5th and 95th percentiles (nearest rank) of `values` (at least one).
        init(_ values: [Double]) {
            let sorted = values.sorted()
            func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count - 1)).rounded())))] }
            self.init(mean: sorted.reduce(0, +) / Double(sorted.count), p05: q(0.05), p95: q(0.95))
        }

        public init(mean: Double, p05: Double, p95: Double) { self.mean = mean; self.p05 = p05; self.p95 = p95 }
    }

    public struct OptionResult: Sendable, Hashable, Codable {
        public var name: String
        public var fork: TwinID
        public var outcomes: [String: Spread]
        public var rank: Int
    }

    public struct Result: Sendable, Hashable, Codable {
        public var twin: TwinID
        public var start: Instant
        public var hours: Double
        public var ensemble: Int
        public var seed: UInt64
        public var rankedBy: [String]
        public var options: [OptionResult]
        /// The recommendation event recorded in the twin's thread.
        public var recordedEvent: ContentHash
    }

    /// Code of the recorded comparison.
    public static let comparisonCode = Concept(system: "urn:twinbank", code: "in-silico-comparison", display: "in-silico treatment comparison")
    static let basalCode = Concept(system: "urn:twinbank:therapy", code: "basal-scale", display: "basal insulin scale")
    static let bolusCode = Concept(system: "urn:twinbank:therapy", code: "bolus-scale", display: "bolus insulin scale")

    /// The most time below 70 mg/dL an option may cause before it ranks after every option that stays below it.
    public static let hypoglycaemiaCeiling = 0.04

    /// Compares the options. Ranking: options keeping mean time below 70 mg/dL within ``hypoglycaemiaCeiling``
    /// first; within each group by time in range (higher first), ties by low BG index (lower first).
    /// - Parameters:
    ///   - ensemble: number of plausible patients (1 = the twin's own parameters only).
    ///   - variation: log-normal standard deviation of the varied parameters (insulin sensitivity `Vmx`,
    ///     `kp3`, absorption `kabs`).
    ///   - knownAt: read the two-way loop's estimates (``ComparisonStart``: the ensemble centres on the latest one's
    ///     parameters when a glucose binding's sync wrote one) as known then (nil: now).
    /// - Throws: ``RunError`` or bank errors. Every simulation runs before anything is written, so bad input or
    ///   a model failure writes nothing; the records are then written one fork at a time (each fork complete).
    public static func compare(_ twin: TwinID, in bank: Bank, options: [Option], start: Instant, hours: Double,
                               ensemble: Int = 20, variation: Double = 0.1, seed: UInt64 = 1, knownAt: Instant? = nil) async throws -> Result {
        guard !options.isEmpty else { throw RunError(.invalidBinding, "give at least one option to compare", value: nil) }
        guard Set(options.map(\.name)).count == options.count else {
            throw RunError(.invalidBinding, "option names must differ", value: options.map(\.name).joined(separator: ","))
        }
        guard hours > 0, hours <= 24 * 14 else { throw RunError(.invalidBinding, "horizon must be in (0, 336] hours", value: "\(hours)") }
        let members = max(1, min(ensemble, 1000))
        // Ensemble of plausible patients, the same for every option (common random numbers).
        let scenario = try GlucoseTwin.scenario(for: twin, in: bank, start: start, hours: hours)
        var base = scenario.scenario
        let mealEvents = scenario.mealEvents
        // start from what the two-way loop learnt: the latest estimate written back by a glucose binding's sync
        if let estimate = try ComparisonStart.estimate(for: twin, kind: .glucose, in: bank, at: start, knownAt: knownAt) {
            base.patient.parameters = estimate.applied(to: base.patient.parameters)
        }
        var rng = Xoshiro256StarStar(seed: seed)
        var patients: [VirtualPatient] = [base.patient]
        while patients.count < members {
            var p = base.patient
            p.parameters.Vmx *= rng.nextLogNormal(sigma: variation)
            p.parameters.kp3 *= rng.nextLogNormal(sigma: variation)
            p.parameters.kabs *= rng.nextLogNormal(sigma: variation)
            patients.append(p)
        }
        var scenarios: [GlucoseScenario] = []
        for o in options {
            let plan: MealPlan
            do { plan = try MealPlan(GlucoseTwin.merged(base.meals.meals + o.extraMeals)) } catch {
                throw RunError(.invalidBinding, "option '\(o.name)': \(error)", value: o.name)
            }
            for p in patients {
                scenarios.append(GlucoseScenario(patient: p, meals: plan, hours: hours, controller: o.controller, integration: .continuous))
            }
        }
        let traces: [GlucoseTrace]
        do { traces = try await GlucoseSimulator.runMany(scenarios) } catch {
            throw RunError(.modelFailed, "in-silico comparison for '\(twin)': \(error)", value: twin.rawValue)
        }
        // Outcomes per option.
        var results: [OptionResult] = []
        for (k, o) in options.enumerated() {
            var outcomes: [String: Spread] = [:]
            for m in Measure.allCases {
                outcomes[m.rawValue] = Spread((0..<members).map { m.value(traces[k * members + $0].bg) })
            }
            results.append(OptionResult(name: o.name, fork: twin, outcomes: outcomes, rank: 0))
        }
        // Options whose mean time below 70 mg/dL exceeds the consensus ceiling (4 %, Battelino et al., Diabetes
        // Care 2019) rank after all that keep it; then by time in range, then by the low BG index.
        let order = results.indices.sorted { a, b in
            let unsafeA = results[a].outcomes["timeBelowRange"]!.mean > hypoglycaemiaCeiling
            let unsafeB = results[b].outcomes["timeBelowRange"]!.mean > hypoglycaemiaCeiling
            if unsafeA != unsafeB { return !unsafeA }
            let ta = results[a].outcomes["timeInRange"]!.mean, tb = results[b].outcomes["timeInRange"]!.mean
            if abs(ta - tb) > 1e-9 { return ta > tb }
            return results[a].outcomes["lowBGIndex"]!.mean < results[b].outcomes["lowBGIndex"]!.mean
        }
        for (r, i) in order.enumerated() { results[i].rank = r + 1 }

        // Record: a fork per option with its interventions and predicted BG, then the comparison itself.
        let tag = try bank.lastSequence()
        let provenance = GlucoseTwin.provenance(base.patient, mealEvents, seed: seed)
        for (k, o) in options.enumerated() {
            let forkID = try TwinID("\(twin.rawValue).cmp\(tag).\(o.name)")
            try bank.fork(twin, at: start, as: forkID)
            results[k].fork = forkID
            var drafts: [EventDraft] = [
                EventDraft(twin: forkID, effective: EffectiveTime(start), category: .intervention, code: basalCode,
                           value: .quantity(Quantity(o.controller.basalScale, "1")), source: Source(.person, "in-silico")),
                EventDraft(twin: forkID, effective: EffectiveTime(start), category: .intervention, code: bolusCode,
                           value: .quantity(Quantity(o.controller.bolusScale, "1")), source: Source(.person, "in-silico")),
            ]
            for m in o.extraMeals {
                drafts.append(EventDraft(twin: forkID, effective: EffectiveTime(start.advanced(bySeconds: m.hours * 3600)), category: .intervention,
                                         code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(m.grams, "g")), source: Source(.person, "in-silico")))
            }
            try bank.append(drafts)
            let bg = traces[k * members].bg
            let points = stride(from: 0, to: bg.count, by: 5).map { (time: start.advanced(bySeconds: Double($0) * 60), value: bg[$0]) }
            try PredictionWriter.write([.init(code: GlucoseTwin.glucose, unit: "mg/dL", points: points)], to: forkID, run: provenance, in: bank)
        }
        let ranking = order.map { i -> String in
            let r = results[i], t = r.outcomes["timeInRange"]!, l = r.outcomes["lowBGIndex"]!
            return "\(r.rank). \(r.name): time in range \(String(format: "%.1f", t.mean * 100)) % (90 % band \(String(format: "%.1f", t.p05 * 100))-\(String(format: "%.1f", t.p95 * 100))), LBGI \(String(format: "%.2f", l.mean))"
        }.joined(separator: "; ")
        var p = provenance.provenance
        p.notes = (p.notes ?? "") + " ensemble=\(members) variation=\(variation) horizon=\(hours)h forks=" + results.map(\.fork.rawValue).joined(separator: ",")
        let appended = try bank.append([EventDraft(twin: twin, effective: EffectiveTime(start), category: .recommendation, code: comparisonCode,
                                                   value: .text(ranking), source: provenance.source, provenance: p)])
        return Result(twin: twin, start: start, hours: hours, ensemble: members, seed: seed, rankedBy: ["timeBelowRange <= 4 %", "timeInRange", "lowBGIndex"],
                      options: results, recordedEvent: appended.ids[0])
    }
}
