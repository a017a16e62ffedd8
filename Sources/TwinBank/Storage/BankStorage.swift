import TwinCore

/// The storage seam of the bank. Implementations: ``MemoryStorage`` here, `SQLiteStorage` in TwinBankSQLite.
/// Both pass the same conformance suite (`StorageConformance` in the testing library TwinStorageTesting), which
/// every storage's tests run.
///
/// Guarantees every implementation must give:
/// - `write` is all-or-nothing: if the body throws, nothing it did is visible afterwards; once `write` returns,
///   the changes are durable.
/// - Reads inside a `write` see that write's earlier changes.
/// - Queries are answered with the storage's own indexes: ``StorageReader/events(_:)`` and
///   ``StorageReader/latest(twin:code:category:atOrBefore:maxSequence:visibility:)`` must not need the bank to scan a
///   twin's whole thread.
/// - `read` and `write` are **blocking**: they run their synchronous body on the calling thread and wait for the
///   storage's I/O there. Each calls ``BlockingWork/check(_:)`` first. Async callers go through ``runBlocking(_:)``
///   (``Bank/run(_:)``), which runs the work where the storage allows blocking, never on a thread of Swift's
///   cooperative pool nor on a NIO event loop (see ``BlockingWork``).
/// - The bulk reads (``StorageReader/objects(_:)``, ``StorageReader/twins(withCode:)``,
///   ``StorageReader/latestValues(code:category:atOrBefore:from:maxSequence:visibility:plausibleOnly:)``) answer for
///   all twins at once, in a number of storage queries that does not grow with the number of twins.
public protocol BankStorage: Sendable {
    /// Runs `body` with a consistent read view, blocking the calling thread.
    func read<T>(_ body: (any StorageReader) throws -> T) throws -> T
    /// Runs `body` in one transaction, blocking the calling thread; commits if it returns, rolls back if it throws.
    func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T
    /// Runs blocking work on this storage (`body` calls ``read(_:)`` and ``write(_:)``, perhaps several times) from
    /// async code: on threads the storage owns (SQLite, PostgreSQL: a thread pool), so the calling task suspends
    /// instead of blocking a thread of the cooperative pool; a storage that never waits on I/O (memory) may run it
    /// inline with ``BlockingWork/isHopped`` set. Returns or throws what `body` does; `body` runs at most once (a task
    /// cancelled before the work starts gets `CancellationError` and nothing runs).
    func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T
    /// After an erasure has committed: makes sure the bytes it purged are gone from the storage's files (see the
    /// extension's default and `SQLiteStorage`).
    func eraseFreedSpace() throws -> PhysicalErasure
}

/// Read access within a transaction.
public protocol StorageReader: AnyObject {
    // MARK: Sequence and recorded time
    /// The highest sequence number used (0 for an empty bank).
    func lastSequence() throws -> Int64
    /// The recorded time of the last batch, if any.
    func lastRecorded() throws -> Instant?
    /// The highest sequence number of batches recorded at or before `instant` (0 if none).
    func sequence(knownAt instant: Instant) throws -> Int64

    // MARK: Named references and objects
    /// The value of a named reference (`twin/ID`, `aggregate/ID`, `branch/main`, `tag/v1`, `template/ID@2`).
    func ref(_ name: String) throws -> String?
    /// All references whose name starts with `prefix`, sorted by name.
    func refs(prefix: String) throws -> [(name: String, value: String)]
    /// A content-addressed object's bytes.
    func object(_ hash: ContentHash) throws -> [UInt8]?

