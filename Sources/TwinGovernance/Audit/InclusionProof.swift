import Foundation
import TwinCore

/// The proof that one entry is in the audit log: the entry, its Merkle audit path in the tree of ``treeSize``
/// entries, that tree's root and, when the tree is the whole log, the signed head. Self-contained: saved as JSON
/// (``json``) it can be checked offline with the public key alone (``init(json:)``, ``verify(publicKey:)``).
public struct InclusionProof: Sendable, Hashable {
    public var entry: AuditEntry
    public var treeSize: UInt64
    /// The audit path, from the leaf upwards (RFC 9162 2.1.3.1).
    public var hashes: [MerkleHash]
    public var root: MerkleHash
    /// The signed head of size ``treeSize``, when the proof is against the whole log.
    public var head: SignedTreeHead?

    public init(entry: AuditEntry, treeSize: UInt64, hashes: [MerkleHash], root: MerkleHash, head: SignedTreeHead?) {
        self.entry = entry; self.treeSize = treeSize; self.hashes = hashes; self.root = root; self.head = head
    }

    /// Checks the proof: the entry's recomputed leaf hash with the path gives ``root`` (RFC 9162 2.1.3.2), and
    /// when a head is present, it is of the same size and root and signed by `publicKey` (required when a key is given).
    /// - Throws: ``GovernanceError`` `invalidProof` saying what does not hold.
    public func verify(publicKey: AuditSigner.PublicKey?) throws {
        try Merkle.verifyInclusion(index: entry.sequence, size: treeSize, leafHash: entry.leafHash.bytes, proof: hashes.map(\.bytes), root: root.bytes)
        if let publicKey {
            guard let head else { throw GovernanceError(.invalidProof, "the proof has no signed head to check the key against (it is for a tree of \(treeSize) entries, not the whole log)", value: "\(treeSize)") }
            guard head.size == treeSize, head.root == root else { throw GovernanceError(.invalidProof, "the signed head (size \(head.size)) is not the tree the proof is for (size \(treeSize))", value: "\(head.size)") }
            guard head.isSigned(by: publicKey) else { throw GovernanceError(.invalidProof, "the signed head's signature is not the audit key's \(publicKey.hex)", value: publicKey.hex) }
        }
    }

    /// The proof as JSON (sorted keys): `entry` (the entry's fields, `time` as ISO 8601 and `timeMicros`),
    /// `leafHash`, `treeSize`, `hashes` and `root` (hex), and `head` {`size`, `root`, `time`, `timeMicros`,
    /// `signature` (hex)} or null.
    public var json: String {
        var o: [String: Any] = [
            "entry": AuditJSON.object(entry),
            "leafHash": entry.leafHash.hex,
            "leafIndex": entry.sequence,
            "treeSize": treeSize,
            "hashes": hashes.map(\.hex),
            "root": root.hex,
        ]
        o["head"] = head.map { AuditJSON.object($0) } ?? NSNull()
        return AuditJSON.render(o)
    }

    /// Reads a proof written by ``json``.
    /// - Throws: ``GovernanceError`` `invalidProof` naming the missing or malformed field.
    public init(json text: String) throws {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw GovernanceError(.invalidProof, "the proof is not a JSON object")
        }
        guard let e = o["entry"] as? [String: Any] else { throw AuditJSON.missing("entry") }
        entry = try AuditJSON.entry(e)
        treeSize = try AuditJSON.uint(o, "treeSize")
        guard let hs = o["hashes"] as? [String] else { throw AuditJSON.missing("hashes") }
        hashes = try hs.map { try AuditJSON.hash($0, "hashes") }
        root = try AuditJSON.hash(o["root"] as? String ?? "", "root")
        if let h = o["head"] as? [String: Any] { head = try AuditJSON.head(h) } else { head = nil }
    }
}

/// The JSON forms of entries and heads shared by the command and proof files.
public enum AuditJSON {
    /// An entry as a JSON object (`time` ISO 8601, `timeMicros` exact).
    public static func object(_ e: AuditEntry) -> [String: Any] {
        [
            "seq": e.sequence, "time": e.time.description, "timeMicros": e.time.microseconds, "actor": e.actor,
            "role": e.role ?? NSNull(), "organisation": e.organisation ?? NSNull(), "action": e.action,
            "twin": e.twin ?? NSNull(), "purpose": e.purpose, "decision": e.decision.rawValue, "reason": e.reason,
        ]
    }
    /// A signed head as a JSON object.
    public static func object(_ h: SignedTreeHead) -> [String: Any] {
        ["size": h.size, "root": h.root.hex, "time": h.time.description, "timeMicros": h.time.microseconds, "signature": Hex.encode(h.signature)]
    }
    /// Sorted-key JSON text.
    public static func render(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func missing(_ field: String) -> GovernanceError {
        GovernanceError(.invalidProof, "the proof lacks a valid '\(field)'", value: field)
    }
    static func uint(_ o: [String: Any], _ k: String) throws -> UInt64 {
        guard let n = o[k] as? NSNumber, n.int64Value >= 0 else { throw missing(k) }
        return n.uint64Value
    }
    static func int(_ o: [String: Any], _ k: String) throws -> Int64 {
        guard let n = o[k] as? NSNumber else { throw missing(k) }
        return n.int64Value
    }
    static func hash(_ s: String, _ k: String) throws -> MerkleHash {
        guard let h = MerkleHash(hex: s) else { throw missing(k) }
        return h
    }
    static func entry(_ e: [String: Any]) throws -> AuditEntry {
        func str(_ k: String) throws -> String { guard let s = e[k] as? String else { throw missing("entry.\(k)") }; return s }
        guard let d = AuditEntry.Decision(rawValue: try str("decision")) else { throw missing("entry.decision") }
        return AuditEntry(sequence: try uint(e, "seq"), time: Instant(microseconds: try int(e, "timeMicros")), actor: try str("actor"),
                          role: e["role"] as? String, organisation: e["organisation"] as? String, action: try str("action"),
                          twin: e["twin"] as? String, purpose: try str("purpose"), decision: d, reason: try str("reason"))
    }
    static func head(_ h: [String: Any]) throws -> SignedTreeHead {
        guard let sig = (h["signature"] as? String).flatMap(Hex.decode) else { throw missing("head.signature") }
        return SignedTreeHead(size: try uint(h, "size"), root: try hash(h["root"] as? String ?? "", "head.root"),
                              time: Instant(microseconds: try int(h, "timeMicros")), signature: sig)
    }
}
