/// Sparse LU factorisation for a fixed sparsity pattern, for the stiff solver's iteration matrices
/// `W = c·I − J` of large systems.
///
/// - Ordering: minimum degree on the symmetrised pattern `A + Aᵀ` (fill-reducing).
/// - Symbolic factorisation once, giving the filled pattern of `L + U` row by row.
/// - Numeric factorisation in that fixed pattern (row-wise IKJ elimination with a dense work row),
///   pivoting on the (permuted) diagonal. A pivot that is zero, not finite, or below `1e-13` times the
///   largest entry of its row makes `factor()` return `false`; the Rosenbrock solver then halves the step
///   size, which makes `W` diagonally dominant, so static pivoting is safe for this use.
///
/// Not a general-purpose sparse solver: no threshold pivoting across rows.
final class SparseLU {
    let n: Int
    /// The input pattern as CSR (sorted, unique, always with the diagonal).
    let aRowStart: [Int]
    let aColumns: [Int]
    /// Elimination order: `order[k]` is the original index eliminated k-th; `position` is its inverse.
    let order: [Int]
    let position: [Int]
    /// Filled pattern (permuted indices), CSR with sorted columns; `diagonal[i]` indexes row i's pivot.
    private let rowStart: UnsafeMutablePointer<Int>
    private let columns: UnsafeMutablePointer<Int>
    private let diagonal: UnsafeMutablePointer<Int>
    /// Values of the filled pattern.
    let values: UnsafeMutablePointer<Double>
    /// For each input entry (in `aColumns` order), its index in `values`.
    let inputToValue: [Int]
    let filledCount: Int
    private let workRow: UnsafeMutablePointer<Double>
    private let workVector: UnsafeMutablePointer<Double>

    /// Builds the structure. `pattern` entries must be in `0..<n` (checked by the caller).
    init(dimension n: Int, pattern: [(row: Int, column: Int)]) {
        self.n = n
        // Input CSR with diagonal.
        var rows = [[Int]](repeating: [], count: n)
        for (r, c) in pattern { rows[r].append(c) }
        for i in 0..<n { rows[i].append(i) }
        var rs = [0]
        var cs: [Int] = []
        for i in 0..<n {
            let sorted = Array(Set(rows[i])).sorted()
            cs.append(contentsOf: sorted)
            rs.append(cs.count)
        }
        aRowStart = rs
        aColumns = cs

        // Minimum-degree ordering on A + Aᵀ.
        var adjacency = [Set<Int>](repeating: [], count: n)
        for i in 0..<n {
            for p in rs[i]..<rs[i + 1] where cs[p] != i {
                adjacency[i].insert(cs[p])
                adjacency[cs[p]].insert(i)
            }
        }
        var eliminated = [Bool](repeating: false, count: n)
        var ord: [Int] = []
        ord.reserveCapacity(n)
        for _ in 0..<n {
            var best = -1
            var bestDegree = Int.max
            for v in 0..<n where !eliminated[v] && adjacency[v].count < bestDegree {
                best = v
                bestDegree = adjacency[v].count
            }
            ord.append(best)
            eliminated[best] = true
            let neighbours = adjacency[best]
            for u in neighbours {
                adjacency[u].remove(best)
                for w in neighbours where w != u { adjacency[u].insert(w) }
            }
            adjacency[best] = []
        }
        order = ord
        var pos = [Int](repeating: 0, count: n)
        for (k, v) in ord.enumerated() { pos[v] = k }
        position = pos

        // Symbolic factorisation (rows in permuted order).
        var filledRows: [[Int]] = []
        filledRows.reserveCapacity(n)
        var mark = [Int](repeating: -1, count: n)
        var upperOf: [[Int]] = []   // columns > k of filled row k
        upperOf.reserveCapacity(n)
        for i in 0..<n {
            let original = ord[i]
            for p in rs[original]..<rs[original + 1] { mark[pos[cs[p]]] = i }
            mark[i] = i
            for k in 0..<i where mark[k] == i {
                for j in upperOf[k] { mark[j] = i }
            }
            var row: [Int] = []
            for j in 0..<n where mark[j] == i { row.append(j) }
            filledRows.append(row)
            upperOf.append(row.filter { $0 > i })
        }
        let total = filledRows.reduce(0) { $0 + $1.count }
        filledCount = total
        rowStart = .allocate(capacity: n + 1)
        columns = .allocate(capacity: Swift.max(total, 1))
        diagonal = .allocate(capacity: Swift.max(n, 1))
        values = .allocate(capacity: Swift.max(total, 1))
        values.initialize(repeating: 0, count: Swift.max(total, 1))
        var offset = 0
        for i in 0..<n {
            rowStart[i] = offset
            for j in filledRows[i] {
                if j == i { diagonal[i] = offset }
                columns[offset] = j
                offset += 1
            }
        }
        rowStart[n] = offset
        // Map input entries to filled positions.
        var map = [Int](repeating: 0, count: cs.count)
        for r in 0..<n {
            let pr = pos[r]
            for p in rs[r]..<rs[r + 1] {
                let pc = pos[cs[p]]
                var q = rowStart[pr]
                while columns[q] != pc { q += 1 }
                map[p] = q
            }
        }
        inputToValue = map
        workRow = .allocate(capacity: Swift.max(n, 1))
        workRow.initialize(repeating: 0, count: Swift.max(n, 1))
        workVector = .allocate(capacity: Swift.max(n, 1))
        workVector.initialize(repeating: 0, count: Swift.max(n, 1))
    }

