import TwinSimulation

/// Runs the circulation model and summarises it beat by beat. The run samples the solution every 2 ms from the
/// dense output (relative tolerance 1e-7), so pressures extremes are resolved to well under 1 mmHg.
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
        let model = CirculationModel(parameters: p, resistanceChanges: scenario.resistanceChanges, bleeding: bleeding)
        let dt = 0.002
        let count = Int((scenario.seconds / dt).rounded(.down))
        let times = (0...count).map { Double($0) * dt }
        let events = edges.isEmpty ? [] : [TimeEvent(name: "input change", times: edges, action: { _ in })]
        let options = SolverOptions(method: .dormandPrince, relativeTolerance: 1e-7, absoluteTolerance: .scalar(1e-6),
                                    maxStep: model.period / 20)
        let solution: Solution
        do {
            solution = try ODESolver(options: options).solve(model, initialState: model.initialState, from: 0,
                                                             to: times.last!, output: .times(times), timeEvents: events)
        } catch {
            throw ModelError(.solverFailure, "circulation: \(error.message)", value: error.value)
        }
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
}
