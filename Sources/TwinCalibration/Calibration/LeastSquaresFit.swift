import TwinSimulation

/// The result of a least-squares fit, with Gauss–Newton (Laplace) uncertainty.
public struct LeastSquaresFit: Sendable {
    public enum Status: String, Sendable, Hashable {
        case functionTolerance, stepTolerance, gradientTolerance, maxIterations, stalled
        /// Whether this is one of the convergence criteria (not a limit).
        public var converged: Bool { self != .maxIterations && self != .stalled }
    }
    public let names: [String]
    public let parameters: [Double]
    public let residuals: [Double]
    /// `∂r/∂θ` at the optimum, row-major (`m × p`).
    public let jacobian: [Double]
    public let iterations: Int
    /// Residual evaluations, including those for finite differences.
    public let evaluations: Int
    public let status: Status
    let lower: [Double], upper: [Double]

    /// `Σ rᵢ²`.
    public var sumOfSquares: Double { residuals.reduce(0) { $0 + $1 * $1 } }

    /// Whether parameter `i` ended on one of its bounds.
    public func isAtBound(_ i: Int) -> Bool { parameters[i] <= lower[i] || parameters[i] >= upper[i] }

    /// The Gauss–Newton covariance `s² (JᵀJ)⁻¹` (row-major `p × p`), with `s² = SSR / (m − p)` when
    /// `residualVariance` is `nil` (residuals in data units, noise unknown), or the given variance (use 1
    /// when residuals are already divided by their noise standard deviation). `nil` if `JᵀJ` is singular
    /// (a parameter is not identifiable from the data) or there are no degrees of freedom.
    public func covariance(residualVariance: Double? = nil) -> [Double]? {
        let p = parameters.count, m = residuals.count
        let s2: Double
        if let v = residualVariance { s2 = v } else {
            guard m > p else { return nil }
            s2 = sumOfSquares / Double(m - p)
        }
        var jtj = [Double](repeating: 0, count: p * p), g = [Double](repeating: 0, count: p)
        normalEquations(jacobian, residuals, m, p, &jtj, &g)
        var scratch = [Double](repeating: 0, count: p * p)
        let ok = jtj.withUnsafeMutableBufferPointer { a in scratch.withUnsafeMutableBufferPointer { Dense.invertSPD(a.baseAddress!, p, scratch: $0.baseAddress!) } }
        guard ok else { return nil }
        return jtj.map { $0 * s2 }
    }

    /// Standard errors `√diag(covariance)`.
    public func standardErrors(residualVariance: Double? = nil) -> [Double]? {
        guard let c = covariance(residualVariance: residualVariance) else { return nil }
        let p = parameters.count
        return (0..<p).map { c[$0 * p + $0].squareRoot() }
    }
}
