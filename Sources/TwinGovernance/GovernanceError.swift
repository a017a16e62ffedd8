import TwinCore

/// The error thrown by TwinGovernance: a ``Code``, a message a person can act on, and the offending value.
///
/// A governance operation that throws has changed nothing: no consent, policy, audit row or key is half-written.
public struct GovernanceError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case accessDenied, invalidConsent, invalidPolicy, auditTampered, invalidProof, invalidKey, storageFailure
            case budgetExhausted, invalidRelease, auditLogMoved
        }
        private let base: Base
        private init(_ b: Base) { base = b }
        /// The decision point refused the request (the message names the rule that denied it).
        public static let accessDenied = Code(.accessDenied)
        /// A consent record (or a FHIR `Consent`) is malformed or uses a construct that is not supported.
        public static let invalidConsent = Code(.invalidConsent)
        /// A bank policy is malformed (an unknown role, action or purpose).
        public static let invalidPolicy = Code(.invalidPolicy)
        /// A stored audit row does not match the log (changed, deleted or reordered); the value names the entry.
        public static let auditTampered = Code(.auditTampered)
        /// An inclusion or consistency proof does not verify, or its sizes and indices are out of range.
        public static let invalidProof = Code(.invalidProof)
        /// A key file is missing, unreadable, of the wrong size or readable by others than its owner.
        public static let invalidKey = Code(.invalidKey)
        public static let storageFailure = Code(.storageFailure)
        /// A differentially private query would exceed the requester's privacy budget.
        public static let budgetExhausted = Code(.budgetExhausted)
        /// A release (de-identification, k-anonymity, DP query) cannot be made as asked.
        public static let invalidRelease = Code(.invalidRelease)
        /// An audit batch was numbered from an older end of the log than the store's: another process appended
        /// meanwhile (``AuditLog`` then reloads the log's end and numbers the batch again).
        public static let auditLogMoved = Code(.auditLogMoved)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var value: String?

    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code
        self.message = message
        self.value = value
    }
    public var description: String { message }
}
