/// Ridge regression on standardised features: minimises Σ (y − ŷ)² + λ ‖β‖² with ŷ = mean(y) + Σ βⱼ (xⱼ − μⱼ)/σⱼ
/// (the intercept is not penalised). A constant feature (σ = 0) gets β = 0.
public struct RidgeRegression: Sendable, Hashable, Codable {
    public var lambda: Double
    public var intercept: Double
    public var means: [Double]
    public var scales: [Double]
    public var coefficients: [Double]

    /// Fits rows `x` (complete, every row as long as the first) to `y`.
    /// - Throws: ``PrognosticError`` `tooFewData` without rows, `singular` when the system cannot be solved.
    public static func fit(_ x: [[Double]], _ y: [Double], lambda: Double) throws -> RidgeRegression {
        guard let p = x.first?.count, x.count == y.count, x.count >= 2 else {
            throw PrognosticError(.tooFewData, "ridge regression needs at least 2 examples, not \(x.count)", value: "\(x.count)")
        }
        let n = Double(x.count)
        var means = [Double](repeating: 0, count: p), scales = [Double](repeating: 0, count: p)
        for row in x { for j in 0..<p { means[j] += row[j] / n } }
        for row in x { for j in 0..<p { scales[j] += (row[j] - means[j]) * (row[j] - means[j]) / n } }
        scales = scales.map { $0 > 1e-24 ? $0.squareRoot() : 0 }
        let my = y.reduce(0, +) / n
        var a = [Double](repeating: 0, count: p * p), b = [Double](repeating: 0, count: p)
        for (i, row) in x.enumerated() {
            let z = (0..<p).map { scales[$0] > 0 ? (row[$0] - means[$0]) / scales[$0] : 0 }
            for r in 0..<p {
                b[r] += z[r] * (y[i] - my)
                for c in 0..<p { a[r * p + c] += z[r] * z[c] }
            }
        }
        for j in 0..<p { a[j * p + j] += max(lambda, 1e-9) + (scales[j] > 0 ? 0 : 1) }
        guard let l = LinearSystem.cholesky(a, p) else {
            throw PrognosticError(.singular, "the ridge system is singular (lambda \(lambda))", value: "\(lambda)")
        }
        var beta = LinearSystem.solve(cholesky: l, p, b)
        for j in 0..<p where scales[j] == 0 { beta[j] = 0 }
        return RidgeRegression(lambda: lambda, intercept: my, means: means, scales: scales, coefficients: beta)
    }

    public func predict(_ row: [Double]) -> Double {
        var s = intercept
        for j in coefficients.indices where scales[j] > 0 { s += coefficients[j] * (row[j] - means[j]) / scales[j] }
        return s
    }
}

/// A random intercept per person beside fixed effects: the between-person variance σ_b² and the residual variance
/// σ_e², estimated by moments from the fixed part's training residuals. A person's intercept is its best linear
/// unbiased predictor from that person's own k earlier complete pairs (target already observed at the index time):
/// σ_b² / (σ_b² + σ_e²/k) × their mean residual; 0 for a person with none.
public struct RandomIntercept: Sendable, Hashable, Codable {
    public var betweenVariance: Double
    public var residualVariance: Double

    /// Moments from residuals grouped by person.
    public static func estimate(_ residuals: [[Double]]) -> RandomIntercept {
        var within = 0.0, withinDF = 0.0
        var means: [Double] = [], ks: [Double] = []
        for r in residuals where !r.isEmpty {
            let m = r.reduce(0, +) / Double(r.count)
            within += r.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            withinDF += Double(r.count - 1)
            means.append(m); ks.append(Double(r.count))
        }
        let se2 = withinDF > 0 ? within / withinDF : 0
        guard means.count >= 2 else { return RandomIntercept(betweenVariance: 0, residualVariance: se2) }
        let gm = means.reduce(0, +) / Double(means.count)
        let varMeans = means.reduce(0) { $0 + ($1 - gm) * ($1 - gm) } / Double(means.count - 1)
        let noise = ks.reduce(0) { $0 + se2 / $1 } / Double(ks.count)
        return RandomIntercept(betweenVariance: max(0, varMeans - noise), residualVariance: se2)
    }

    /// The person's predicted intercept from its earlier residuals.
    public func intercept(from residuals: [Double]) -> Double {
        guard !residuals.isEmpty, betweenVariance > 0 else { return 0 }
        let k = Double(residuals.count)
        let shrink = betweenVariance / (betweenVariance + residualVariance / k)
        return shrink * residuals.reduce(0, +) / k
    }
}
