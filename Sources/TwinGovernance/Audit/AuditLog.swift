import Foundation
import TwinCore

/// The tamper-evident audit log: every access decision is an ``AuditEntry``, a leaf of an RFC 9162 Merkle tree
/// whose signed heads (``SignedTreeHead``) commit to everything recorded so far.
///
/// Promises:
/// - **durable before answered**: ``append(_:)`` returns only after the entry, its Merkle nodes and a new signed
///   head are committed by the store; if it throws, the entry is not in the log (and the access must be refused);
/// - every commit signs a head; the store keeps the latest and, as checkpoints, the last head of every block of
///   `checkpointInterval` entries (older heads of a block are superseded by a later one that covers them);
/// - **several processes** may append to one store (a long-lived `watch` beside short commands): a batch numbered
///   from an end of the log another process has since extended (the store refuses it, `auditLogMoved`) is numbered
///   again from the store's end;
/// - **group commit**: callers on several threads that append at the same time share one store transaction
///   (the first becomes the committer and takes every entry pending when it starts; the others wait for it),
///   so the commit rate under load is not limited by one transaction per access. Entries are numbered in the
///   order they join a batch. ``enqueue(_:startingCommit:)`` queues without waiting (a commit starts on another
///   thread) and ``wait(_:)`` waits: a read answered meanwhile costs max(read, commit), not their sum;
/// - proofs (``inclusionProof(entry:size:)``, ``consistencyProof(from:to:)``) read O(log n) stored nodes;
/// - ``verify(publicKey:)`` recomputes everything from the stored rows and names the first bad entry.
///
/// `append` blocks its thread while waiting (the ``AccessGate`` it serves is synchronous); call it from threads
/// that may block, not from many tasks of a small cooperative pool at once.
public final class AuditLog: @unchecked Sendable {
    public let store: any AuditStore
    private let signer: AuditSigner?
    private let clock: @Sendable () -> Instant
    private let checkpointInterval: UInt64

    fileprivate final class Pending {
        let drafts: [AuditEntry.Draft]
        var result: Result<[AuditEntry], any Error>?
        init(_ d: [AuditEntry.Draft]) { drafts = d }
    }
    private let cond = NSCondition()
    private var frontier: MerkleFrontier
    private var pending: [Pending] = []
    private var committing = false
    /// Whether a commit was started on another thread by ``enqueue(_:)`` and has not begun yet.
    private var commitScheduled = false
    private var commitCounter = 0
    /// Set when the stored tree does not match the latest head: appends are refused.
    private let damage: GovernanceError?

    /// The wall clock, in microseconds.
    public static let systemClock: @Sendable () -> Instant = { Instant(seconds: Date().timeIntervalSince1970) }

    /// Opens the log kept in `store`. Without a `signer` the log is read-only (``append(_:)`` throws `invalidKey`).
    /// - Throws: ``GovernanceError`` `storageFailure` from the store. A log whose stored tree does not give the
    ///   latest head's root opens for reading and ``verify(publicKey:)`` (which names the entry), but refuses appends.
    /// - Parameter checkpointInterval: which signed heads stay stored besides the latest: the last head of every
    ///   block of this many entries (1 keeps every head). Bounds the heads of a log committed one entry at a time.
    public init(store: any AuditStore, signer: AuditSigner?, checkpointInterval: UInt64 = 1024,
                clock: @escaping @Sendable () -> Instant = AuditLog.systemClock) throws {
        precondition(checkpointInterval >= 1)
        self.store = store; self.signer = signer; self.clock = clock; self.checkpointInterval = checkpointInterval
        switch try Self.end(of: store) {
        case .success(let f):
            frontier = f
            damage = nil
        case .failure(let e):
            // reading and verify still work; appending to a damaged tree would sign it
            frontier = MerkleFrontier()
            damage = e
        }
    }

