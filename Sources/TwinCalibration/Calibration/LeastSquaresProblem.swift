import TwinSimulation

/// A bounded nonlinear least-squares problem: minimise `½ Σ rᵢ(θ)²` subject to `lower ≤ θ ≤ upper`.
///
/// The residual function must be deterministic. It may throw (a failed simulation); the optimiser then
/// treats the trial point as unacceptable and shrinks its step. Bounds may be infinite on either side.
public struct LeastSquaresProblem: Sendable {
    public let names: [String]
    public let lower: [Double]
    public let upper: [Double]
    public let residualCount: Int
    let residualFunction: @Sendable ([Double]) throws -> [Double]
    let jacobianFunction: (@Sendable ([Double]) throws -> [Double])?

    public var parameterCount: Int { names.count }

    /// - Parameters:
    ///   - residuals: `r(θ)`, `residualCount` entries.
    ///   - jacobian: `∂r/∂θ` row-major (`residualCount × parameterCount`); `nil` for finite differences.
    public init(names: [String], lower: [Double], upper: [Double], residualCount: Int,
                residuals: @escaping @Sendable ([Double]) throws -> [Double],
                jacobian: (@Sendable ([Double]) throws -> [Double])? = nil) throws {
        let p = names.count
        guard p > 0 else { throw CalibrationError(.invalidArgument, "a problem needs at least one parameter.") }
        try checkCount(lower.count, p, "lower bounds")
        try checkCount(upper.count, p, "upper bounds")
        for i in 0..<p {
            guard !lower[i].isNaN, !upper[i].isNaN, lower[i] < upper[i] else {
                throw CalibrationError(.invalidBounds, "bounds of '\(names[i])' are empty or invalid: [\(lower[i]), \(upper[i])].", value: "\(lower[i])..\(upper[i])")
            }
        }
        guard residualCount >= 1 else { throw CalibrationError(.invalidArgument, "a problem needs at least one residual.", value: String(residualCount)) }
        self.names = names
        self.lower = lower
        self.upper = upper
        self.residualCount = residualCount
        self.residualFunction = residuals
        self.jacobianFunction = jacobian
    }

    /// Evaluates the residuals, checking their count and finiteness.
    public func residuals(at theta: [Double]) throws -> [Double] {
        let r = try residualFunction(theta)
        try checkCount(r.count, residualCount, "residual vector")
        if let bad = r.firstIndex(where: { !$0.isFinite }) {
            throw CalibrationError(.nonFinite, "residual \(bad) is not finite at \(describe(theta)).", value: String(r[bad]))
        }
        return r
    }

    func describe(_ theta: [Double]) -> String {
        zip(names, theta).map { "\($0) = \($1)" }.joined(separator: ", ")
    }

    func validateStart(_ start: [Double]) throws {
        try checkCount(start.count, parameterCount, "start point")
        for i in 0..<parameterCount where !(start[i] >= lower[i] && start[i] <= upper[i]) {
            throw CalibrationError(.invalidBounds, "start value of '\(names[i])' (\(start[i])) lies outside its bounds [\(lower[i]), \(upper[i])].", value: String(start[i]))
        }
    }

    /// Fixes parameter `index` at `value`, returning the problem in the remaining parameters.
    func fixing(_ index: Int, at value: Double) throws -> LeastSquaresProblem {
        let f = residualFunction
        let keep = (0..<parameterCount).filter { $0 != index }
        let j = jacobianFunction
        let p = parameterCount, m = residualCount
        let expand: @Sendable ([Double]) -> [Double] = { reduced in
            var full = [Double](repeating: 0, count: p)
            var k = 0
            for i in 0..<p { if i == index { full[i] = value } else { full[i] = reduced[k]; k += 1 } }
            return full
        }
        var reducedJacobian: (@Sendable ([Double]) throws -> [Double])? = nil
        if let jac = j {
            reducedJacobian = { (reduced: [Double]) throws -> [Double] in
                let full = try jac(expand(reduced))
                var out = [Double](repeating: 0, count: m * (p - 1))
                for r in 0..<m {
                    var k = 0
                    for c in 0..<p where c != index { out[r * (p - 1) + k] = full[r * p + c]; k += 1 }
                }
                return out
            }
        }
        let residuals: @Sendable ([Double]) throws -> [Double] = { (reduced: [Double]) throws -> [Double] in try f(expand(reduced)) }
        let keptNames: [String] = keep.map { names[$0] }
        let keptLower: [Double] = keep.map { lower[$0] }
        let keptUpper: [Double] = keep.map { upper[$0] }
        return try LeastSquaresProblem(names: keptNames, lower: keptLower, upper: keptUpper, residualCount: residualCount,
                                       residuals: residuals, jacobian: reducedJacobian)
    }
}
