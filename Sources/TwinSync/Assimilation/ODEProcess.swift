import TwinSimulation

/// A process model that integrates an ``ODESystem`` over each interval with a fixed-step explicit
/// Runge–Kutta scheme, plus additive process noise.
///
/// Fixed steps keep the transition a smooth, deterministic function of the state (what sigma-point and
/// ensemble filters need) and make the cost of a step predictable. The error is that of the scheme
/// (`O(h²)` for Heun, `O(h⁴)` for RK4); choose the step well below the system's fastest time scale.
public struct ODEProcess<System: ODESystem & Sendable>: ProcessModel {
    /// The integration scheme and its step rule.
    public enum Scheme: Sendable, Hashable {
        /// Heun's method (explicit trapezoid, RK2) with exactly `substeps` equal steps per interval.
        case heun(substeps: Int)
        /// Classical RK4 with exactly `substeps` equal steps per interval.
        case rungeKutta4(substeps: Int)
        /// Classical RK4 with the fewest equal steps no longer than `maxStep`.
        case rungeKutta4Bounded(maxStep: Double)
    }

    public let system: System
    public let scheme: Scheme
    public let noise: ProcessNoise
    public var dimension: Int { system.dimension }
    public var stateNames: [String] { system.variableNames }

    public init(system: System, scheme: Scheme, noise: ProcessNoise) throws {
        let n = system.dimension
        if let c = noise.matrixCount { try checkCount(c, n * n, "process noise covariance") }
        switch scheme {
        case .heun(let s), .rungeKutta4(substeps: let s):
            guard s >= 1 else { throw SyncError(.invalidArgument, "substeps must be at least 1.", value: String(s)) }
        case .rungeKutta4Bounded(maxStep: let h):
            guard h > 0, h.isFinite else { throw SyncError(.invalidArgument, "maxStep must be positive and finite.", value: String(h)) }
        }
        self.system = system
        self.scheme = scheme
        self.noise = noise
    }

    public func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {
        if interval == 0 { return }
        let n = system.dimension
        let steps: Int
        let rk4: Bool
        switch scheme {
        case .heun(let s): steps = s; rk4 = false
        case .rungeKutta4(substeps: let s): steps = s; rk4 = true
        case .rungeKutta4Bounded(maxStep: let h): steps = max(1, Int((abs(interval) / h).rounded(.up))); rk4 = true
        }
        let h = interval / Double(steps)
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * n) { w in
            let k1 = UnsafeMutableBufferPointer(rebasing: w[0..<n])
            let k2 = UnsafeMutableBufferPointer(rebasing: w[n..<(2 * n)])
            let k3 = UnsafeMutableBufferPointer(rebasing: w[(2 * n)..<(3 * n)])
            let k4 = UnsafeMutableBufferPointer(rebasing: w[(3 * n)..<(4 * n)])
            let y = UnsafeMutableBufferPointer(rebasing: w[(4 * n)..<(5 * n)])
            let x = UnsafeBufferPointer(state)
            for s in 0..<steps {
                let t = time + Double(s) * h
                system.derivatives(t: t, y: x, dy: k1)
                if rk4 {
                    for i in 0..<n { y[i] = state[i] + 0.5 * h * k1[i] }
                    system.derivatives(t: t + 0.5 * h, y: UnsafeBufferPointer(y), dy: k2)
                    for i in 0..<n { y[i] = state[i] + 0.5 * h * k2[i] }
                    system.derivatives(t: t + 0.5 * h, y: UnsafeBufferPointer(y), dy: k3)
                    for i in 0..<n { y[i] = state[i] + h * k3[i] }
                    system.derivatives(t: t + h, y: UnsafeBufferPointer(y), dy: k4)
                    for i in 0..<n { state[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
                } else {
                    for i in 0..<n { y[i] = state[i] + h * k1[i] }
                    system.derivatives(t: t + h, y: UnsafeBufferPointer(y), dy: k2)
                    for i in 0..<n { state[i] += 0.5 * h * (k1[i] + k2[i]) }
                }
            }
            if let bad = Dense.firstNonFinite(state.baseAddress!, n) {
                throw SyncError(.nonFinite, "integrating the process model from t = \(time) over \(interval) made '\(system.variableNames[bad])' non-finite.",
                                value: String(state[bad]))
            }
        }
    }

    public func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        noise.write(dimension: system.dimension, interval: interval, into: q)
    }
}

/// An ODE system whose right-hand side also depends on parameters passed at call time: the form needed
/// to estimate parameters by state augmentation.
public protocol ParametricODESystem: Sendable {
    var dimension: Int { get }
    var parameterCount: Int { get }
    var variableNames: [String] { get }
    var parameterNames: [String] { get }
    /// Writes `f(t, y; p)` into `dy`; must not allocate.
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>)
}

/// The augmented system `[y; p]` with `p' = 0`: filters estimate the parameters `p` together with the
/// state (give the parameters a small random-walk process noise so they can move).
public struct AugmentedODESystem<Base: ParametricODESystem>: ODESystem, Sendable {
    public let base: Base
    public init(_ base: Base) { self.base = base }
    public var dimension: Int { base.dimension + base.parameterCount }
    public var variableNames: [String] { base.variableNames + base.parameterNames }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let n = base.dimension
        let p = base.parameterCount
        base.derivatives(t: t, y: UnsafeBufferPointer(rebasing: y[0..<n]), parameters: UnsafeBufferPointer(rebasing: y[n..<(n + p)]),
                         dy: UnsafeMutableBufferPointer(rebasing: dy[0..<n]))
        for i in n..<(n + p) { dy[i] = 0 }
    }
}
