/// The unscented Kalman filter with Van der Merwe's scaled sigma points (`2n + 1` points, parameters
/// `alpha`, `beta`, `kappa`), following filterpy's `UnscentedKalmanFilter` and `MerweScaledSigmaPoints`:
///
/// - predict: sigma points from the current `(x, P)` (columns of the Cholesky factor of `(n + λ) P`), each
///   propagated through the process, mean and covariance by the unscented transform, plus `Q`;
/// - update: sigma points drawn from the predicted `(x, P)` (as filterpy 1.4.5, which redraws them after
///   predict) are passed through `h`; `K = Pxz S⁻¹`, `x += K y`, `P −= K S Kᵀ`, symmetrised.
///
/// With the same models and settings it reproduces filterpy's estimates to round-off; on a linear model
/// it equals the Kalman filter. Predict and update do not allocate.
public struct UnscentedKalmanFilter<Process: ProcessModel>: SequentialFilter {
    public let process: Process
    public private(set) var time: Double
    public private(set) var mean: [Double]
    public private(set) var covariance: [Double]
    public private(set) var resets: [CovarianceReset] = []
    public var policy: CovariancePolicy
    public let alpha: Double, beta: Double, kappa: Double
    /// Mean and covariance weights of the `2n + 1` sigma points.
    public let meanWeights: [Double], covarianceWeights: [Double]
    private var sigmas: [Double]        // (2n+1) × n, propagated
    public var stateNames: [String] { process.stateNames }

    public init(process: Process, time: Double, mean: [Double], covariance: [Double],
                alpha: Double = 1e-3, beta: Double = 2, kappa: Double = 0, policy: CovariancePolicy = .standard) throws {
        let n = process.dimension
        try validateInitial(mean: mean, covariance: covariance, dimension: n, names: process.stateNames)
        guard time.isFinite else { throw SyncError(.invalidTime, "initial time is not finite.", value: String(time)) }
        let lambda = alpha * alpha * (Double(n) + kappa) - Double(n)
        guard alpha > 0, alpha.isFinite, beta.isFinite, Double(n) + lambda > 0 else {
            throw SyncError(.invalidArgument, "sigma-point parameters need alpha > 0 and n + lambda > 0 (alpha = \(alpha), kappa = \(kappa)).", value: String(alpha))
        }
        let c = 0.5 / (Double(n) + lambda)
        var wm = [Double](repeating: c, count: 2 * n + 1)
        var wc = wm
        wm[0] = lambda / (Double(n) + lambda)
        wc[0] = lambda / (Double(n) + lambda) + (1 - alpha * alpha + beta)
        self.process = process
        self.time = time
        self.mean = mean
        self.covariance = covariance
        self.alpha = alpha; self.beta = beta; self.kappa = kappa
        self.meanWeights = wm; self.covarianceWeights = wc
        self.policy = policy
        self.sigmas = [Double](repeating: 0, count: (2 * n + 1) * n)
    }