    /// The end of the stored log (the frontier under its latest signed head), or the damage found: a stored tree
    /// that does not give the head's root.
    static func end(of store: any AuditStore) throws -> Result<MerkleFrontier, GovernanceError> {
        let head = try store.latestHead()
        let size = head?.size ?? 0
        let ids = Merkle.nodes(covering: 0 ..< size)
        let found = try Self.nodes(Set(ids), in: store)
        let peaks = ids.compactMap { found[$0] }
        if peaks.count == ids.count, let f = try? MerkleFrontier(size: size, peaks: peaks), f.root == head?.root ?? Merkle.emptyRoot {
            return .success(f)
        }
        return .failure(GovernanceError(.auditTampered, "the stored audit tree does not give the root of the latest signed head (size \(size)): the log was altered; run `twinbank audit verify` to find the entry", value: "head \(size)"))
    }

    /// How many times a batch is numbered again after another process appended to the log first.
    static let movedRetries = 8

    /// Inner nodes of levels 1 to 3 are not stored (an entry then costs about 1 + 1/16 stored hashes instead of 2):
    /// a proof that needs one recomputes it from the at most 8 leaf hashes under it, still O(log n) reads.
    static let unstoredLevels = 1 ... 3

    /// Whether a node the frontier creates is written to the store.
    static func isStored(_ id: MerkleNodeID) -> Bool { !unstoredLevels.contains(id.level) }

    /// The hashes of `ids`: stored nodes from the store, the unstored low levels folded from their leaves, in one
    /// store read. Missing nodes are absent from the result.
    static func nodes(_ ids: Set<MerkleNodeID>, in store: any AuditStore) throws -> [MerkleNodeID: MerkleHash] {
        var wanted = Set<MerkleNodeID>()
        var derived: [MerkleNodeID] = []
        for id in ids {
            if isStored(id) { wanted.insert(id); continue }
            derived.append(id)
            let first = id.index << UInt64(id.level)
            for j in first ..< first + (UInt64(1) << UInt64(id.level)) { wanted.insert(MerkleNodeID(level: 0, index: j)) }
        }
        let found = try store.nodes(wanted)
        guard !derived.isEmpty else { return found }
        var out = found.filter { ids.contains($0.key) }
        next: for id in derived {
            let first = id.index << UInt64(id.level)
            var leaves: [MerkleHash] = []
            for j in first ..< first + (UInt64(1) << UInt64(id.level)) {
                guard let h = found[MerkleNodeID(level: 0, index: j)] else { continue next }
                leaves.append(h)
            }
            out[id] = Merkle.root(leaves: leaves)
        }
        return out
    }

    private func lookup(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash] { try Self.nodes(ids, in: store) }

    /// The number of entries committed.
    public var size: UInt64 { cond.lock(); defer { cond.unlock() }; return frontier.size }
    /// How many store transactions this log object committed (group commit makes it smaller than the appends).
    public var commits: Int { cond.lock(); defer { cond.unlock() }; return commitCounter }

    /// Records one decision; returns the entry as committed (numbered and timed).
    /// - Throws: ``GovernanceError`` (`storageFailure`, `invalidKey`): the entry is not recorded.
    @discardableResult
    public func append(_ draft: AuditEntry.Draft) throws -> AuditEntry {
        try append(contentsOf: [draft])[0]
    }

    /// Records several decisions in one batch (they get consecutive numbers); all or none.
    @discardableResult
    public func append(contentsOf drafts: [AuditEntry.Draft]) throws -> [AuditEntry] {
        guard !drafts.isEmpty else { return [] }
        return try wait(try enqueue(drafts, startingCommit: false))
    }

    /// Decisions queued for the next group commit, not yet durable: ``wait(_:)`` returns once they are.
    public final class Ticket: @unchecked Sendable {
        fileprivate let pending: Pending
        fileprivate init(_ p: Pending) { pending = p }
    }

