import Foundation
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation
import TwinSync

/// In-silico comparison of candidate treatments for a glucose twin: each option becomes a fork (instance)
/// of the twin at the comparison's start that records the option's interventions; every option is simulated
/// over the same ensemble of plausible patients (the twin's parameters with log-normal variation, seeded),
/// and the options are ranked by typed outcome measures with their spread. The comparison, its inputs and
/// its ranking are recorded in the twin's thread as a `recommendation` event whose provenance names the model,
/// the parameter hash, the seed and the events it read, so it can be reproduced exactly.
///
/// The shared steps are ``ComparisonEngine``'s; ``Model`` is the glucose model it runs.
public enum InSilicoComparison {
    public typealias Spread = ComparisonEngine.Spread
    public typealias OptionResult = ComparisonEngine.OptionResult

    /// A candidate treatment.
    public struct Option: ComparisonOption, Hashable {
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
            let (name, items) = try OptionSyntax.split(text, example: "cautious=basal=0.8,bolus=0.9")
            var option = Option(name: name)
            for (key, value) in items {
                switch key {
                case "basal": option.controller.basalScale = try OptionSyntax.number(value, 0...5, key, in: name)
                case "bolus": option.controller.bolusScale = try OptionSyntax.number(value, 0...5, key, in: name)
                case "target": option.controller.target = try OptionSyntax.number(value, 60...300, key, in: name)
                case "meal":
                    let hg = value.split(separator: ":").map(String.init)
                    guard hg.count == 2 else { throw RunError(.invalidBinding, "option '\(name)': meal must be HOURS:GRAMS, not '\(value)'", value: value) }
                    option.extraMeals.append(MealPlan.Meal(hours: try OptionSyntax.number(hg[0], 0...1000, key, in: name), grams: try OptionSyntax.number(hg[1], 0...500, key, in: name)))
                default:
                    throw RunError(.invalidBinding, "option '\(name)': unknown setting '\(key)' (use basal, bolus, target, meal)", value: key)
                }
            }
            self = option
        }
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
        /// The estimate the ensemble started from, when the caller gave one (absent: the twin's `virtualPatient`).
        public var startedFrom: ComparisonStart?
    }

    /// Code of the recorded comparison.
    public static let comparisonCode = ComparisonEngine.comparisonCode
    static let basalCode = Concept(system: "urn:twinbank:therapy", code: "basal-scale", display: "basal insulin scale")
    static let bolusCode = Concept(system: "urn:twinbank:therapy", code: "bolus-scale", display: "bolus insulin scale")

    /// The most time below 70 mg/dL an option may cause before it ranks after every option that stays below it.
    public static let hypoglycaemiaCeiling = 0.04

    /// The parameters the default start varies (insulin sensitivity `Vmx`, `kp3`, absorption `kabs`).
    public static let variedParameters = ["Vmx", "kp3", "kabs"]

    /// Compares the options. Ranking: options keeping mean time below 70 mg/dL within ``hypoglycaemiaCeiling``
    /// first; within each group by time in range (higher first), ties by low BG index (lower first).
    /// - Parameters:
    ///   - ensemble: number of plausible patients (1 = the twin's own parameters only).
    ///   - variation: log-normal standard deviation of the varied parameters (``variedParameters``).
    ///   - startingFrom: the estimate the ensemble starts from (UVA/Padova parameter names, in the model's units;
    ///     the others keep the `virtualPatient`'s values); nil: the twin's `virtualPatient` with `variation`.
    /// - Throws: ``RunError`` or bank errors. Every simulation runs before anything is written, so bad input or
    ///   a model failure writes nothing; the records are then written one fork at a time (each fork complete).
    ///   - knownAt: without `startingFrom`, the comparison starts from the latest estimate a synchronisation wrote to
    ///     the thread (``ComparisonStart/estimate(for:kind:in:at:knownAt:)``) as known then (nil: now); with none,
    ///     from the twin's `virtualPatient`.
    public static func compare(_ twin: TwinID, in bank: Bank, options: [Option], start: Instant, hours: Double,
                               ensemble: Int = 20, variation: Double = 0.1, seed: UInt64 = 1,
                               startingFrom: ComparisonStart? = nil, knownAt: Instant? = nil) async throws -> Result {
        // a simulation of the twin: asked as one before the estimate is read (the engine asks again before it runs)
        let estimate = try await BlockingWork.forbiddingOnTasks {
            try await bank.run { bank in
                try bank.authorize(.simulate, twin)
                return startingFrom == nil ? try ComparisonStart.estimate(for: twin, kind: .glucose, in: bank, at: start, knownAt: knownAt) : nil
            }
        }
        var startingFrom = startingFrom
        if startingFrom == nil, let estimate {
            // start from what the two-way loop learnt: the latest estimate a glucose binding's sync wrote back, its
            // parameters varied by `variation` when the estimator gave no uncertainty (as the twin's own would be)
            startingFrom = ComparisonStart(estimate: estimate, defaultLogSD: variation)
        }
        let (o, _) = try await ComparisonEngine.compare(Model.self, twin: twin, in: bank, options: options,
                                                        settings: .init(start: start, hours: hours, ensemble: ensemble, variation: variation, seed: seed),
                                                        startingFrom: startingFrom)
        return Result(twin: o.twin, start: o.start, hours: o.hours, ensemble: o.ensemble, seed: o.seed, rankedBy: o.rankedBy,
                      options: o.options, recordedEvent: o.recordedEvent, startedFrom: o.startWasGiven ? o.startedFrom : nil)
    }

    /// The UVA/Padova model as a ``ComparisonModel``: bound by the twin's `virtualPatient` and the meals its thread
    /// records in the horizon; an option adds meals and sets the basal-bolus controller; members are simulated in
    /// parallel (``TwinModels/GlucoseSimulator/runMany(_:workers:)``).
    public struct Model: ComparisonModel {
        public typealias Option = InSilicoComparison.Option
        public struct Plan: Sendable { var meals: MealPlan; var controller: BasalBolusController }

        public static let horizonLimit = 24.0 * 14
        public static let ensembleLimit = 1000
        public static let failureContext = "in-silico comparison"

        let twin: TwinID
        let base: GlucoseScenario
        let mealEvents: [Event]
        let settings: ComparisonEngine.Settings
        /// The patient of member 0 (the start's centre).
        var centre: VirtualPatient

        public init(twin: TwinID, in bank: Bank, settings: ComparisonEngine.Settings) throws {
            let bound = try GlucoseTwin.scenario(for: twin, in: bank, start: settings.start, hours: settings.hours)
            base = bound.scenario; mealEvents = bound.mealEvents
            self.twin = twin; self.settings = settings; centre = bound.scenario.patient
        }

        public var measures: [OutcomeMeasure] { OutcomeMeasure.glucoseMeasures }

        /// Options whose mean time below 70 mg/dL exceeds the consensus ceiling (4 %, Battelino et al., Diabetes
        /// Care 2019) rank after all that keep it; then by time in range, then by the low BG index.
        public var ranking: [RankingCriterion] {
            [.within(.timeBelowRange, InSilicoComparison.hypoglycaemiaCeiling), .by(.timeInRange), .by(.lowBGIndex, tolerance: 0)]
        }

        public mutating func start(from given: ComparisonStart?, variation: Double) throws -> ComparisonStart {
            if let given {
                centre = try member(given.values)
                return given
            }
            let varied = InSilicoComparison.variedParameters.compactMap { name in
                UVAPadovaParameters.keyPath(named: name).map { ComparisonStart.Parameter(name, base.patient.parameters[keyPath: $0]) }
            }
            return ComparisonStart(parameters: varied, logStandardDeviations: varied.map { _ in variation }, source: "virtualPatient \(base.patient.name)")
        }

        public func member(_ values: [String: Double]) throws -> VirtualPatient {
            var p = base.patient
            for (name, value) in values {
                guard let path = UVAPadovaParameters.keyPath(named: name) else {
                    throw RunError(.invalidBinding, "'\(name)' is not a UVA/Padova parameter the comparison can set", value: name)
                }
                p.parameters[keyPath: path] = value
            }
            return p
        }

        public func plan(_ option: Option) throws -> Plan {
            do { return Plan(meals: try MealPlan(GlucoseTwin.merged(base.meals.meals + option.extraMeals)), controller: option.controller) } catch {
                throw RunError(.invalidBinding, "option '\(option.name)': \(error)", value: option.name)
            }
        }

        public func simulate(_ runs: [(member: VirtualPatient, plan: Plan)]) async throws -> [GlucoseTrace] {
            try await GlucoseSimulator.runMany(runs.map {
                GlucoseScenario(patient: $0.member, meals: $0.plan.meals, hours: settings.hours, controller: $0.plan.controller, integration: .continuous)
            })
        }

        public func outcomes(of trace: GlucoseTrace) -> [OutcomeMeasure: Double] {
            let bg = trace.bg, n = Double(max(1, bg.count))
            var lbgi = 0.0
            for g in bg {
                let f = 1.509 * (pow(log(max(g, 1)), 1.084) - 5.381)
                if f < 0 { lbgi += 10 * f * f }
            }
            return [.timeInRange: Double(bg.count(where: { $0 >= 70 && $0 <= 180 })) / n,
                    .timeBelowRange: Double(bg.count(where: { $0 < 70 })) / n,
                    .lowBGIndex: lbgi / n,
                    .meanBG: bg.reduce(0, +) / n]
        }

        public func interventions(for option: Option, plan: Plan, in fork: TwinID) -> [EventDraft] {
            let start = settings.start
            var drafts: [EventDraft] = [
                EventDraft(twin: fork, effective: EffectiveTime(start), category: .intervention, code: basalCode,
                           value: .quantity(Quantity(option.controller.basalScale, "1")), source: Source(.person, "in-silico")),
                EventDraft(twin: fork, effective: EffectiveTime(start), category: .intervention, code: bolusCode,
                           value: .quantity(Quantity(option.controller.bolusScale, "1")), source: Source(.person, "in-silico")),
            ]
            for m in option.extraMeals {
                drafts.append(EventDraft(twin: fork, effective: EffectiveTime(start.advanced(bySeconds: m.hours * 3600)), category: .intervention,
                                         code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(m.grams, "g")), source: Source(.person, "in-silico")))
            }
            return drafts
        }

        /// BG every 5 minutes.
        public func predictions(of trace: GlucoseTrace) -> [PredictionWriter.Series] {
            let bg = trace.bg
            let points = stride(from: 0, to: bg.count, by: 5).map { (time: settings.start.advanced(bySeconds: Double($0) * 60), value: bg[$0]) }
            return [.init(code: GlucoseTwin.glucose, unit: "mg/dL", points: points)]
        }

        public func provenance(seed: UInt64) -> RunProvenance { GlucoseTwin.provenance(centre, mealEvents, seed: seed) }

        public func summary(of r: OptionResult) -> String {
            let t = r.outcomes[.timeInRange]!, l = r.outcomes[.lowBGIndex]!
            return "\(r.rank). \(r.name): time in range \(String(format: "%.1f", t.mean * 100)) % (90 % band \(String(format: "%.1f", t.p05 * 100))-\(String(format: "%.1f", t.p95 * 100))), LBGI \(String(format: "%.2f", l.mean))"
        }
    }
}
