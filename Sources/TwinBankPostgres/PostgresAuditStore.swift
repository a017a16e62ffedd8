import Foundation
import PostgresNIO
import TwinBank
import TwinCore
import TwinGovernance

/// The ``AuditStore`` of a PostgreSQL bank: tables `audit_entry` (one row per entry: its fields as columns, from
/// which the verifier recomputes the canonical bytes, and its stored leaf hash, the level-0 node), `audit_node` (the
/// inner Merkle nodes by level and index) and `audit_head` (every signed head), in the bank's database (migration
/// `v2-audit-log`), through the storage's connections.
///
/// An append is one transaction that first takes `pg_advisory_xact_lock(`` appendLock ``)`, so appends from many
/// processes are serialised and each checks that it continues the log; it returns after the commit, which
/// PostgreSQL makes durable (with the server's default `synchronous_commit = on`).
public final class PostgresAuditStore: AuditStore, @unchecked Sendable {
    /// The advisory lock key every append takes (`TWNA`).
    public static let appendLock: Int64 = 0x5457_4E41
    public let storage: PostgresStorage

    /// The audit store of an open bank.
    public init(_ storage: PostgresStorage) { self.storage = storage }

    private func failure(_ error: any Error) -> GovernanceError {
        if let e = error as? GovernanceError { return e }
        let message = (error as? BankError)?.message ?? PostgresFailure.describe(error)
        return GovernanceError(.storageFailure, "audit log storage error: \(message)", value: storage.location.description)
    }

    private func decoding<T>(_ body: () throws -> T) throws -> T { try PostgresFailure.decoding(storage.location, body) }

    public func append(_ batch: AuditBatch) throws {
        do {
            try storage.transaction("BEGIN", prepare: { c in try c.execute("SELECT pg_advisory_xact_lock(\(PostgresAuditStore.appendLock))") }) { c in
                if !batch.entries.isEmpty {
                    let next = try c.one(Int64.self, "SELECT coalesce(max(seq) + 1, 0) FROM audit_entry") ?? 0
                    let last = try c.one(Int64.self, "SELECT coalesce(max(size), 0) FROM audit_head") ?? 0
                    try batch.checkContinues(nextEntry: next, headSize: last)
                }
                var leaves: [UInt64: MerkleHash] = [:]
                leaves.reserveCapacity(batch.entries.count)
                for (id, h) in batch.nodes where id.level == 0 { leaves[id.index] = h }
                var start = 0
                while start < batch.entries.count {
                    let end = min(start + 1000, batch.entries.count)
                    var b = SQLBuilder("INSERT INTO audit_entry (seq, time, actor, role, organisation, action, twin, purpose, decision, reason, leaf) VALUES ")
                    for (k, e) in batch.entries[start..<end].enumerated() {
                        guard let leaf = leaves[e.sequence] else {
                            throw GovernanceError(.storageFailure, "audit batch lacks the leaf hash of entry \(e.sequence)", value: "\(e.sequence)")
                        }
                        let values = [b.bind(Int64(e.sequence)), b.bind(e.time.microseconds), b.bind(e.actor), b.bind(e.role), b.bind(e.organisation),
                                      b.bind(e.action), b.bind(e.twin), b.bind(e.purpose), b.bind(e.decision.rawValue), b.bind(e.reason),
                                      b.bind(ByteBuffer(bytes: leaf.bytes))]
                        let casts = ["int8", "int8", "text", "text", "text", "text", "text", "text", "text", "text", "bytea"]
                        if k > 0 { b += "," }
                        b += "(" + zip(values, casts).map { "\($0)::\($1)" }.joined(separator: ",") + ")"
                    }
                    try c.execute(b.query)
                    start = end
                }
                let inner = batch.nodes.filter { $0.0.level > 0 }
                if !inner.isEmpty {
                    try c.execute("""
                        INSERT INTO audit_node (level, idx, hash)
                        SELECT * FROM unnest(\(inner.map { Int64($0.0.level) }), \(inner.map { Int64($0.0.index) }), \(inner.map { ByteBuffer(bytes: $0.1.bytes) }))
                        """)
                }
                if let old = batch.replacesHead { try c.execute("DELETE FROM audit_head WHERE size = \(Int64(old))") }
                let h = batch.head
                try c.execute("""
                    INSERT INTO audit_head (size, root, time, signature)
                    VALUES (\(Int64(h.size)), \(ByteBuffer(bytes: h.root.bytes)), \(h.time.microseconds), \(ByteBuffer(bytes: h.signature)))
                    """)
            }
        } catch { throw failure(error) }
    }

    /// Runs `body` on a connection, each statement its own snapshot (every read here is one statement).
    private func read<T>(_ body: (BlockingConnection) throws -> T) throws -> T {
        do { return try storage.withConnection(body) } catch { throw failure(error) }
    }