    /// Queues `drafts` (one batch, consecutive numbers) for the next group commit and returns at once, so the caller
    /// can work (answer a read) while they are committed; ``wait(_:)`` returns once they are durable. When no commit is
    /// running or scheduled, one is started on another thread right away (at most one is scheduled at a time, so a
    /// burst of callers costs one thread, not one each); entries queued while a commit runs go into the next one, which
    /// the first waiter to find none running commits itself. `startingCommit: false` leaves the commit to ``wait(_:)``
    /// (a caller that waits at once saves the hop).
    /// - Throws: ``GovernanceError`` `invalidKey` (opened without the signing key) or the damage found at opening:
    ///   nothing is queued.
    public func enqueue(_ drafts: [AuditEntry.Draft], startingCommit: Bool = true) throws -> Ticket {
        if let damage { throw damage }
        guard let signer else {
            throw GovernanceError(.invalidKey, "the audit log was opened without its signing key: it cannot record entries")
        }
        let me = Pending(drafts)
        cond.lock()
        pending.append(me)
        let kick = startingCommit && !committing && !commitScheduled
        if kick { commitScheduled = true }
        cond.unlock()
        if kick {
            DispatchQueue.global(qos: .userInitiated).async {
                self.cond.lock()
                self.commitScheduled = false
                if !self.committing && !self.pending.isEmpty { self.commitRound(signer) }
                self.cond.unlock()
            }
        }
        return Ticket(me)
    }

    /// Returns once the ticket's entries are committed (durable, under a signed head), numbered and timed; the first
    /// caller to find no commit running commits everything queued at that moment (group commit).
    /// - Throws: ``GovernanceError`` (`storageFailure`): the ticket's entries are not in the log.
    @discardableResult
    public func wait(_ ticket: Ticket) throws -> [AuditEntry] {
        let me = ticket.pending
        guard let signer else {
            throw GovernanceError(.invalidKey, "the audit log was opened without its signing key: it cannot record entries")
        }
        cond.lock()
        while me.result == nil {
            if committing { cond.wait(); continue }
            commitRound(signer)
        }
        cond.unlock()
        return try me.result!.get()
    }

    /// Commits everything queued (called and returning with `cond` locked; unlocked while the store works), sets each
    /// entry's result and wakes the waiters.
    private func commitRound(_ signer: AuditSigner) {
        committing = true
        let batch = pending
        pending = []
        let base = frontier
        cond.unlock()
        var outcome = Result { try commit(batch, from: base, signer: signer) }
        // another process (on the same store) appended since this log read its end: read it again and number the
        // batch from there (the store checks under its lock, so a batch is never numbered twice)
        var retries = 0
        while case .failure(let e as GovernanceError) = outcome, e.code == .auditLogMoved, retries < Self.movedRetries {
            retries += 1
            outcome = Result { try commit(batch, from: try Self.end(of: store).get(), signer: signer) }
        }
        cond.lock()
        committing = false
        switch outcome {
        case .success(let (f, results)):
            frontier = f
            commitCounter += 1
            for (p, r) in zip(batch, results) { p.result = .success(r) }
        case .failure(let e):
            for p in batch { p.result = .failure(e) }
        }
        cond.broadcast()
    }

    private func commit(_ batch: [Pending], from base: MerkleFrontier, signer: AuditSigner) throws -> (MerkleFrontier, [[AuditEntry]]) {
        var f = base
        let now = clock()
        var nodes: [(MerkleNodeID, MerkleHash)] = []
        var all: [AuditEntry] = []
        var per: [[AuditEntry]] = []
        for p in batch {
            var mine: [AuditEntry] = []
            mine.reserveCapacity(p.drafts.count)
            for d in p.drafts {
                let e = AuditEntry(d, sequence: f.size, time: now)
                for n in f.append(e.leafHash) where Self.isStored(n.0) { nodes.append(n) }
                mine.append(e)
            }
            all.append(contentsOf: mine)
            per.append(mine)
        }
        let head = try signer.sign(size: f.size, root: f.root, time: now)
        // the previous head is superseded; it stays as a checkpoint only if it was the last one in its block
        let replaces = base.size > 0 && base.size / checkpointInterval == f.size / checkpointInterval ? base.size : nil
        try store.append(AuditBatch(entries: all, nodes: nodes, head: head, replacesHead: replaces))
        return (f, per)
    }

