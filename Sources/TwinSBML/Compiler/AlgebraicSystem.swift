import TwinSimulation

/// The algebraic rules of a model (`0 = f(x)`), solved for their matched variables by Newton's method
/// with a finite-difference Jacobian each time derived values are computed (the model is then a DAE of
/// index 1 in semi-explicit form). Solutions are accurate to about 1e-12 relative.
final class AlgebraicSystem {
    let unknownSlots: [Int]
    let residuals: [Eval]
    let names: [String]
    private(set) var failed = false

    init(unknownSlots: [Int], residuals: [Eval], names: [String]) {
        self.unknownSlots = unknownSlots
        self.residuals = residuals
        self.names = names
    }

    private func eval(_ b: UnsafeMutablePointer<Double>, _ derived: [(slot: Int, eval: Eval)], into out: inout [Double]) {
        for d in derived { b[d.slot] = d.eval(b) }
        for i in 0..<residuals.count { out[i] = residuals[i](b) }
    }

    func solve(_ b: UnsafeMutablePointer<Double>, derived: [(slot: Int, eval: Eval)]) {
        let n = unknownSlots.count
        var jac = [Double](repeating: 0, count: n * n)
        var r = [Double](repeating: 0, count: n)
        var r2 = r
        failed = false
        for s in unknownSlots where !b[s].isFinite { b[s] = 0 }
        for _ in 0..<50 {
            eval(b, derived, into: &r)
            var norm = 0.0
            for i in 0..<n { norm = max(norm, abs(r[i])) }
            if norm == 0 { return }
            for j in 0..<n {
                let s = unknownSlots[j]
                let x = b[s]
                let h = 1e-7 * max(abs(x), 1e-3)
                b[s] = x + h
                eval(b, derived, into: &r2)
                b[s] = x
                for i in 0..<n { jac[i * n + j] = (r2[i] - r[i]) / h }
            }
            var rhs = r
            guard Dense.solve(&jac, &rhs, n) else { failed = true; break }
            var step = 0.0
            for j in 0..<n {
                let s = unknownSlots[j]
                b[s] -= rhs[j]
                step = max(step, abs(rhs[j]) / max(abs(b[s]), 1e-12))
            }
            if step < 1e-13 { break }
        }
        for d in derived { b[d.slot] = d.eval(b) }
    }
}
