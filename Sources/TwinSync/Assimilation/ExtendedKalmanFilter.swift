import TwinSimulation

/// The extended Kalman filter: the mean is propagated through the nonlinear process and observation
/// models, the covariance through their Jacobians (analytic when the models provide them, central finite
/// differences otherwise). Covariance updates use the Joseph form and are symmetrised.
///
/// On a linear model with analytic Jacobians it is exactly the Kalman filter (see ``KalmanFilter``).
public struct ExtendedKalmanFilter<Process: ProcessModel>: SequentialFilter {
    public let process: Process
    public private(set) var time: Double
    public private(set) var mean: [Double]
    public private(set) var covariance: [Double]
    public private(set) var resets: [CovarianceReset] = []
    public var policy: CovariancePolicy
    /// When `true`, a model without analytic Jacobians is an error instead of being differenced.
    let analyticOnly: Bool
    /// The gain of the last update (`n × k`, for the outputs that were present), for inspection.
    public private(set) var lastGain: [Double] = []

    public var stateNames: [String] { process.stateNames }

    public init(process: Process, time: Double, mean: [Double], covariance: [Double], policy: CovariancePolicy = .standard) throws {
        try self.init(process: process, time: time, mean: mean, covariance: covariance, policy: policy, analyticOnly: false)
    }

    init(process: Process, time: Double, mean: [Double], covariance: [Double], policy: CovariancePolicy, analyticOnly: Bool) throws {
        try validateInitial(mean: mean, covariance: covariance, dimension: process.dimension, names: process.stateNames)
        guard time.isFinite else { throw SyncError(.invalidTime, "initial time is not finite.", value: String(time)) }
        self.process = process
        self.time = time
        self.mean = mean
        self.covariance = covariance
        self.policy = policy
        self.analyticOnly = analyticOnly
    }

