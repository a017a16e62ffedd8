import TwinCore

/// The error of running a model for a twin: a ``Code``, a message a person can act on, and the offending value.
public struct RunError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable { case missingBinding, invalidBinding, modelFailed, unreadableModel }
        private let base: Base
        private init(_ b: Base) { base = b }
        /// The twin lacks an attribute or thread value the model needs.
        public static let missingBinding = Code(.missingBinding)
        /// A binding names something the model or the twin does not have.
        public static let invalidBinding = Code(.invalidBinding)
        /// The model failed to run (the message carries the model's own error).
        public static let modelFailed = Code(.modelFailed)
        /// The model file cannot be read.
        public static let unreadableModel = Code(.unreadableModel)
        public var description: String { base.rawValue }
    }
    public var code: Code
    public var message: String
    public var value: String?
    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code; self.message = message; self.value = value
    }
    public var description: String { message }
}
