import TwinCore

/// The writes of one storage transaction, given to the closure of ``Bank/write(_:)``.
///
/// Everything done through a writer becomes visible together when the closure returns, or not at all if the
/// closure throws: creating twins, updating them, appending several batches and storing records all commit
/// as one. Reads through the writer see the writes made before them in the same transaction.
///
/// Every call asks the bank's ``AccessGate`` first, exactly as the corresponding ``Bank`` method does, so a
/// denial inside the closure rolls back the whole transaction.
///
/// A writer is valid only inside the closure it was given to; do not keep it.
public struct BankWriter: ThreadReading {
    let bank: Bank
    let tx: any StorageWriter

    /// The twin with this id as written so far in this transaction, or nil if there is none.
    public func twin(_ id: TwinID) throws -> TwinRecord? {
        try bank.authorizeInTransaction(.read, id, tx, narrowing: false)
        return try bank.loadRecord(id, tx)
    }

    /// Creates a twin, as ``Bank/createTwin(_:)``.
    @discardableResult
    public func createTwin(_ twin: Twin) throws -> TwinRecord {
        try bank.authorizeInTransaction(.write, twin.id, tx)
        return try bank.createTwinInTransaction(twin, tx)
    }

    /// Replaces a twin's definition, as ``Bank/updateTwin(_:)``.
    @discardableResult
    public func updateTwin(_ twin: Twin) throws -> TwinRecord {
        try bank.authorizeInTransaction(.write, twin.id, tx)
        return try bank.updateTwinInTransaction(twin, tx)
    }

    /// Appends one batch, with every check of ``Bank/append(_:)``. Each call is its own batch (its own
    /// recorded time and consecutive sequence numbers); all batches of the transaction commit together.
    @discardableResult
    public func append(_ drafts: [EventDraft]) throws -> AppendResult {
        var seen = Set<TwinID>()
        for d in drafts where seen.insert(d.twin).inserted { try bank.authorizeInTransaction(.write, d.twin, tx) }
        if drafts.isEmpty {
            // nothing to write, but the answer tells the bank's last sequence number: asked as Bank.append does
            try bank.authorizeInTransaction(.read, nil, tx)
            let last = try tx.lastSequence()
            return AppendResult(count: 0, firstSequence: last + 1, lastSequence: last, recorded: bank.clock.now(), ids: [])
        }
        return try bank.appendInTransaction(drafts, tx)
    }

    /// Retracts one event in this transaction, with every check of ``Bank/retract(event:reason:erase:twin:)``: the
    /// retraction event and the event's retracted mark commit with the transaction's other writes, or not at all. A
    /// check made through this writer before it (a version read, a precondition) sees the thread the retraction acts on.
    @discardableResult
    public func retract(event reference: EventReference, reason: String, erase: Bool = false, twin: TwinID? = nil) throws -> RetractionResult {
        let reasonText = try Bank.retractionReason(reason)
        try bank.authorizeInTransaction(.retract, twin, tx)
        return try bank.retractEventInTransaction(reference, reason: reasonText, erase: erase, twin: twin, tx)
    }

    /// Retracts a source's events with effective start in `from...to` (in one twin, or across the bank) in this
    /// transaction, with every check of ``Bank/retract(source:from:to:twin:reason:erase:)`` (the gate asked for
    /// `retract` bank-wide, then for each twin holding the events), committing with the transaction or not at all.
    @discardableResult
    public func retract(source: Source, from: Instant, to: Instant, twin: TwinID? = nil, reason: String, erase: Bool = false) throws -> RetractionResult {
        let reasonText = try Bank.retractionReason(reason)
        try Bank.retractionRange(from, to)
        try bank.authorizeInTransaction(.retract, nil, tx)
        return try bank.retractRangeInTransaction(source, from: from, to: to, twin: twin, reason: reasonText, erase: erase, tx)
    }

