/// An error from the model library: a bad parameter, an unknown virtual patient, a malformed meal plan, a solver
/// failure inside a model run. The message says what is wrong and what to do; `value` is the offending input.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. New codes may be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidParameter, unknownPatient, invalidMealPlan, invalidSchedule, invalidDose, nonFiniteState,
                 solverFailure, invalidArgument
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A parameter is negative, zero where it must be positive, or not finite.
        public static let invalidParameter = Code(.invalidParameter)
        /// No virtual patient has the given name.
        public static let unknownPatient = Code(.unknownPatient)
        /// A meal plan could not be parsed or holds an impossible meal.
        public static let invalidMealPlan = Code(.invalidMealPlan)
        /// A time schedule (contact rate, dosing) is not ordered or holds a bad value.
        public static let invalidSchedule = Code(.invalidSchedule)
        /// A dose or dosing regimen is invalid.
        public static let invalidDose = Code(.invalidDose)
        /// A state became NaN or infinite during a run.
        public static let nonFiniteState = Code(.nonFiniteState)
        /// The integrator could not proceed (step size underflow, too many steps).
        public static let solverFailure = Code(.solverFailure)
        /// Any other bad argument (dimension mismatch, empty input).
        public static let invalidArgument = Code(.invalidArgument)
        public var description: String { base.rawValue }
    }

    /// What went wrong, in a category callers can switch on.
    public var code: Code
    /// A sentence a person can act on.
    public var message: String
    /// The offending value as the user gave it (parameter value, patient name, meal spec), if any.
    public var value: String?

    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code
        self.message = message
        self.value = value
    }

    public var description: String { message }

    /// Checks that a parameter is finite and strictly positive; the error names the parameter and its value.
    static func requirePositive(_ value: Double, _ name: String, in model: String) throws(ModelError) {
        guard value.isFinite, value > 0 else {
            throw ModelError(.invalidParameter, "\(model): parameter '\(name)' must be a positive finite number, got \(value)",
                             value: "\(value)")
        }
    }

    /// Checks that a parameter is finite and not negative; the error names the parameter and its value.
    static func requireNonNegative(_ value: Double, _ name: String, in model: String) throws(ModelError) {
        guard value.isFinite, value >= 0 else {
            throw ModelError(.invalidParameter, "\(model): parameter '\(name)' must be a non-negative finite number, got \(value)",
                             value: "\(value)")
        }
    }
}
