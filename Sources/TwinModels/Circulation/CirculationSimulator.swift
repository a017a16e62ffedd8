import TwinSimulation

/// Runs the circulation model and summarises it beat by beat. The run samples the solution every
/// ``CirculationScenario/sampleInterval`` (2 ms by default) from the dense output (relative tolerance 1e-7), so
/// pressure extremes are resolved to well under 1 mmHg. With a baroreflex, a beat is a whole turn of the cardiac
/// phase and its heart rate is 60 over its length.
public enum CirculationSimulator {
    public static func run(_ scenario: CirculationScenario) throws(ModelError) -> [BeatSummary] {
        let (model, solution, times) = try solve(scenario)
        return summarise(model, solution, times)
    }

    /// Runs the circulation like ``run(_:)`` and also returns its aortic pressure waveform, sampled every
    /// ``CirculationScenario/sampleInterval`` from 0 (what an arterial line or a finger cuff would record, without
    /// their transfer functions): the beats and the samples they summarise.
    public static func runWithPressureWaveform(_ scenario: CirculationScenario) throws(ModelError)
        -> (beats: [BeatSummary], aorticPressure: [Double]) {
        let (model, solution, times) = try solve(scenario)
        var y = [Double](repeating: 0, count: model.dimension)
        let pressure = times.indices.map { k in
            for i in 0..<model.dimension { y[i] = solution.value(i, at: k) }
            return y.withUnsafeBufferPointer { model.haemodynamics(t: times[k], y: $0).pao }
        }
        return (summarise(model, solution, times), pressure)
    }

    static func summarise(_ model: CirculationModel, _ solution: Solution, _ times: [Double]) -> [BeatSummary] {
        if model.baroreflex != nil { return beatsByPhase(model, solution, times) }
        var beats: [BeatSummary] = []
        let perBeat = model.period
        var beatStart = 0.0
        var k = 0
        var y = [Double](repeating: 0, count: model.dimension)
        while beatStart + perBeat <= times.last! + 1e-9 {
            var vmax = -Double.infinity, vmin = Double.infinity, pmax = -Double.infinity, pmin = Double.infinity
            var psum = 0.0, pvsum = 0.0, n = 0
            while k < times.count && times[k] < beatStart + perBeat - 1e-9 {
                let t = times[k]
                for i in 0..<model.dimension { y[i] = solution.value(i, at: k) }
                let h = y.withUnsafeBufferPointer { model.haemodynamics(t: t, y: $0) }
                vmax = max(vmax, y[0]); vmin = min(vmin, y[0])
                pmax = max(pmax, h.pao); pmin = min(pmin, h.pao)
                psum += h.pao; pvsum += h.pv; n += 1
                k += 1
            }
            if n > 0 {
                beats.append(BeatSummary(start: beatStart, heartRate: model.parameters.heartRate, endDiastolicVolume: vmax,
                                         endSystolicVolume: vmin, systolicPressure: pmax, diastolicPressure: pmin,
                                         meanArterialPressure: psum / Double(n), venousPressure: pvsum / Double(n)))
            }
            beatStart += perBeat
        }
        return beats
    }

    /// Validates the scenario and solves it, sampled every `sampleInterval` from 0.
    static func solve(_ scenario: CirculationScenario) throws(ModelError) -> (CirculationModel, Solution, [Double]) {
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
        guard total < p.bloodVolume - p.unstressedVolume else {
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
        var capillary = 0.0
        if scenario.baroreflex != nil || p.refill != nil { (reference, capillary, start) = try warmUp(p, scenario.baroreflex) }
        let model = CirculationModel(parameters: p, resistanceChanges: scenario.resistanceChanges, bleeding: bleeding,
                                     baroreflex: scenario.baroreflex, reference: reference, restingCapillaryPressure: capillary)
        let dt = scenario.sampleInterval
        let count = Int((scenario.seconds / dt).rounded(.down))
        let times = (0...count).map { Double($0) * dt }
        let events = edges.isEmpty ? [] : [TimeEvent(name: "input change", times: edges, action: { _ in })]
        let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-7, absoluteTolerance: .scalar(1e-6),
                                    maxStep: min(model.period / 20, 0.02))
        do {
            let solution = try ODESolver(options: options).solve(model, initialState: start ?? model.initialState, from: 0,
                                                                 to: times.last!, output: .times(times), timeEvents: events)
            return (model, solution, times)
        } catch {
            throw ModelError(.solverFailure, "circulation: \(error.message)", value: error.value)
        }
    }

    /// The circulation at rest with its baroreflex: 40 s of the model with the reflex sensing but its effectors held
    /// (sensitivity 0), and transcapillary refill (if any) held, from ``CirculationModel/initialState``, to its
    /// periodic steady state. Returns the mean efferent signals over the last 10 s (what the effectors answer
    /// deviations from) and the final state (the cardiac phase reduced to its fraction), which starts a run at rest.
    public static func rest(_ parameters: CirculationModel.Parameters, _ baroreflex: Baroreflex) throws(ModelError)
        -> (reference: (sympathetic: Double, vagal: Double), state: [Double]) {
        let (reference, _, state) = try warmUp(parameters, baroreflex)
        return (reference ?? (0, 0), state)
    }

    /// The periodic resting state: 40 s with the reflex's effectors and the refill held. Returns the reflex's
    /// resting efferent signals (nil without one), the mean capillary pressure over the last 10 s (0 without refill)
    /// and the final state.
    static func warmUp(_ parameters: CirculationModel.Parameters, _ baroreflex: Baroreflex?) throws(ModelError)
        -> (reference: (sympathetic: Double, vagal: Double)?, capillaryPressure: Double, state: [Double]) {
        var held = baroreflex
        held?.sensitivity = 0
        var withoutRefill = parameters
        withoutRefill.refill = nil
        let model = CirculationModel(parameters: withoutRefill, baroreflex: held)
        // without the reflex the heart beats on the clock: end on a whole beat so a run can start at t = 0 from here
        let seconds = baroreflex == nil ? model.period * (40 / model.period).rounded(.up) : 40.0, dt = 0.005
        let times = (0...Int((10 / dt).rounded())).map { seconds - 10 + Double($0) * dt }
        let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-7, absoluteTolerance: .scalar(1e-6),
                                    maxStep: min(model.period / 20, 0.02))
        let solution: Solution
        do {
            solution = try ODESolver(options: options).solve(model, initialState: model.initialState, from: 0, to: seconds, output: .times(times))
        } catch {
            throw ModelError(.solverFailure, "circulation at rest: \(error.message)", value: error.value)
        }
        var sympathetic = 0.0, vagal = 0.0, capillary = 0.0
        var y = [Double](repeating: 0, count: model.dimension)
        for k in times.indices {
            for i in 0..<model.dimension { y[i] = solution.value(i, at: k) }
            if let b = baroreflex {
                sympathetic += b.sympatheticSignal(y[6])
                vagal += y[9]
            }
            if let r = parameters.refill {
                let h = y.withUnsafeBufferPointer { model.haemodynamics(t: times[k], y: $0) }
                capillary += r.capillaryPressure(arterial: h.pa, venous: h.pv)
            }
        }
        if baroreflex != nil { y[3] -= y[3].rounded(.down) }
        if parameters.refill != nil { y.append(0) }
        let n = Double(times.count)
        return (baroreflex == nil ? nil : (sympathetic / n, vagal / n), capillary / n, y)
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