    /// Writes the sigma points of `(x, P)` into `sig`; may repair `p` per policy.
    private static func drawSigmas(x: UnsafePointer<Double>, p: UnsafeMutablePointer<Double>, n: Int, scale: Double,
                                   sig: UnsafeMutablePointer<Double>, policy: CovariancePolicy, time: Double, names: [String],
                                   resets: inout [CovarianceReset]) throws {
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * n * n) { w in
            let sp = w.baseAddress!, l = sp + n * n
            for i in 0..<(n * n) { sp[i] = scale * p[i] }
            try policy.factor(sp, into: l, n, time: time, names: names, what: "state covariance", resets: &resets)
            for i in 0..<(n * n) { p[i] = sp[i] / scale }
            for j in 0..<n { sig[j] = x[j] }
            for k in 0..<n {
                for j in 0..<n {
                    let u = l[j * n + k]      // row k of Uᵀ = column k of L
                    sig[(k + 1) * n + j] = x[j] + u
                    sig[(n + k + 1) * n + j] = x[j] - u
                }
            }
        }
    }

    public mutating func predict(to newTime: Double) throws {
        let dt = try validatePrediction(from: time, to: newTime)
        if dt == 0 { return }
        let n = process.dimension, np = 2 * n + 1
        let process = self.process
        var x = mean; mean = []
        var p = covariance; covariance = []
        var sig = sigmas; sigmas = []
        var resets = self.resets; self.resets = []
        defer { mean = x; covariance = p; sigmas = sig; self.resets = resets }
        let names = process.stateNames
        let lambda = alpha * alpha * (Double(n) + kappa) - Double(n)
        let t0 = time
        try x.withUnsafeMutableBufferPointer { xb in
            try p.withUnsafeMutableBufferPointer { pb in
                try sig.withUnsafeMutableBufferPointer { sb in
                    let xp = xb.baseAddress!, pp = pb.baseAddress!, sp = sb.baseAddress!
                    try Self.drawSigmas(x: xp, p: pp, n: n, scale: Double(n) + lambda, sig: sp, policy: policy, time: t0, names: names, resets: &resets)
                    try process.propagate(ensemble: sb, count: np, from: t0, over: dt)
                    try checkFinite(sp, np * n, names: names, time: newTime, what: "propagated sigma point")
                    meanWeights.withUnsafeBufferPointer { wmb in
                        covarianceWeights.withUnsafeBufferPointer { wcb in
                            for j in 0..<n {
                                var s = 0.0
                                for i in 0..<np { s += wmb[i] * sp[i * n + j] }
                                xp[j] = s
                            }
                            process.noiseCovariance(from: t0, over: dt, into: pb)
                            for i in 0..<np {
                                let w = wcb[i]
                                for a in 0..<n {
                                    let da = w * (sp[i * n + a] - xp[a])
                                    for b in 0..<n { pp[a * n + b] += da * (sp[i * n + b] - xp[b]) }
                                }
                            }
                        }
                    }
                    try checkFinite(pp, n * n, names: names, time: newTime, what: "covariance")
                }
            }
        }
        time = newTime
    }

    public mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws {
        let selected = try observation.selectedOutputs(for: model)
        if selected.isEmpty { return }
        let n = process.dimension, np = 2 * n + 1, m = model.outputCount, k = selected.count
        var x = mean; mean = []
        var p = covariance; covariance = []
        var sig = sigmas; sigmas = []
        var resets = self.resets; self.resets = []
        defer { mean = x; covariance = p; sigmas = sig; self.resets = resets }
        let names = process.stateNames
        let allOut = model.outputNames
        let outNames = k == m ? allOut : selected.map { allOut[$0] }
        let lambda = alpha * alpha * (Double(n) + kappa) - Double(n)
        let t = time
        let policy = self.policy
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: np * k + m + m * m + k + 3 * k * k + 2 * n * k) { w in
            let sh = w.baseAddress!, zfull = sh + np * k, rfull = zfull + m, zp = rfull + m * m, s = zp + k, sc = s + k * k
            let pxz = sc + k * k, gain = pxz + n * k, y = gain + n * k
            try x.withUnsafeMutableBufferPointer { xb in
                try p.withUnsafeMutableBufferPointer { pb in
                    try sig.withUnsafeMutableBufferPointer { sb in
                        let xp = xb.baseAddress!, pp = pb.baseAddress!, sp = sb.baseAddress!
                        do {
                            try Self.drawSigmas(x: xp, p: pp, n: n, scale: Double(n) + lambda, sig: sp, policy: policy, time: t, names: names, resets: &resets)
                        }
                        let zb = UnsafeMutableBufferPointer(start: zfull, count: m)
                        for i in 0..<np {
                            model.observe(UnsafeBufferPointer(start: sp + i * n, count: n), time: t, into: zb)
                            for (a, o) in selected.enumerated() { sh[i * k + a] = zfull[o] }
                        }
                        try checkFinite(sh, np * k, names: outNames, time: t, what: "predicted observation")
                        model.noiseCovariance(time: t, into: UnsafeMutableBufferPointer(start: rfull, count: m * m))
                        meanWeights.withUnsafeBufferPointer { wmb in
                            covarianceWeights.withUnsafeBufferPointer { wcb in
                                for a in 0..<k {
                                    var acc = 0.0
                                    for i in 0..<np { acc += wmb[i] * sh[i * k + a] }
                                    zp[a] = acc
                                }
                                for (a, oa) in selected.enumerated() {
                                    for (b, ob) in selected.enumerated() { s[a * k + b] = rfull[oa * m + ob] }
                                }
                                for i in 0..<(n * k) { pxz[i] = 0 }
                                for i in 0..<np {
                                    let wc = wcb[i]
                                    for a in 0..<k {
                                        let da = wc * (sh[i * k + a] - zp[a])
                                        for b in 0..<k { s[a * k + b] += da * (sh[i * k + b] - zp[b]) }
                                        for j in 0..<n { pxz[j * k + a] += da * (sp[i * n + j] - xp[j]) }
                                    }
                                }
                            }
                        }
                        for (a, o) in selected.enumerated() { y[a] = observation.values[o] - zp[a] }
                        try KalmanCorrection.apply(x: xp, p: pp, n: n, y: y, s: s, pxz: pxz, k: k, gain: gain, scratch: sc,
                                                   policy: policy, time: t, outputNames: outNames, subtractCovariance: true, resets: &resets)
                        try checkFinite(xp, n, names: names, time: t, what: "state")
                        try checkFinite(pp, n * n, names: names, time: t, what: "covariance")
                    }
                }
            }
        }
    }
}
