import TwinSimulation

/// The stochastic ensemble Kalman filter with perturbed observations (Evensen 2003; as filterpy's
/// `EnsembleKalmanFilter`).
///
/// - predict: each member is propagated through the process (members are split into chunks integrated
///   in parallel in a task group), then perturbed by `w ~ N(0, Q)`;
/// - update: `K = Pxz (Pzz + R)⁻¹` from ensemble (co)variances with `N − 1` in the denominator; member
///   `i` moves by `K (z + vᵢ − h(xᵢ))` with `vᵢ ~ N(0, R)`.
///
/// The mean and covariance are sample statistics of the members. Draws come from a seeded generator, so
/// a run is reproducible from its seed.
public struct EnsembleKalmanFilter<Process: ProcessModel>: SequentialFilter {
    public let process: Process
    public private(set) var time: Double
    /// The members, one after another (`count × n`).
    public private(set) var members: [Double]
    public let count: Int
    public private(set) var resets: [CovarianceReset] = []
    public var policy: CovariancePolicy
    /// How many chunks are integrated concurrently during predict.
    public var concurrency: Int
    public private(set) var random: Xoshiro256StarStar
    public var stateNames: [String] { process.stateNames }

    /// Draws `count` members from `N(mean, covariance)`.
    public init(process: Process, time: Double, mean: [Double], covariance: [Double], count: Int, seed: UInt64,
                concurrency: Int = 2, policy: CovariancePolicy = .standard) throws {
        let n = process.dimension
        try validateInitial(mean: mean, covariance: covariance, dimension: n, names: process.stateNames)
        guard count >= 2 else { throw SyncError(.invalidArgument, "an ensemble needs at least 2 members.", value: String(count)) }
        guard time.isFinite else { throw SyncError(.invalidTime, "initial time is not finite.", value: String(time)) }
        self.process = process
        self.time = time
        self.count = count
        self.policy = policy
        self.concurrency = max(1, concurrency)
        var rng = Xoshiro256StarStar(seed: seed)
        var members = [Double](repeating: 0, count: count * n)
        var p = covariance
        var resets: [CovarianceReset] = []
        try sampleGaussian(mean: mean, covariance: &p, count: count, into: &members, rng: &rng, policy: policy, time: time,
                           names: process.stateNames, what: "initial covariance", resets: &resets)
        self.members = members
        self.random = rng
        self.resets = resets
    }

    public var mean: [Double] { ensembleMean(members, count: count, dimension: process.dimension) }
    public var covariance: [Double] { ensembleCovariance(members, count: count, dimension: process.dimension) }

    public mutating func predict(to newTime: Double) async throws {
        let dt = try validatePrediction(from: time, to: newTime)
        if dt == 0 { return }
        let n = process.dimension
        let t0 = time
        members = try await propagateInParallel(process, members: members, count: count, dimension: n, from: t0, over: dt, chunks: concurrency)
        var q = [Double](repeating: 0, count: n * n)
        q.withUnsafeMutableBufferPointer { process.noiseCovariance(from: t0, over: dt, into: $0) }
        if q.contains(where: { $0 != 0 }) {
            var noise = [Double](repeating: 0, count: count * n)
            try sampleGaussian(mean: [Double](repeating: 0, count: n), covariance: &q, count: count, into: &noise, rng: &random,
                               policy: policy, time: newTime, names: process.stateNames, what: "process noise covariance", resets: &resets)
            for i in members.indices { members[i] += noise[i] }
        }
        try members.withUnsafeBufferPointer { try checkFinite($0.baseAddress!, count * n, names: process.stateNames, time: newTime, what: "ensemble member") }
        time = newTime
    }

