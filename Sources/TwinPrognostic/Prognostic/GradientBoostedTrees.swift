import TwinSimulation

/// Gradient-boosted regression trees for squared error: each round fits a tree of depth at most ``maxDepth`` to the
/// residuals of a seeded subsample of rows (leaves of at least ``minLeaf`` rows, splits at up to 32 quantile
/// thresholds per feature) and adds it scaled by the learning rate. Deterministic: the same rows, settings and
/// seed give the same trees.
public struct GradientBoostedTrees: Sendable, Hashable, Codable {
    /// A tree in arrays: node i is a leaf when `feature[i] == -1` (its value `value[i]`), else rows with
    /// `x[feature] <= threshold` go to `left[i]`, the others to `right[i]`.
    public struct Tree: Sendable, Hashable, Codable {
        public var feature: [Int] = []
        public var threshold: [Double] = []
        public var left: [Int] = []
        public var right: [Int] = []
        public var value: [Double] = []

        func predict(_ row: [Double]) -> Double {
            var i = 0
            while feature[i] >= 0 { i = row[feature[i]] <= threshold[i] ? left[i] : right[i] }
            return value[i]
        }
    }

    public var base: Double
    public var learningRate: Double
    public var maxDepth: Int
    public var minLeaf: Int
    public var subsample: Double
    public var seed: UInt64
    public var trees: [Tree]

    public func predict(_ row: [Double]) -> Double {
        trees.reduce(base) { $0 + learningRate * $1.predict(row) }
    }

    /// Fits `rounds` trees.
    /// - Throws: ``PrognosticError`` `tooFewData` with fewer than 2 × `minLeaf` rows.
    public static func fit(_ x: [[Double]], _ y: [Double], rounds: Int = 200, learningRate: Double = 0.05, maxDepth: Int = 3,
                           minLeaf: Int = 5, subsample: Double = 0.8, seed: UInt64) throws -> GradientBoostedTrees {
        guard x.count == y.count, x.count >= 2 * minLeaf else {
            throw PrognosticError(.tooFewData, "gradient boosting needs at least \(2 * minLeaf) examples, not \(x.count)", value: "\(x.count)")
        }
        let base = y.reduce(0, +) / Double(y.count)
        var model = GradientBoostedTrees(base: base, learningRate: learningRate, maxDepth: maxDepth, minLeaf: minLeaf,
                                         subsample: subsample, seed: seed, trees: [])
        let p = x[0].count
        // candidate thresholds per feature: midpoints between up to 33 quantiles of its distinct values
        let thresholds: [[Double]] = (0..<p).map { j in
            let distinct = Array(Set(x.map { $0[j] })).sorted()
            guard distinct.count > 1 else { return [] }
            let steps = min(distinct.count - 1, 32)
            return Array(Set((1...steps).map { s -> Double in
                let k = s * (distinct.count - 1) / steps
                return (distinct[k - 1] + distinct[k]) / 2
            })).sorted()
        }
        var prediction = [Double](repeating: base, count: y.count)
        var rng = Xoshiro256StarStar(seed: seed)
        for _ in 0..<rounds {
            let residual = zip(y, prediction).map { $0 - $1 }
            var rows = (0..<y.count).filter { _ in rng.uniform() < subsample }
            if rows.count < 2 * minLeaf { rows = Array(0..<y.count) }
            var tree = Tree()
            grow(&tree, rows: rows, depth: 0, x: x, r: residual, thresholds: thresholds, maxDepth: maxDepth, minLeaf: minLeaf)
            for i in y.indices { prediction[i] += learningRate * tree.predict(x[i]) }
            model.trees.append(tree)
        }
        return model
    }

    @discardableResult
    private static func grow(_ tree: inout Tree, rows: [Int], depth: Int, x: [[Double]], r: [Double], thresholds: [[Double]],
                             maxDepth: Int, minLeaf: Int) -> Int {
        let node = tree.feature.count
        let mean = rows.reduce(0) { $0 + r[$1] } / Double(rows.count)
        tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1); tree.value.append(mean)
        guard depth < maxDepth, rows.count >= 2 * minLeaf else { return node }
        let total = rows.reduce(0) { $0 + r[$1] }
        var best: (gain: Double, feature: Int, threshold: Double)?
        for j in thresholds.indices where !thresholds[j].isEmpty {
            let sorted = rows.sorted { x[$0][j] < x[$1][j] }
            var k = 0, leftSum = 0.0
            for t in thresholds[j] {
                while k < sorted.count && x[sorted[k]][j] <= t { leftSum += r[sorted[k]]; k += 1 }
                let nl = k, nr = sorted.count - k
                guard nl >= minLeaf, nr >= minLeaf else { continue }
                let rightSum = total - leftSum
                // reduction of the sum of squares: Σ_L²/n_L + Σ_R²/n_R − Σ²/n
                let gain = leftSum * leftSum / Double(nl) + rightSum * rightSum / Double(nr) - total * total / Double(sorted.count)
                if gain > (best?.gain ?? 1e-12) { best = (gain, j, t) }
            }
        }
        guard let best else { return node }
        let leftRows = rows.filter { x[$0][best.feature] <= best.threshold }
        let rightRows = rows.filter { x[$0][best.feature] > best.threshold }
        tree.feature[node] = best.feature
        tree.threshold[node] = best.threshold
        let l = grow(&tree, rows: leftRows, depth: depth + 1, x: x, r: r, thresholds: thresholds, maxDepth: maxDepth, minLeaf: minLeaf)
        tree.left[node] = l
        let rr = grow(&tree, rows: rightRows, depth: depth + 1, x: x, r: r, thresholds: thresholds, maxDepth: maxDepth, minLeaf: minLeaf)
        tree.right[node] = rr
        return node
    }
}
