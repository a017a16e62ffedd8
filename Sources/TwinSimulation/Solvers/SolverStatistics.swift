/// Work counters of an integration. All counts are cumulative over the run (or over the life of a stepper).
public struct SolverStatistics: Sendable, Hashable, Codable {
    /// Accepted steps.
    public var acceptedSteps: Int = 0
    /// Rejected steps (error test failed, or a non-finite trial stage, or a singular matrix).
    public var rejectedSteps: Int = 0
    /// Evaluations of the right-hand side `f(t, y)`, including those for finite-difference Jacobians.
    public var functionEvaluations: Int = 0
    /// Jacobian evaluations (analytic or finite-difference).
    public var jacobianEvaluations: Int = 0
    /// LU factorisations of the iteration matrix.
    public var luFactorizations: Int = 0
    /// Linear solves (forward + back substitutions).
    public var linearSolves: Int = 0
    /// Events that fired (time events and state events).
    public var eventsFired: Int = 0
    /// Restarts of the integrator after a state change or a method switch.
    public var restarts: Int = 0
    /// The time at which `.auto` first switched from the explicit to the stiff method, if it did.
    public var stiffnessSwitchTime: Double? = nil
    /// Number of method switches made by `.auto` (explicit → stiff and back).
    public var methodSwitches: Int = 0

    public init() {}

    /// Total step attempts.
    public var totalSteps: Int { acceptedSteps + rejectedSteps }

    /// Adds the counters of `other` (used when a run changes stepper).
    public mutating func accumulate(_ other: SolverStatistics) {
        acceptedSteps += other.acceptedSteps
        rejectedSteps += other.rejectedSteps
        functionEvaluations += other.functionEvaluations
        jacobianEvaluations += other.jacobianEvaluations
        luFactorizations += other.luFactorizations
        linearSolves += other.linearSolves
    }
}