    private func head(_ row: PostgresRow) throws -> SignedTreeHead {
        let (size, root, time, signature) = try decoding { try row.decode((Int64, ByteBuffer, Int64, ByteBuffer).self) }
        guard let r = MerkleHash(bytes: root.readableBytesView) else {
            throw GovernanceError(.auditTampered, "the signed head of size \(size) has a root of \(root.readableBytes) bytes", value: "head \(size)")
        }
        return SignedTreeHead(size: UInt64(size), root: r, time: Instant(microseconds: time), signature: Array(signature.readableBytesView))
    }

    public func latestHead() throws -> SignedTreeHead? {
        try read { c in try c.query("SELECT size, root, time, signature FROM audit_head ORDER BY size DESC LIMIT 1").rows.first.map(head) }
    }

    public func heads() throws -> [SignedTreeHead] {
        try read { c in try c.query("SELECT size, root, time, signature FROM audit_head ORDER BY size").rows.map(head) }
    }

    private static let columns = "seq, time, actor, role, organisation, action, twin, purpose, decision, reason"

    private func entry(_ row: PostgresRow) throws -> AuditEntry {
        let (seq, time, actor, role, organisation, action, twin, purpose, d, reason) = try decoding {
            try row.decode((Int64, Int64, String, String?, String?, String, String?, String, String, String).self)
        }
        guard seq >= 0, let decision = AuditEntry.Decision(rawValue: d) else {
            throw GovernanceError(.auditTampered, "audit entry \(seq) has the unknown decision '\(d)'", value: "\(seq)")
        }
        return AuditEntry(sequence: UInt64(seq), time: Instant(microseconds: time), actor: actor, role: role, organisation: organisation,
                          action: action, twin: twin, purpose: purpose, decision: decision, reason: reason)
    }

    public func entries(in range: Range<UInt64>) throws -> [AuditEntry] {
        let lo = Int64(clamping: range.lowerBound), hi = Int64(clamping: range.upperBound)
        return try read { c in
            try c.query("SELECT \(unescaped: Self.columns) FROM audit_entry WHERE seq >= \(lo) AND seq < \(hi) ORDER BY seq").rows.map(entry)
        }
    }

    public func entryCount() throws -> UInt64 {
        try read { c in UInt64(try c.one(Int64.self, "SELECT count(*) FROM audit_entry") ?? 0) }
    }

    public func entries(matching q: AuditQuery) throws -> [AuditEntry] {
        try read { c in
            var b = SQLBuilder("SELECT \(Self.columns) FROM audit_entry WHERE TRUE")
            if let t = q.twin { b += " AND twin = \(b.bind(t))" }
            if let f = q.from { b += " AND time >= \(b.bind(f.microseconds))" }
            if let t = q.to { b += " AND time <= \(b.bind(t.microseconds))" }
            if let a = q.after { b += " AND seq > \(b.bind(Int64(clamping: a)))" }
            b += " ORDER BY seq"
            if let l = q.limit { b += " LIMIT \(b.bind(Int64(l)))" }
            return try c.query(b.query).rows.map(entry)
        }
    }

    public func nodes(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash] {
        guard !ids.isEmpty else { return [:] }
        return try read { c in
            var out: [MerkleNodeID: MerkleHash] = [:]
            out.reserveCapacity(ids.count)
            // one query for the leaves (level 0, in audit_entry) and one for the inner nodes, whatever their number
            let leaves = ids.filter { $0.level == 0 }.map { Int64(clamping: $0.index) }
            if !leaves.isEmpty {
                for row in try c.query("SELECT seq, leaf FROM audit_entry WHERE seq = ANY(\(leaves))").rows {
                    let (seq, leaf) = try decoding { try row.decode((Int64, ByteBuffer).self) }
                    if seq >= 0, let h = MerkleHash(bytes: leaf.readableBytesView) { out[MerkleNodeID(level: 0, index: UInt64(seq))] = h }
                }
            }
            let inner = ids.filter { $0.level > 0 }
            if !inner.isEmpty {
                let rows = try c.query("""
                    SELECT n.level, n.idx, n.hash FROM audit_node n
                    JOIN unnest(\(inner.map { Int64($0.level) }), \(inner.map { Int64(clamping: $0.index) })) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx
                    """).rows
                for row in rows {
                    let (level, idx, hash) = try decoding { try row.decode((Int64, Int64, ByteBuffer).self) }
                    if idx >= 0, let h = MerkleHash(bytes: hash.readableBytesView) { out[MerkleNodeID(level: Int(level), index: UInt64(idx))] = h }
                }
            }
            return out
        }
    }
}
