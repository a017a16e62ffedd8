/// A one-step integrator that a caller drives step by step (SBML events and delays, data assimilation).
///
/// Lifecycle: create it at `(t0, y0)`, call `step(limit:)` to advance one accepted step (never beyond
/// `limit`, landing on it exactly when it is reached), read the dense output of the last step with
/// `interpolate(at:into:)` for any `t` in `[previousTime, time]`, and call `reset(time:state:)` after a
/// discontinuity (a dose, an event): the next step then starts afresh (new initial step size, no
/// history). Integration runs forward in time only.
///
/// Steppers hold preallocated buffers and are not thread-safe; use one per task.
public protocol ODEStepper: AnyObject {
    /// Number of states.
    var dimension: Int { get }
    /// The time reached (end of the last accepted step).
    var time: Double { get }
    /// The start of the last accepted step (equals `time` before the first step and after a reset).
    var previousTime: Double { get }
    /// The state at `time` (a copy).
    var state: [Double] { get }
    /// The step size the stepper will try next.
    var nextStepSize: Double { get }
    /// Work counters since creation.
    var statistics: SolverStatistics { get }
    /// The method.
    var method: SolverMethod { get }

    /// Advances by one accepted step, not beyond `limit` (> `time`).
    /// - Throws: `SimulationError` for a non-finite state or derivative (naming the variable), a step
    ///   size underflow, a singular iteration matrix, or `limit <= time`.
    func step(limit: Double) throws(SimulationError)

    /// Writes the dense-output value at `t ∈ [previousTime, time]` into `out` (`dimension` entries).
    /// Outside that interval the polynomial is extrapolated (less accurate).
    func interpolate(at t: Double, into out: UnsafeMutableBufferPointer<Double>)

    /// Writes the dense-output values at each of `times` (all in `[previousTime, time]`) into `out`, row-major
    /// (`times.count × dimension`). A default implementation calls `interpolate(at:into:)` per time.
    func interpolate(at times: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>)

    /// Restarts at `(time, state)` after a discontinuity.
    /// - Throws: if `state` has the wrong length or a non-finite entry.
    func reset(time: Double, state: [Double]) throws(SimulationError)

    /// Calls `body` with the current state without copying it.
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R
}

extension ODEStepper {
    public func interpolate(at times: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>) {
        for r in 0..<times.count {
            interpolate(at: times[r], into: UnsafeMutableBufferPointer(start: out + r * dimension, count: dimension))
        }
    }

    /// The dense-output value at `t` as a new array.
    public func interpolate(at t: Double) -> [Double] {
        var out = [Double](repeating: 0, count: dimension)
        out.withUnsafeMutableBufferPointer { interpolate(at: t, into: $0) }
        return out
    }
}

/// Makes a stepper for `system` with the chosen options. For `.auto` this is a Dormand-Prince stepper with
/// stiffness detection (`ODESolver` performs the switch; a caller driving a stepper itself can check
/// `DormandPrinceStepper.stiffnessDetected` and move to `makeStepper` with `.rodas5P`).
public func makeStepper<System: ODESystem>(for system: System, time t0: Double, state y0: [Double],
                                           options: SolverOptions = SolverOptions()) throws(SimulationError) -> any ODEStepper {
    switch options.method {
    case .dormandPrince, .auto:
        return try DormandPrinceStepper(system: system, time: t0, state: y0, options: options)
    case .rodas5, .rodas5P:
        return try Rodas5Stepper(system: system, time: t0, state: y0, options: options)
    }
}
