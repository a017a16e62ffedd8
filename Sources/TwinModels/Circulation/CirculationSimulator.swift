import TwinSimulation

/// Runs the circulation model and summarises it beat by beat. The run samples the solution every
/// ``CirculationScenario/sampleInterval`` (2 ms by default) from the dense output (relative tolerance 1e-7), so
/// pressure extremes are resolved to well under 1 mmHg. With a baroreflex, a beat is a whole turn of the cardiac
/// phase and its heart rate is 60 over its length.
public enum CirculationSimulator {
    public static func run(_ scenario: CirculationScenario) throws(ModelError) -> [BeatSummary] {
        let p = scenario.parameters
        try p.validate()
        guard scenario.seconds.isFinite, scenario.seconds > 0, scenario.seconds <= 86_400 else {
            throw ModelError(.invalidArgument, "circulation: duration must be in (0, 86400] s, got \(scenario.seconds)",
                             value: "\(scenario.seconds)")
        }
        var bleeding: [(start: Double, end: Double, rate: Double)] = []
        var edges: [Double] = []
        for h in scenario.haemorrhages {
            guard h.start.isFinite, h.start >= 0, h.duration.isFinite, h.duration > 0, h.volume.isFinite, h.volume >= 0 else {
                throw ModelError(.invalidArgument, "circulation: haemorrhage needs start >= 0, duration > 0, volume >= 0; got (\(h.start), \(h.duration), \(h.volume))",
                                 value: "\(h.volume)")
            }
            bleeding.append((h.start, h.start + h.duration, h.volume / h.duration))
            edges += [h.start, h.start + h.duration]
        }
        let total = scenario.haemorrhages.map(\.volume).reduce(0, +)
        guard total < p.bloodVolume - p.arterialUnstressedVolume - p.venousUnstressedVolume - p.v0 else {
            throw ModelError(.invalidArgument, "circulation: haemorrhage of \(total) mL exceeds the stressed blood volume", value: "\(total)")
        }
        for c in scenario.resistanceChanges {
            guard c.time.isFinite, c.time >= 0, c.factor.isFinite, c.factor > 0 else {
                throw ModelError(.invalidArgument, "circulation: resistance factor must be > 0 at a time >= 0, got \(c.factor) at \(c.time)",
                                 value: "\(c.factor)")
            }
            edges.append(c.time)
        }
        if let b = scenario.baroreflex { try b.validate() }
        guard scenario.sampleInterval.isFinite, scenario.sampleInterval >= 0.0005, scenario.sampleInterval <= 0.02 else {
            throw ModelError(.invalidArgument, "circulation: sample interval must be in [0.0005, 0.02] s, got \(scenario.sampleInterval)",
                             value: "\(scenario.sampleInterval)")
        }
        var start: [Double]? = nil
        var reference: (sympathetic: Double, vagal: Double)? = nil
        if let b = scenario.baroreflex { (reference, start) = try rest(p, b) }
        let model = CirculationModel(parameters: p, resistanceChanges: scenario.resistanceChanges, bleeding: bleeding,
                                     baroreflex: scenario.baroreflex, reference: reference)
        let dt = scenario.sampleInterval
        let count = Int((scenario.seconds / dt).rounded(.down))
        let times = (0...count).map { Double($0) * dt }
        let events = edges.isEmpty ? [] : [TimeEvent(name: "input change", times: edges, action: { _ in })]
        let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-7, absoluteTolerance: .scalar(1e-6),
                                    maxStep: min(model.period / 20, 0.02))
        let solution: Solution
        do {
            solution = try ODESolver(options: options).solve(model, initialState: start ?? model.initialState, from: 0,
                                                             to: times.last!, output: .times(times), timeEvents: events)
        } catch {
            throw ModelError(.solverFailure, "circulation: \(error.message)", value: error.value)
        }
        if model.baroreflex != nil { return beatsByPhase(model, solution, times) }
        var beats: [BeatSummary] = []
        let perBeat = model.period
        var beatStart = 0.0
        var k = 0
        while beatStart + perBeat <= times.last! + 1e-9 {
            var vmax = -Double.infinity, vmin = Double.infinity, pmax = -Double.infinity, pmin = Double.infinity
            var psum = 0.0, pvsum = 0.0, n = 0
            while k < times.count && times[k] < beatStart + perBeat - 1e-9 {
                let t = times[k]
                let h = model.haemodynamics(t: t, vlv: solution.value(0, at: k), va: solution.value(1, at: k), vv: solution.value(2, at: k))
                vmax = max(vmax, solution.value(0, at: k)); vmin = min(vmin, solution.value(0, at: k))
                pmax = max(pmax, h.pao); pmin = min(pmin, h.pao)
                psum += h.pao; pvsum += h.pv; n += 1
                k += 1
            }
            if n > 0 {
                beats.append(BeatSummary(start: beatStart, heartRate: p.heartRate, endDiastolicVolume: vmax,
                                         endSystolicVolume: vmin, systolicPressure: pmax, diastolicPressure: pmin,
                                         meanArterialPressure: psum / Double(n), venousPressure: pvsum / Double(n)))
            }
            beatStart += perBeat
        }
        return beats
    }

    /// The circulation at rest with its baroreflex: 40 s of the model with the reflex sensing but its effectors held
    /// (sensitivity 0), from ``CirculationModel/initialState``, to its periodic steady state. Returns the mean
    /// efferent signals over the last 10 s (what the effectors answer deviations from) and the final state (the
    /// cardiac phase reduced to its fraction), which starts a run at rest.
    public static func rest(_ parameters: CirculationModel.Parameters, _ baroreflex: Baroreflex) throws(ModelError)
        -> (reference: (sympathetic: Double, vagal: Double), state: [Double]) {
        var held = baroreflex
        held.sensitivity = 0
        let model = CirculationModel(parameters: parameters, baroreflex: held)
        let seconds = 40.0, dt = 0.005
        let times = (Int(30 / dt)...Int(seconds / dt)).map { Double($0) * dt }
        let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-7, absoluteTolerance: .scalar(1e-6),
                                    maxStep: min(model.period / 20, 0.02))
        let solution: Solution
        do {
            solution = try ODESolver(options: options).solve(model, initialState: model.initialState, from: 0, to: seconds, output: .times(times))
        } catch {
            throw ModelError(.solverFailure, "circulation at rest: \(error.message)", value: error.value)
        }
        var sympathetic = 0.0, vagal = 0.0
        for k in times.indices {
            sympathetic += baroreflex.sympatheticSignal(solution.value(6, at: k))
            vagal += solution.value(9, at: k)
        }
        var state = (0..<model.dimension).map { solution.value($0, at: times.count - 1) }
        state[3] -= state[3].rounded(.down)
        return ((sympathetic / Double(times.count), vagal / Double(times.count)), state)
    }

    /// Beats of a model with a baroreflex: each whole turn of the cardiac phase (state 3) is one beat; partial
    /// first and last beats are left out.
    static func beatsByPhase(_ model: CirculationModel, _ solution: Solution, _ times: [Double]) -> [BeatSummary] {
        var beats: [BeatSummary] = []
        var y = [Double](repeating: 0, count: model.dimension)
        var beatStart = times[0], beatIndex = (solution.value(3, at: 0)).rounded(.down), whole = false
        var vmax = -Double.infinity, vmin = Double.infinity, pmax = -Double.infinity, pmin = Double.infinity
        var psum = 0.0, pvsum = 0.0, n = 0
        for k in times.indices {
            for i in 0..<model.dimension { y[i] = solution.value(i, at: k) }
            let phase = y[3].rounded(.down)
            if phase > beatIndex {
                if n > 0 && whole {
                    let length = times[k] - beatStart
                    beats.append(BeatSummary(start: beatStart, heartRate: 60 / length, endDiastolicVolume: vmax, endSystolicVolume: vmin,
                                             systolicPressure: pmax, diastolicPressure: pmin, meanArterialPressure: psum / Double(n),
                                             venousPressure: pvsum / Double(n)))
                }
                beatStart = times[k]; beatIndex = phase; whole = true
                vmax = -.infinity; vmin = .infinity; pmax = -.infinity; pmin = .infinity; psum = 0; pvsum = 0; n = 0
            }
            let h = y.withUnsafeBufferPointer { model.haemodynamics(t: times[k], y: $0) }
            vmax = max(vmax, y[0]); vmin = min(vmin, y[0])
            pmax = max(pmax, h.pao); pmin = min(pmin, h.pao)
            psum += h.pao; pvsum += h.pv; n += 1
        }
        return beats
    }
}
