import TwinSimulation
import Foundation

/// A bootstrap particle filter with systematic resampling.
///
/// - predict: each particle is propagated through the process and perturbed by `w ~ N(0, Q)`;
/// - update: weights are multiplied by the Gaussian likelihood `N(z; h(x), R)` (in the log domain, so
///   sharp likelihoods do not underflow), normalised, and when the effective sample size `1 / Σ wᵢ²`
///   falls below `resamplingThreshold × count` the particles are resampled systematically (one uniform
///   draw, `count` evenly spaced positions) and the weights reset to `1 / count`.
///
/// An observation that no particle can explain (see ``divergenceDistance``) throws rather than collapsing.
/// Mean and covariance are the weighted sample statistics. All draws come from the seeded generator.
/// The process may vectorise the ensemble step (see ``ProcessModel/propagate(ensemble:count:from:over:)``).
public struct ParticleFilter<Process: ProcessModel>: SequentialFilter {
    public let process: Process
    public private(set) var time: Double
    /// The particles, one after another (`count × n`).
    public private(set) var particles: [Double]
    /// Normalised weights.
    public private(set) var weights: [Double]
    public let count: Int
    public let resamplingThreshold: Double
    /// An observation farther than this many noise standard deviations (Mahalanobis distance) from every
    /// particle is an error (``SyncError/Code-swift.struct/diverged``) instead of a silent collapse onto
    /// one particle.
    public var divergenceDistance: Double = 100
    public private(set) var resets: [CovarianceReset] = []
    public var policy: CovariancePolicy
    public private(set) var random: Xoshiro256StarStar
    /// How many times the particles were resampled.
    public private(set) var resampleCount = 0
    public var stateNames: [String] { process.stateNames }
    private var noiseFactor: [Double] = []
    private var noiseFactorInterval = Double.nan
    private var noiseIsDiagonal = true
    private var scratch: [Double] = []

    public init(process: Process, time: Double, mean: [Double], covariance: [Double], count: Int, seed: UInt64,
                resamplingThreshold: Double = 0.5, policy: CovariancePolicy = .standard) throws {
        let n = process.dimension
        try validateInitial(mean: mean, covariance: covariance, dimension: n, names: process.stateNames)
        guard count >= 1 else { throw SyncError(.invalidArgument, "a particle filter needs at least 1 particle.", value: String(count)) }
        guard resamplingThreshold >= 0, resamplingThreshold <= 1 else {
            throw SyncError(.invalidArgument, "the resampling threshold is a fraction of the particle count in [0, 1].", value: String(resamplingThreshold))
        }
        guard time.isFinite else { throw SyncError(.invalidTime, "initial time is not finite.", value: String(time)) }
        self.process = process
        self.time = time
        self.count = count
        self.resamplingThreshold = resamplingThreshold
        self.policy = policy
        var rng = Xoshiro256StarStar(seed: seed)
        var parts = [Double](repeating: 0, count: count * n)
        var p = covariance
        var resets: [CovarianceReset] = []
        try sampleGaussian(mean: mean, covariance: &p, count: count, into: &parts, rng: &rng, policy: policy, time: time,
                           names: process.stateNames, what: "initial covariance", resets: &resets)
        self.particles = parts
        self.weights = [Double](repeating: 1 / Double(count), count: count)
        self.random = rng
        self.resets = resets
        self.scratch = [Double](repeating: 0, count: count * n)
    }

    public var mean: [Double] {
        let n = process.dimension
        var m = [Double](repeating: 0, count: n)
        for i in 0..<count { for j in 0..<n { m[j] += weights[i] * particles[i * n + j] } }
        return m
    }

    public var covariance: [Double] {
        let n = process.dimension
        let m = mean
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<count {
            for a in 0..<n {
                let da = weights[i] * (particles[i * n + a] - m[a])
                for b in 0..<n { p[a * n + b] += da * (particles[i * n + b] - m[b]) }
            }
        }
        return p
    }

    /// The effective sample size `1 / Σ wᵢ²`.
    public var effectiveSampleSize: Double {
        var s = 0.0
        for w in weights { s += w * w }
        return 1 / s
    }

