import Foundation

/// The project's dense linear-algebra kernels over raw, row-major buffers: Cholesky factorisation, solves
/// and SPD inverse (filters, calibration), LU with partial pivoting (the stiff solvers' iteration matrices
/// through `DenseLU`, the SBML compiler's algebraic rules and fast reactions through `solve`), products.
///
/// They never allocate: callers pass scratch space. Sizes are the small ones of filtering, calibration and
/// implicit steps (states and parameters in the tens to hundreds), where straightforward loops beat a BLAS
/// call; large sparse systems go to `SparseLU`.
public enum Dense {
    /// In-place LU factorisation with partial pivoting of the `n × n` matrix `a` (row-major): on success `a`
    /// holds the unit lower factor below the diagonal and the upper factor on and above it, and `pivots[k]`
    /// the row swapped with row `k` at step `k`. Returns `false` if a pivot is zero or not finite (singular
    /// to working precision); `a` is then partially overwritten.
    @inlinable
    public static func luFactor(_ a: UnsafeMutablePointer<Double>, _ n: Int, pivots: UnsafeMutablePointer<Int>) -> Bool {
        for k in 0..<n {
            var p = k
            var maxValue = Swift.abs(a[k * n + k])
            for i in (k + 1)..<Swift.max(n, k + 1) {
                let v = Swift.abs(a[i * n + k])
                if v > maxValue { maxValue = v; p = i }
            }
            guard maxValue > 0, maxValue.isFinite else { return false }
            pivots[k] = p
            if p != k {
                let rk = a + k * n, rp = a + p * n
                for j in 0..<n { let t = rk[j]; rk[j] = rp[j]; rp[j] = t }
            }
            let rowK = a + k * n
            let inv = 1.0 / rowK[k]
            for i in (k + 1)..<Swift.max(n, k + 1) {
                let rowI = a + i * n
                let l = rowI[k] * inv
                rowI[k] = l
                if l != 0 {
                    for j in (k + 1)..<n { rowI[j] -= l * rowK[j] }
                }
            }
        }
        return true
    }

    /// Solves `A x = b` in place (`b`, `n` entries, becomes `x`) with the factors and pivots of `luFactor`.
    @inlinable
    public static func luSolve(_ lu: UnsafePointer<Double>, _ n: Int, pivots: UnsafePointer<Int>, _ b: UnsafeMutablePointer<Double>) {
        for k in 0..<n {
            let p = pivots[k]
            if p != k { let t = b[k]; b[k] = b[p]; b[p] = t }
        }
        for i in 0..<n {
            let row = lu + i * n
            var s = b[i]
            for j in 0..<i { s -= row[j] * b[j] }
            b[i] = s
        }
        var i = n - 1
        while i >= 0 {
            let row = lu + i * n
            var s = b[i]
            for j in (i + 1)..<n { s -= row[j] * b[j] }
            b[i] = s / row[i]
            i -= 1
        }
    }

    /// Solves the `n × n` system `a x = b` once (`a` row-major, overwritten by its LU factors; `b` becomes
    /// `x`) by `luFactor` and `luSolve`. Returns `false` if `a` is singular to working precision (`b` is
    /// then unchanged). For small systems solved once (Newton steps of algebraic rules); allocates only
    /// the pivot indices.
    public static func solve(_ a: inout [Double], _ b: inout [Double], _ n: Int) -> Bool {
        precondition(a.count >= n * n && b.count >= n, "Dense.solve: a needs n*n and b n entries")
        var pivots = [Int](repeating: 0, count: Swift.max(n, 1))
        return a.withUnsafeMutableBufferPointer { ab in
            pivots.withUnsafeMutableBufferPointer { pb in
                guard luFactor(ab.baseAddress!, n, pivots: pb.baseAddress!) else { return false }
                b.withUnsafeMutableBufferPointer { bb in luSolve(ab.baseAddress!, n, pivots: pb.baseAddress!, bb.baseAddress!) }
                return true
            }
        }
    }

    /// In-place Cholesky factorisation `A = L Lᵀ` of the symmetric `n × n` matrix `a` (row-major). On
    /// success the lower triangle holds `L` and the strict upper triangle is zeroed. Returns the index of
    /// the first non-positive pivot on failure (the matrix is then partially overwritten), or `nil`.
    @inlinable
    public static func cholesky(_ a: UnsafeMutablePointer<Double>, _ n: Int) -> Int? {
        for j in 0..<n {
            var d = a[j * n + j]
            for k in 0..<j { d -= a[j * n + k] * a[j * n + k] }
            if !(d > 0) || !d.isFinite { return j }
            let ljj = d.squareRoot()
            a[j * n + j] = ljj
            let inv = 1 / ljj
            var i = j + 1
            while i < n {
                var s = a[i * n + j]
                for k in 0..<j { s -= a[i * n + k] * a[j * n + k] }
                a[i * n + j] = s * inv
                i += 1
            }
            for k in (j + 1)..<max(n, j + 1) { a[j * n + k] = 0 }
        }
        return nil
    }

    /// Solves `L Lᵀ X = B` in place for `B` (`n × r`, row-major), given the Cholesky factor `l`.
    @inlinable
    public static func choleskySolve(_ l: UnsafePointer<Double>, _ n: Int, _ b: UnsafeMutablePointer<Double>, _ r: Int) {
        for c in 0..<r {
            // forward: L y = b
            for i in 0..<n {
                var s = b[i * r + c]
                for k in 0..<i { s -= l[i * n + k] * b[k * r + c] }
                b[i * r + c] = s / l[i * n + i]
            }
            // backward: Lᵀ x = y
            var i = n - 1
            while i >= 0 {
                var s = b[i * r + c]
                for k in (i + 1)..<max(n, i + 1) { s -= l[k * n + i] * b[k * r + c] }
                b[i * r + c] = s / l[i * n + i]
                i -= 1
            }
        }
    }

    /// Replaces `a` by `(a + aᵀ) / 2`.
    @inlinable
    public static func symmetrise(_ a: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let m = 0.5 * (a[i * n + j] + a[j * n + i])
                a[i * n + j] = m; a[j * n + i] = m
            }
        }
    }

    /// `c = a · b` with `a` `m × k`, `b` `k × n`.
    @inlinable
    public static func multiply(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                         _ m: Int, _ k: Int, _ n: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
                c[i * n + j] = s
            }
        }
    }

    /// `c = a · bᵀ` with `a` `m × k`, `b` `n × k`.
    @inlinable
    public static func multiplyTransposed(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                                   _ m: Int, _ k: Int, _ n: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += a[i * k + p] * b[j * k + p] }
                c[i * n + j] = s
            }
        }
    }

    /// Index of the first non-finite entry, or `nil`.
    @inlinable
    public static func firstNonFinite(_ a: UnsafePointer<Double>, _ count: Int) -> Int? {
        for i in 0..<count where !a[i].isFinite { return i }
        return nil
    }

    /// Inverts the symmetric positive definite `n × n` matrix `a` in place via Cholesky, using `scratch`
    /// (`n × n`). Returns `false` if `a` is not positive definite (then `a` is unchanged).
    @inlinable
    public static func invertSPD(_ a: UnsafeMutablePointer<Double>, _ n: Int, scratch: UnsafeMutablePointer<Double>) -> Bool {
        scratch.update(from: a, count: n * n)
        if cholesky(scratch, n) != nil { return false }
        for i in 0..<n { for j in 0..<n { a[i * n + j] = i == j ? 1 : 0 } }
        choleskySolve(scratch, n, a, n)
        symmetrise(a, n)
        return true
    }
}
