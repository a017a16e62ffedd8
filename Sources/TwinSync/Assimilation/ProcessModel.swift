/// How a state evolves over a time interval: the process model of a filter.
///
/// Conformers promise that `propagate` is a deterministic function of the state, the start time and the
/// interval (process noise is added by the filter from ``noiseCovariance(over:into:)``), so that
/// re-running a filter from a stored state reproduces the same trajectory.
public protocol ProcessModel: Sendable {
    /// Number of state variables `n`.
    var dimension: Int { get }
    /// Names of the state variables (used in error messages).
    var stateNames: [String] { get }
    /// Moves `state` (`n` entries) from `time` to `time + interval` in place.
    func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws
    /// Moves `count` states stored one after another in `states` (`count × n`). The default calls
    /// ``propagate(_:from:over:)`` per member; models may vectorise work shared between members.
    func propagate(ensemble states: UnsafeMutableBufferPointer<Double>, count: Int, from time: Double, over interval: Double) throws
    /// Writes the Jacobian of the transition `∂x(t+Δ)/∂x(t)` (`n × n`, row-major) and returns `true`, or
    /// returns `false` when the model has none (filters then use finite differences).
    func transitionJacobian(_ state: UnsafeBufferPointer<Double>, from time: Double, over interval: Double,
                            into jacobian: UnsafeMutableBufferPointer<Double>) throws -> Bool
    /// Writes the process-noise covariance accumulated over `interval` (`n × n`, row-major).
    func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>)
    /// Writes the process-noise covariance accumulated over the interval from `time` to `time + interval`
    /// (`n × n`, row-major), for models whose noise depends on when it is taken (an uncertain input that enters
    /// at a known time). The UKF, EKF and EnKF call this one (the particle filter, which keeps its noise factor per
    /// interval length, the time-free one); the default is ``noiseCovariance(over:into:)``.
    func noiseCovariance(from time: Double, over interval: Double, into q: UnsafeMutableBufferPointer<Double>)
}

extension ProcessModel {
    public var stateNames: [String] { (0..<dimension).map { "x[\($0)]" } }

    public func propagate(ensemble states: UnsafeMutableBufferPointer<Double>, count: Int, from time: Double, over interval: Double) throws {
        let n = dimension
        for m in 0..<count {
            try propagate(UnsafeMutableBufferPointer(rebasing: states[(m * n)..<(m * n + n)]), from: time, over: interval)
        }
    }

    public func transitionJacobian(_ state: UnsafeBufferPointer<Double>, from time: Double, over interval: Double,
                                   into jacobian: UnsafeMutableBufferPointer<Double>) throws -> Bool { false }

    public func noiseCovariance(from time: Double, over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        noiseCovariance(over: interval, into: q)
    }
}

/// How process noise enters a model over an interval `Δ`.
public enum ProcessNoise: Sendable, Hashable {
    /// The same covariance `Q` (row-major `n × n`) for every interval, whatever its length (as filterpy's
    /// `Q`, which is added once per `predict`).
    case perInterval([Double])
    /// A continuous-time spectral density `Qc`: the interval's covariance is `Qc · Δ` (a random walk).
    case rate([Double])
    /// No process noise.
    case none

    func write(dimension n: Int, interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .perInterval(let m): for i in 0..<(n * n) { q[i] = m[i] }
        case .rate(let m): for i in 0..<(n * n) { q[i] = m[i] * interval }
        case .none: for i in 0..<(n * n) { q[i] = 0 }
        }
    }

    var matrixCount: Int? {
        switch self {
        case .perInterval(let m), .rate(let m): m.count
        case .none: nil
        }
    }

    /// A diagonal noise model from standard deviations.
    public static func perInterval(standardDeviations sd: [Double]) -> ProcessNoise {
        .perInterval(diagonal(sd.map { $0 * $0 }))
    }

    /// A diagonal spectral density from per-unit-time standard deviations.
    public static func rate(standardDeviations sd: [Double]) -> ProcessNoise {
        .rate(diagonal(sd.map { $0 * $0 }))
    }
}

func diagonal(_ d: [Double]) -> [Double] {
    var m = [Double](repeating: 0, count: d.count * d.count)
    for i in d.indices { m[i * d.count + i] = d[i] }
    return m
}

/// A linear process `x(t+Δ) = F(Δ) x(t)` with noise covariance `Q(Δ)`.
public struct LinearProcess: ProcessModel {
    public let dimension: Int
    public let stateNames: [String]
    private let transition: @Sendable (Double) -> [Double]
    private let noise: @Sendable (Double) -> [Double]

    /// - Parameters:
    ///   - transition: `F(Δ)`, row-major `n × n`.
    ///   - noise: `Q(Δ)`, row-major `n × n`.
    public init(dimension: Int, stateNames: [String]? = nil,
                transition: @escaping @Sendable (Double) -> [Double], noise: @escaping @Sendable (Double) -> [Double]) {
        self.dimension = dimension
        self.stateNames = stateNames ?? (0..<dimension).map { "x[\($0)]" }
        self.transition = transition
        self.noise = noise
    }

    /// The constant-velocity model in one axis (position, velocity) driven by piecewise-constant white
    /// acceleration of variance `accelerationVariance`: `F = [[1, Δ], [0, 1]]`,
    /// `Q = σa² [[Δ⁴/4, Δ³/2], [Δ³/2, Δ²]]`.
    public static func constantVelocity(accelerationVariance q: Double) -> LinearProcess {
        LinearProcess(dimension: 2, stateNames: ["position", "velocity"],
                      transition: { dt in [1, dt, 0, 1] },
                      noise: { dt in
                          let d2 = dt * dt
                          return [q * d2 * d2 / 4, q * d2 * dt / 2, q * d2 * dt / 2, q * d2]
                      })
    }

    /// `F(Δ)`.
    public func transitionMatrix(over interval: Double) -> [Double] { transition(interval) }

    public func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {
        let f = transition(interval)
        let n = dimension
        try checkCount(f.count, n * n, "transition matrix F")
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { tmp in
            for i in 0..<n {
                var s = 0.0
                for j in 0..<n { s += f[i * n + j] * state[j] }
                tmp[i] = s
            }
            for i in 0..<n { state[i] = tmp[i] }
        }
    }

    public func transitionJacobian(_ state: UnsafeBufferPointer<Double>, from time: Double, over interval: Double,
                                   into jacobian: UnsafeMutableBufferPointer<Double>) throws -> Bool {
        let f = transition(interval)
        try checkCount(f.count, dimension * dimension, "transition matrix F")
        for i in 0..<f.count { jacobian[i] = f[i] }
        return true
    }

    public func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        let m = noise(interval)
        for i in 0..<min(m.count, dimension * dimension) { q[i] = m[i] }
    }
}

func checkCount(_ actual: Int, _ expected: Int, _ what: String) throws {
    if actual != expected {
        throw SyncError(.dimensionMismatch, "\(what) has \(actual) entries, expected \(expected).", value: String(actual))
    }
}
