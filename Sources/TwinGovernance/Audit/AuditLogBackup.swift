import Foundation
import TwinBank
import TwinCore

/// The audit log of an ``AuditStore`` as a ``TwinBank/BackupAttachment`` (named `audit`): a backup carries every
/// entry with its stored leaf hash, every stored inner Merkle node and every signed head, so the restored log is
/// the same log: ``AuditLog/verify(publicKey:chunk:)`` passes on it with the source bank's public key, and its
/// inclusion and consistency proofs are the same.
///
/// Records are written head by head (the entries a head covers beyond the previous one, the nodes they complete,
/// then the head), and restored as one ``AuditBatch`` per head, so the store keeps the same checkpoints. Memory
/// holds one head's entries at a time (a checkpoint interval's worth).
public final class AuditLogBackup: BackupAttachment, @unchecked Sendable {
    public let store: any AuditStore
    public var name: String { "audit" }
    /// Entries read per store query.
    static let chunk: UInt64 = 4_096

    public init(store: any AuditStore) { self.store = store }

    struct Node: Codable { var level: Int; var index: UInt64; var hash: String }
    struct Head: Codable { var size: UInt64; var root: String; var time: Instant; var signature: String }
    struct Record: Codable {
        var entry: AuditEntry?
        var leaf: String?
        var node: Node?
        var head: Head?
    }

    private var entries: [AuditEntry] = []
    private var nodes: [(MerkleNodeID, MerkleHash)] = []

    public func isEmpty() throws -> Bool { try store.latestHead() == nil && store.entryCount() == 0 }

    static func encode(_ r: Record) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(r), as: UTF8.self)
    }

    public func exportRecords(_ emit: (String) throws -> Void) throws {
        var previous: UInt64 = 0
        for head in try store.heads() {
            var i = previous
            while i < head.size {
                let end = min(head.size, i + AuditLogBackup.chunk)
                let rows = try store.entries(in: i..<end)
                let leaves = try store.nodes(Set((i..<end).map { MerkleNodeID(level: 0, index: $0) }))
                guard rows.count == Int(end - i) else {
                    throw GovernanceError(.auditTampered, "the audit log has \(rows.count) entries in \(i)..<\(end), its head of size \(head.size) covers \(end - i): run `twinbank audit verify`", value: "\(i)")
                }
                for e in rows {
                    guard let leaf = leaves[MerkleNodeID(level: 0, index: e.sequence)] else {
                        throw GovernanceError(.auditTampered, "audit entry \(e.sequence) has no stored leaf hash: run `twinbank audit verify`", value: "\(e.sequence)")
                    }
                    try emit(AuditLogBackup.encode(Record(entry: e, leaf: leaf.hex)))
                }
                i = end
            }
            // the inner nodes of the perfect subtrees completed beyond the previous head (those the store keeps)
            var ids = Set<MerkleNodeID>()
            var level = 1
            while level < 64, (UInt64(1) << level) <= head.size {
                let width = UInt64(1) << level
                let lo = previous / width, hi = head.size / width
                if lo < hi { for k in lo..<hi { ids.insert(MerkleNodeID(level: level, index: k)) } }
                level += 1
            }
            for (id, hash) in try store.nodes(ids).sorted(by: { $0.key < $1.key }) {
                try emit(AuditLogBackup.encode(Record(node: Node(level: id.level, index: id.index, hash: hash.hex))))
            }
            try emit(AuditLogBackup.encode(Record(head: Head(size: head.size, root: head.root.hex, time: head.time, signature: Hex.encode(head.signature)))))
            previous = head.size
        }
    }

    private func malformed(_ what: String) -> GovernanceError {
        GovernanceError(.auditTampered, "the backup's audit log has a malformed \(what)", value: what)
    }

    public func restoreRecord(_ record: String) throws {
        guard let r = try? JSONDecoder().decode(Record.self, from: Data(record.utf8)) else { throw malformed("record") }
        if let e = r.entry {
            guard let l = r.leaf, let leaf = MerkleHash(hex: l) else { throw malformed("leaf hash of entry \(e.sequence)") }
            entries.append(e)
            nodes.append((MerkleNodeID(level: 0, index: e.sequence), leaf))
        } else if let n = r.node {
            guard let h = MerkleHash(hex: n.hash) else { throw malformed("node (\(n.level), \(n.index))") }
            nodes.append((MerkleNodeID(level: n.level, index: n.index), h))
        } else if let h = r.head {
            guard let root = MerkleHash(hex: h.root), let signature = Hex.decode(h.signature) else { throw malformed("head of size \(h.size)") }
            try store.append(AuditBatch(entries: entries, nodes: nodes, head: SignedTreeHead(size: h.size, root: root, time: h.time, signature: signature)))
            entries.removeAll(keepingCapacity: true)
            nodes.removeAll(keepingCapacity: true)
        } else {
            throw malformed("record")
        }
    }

    public func finishRestore() throws {
        guard entries.isEmpty && nodes.isEmpty else {
            throw GovernanceError(.auditTampered, "the backup's audit log ends with \(entries.count) entries no signed head covers", value: "\(entries.count)")
        }
    }
}