    public mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws {
        let selected = try observation.selectedOutputs(for: model)
        if selected.isEmpty { return }
        let n = process.dimension, m = model.outputCount, k = selected.count, N = count
        let allOut = model.outputNames
        let outNames = selected.map { allOut[$0] }
        var hx = [Double](repeating: 0, count: N * k)
        var zfull = [Double](repeating: 0, count: m)
        members.withUnsafeBufferPointer { mb in
            zfull.withUnsafeMutableBufferPointer { zb in
                for i in 0..<N {
                    model.observe(UnsafeBufferPointer(rebasing: mb[(i * n)..<(i * n + n)]), time: time, into: zb)
                    for (a, o) in selected.enumerated() { hx[i * k + a] = zb[o] }
                }
            }
        }
        try hx.withUnsafeBufferPointer { try checkFinite($0.baseAddress!, N * k, names: outNames, time: time, what: "predicted observation") }
        var rfull = [Double](repeating: 0, count: m * m)
        rfull.withUnsafeMutableBufferPointer { model.noiseCovariance(time: time, into: $0) }
        var r = [Double](repeating: 0, count: k * k)
        for (a, oa) in selected.enumerated() { for (b, ob) in selected.enumerated() { r[a * k + b] = rfull[oa * m + ob] } }
        let xm = ensembleMean(members, count: N, dimension: n)
        let zm = ensembleMean(hx, count: N, dimension: k)
        var s = r
        var pxz = [Double](repeating: 0, count: n * k)
        let denom = 1 / Double(N - 1)
        for i in 0..<N {
            for a in 0..<k {
                let da = (hx[i * k + a] - zm[a]) * denom
                for b in 0..<k { s[a * k + b] += da * (hx[i * k + b] - zm[b]) }
                for j in 0..<n { pxz[j * k + a] += da * (members[i * n + j] - xm[j]) }
            }
        }
        // K = Pxz S⁻¹ via the Cholesky factor of S
        var sc = [Double](repeating: 0, count: k * k)
        var kt = [Double](repeating: 0, count: k * n)
        try s.withUnsafeMutableBufferPointer { sb in
            try sc.withUnsafeMutableBufferPointer { cb in
                try policy.factor(sb.baseAddress!, into: cb.baseAddress!, k, time: time, names: outNames, what: "innovation covariance", resets: &resets)
                for a in 0..<k { for j in 0..<n { kt[a * n + j] = pxz[j * k + a] } }
                kt.withUnsafeMutableBufferPointer { Dense.choleskySolve(cb.baseAddress!, k, $0.baseAddress!, n) }
            }
        }
        var perturb = [Double](repeating: 0, count: N * k)
        var rr = r
        try sampleGaussian(mean: [Double](repeating: 0, count: k), covariance: &rr, count: N, into: &perturb, rng: &random,
                           policy: policy, time: time, names: outNames, what: "observation noise covariance", resets: &resets)
        var innov = [Double](repeating: 0, count: k)
        for i in 0..<N {
            for (a, o) in selected.enumerated() { innov[a] = observation.values[o] + perturb[i * k + a] - hx[i * k + a] }
            for j in 0..<n {
                var d = 0.0
                for a in 0..<k { d += kt[a * n + j] * innov[a] }
                members[i * n + j] += d
            }
        }
        try members.withUnsafeBufferPointer { try checkFinite($0.baseAddress!, N * n, names: process.stateNames, time: time, what: "ensemble member") }
    }
}

/// Propagates `count` members in `chunks` concurrent tasks.
func propagateInParallel<Process: ProcessModel>(_ process: Process, members: [Double], count: Int, dimension n: Int,
                                                from t0: Double, over dt: Double, chunks: Int) async throws -> [Double] {
    let chunks = min(max(1, chunks), count)
    if chunks == 1 {
        var out = members
        try out.withUnsafeMutableBufferPointer { try process.propagate(ensemble: $0, count: count, from: t0, over: dt) }
        return out
    }
    let per = (count + chunks - 1) / chunks
    var out = members
    try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
        for c in 0..<chunks {
            let lo = c * per, hi = min(count, lo + per)
            if lo >= hi { continue }
            let slice = Array(members[(lo * n)..<(hi * n)])
            group.addTask {
                var part = slice
                try part.withUnsafeMutableBufferPointer { try process.propagate(ensemble: $0, count: hi - lo, from: t0, over: dt) }
                return (lo, part)
            }
        }
        for try await (lo, part) in group {
            out.replaceSubrange((lo * n)..<(lo * n + part.count), with: part)
        }
    }
    return out
}

func ensembleMean(_ members: [Double], count: Int, dimension n: Int) -> [Double] {
    var m = [Double](repeating: 0, count: n)
    for i in 0..<count { for j in 0..<n { m[j] += members[i * n + j] } }
    for j in 0..<n { m[j] /= Double(count) }
    return m
}

func ensembleCovariance(_ members: [Double], count: Int, dimension n: Int) -> [Double] {
    let m = ensembleMean(members, count: count, dimension: n)
    var p = [Double](repeating: 0, count: n * n)
    for i in 0..<count {
        for a in 0..<n {
            let da = members[i * n + a] - m[a]
            for b in 0..<n { p[a * n + b] += da * (members[i * n + b] - m[b]) }
        }
    }
    let d = 1 / Double(max(count - 1, 1))
    for i in p.indices { p[i] *= d }
    return p
}

/// Fills `out` (`count × n`) with draws from `N(mean, covariance)`; diagonal covariances take a fast path.
func sampleGaussian(mean: [Double], covariance: inout [Double], count: Int, into out: inout [Double], rng: inout Xoshiro256StarStar,
                    policy: CovariancePolicy, time: Double, names: [String], what: String, resets: inout [CovarianceReset]) throws {
    let n = mean.count
    var isDiagonal = true
    for i in 0..<n { for j in 0..<n where i != j && covariance[i * n + j] != 0 { isDiagonal = false } }
    var l = [Double](repeating: 0, count: n * n)
    if isDiagonal {
        for i in 0..<n {
            let v = covariance[i * n + i]
            guard v >= 0, v.isFinite else {
                throw SyncError(.notPositiveDefinite, "\(what) has a negative or non-finite variance for '\(names[i])'.", value: String(v))
            }
            l[i * n + i] = v.squareRoot()
        }
    } else {
        try covariance.withUnsafeMutableBufferPointer { pb in
            try l.withUnsafeMutableBufferPointer { lb in
                try policy.factor(pb.baseAddress!, into: lb.baseAddress!, n, time: time, names: names, what: what, resets: &resets)
            }
        }
    }
    var e = [Double](repeating: 0, count: n)
    for i in 0..<count {
        for j in 0..<n { e[j] = rng.normal() }
        for a in 0..<n {
            var d = mean[a]
            if isDiagonal { d += l[a * n + a] * e[a] } else { for b in 0...a { d += l[a * n + b] * e[b] } }
            out[i * n + a] = d
        }
    }
}
