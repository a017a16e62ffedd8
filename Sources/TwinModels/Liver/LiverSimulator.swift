import TwinSimulation

/// Runs the APAP liver model with TwinSimulation's stiff Rosenbrock solver (Rodas5P, analytic Jacobian), doses as
/// time events.
public enum LiverSimulator {
    /// Default accuracy: relative 1e-10, absolute 1e-26 (the states are ~1e-14 to 1e-13; NAC ~1 gets 1e-12).
    public static let defaultOptions = SolverOptions(method: .rodas5P, relativeTolerance: 1e-10,
                                                     absoluteTolerance: .perComponent([1e-26, 1e-26, 1e-26, 1e-26, 1e-26, 1e-12]))

    /// Solves the scenario; the solution has the six states at `points` evenly spaced times.
    /// - Throws: `ModelError` for a negative parameter or dose or a bad time, naming it; solver failures are
    ///   wrapped as `solverFailure` with the solver's message.
    public static func run(_ scenario: LiverScenario, options: SolverOptions = defaultOptions) throws(ModelError) -> Solution {
        try scenario.parameters.validate()
        guard scenario.hours.isFinite, scenario.hours > 0 else {
            throw ModelError(.invalidArgument, "APAP liver: duration must be > 0 hours, got \(scenario.hours)", value: "\(scenario.hours)")
        }
        guard scenario.points >= 2 else {
            throw ModelError(.invalidArgument, "APAP liver: need at least 2 output points, got \(scenario.points)", value: "\(scenario.points)")
        }
        var events: [TimeEvent] = []
        for (i, d) in scenario.additionalAPAPDoses.enumerated() {
            try d.validate("APAP liver: APAP dose \(i + 1)")
            events.append(.bolus("APAP dose \(i + 1)", variable: 0, amount: d.amount, at: [d.time]))
        }
        for (i, d) in scenario.nacDoses.enumerated() {
            try d.validate("APAP liver: NAC dose \(i + 1)")
            events.append(.bolus("NAC dose \(i + 1)", variable: 5, amount: d.amount, at: [d.time]))
        }
        let model = APAPLiverModel(parameters: scenario.parameters)
        do {
            return try ODESolver(options: options).solve(model, initialState: model.initialState, from: 0, to: scenario.hours,
                                                         output: .evenlySpaced(count: scenario.points), timeEvents: events)
        } catch {
            throw ModelError(.solverFailure, "APAP liver: \(error.message)", value: error.value)
        }
    }
}
