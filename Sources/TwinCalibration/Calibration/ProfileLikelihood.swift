import Foundation
import TwinSimulation

/// The profile likelihood of one parameter and the confidence interval it gives.
///
/// The parameter is moved away from its optimum in both directions; at each value the others are
/// re-optimised. The interval is where the likelihood-ratio statistic stays below the χ²₁ quantile of the
/// level: `ΔSSR / σ²` when the noise variance is known (residuals scaled by it: pass 1), or
/// `m · ln(SSR / SSR̂)` when it is estimated. A limit is `nil` when the statistic never crosses the
/// threshold before the bound (the parameter is not identifiable on that side).
public struct ProfileLikelihood: Sendable {
    public struct Point: Sendable, Hashable {
        public let value: Double
        public let sumOfSquares: Double
        public let statistic: Double
    }
    public let parameter: String
    public let estimate: Double
    public let points: [Point]
    public let lowerLimit: Double?
    public let upperLimit: Double?
    public let threshold: Double

    /// - Parameters:
    ///   - residualVariance: known noise variance of the residuals, or `nil` if estimated.
    public static func compute(_ problem: LeastSquaresProblem, fit: LeastSquaresFit, parameter index: Int, level: Double = 0.95,
                               residualVariance: Double? = nil, optimizer: LevenbergMarquardt = LevenbergMarquardt(),
                               maxSteps: Int = 60) throws -> ProfileLikelihood {
        guard index >= 0, index < problem.parameterCount else {
            throw CalibrationError(.invalidArgument, "parameter index \(index) is outside 0..<\(problem.parameterCount).", value: String(index))
        }
        guard level > 0, level < 1 else { throw CalibrationError(.invalidArgument, "confidence level must be in (0, 1).", value: String(level)) }
        let z = inverseStandardNormal(0.5 + level / 2)
        let threshold = z * z
        let m = Double(problem.residualCount)
        let best = fit.sumOfSquares
        func statistic(_ ssr: Double) -> Double {
            if let v = residualVariance { return (ssr - best) / v }
            return m * log(max(ssr, 1e-300) / max(best, 1e-300))
        }
        let theta = fit.parameters
        let se = fit.standardErrors(residualVariance: residualVariance)?[index]
        let baseStep = (se.map { $0 > 0 && $0.isFinite ? $0 * 0.3 : nil } ?? nil) ?? max(abs(theta[index]) * 0.05, 1e-6)
        var points = [Point(value: theta[index], sumOfSquares: best, statistic: 0)]
        var limits: [Double?] = [nil, nil]
        for (d, dir) in [-1.0, 1.0].enumerated() {
            var value = theta[index]
            var others = theta.enumerated().filter { $0.offset != index }.map(\.element)
            var step = baseStep
            var lastInside = value
            var lastOthers = others
            let bound = dir < 0 ? problem.lower[index] : problem.upper[index]
            for _ in 0..<maxSteps {
                let next = dir < 0 ? max(value - step, bound) : min(value + step, bound)
                let (ssr, o) = try profileValue(problem, index, next, start: others, optimizer)
                let s = statistic(ssr)
                points.append(Point(value: next, sumOfSquares: ssr, statistic: s))
                if s > threshold {
                    // bisect between lastInside and next
                    var a = lastInside, b = next, oa = lastOthers
                    for _ in 0..<30 {
                        let mid = 0.5 * (a + b)
                        let (sm, om) = try profileValue(problem, index, mid, start: oa, optimizer)
                        if statistic(sm) > threshold { b = mid } else { a = mid; oa = om }
                        if abs(b - a) <= 1e-7 * max(abs(a), 1e-12) { break }
                    }
                    limits[d] = 0.5 * (a + b)
                    break
                }
                lastInside = next; lastOthers = o
                value = next; others = o
                if next == bound { break }
                if s < 0.25 * threshold { step *= 2 }
            }
        }
        points.sort { $0.value < $1.value }
        return ProfileLikelihood(parameter: problem.names[index], estimate: theta[index], points: points,
                                 lowerLimit: limits[0], upperLimit: limits[1], threshold: threshold)
    }

    static func profileValue(_ problem: LeastSquaresProblem, _ index: Int, _ value: Double, start: [Double],
                             _ optimizer: LevenbergMarquardt) throws -> (Double, [Double]) {
        if problem.parameterCount == 1 {
            let r = try problem.residuals(at: [value])
            return (r.reduce(0) { $0 + $1 * $1 }, [])
        }
        let reduced = try problem.fixing(index, at: value)
        let clamped = zip(start, zip(reduced.lower, reduced.upper)).map { min(max($0, $1.0), $1.1) }
        let f = try optimizer.minimize(reduced, from: clamped)
        return (f.sumOfSquares, f.parameters)
    }
}
