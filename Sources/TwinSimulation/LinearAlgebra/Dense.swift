import Foundation

/// Small dense linear-algebra kernels over raw, row-major buffers.
///
/// They never allocate: callers pass scratch space. Sizes are the small ones of filtering and
/// calibration (states and parameters in the tens), where straightforward loops beat a BLAS call.
public enum Dense {
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
