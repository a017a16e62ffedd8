import Foundation
import TwinSimulation

/// Levenberg–Marquardt for bounded nonlinear least squares (projected steps with an active set).
///
/// Each iteration solves `(JᵀJ + λ D) δ = −Jᵀr` (Marquardt scaling `D = diag(JᵀJ)`) for the parameters not
/// held at a bound by a gradient pointing outward, projects `θ + δ` onto the box, and accepts the step when
/// the actual reduction is a positive fraction of the one predicted by the linear model (Nielsen's damping
/// update). Jacobians are analytic when the problem has them, otherwise forward or central differences
/// with steps kept inside the bounds.
///
/// Stops when the relative reduction of the cost is below `functionTolerance`, the step below
/// `stepTolerance · (‖θ‖ + stepTolerance)`, or the projected gradient below `gradientTolerance`.
public struct LevenbergMarquardt: Sendable {
    public enum Differences: Sendable, Hashable { case forward, central }
    public var maxIterations = 200
    public var functionTolerance = 1e-12
    public var stepTolerance = 1e-10
    public var gradientTolerance = 1e-12
    public var initialDamping = 1e-3
    public var differences: Differences = .forward
    /// Largest Euclidean length of one step (a trust-region radius on the parameters' own scale); `nil`
    /// for none. Useful on log scales, where one step of several decades can reach stiff, slow corners.
    public var maxStepLength: Double? = nil
    /// Relative finite-difference step (default √ε for forward, ε^⅓ for central differences).
    public var relativeStep: Double? = nil

    public init() {}

    /// Minimises from `start` (which must lie within the bounds).
    public func minimize(_ problem: LeastSquaresProblem, from start: [Double]) throws -> LeastSquaresFit {
        try problem.validateStart(start)
        let p = problem.parameterCount, m = problem.residualCount
        var x = start
        var evaluations = 0
        var r: [Double]
        do { r = try problem.residuals(at: x); evaluations += 1 } catch {
            throw CalibrationError(.calibrationFailed, "the objective cannot be evaluated at the start point (\(problem.describe(x))): \(error)", value: problem.describe(x))
        }
        var cost = 0.5 * r.reduce(0) { $0 + $1 * $1 }
        var lambda = initialDamping
        var nu = 2.0
        var iterations = 0
        var status = LeastSquaresFit.Status.maxIterations
        var jac = try jacobian(problem, at: x, residuals: r, evaluations: &evaluations)
        var jtj = [Double](repeating: 0, count: p * p), g = [Double](repeating: 0, count: p)
        outer: while iterations < maxIterations {
            iterations += 1
            normalEquations(jac, r, m, p, &jtj, &g)
            // active set: at a bound with the descent direction pointing out
            var free = [Bool](repeating: true, count: p)
            var projectedGradient = 0.0
            for i in 0..<p {
                let atLower = x[i] <= problem.lower[i] && g[i] > 0
                let atUpper = x[i] >= problem.upper[i] && g[i] < 0
                if atLower || atUpper { free[i] = false } else { projectedGradient = max(projectedGradient, abs(g[i])) }
            }
            if projectedGradient <= gradientTolerance * max(1, cost) { status = .gradientTolerance; break }
            while true {
                guard var delta = solveDamped(jtj, g, p, lambda, free) else { lambda *= 10; if lambda > 1e16 { status = .stalled; break outer }; continue }
                if let radius = maxStepLength {
                    let length = delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    if length > radius { for i in 0..<p { delta[i] *= radius / length } }
                }
                var trial = x
                for i in 0..<p { trial[i] = min(max(x[i] + delta[i], problem.lower[i]), problem.upper[i]) }
                var step = [Double](repeating: 0, count: p)
                var stepNorm = 0.0, xNorm = 0.0
                for i in 0..<p { step[i] = trial[i] - x[i]; stepNorm += step[i] * step[i]; xNorm += x[i] * x[i] }
                stepNorm = stepNorm.squareRoot(); xNorm = xNorm.squareRoot()
                if stepNorm <= stepTolerance * (xNorm + stepTolerance) { status = .stepTolerance; break outer }
                // predicted reduction of the linear model for the projected step
                var predicted = 0.0
                for i in 0..<m {
                    var jd = 0.0
                    for c in 0..<p { jd += jac[i * p + c] * step[c] }
                    predicted -= r[i] * jd + 0.5 * jd * jd
                }
                var trialResiduals: [Double]? = nil
                do { trialResiduals = try problem.residuals(at: trial); evaluations += 1 } catch { evaluations += 1 }
                if let tr = trialResiduals {
                    let trialCost = 0.5 * tr.reduce(0) { $0 + $1 * $1 }
                    let rho = predicted > 0 ? (cost - trialCost) / predicted : -1
                    if rho > 1e-4 && trialCost < cost {
                        let reduction = cost - trialCost
                        x = trial; r = tr
                        let old = cost
                        cost = trialCost
                        lambda *= max(1.0 / 3.0, 1 - pow(2 * rho - 1, 3)); nu = 2
                        if reduction <= functionTolerance * old { status = .functionTolerance; break outer }
                        jac = try jacobian(problem, at: x, residuals: r, evaluations: &evaluations)
                        break
                    }
                }
                lambda *= nu; nu *= 2
                if lambda > 1e16 { status = .stalled; break outer }
            }
        }
        // final quantities at x
        normalEquations(jac, r, m, p, &jtj, &g)
        return LeastSquaresFit(names: problem.names, parameters: x, residuals: r, jacobian: jac, iterations: iterations,
                               evaluations: evaluations, status: status, lower: problem.lower, upper: problem.upper)
    }

