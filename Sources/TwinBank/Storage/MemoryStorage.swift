import Foundation
import TwinCore

/// An in-memory ``BankStorage``: the reference implementation of the storage semantics, for tests and
/// short-lived banks. Transactions copy the state and swap it in on success, so a failed write leaves no trace.
/// Its ``changes()`` feed (``StorageChangeFeed``) is signalled by its own commits: every writer of a memory bank holds
/// this object.
public final class MemoryStorage: BankStorage, StorageChangeFeed, @unchecked Sendable {
    struct State {
        var lastSequence: Int64 = 0
        var batches: [BatchRecord] = []
        var refs: [String: String] = [:]
        var objects: [ContentHash: [UInt8]] = [:]
        var kinds: [ContentHash: String] = [:]
        var threads: [TwinID: [Event]] = [:]
        var units: [CodeKey: String] = [:]
    }

    private let lock = NSLock()
    private var state = State()
    private var subscribers: [Int: AsyncThrowingStream<Int64, any Error>.Continuation] = [:]
    private var nextSubscriber = 0

    public init() {}

    /// The last sequence number now, then after each committed write that appended, retracted or erased (see
    /// ``StorageChangeFeed``); a subscriber that falls behind gets the latest. Ends when the consumer stops.
    public func changes() -> AsyncThrowingStream<Int64, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Int64.self, throwing: (any Error).self, bufferingPolicy: .bufferingNewest(1))
        let id: Int = lock.withLock {
            defer { nextSubscriber += 1 }
            subscribers[nextSubscriber] = continuation
            // under the lock: no commit can come between the current value and the registration
            continuation.yield(state.lastSequence)
            return nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.withLock { _ = self.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    public func read<T>(_ body: (any StorageReader) throws -> T) throws -> T {
        try BlockingWork.check("memory read")
        lock.lock(); defer { lock.unlock() }
        return try body(Transaction(state))
    }

    public func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        try BlockingWork.check("memory write")
        lock.lock(); defer { lock.unlock() }
        let tx = Transaction(state)
        let result = try body(tx)
        state = tx.state
        if tx.changedEvents {
            for continuation in subscribers.values { continuation.yield(state.lastSequence) }
        }
        return result
    }

    /// Runs `body` inline on the calling task: memory transactions wait on a lock held only for in-memory work,
    /// never on I/O. The storage calls inside count as hopped (``BlockingWork/isHopped``), so code that is correct
    /// on this storage is correct on one that hops to its own threads.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try BlockingWork.$isHopped.withValue(true) { try body() }
    }

    final class Transaction: StorageWriter {
        var state: State
        /// Whether this transaction appended, retracted or erased (what the change feed signals).
        var changedEvents = false
        init(_ s: State) { state = s }

        func lastSequence() -> Int64 { state.lastSequence }
        func lastRecorded() -> Instant? { state.batches.last?.recorded }
        func sequence(knownAt instant: Instant) -> Int64 {
            var k: Int64 = 0
            for b in state.batches where b.recorded <= instant { k = max(k, b.lastSequence) }
            return k
        }
        func ref(_ name: String) -> String? { state.refs[name] }
        func refs(prefix: String) -> [(name: String, value: String)] {
            state.refs.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        func object(_ hash: ContentHash) -> [UInt8]? { state.objects[hash] }
        func events(_ q: EventQuery) -> [Event] {
            var out = (state.threads[q.twin] ?? []).filter(q.matches)
            out.sort(by: EventQuery.order)
            if q.descending { out.reverse() }
            if let limit = q.limit, out.count > limit { out = Array(out.prefix(limit)) }
            return out
        }
        func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?, visibility: Visibility) -> Event? {
            let q = EventQuery(twin: twin, code: code, category: category, to: instant, maxSequence: maxSequence, visibility: visibility)
            return (state.threads[twin] ?? []).filter(q.matches).max(by: EventQuery.order)
        }
        func codes(of twin: TwinID) -> [CodeKey] {
            Array(Set((state.threads[twin] ?? []).map(\.code.key))).sorted()
        }
        func twins(withSource source: Source) -> [TwinID] {
            state.threads.filter { $0.value.contains { $0.source == source } }.map(\.key).sorted()
        }
        func events(sequences range: ClosedRange<Int64>, limit: Int) -> [Event] {
            let all = state.threads.values.flatMap { $0.filter { range.contains($0.sequence) } }
            return Array(all.sorted { $0.sequence < $1.sequence }.prefix(limit))
        }
        func eventHashes(of twin: TwinID) -> Set<ContentHash> { Set((state.threads[twin] ?? []).map(\.id)) }
        func unit(for code: CodeKey) -> String? { state.units[code] }
        func units() -> [CodeKey: String] { state.units }
        func objects(_ hashes: [ContentHash]) -> [ContentHash: [UInt8]] {
            var out: [ContentHash: [UInt8]] = [:]
            for h in hashes { if let b = state.objects[h] { out[h] = b } }
            return out
        }
        func twins(withCode code: CodeKey) -> Set<TwinID> {
            Set(state.threads.filter { $0.value.contains { $0.code.key == code } }.map(\.key))
        }
        func latestValues(code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, from: Instant?, maxSequence: Int64?,
                          visibility: Visibility, plausibleOnly: Bool) -> [TwinID: LatestValue] {
            var out: [TwinID: LatestValue] = [:]
            for (twin, thread) in state.threads {
                let q = EventQuery(twin: twin, code: code, category: category, from: from, to: instant, maxSequence: maxSequence, visibility: visibility)
                let best = thread.filter { q.matches($0) && !(plausibleOnly && $0.isFlaggedImplausible) }.max(by: EventQuery.order)
                if let best { out[twin] = LatestValue(best) }
            }
            return out
        }

        func append(_ events: [Event], batch: BatchRecord) throws {
            if let key = batch.idempotency?.key, state.batches.contains(where: { $0.idempotency?.key == key }) {
                throw BankError(.storageFailure, "the idempotency key '\(key)' is already the key of another batch", value: key)
            }
            changedEvents = true
            for e in events {
                guard e.sequence > state.lastSequence else {
                    throw BankError(.storageFailure, "sequence \(e.sequence) is not above the last sequence \(state.lastSequence)")
                }
                state.lastSequence = e.sequence
                state.threads[e.twin, default: []].append(e)
            }
            state.lastSequence = max(state.lastSequence, batch.lastSequence)
            state.batches.append(batch)
        }
        func retract(source: Source, atSequence sequence: Int64, erasure: String?) -> Int {
            changedEvents = true
            var n = 0
            for (twin, var list) in state.threads {
                var changed = false
                for i in list.indices where list[i].source == source && list[i].category != .retraction {
                    if list[i].retractedAtSequence == nil {
                        list[i].retractedAtSequence = sequence
                        changed = true; n += 1
                    }
                    if let erasure, list[i].erasure == nil {
                        Erasure.purge(&list[i], reason: erasure)
                        changed = true
                    }
                }
                if changed { state.threads[twin] = list }
            }
            return n
        }
        func retract(sequences: [Int64], atSequence sequence: Int64, erasure: String?) -> Int {
            changedEvents = true
            let wanted = Set(sequences)
            var n = 0
            for (twin, var list) in state.threads {
                var changed = false
                for i in list.indices where wanted.contains(list[i].sequence) && list[i].category != .retraction {
                    if list[i].retractedAtSequence == nil {
                        list[i].retractedAtSequence = sequence
                        changed = true; n += 1
                    }
                    if let erasure, list[i].erasure == nil {
                        Erasure.purge(&list[i], reason: erasure)
                        changed = true
                    }
                }
                if changed { state.threads[twin] = list }
            }
            return n
        }
        func objectHashes(kind: String) -> [ContentHash] {
            state.kinds.filter { $0.value == kind }.map(\.key).sorted { $0.hex < $1.hex }
        }
        func batches(after: Int64, limit: Int) -> [BatchRecord] {
            // appended in increasing sequences: the stable sort keeps the order of records with equal last sequences
            Array(state.batches.filter { $0.lastSequence > after }.sorted { $0.lastSequence < $1.lastSequence }.prefix(max(0, limit)))
        }
        func batch(idempotencyKey key: String) -> BatchRecord? {
            state.batches.first { $0.idempotency?.key == key }
        }
        func objects(after: ContentHash?, limit: Int) -> [StoredObject] {
            // by the hex of the hash: the order of its bytes
            let from = after?.hex
            let hashes = state.objects.keys.map { ($0.hex, $0) }.filter { from == nil || $0.0 > from! }.sorted { $0.0 < $1.0 }.prefix(max(0, limit))
            return hashes.map { StoredObject(hash: $0.1, kind: state.kinds[$0.1] ?? "", bytes: state.objects[$0.1] ?? []) }
        }
        func setRef(_ name: String, _ value: String?) { state.refs[name] = value }
        func putObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) {
            if state.objects[hash] == nil { state.objects[hash] = bytes; state.kinds[hash] = kind }
        }
        func replaceObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) {
            state.objects[hash] = bytes; state.kinds[hash] = kind
        }
        func deleteObject(_ hash: ContentHash) {
            state.objects[hash] = nil; state.kinds[hash] = nil
        }
        func erase(sequences: [Int64], reason: String) -> StorageErasure {
            changedEvents = true
            let wanted = Set(sequences)
            var out = StorageErasure()
            for (twin, var list) in state.threads {
                var changed = false
                for i in list.indices where wanted.contains(list[i].sequence) {
                    Erasure.tombstone(&list[i], reason: reason)
                    changed = true; out.rows += 1
                }
                guard changed else { continue }
                let before = state.threads[twin] ?? []
                state.threads[twin] = list
                // the index pairs this twin had and has no more (what SQLite's twin_codes and twin_sources drop)
                out.indexRowsRemoved += Set(before.map(\.code)).subtracting(list.map(\.code)).count
                out.indexRowsRemoved += Set(before.map(\.source)).subtracting(list.map(\.source)).count
            }
            let used = Set(state.threads.values.flatMap { $0.map(\.code.key) })
            for code in state.units.keys where !used.contains(code) {
                state.units[code] = nil
                out.dictionaryEntriesDropped += 1
            }
            return out
        }
        func setUnit(_ unit: String, for code: CodeKey) {
            if state.units[code] == nil { state.units[code] = unit }
        }
    }
}

