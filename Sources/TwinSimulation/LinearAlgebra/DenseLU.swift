/// Dense LU factorisation with partial pivoting of an `n × n` row-major matrix, in place, on raw buffers
/// owned by the instance (no allocation after `init`).
final class DenseLU {
    let n: Int
    /// The matrix (row-major); after `factor()` holds L (unit, below the diagonal) and U.
    let a: UnsafeMutablePointer<Double>
    private let pivots: UnsafeMutablePointer<Int>

    init(dimension n: Int) {
        self.n = n
        a = .allocate(capacity: Swift.max(n * n, 1))
        a.initialize(repeating: 0, count: Swift.max(n * n, 1))
        pivots = .allocate(capacity: Swift.max(n, 1))
        pivots.initialize(repeating: 0, count: Swift.max(n, 1))
    }

    deinit {
        a.deallocate()
        pivots.deallocate()
    }

    /// Factorises `a` in place. Returns `false` if a pivot is zero or not finite (matrix singular to
    /// working precision); the contents of `a` are then undefined.
    func factor() -> Bool {
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

    /// Solves `A x = b` in place (`b` becomes `x`) with the factors from `factor()`.
    func solve(_ b: UnsafeMutablePointer<Double>) {
        for k in 0..<n {
            let p = pivots[k]
            if p != k { let t = b[k]; b[k] = b[p]; b[p] = t }
        }
        for i in 0..<n {
            let row = a + i * n
            var s = b[i]
            for j in 0..<i { s -= row[j] * b[j] }
            b[i] = s
        }
        var i = n - 1
        while i >= 0 {
            let row = a + i * n
            var s = b[i]
            for j in (i + 1)..<n { s -= row[j] * b[j] }
            b[i] = s / row[i]
            i -= 1
        }
    }
}
