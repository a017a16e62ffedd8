import TwinSimulation

/// What the simulator needs from a one-step integrator: steps bounded by a limit, dense output, restarts.
/// The integrators themselves are `TwinSimulation`'s (`DormandPrinceStepper`, `Rodas5Stepper`); the two
/// adapters below only add what SBML simulation needs around them (a step bound that can change between
/// steps, a failure kept as text, a model without state variables).
protocol SimulationStepper: AnyObject {
    var t: Double { get }
    var tPrevious: Double { get }
    var y: [Double] { get }
    var derivative: [Double] { get }
    /// The step size the next step will try first (`.infinity` when not yet known).
    var proposedStep: Double { get }
    /// Calls `body` with the current state (no copy).
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R
    var stiffnessDetected: Bool { get }
    /// Why the last `step` or `reset` failed.
    var failure: String? { get }
    func step(tMax: Double, hMax: Double) -> Bool
    func interpolate(_ time: Double, into out: inout [Double])
    func reset(t: Double, y: [Double], initialStep: Double?)
}

/// The solver options of an SBML run for `TwinSimulation`'s steppers: the run's tolerances (the relative one
/// kept at or above 1e-14, the least double precision can meet) and no step count limit (the simulator
/// counts steps itself).
func stepperOptions(method: SolverMethod, rtol: Double, atol: Double, maxStep: Double) -> SolverOptions {
    var o = SolverOptions(method: method, relativeTolerance: Swift.max(rtol, 1e-14), absoluteTolerance: .scalar(atol),
                          maxSteps: Int.max / 2)
    o.maxStep = maxStep.isFinite && maxStep > 0 ? maxStep : nil
    return o
}

/// `TwinSimulation`'s explicit Dormand-Prince 5(4) (PI step control, Hairer's dense output and stiffness
/// test) behind the simulator's stepper interface. A model without state variables (only rules and events)
/// has nothing to integrate: its clock advances in steps that start at 1e-6 and grow fivefold up to the
/// step bound, so that time-only triggers are still watched step by step.
final class ExplicitAdapter: SimulationStepper {
    private let stepper: DormandPrinceStepper?
    private let model: CompiledModel
    private(set) var failure: String?
    // The clock of a model without states.
    private var clock = 0.0, clockPrevious = 0.0, clockStep = 1e-6

    init(model: CompiledModel, t: Double, y: [Double], rtol: Double, atol: Double, maxStep: Double) throws(SBMLError) {
        self.model = model
        clock = t; clockPrevious = t
        guard model.dimension > 0 else { stepper = nil; return }
        do {
            let s = try DormandPrinceStepper(system: model, time: t, state: y,
                                             options: stepperOptions(method: .dormandPrince, rtol: rtol, atol: atol, maxStep: maxStep))
            try s.chooseInitialStep()
            stepper = s
        } catch {
            throw SBMLError(.integration, "the integrator cannot start at t = \(t): \(error.message)", value: "\(t)")
        }
    }

    var t: Double { stepper?.time ?? clock }
    var tPrevious: Double { stepper?.previousTime ?? clockPrevious }
    var y: [Double] { stepper?.state ?? [] }
    /// The coming step's size: after a start or reset, Hairer's initial step (chosen at the reset), so that
    /// the simulator's search for time switches covers the first step too.
    var proposedStep: Double { stepper?.nextStepSize ?? clockStep }
    var stiffnessDetected: Bool { stepper?.stiffnessDetected ?? false }
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        guard let stepper else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return stepper.withState(body)
    }
    var derivative: [Double] { currentDerivative(model, t: t, y: y) }

    func step(tMax: Double, hMax: Double) -> Bool {
        guard failure == nil else { return false }
        guard let stepper else {
            let h = Swift.min(clockStep, hMax)
            clockPrevious = clock
            clock = clock + h >= tMax ? tMax : clock + h
            clockStep = Swift.min(5 * clockStep, hMax)
            return true
        }
        let bound = hMax.isFinite && hMax > 0 ? hMax : .infinity
        if stepper.maxStep != bound { stepper.maxStep = bound }
        do {
            try stepper.step(limit: tMax)
            return true
        } catch {
            failure = error.message
            return false
        }
    }

    func interpolate(_ time: Double, into out: inout [Double]) {
        guard let stepper else { return }
        if out.count != stepper.dimension { out = [Double](repeating: 0, count: stepper.dimension) }
        out.withUnsafeMutableBufferPointer { stepper.interpolate(at: time, into: $0) }
    }

    func reset(t: Double, y: [Double], initialStep: Double?) {
        failure = nil
        guard let stepper else { clock = t; clockPrevious = t; clockStep = 1e-6; return }
        do {
            try stepper.reset(time: t, state: y)
            try stepper.chooseInitialStep()
        } catch {
            failure = error.message
        }
    }
}

/// `TwinSimulation`'s Rodas5P (stiff, L-stable Rosenbrock with a dense output that stays accurate on
/// stiff problems) behind the simulator's stepper interface.
final class Rodas5Adapter: SimulationStepper {
    private let stepper: any ODEStepper
    private let model: CompiledModel
    private(set) var failure: String?

    /// A stepper of `method` (`.rodas5P` or `.rodas5`) at `(t, y)`, or nil if it cannot start there (no state
    /// variables, a non-finite state).
    init?(model: CompiledModel, method: SolverMethod, t: Double, y: [Double], rtol: Double, atol: Double, maxStep: Double) {
        self.model = model
        guard model.dimension > 0 else { return nil }
        do {
            stepper = try Rodas5Stepper(system: model, time: t, state: y,
                                        options: stepperOptions(method: method == .rodas5 ? .rodas5 : .rodas5P, rtol: rtol, atol: atol, maxStep: maxStep))
        } catch {
            return nil
        }
    }

    /// Set by `reset`: the next step chooses its size afresh.
    private var fresh = true
    var proposedStep: Double { fresh ? .infinity : stepper.nextStepSize }
    var t: Double { stepper.time }
    var tPrevious: Double { stepper.previousTime }
    var y: [Double] { stepper.state }
    func withState<R>(_ body: (UnsafeBufferPointer<Double>) -> R) -> R { stepper.withState(body) }
    var stiffnessDetected: Bool { true }
    var derivative: [Double] { currentDerivative(model, t: stepper.time, y: stepper.state) }

    func step(tMax: Double, hMax: Double) -> Bool {
        guard failure == nil else { return false }
        do {
            try stepper.step(limit: tMax)
            fresh = false
            return true
        } catch {
            failure = error.message
            return false
        }
    }

    func interpolate(_ time: Double, into out: inout [Double]) {
        if out.count != stepper.dimension { out = [Double](repeating: 0, count: stepper.dimension) }
        out.withUnsafeMutableBufferPointer { stepper.interpolate(at: time, into: $0) }
    }

    func reset(t: Double, y: [Double], initialStep: Double?) {
        fresh = true
        failure = nil
        do {
            try stepper.reset(time: t, state: y)
        } catch {
            failure = error.message
        }
    }
}

/// The model's derivative at `(t, y)` (for the `delay()` history, which records slopes).
private func currentDerivative(_ model: CompiledModel, t: Double, y: [Double]) -> [Double] {
    var d = [Double](repeating: 0, count: y.count)
    y.withUnsafeBufferPointer { yb in d.withUnsafeMutableBufferPointer { model.derivatives(t: t, y: yb, dy: $0) } }
    return d
}
