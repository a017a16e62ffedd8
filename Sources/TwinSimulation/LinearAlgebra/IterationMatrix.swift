/// The Jacobian of a system and the factorised iteration matrix `W = c·I − J` of the stiff solver,
/// on a dense or a sparse path.
///
/// Jacobians come, in order of preference, from the system's analytic sparse Jacobian (sparse path),
/// its analytic dense Jacobian, or finite differences (column by column on the dense path,
/// graph-coloured column groups on the sparse path, with increments `√(ε·max(1e-5, |y_j|))`).
final class IterationMatrix {
    let system: any ODESystem
    let n: Int
    let isSparse: Bool
    private var hasAnalyticDense = true
    private var hasAnalyticSparse = true

    // Dense path.
    private let dense: DenseLU?
    private let denseJacobian: UnsafeMutablePointer<Double>?

    // Sparse path.
    private let sparse: SparseLU?
    /// J's values in the order of the sparse input pattern (CSR of `sparse.aColumns`).
    private let sparseValues: UnsafeMutablePointer<Double>?
    /// Map from the system's `jacobianSparsity` pair index to input-entry index.
    private let pairToEntry: [Int]
    private let userValues: UnsafeMutablePointer<Double>?
    /// Column groups for coloured finite differences, and for each column its (row, entry) list.
    private let colorGroups: [[Int]]
    private let columnEntries: [[(row: Int, entry: Int)]]
    private var denseScratch: UnsafeMutablePointer<Double>?

    private let yWork: UnsafeMutablePointer<Double>
    private let fWork: UnsafeMutablePointer<Double>

