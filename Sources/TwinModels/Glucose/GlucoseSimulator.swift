/// How the simulator integrates between one-minute samples.
public enum GlucoseIntegration: String, Sendable, Hashable, CaseIterable {
    /// simglucose's way: a fresh DOPRI5 run (scipy defaults) over every minute, inputs held. Agrees with
    /// simglucose to round-off.
    case simglucose
    /// One DOPRI5 run (same tolerances, rtol 1e-6, atol 1e-12) across all minutes whose inputs are equal, restarted
    /// only where an input changes (meal, bolus, eating); BG at the minutes in between from the 4th-order dense
    /// output. The same ODE solution up to the integration error: BG within ~1e-3 mg/dL of simglucose (the tests
    /// check < 0.01 mg/dL RMS), several times faster. For sweeps and forks.
    case continuous
}

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
    public var integration: GlucoseIntegration

    public init(patient: VirtualPatient, meals: MealPlan, hours: Double = 24,
                controller: BasalBolusController? = BasalBolusController(), pump: InsulinPump = .insulet,
                recordStates: Bool = false, integration: GlucoseIntegration = .simglucose) {
        self.patient = patient; self.meals = meals; self.hours = hours; self.controller = controller
        self.pump = pump; self.recordStates = recordStates; self.integration = integration
    }
}

/// The inputs held over one minute.
struct MinuteInputs: Equatable {
    var toEat: Double, insulin: Double, lastStomachContent: Double, lastFoodTaken: Double
}

/// simglucose's per-minute logic outside the ODE: controller + pump (`T1DSimEnv.mini_step`) and the patient's
/// meal announcement / eating state machine (`T1DPatient._announce_meal` and `step`).
struct TherapyStateMachine {
    var plannedMeal = 0.0
    var lastEaten = 0.0
    var isEating = false
    var lastAnnounced = 0.0
    var lastStomachContent: Double
    var lastFoodTaken = 0.0

    /// Advances to minute k. `cgm` (mg/dL) and `stomach` (`qss + qsl`, mg) are the state at minute k; pass `nil`
    /// when unknown: if the logic needs them (a bolus after an announced meal, the start of eating) the method
    /// returns `nil` and changes nothing.
    mutating func advance(announced: Double, patient: VirtualPatient, controller: BasalBolusController?,
                          pump: InsulinPump, cgm: Double?, stomach: Double?) -> MinuteInputs? {
        var insulin = 0.0
        if let controller {
            if lastAnnounced > 0 && cgm == nil { return nil }
            let request = controller.action(for: patient, meal: lastAnnounced, glucose: cgm ?? 0)
            insulin = pump.basal(request.basal) + pump.bolus(request.bolus)
        }
        var planned = plannedMeal + announced
        var toEat = 0.0
        if planned > 0 {
            toEat = min(GlucoseSimulator.eatRate, planned)
            planned -= toEat
            planned = max(0, planned)
        }
        var stomachContent = lastStomachContent, foodTaken = lastFoodTaken, eating = isEating
        if toEat > 0 && lastEaten <= 0 {
            guard let stomach else { return nil }
            stomachContent = stomach
            foodTaken = 0
            eating = true
        }
        if eating { foodTaken += toEat }
        if toEat <= 0 && lastEaten > 0 { eating = false }
        plannedMeal = planned; lastEaten = toEat; isEating = eating
        lastStomachContent = stomachContent; lastFoodTaken = foodTaken; lastAnnounced = announced
        return MinuteInputs(toEat: toEat, insulin: insulin, lastStomachContent: stomachContent, lastFoodTaken: foodTaken)
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
///    previous state exactly as scipy's `ode` `dopri5` does (see `HairerDopri5`), or, with
///    `GlucoseIntegration.continuous`, across runs of minutes with equal inputs;
/// 4. BG is subcutaneous glucose `Gs / Vg` (mg/dL).
///
/// Promise: with `.simglucose` integration BG agrees with simglucose 0.2.11 to round-off (far inside 1 mg/dL
/// RMS) for every one of the 30 patients and any meal plan; the tests check this against simglucose's traces.
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
        let record = scenario.recordStates
        let continuous = scenario.integration == .continuous
        var bg = [Double](repeating: 0, count: steps + 1)
        var cho = [Double](repeating: 0, count: steps)
        var insulin = [Double](repeating: 0, count: steps)
        var states: [Double] = record ? [Double](repeating: 0, count: 13 * (steps + 1)) : []
        var x = patient.initialState
        var machine = TherapyStateMachine(lastStomachContent: x[0] + x[1])
        var rhs = UVAPadovaMinuteRHS(parameters: patient.parameters)
        var solver = HairerDopri5(dimension: 13)
        if continuous { solver.maxSteps = 100_000 }
        let vg = patient.parameters.Vg
        bg[0] = x[12] / vg
        if record { for i in 0..<13 { states[i] = x[i] } }
        var failure: ModelError?
        bg.withUnsafeMutableBufferPointer { bgb in
        states.withUnsafeMutableBufferPointer { sb in
        x.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            var k = 0
            while k < steps {
                let announced = scenario.meals.announced(atMinute: k)
                guard let inputs = machine.advance(announced: announced, patient: patient, controller: scenario.controller,
                                                   pump: scenario.pump, cgm: bgb[k], stomach: xp[0] + xp[1]) else {
                    failure = ModelError(.solverFailure, "UVA/Padova: therapy logic could not advance at minute \(k)", value: "\(k)")
                    return
                }
                cho[k] = announced
                insulin[k] = inputs.insulin
                var end = k + 1
                if continuous {
                    while end < steps {
                        var trial = machine
                        let next = scenario.meals.announced(atMinute: end)
                        guard let nextInputs = trial.advance(announced: next, patient: patient, controller: scenario.controller,
                                                             pump: scenario.pump, cgm: nil, stomach: nil),
                              nextInputs == inputs else { break }
                        machine = trial
                        cho[end] = next
                        insulin[end] = nextInputs.insulin
                        end += 1
                    }
                }
                rhs.setInputs(carbohydrate: inputs.toEat, insulin: inputs.insulin,
                              lastStomachContent: inputs.lastStomachContent, lastFoodTaken: inputs.lastFoodTaken)
                let ok = solver.integrate(&rhs, y: xp, from: Double(k), to: Double(end),
                                          denseOutputFrom: end > k + 1 ? k + 1 : nil) { minute, state in
                    bgb[minute] = state[12] / vg
                    if record { for i in 0..<13 { sb[13 * minute + i] = state[i] } }
                }
                guard ok else {
                    failure = ModelError(.solverFailure, "UVA/Padova: the integrator failed between minutes \(k) and \(end) for '\(patient.name)'",
                                         value: "\(k)")
                    return
                }
                for i in 0..<13 where !xp[i].isFinite {
                    failure = ModelError(.nonFiniteState,
                                         "UVA/Padova: state '\(UVAPadovaModel.stateNames[i])' became \(xp[i]) at minute \(end) for '\(patient.name)'",
                                         value: UVAPadovaModel.stateNames[i])
                    return
                }
                bgb[end] = xp[12] / vg
                if record { for i in 0..<13 { sb[13 * end + i] = xp[i] } }
                k = end
            }
        }
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
