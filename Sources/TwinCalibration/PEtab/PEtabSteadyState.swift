import Foundation

/// What a simulation reached at steady state: for PEtab measurements at `time = inf` and for
/// pre-equilibration.
public struct PEtabSteadyState: Sendable {
    /// The values of the requested outputs at the steady state, in order.
    public let outputs: [Double]
    /// The state variables' values (``PEtabSimulator/stateIds``, in the units `overrides` take them), to start
    /// a later simulation from; empty when the simulator does not report its state.
    public let state: [String: Double]
    /// The simulated time at which the state was accepted as steady.
    public let time: Double
    /// The weighted root mean square of the rates of change there (below 1 by construction).
    public let wrms: Double
}

/// The steady-state test, as AMICI's integration-based steady state uses it (its defaults): the state `x` is
/// steady when the weighted root mean square of its rates of change,
/// `wrms = sqrt(mean_i (dx_i/dt / (atol + rtol·|x_i|))²)`, is below 1, with `atol = 1e-14` and `rtol = 1e-6`
/// (in the model's time unit; species in amounts). The model is simulated from t = 0 and the test is made
/// at t = 1, 10, 100, …, 10⁸; the first time that passes is the steady state. None passing by 10⁸ is an
/// error naming the worst state variable.
public enum PEtabSteadyStateTest {
    public static let absoluteTolerance = 1e-14
    public static let relativeTolerance = 1e-6
    /// The times at which the test is made.
    public static let times: [Double] = (0...8).map { pow(10, Double($0)) }

    /// `wrms` of `rates` at `state`, and the index of the largest weighted rate.
    public static func wrms(state: [Double], rates: [Double]) -> (value: Double, worst: Int) {
        guard !state.isEmpty else { return (0, 0) }
        var sum = 0.0, worst = 0, largest = -1.0
        for i in state.indices {
            let w = rates[i] / (absoluteTolerance + relativeTolerance * abs(state[i]))
            if !(w.isFinite) { return (.infinity, i) }
            sum += w * w
            if abs(w) > largest { largest = abs(w); worst = i }
        }
        return ((sum / Double(state.count)).squareRoot(), worst)
    }
}

extension PEtabSimulator {
    /// The steady state reached from t = 0 under `overrides` (``PEtabSteadyStateTest``), with the rates
    /// estimated from successive test times: `(x(tₖ) − x(tₖ₋₁)) / (tₖ − tₖ₋₁)` over the state variables
    /// (or, for a simulator that does not report its state, over the requested outputs). Simulators that
    /// can evaluate their right-hand side (``SBMLModelSimulator``) use the exact rates instead.
    /// - Throws: `CalibrationError.simulationFailed` if no steady state is reached by t = 10⁸.
    public func steadyState(outputs: [String], overrides: [String: Double]) throws -> PEtabSteadyState {
        let ids = stateIds ?? []
        let times = [0] + PEtabSteadyStateTest.times
        let rows = try simulate(times: times, outputs: outputs + ids, overrides: overrides)
        let watched = ids.isEmpty ? Array(0..<outputs.count) : Array(outputs.count..<(outputs.count + ids.count))
        var last = (value: Double.infinity, worst: 0)
        for k in 1..<times.count {
            let x = watched.map { rows[k][$0] }
            let rates = watched.map { (rows[k][$0] - rows[k - 1][$0]) / (times[k] - times[k - 1]) }
            last = PEtabSteadyStateTest.wrms(state: x, rates: rates)
            if last.value < 1 {
                var state: [String: Double] = [:]
                for (j, id) in ids.enumerated() { state[id] = rows[k][outputs.count + j] }
                return PEtabSteadyState(outputs: Array(rows[k][0..<outputs.count]), state: state, time: times[k], wrms: last.value)
            }
        }
        let names = ids.isEmpty ? outputs : ids
        let worst = names.isEmpty ? "?" : names[last.worst]
        throw CalibrationError(.simulationFailed, "no steady state by t = 1e8 (weighted RMS of the rates \(last.value), largest for '\(worst)').", value: worst)
    }
}