    init(system: any ODESystem, choice: LinearSolverChoice) throws(SimulationError) {
        self.system = system
        let n = system.dimension
        self.n = n
        let pattern = system.jacobianSparsity
        if let pattern {
            for (r, c) in pattern where !(0..<n).contains(r) || !(0..<n).contains(c) {
                throw .invalid("jacobianSparsity has entry (\(r), \(c)) outside a \(n)×\(n) matrix", value: "(\(r), \(c))")
            }
        }
        switch choice {
        case .dense:
            isSparse = false
        case .sparse:
            guard pattern != nil else {
                throw .invalid("the sparse linear solver needs the system's jacobianSparsity", value: "nil")
            }
            isSparse = true
        case .automatic:
            if let pattern, n >= 48, Double(pattern.count + n) <= 0.3 * Double(n) * Double(n) { isSparse = true } else { isSparse = false }
        }
        yWork = .allocate(capacity: n)
        yWork.initialize(repeating: 0, count: n)
        fWork = .allocate(capacity: n)
        fWork.initialize(repeating: 0, count: n)
        if isSparse, let pattern {
            let lu = SparseLU(dimension: n, pattern: pattern)
            sparse = lu
            let entries = lu.aColumns.count
            let values = UnsafeMutablePointer<Double>.allocate(capacity: entries)
            values.initialize(repeating: 0, count: entries)
            sparseValues = values
            // entry index of (r, c)
            func entry(_ r: Int, _ c: Int) -> Int {
                var p = lu.aRowStart[r]
                while lu.aColumns[p] != c { p += 1 }
                return p
            }
            pairToEntry = pattern.map { entry($0.row, $0.column) }
            let user = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(pattern.count, 1))
            user.initialize(repeating: 0, count: Swift.max(pattern.count, 1))
            userValues = user
            // Column entries and greedy colouring (columns sharing a row get different colours).
            var colEntries = [[(row: Int, entry: Int)]](repeating: [], count: n)
            for r in 0..<n {
                for p in lu.aRowStart[r]..<lu.aRowStart[r + 1] { colEntries[lu.aColumns[p]].append((r, p)) }
            }
            columnEntries = colEntries
            var color = [Int](repeating: -1, count: n)
            var forbiddenStamp = [Int](repeating: -1, count: n + 1)
            var groups: [[Int]] = []
            for c in 0..<n {
                for (r, _) in colEntries[c] {
                    for p in lu.aRowStart[r]..<lu.aRowStart[r + 1] {
                        let other = lu.aColumns[p]
                        if color[other] >= 0 { forbiddenStamp[color[other]] = c }
                    }
                }
                var k = 0
                while forbiddenStamp[k] == c { k += 1 }
                color[c] = k
                if k == groups.count { groups.append([]) }
                groups[k].append(c)
            }
            colorGroups = groups
            dense = nil
            denseJacobian = nil
        } else {
            sparse = nil
            sparseValues = nil
            pairToEntry = []
            userValues = nil
            colorGroups = []
            columnEntries = []
            dense = DenseLU(dimension: n)
            let j = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
            j.initialize(repeating: 0, count: n * n)
            denseJacobian = j
        }
    }

    deinit {
        yWork.deallocate()
        fWork.deallocate()
        denseJacobian?.deallocate()
        sparseValues?.deallocate()
        userValues?.deallocate()
        denseScratch?.deallocate()
    }

    /// Number of colour groups (f-evaluations per finite-difference Jacobian on the sparse path).
    var colorCount: Int { colorGroups.count }

    @inline(__always)
    private func f(_ t: Double, _ y: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        system.derivatives(t: t, y: UnsafeBufferPointer(start: y, count: n), dy: UnsafeMutableBufferPointer(start: out, count: n))
    }

    /// Finite-difference increment for column `j` (the rule of CVODE's dense difference quotient):
    /// `max(√ε·|y_j|, minInc / w_j)` with error weights `w_j = 1/(rtol·|y_j| + atol_j)` and
    /// `minInc = 1000·|h|·ε·n·‖f0‖_w` (or 1 when `f0` vanishes).
    @inline(__always)
    private func increment(_ j: Int, _ y: UnsafePointer<Double>, minInc: Double, weights: Weights) -> Double {
        let w = 1.0 / (weights.rtol * Swift.abs(y[j]) + weights.atol[j])
        return Swift.max(Double.ulpOfOne.squareRoot() * Swift.abs(y[j]), minInc / w)
    }

    struct Weights {
        let rtol: Double
        let atol: UnsafePointer<Double>
    }

    private func minimumIncrement(_ y: UnsafePointer<Double>, _ f0: UnsafePointer<Double>, h: Double, weights: Weights) -> Double {
        var sum = 0.0
        for i in 0..<n {
            let w = 1.0 / (weights.rtol * Swift.abs(y[i]) + weights.atol[i])
            sum += (f0[i] * w) * (f0[i] * w)
        }
        let norm = (sum / Double(n)).squareRoot()
        let value = norm > 0 && norm.isFinite ? 1000 * Swift.abs(h) * Double.ulpOfOne * Double(n) * norm : 1.0
        return value > 0 ? value : 1.0
    }

    /// Evaluates J at `(t, y)`; `f0 = f(t, y)`; `h` is the step size about to be tried (scales the
    /// finite-difference increments). Returns the number of f-evaluations used.
    func evaluateJacobian(t: Double, y: UnsafePointer<Double>, f0: UnsafePointer<Double>, h: Double, weights: Weights) -> Int {
        let yb = UnsafeBufferPointer(start: y, count: n)
        if let sparse, let values = sparseValues {
            if hasAnalyticSparse, let user = userValues {
                if system.sparseJacobian(t: t, y: yb, values: UnsafeMutableBufferPointer(start: user, count: pairToEntry.count)) {
                    values.update(repeating: 0, count: sparse.aColumns.count)
                    for (k, e) in pairToEntry.enumerated() { values[e] += user[k] }
                    return 0
                }
                hasAnalyticSparse = false
            }
            if hasAnalyticDense {
                if denseScratch == nil {
                    denseScratch = .allocate(capacity: n * n)
                }
                let scratch = denseScratch!
                scratch.update(repeating: 0, count: n * n)
                if system.jacobian(t: t, y: yb, into: UnsafeMutableBufferPointer(start: scratch, count: n * n)) {
                    for r in 0..<n {
                        for p in sparse.aRowStart[r]..<sparse.aRowStart[r + 1] { values[p] = scratch[r * n + sparse.aColumns[p]] }
                    }
                    return 0
                }
                hasAnalyticDense = false
                denseScratch?.deallocate()
                denseScratch = nil
            }
            // Coloured finite differences.
            for i in 0..<n { yWork[i] = y[i] }
            let minInc = minimumIncrement(y, f0, h: h, weights: weights)
            for group in colorGroups {
                for c in group {
                    yWork[c] = y[c] + increment(c, y, minInc: minInc, weights: weights)
                }
                f(t, yWork, fWork)
                for c in group {
                    let delta = yWork[c] - y[c]
                    for (r, e) in columnEntries[c] { values[e] = (fWork[r] - f0[r]) / delta }
                    yWork[c] = y[c]
                }
            }
            return colorGroups.count
        }
        let j = denseJacobian!
        if hasAnalyticDense {
            if system.jacobian(t: t, y: yb, into: UnsafeMutableBufferPointer(start: j, count: n * n)) { return 0 }
            hasAnalyticDense = false
        }
        for i in 0..<n { yWork[i] = y[i] }
        let minInc = minimumIncrement(y, f0, h: h, weights: weights)
        for c in 0..<n {
            yWork[c] = y[c] + increment(c, y, minInc: minInc, weights: weights)
            let actual = yWork[c] - y[c]
            f(t, yWork, fWork)
            for r in 0..<n { j[r * n + c] = (fWork[r] - f0[r]) / actual }
            yWork[c] = y[c]
        }
        return n
    }

    /// `‖J‖∞` (maximum absolute row sum) of the last evaluated Jacobian: an upper bound of its spectral radius.
    func normInf() -> Double {
        var norm = 0.0
        if let sparse, let values = sparseValues {
            for r in 0..<n {
                var row = 0.0
                for p in sparse.aRowStart[r]..<sparse.aRowStart[r + 1] { row += Swift.abs(values[p]) }
                norm = Swift.max(norm, row)
            }
            return norm
        }
        let j = denseJacobian!
        for r in 0..<n {
            var row = 0.0
            for c in 0..<n { row += Swift.abs(j[r * n + c]) }
            norm = Swift.max(norm, row)
        }
        return norm
    }

    /// The row (equation) of the first non-finite Jacobian entry, or nil.
    func firstNonFiniteRow() -> Int? {
        if let sparse, let values = sparseValues {
            for r in 0..<n {
                for p in sparse.aRowStart[r]..<sparse.aRowStart[r + 1] where !values[p].isFinite { return r }
            }
            return nil
        }
        let j = denseJacobian!
        for k in 0..<(n * n) where !j[k].isFinite { return k / n }
        return nil
    }

    /// Forms and factorises `W = shift·I − J`. Returns `false` if W is singular to working precision.
    func factor(shift: Double) -> Bool {
        if let sparse, let values = sparseValues {
            sparse.load(jacobian: values, shift: shift)
            return sparse.factor()
        }
        let lu = dense!, j = denseJacobian!
        let a = lu.a
        for k in 0..<(n * n) { a[k] = -j[k] }
        for i in 0..<n { a[i * n + i] += shift }
        return lu.factor()
    }

    /// Solves `W x = b` in place.
    @inline(__always)
    func solve(_ b: UnsafeMutablePointer<Double>) {
        if let sparse { sparse.solve(b) } else { dense!.solve(b) }
    }
}