    deinit {
        rowStart.deallocate()
        columns.deallocate()
        diagonal.deallocate()
        values.deallocate()
        workRow.deallocate()
        workVector.deallocate()
    }

    /// Loads `W = shift·I − J` where `jacobian` holds J's values in input-entry order (`aColumns`).
    func load(jacobian: UnsafePointer<Double>, shift: Double) {
        values.update(repeating: 0, count: filledCount)
        for r in 0..<n {
            for p in aRowStart[r]..<aRowStart[r + 1] {
                values[inputToValue[p]] = -jacobian[p] + (aColumns[p] == r ? shift : 0)
            }
        }
    }

    /// Factorises the loaded values in place. Returns `false` on a zero, tiny or non-finite pivot.
    func factor() -> Bool {
        let w = workRow
        for i in 0..<n {
            let start = rowStart[i], end = rowStart[i + 1], d = diagonal[i]
            var rowMax = 0.0
            for p in start..<end {
                w[columns[p]] = values[p]
                rowMax = Swift.max(rowMax, Swift.abs(values[p]))
            }
            for p in start..<d {
                let k = columns[p]
                let l = w[k] / values[diagonal[k]]
                w[k] = l
                if l != 0 {
                    for q in (diagonal[k] + 1)..<rowStart[k + 1] { w[columns[q]] -= l * values[q] }
                }
            }
            for p in start..<end { values[p] = w[columns[p]] }
            let pivot = values[d]
            guard pivot.isFinite, Swift.abs(pivot) > 1e-13 * rowMax, pivot != 0 else { return false }
        }
        return true
    }

    /// Solves `W x = b` in place with the factors.
    func solve(_ b: UnsafeMutablePointer<Double>) {
        let x = workVector
        for i in 0..<n { x[i] = b[order[i]] }
        for i in 0..<n {
            var s = x[i]
            for p in rowStart[i]..<diagonal[i] { s -= values[p] * x[columns[p]] }
            x[i] = s
        }
        var i = n - 1
        while i >= 0 {
            var s = x[i]
            let d = diagonal[i]
            for p in (d + 1)..<rowStart[i + 1] { s -= values[p] * x[columns[p]] }
            x[i] = s / values[d]
            i -= 1
        }
        for i in 0..<n { b[order[i]] = x[i] }
    }
}
