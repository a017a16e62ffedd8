import Foundation
import GRDB
import GRDBSQLite
import TwinCore
import TwinGovernance

/// The ``AuditStore`` of a SQLite bank: tables `audit_entry` (one row per entry: its fields as columns, from
/// which the verifier recomputes the canonical bytes, and its stored leaf hash, the level-0 node), `audit_node`
/// (the inner Merkle nodes by level and index) and `audit_head` (every signed head), in the bank file itself,
/// through the bank's own connection pool (migration `v3-audit-log`).
///
/// An append is one transaction committed with `PRAGMA synchronous = FULL` (the bank's other writes use
/// `NORMAL`): when ``append(_:)`` returns, the entries survive a power failure, not only a crash of the process.
public final class SQLiteAuditStore: AuditStore, @unchecked Sendable {
    public let storage: SQLiteStorage

    /// The audit store of an open bank.
    public init(_ storage: SQLiteStorage) { self.storage = storage }

    private func failure(_ error: any Error) -> GovernanceError {
        GovernanceError(.storageFailure, "audit log storage error in '\(storage.path)': \(SQLiteStorage.describe(error))", value: storage.path)
    }

    public func append(_ batch: AuditBatch) throws {
        do {
            try storage.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                try db.inTransaction {
                    if !batch.entries.isEmpty {
                        // O(log n): the next free number and the latest head (not count(*), a scan of the table)
                        let next = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq) + 1, 0) FROM audit_entry") ?? 0
                        let last = try Int64.fetchOne(db, sql: "SELECT coalesce(max(size), 0) FROM audit_head") ?? 0
                        try batch.checkContinues(nextEntry: next, headSize: last)
                    }
                    var leaves: [UInt64: MerkleHash] = [:]
                    leaves.reserveCapacity(batch.entries.count)
                    for (id, h) in batch.nodes where id.level == 0 { leaves[id.index] = h }
                    let ins = try RawStatement(db, sql: "INSERT INTO audit_entry(seq, time, actor, role, organisation, action, twin, purpose, decision, reason, leaf) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
                    for e in batch.entries {
                        guard let leaf = leaves[e.sequence] else {
                            throw GovernanceError(.storageFailure, "audit batch lacks the leaf hash of entry \(e.sequence)", value: "\(e.sequence)")
                        }
                        ins.bind(1, Int64(e.sequence)); ins.bind(2, e.time.microseconds); ins.bind(3, e.actor)
                        ins.bind(4, e.role); ins.bind(5, e.organisation); ins.bind(6, e.action); ins.bind(7, e.twin)
                        ins.bind(8, e.purpose); ins.bind(9, e.decision.rawValue); ins.bind(10, e.reason)
                        leaf.bytes.withUnsafeBytes { b in ins.bindBlob(11, b) }
                        try ins.run()
                    }
                    let node = try RawStatement(db, sql: "INSERT INTO audit_node(level, idx, hash) VALUES (?,?,?)")
                    for (id, h) in batch.nodes where id.level > 0 {
                        node.bind(1, Int64(id.level)); node.bind(2, Int64(id.index))
                        h.bytes.withUnsafeBytes { b in node.bindBlob(3, b) }
                        try node.run()
                    }
                    if let old = batch.replacesHead { try db.execute(literal: "DELETE FROM audit_head WHERE size = \(Int64(old))") }
                    let h = batch.head
                    try db.execute(literal: "INSERT INTO audit_head(size, root, time, signature) VALUES (\(Int64(h.size)), \(Data(h.root.bytes)), \(h.time.microseconds), \(Data(h.signature)))")
                    return .commit
                }
            }
        } catch let e as GovernanceError { throw e } catch { throw failure(error) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try storage.pool.read(body) } catch let e as GovernanceError { throw e } catch { throw failure(error) }
    }

    private static func head(_ row: Row) throws -> SignedTreeHead {
        let root: Data = row["root"]
        guard let r = MerkleHash(bytes: root) else {
            throw GovernanceError(.auditTampered, "the signed head of size \(row["size"] as Int64) has a root of \(root.count) bytes", value: "head \(row["size"] as Int64)")
        }
        return SignedTreeHead(size: UInt64(row["size"] as Int64), root: r, time: Instant(microseconds: row["time"]), signature: [UInt8](row["signature"] as Data))
    }

    public func latestHead() throws -> SignedTreeHead? {
        try read { db in try Row.fetchOne(db, sql: "SELECT size, root, time, signature FROM audit_head ORDER BY size DESC LIMIT 1").map(Self.head) }
    }

    public func heads() throws -> [SignedTreeHead] {
        try read { db in try Row.fetchAll(db, sql: "SELECT size, root, time, signature FROM audit_head ORDER BY size").map(Self.head) }
    }

    private static let columns = "seq, time, actor, role, organisation, action, twin, purpose, decision, reason"

    private static func entry(_ row: Row) throws -> AuditEntry {
        let seq: Int64 = row["seq"]
        let d: String = row["decision"]
        guard seq >= 0, let decision = AuditEntry.Decision(rawValue: d) else {
            throw GovernanceError(.auditTampered, "audit entry \(seq) has the unknown decision '\(d)'", value: "\(seq)")
        }
        return AuditEntry(sequence: UInt64(seq), time: Instant(microseconds: row["time"]), actor: row["actor"], role: row["role"],
                          organisation: row["organisation"], action: row["action"], twin: row["twin"], purpose: row["purpose"],
                          decision: decision, reason: row["reason"])
    }

    public func entries(in range: Range<UInt64>) throws -> [AuditEntry] {
        let lo = Int64(clamping: range.lowerBound), hi = Int64(clamping: range.upperBound)
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM audit_entry WHERE seq >= ? AND seq < ? ORDER BY seq", arguments: [lo, hi]).map(Self.entry)
        }
    }

    public func entryCount() throws -> UInt64 {
        try read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_entry") ?? 0) }
    }

    public func entries(matching q: AuditQuery) throws -> [AuditEntry] {
        try read { db in
            var sql: SQL = "SELECT \(sql: Self.columns) FROM audit_entry WHERE 1"
            if let t = q.twin { sql += " AND twin = \(t)" }
            if let f = q.from { sql += " AND time >= \(f.microseconds)" }
            if let t = q.to { sql += " AND time <= \(t.microseconds)" }
            if let a = q.after { sql += " AND seq > \(Int64(clamping: a))" }
            sql += " ORDER BY seq"
            if let l = q.limit { sql += " LIMIT \(l)" }
            return try Row.fetchAll(db, SQLRequest(literal: sql)).map(Self.entry)
        }
    }

    public func nodes(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var out: [MerkleNodeID: MerkleHash] = [:]
            out.reserveCapacity(ids.count)
            let q = try RawStatement(db, sql: "SELECT hash FROM audit_node WHERE level = ? AND idx = ?")
            let leaf = try RawStatement(db, sql: "SELECT leaf FROM audit_entry WHERE seq = ?")
            for id in ids {
                if id.level == 0 {
                    leaf.bind(1, Int64(id.index))
                    if try leaf.step() {
                        if let h = MerkleHash(bytes: leaf.blob(0)) { out[id] = h }
                        leaf.reset()
                    }
                    continue
                }
                q.bind(1, Int64(id.level)); q.bind(2, Int64(id.index))
                if try q.step() {
                    if let h = MerkleHash(bytes: q.blob(0)) { out[id] = h }
                    q.reset()
                }
            }
            return out
        }
    }
}