    // MARK: Thread
    /// Events of one twin's own rows matching the query, ordered by (effective start, sequence).
    func events(_ query: EventQuery) throws -> [Event]
    /// The latest event of a twin's own rows for a code with effective start `<= instant`
    /// (ties broken by the larger sequence), within the sequence limit and visibility.
    /// `category` nil means any category.
    func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?, visibility: Visibility) throws -> Event?
    /// The codes that occur in a twin's own rows (in any state).
    func codes(of twin: TwinID) throws -> [CodeKey]
    /// The twins that have events from a source.
    func twins(withSource source: Source) throws -> [TwinID]
    /// Events with sequence in `range` across all twins, in sequence order, at most `limit`.
    func events(sequences range: ClosedRange<Int64>, limit: Int) throws -> [Event]
    /// The content hashes of all of a twin's own rows.
    func eventHashes(of twin: TwinID) throws -> Set<ContentHash>
    /// The content hashes of a twin's own rows of a code with effective start in `from...to`, in any state
    /// (retracted ones included): what a batch's duplicate check needs, without decoding the events.
    func eventHashes(twin: TwinID, code: CodeKey, from: Instant, to: Instant) throws -> Set<ContentHash>
    /// The first unit recorded for a code in this bank.
    func unit(for code: CodeKey) throws -> String?
    /// The first unit recorded for every code that has one (what ``unit(for:)`` answers, all at once).
    func units() throws -> [CodeKey: String]

    // MARK: Bulk reads (queries over many twins, such as aggregates)
    /// The bytes of several content-addressed objects, keyed by hash (those missing are absent). Answered with
    /// a number of storage queries that does not grow with the number of hashes (batches of thousands).
    func objects(_ hashes: [ContentHash]) throws -> [ContentHash: [UInt8]]
    /// The twins whose own rows have a code (in any state): exactly those whose ``codes(of:)`` lists it.
    func twins(withCode code: CodeKey) throws -> Set<TwinID>
    /// For every twin at once, what ``latest(twin:code:category:atOrBefore:maxSequence:visibility:)`` gives for
    /// its own rows, with effective start also `>= from` (nil: no lower bound), and with `plausibleOnly` skipping
    /// the events flagged implausible (``TwinCore/Provenance/isFlaggedImplausible``): the latest plausible one,
    /// as what a comparison reads of it (``LatestValue``: value, effective start, sequence; not the whole event).
    /// Twins without such an event are absent. One indexed query per code (not one per twin): the bank's
    /// aggregates read their thread values with it.
    func latestValues(code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, from: Instant?, maxSequence: Int64?,
                      visibility: Visibility, plausibleOnly: Bool) throws -> [TwinID: LatestValue]
    /// The hashes of every stored object of a kind (`twin`, `twin-version`, `aggregate`, `fhir` ...), sorted: what
    /// an erasure searches for the versions of a person's definitions, including those no reference names any more.
    func objectHashes(kind: String) throws -> [ContentHash]

    // MARK: Enumeration of the whole bank (backup; see `Bank.backup(to:attachments:progress:)`)
    /// The batch records (what ``StorageWriter/append(_:batch:)`` recorded) with last sequence `> after`, in
    /// increasing last sequence, at most `limit`: one bulk query per page, so a backup pages through every batch
    /// (with ``events(sequences:limit:)`` for their events) in a number of queries that grows with the pages, not
    /// the events. A record's first and last sequence and recorded time read back as appended.
    func batches(after: Int64, limit: Int) throws -> [BatchRecord]
    /// The batch appended with this idempotency key (``BatchRecord/idempotency``), if any: one indexed lookup (keys are
    /// unique in the bank; a second batch with the same key must make ``StorageWriter/append(_:batch:)`` throw).
    func batch(idempotencyKey key: String) throws -> BatchRecord?
    /// The stored objects (hash, kind and bytes, as ``StorageWriter/putObject(_:kind:bytes:)`` or
    /// ``StorageWriter/replaceObject(_:kind:bytes:)`` left them) whose hash is above `after` (nil: from the first),
    /// in increasing order of the hash's bytes, at most `limit`: one bulk query per page.
    func objects(after: ContentHash?, limit: Int) throws -> [StoredObject]
}

/// Write access within a transaction.
public protocol StorageWriter: StorageReader {
    /// Appends events already validated and numbered by the bank, as one batch. Sequences must be
    /// `batch.firstSequence ... batch.lastSequence`, increasing, above ``StorageReader/lastSequence()``.
    /// Every field is stored as given, including ``Event/retractedAtSequence`` and ``Event/erasure``
    /// (import keeps a bundle's retractions), and the batch's ``BatchRecord/idempotency`` (whose key must not be
    /// used by another batch: the write then throws). An empty batch still records its recorded time.
    func append(_ events: [Event], batch: BatchRecord) throws
    /// Marks every current (not yet retracted) row from `source` (except retraction events) as retracted at
    /// `sequence`; with `erasure`, also purges the value and provenance notes of every row from `source`
    /// (retracted earlier or now) that is not yet erased, keeping the reason (see ``Erasure``).
    /// Returns the number of rows marked.
    @discardableResult
    func retract(source: Source, atSequence sequence: Int64, erasure: String?) throws -> Int
    /// Marks the rows with the given sequence numbers (those that exist, are current and are not retraction
    /// events) as retracted at `sequence`; with `erasure`, also purges the payload of each of these rows that
    /// is not yet erased (see ``Erasure``). Returns the number of rows marked.
    @discardableResult
    func retract(sequences: [Int64], atSequence sequence: Int64, erasure: String?) throws -> Int
    /// Sets (or with nil removes) a named reference.
    func setRef(_ name: String, _ value: String?) throws
    /// Stores an object under its hash (no-op if present).
    func putObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws
    /// Records the first unit of a code (no-op if one is recorded).
    func setUnit(_ unit: String, for code: CodeKey) throws

