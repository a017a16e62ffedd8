/// An error from a solver, a stepper or the module engine.
///
/// Every error names what went wrong (`code`), says it in a sentence a person can act on (`message`) and,
/// where it applies, carries the offending variable, module, time and value. Solvers never return a
/// partial or garbage trace together with an error: a run either completes (possibly stopped by an event)
/// or throws one of these.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidInput
            case nonFiniteValue
            case stepSizeUnderflow
            case tooManySteps
            case singularMatrix
            case unresolvedRead
            case conflictingWrite
            case unitMismatch
            case duplicateModule
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Bad arguments: negative tolerance, wrong state length, end time before start, unsorted output times...
        public static let invalidInput = Code(.invalidInput)
        /// A derivative or a state became NaN or infinite.
        public static let nonFiniteValue = Code(.nonFiniteValue)
        /// The step size needed for the requested accuracy fell below what floating point can resolve.
        public static let stepSizeUnderflow = Code(.stepSizeUnderflow)
        /// The integration needed more steps than `SolverOptions.maxSteps`.
        public static let tooManySteps = Code(.tooManySteps)
        /// The iteration matrix of the stiff solver stayed singular even after reducing the step size.
        public static let singularMatrix = Code(.singularMatrix)
        /// A module reads a variable that no module writes and that is not given as an input.
        public static let unresolvedRead = Code(.unresolvedRead)
        /// Two modules both claim to own the value of one variable.
        public static let conflictingWrite = Code(.conflictingWrite)
        /// Two declarations of one variable disagree on its unit.
        public static let unitMismatch = Code(.unitMismatch)
        /// Two modules share one id.
        public static let duplicateModule = Code(.duplicateModule)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what went wrong and, where possible, what to do about it.
    public var message: String
    /// The state variable concerned, if any (from `ODESystem.variableNames` or a module declaration).
    public var variable: String?
    /// The module concerned, if any.
    public var module: String?
    /// The simulated time at which it happened, if any.
    public var time: Double?
    /// The offending value, rendered as text (e.g. `"nan"`, `"-1.0"`).
    public var value: String?

    public init(code: Code, message: String, variable: String? = nil, module: String? = nil,
                time: Double? = nil, value: String? = nil) {
        self.code = code
        self.message = message
        self.variable = variable
        self.module = module
        self.time = time
        self.value = value
    }

    public var description: String {
        var text = "SimulationError(\(code)): \(message)"
        var details: [String] = []
        if let module { details.append("module '\(module)'") }
        if let variable { details.append("variable '\(variable)'") }
        if let time { details.append("t = \(time)") }
        if let value { details.append("value \(value)") }
        if !details.isEmpty { text += " [" + details.joined(separator: ", ") + "]" }
        return text
    }

    @usableFromInline
    static func invalid(_ message: String, value: String? = nil, variable: String? = nil) -> SimulationError {
        SimulationError(code: .invalidInput, message: message, variable: variable, value: value)
    }
}
