/// Dense LU factorisation with partial pivoting of an `n × n` row-major matrix, in place, on raw buffers
/// owned by the instance (no allocation after `init`); the kernels are `Dense.luFactor` and `Dense.luSolve`.
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

    /// Factorises `a` in place (`Dense.luFactor`). Returns `false` if a pivot is zero or not finite (matrix
    /// singular to working precision); the contents of `a` are then undefined.
    func factor() -> Bool { Dense.luFactor(a, n, pivots: pivots) }

    /// Solves `A x = b` in place (`b` becomes `x`) with the factors from `factor()` (`Dense.luSolve`).
    func solve(_ b: UnsafeMutablePointer<Double>) { Dense.luSolve(a, n, pivots: pivots, b) }
}