    // MARK: Reading

    /// The latest signed head (nil for an empty log).
    public func latestHead() throws -> SignedTreeHead? { try store.latestHead() }

    /// The root of the tree of the first `size` entries, from stored nodes (O(log n) reads).
    /// - Throws: ``GovernanceError`` `invalidProof` when `size` exceeds the log.
    public func root(size: UInt64) throws -> MerkleHash {
        let n = self.size
        guard size <= n else { throw GovernanceError(.invalidProof, "the audit log has \(n) entries, not \(size)", value: "\(size)") }
        return try Merkle.resolve([0 ..< size], lookup: lookup)[0]
    }

    /// The proof that entry `index` is in the tree of the first `size` entries (default: the whole log, with its
    /// signed head). O(log n) node reads.
    /// - Throws: ``GovernanceError`` `invalidProof` when the entry or size is out of range.
    public func inclusionProof(entry index: UInt64, size: UInt64? = nil) throws -> InclusionProof {
        let head = try store.latestHead()
        let n = head?.size ?? 0
        let treeSize = size ?? n
        guard treeSize <= n else { throw GovernanceError(.invalidProof, "the audit log has \(n) entries; no tree of size \(treeSize)", value: "\(treeSize)") }
        guard index < treeSize else { throw GovernanceError(.invalidProof, "entry \(index) is not in a tree of \(treeSize) entries (the log has \(n))", value: "\(index)") }
        guard let entry = try store.entries(in: index ..< index + 1).first, entry.sequence == index else {
            throw GovernanceError(.auditTampered, "the audit log has no row for entry \(index): the log was altered; run `twinbank audit verify`", value: "\(index)")
        }
        let path = Merkle.inclusionPath(index: index, size: treeSize)
        let resolved = try Merkle.resolve(path + [0 ..< treeSize], lookup: lookup)
        return InclusionProof(entry: entry, treeSize: treeSize, hashes: Array(resolved.dropLast()), root: resolved.last!,
                              head: treeSize == n ? head : nil)
    }

    /// The consistency proof from the tree of `size1` entries to the tree of `size2` entries (RFC 9162 2.1.4.1).
    /// - Throws: ``GovernanceError`` `invalidProof` when the sizes are out of order or range.
    public func consistencyProof(from size1: UInt64, to size2: UInt64) throws -> [MerkleHash] {
        let n = self.size
        guard size1 <= size2, size2 <= n else { throw GovernanceError(.invalidProof, "no consistency proof from size \(size1) to \(size2) in a log of \(n) entries", value: "\(size1)") }
        return try Merkle.resolve(Merkle.consistencyPath(size1: size1, size2: size2), lookup: lookup)
    }

    /// Entries matching `query`, oldest first.
    public func entries(matching query: AuditQuery) throws -> [AuditEntry] { try store.entries(matching: query) }

    // MARK: Verification

    /// What ``verify(publicKey:)`` checked.
    public struct Verification: Sendable, Hashable {
        public var entries: UInt64
        public var heads: Int
        public var root: MerkleHash
    }

