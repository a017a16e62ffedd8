import TwinSimulation

/// A recursive Bayesian filter: it carries a belief about the state at ``time`` and refines it as
/// observations arrive.
///
/// Conformers are value types: copying a filter snapshots its whole belief (the ``Assimilator`` relies on
/// this to re-run from a past state when an observation arrives late).
public protocol SequentialFilter: Sendable {
    /// The time the belief refers to.
    var time: Double { get }
    /// The state estimate (posterior mean).
    var mean: [Double] { get }
    /// The estimate's covariance, row-major `n × n`.
    var covariance: [Double] { get }
    /// Names of the state variables.
    var stateNames: [String] { get }
    /// Every repair made to a non-positive-definite covariance, in order.
    var resets: [CovarianceReset] { get }
    /// Moves the belief forward to `time` (no-op when equal; an earlier time is an error).
    mutating func predict(to time: Double) async throws
    /// Assimilates an observation taken at the filter's current time through `model`.
    mutating func update<Model: ObservationModel>(with observation: Observation, model: Model) throws
}

extension SequentialFilter {
    /// Standard deviation of each state variable.
    public var standardDeviations: [Double] {
        let n = mean.count
        return (0..<n).map { max(covariance[$0 * n + $0], 0).squareRoot() }
    }
}

func validatePrediction(from current: Double, to time: Double) throws -> Double {
    guard time.isFinite else { throw SyncError(.invalidTime, "prediction time is not finite.", value: String(time)) }
    let dt = time - current
    guard dt >= 0 else {
        throw SyncError(.invalidTime, "cannot predict backwards from t = \(current) to t = \(time); use an Assimilator to handle late observations.",
                        value: String(time))
    }
    return dt
}

func validateInitial(mean: [Double], covariance: [Double], dimension n: Int, names: [String]) throws {
    try checkCount(mean.count, n, "initial mean")
    try checkCount(covariance.count, n * n, "initial covariance")
    for i in 0..<n where !mean[i].isFinite {
        throw SyncError(.nonFinite, "initial mean of '\(names[i])' is not finite.", value: String(mean[i]))
    }
    for i in 0..<(n * n) where !covariance[i].isFinite {
        throw SyncError(.nonFinite, "initial covariance entry for '\(names[i / n])' is not finite.", value: String(covariance[i]))
    }
}

/// The Kalman correction shared by the Gaussian filters.
enum KalmanCorrection {
    /// Given the innovation `y` (`k`), its covariance `s` (`k × k`, including `R`) and the state–observation
    /// cross covariance `pxz` (`n × k`), computes the gain `K = pxz s⁻¹` into `gain` (`n × k`), moves `x` by
    /// `K y`, and (unless `joseph`) subtracts `K s Kᵀ = K pxzᵀ` from `p`. `s` is overwritten by its factor.
    static func apply(x: UnsafeMutablePointer<Double>, p: UnsafeMutablePointer<Double>, n: Int,
                      y: UnsafePointer<Double>, s: UnsafeMutablePointer<Double>, pxz: UnsafePointer<Double>, k: Int,
                      gain: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>,
                      policy: CovariancePolicy, time: Double, outputNames: [String], subtractCovariance: Bool,
                      resets: inout [CovarianceReset]) throws {
        // factor S
        try policy.factor(s, into: scratch, k, time: time, names: outputNames, what: "innovation covariance", resets: &resets)
        // Kᵀ = S⁻¹ pxzᵀ: build pxzᵀ (k × n) in gain temporarily then solve, then transpose back.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: k * n) { kt in
            let ktp = kt.baseAddress!
            for i in 0..<k { for j in 0..<n { ktp[i * n + j] = pxz[j * k + i] } }
            Dense.choleskySolve(scratch, k, ktp, n)
            for i in 0..<n { for j in 0..<k { gain[i * k + j] = ktp[j * n + i] } }
        }
        for i in 0..<n {
            var d = 0.0
            for j in 0..<k { d += gain[i * k + j] * y[j] }
            x[i] += d
        }
        if subtractCovariance {
            for i in 0..<n {
                for j in 0..<n {
                    var d = 0.0
                    for c in 0..<k { d += gain[i * k + c] * pxz[j * k + c] }
                    p[i * n + j] -= d
                }
            }
            Dense.symmetrise(p, n)
        }
    }

    /// Joseph-form covariance update `P = (I − K H) P (I − K H)ᵀ + K R Kᵀ`, stable for any gain.
    static func joseph(p: UnsafeMutablePointer<Double>, n: Int, gain: UnsafePointer<Double>, h: UnsafePointer<Double>,
                       r: UnsafePointer<Double>, k: Int) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * n * n) { w in
            let a = w.baseAddress!          // I − K H
            let t = a + n * n               // A P
            let u = t + n * n               // (A P) Aᵀ
            for i in 0..<n {
                for j in 0..<n {
                    var d = 0.0
                    for c in 0..<k { d += gain[i * k + c] * h[c * n + j] }
                    a[i * n + j] = (i == j ? 1 : 0) - d
                }
            }
            Dense.multiply(a, p, t, n, n, n)
            Dense.multiplyTransposed(t, a, u, n, n, n)
            for i in 0..<n {
                for j in 0..<n {
                    var d = 0.0
                    for c in 0..<k {
                        var kr = 0.0
                        for e in 0..<k { kr += gain[i * k + e] * r[e * k + c] }
                        d += kr * gain[j * k + c]
                    }
                    p[i * n + j] = u[i * n + j] + d
                }
            }
            Dense.symmetrise(p, n)
        }
    }
}

func checkFinite(_ x: UnsafePointer<Double>, _ count: Int, names: [String], time: Double, what: String) throws {
    if let bad = Dense.firstNonFinite(x, count) {
        let n = names.count
        let name = names[bad < n ? bad : (bad / n) % n]
        throw SyncError(.nonFinite, "\(what) of '\(name)' became non-finite at t = \(time); the filter diverged.", value: String(x[bad]))
    }
}
