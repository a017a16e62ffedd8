/// The error thrown by TwinSync: assimilation, forecasts and synchronisation.
///
/// Every error names the problem (`code`), says what to do about it (`message`) and carries the offending
/// value (`value`) verbatim. Compare against the static members of ``Code`` rather than switching
/// exhaustively: new codes may be added without breaking callers.
public struct SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum so that new codes are not a breaking change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case dimensionMismatch, nonFinite, notPositiveDefinite, invalidTime, invalidArgument
            case invalidBounds, calibrationFailed, invalidPEtab, unsupported, simulationFailed, diverged
            case invalidBinding, conflictingOptions
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A vector or matrix does not have the size the model declares.
        public static let dimensionMismatch = Code(.dimensionMismatch)
        /// A state, covariance, observation or residual became NaN or infinite.
        public static let nonFinite = Code(.nonFinite)
        /// A covariance matrix is not positive definite and the filter's policy is to fail.
        public static let notPositiveDefinite = Code(.notPositiveDefinite)
        /// A time is not finite, lies in the future, or precedes the filter's time.
        public static let invalidTime = Code(.invalidTime)
        /// An argument is out of its allowed range (ensemble size, tolerance, sigma-point parameter...).
        public static let invalidArgument = Code(.invalidArgument)
        /// Parameter bounds are empty, inverted, non-finite, or a start lies outside them.
        public static let invalidBounds = Code(.invalidBounds)
        /// An optimiser could not evaluate the objective at any admissible point.
        public static let calibrationFailed = Code(.calibrationFailed)
        /// A PEtab problem file is missing, malformed or inconsistent.
        public static let invalidPEtab = Code(.invalidPEtab)
        /// A valid input uses a feature this implementation does not support (yet).
        public static let unsupported = Code(.unsupported)
        /// A filter lost track: no member or particle can explain an observation.
        public static let diverged = Code(.diverged)
        /// A model simulation failed (solver error, non-finite state).
        public static let simulationFailed = Code(.simulationFailed)
        /// A thread binding is malformed, missing, or does not fit the twin (a missing attribute, an unknown parameter).
        public static let invalidBinding = Code(.invalidBinding)
        /// Options were given together that do not combine (``SyncOptionRules``).
        public static let conflictingOptions = Code(.conflictingOptions)

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
