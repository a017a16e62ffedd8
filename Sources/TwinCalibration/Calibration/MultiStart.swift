import TwinSimulation

/// Multi-start optimisation: Levenberg–Marquardt from a seeded Latin-hypercube design of starts inside
/// the bounds (plus any given starts), keeping every local optimum found.
///
/// The same seed gives the same starts. Starts whose objective cannot be evaluated are recorded as
/// failures rather than aborting the run; it is an error only if every start fails.
public struct MultiStart: Sendable {
    public var starts: Int
    public var seed: UInt64
    public var optimizer: LevenbergMarquardt

    public init(starts: Int = 10, seed: UInt64 = 1, optimizer: LevenbergMarquardt = LevenbergMarquardt()) {
        self.starts = starts
        self.seed = seed
        self.optimizer = optimizer
    }

    public struct Result: Sendable {
        /// Every converged or stopped local fit, best (smallest sum of squares) first.
        public let fits: [LeastSquaresFit]
        /// Start points whose optimisation failed, with the reason.
        public let failures: [(start: [Double], reason: String)]
        public var best: LeastSquaresFit { fits[0] }
    }

    /// `count` points of a Latin hypercube in the box, seeded.
    public static func latinHypercube(count: Int, lower: [Double], upper: [Double], seed: UInt64) -> [[Double]] {
        var rng = Xoshiro256StarStar(seed: seed)
        let p = lower.count
        var points = [[Double]](repeating: [Double](repeating: 0, count: p), count: count)
        for d in 0..<p {
            var strata = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                strata.swapAt(i, j)
            }
            for i in 0..<count {
                let u = (Double(strata[i]) + rng.uniform()) / Double(count)
                points[i][d] = lower[d] + u * (upper[d] - lower[d])
            }
        }
        return points
    }

    public func minimize(_ problem: LeastSquaresProblem, additionalStarts: [[Double]] = []) throws -> Result {
        guard starts >= 0, starts + additionalStarts.count >= 1 else {
            throw CalibrationError(.invalidArgument, "multi-start needs at least one start.", value: String(starts))
        }
        if starts > 0 {
            for i in 0..<problem.parameterCount where !(problem.lower[i].isFinite && problem.upper[i].isFinite) {
                throw CalibrationError(.invalidBounds, "sampled starts need finite bounds; '\(problem.names[i])' has [\(problem.lower[i]), \(problem.upper[i])].",
                                value: problem.names[i])
            }
        }
        let design = additionalStarts + (starts > 0 ? Self.latinHypercube(count: starts, lower: problem.lower, upper: problem.upper, seed: seed) : [])
        var fits: [LeastSquaresFit] = []
        var failures: [(start: [Double], reason: String)] = []
        for s in design {
            do { fits.append(try optimizer.minimize(problem, from: s)) } catch { failures.append((s, "\(error)")) }
        }
        guard !fits.isEmpty else {
            throw CalibrationError(.calibrationFailed, "every one of \(design.count) starts failed; first failure: \(failures.first?.reason ?? "?")")
        }
        fits.sort { $0.sumOfSquares < $1.sumOfSquares }
        return Result(fits: fits, failures: failures)
    }
}
