import TwinSimulation

/// The regressions' small symmetric positive definite systems (a few covariates), on TwinSimulation's `Dense`
/// kernels, with a relative pivot threshold so that a numerically singular design (a covariate collinear with
/// others) is refused rather than solved into huge coefficients.
enum LinearSystem {
    /// The Cholesky factor (row-major, lower) of the symmetric `a` (n×n), or nil when a pivot is below 1e-12 times
    /// the largest diagonal entry of `a` (not numerically positive definite).
    static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
        var l = a
        var scale = 0.0
        for i in 0..<n { scale = max(scale, abs(a[i * n + i])) }
        let failed = l.withUnsafeMutableBufferPointer { Dense.cholesky($0.baseAddress!, n) }
        guard failed == nil else { return nil }
        for j in 0..<n {
            let d = l[j * n + j]
            guard d.isFinite, d * d > 1e-12 * max(scale, 1e-300) else { return nil }
        }
        return l
    }

    /// x with L Lᵀ x = b.
    static func solve(cholesky l: [Double], _ n: Int, _ b: [Double]) -> [Double] {
        var x = b
        l.withUnsafeBufferPointer { lp in x.withUnsafeMutableBufferPointer { Dense.choleskySolve(lp.baseAddress!, n, $0.baseAddress!, 1) } }
        return x
    }

    /// (L Lᵀ)⁻¹, row-major.
    static func inverse(cholesky l: [Double], _ n: Int) -> [Double] {
        var x = [Double](repeating: 0, count: n * n)
        for i in 0..<n { x[i * n + i] = 1 }
        l.withUnsafeBufferPointer { lp in x.withUnsafeMutableBufferPointer { Dense.choleskySolve(lp.baseAddress!, n, $0.baseAddress!, n) } }
        return x
    }
}
