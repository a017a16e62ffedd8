import Foundation
import TwinCore

/// A ``BankStorage`` that forwards everything to another storage and counts the reads made through it, per
/// ``StorageReader`` method: for tests and benchmarks that check how many storage queries an operation makes
/// (for example that an aggregate query makes as many with 10 twins as with 10,000). Reads made inside `write`
/// transactions count too; writes are forwarded and not counted.
public final class CountingStorage: BankStorage, @unchecked Sendable {
    public let base: any BankStorage
    private let lock = NSLock()
    private var counted: [String: Int] = [:]

    public init(_ base: any BankStorage) { self.base = base }

    /// The number of calls per reader method name (`latest`, `objects`, ...) since creation or ``reset()``.
    public var counts: [String: Int] { lock.lock(); defer { lock.unlock() }; return counted }
    /// The number of reads since creation or ``reset()``.
    public var reads: Int { counts.values.reduce(0, +) }
    /// Sets every count back to zero.
    public func reset() { lock.lock(); counted = [:]; lock.unlock() }

    func count(_ method: String) { lock.lock(); counted[method, default: 0] += 1; lock.unlock() }

    public func read<T>(_ body: (any StorageReader) throws -> T) throws -> T {
        try base.read { tx in try body(Transaction(self, reader: tx, writer: nil)) }
    }

    public func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        try base.write { tx in try body(Transaction(self, reader: tx, writer: tx)) }
    }

    public func eraseFreedSpace() throws -> PhysicalErasure { try base.eraseFreedSpace() }

    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await base.runBlocking(body)
    }

    final class Transaction: StorageWriter {
        let owner: CountingStorage
        let reader: any StorageReader
        let writer: (any StorageWriter)?
        init(_ owner: CountingStorage, reader: any StorageReader, writer: (any StorageWriter)?) {
            self.owner = owner; self.reader = reader; self.writer = writer
        }

        func counting<T>(_ method: String, _ body: () throws -> T) rethrows -> T { owner.count(method); return try body() }
        func writing() throws -> any StorageWriter {
            guard let writer else { throw BankError(.storageFailure, "a write inside a read transaction") }
            return writer
        }

        func lastSequence() throws -> Int64 { try counting("lastSequence") { try reader.lastSequence() } }
        func lastRecorded() throws -> Instant? { try counting("lastRecorded") { try reader.lastRecorded() } }
        func sequence(knownAt instant: Instant) throws -> Int64 { try counting("sequence") { try reader.sequence(knownAt: instant) } }
        func ref(_ name: String) throws -> String? { try counting("ref") { try reader.ref(name) } }
        func refs(prefix: String) throws -> [(name: String, value: String)] { try counting("refs") { try reader.refs(prefix: prefix) } }
        func object(_ hash: ContentHash) throws -> [UInt8]? { try counting("object") { try reader.object(hash) } }
        func events(_ query: EventQuery) throws -> [Event] { try counting("events") { try reader.events(query) } }
        func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?,
                    visibility: Visibility) throws -> Event? {
            try counting("latest") {
                try reader.latest(twin: twin, code: code, category: category, atOrBefore: instant, maxSequence: maxSequence, visibility: visibility)
            }
        }
        func codes(of twin: TwinID) throws -> [CodeKey] { try counting("codes") { try reader.codes(of: twin) } }
        func twins(withSource source: Source) throws -> [TwinID] { try counting("twinsWithSource") { try reader.twins(withSource: source) } }
        func events(sequences range: ClosedRange<Int64>, limit: Int) throws -> [Event] {
            try counting("eventsBySequence") { try reader.events(sequences: range, limit: limit) }
        }
        func eventHashes(of twin: TwinID) throws -> Set<ContentHash> { try counting("eventHashes") { try reader.eventHashes(of: twin) } }
        func unit(for code: CodeKey) throws -> String? { try counting("unit") { try reader.unit(for: code) } }
        func units() throws -> [CodeKey: String] { try counting("units") { try reader.units() } }
        func objects(_ hashes: [ContentHash]) throws -> [ContentHash: [UInt8]] { try counting("objects") { try reader.objects(hashes) } }
        func twins(withCode code: CodeKey) throws -> Set<TwinID> { try counting("twinsWithCode") { try reader.twins(withCode: code) } }
        func latestValues(code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, from: Instant?, maxSequence: Int64?,
                          visibility: Visibility, plausibleOnly: Bool) throws -> [TwinID: LatestValue] {
            try counting("latestValues") {
                try reader.latestValues(code: code, category: category, atOrBefore: instant, from: from, maxSequence: maxSequence,
                                        visibility: visibility, plausibleOnly: plausibleOnly)
            }
        }

        func objectHashes(kind: String) throws -> [ContentHash] { try counting("objectHashes") { try reader.objectHashes(kind: kind) } }

        func batches(after: Int64, limit: Int) throws -> [BatchRecord] { try counting("batches") { try reader.batches(after: after, limit: limit) } }
        func batch(idempotencyKey key: String) throws -> BatchRecord? { try counting("batchByKey") { try reader.batch(idempotencyKey: key) } }
        func objects(after: ContentHash?, limit: Int) throws -> [StoredObject] {
            try counting("objectsAfter") { try reader.objects(after: after, limit: limit) }
        }

        func append(_ events: [Event], batch: BatchRecord) throws { try writing().append(events, batch: batch) }
        func erase(sequences: [Int64], reason: String) throws -> StorageErasure { try writing().erase(sequences: sequences, reason: reason) }
        func replaceObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws { try writing().replaceObject(hash, kind: kind, bytes: bytes) }
        func deleteObject(_ hash: ContentHash) throws { try writing().deleteObject(hash) }
        func retract(source: Source, atSequence sequence: Int64, erasure: String?) throws -> Int {
            try writing().retract(source: source, atSequence: sequence, erasure: erasure)
        }
        func retract(sequences: [Int64], atSequence sequence: Int64, erasure: String?) throws -> Int {
            try writing().retract(sequences: sequences, atSequence: sequence, erasure: erasure)
        }
        func setRef(_ name: String, _ value: String?) throws { try writing().setRef(name, value) }
        func putObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws { try writing().putObject(hash, kind: kind, bytes: bytes) }
        func setUnit(_ unit: String, for code: CodeKey) throws { try writing().setUnit(unit, for: code) }
    }
}