    // MARK: Erasure (the right to erasure; see `Bank.erase(twin:reason:)`)
    /// Turns the rows with these sequence numbers (those that exist) into tombstones (``Erasure/tombstone(_:reason:)``):
    /// value, unit, text, binary and the whole provenance are purged; the code becomes ``Erasure/tombstoneCode``, the
    /// source ``Erasure/tombstoneSource``, the effective time the recorded time and the id
    /// ``Erasure/tombstoneID(twin:sequence:)``; sequence, twin, recorded time and retraction state stay, with `reason`
    /// as the erasure. Then the indexes of the twins concerned hold only what their rows still have (``codes(of:)``,
    /// ``twins(withSource:)``, ``twins(withCode:)``), and dictionary entries no row uses any more are dropped (the
    /// first unit of a code no row has, ``units()``; in SQLite also the codes, sources and units tables), so no
    /// index or dictionary keeps what was erased. Rows already tombstoned are tombstoned again (same result).
    @discardableResult
    func erase(sequences: [Int64], reason: String) throws -> StorageErasure
    /// Replaces the bytes (and kind) of an object under the same hash (inserting it if absent). Only for an erasure:
    /// the hash then no longer is the hash of the bytes (see `Bank.erase(twin:reason:)`, which makes such objects
    /// recognisable).
    func replaceObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws
    /// Removes an object (no-op if absent). Only for an erasure; references to it must be removed first.
    func deleteObject(_ hash: ContentHash) throws
}

/// What ``StorageWriter/erase(sequences:reason:)`` changed.
public struct StorageErasure: Sendable, Hashable, Codable {
    /// Rows turned into tombstones.
    public var rows: Int
    /// Index rows removed: (twin, code) and (source, twin) pairs no row has any more (the tombstone's own pair added
    /// back is not counted).
    public var indexRowsRemoved: Int
    /// Dictionary entries dropped because no row uses them any more (first units of codes; in SQLite also entries
    /// of the codes, sources and units tables).
    public var dictionaryEntriesDropped: Int
    public init(rows: Int = 0, indexRowsRemoved: Int = 0, dictionaryEntriesDropped: Int = 0) {
        self.rows = rows; self.indexRowsRemoved = indexRowsRemoved; self.dictionaryEntriesDropped = dictionaryEntriesDropped
    }
}

/// What ``BankStorage/eraseFreedSpace()`` did to the bytes on disk after an erasure.
public struct PhysicalErasure: Sendable, Hashable, Codable {
    /// Whether the storage keeps data in files at all (false: memory; nothing to do).
    public var applies: Bool
    /// Whether the file was rebuilt (SQLite `VACUUM`), so no free page or free space of a page keeps old bytes.
    public var rebuilt: Bool
    /// Whether the write-ahead log was emptied (checkpointed and truncated to zero bytes); nil where none applies.
    public var walTruncated: Bool?
    /// What to do when something could not be done (a reader kept the log busy), else nil.
    public var advice: String?
    public init(applies: Bool, rebuilt: Bool = false, walTruncated: Bool? = nil, advice: String? = nil) {
        self.applies = applies; self.rebuilt = rebuilt; self.walTruncated = walTruncated; self.advice = advice
    }
}

extension BankStorage {
    /// After an erasure has committed: makes sure the bytes of what it purged are gone from the storage's files (freed
    /// pages and free space zeroed or rebuilt, the write-ahead log emptied). Default (a storage without files):
    /// nothing to do.
    public func eraseFreedSpace() throws -> PhysicalErasure { PhysicalErasure(applies: false) }
}

extension StorageReader {
    /// By default, the ids of ``events(_:)`` (a storage may answer from its index without decoding events).
    public func eventHashes(twin: TwinID, code: CodeKey, from: Instant, to: Instant) throws -> Set<ContentHash> {
        Set(try events(EventQuery(twin: twin, code: code, from: from, to: to, visibility: .all)).map(\.id))
    }
}
