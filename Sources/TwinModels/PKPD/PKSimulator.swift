import TwinSimulation

/// Solves a `PKModel` under a `DosingRegimen`: boluses and oral doses are time events (instant additions to the
/// central compartment or the depot), infusions are piecewise-constant inputs whose start and end are time events
/// so the integrator never steps across a discontinuity. Accuracy: relative 1e-9, absolute 1e-12 mg by default.
public enum PKSimulator {
    public static let defaultOptions = SolverOptions(method: .dormandPrince, rtol: 1e-9, atol: 1e-12)

    /// Central concentrations (mg/L) at `times` (ascending, >= 0).
    public static func concentrations(_ model: PKModel, regimen: DosingRegimen, at times: [Double],
                                      options: SolverOptions = defaultOptions) throws(ModelError) -> [Double] {
        let solution = try solve(model, regimen: regimen, at: times, options: options)
        return solution.series(1).map { $0 / model.centralVolume }
    }

    /// The full solution (all states, mg) at `times`.
    public static func solve(_ model: PKModel, regimen: DosingRegimen, at times: [Double],
                             options: SolverOptions = defaultOptions) throws(ModelError) -> Solution {
        try model.validate()
        guard let last = times.last, !times.isEmpty else {
            throw ModelError(.invalidArgument, "PK: no output times given")
        }
        for (i, t) in times.enumerated() where !(t.isFinite && t >= 0) || (i > 0 && t < times[i - 1]) {
            throw ModelError(.invalidArgument, "PK: output times must be finite, >= 0 and ascending; bad value \(t)", value: "\(t)")
        }
        var infusions: [(start: Double, end: Double, rate: Double)] = []
        var events: [TimeEvent] = []
        var initial = [Double](repeating: 0, count: model.dimension)
        for (i, d) in regimen.doses.enumerated() {
            switch d.route {
            case .oral:
                guard model.absorptionRate != nil else {
                    throw ModelError(.invalidDose, "PK: dose \(i + 1) is oral but the model has no absorptionRate", value: "oral")
                }
                let amount = d.amount * model.bioavailability
                if d.time == 0 { initial[0] += amount } else { events.append(.bolus("oral dose \(i + 1)", variable: 0, amount: amount, at: [d.time])) }
            case .intravenousBolus:
                if d.time == 0 { initial[1] += d.amount } else { events.append(.bolus("IV bolus \(i + 1)", variable: 1, amount: d.amount, at: [d.time])) }
            case .infusion(let hours):
                infusions.append((d.time, d.time + hours, d.amount / hours))
                // Restart the integrator at both ends of the infusion (the input jumps there).
                events.append(TimeEvent(name: "infusion \(i + 1) edges", times: [d.time, d.time + hours], action: { _ in }))
            }
        }
        let system = PKSystem(model: model, infusions: infusions)
        let t0 = 0.0
        let tEnd = max(last, 1e-9)
        do {
            let s = try ODESolver(options: options).solve(system, initialState: initial, from: t0, to: tEnd,
                                                          output: .times(times), timeEvents: events)
            return s
        } catch {
            throw ModelError(.solverFailure, "PK: \(error.message)", value: error.value)
        }
    }
}
