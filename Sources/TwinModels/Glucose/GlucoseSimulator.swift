import TwinCore

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
    /// Carbohydrate eating rate of simglucose's patient, g/min (``Eating/simglucoseRate``).
    public static let eatRate = Eating.simglucoseRate

    /// Runs one scenario, telling `progress` each simulated hour (the unit is "hours"; it is never called more
    /// often than once per simulated hour, so it costs nothing measurable).
    /// - Throws: `ModelError` for invalid parameters or duration, a non-finite state (naming it and the minute),
    ///   or an integrator failure.
    public static func run(_ scenario: GlucoseScenario, progress: any ProgressReporter = SilentProgress()) throws(ModelError) -> GlucoseTrace {
        defer { progress.finish() }
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
            var reportedHour = -1
            while k < steps {
                if k / 60 != reportedHour {
                    reportedHour = k / 60
                    progress.update(done: reportedHour, of: steps / 60, unit: "hours")
                }
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
