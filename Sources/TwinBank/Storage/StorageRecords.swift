import TwinCore

/// A twin as the bank stores it: its definition, and if it is a fork (an instance), where it forked from.
/// This is the content-addressed "twin" object of version control.
public struct TwinRecord: Sendable, Hashable, Codable {
    public var twin: Twin
    public var fork: ForkInfo?
    /// When the twin was created in this bank (or in the bank it was imported from).
    public var created: Instant
    /// Set on the tombstone an erasure leaves in place of every version of an erased twin's definition (see
    /// `Bank.erase(twin:reason:)`): when it was erased. Such a record has only the id, the kind and the creation
    /// time; its object's hash is that of the definition it replaced. Nil (and absent from the encoding, so hashes
    /// of other records do not change) otherwise.
    public var erased: Instant?

    public init(twin: Twin, fork: ForkInfo? = nil, created: Instant, erased: Instant? = nil) {
        self.twin = twin; self.fork = fork; self.created = created; self.erased = erased
    }
    public var id: TwinID { twin.id }
}

/// Where a fork (instance) branches off its parent: it sees the parent's events with sequence number
/// `<= parentSequence` and effective time `<= forkPoint` that are not retracted, plus its own.
public struct ForkInfo: Sendable, Hashable, Codable {
    public var parent: TwinID
    /// The bank's last sequence number when the fork was made.
    public var parentSequence: Int64
    /// The effective time of the fork point.
    public var forkPoint: Instant

    public init(parent: TwinID, parentSequence: Int64, forkPoint: Instant) {
        self.parent = parent; self.parentSequence = parentSequence; self.forkPoint = forkPoint
    }
}

/// Which rows a query sees along the recorded-time axis.
public enum Visibility: Sendable, Hashable {
    /// The current view: events not retracted.
    case current
    /// What was known after sequence number `k`: events with sequence `<= k` not retracted at or before `k`.
    case knownAt(Int64)
    /// Everything, retracted or not (for audit and export).
    case all
}

/// A query over the events of **one** twin's own rows (forks are resolved by the bank, not by storage).
public struct EventQuery: Sendable, Hashable {
    public var twin: TwinID
    public var code: CodeKey?
    public var category: Event.Category?
    /// Effective start `>= from`.
    public var from: Instant?
    /// Effective start `<= to`.
    public var to: Instant?
    /// Only rows with sequence `<= maxSequence` (a fork's cut-off).
    public var maxSequence: Int64?
    public var visibility: Visibility
    /// Newest first (by effective time, then sequence) instead of oldest first.
    public var descending: Bool
    public var limit: Int?
    /// Only events after this place in the order (``order(_:_:)``; before it when ``descending``): a keyset page's
    /// cursor, so a page costs its own rows, not the thread's.
    public var after: EventPosition?

    public init(twin: TwinID, code: CodeKey? = nil, category: Event.Category? = nil, from: Instant? = nil, to: Instant? = nil,
                maxSequence: Int64? = nil, visibility: Visibility = .current, descending: Bool = false, limit: Int? = nil,
                after: EventPosition? = nil) {
        self.twin = twin; self.code = code; self.category = category; self.from = from; self.to = to
        self.maxSequence = maxSequence; self.visibility = visibility; self.descending = descending; self.limit = limit
        self.after = after
    }

    /// Whether an event satisfies the query (the reference semantics every storage must match).
    public func matches(_ e: Event) -> Bool {
        guard e.twin == twin else { return false }
        if let code, e.code.key != code { return false }
        if let category, e.category != category { return false }
        if let from, e.effective.start < from { return false }
        if let to, e.effective.start > to { return false }
        if let maxSequence, e.sequence > maxSequence { return false }
        if let after, descending ? !(EventPosition(e) < after) : !(after < EventPosition(e)) { return false }
        switch visibility {
        case .current: return e.retractedAtSequence == nil
        case .knownAt(let k): return e.sequence <= k && (e.retractedAtSequence.map { $0 > k } ?? true)
        case .all: return true
        }
    }

    /// Sort order of results: by effective start, then sequence.
    public static func order(_ a: Event, _ b: Event) -> Bool {
        (a.effective.start, a.sequence) < (b.effective.start, b.sequence)
    }
}

/// An event's place in a thread's order (``EventQuery/order(_:_:)``): its effective start, then its sequence. A
/// page's cursor: the place of the last event a reader has.
public struct EventPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var effective: Instant
    public var sequence: Int64

    public init(effective: Instant, sequence: Int64) { self.effective = effective; self.sequence = sequence }
    /// The place of `event`.
    public init(_ event: Event) { self.init(effective: event.effective.start, sequence: event.sequence) }

    public static func < (a: EventPosition, b: EventPosition) -> Bool { (a.effective, a.sequence) < (b.effective, b.sequence) }
    public var description: String { "(\(effective.microseconds), \(sequence))" }
}

/// One write batch: the sequence numbers it used and its recorded time.
public struct BatchRecord: Sendable, Hashable {
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var recorded: Instant
    /// The idempotency key the batch was appended with, and the digest of what was asked (see
    /// `Bank.append(_:idempotencyKey:)`); nil for a batch appended without one.
    public var idempotency: Idempotency?

    /// An append's idempotency key and the digest of its drafts: a retry with the key and the same drafts returns
    /// the batch instead of appending again; the key with other drafts is refused.
    public struct Idempotency: Sendable, Hashable {
        /// The caller's key (1 to 200 characters, no control characters), unique in the bank.
        public var key: String
        /// SHA-256 over the drafts' content hashes, in order.
        public var digest: ContentHash
        public init(key: String, digest: ContentHash) { self.key = key; self.digest = digest }
    }

    public init(firstSequence: Int64, lastSequence: Int64, recorded: Instant, idempotency: Idempotency? = nil) {
        self.firstSequence = firstSequence; self.lastSequence = lastSequence; self.recorded = recorded; self.idempotency = idempotency
    }
}

/// What an aggregate's comparison reads of a twin's latest value of a code
/// (``StorageReader/latestValues(code:category:atOrBefore:from:maxSequence:visibility:plausibleOnly:)``): the
/// value, its effective start and its sequence number, without the rest of the event.
public struct LatestValue: Sendable, Hashable {
    /// Nil for an erased event.
    public var value: Value?
    /// The effective start.
    public var effective: Instant
    public var sequence: Int64

    public init(value: Value?, effective: Instant, sequence: Int64) {
        self.value = value; self.effective = effective; self.sequence = sequence
    }
    /// What a comparison reads of the event.
    public init(_ e: Event) { self.init(value: e.value, effective: e.effective.start, sequence: e.sequence) }

    /// Whether `other` is later: by effective start, then sequence (the order of ``EventQuery/order(_:_:)``).
    public func isBefore(_ other: LatestValue) -> Bool { (effective, sequence) < (other.effective, other.sequence) }
}

/// A content-addressed object as the storage keeps it (``StorageReader/objects(after:limit:)``): its hash, its kind
/// (`twin`, `commit`, `aggregate` ...) and its bytes.
public struct StoredObject: Sendable, Hashable {
    public var hash: ContentHash
    public var kind: String
    public var bytes: [UInt8]
    public init(hash: ContentHash, kind: String, bytes: [UInt8]) {
        self.hash = hash; self.kind = kind; self.bytes = bytes
    }
}
