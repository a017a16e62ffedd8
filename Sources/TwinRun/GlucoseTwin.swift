import TwinBank
import TwinCore
import TwinModels

/// Runs the UVA/Padova type 1 diabetes model (as simglucose implements it) for a twin.
///
/// Binding: the twin's `virtualPatient` attribute names the simulator's patient (`adult#001`, ...: the
/// parameter set fitted to this person); meals are the thread's `intervention` events coded
/// ``carbohydrateIntake`` (grams) in the simulated window, as the thread knows them now (a fork sees its own
/// hypothetical meals). BG is predicted every `every` minutes as ``glucose`` in mg/dL.
public enum GlucoseTwin {
    /// LOINC 9059-7, carbohydrate intake (estimated), in g.
    public static let carbohydrateIntake = Concept.carbohydrateIntake
    /// LOINC 2339-0, glucose [mass/volume] in blood, in mg/dL.
    public static let glucose = Concept.bloodGlucose
    public static let modelID = "uva-padova-t1d"
    public static let modelVersion = "simglucose-0.2.11"

    /// What a run produced.
    public struct Run: Sendable {
        public var scenario: GlucoseScenario
        public var trace: GlucoseTrace
        public var provenance: RunProvenance
        public var start: Instant
    }

    /// The scenario a twin's thread defines over a window: its bound virtual patient and the meals
    /// (carbohydrate interventions) in `[start, start + hours]` as known now, plus the meal events read.
    /// - Throws: ``RunError`` `missingBinding` (no `virtualPatient` attribute), `invalidBinding` (unknown
    ///   patient, a meal that is not in grams).
    public static func scenario(for twin: TwinID, in bank: Bank, start: Instant, hours: Double,
                                controller: BasalBolusController? = BasalBolusController(),
                                extraMeals: [MealPlan.Meal] = []) throws -> (scenario: GlucoseScenario, mealEvents: [Event]) {
        let record = try bank.twin(twin)
        guard case .text(let name)? = record.twin.attributes["virtualPatient"] else {
            throw RunError(.missingBinding, "twin '\(twin)' has no virtualPatient attribute (e.g. virtualPatient=adult#001) binding it to a UVA/Padova parameter set", value: twin.rawValue)
        }
        let patient: VirtualPatient
        do { patient = try VirtualPatient.named(name) } catch {
            throw RunError(.invalidBinding, "twin '\(twin)': \(error)", value: name)
        }
        let end = start.advanced(bySeconds: hours * 3600)
        let mealEvents = try bank.events(ThreadQuery(twin: twin, code: carbohydrateIntake.key, category: .intervention, from: start, to: end))
        var meals: [MealPlan.Meal] = []
        for e in mealEvents {
            guard let q = e.value?.quantity, let grams = (try? q.converted(to: "g"))?.value else {
                throw RunError(.invalidBinding, "meal event at \(e.effective) is not a carbohydrate quantity in grams", value: e.value.map { "\($0)" })
            }
            meals.append(MealPlan.Meal(hours: Double(e.effective.start.microseconds - start.microseconds) / 3.6e9, grams: grams))
        }
        do {
            let plan = try MealPlan(merged(meals + extraMeals))
            return (GlucoseScenario(patient: patient, meals: plan, hours: hours, controller: controller), mealEvents)
        } catch {
            throw RunError(.invalidBinding, "meals of '\(twin)': \(error)", value: twin.rawValue)
        }
    }

    /// Builds the scenario from the twin and its thread (``scenario(for:in:start:hours:controller:extraMeals:)``)
    /// and simulates it. The bank's gate is asked first, with the action `simulate` on the twin.
    /// - Parameters:
    ///   - extraMeals: meals announced besides the thread's (hours after `start`), as `simulate --meals` gives them.
    ///   - pump, integration, recordStates: the simulator's settings, as `twinbank simulate glucose` takes them.
    /// - Throws: ``RunError`` `missingBinding`, `invalidBinding`, `modelFailed`; ``TwinBank/BankError`` `accessDenied`.
    public static func simulate(_ twin: TwinID, in bank: Bank, start: Instant, hours: Double,
                                controller: BasalBolusController? = BasalBolusController(), extraMeals: [MealPlan.Meal] = [],
                                pump: InsulinPump = .insulet, integration: GlucoseIntegration = .simglucose,
                                recordStates: Bool = false) throws -> Run {
        try bank.authorize(.simulate, twin)
        var (scenario, mealEvents) = try self.scenario(for: twin, in: bank, start: start, hours: hours, controller: controller,
                                                       extraMeals: extraMeals)
        scenario.pump = pump
        scenario.integration = integration
        scenario.recordStates = recordStates
        let trace: GlucoseTrace
        do { trace = try GlucoseSimulator.run(scenario) } catch {
            throw RunError(.modelFailed, "glucose model for '\(twin)': \(error)", value: scenario.patient.name)
        }
        return Run(scenario: scenario, trace: trace, provenance: provenance(scenario.patient, mealEvents), start: start)
    }

    /// Meals at the same minute summed: a thread may record several items of one meal, and the simulator
    /// (like simglucose) announces only one meal per minute.
    static func merged(_ meals: [MealPlan.Meal]) -> [MealPlan.Meal] {
        var byMinute: [Int: MealPlan.Meal] = [:]
        for m in meals {
            if var existing = byMinute[m.minute] { existing.grams += m.grams; byMinute[m.minute] = existing } else { byMinute[m.minute] = m }
        }
        return byMinute.keys.sorted().map { byMinute[$0]! }
    }

    static func provenance(_ patient: VirtualPatient, _ mealEvents: [Event], seed: UInt64? = nil) -> RunProvenance {
        RunProvenance(model: modelID, modelVersion: modelVersion,
                      parametersHash: RunProvenance.hash(parameters: patient.parameterDictionary),
                      solver: "dopri5 (scipy defaults, per minute)", relativeTolerance: 1e-6, absoluteTolerance: 1e-12,
                      seed: seed, derivedFrom: mealEvents.map(\.id))
    }

    /// Writes a run's BG every `every` minutes to the twin's thread as predictions.
    @discardableResult
    public static func record(_ run: Run, to twin: TwinID, in bank: Bank, every: Int = 5) throws -> AppendResult {
        let step = max(1, every)
        let points = stride(from: 0, to: run.trace.bg.count, by: step).map {
            (time: run.start.advanced(bySeconds: Double($0) * 60), value: run.trace.bg[$0])
        }
        return try PredictionWriter.write([.init(code: glucose, unit: "mg/dL", points: points)], to: twin, run: run.provenance, in: bank)
    }
}

extension VirtualPatient {
    /// The patient's parameters by name, for hashing.
    var parameterDictionary: [String: Double] {
        var out: [String: Double] = ["carbRatio": carbRatio, "correctionFactor": correctionFactor, "age": age,
                                     "totalDailyInsulin": totalDailyInsulin]
        for (i, x) in initialState.enumerated() { out["x0_\(i + 1)"] = x }
        for child in Mirror(reflecting: parameters).children {
            if let label = child.label, let v = child.value as? Double { out[label] = v }
        }
        return out
    }
}