    /// A twin's events as written so far in this transaction, as ``Bank/events(_:)`` (the gate's filter applied; the
    /// bank's ``Bank/restriction`` is not: a read inside a write serves the write, as an import's check of what is
    /// already there, and what its caller answers from it is the caller's to narrow).
    public func events(_ q: ThreadQuery) throws -> [Event] {
        let filter = try bank.decideInTransaction(.read, q.twin, tx, narrowing: false)
        return try bank.eventsAnswer(q, filter: filter, tx)
    }

    /// A twin's state as written so far in this transaction, as ``Bank/state(of:asOf:knownAt:knownAtSequence:code:category:)``.
    public func state(of twin: TwinID, asOf: Instant?, knownAt: Instant?, knownAtSequence: Int64?, code: CodeKey?, category: Event.Category?) throws -> [Event] {
        let filter = try bank.decideInTransaction(.read, twin, tx, narrowing: false)
        return try bank.stateAnswer(twin, asOf: asOf, knownAt: knownAt, knownAtSequence: knownAtSequence, code: code, category: category, filter: filter, tx)
    }

    /// The bytes of a named record, or nil if there is none (see ``Bank/record(named:)``).
    public func record(named name: String) throws -> [UInt8]? {
        try bank.authorizeInTransaction(.read, nil, tx)
        return try bank.recordInTransaction(name, tx)
    }

    /// Stores a named record if no record has this name yet (a conditional create), and says whether it did.
    /// An existing record is left as it is.
    /// - Throws: ``BankError`` `invalidRecordName` for an empty name or one with control characters.
    @discardableResult
    public func storeRecordIfAbsent(named name: String, kind: String, bytes: [UInt8]) throws -> Bool {
        try bank.authorizeInTransaction(.write, nil, tx)
        let ref = try Bank.recordRef(name)
        if try tx.ref(ref) != nil { return false }
        let h = EventHasher.sha256(bytes)
        try tx.putObject(h, kind: kind, bytes: bytes)
        try tx.setRef(ref, h.hex)
        return true
    }
}

extension Bank {
    /// Runs `body` in one storage transaction: everything it writes through the ``BankWriter`` commits
    /// together when it returns, and nothing is written if it throws (the error is rethrown).
    ///
    /// Use it when several writes must succeed or fail as one, for example a FHIR transaction bundle that
    /// creates twins, appends their events and stores shared records. Storage engines serialise writers, so
    /// keep the closure short and free of slow I/O.
    public func write<T>(_ body: (BankWriter) throws -> T) throws -> T {
        try writeAsking { tx in try body(BankWriter(bank: self, tx: tx)) }
    }

    /// The bytes of a named record, or nil if there is none.
    ///
    /// Records are content-addressed documents kept beside the twins for things that are not twins themselves
    /// (for example the FHIR Practitioner and Location resources an import referred to). They are bank-wide,
    /// not versioned by commits, and written with ``BankWriter/storeRecordIfAbsent(named:kind:bytes:)``.
    public func record(named name: String) throws -> [UInt8]? {
        try authorize(.read, nil)
        return try storage.read { tx in try recordInTransaction(name, tx) }
    }

    /// The names of the records whose name starts with `prefix`, sorted.
    public func recordNames(prefix: String = "") throws -> [String] {
        try authorize(.read, nil)
        return try storage.read { tx in
            try tx.refs(prefix: Self.recordPrefix + prefix).map { String($0.name.dropFirst(Self.recordPrefix.count)) }
        }
    }

    static let recordPrefix = "record/"

    static func recordRef(_ name: String) throws -> String {
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw BankError(.invalidRecordName, "invalid record name '\(name)': it must be non-empty and without control characters", value: name)
        }
        return recordPrefix + name
    }

    func recordInTransaction(_ name: String, _ tx: any StorageReader) throws -> [UInt8]? {
        guard let hex = try tx.ref(Self.recordRef(name)) else { return nil }
        guard let h = ContentHash(hex: hex), let bytes = try tx.object(h) else {
            throw BankError(.storageFailure, "record '\(name)' points to object \(hex), which is missing from the bank", value: hex)
        }
        return bytes
    }
}
