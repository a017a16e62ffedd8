import TwinCore

/// The reads of a twin's thread that rules and models make (``Bank/events(_:)`` and
/// ``Bank/state(of:asOf:knownAt:knownAtSequence:code:category:)``), wherever they are answered from: the ``Bank``
/// (each call its own transaction, decided and audited on its own), a ``ThreadReader`` (many reads of one twin in one
/// read transaction under one decision of the gate: ``Bank/reading(_:_:)``) or a ``BankWriter`` (inside a write
/// transaction, so what is read and what is then written agree).
///
/// Every implementation answers a query exactly as ``Bank`` does, with the gate's filter applied.
public protocol ThreadReading {
    /// The events of a query (as ``Bank/events(_:)``).
    func events(_ q: ThreadQuery) throws -> [Event]
    /// The latest event per code (as ``Bank/state(of:asOf:knownAt:knownAtSequence:code:category:)``).
    func state(of twin: TwinID, asOf: Instant?, knownAt: Instant?, knownAtSequence: Int64?, code: CodeKey?, category: Event.Category?) throws -> [Event]
}

extension ThreadReading {
    /// ``state(of:asOf:knownAt:knownAtSequence:code:category:)`` with the arguments a caller leaves out taken as
    /// ``Bank``'s defaults (the latest of all, known now, every code and category).
    public func state(of twin: TwinID, asOf: Instant? = nil, knownAt: Instant? = nil, code: CodeKey? = nil,
                      category: Event.Category? = nil) throws -> [Event] {
        try state(of: twin, asOf: asOf, knownAt: knownAt, knownAtSequence: nil, code: code, category: category)
    }
}

extension Bank: ThreadReading {}

/// One twin's thread read in one storage read transaction under one decision of the bank's gate: every read sees the
/// same snapshot of the bank, and the access is decided (and, with governance, audited) once for all of them instead
/// of once per read. Given to the closure of ``Bank/reading(_:_:)``; valid only inside it.
///
/// Reads answer exactly as ``Bank``'s (the gate's filter applied to each); a read of another twin's thread throws
/// `invalidQuery` (the decision was for this twin only).
public struct ThreadReader: ThreadReading {
    /// The twin whose thread this reader reads.
    public let twin: TwinID
    let bank: Bank
    let filter: (any AccessFilter)?
    let tx: any StorageReader

    public func events(_ q: ThreadQuery) throws -> [Event] {
        try confine(q.twin)
        return try bank.eventsAnswer(q, filter: filter, tx)
    }

    public func state(of twin: TwinID, asOf: Instant?, knownAt: Instant?, knownAtSequence: Int64?, code: CodeKey?, category: Event.Category?) throws -> [Event] {
        try confine(twin)
        return try bank.stateAnswer(twin, asOf: asOf, knownAt: knownAt, knownAtSequence: knownAtSequence, code: code, category: category, filter: filter, tx)
    }

    /// The events appended to the twin's own thread with sequence numbers in `range` (as
    /// ``Bank/events(of:sequences:)``: a fork's inherited events are not among them).
    public func events(sequences range: ClosedRange<Int64>) throws -> [Event] {
        try bank.ownEventsAnswer(twin, sequences: range, filter: filter, tx)
    }

    private func confine(_ other: TwinID) throws {
        guard other == twin else {
            throw BankError(.invalidQuery, "this reader was granted twin \(twin.rawValue)'s thread only, not \(other.rawValue)'s: read it through the bank", value: other.rawValue)
        }
    }
}

extension Bank {
    /// Reads `twin`'s thread in one read transaction under one decision of the gate (action `read` on the twin): for
    /// a rule or model that makes many reads of one thread, one decision (one audit entry, one wait for it to be
    /// durable) instead of one per read, and a consistent snapshot. The answer is returned only once the decision is
    /// recorded (``AccessGate/answerReading(_:from:_:)``).
    /// - Throws: ``BankError`` `accessDenied` as any read; what `body` throws.
    public func reading<T>(_ twin: TwinID, _ body: (ThreadReader) throws -> T) throws -> T {
        try answeringRead(.read, twin) { filter, tx in try body(ThreadReader(twin: twin, bank: self, filter: filter, tx: tx)) }
    }
}
