import TwinSimulation

#if canImport(Glibc)
import Glibc
#endif
/// Fast reactions as rapid equilibrium: each fast reaction's rate law is held at zero. The slow dynamics
/// are corrected by fast fluxes `φ` chosen so that the constraints stay satisfied,
/// `(J N_f) φ = -J f_slow` with `J = ∂v_fast/∂n` (finite differences) and `N_f` the fast stoichiometry;
/// at the start and after every event the state is projected onto `v_fast = 0` by Newton's method
/// along the fast reactions' directions (which keeps every conserved moiety of the fast subsystem).
final class FastSubsystem {
    let fluxSlots: [Int]
    /// For each fast reaction: the state indices it changes with their stoichiometric coefficients.
    let columns: [[(state: Int, coefficient: Eval)]]
    let names: [String]

    init(fluxSlots: [Int], columns: [[(state: Int, coefficient: Eval)]], names: [String]) {
        self.fluxSlots = fluxSlots
        self.columns = columns
        self.names = names
    }

    /// The fast stoichiometry at the current values: N[k][l].
    private func stoichiometry(_ b: UnsafeMutablePointer<Double>, states: Int) -> [[Double]] {
        var n = [[Double]](repeating: [Double](repeating: 0, count: columns.count), count: states)
        for (l, col) in columns.enumerated() {
            for (k, c) in col { n[k][l] += c(b) }
        }
        return n
    }

    /// Adds the fast fluxes to `dy` (slow rates) at the state `y`, already loaded into the model's values.
    func correct(model m: CompiledModel, t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let n = y.count, nf = columns.count
        let b = m.values
        let nmat = stoichiometry(b, states: n)
        var v0 = [Double](repeating: 0, count: nf)
        for j in 0..<nf { v0[j] = b[fluxSlots[j]] }
        // J N_f and J dy, column by column through directional differences (nf + 1 evaluations).
        var yp = Array(y)
        func directional(_ dir: [Double]) -> [Double] {
            var scale = 0.0, norm = 0.0
            for k in 0..<n { scale = max(scale, abs(y[k])); norm = max(norm, abs(dir[k])) }
            if norm == 0 { return [Double](repeating: 0, count: nf) }
            let h = 1.5e-8 * max(scale, 1e-12) / norm
            for k in 0..<n { yp[k] = y[k] + h * dir[k] }
            yp.withUnsafeBufferPointer { m.load(t: t, y: $0) }
            var out = [Double](repeating: 0, count: nf)
            for j in 0..<nf { out[j] = (b[fluxSlots[j]] - v0[j]) / h }
            return out
        }
        var a = [Double](repeating: 0, count: nf * nf)
        for l in 0..<nf {
            let col = directional((0..<n).map { nmat[$0][l] })
            for j in 0..<nf { a[j * nf + l] = col[j] }
        }
        var rhs = directional((0..<n).map { dy[$0] }).map { -$0 }
        m.load(t: t, y: y)
        guard Dense.solve(&a, &rhs, nf) else { return }
        for k in 0..<n {
            var s = 0.0
            for l in 0..<nf { s += nmat[k][l] * rhs[l] }
            dy[k] += s
        }
    }

    /// Moves the state along the fast reactions until every fast rate is zero. Returns false if Newton's
    /// method does not converge.
    @discardableResult
    func project(model m: CompiledModel, t: Double, y: inout [Double]) -> Bool {
        let n = y.count, nf = columns.count
        let b = m.values
        y.withUnsafeBufferPointer { m.load(t: t, y: $0) }
        let nmat = stoichiometry(b, states: n)
        var xi = [Double](repeating: 0, count: nf)
        let y0 = y
        var scale = 1e-12
        for k in 0..<n { scale = max(scale, abs(y0[k])) }
        func residual(_ x: [Double]) -> [Double] {
            var yy = y0
            for k in 0..<n { for l in 0..<nf { yy[k] += nmat[k][l] * x[l] } }
            yy.withUnsafeBufferPointer { m.load(t: t, y: $0) }
            return (0..<nf).map { b[fluxSlots[$0]] }
        }
        func jacobian(_ x: [Double], _ r: [Double]) -> [Double] {
            var a = [Double](repeating: 0, count: nf * nf)
            for l in 0..<nf {
                var xp = x
                let h = 1.5e-8 * max(abs(x[l]), scale)
                xp[l] += h
                let rp = residual(xp)
                for j in 0..<nf { a[j * nf + l] = (rp[j] - r[j]) / h }
            }
            return a
        }
        // The fast reactions run (in a pseudo-time τ, dξ/dτ = v(ξ)) to the equilibrium they reach from
        // here: pseudo-transient continuation, linearly implicit Euler steps whose τ-step grows as the
        // rates fall (it becomes Newton's method near the equilibrium). Newton alone from ξ = 0 can land
        // on an equilibrium the reactions cannot reach, or stall where ∂v/∂ξ is singular.
        var r = residual(xi)
        var norm = r.reduce(0) { max($0, abs($1)) }
        if norm > 0 && norm.isFinite {
            var dt = 1e-3 * scale / norm
            for _ in 0..<2000 {
                let jac = jacobian(xi, r)
                var a = [Double](repeating: 0, count: nf * nf)
                for j in 0..<nf { for l in 0..<nf { a[j * nf + l] = (j == l ? 1 : 0) - dt * jac[j * nf + l] } }
                var d = r.map { dt * $0 }
                guard Dense.solve(&a, &d, nf) else { dt *= 0.5; continue }
                var trial = xi
                for l in 0..<nf { trial[l] += d[l] }
                let rt = residual(trial)
                let nt = rt.reduce(0) { max($0, abs($1)) }
                // Rates may rise on the way (v = k·a·b grows while a and b even out), but not explode.
                guard nt.isFinite, nt <= 10 * norm + 1e-300 else { dt *= 0.25; continue }
                xi = trial
                r = rt
                let step = d.reduce(0) { max($0, abs($1)) }
                if nt == 0 || step <= 1e-14 * scale { break }
                dt = min(dt * max(1.5, min(1e3, norm / nt)), 1e300)
                norm = nt
            }
        }
        var converged = false
        for _ in 0..<100 {
            let r = residual(xi)
            if r.allSatisfy({ $0 == 0 }) { converged = true; break }
            var a = [Double](repeating: 0, count: nf * nf)
            for l in 0..<nf {
                var xp = xi
                let h = 1.5e-8 * max(abs(xi[l]), scale)
                xp[l] += h
                let rp = residual(xp)
                for j in 0..<nf { a[j * nf + l] = (rp[j] - r[j]) / h }
            }
            var d = r
            guard Dense.solve(&a, &d, nf) else { break }
            var step = 0.0
            for l in 0..<nf { xi[l] -= d[l]; step = max(step, abs(d[l])) }
            if step <= 1e-15 * scale { converged = true; break }
        }
        var yy = y0
        for k in 0..<n { for l in 0..<nf { yy[k] += nmat[k][l] * xi[l] } }
        y = yy
        y.withUnsafeBufferPointer { m.load(t: t, y: $0) }
        return converged
    }
}
