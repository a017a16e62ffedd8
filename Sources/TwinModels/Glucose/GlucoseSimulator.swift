/// What to simulate: a virtual patient, announced meals, a therapy (controller and pump) and a duration.
public struct GlucoseScenario: Sendable, Hashable {
    public var patient: VirtualPatient
    public var meals: MealPlan
    /// Duration in hours; the run has `ceil(hours * 60)` one-minute samples.
    public var hours: Double
    /// The controller; `nil` gives no insulin at all.
    public var controller: BasalBolusController?
    public var pump: InsulinPump
    /// Keep the 13 model states at every minute in the trace.
    public var recordStates: Bool

    public init(patient: VirtualPatient, meals: MealPlan, hours: Double = 24,
                controller: BasalBolusController? = BasalBolusController(), pump: InsulinPump = .insulet,
                recordStates: Bool = false) {
        self.patient = patient; self.meals = meals; self.hours = hours; self.controller = controller
        self.pump = pump; self.recordStates = recordStates
    }
}

/// Runs the UVA/Padova model the way simglucose 0.2.11's `T1DSimEnv` does with a noise-free CGM sampled every
/// minute (`simglucose/simulation/env.py`, `patient/t1dpatient.py`):
///
/// 1. at minute k the controller sees the sensor glucose and the carbohydrate announced at minute k-1 and asks
///    for basal and bolus rates; the pump rounds and clamps them;
/// 2. the scenario announces the meal of minute k (if any); the patient's meal state machine turns announced
///    carbohydrate into eating at 5 g/min, and at the start of each eating episode records the stomach content
///    and resets the food taken, which set the gastric emptying rate;
/// 3. the ODE is integrated from k to k+1 with the inputs held constant, restarting the integrator from the
///    previous state exactly as scipy's `ode` `dopri5` does (see `HairerDopri5`);
/// 4. BG is subcutaneous glucose `Gs / Vg` (mg/dL).
///
/// Promise: BG agrees with simglucose 0.2.11 to round-off (far inside 1 mg/dL RMS) for every one of the 30
/// patients and any meal plan; the tests check this against simglucose's own traces.
public enum GlucoseSimulator {
    /// Carbohydrate eating rate of simglucose's patient, g/min.
    public static let eatRate = 5.0

    /// Runs one scenario.
    /// - Throws: `ModelError` for invalid parameters or duration, a non-finite state (naming it and the minute),
    ///   or an integrator failure.
    public static func run(_ scenario: GlucoseScenario) throws(ModelError) -> GlucoseTrace {
        guard scenario.hours.isFinite, scenario.hours > 0, scenario.hours <= 24 * 366 else {
            throw ModelError(.invalidArgument, "simulation length must be between 0 and 8784 hours, got \(scenario.hours)",
                             value: "\(scenario.hours)")
        }
        let patient = scenario.patient
        try patient.parameters.validate()
        guard patient.initialState.count == 13, patient.initialState.allSatisfy(\.isFinite) else {
            throw ModelError(.invalidArgument, "patient '\(patient.name)' needs 13 finite initial states", value: patient.name)
        }
        let steps = Int((scenario.hours * 60).rounded(.up))
        var bg = [Double](repeating: 0, count: steps + 1)
        var cho = [Double](repeating: 0, count: steps)
        var insulin = [Double](repeating: 0, count: steps)
        var states: [Double] = scenario.recordStates ? [Double](repeating: 0, count: 13 * (steps + 1)) : []
        var x = patient.initialState
        var model = UVAPadovaModel(parameters: patient.parameters, lastStomachContent: x[0] + x[1], lastFoodTaken: 0)
        var solver = HairerDopri5(dimension: 13)
        let vg = patient.parameters.Vg
        let pump = scenario.pump
        var plannedMeal = 0.0
        var lastEaten = 0.0
        var isEating = false
        var lastAnnounced = 0.0
        bg[0] = x[12] / vg
        if scenario.recordStates { for i in 0..<13 { states[i] = x[i] } }
        var cgm = bg[0]
        var failure: ModelError?
        x.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            for k in 0..<steps {
                var ins = 0.0
                if let controller = scenario.controller {
                    let request = controller.action(for: patient, meal: lastAnnounced, glucose: cgm)
                    ins = pump.basal(request.basal) + pump.bolus(request.bolus)
                }
                let announced = scenario.meals.announced(atMinute: k)
                // simglucose's T1DPatient._announce_meal and its eating state machine.
                plannedMeal += announced
                var toEat = 0.0
                if plannedMeal > 0 {
                    toEat = min(eatRate, plannedMeal)
                    plannedMeal -= toEat
                    plannedMeal = max(0, plannedMeal)
                }
                if toEat > 0 && lastEaten <= 0 {
                    model.lastStomachContent = xp[0] + xp[1]
                    model.lastFoodTaken = 0
                    isEating = true
                }
                if isEating { model.lastFoodTaken += toEat }
                if toEat <= 0 && lastEaten > 0 { isEating = false }
                lastEaten = toEat
                model.carbohydrate = toEat
                model.insulin = ins
                guard solver.integrate(model, y: xp, from: Double(k), to: Double(k + 1)) else {
                    failure = ModelError(.solverFailure, "UVA/Padova: the integrator failed in minute \(k) for '\(patient.name)'",
                                         value: "\(k)")
                    return
                }
                for i in 0..<13 where !xp[i].isFinite {
                    failure = ModelError(.nonFiniteState,
                                         "UVA/Padova: state '\(UVAPadovaModel.stateNames[i])' became \(xp[i]) at minute \(k + 1) for '\(patient.name)'",
                                         value: UVAPadovaModel.stateNames[i])
                    return
                }
                cho[k] = announced
                insulin[k] = ins
                bg[k + 1] = xp[12] / vg
                if scenario.recordStates { for i in 0..<13 { states[13 * (k + 1) + i] = xp[i] } }
                cgm = bg[k + 1]
                lastAnnounced = announced
            }
        }
        if let failure { throw failure }
        return GlucoseTrace(patient: patient.name, bg: bg, carbohydrate: cho, insulin: insulin, states: states)
    }

    /// Runs many scenarios (e.g. forks of one twin with different insulin plans) on `workers` concurrent tasks
    /// (default: the number of active processors). Results are in the order of `scenarios`.
    public static func runMany(_ scenarios: [GlucoseScenario], workers: Int? = nil) async throws(ModelError) -> [GlucoseTrace] {
        let count = scenarios.count
        let w = max(1, min(workers ?? ProcessorCount.active, count))
        let chunks: [Result<[(Int, GlucoseTrace)], ModelError>] = await withTaskGroup(of: Result<[(Int, GlucoseTrace)], ModelError>.self) { group in
            for worker in 0..<w {
                group.addTask {
                    var out: [(Int, GlucoseTrace)] = []
                    var i = worker
                    while i < count {
                        do throws(ModelError) { out.append((i, try run(scenarios[i]))) } catch { return .failure(error) }
                        i += w
                    }
                    return .success(out)
                }
            }
            var all: [Result<[(Int, GlucoseTrace)], ModelError>] = []
            for await r in group { all.append(r) }
            return all
        }
        var results = [GlucoseTrace?](repeating: nil, count: count)
        for chunk in chunks {
            switch chunk {
            case .failure(let e): throw e
            case .success(let items): for (i, t) in items { results[i] = t }
            }
        }
        return results.compactMap { $0 }
    }
}