    /// Recomputes the whole log from the stored rows and checks it against the stored nodes and the signed heads:
    /// every entry row is present once, in order, and hashes to its stored leaf; every stored node on the way is
    /// the hash of its children; every head's root is the root of the recomputed tree at its size, its signature is
    /// `publicKey`'s, and every head is consistent with the latest (RFC 9162 consistency proofs from stored nodes);
    /// no row lies beyond the latest head. Reads the log in chunks (memory stays bounded).
    /// - Throws: ``GovernanceError`` `auditTampered` naming the first bad entry's sequence number as its value
    ///   (for a head: `head <size>`).
    public func verify(publicKey: AuditSigner.PublicKey, chunk: UInt64 = 8192) throws -> Verification {
        let heads = try store.heads()
        for (i, h) in heads.enumerated() {
            guard h.isSigned(by: publicKey) else {
                throw tampered("the signed head of size \(h.size) does not carry a valid signature of the audit key \(publicKey.hex.prefix(16))…", "head \(h.size)")
            }
            if i > 0 && h.size <= heads[i - 1].size {
                throw tampered("the signed heads are out of order (size \(h.size) after \(heads[i - 1].size))", "head \(h.size)")
            }
        }
        let total = heads.last?.size ?? 0
        var f = MerkleFrontier()
        var headIndex = 0
        var lastGoodHead: UInt64 = 0
        while headIndex < heads.count && heads[headIndex].size == 0 { headIndex += 1 }
        var start: UInt64 = 0
        while start < total {
            let end = min(total, start + chunk)
            let rows = try store.entries(in: start ..< end)
            var created: [(MerkleNodeID, MerkleHash)] = []
            var expected = start
            for e in rows {
                if e.sequence > expected { throw tampered("audit entry \(expected) is missing (the next stored row is \(e.sequence))", "\(expected)") }
                if e.sequence < expected { throw tampered("audit entry \(e.sequence) is stored twice or out of place", "\(e.sequence)") }
                created.append(contentsOf: f.append(e.leafHash))
                expected += 1
                while headIndex < heads.count && heads[headIndex].size == f.size {
                    if f.root != heads[headIndex].root {
                        // rows and nodes were rewritten together: the signed head still tells
                        try checkNodes(created)
                        throw tampered("the entries \(lastGoodHead)..<\(f.size) do not give the root signed at size \(f.size): one of them was altered (the first entry after the last good head is \(lastGoodHead))", "\(lastGoodHead)")
                    }
                    lastGoodHead = f.size
                    headIndex += 1
                }
            }
            if expected < end { throw tampered("audit entry \(expected) is missing (the log's head covers \(total) entries)", "\(expected)") }
            try checkNodes(created)
            start = end
        }
        let extra = try store.entries(in: total ..< UInt64.max)
        if let first = extra.first {
            throw tampered("audit entry \(first.sequence) is stored but not covered by the latest signed head (size \(total)): a row was inserted", "\(first.sequence)")
        }
        let count = try store.entryCount()
        if count != total {
            throw tampered("the audit log stores \(count) entry rows, the latest signed head covers \(total)", "\(total)")
        }
        if let latest = heads.last {
            for h in heads.dropLast() {
                let proof = try Merkle.resolve(Merkle.consistencyPath(size1: h.size, size2: latest.size), lookup: lookup)
                do {
                    try Merkle.verifyConsistency(size1: h.size, size2: latest.size, proof: proof.map(\.bytes), root1: h.root.bytes, root2: latest.root.bytes)
                } catch {
                    throw tampered("the signed head of size \(h.size) is not consistent with the latest (size \(latest.size))", "head \(h.size)")
                }
            }
        }
        return Verification(entries: total, heads: heads.count, root: f.root)
    }

    /// Compares recomputed nodes with the stored ones; names the first entry under the first differing node.
    private func checkNodes(_ all: [(MerkleNodeID, MerkleHash)]) throws {
        let created = all.filter { Self.isStored($0.0) }
        let stored = try store.nodes(Set(created.map(\.0)))
        // a changed entry changes its leaf and every node above it: name the first bad leaf; only when every leaf
        // matches (an inner node was rewritten) name the first entry under the first bad node
        var firstBad: UInt64?
        for (id, h) in created where id.level == 0 && stored[id] != h {
            if firstBad.map({ id.index < $0 }) ?? true { firstBad = id.index }
        }
        if firstBad == nil {
            for (id, h) in created where stored[id] != h {
                let first = id.index << UInt64(id.level)
                if firstBad.map({ first < $0 }) ?? true { firstBad = first }
            }
        }
        if let bad = firstBad {
            throw tampered("audit entry \(bad) does not match the hash stored for it in the log: the entry (or its hash) was altered", "\(bad)")
        }
    }

    private func tampered(_ message: String, _ value: String) -> GovernanceError {
        GovernanceError(.auditTampered, message, value: value)
    }
}
