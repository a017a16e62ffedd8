import TwinCalibration
import Foundation
import TwinModels

/// Periodic re-calibration of a glucose twin from its thread window: a bounded Levenberg–Marquardt fit of a
/// few parameters (as log-multipliers of the twin's current estimate) and of the glucose level at the start
/// of the window to the CGM readings in the window, simulating the twin's model with the meals and insulin
/// it knows, with a Gaussian prior penalty toward the current estimate (so a window with little information
/// leaves the parameters where the filter had them).
///
/// The experiment then re-centres the filter on the refit parameters (``GlucoseSyncExperiment/Options/recalibrationInterval``).
public struct GlucoseRecalibration: Sendable, Hashable {
    /// Parameters fitted (names from ``GlucoseTwinProcess/estimable``).
    public var parameters = ["Vmx", "kp1", "kp3", "kabs", "f", "ki", "kmax", "ka1", "p2u", "kmin", "kp2", "k1", "b", "d"]
    /// Prior sd of each fitted log-multiplier around the current estimate.
    public var priorSD = 0.5
    /// Prior sd of the log scale of the glucose compartments at the window start around the filter's mean.
    public var initialGlucoseSD = 0.1
    /// Largest change of any log-multiplier in one refit.
    public var bound = 1.5
    /// Length of the window of readings fitted, in minutes (ending now).
    public var window = 480
    public var maxIterations = 20
    public init() {}

    /// The fit: the refit parameters and the state at the window's end simulated with them.
    struct Result {
        let parameters: UVAPadovaParameters
        /// The 14-entry state at the last reading, simulated with the refit parameters.
        let end: [Double]
        let cost: Double, startCost: Double
    }

    /// Fits `parameters` of `base` to readings `readings[j]` at minutes `times[j]` (ascending, all after
    /// `start`), simulating from `state` (14 entries: model states and the stomach-content memory) at `start`.
    func fit(base: UVAPadovaParameters, state: [Double], start: Int, times: [Int], readings: [Double], noiseSD: Double,
             carbohydrate: [Double], insulin: [Double]) throws -> Result {
        let names = parameters, p = names.count
        let prior = priorSD, prior0 = initialGlucoseSD, sd = noiseSD
        let process = try GlucoseTwinProcess(population: base, carbohydrate: carbohydrate, insulin: insulin, estimated: names,
                                             noiseRate: [Double](repeating: 0, count: 14 + p))
        let m = times.count
        let problem = try LeastSquaresProblem(
            names: names + ["log(G0 scale)"], lower: [Double](repeating: -bound, count: p) + [-0.5], upper: [Double](repeating: bound, count: p) + [0.5],
            residualCount: m + p + 1,
            residuals: { theta in
                var x = state + Array(theta[0..<p])
                let s = exp(theta[p])
                for i in [3, 4, 12] { x[i] *= s }
                var r = [Double](repeating: 0, count: m + p + 1)
                var t = start
                try x.withUnsafeMutableBufferPointer { buffer in
                    for j in 0..<m {
                        if times[j] > t { try process.propagate(buffer, from: Double(t), over: Double(times[j] - t)); t = times[j] }
                        r[j] = (buffer[12] / base.Vg - readings[j]) / sd
                    }
                }
                for i in 0..<p { r[m + i] = theta[i] / prior }
                r[m + p] = theta[p] / prior0
                return r
            })
        var lm = LevenbergMarquardt()
        lm.maxIterations = maxIterations
        lm.maxStepLength = 0.5
        lm.functionTolerance = 1e-6
        lm.stepTolerance = 1e-6
        let zero = [Double](repeating: 0, count: p + 1)
        let startCost = try problem.residuals(at: zero).reduce(0) { $0 + $1 * $1 }
        let fit = try lm.minimize(problem, from: zero)
        var refit = base
        for (i, name) in names.enumerated() { GlucoseTwinProcess.set(name, GlucoseTwinProcess.value(name, in: base) * exp(fit.parameters[i]), in: &refit) }
        var x = state + Array(fit.parameters[0..<p])
        for i in [3, 4, 12] { x[i] *= exp(fit.parameters[p]) }
        if let last = times.last, last > start {
            try x.withUnsafeMutableBufferPointer { try process.propagate($0, from: Double(start), over: Double(last - start)) }
        }
        return Result(parameters: refit, end: Array(x[0..<14]), cost: fit.sumOfSquares, startCost: startCost)
    }
}