/// What an erasure removes from an event: ``purge(_:reason:)`` for the correction of known-wrong data
/// (`retract --erase`), ``tombstone(_:reason:)`` for the right to erasure (`Bank.erase(twin:reason:)`).
public enum Erasure {
    /// The code of a row erased under the right to erasure: what was measured is health data too.
    public static let tombstoneCode = Concept(system: "urn:twinbank:erased", code: "erased")
    /// The source of a row erased under the right to erasure (a source's text can identify a person).
    public static let tombstoneSource = Source(.bank, "erased")

    /// The id of an erased row: SHA-256 over `erased`, the twin and the sequence number (separated by a newline), so
    /// nothing computed from the erased values remains, and distinct rows keep distinct ids.
    public static func tombstoneID(twin: TwinID, sequence: Int64) -> ContentHash {
        EventHasher.sha256(Array("erased\n\(twin.rawValue)\n\(sequence)".utf8))
    }

    /// Turns a row into a tombstone of the right to erasure: value and the whole provenance purged, code
    /// ``tombstoneCode``, source ``tombstoneSource``, effective time its recorded time, id ``tombstoneID(twin:sequence:)``;
    /// the sequence, twin, recorded time and retraction state stay, and `reason` is the erasure.
    public static func tombstone(_ e: inout Event, reason: String) {
        e.value = nil
        e.provenance = Provenance()
        e.code = tombstoneCode
        e.source = tombstoneSource
        e.effective = EffectiveTime(e.recorded)
        e.id = tombstoneID(twin: e.twin, sequence: e.sequence)
        e.erasure = reason
    }

    /// Purges the payload (value and provenance notes) and records the reason. The id, code, times and
    /// source stay, as a tombstone.
    public static func purge(_ e: inout Event, reason: String) {
        e.value = nil
        e.provenance.notes = nil
        e.erasure = reason
    }
}
