import Foundation
import TwinCore

/// One atomic append to an ``AuditStore``: consecutive entries, the Merkle nodes they complete, and the signed
/// head of the log after them.
public struct AuditBatch: Sendable {
    /// Entries numbered from the store's current size, in order.
    public var entries: [AuditEntry]
    /// The nodes to store: the entries' leaf hashes (level 0) and the perfect subtrees they complete at levels 4
    /// and above (``AuditLog`` recomputes levels 1 to 3 from the leaves).
    public var nodes: [(MerkleNodeID, MerkleHash)]
    /// The head after the batch: `size` = old size + entries.count.
    public var head: SignedTreeHead
    /// The size of the previous latest head to delete in the same transaction (it is superseded and not a
    /// checkpoint, see ``AuditLog``), or nil to keep it.
    public var replacesHead: UInt64?

    public init(entries: [AuditEntry], nodes: [(MerkleNodeID, MerkleHash)], head: SignedTreeHead, replacesHead: UInt64? = nil) {
        self.entries = entries; self.nodes = nodes; self.head = head; self.replacesHead = replacesHead
    }

    /// Checks, inside the store's write transaction, that the batch continues the stored log: `nextEntry` is the
    /// number after the highest stored entry (0 when empty) and `headSize` the size of the latest stored head (0
    /// when none). Every store calls it with the two numbers it reads, so they all refuse alike.
    /// - Throws: ``GovernanceError`` `auditLogMoved` when the batch is numbered from an end of the log that another
    ///   writer has since extended under a consistent head (the ``AuditLog`` reads the end again, renumbers and
    ///   retries); `storageFailure` for any other mismatch (entries beyond the head, a gap).
    public func checkContinues(nextEntry: Int64, headSize: Int64) throws {
        guard let first = entries.first else { return }
        if nextEntry == headSize, Int64(first.sequence) < headSize {
            throw GovernanceError(.auditLogMoved, "audit batch starts at entry \(first.sequence) but another writer has appended up to entry \(headSize - 1)", value: "\(first.sequence)")
        }
        guard Int64(first.sequence) == headSize, nextEntry == headSize else {
            throw GovernanceError(.storageFailure, "audit batch starts at entry \(first.sequence) but the log's next entry is \(nextEntry) under a head of size \(headSize)", value: "\(first.sequence)")
        }
    }
}

/// Which entries to list (``AuditStore/entries(matching:)``).
public struct AuditQuery: Sendable, Hashable {
    public var twin: String?
    /// Inclusive lower bound on the entry's time.
    public var from: Instant?
    /// Inclusive upper bound on the entry's time.
    public var to: Instant?
    /// At most this many entries, oldest first.
    public var limit: Int?
    /// Only entries numbered after this sequence number (exclusive): the next page of a listing starts after the
    /// last entry of the previous one, so entries appended meanwhile neither repeat nor shift a page.
    public var after: UInt64?
    public init(twin: String? = nil, from: Instant? = nil, to: Instant? = nil, limit: Int? = nil, after: UInt64? = nil) {
        self.twin = twin; self.from = from; self.to = to; self.limit = limit; self.after = after
    }
    func matches(_ e: AuditEntry) -> Bool {
        (twin == nil || e.twin == twin) && (from.map { e.time >= $0 } ?? true) && (to.map { e.time <= $0 } ?? true)
            && (after.map { e.sequence > $0 } ?? true)
    }
}

/// Where an ``AuditLog`` keeps its entries, its Merkle nodes and its signed heads.
///
/// Guarantees every implementation gives (the conformance suite checks them on the memory and SQLite stores):
/// - ``append(_:)`` is atomic and durable: it returns only after the entries, nodes and head are committed
///   (for SQLite: the transaction committed with `synchronous = FULL`), and a failed append changes nothing;
/// - reads never see part of a batch;
/// - the store does not check the tree: ``AuditLog/verify(publicKey:)`` does, from what the store returns, so a
///   store whose rows were altered behind the log's back is detected there.
public protocol AuditStore: Sendable {
    /// Appends one batch atomically (see ``AuditBatch``).
    /// - Throws: ``GovernanceError`` `storageFailure`; nothing is written then.
    func append(_ batch: AuditBatch) throws
    /// The latest signed head, nil for an empty log.
    func latestHead() throws -> SignedTreeHead?
    /// Every stored signed head (the checkpoints and the latest), in increasing size.
    func heads() throws -> [SignedTreeHead]
    /// The stored entries with sequence numbers in `range`, in the order of their sequence numbers (rows whose
    /// numbers were changed are returned by their stored numbers: gaps and duplicates are the verifier's concern).
    func entries(in range: Range<UInt64>) throws -> [AuditEntry]
    /// The number of stored entry rows, whatever their sequence numbers.
    func entryCount() throws -> UInt64
    /// Entries matching a query, oldest first.
    func entries(matching query: AuditQuery) throws -> [AuditEntry]
    /// The stored hashes of `ids`; missing nodes are absent from the result.
    func nodes(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash]
}

/// An ``AuditStore`` in memory, for tests and for banks kept in memory.
public final class MemoryAuditStore: AuditStore, @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [AuditEntry] = []
    private var nodeTable: [MerkleNodeID: MerkleHash] = [:]
    private var headList: [SignedTreeHead] = []
    private var commits = 0
    /// How many appends committed (for tests of group commit).
    public var commitCount: Int { lock.lock(); defer { lock.unlock() }; return commits }
    /// Added latency per append (tests of group commit use it to make batching visible).
    public var commitDelay: TimeInterval = 0

    public init() {}

    public func append(_ batch: AuditBatch) throws {
        if commitDelay > 0 { Thread.sleep(forTimeInterval: commitDelay) }
        lock.lock(); defer { lock.unlock() }
        try batch.checkContinues(nextEntry: Int64(rows.count), headSize: Int64(headList.last?.size ?? 0))
        rows.append(contentsOf: batch.entries)
        for (id, h) in batch.nodes { nodeTable[id] = h }
        if let old = batch.replacesHead, headList.last?.size == old { headList.removeLast() }
        headList.append(batch.head)
        commits += 1
    }
    public func latestHead() throws -> SignedTreeHead? { lock.lock(); defer { lock.unlock() }; return headList.last }
    public func heads() throws -> [SignedTreeHead] { lock.lock(); defer { lock.unlock() }; return headList }
    public func entries(in range: Range<UInt64>) throws -> [AuditEntry] {
        lock.lock(); defer { lock.unlock() }
        let lo = Int(min(range.lowerBound, UInt64(rows.count))), hi = Int(min(range.upperBound, UInt64(rows.count)))
        return rows[lo..<hi].sorted { $0.sequence < $1.sequence }
    }
    public func entryCount() throws -> UInt64 { lock.lock(); defer { lock.unlock() }; return UInt64(rows.count) }
    public func entries(matching query: AuditQuery) throws -> [AuditEntry] {
        lock.lock(); defer { lock.unlock() }
        let m = rows.filter { query.matches($0) }
        return query.limit.map { Array(m.prefix($0)) } ?? m
    }
    public func nodes(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash] {
        lock.lock(); defer { lock.unlock() }
        var out: [MerkleNodeID: MerkleHash] = [:]
        for id in ids { if let h = nodeTable[id] { out[id] = h } }
        return out
    }

    /// Replaces a stored row behind the log's back (tests of tamper detection).
    public func tamper(_ body: (inout [AuditEntry]) -> Void) {
        lock.lock(); defer { lock.unlock() }
        body(&rows)
    }
}
