import Foundation

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
            throw SyncError(.invalidArgument, "parameter index \(index) is outside 0..<\(problem.parameterCount).", value: String(index))
        }
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "confidence level must be in (0, 1).", value: String(level)) }
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

/// Φ⁻¹(p) by Acklam's rational approximation refined with one Halley step (|error| < 1e-14).
func inverseStandardNormal(_ p: Double) -> Double {
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    var x: Double
    if p < 0.02425 {
        let q = (-2 * log(p)).squareRoot()
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - 0.02425 {
        let q = p - 0.5, r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * log(1 - p)).squareRoot()
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
    let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}
