/// The one error type of `TwinSBML`: what went wrong (a stable `code`), a message a person can act on,
/// the offending value (an element id, a symbol, a file) and, where known, the line in the SBML file.
public struct SBMLError: Error, CustomStringConvertible, Sendable {
    /// A stable category of failure. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case malformedXML, invalidSBML, unknownMathML, undefinedSymbol, cyclicRules, unsupported
            case evaluation, integration, settings, io
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The document is not well-formed XML.
        public static let malformedXML = Code(.malformedXML)
        /// Well-formed XML that is not valid SBML (missing attribute, wrong structure).
        public static let invalidSBML = Code(.invalidSBML)
        /// A MathML element this reader does not know.
        public static let unknownMathML = Code(.unknownMathML)
        /// A symbol used in math or as a reference that no element defines.
        public static let undefinedSymbol = Code(.undefinedSymbol)
        /// Assignment rules (or initial assignments) that depend on each other in a cycle.
        public static let cyclicRules = Code(.cyclicRules)
        /// A valid SBML construct that this implementation does not simulate; the message names it.
        public static let unsupported = Code(.unsupported)
        /// Evaluating the model gave a non-finite value where one is not allowed (e.g. division by zero at t0).
        public static let evaluation = Code(.evaluation)
        /// The integrator failed (step size underflow, too many steps, non-finite derivatives).
        public static let integration = Code(.integration)
        /// A test-suite settings file or results file that cannot be read.
        public static let settings = Code(.settings)
        /// A file could not be read or written.
        public static let io = Code(.io)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// The offending value: an id, a symbol, a path.
    public let value: String?
    /// The 1-based line in the source document, when known.
    public let line: Int?

    public init(_ code: Code, _ message: String, value: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.value = value
        self.line = line
    }

    public var description: String {
        var s = "\(code): \(message)"
        if let line { s += " (line \(line))" }
        return s
    }
}