    public mutating func predict(to newTime: Double) throws {
        let dt = try validatePrediction(from: time, to: newTime)
        if dt == 0 { return }
        let n = process.dimension
        let process = self.process
        var x = mean; mean = []
        var p = covariance; covariance = []
        defer { mean = x; covariance = p }
        let t0 = time
        let names = process.stateNames
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * n * n + 2 * n) { w in
            let f = UnsafeMutableBufferPointer(rebasing: w[0..<(n * n)])
            let q = w.baseAddress! + n * n
            let tmp = q + n * n
            let fp = tmp + n * n
            let xp = UnsafeMutableBufferPointer(start: fp + n * n, count: n)
            let xm = UnsafeMutableBufferPointer(start: fp + n * n + n, count: n)
            let analytic = try x.withUnsafeBufferPointer { try process.transitionJacobian($0, from: t0, over: dt, into: f) }
            if !analytic {
                if analyticOnly {
                    throw SyncError(.unsupported, "the Kalman filter needs a linear process model with a transition matrix; use the extended or unscented filter.")
                }
                for j in 0..<n {
                    let scale = max(abs(x[j]), p[j * n + j].squareRoot(), 1e-8)
                    let h = 6e-6 * scale
                    for i in 0..<n { xp[i] = x[i]; xm[i] = x[i] }
                    xp[j] += h; xm[j] -= h
                    try process.propagate(xp, from: t0, over: dt)
                    try process.propagate(xm, from: t0, over: dt)
                    for i in 0..<n { f[i * n + j] = (xp[i] - xm[i]) / (2 * h) }
                }
            }
            try x.withUnsafeMutableBufferPointer { try process.propagate($0, from: t0, over: dt) }
            process.noiseCovariance(from: t0, over: dt, into: UnsafeMutableBufferPointer(start: q, count: n * n))
            try p.withUnsafeMutableBufferPointer { pb in
                let pp = pb.baseAddress!
                Dense.multiply(f.baseAddress!, pp, tmp, n, n, n)
                Dense.multiplyTransposed(tmp, f.baseAddress!, fp, n, n, n)
                for i in 0..<(n * n) { pp[i] = fp[i] + q[i] }
                Dense.symmetrise(pp, n)
                try checkFinite(pp, n * n, names: names, time: newTime, what: "covariance")
            }
            try x.withUnsafeBufferPointer { try checkFinite($0.baseAddress!, n, names: names, time: newTime, what: "state") }
        }
        time = newTime
    }

    public mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws {
        let selected = try observation.selectedOutputs(for: model)
        if selected.isEmpty { return }
        let n = process.dimension, m = model.outputCount, k = selected.count
        var x = mean; mean = []
        var p = covariance; covariance = []
        var resets = self.resets; self.resets = []
        var gainOut = lastGain; lastGain = []
        defer { mean = x; covariance = p; self.resets = resets; lastGain = gainOut }
        let t = time
        let allNames = model.outputNames
        let names = selected.map { allNames[$0] }
        let policy = self.policy
        gainOut = [Double](repeating: 0, count: n * k)
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: m + m * n + m * m + 2 * k * n + 3 * k * k + k + n) { w in
            let z = w.baseAddress!, hfull = z + m, rfull = hfull + m * n, hs = rfull + m * m, s = hs + k * n, sc = s + k * k
            let pxz = sc + k * k, rs = pxz + n * k, y = rs + k * k
            let xp = UnsafeMutableBufferPointer(start: y + k, count: n)
            try x.withUnsafeBufferPointer { xb in
                model.observe(xb, time: t, into: UnsafeMutableBufferPointer(start: z, count: m))
                let analytic = model.jacobian(xb, time: t, into: UnsafeMutableBufferPointer(start: hfull, count: m * n))
                if !analytic {
                    if analyticOnly {
                        throw SyncError(.unsupported, "the Kalman filter needs a linear observation model with a matrix H; use the extended or unscented filter.")
                    }
                    // central differences, using the scratch row of hs as z±
                    try withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * m) { zz in
                        let zplus = UnsafeMutableBufferPointer(rebasing: zz[0..<m]), zminus = UnsafeMutableBufferPointer(rebasing: zz[m..<(2 * m)])
                        for j in 0..<n {
                            let scale = max(abs(xb[j]), p[j * n + j].squareRoot(), 1e-8)
                            let h = 6e-6 * scale
                            for i in 0..<n { xp[i] = xb[i] }
                            xp[j] += h
                            model.observe(UnsafeBufferPointer(xp), time: t, into: zplus)
                            xp[j] -= 2 * h
                            model.observe(UnsafeBufferPointer(xp), time: t, into: zminus)
                            for i in 0..<m { hfull[i * n + j] = (zplus[i] - zminus[i]) / (2 * h) }
                        }
                        try checkFinite(hfull, m * n, names: names, time: t, what: "observation Jacobian")
                    }
                }
            }
            model.noiseCovariance(time: t, into: UnsafeMutableBufferPointer(start: rfull, count: m * m))
            for (a, i) in selected.enumerated() {
                y[a] = observation.values[i] - z[i]
                for j in 0..<n { hs[a * n + j] = hfull[i * n + j] }
                for (b, jj) in selected.enumerated() { rs[a * k + b] = rfull[i * m + jj] }
            }
            try p.withUnsafeMutableBufferPointer { pb in
                let pp = pb.baseAddress!
                // pxz = P Hᵀ (n × k); S = H P Hᵀ + R
                Dense.multiplyTransposed(pp, hs, pxz, n, n, k)
                for a in 0..<k {
                    for b in 0..<k {
                        var d = 0.0
                        for j in 0..<n { d += hs[a * n + j] * pxz[j * k + b] }
                        s[a * k + b] = d + rs[a * k + b]
                    }
                }
                Dense.symmetrise(s, k)
                try gainOut.withUnsafeMutableBufferPointer { g in
                    try x.withUnsafeMutableBufferPointer { xb in
                        try KalmanCorrection.apply(x: xb.baseAddress!, p: pp, n: n, y: y, s: s, pxz: pxz, k: k, gain: g.baseAddress!, scratch: sc,
                                                   policy: policy, time: t, outputNames: names, subtractCovariance: false, resets: &resets)
                        try checkFinite(xb.baseAddress!, n, names: process.stateNames, time: t, what: "state")
                    }
                    KalmanCorrection.joseph(p: pp, n: n, gain: g.baseAddress!, h: hs, r: rs, k: k)
                }
                try checkFinite(pp, n * n, names: process.stateNames, time: t, what: "covariance")
            }
        }
    }
}

/// The linear Kalman filter: `x(t+Δ) = F(Δ) x + w`, `z = H x + v`, Joseph-form updates.
///
/// The process must provide its transition matrix (``ProcessModel/transitionJacobian(_:from:over:into:)``
/// returning `true`, as ``LinearProcess`` does) and each observation model its matrix `H` (as
/// ``LinearObservation``); otherwise predict/update throw ``SyncError/Code-swift.struct/unsupported``. The
/// result is the exact Gaussian posterior of the linear-Gaussian model.
public struct KalmanFilter<Process: ProcessModel>: SequentialFilter {
    private var core: ExtendedKalmanFilter<Process>

    public init(process: Process, time: Double, mean: [Double], covariance: [Double], policy: CovariancePolicy = .standard) throws {
        core = try ExtendedKalmanFilter(process: process, time: time, mean: mean, covariance: covariance, policy: policy, analyticOnly: true)
    }

    public var time: Double { core.time }
    public var mean: [Double] { core.mean }
    public var covariance: [Double] { core.covariance }
    public var stateNames: [String] { core.stateNames }
    public var resets: [CovarianceReset] { core.resets }
    /// The gain of the last update (`n × k`).
    public var lastGain: [Double] { core.lastGain }

    public mutating func predict(to time: Double) throws { try core.predict(to: time) }
    public mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws {
        try core.update(with: observation, model: model)
    }
}
