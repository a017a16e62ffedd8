/// The error thrown by TwinPrognostic: trial analyses, prognostic model fits, predictions and their storage.
///
/// Every error names the problem (`code`), says what to do about it (`message`) and carries the offending
/// value (`value`) verbatim. Compare against the static members of ``Code`` rather than switching
/// exhaustively: new codes may be added without breaking callers.
public struct PrognosticError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum so that new codes are not a breaking change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidArgument, tooFewData, singular, unknownModel, corruptModel, outsideTrainingRange, missingFeature
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An argument is malformed or out of range (a non-finite outcome, arrays of different lengths, a bad horizon).
        public static let invalidArgument = Code(.invalidArgument)
        /// Too few people or observations to estimate what was asked (an arm with fewer than two, no training examples).
        public static let tooFewData = Code(.tooFewData)
        /// A design matrix is singular (a covariate that does not vary, an arm that is constant).
        public static let singular = Code(.singular)
        /// No stored prognostic model has this hash.
        public static let unknownModel = Code(.unknownModel)
        /// A stored model's bytes do not match their hash or do not decode.
        public static let corruptModel = Code(.corruptModel)
        /// A person's feature lies outside the range the model was trained on.
        public static let outsideTrainingRange = Code(.outsideTrainingRange)
        /// A person lacks a feature the model needs (no value of the outcome before the index time).
        public static let missingFeature = Code(.missingFeature)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence a person can act on.
    public var message: String
    /// The offending input, verbatim.
    public var value: String?

    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code
        self.message = message
        self.value = value
    }

    public var description: String { message }
}