    public mutating func predict(to newTime: Double) throws {
        let dt = try validatePrediction(from: time, to: newTime)
        if dt == 0 { return }
        let n = process.dimension, N = count
        let names = process.stateNames
        if !(noiseFactorInterval == dt) {
            var q = [Double](repeating: 0, count: n * n)
            q.withUnsafeMutableBufferPointer { process.noiseCovariance(over: dt, into: $0) }
            var diag = true
            for i in 0..<n { for j in 0..<n where i != j && q[i * n + j] != 0 { diag = false } }
            var l = [Double](repeating: 0, count: n * n)
            if diag {
                for i in 0..<n {
                    guard q[i * n + i] >= 0 else {
                        throw SyncError(.notPositiveDefinite, "process noise variance of '\(names[i])' is negative.", value: String(q[i * n + i]))
                    }
                    l[i * n + i] = q[i * n + i].squareRoot()
                }
            } else {
                try q.withUnsafeMutableBufferPointer { qb in
                    try l.withUnsafeMutableBufferPointer { lb in
                        try policy.factor(qb.baseAddress!, into: lb.baseAddress!, n, time: newTime, names: names, what: "process noise covariance", resets: &resets)
                    }
                }
            }
            noiseFactor = l; noiseIsDiagonal = diag; noiseFactorInterval = dt
        }
        var parts = particles; particles = []
        var rng = random
        defer { particles = parts; random = rng }
        let t0 = time
        try parts.withUnsafeMutableBufferPointer { pb in
            try process.propagate(ensemble: pb, count: N, from: t0, over: dt)
            noiseFactor.withUnsafeBufferPointer { lb in
                if noiseIsDiagonal {
                    for i in 0..<N { for j in 0..<n { pb[i * n + j] += lb[j * n + j] * rng.normal() } }
                } else {
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { e in
                        for i in 0..<N {
                            for j in 0..<n { e[j] = rng.normal() }
                            for a in 0..<n {
                                var d = 0.0
                                for b in 0...a { d += lb[a * n + b] * e[b] }
                                pb[i * n + a] += d
                            }
                        }
                    }
                }
            }
            try checkFinite(pb.baseAddress!, N * n, names: names, time: newTime, what: "particle")
        }
        time = newTime
    }

    public mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws {
        let selected = try observation.selectedOutputs(for: model)
        if selected.isEmpty { return }
        let n = process.dimension, m = model.outputCount, k = selected.count, N = count
        var parts = particles; particles = []
        var w = weights; weights = []
        var spare = scratch; scratch = []
        var rng = random
        var resampled = false
        defer { particles = parts; weights = w; scratch = spare; random = rng; if resampled { resampleCount += 1 } }
        let t = time
        let allOut = model.outputNames
        let outNames = k == m ? allOut : selected.map { allOut[$0] }
        let policy = self.policy
        var resets = self.resets; self.resets = []
        defer { self.resets = resets }
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: m + m * m + 2 * k * k + 2 * k) { ws in
            let z = ws.baseAddress!, rfull = z + m, r = rfull + m * m, l = r + k * k, y = l + k * k, zsel = y + k
            model.noiseCovariance(time: t, into: UnsafeMutableBufferPointer(start: rfull, count: m * m))
            for (a, oa) in selected.enumerated() {
                zsel[a] = observation.values[oa]
                for (b, ob) in selected.enumerated() { r[a * k + b] = rfull[oa * m + ob] }
            }
            try policy.factor(r, into: l, k, time: t, names: outNames, what: "observation noise covariance", resets: &resets)
            try parts.withUnsafeMutableBufferPointer { pb in
                try w.withUnsafeMutableBufferPointer { wb in
                    let zb = UnsafeMutableBufferPointer(start: z, count: m)
                    var maxLog = -Double.infinity
                    var minDistance = Double.infinity
                    // store log-likelihoods in wb temporarily as log w + ll
                    for i in 0..<N {
                        model.observe(UnsafeBufferPointer(start: pb.baseAddress! + i * n, count: n), time: t, into: zb)
                        // y = L⁻¹ (z − h)
                        var d2 = 0.0
                        for a in 0..<k {
                            var s = zsel[a] - z[selected[a]]
                            for b in 0..<a { s -= l[a * k + b] * y[b] }
                            let v = s / l[a * k + a]
                            y[a] = v
                            d2 += v * v
                        }
                        if d2 < minDistance { minDistance = d2 }
                        let lw = log(wb[i]) - 0.5 * d2
                        wb[i] = lw
                        if lw > maxLog { maxLog = lw }
                    }
                    guard maxLog.isFinite, minDistance <= divergenceDistance * divergenceDistance else {
                        throw SyncError(.diverged, "every particle is more than \(divergenceDistance) noise standard deviations from the observation of '\(outNames[0])' at t = \(t); the particle filter has lost track.",
                                        value: String(observation.values[selected[0]]))
                    }
                    var total = 0.0
                    for i in 0..<N { let e = exp(wb[i] - maxLog); wb[i] = e; total += e }
                    var sumSq = 0.0
                    let inv = 1 / total
                    for i in 0..<N { wb[i] *= inv; sumSq += wb[i] * wb[i] }
                    if 1 / sumSq < resamplingThreshold * Double(N) {
                        spare.withUnsafeMutableBufferPointer { sb in
                            let u0 = rng.uniform()
                            var cum = wb[0]
                            var j = 0
                            let step = 1 / Double(N)
                            for i in 0..<N {
                                let pos = (u0 + Double(i)) * step
                                while cum < pos && j < N - 1 { j += 1; cum += wb[j] }
                                for c in 0..<n { sb[i * n + c] = pb[j * n + c] }
                            }
                        }
                        for i in 0..<N { wb[i] = 1 / Double(N) }
                        resampled = true
                    }
                }
            }
        }
        if resampled { swap(&parts, &spare) }
    }
}
