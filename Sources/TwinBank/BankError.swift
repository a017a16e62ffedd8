import TwinCore

/// The error thrown by TwinBank: a ``Code``, a message a person can act on, and the offending value.
///
/// Errors from parsing values (``TwinError``) pass through unchanged. A rejected write has written nothing.
public struct BankError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unknownTwin, duplicateTwin, unknownAggregate, duplicateAggregate, unknownCommit, ambiguousCommit
            case unknownTemplate, invalidEvent, duplicateEvent, unitMismatch, beforeTwinExisted, invalidFork
            case invalidQuery, invalidBundle, bundleHashMismatch, accessDenied, storageFailure, notABank, invalidCSV
            case invalidReference, nothingToCommit, invalidRecordName
            case bankExists
            case uncommittedChanges
            case futureObservation
            case erasedTwin, notErasable
            case blockingOnTask
            case newerSchema
            case invalidBackup, bankNotEmpty
            case invalidIdempotencyKey, idempotencyConflict
            case unknownEvent
        }
        private let base: Base
        private init(_ b: Base) { base = b }
        public static let unknownTwin = Code(.unknownTwin)
        public static let duplicateTwin = Code(.duplicateTwin)
        public static let unknownAggregate = Code(.unknownAggregate)
        public static let duplicateAggregate = Code(.duplicateAggregate)
        public static let unknownCommit = Code(.unknownCommit)
        public static let ambiguousCommit = Code(.ambiguousCommit)
        public static let unknownTemplate = Code(.unknownTemplate)
        /// An event is malformed (for example a quantity without a unit on a code that needs one).
        public static let invalidEvent = Code(.invalidEvent)
        /// The same event (same content hash) is already in the thread or twice in the batch.
        public static let duplicateEvent = Code(.duplicateEvent)
        /// A unit is not commensurable with the unit first seen for the code in this bank.
        public static let unitMismatch = Code(.unitMismatch)
        /// An effective time or fork point lies before the twin existed.
        public static let beforeTwinExisted = Code(.beforeTwinExisted)
        public static let invalidFork = Code(.invalidFork)
        /// An aggregate query expression cannot be parsed.
        public static let invalidQuery = Code(.invalidQuery)
        public static let invalidBundle = Code(.invalidBundle)
        /// A bundle line, object or event does not match its hash.
        public static let bundleHashMismatch = Code(.bundleHashMismatch)
        public static let accessDenied = Code(.accessDenied)
        public static let storageFailure = Code(.storageFailure)
        /// The file is not a Twinbank bank (not SQLite, or SQLite without the bank's schema).
        public static let notABank = Code(.notABank)
        public static let invalidCSV = Code(.invalidCSV)
        /// A branch or tag name is invalid, or a tag already exists.
        public static let invalidReference = Code(.invalidReference)
        public static let nothingToCommit = Code(.nothingToCommit)
        /// A record name is empty or has control characters.
        public static let invalidRecordName = Code(.invalidRecordName)
        /// A new bank was asked for where a bank (or any other file or folder) already is.
        public static let bankExists = Code(.bankExists)
        /// A branch switch would lose uncommitted twin or aggregate definitions.
        public static let uncommittedChanges = Code(.uncommittedChanges)
        /// An observation is effective beyond the bank's clock plus its ``Bank/observationSkew``: what has not
        /// happened yet cannot have been observed (a prediction or a planned intervention may lie in the future).
        public static let futureObservation = Code(.futureObservation)
        /// The twin was erased (the right to erasure): its id stays reserved, its data is gone.
        public static let erasedTwin = Code(.erasedTwin)
        /// An erasure cannot be done as asked (a template, an empty reason).
        public static let notErasable = Code(.notErasable)
        /// A blocking storage call made on a Swift concurrency task's thread under ``BlockingWork/forbiddingOnTasks(_:)``
        /// (debug builds): the async caller must go through ``Bank/run(_:)``.
        public static let blockingOnTask = Code(.blockingOnTask)
        /// The bank's stored schema is newer than this program knows (written by a later version): it is not opened,
        /// so nothing is read or written wrongly; use a version at least as new as the bank's.
        public static let newerSchema = Code(.newerSchema)
        /// A backup file is not a Twinbank backup, is of an unknown version, or is truncated or altered (its hash
        /// or counts do not match its trailer).
        public static let invalidBackup = Code(.invalidBackup)
        /// A restore was asked into a bank (or audit log) that already holds something.
        public static let bankNotEmpty = Code(.bankNotEmpty)
        /// An idempotency key that is empty, too long or has control characters (``Bank/append(_:idempotencyKey:)``).
        public static let invalidIdempotencyKey = Code(.invalidIdempotencyKey)
        /// An idempotency key already used for a batch of other events: nothing was written.
        public static let idempotencyConflict = Code(.idempotencyConflict)
        /// No event with this reference in the twin's thread that was named (``Bank/retract(event:reason:erase:twin:)``).
        public static let unknownEvent = Code(.unknownEvent)
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

    static func unknownTwin(_ id: TwinID) -> BankError {
        BankError(.unknownTwin, "unknown twin '\(id)': no twin with this id in the bank", value: id.rawValue)
    }
}