    func jacobian(_ problem: LeastSquaresProblem, at x: [Double], residuals r: [Double], evaluations: inout Int) throws -> [Double] {
        let p = problem.parameterCount, m = problem.residualCount
        if let j = problem.jacobianFunction {
            let jac = try j(x)
            try checkCount(jac.count, m * p, "Jacobian")
            return jac
        }
        var jac = [Double](repeating: 0, count: m * p)
        let rel = relativeStep ?? (differences == .forward ? 1.4901161193847656e-8 : 6.055454452393343e-06)
        for c in 0..<p {
            var h = rel * max(abs(x[c]), 1)
            var xp = x
            switch differences {
            case .forward:
                if x[c] + h > problem.upper[c] { h = -h }
                xp[c] = x[c] + h
                let rp = try problem.residuals(at: xp); evaluations += 1
                let dh = xp[c] - x[c]
                for i in 0..<m { jac[i * p + c] = (rp[i] - r[i]) / dh }
            case .central:
                let hi = min(x[c] + h, problem.upper[c]), lo = max(x[c] - h, problem.lower[c])
                xp[c] = hi
                let rp = try problem.residuals(at: xp)
                xp[c] = lo
                let rm = try problem.residuals(at: xp); evaluations += 2
                for i in 0..<m { jac[i * p + c] = (rp[i] - rm[i]) / (hi - lo) }
            }
        }
        return jac
    }
}

func normalEquations(_ jac: [Double], _ r: [Double], _ m: Int, _ p: Int, _ jtj: inout [Double], _ g: inout [Double]) {
    for a in 0..<p {
        var s = 0.0
        for i in 0..<m { s += jac[i * p + a] * r[i] }
        g[a] = s
        for b in a..<p {
            var t = 0.0
            for i in 0..<m { t += jac[i * p + a] * jac[i * p + b] }
            jtj[a * p + b] = t; jtj[b * p + a] = t
        }
    }
}

/// Solves `(JᵀJ + λ diag(JᵀJ)) δ = −g` over the free parameters (fixed ones get δ = 0).
func solveDamped(_ jtj: [Double], _ g: [Double], _ p: Int, _ lambda: Double, _ free: [Bool]) -> [Double]? {
    let idx = (0..<p).filter { free[$0] }
    let k = idx.count
    var delta = [Double](repeating: 0, count: p)
    if k == 0 { return delta }
    var a = [Double](repeating: 0, count: k * k), b = [Double](repeating: 0, count: k)
    var maxDiag = 0.0
    for i in idx { maxDiag = max(maxDiag, jtj[i * p + i]) }
    for (u, i) in idx.enumerated() {
        b[u] = -g[i]
        for (v, j) in idx.enumerated() { a[u * k + v] = jtj[i * p + j] }
        a[u * k + u] += lambda * max(jtj[i * p + i], 1e-12 * max(maxDiag, 1e-300))
    }
    let ok = a.withUnsafeMutableBufferPointer { ab in
        b.withUnsafeMutableBufferPointer { bb in
            if Dense.cholesky(ab.baseAddress!, k) != nil { return false }
            Dense.choleskySolve(ab.baseAddress!, k, bb.baseAddress!, 1)
            return true
        }
    }
    if !ok { return nil }
    for (u, i) in idx.enumerated() { delta[i] = b[u] }
    if delta.contains(where: { !$0.isFinite }) { return nil }
    return delta
}
