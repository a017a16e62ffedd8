import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance

/// The cases of the audit store kept with a storage (``StorageSubject/auditStore``): the ``AuditStore`` contract
/// directly (append, entries, heads, nodes), and an ``AuditLog`` on it end to end.
extension StorageConformance {
    static func auditEntry(_ i: UInt64) -> AuditEntry {
        AuditEntry(sequence: i, time: Instant(microseconds: 1_767_225_600_000_000 + Int64(i / 2) * 1_000_000), actor: "dr-\(i % 3)",
                   role: i % 2 == 0 ? "clinician" : nil, organisation: i % 4 == 0 ? nil : "ward \"7\"", action: i % 2 == 0 ? "read" : "write",
                   twin: i % 5 == 4 ? nil : "twin-\(i % 4)", purpose: "care", decision: i % 7 == 3 ? .deny : (i % 7 == 5 ? .permitWithFilter : .permit),
                   reason: "policy rule \(i) é")
    }

    /// The batch appending `range` to a log that holds `0 ..< range.lowerBound`: the entries, their leaves, the
    /// perfect subtrees of 16 leaves they complete (level 4), and the head signed by `signer`.
    static func auditBatch(_ range: Range<UInt64>, signer: AuditSigner, replacesHead: UInt64? = nil) throws -> AuditBatch {
        let entries = range.map(auditEntry)
        var nodes: [(MerkleNodeID, MerkleHash)] = entries.map { (MerkleNodeID(level: 0, index: $0.sequence), $0.leafHash) }
        for block in stride(from: UInt64(0), to: range.upperBound / 16, by: 1) where (block + 1) * 16 > range.lowerBound {
            nodes.append((MerkleNodeID(level: 4, index: block), Merkle.root(leaves: (block * 16 ..< (block + 1) * 16).map { auditEntry($0).leafHash })))
        }
        let root = Merkle.root(leaves: (0 ..< range.upperBound).map { auditEntry($0).leafHash })
        let head = try signer.sign(size: range.upperBound, root: root, time: entries.last?.time ?? Instant(microseconds: 0))
        return AuditBatch(entries: entries, nodes: nodes, head: head, replacesHead: replacesHead)
    }

    static func auditAppendEntriesHeadsNodes(_ subject: StorageSubject) throws {
        let make = try #require(subject.auditStore)
        let store = try make(try subject.make())
        let signer = AuditSigner()
        #expect(try store.latestHead() == nil && store.heads().isEmpty && store.entryCount() == 0)
        #expect(try store.entries(in: 0 ..< 10).isEmpty && store.entries(matching: AuditQuery()).isEmpty)
        try store.append(try auditBatch(0 ..< 5, signer: signer))
        try store.append(try auditBatch(5 ..< 20, signer: signer, replacesHead: 5))
        try store.append(try auditBatch(20 ..< 21, signer: signer))
        let all = (0 ..< 21 as Range<UInt64>).map(auditEntry)
        #expect(try store.entryCount() == 21)
        #expect(try store.entries(in: 0 ..< 21) == all)
        #expect(try store.entries(in: 3 ..< 7) == Array(all[3 ..< 7]))
        #expect(try store.entries(in: 19 ..< 100) == Array(all[19...]))
        #expect(try store.entries(in: 30 ..< 40).isEmpty)
        // the superseded head went in the same transaction; the others stay, in increasing size
        #expect(try store.heads().map(\.size) == [20, 21])
        let latest = try #require(try store.latestHead())
        #expect(latest.size == 21 && latest.isSigned(by: signer.publicKey))
        #expect(latest.root == Merkle.root(leaves: all.map(\.leafHash)))
        #expect(try store.heads().first == (try auditBatch(5 ..< 20, signer: signer)).head.withSignature(of: store.heads().first))
        // queries: by twin, by time (inclusive bounds), limited, oldest first
        #expect(try store.entries(matching: AuditQuery(twin: "twin-1")) == all.filter { $0.twin == "twin-1" })
        let t5 = all[5].time
        #expect(try store.entries(matching: AuditQuery(from: t5, to: t5)) == all.filter { $0.time == t5 })
        #expect(try store.entries(matching: AuditQuery(from: all[10].time)) == all.filter { $0.time >= all[10].time })
        #expect(try store.entries(matching: AuditQuery(twin: "twin-2", limit: 2)) == Array(all.filter { $0.twin == "twin-2" }.prefix(2)))
        #expect(try store.entries(matching: AuditQuery(twin: "nobody")).isEmpty)
        // pages: after a sequence number (exclusive), with the other filters
        let twin2 = all.filter { $0.twin == "twin-2" }
        #expect(try store.entries(matching: AuditQuery(twin: "twin-2", limit: 2, after: twin2[1].sequence)) == Array(twin2.dropFirst(2).prefix(2)))
        #expect(try store.entries(matching: AuditQuery(after: all[all.count - 2].sequence)) == [all[all.count - 1]])
        #expect(try store.entries(matching: AuditQuery(after: all[all.count - 1].sequence)).isEmpty)
        // nodes: the leaves and the completed subtree; missing ones absent
        let ids: Set<MerkleNodeID> = [MerkleNodeID(level: 0, index: 0), MerkleNodeID(level: 0, index: 20), MerkleNodeID(level: 4, index: 0),
                                      MerkleNodeID(level: 0, index: 21), MerkleNodeID(level: 4, index: 1), MerkleNodeID(level: 9, index: 0)]
        let nodes = try store.nodes(ids)
        #expect(nodes.count == 3)
        #expect(nodes[MerkleNodeID(level: 0, index: 0)] == all[0].leafHash)
        #expect(nodes[MerkleNodeID(level: 0, index: 20)] == all[20].leafHash)
        #expect(nodes[MerkleNodeID(level: 4, index: 0)] == Merkle.root(leaves: all.prefix(16).map(\.leafHash)))
        #expect(try store.nodes([]).isEmpty)
        // the fields read back exactly, quotes, accents and absent values included
        #expect(try store.entries(in: 0 ..< 21).map(\.canonicalBytes) == all.map(\.canonicalBytes))
    }

    static func auditRefusesAMisnumberedBatch(_ subject: StorageSubject) throws {
        let make = try #require(subject.auditStore)
        let store = try make(try subject.make())
        let signer = AuditSigner()
        try store.append(try auditBatch(0 ..< 5, signer: signer))
        let heads = try store.heads()
        for range in [7 ..< 9, 3 ..< 6, 0 ..< 1] as [Range<UInt64>] {
            let e = try #require(throws: GovernanceError.self) { try store.append(try auditBatch(range, signer: signer, replacesHead: 5)) }
            // numbered from an older end (another process appended first): auditLogMoved, which the AuditLog retries
            #expect(e.code == (range.lowerBound < 5 ? .auditLogMoved : .storageFailure), "batch \(range)")
            #expect(try store.entryCount() == 5 && store.heads() == heads, "batch \(range)")
        }
        #expect(try store.entries(in: 0 ..< 100) == (0 ..< 5 as Range<UInt64>).map(auditEntry))
        // and the log continues where it was
        try store.append(try auditBatch(5 ..< 6, signer: signer, replacesHead: 5))
        #expect(try store.entryCount() == 6 && store.heads().map(\.size) == [6])
    }

    static func auditLogVerifiesOnTheStore(_ subject: StorageSubject) throws {
        let make = try #require(subject.auditStore)
        let store = try make(try subject.make())
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer, checkpointInterval: 8, clock: { Instant(microseconds: 1_767_225_600_000_000) })
        var appended: [AuditEntry] = []
        for i in 0 ..< 5 { appended.append(try log.append(auditDraft(i))) }
        appended += try log.append(contentsOf: (5 ..< 40).map(auditDraft))
        #expect(appended.map(\.sequence) == Array(0 ..< 40))
        let report = try log.verify(publicKey: signer.publicKey)
        #expect(report.entries == 40 && report.root == Merkle.root(leaves: appended.map(\.leafHash)))
        #expect(try store.heads().map(\.size) == [5, 40])
        for i in [0, 17, 39] as [UInt64] {
            let proof = try log.inclusionProof(entry: i)
            #expect(proof.entry == appended[Int(i)])
            try proof.verify(publicKey: signer.publicKey)
        }
        #expect(try log.entries(matching: AuditQuery(twin: "twin-2")).map(\.sequence) == appended.filter { $0.twin == "twin-2" }.map(\.sequence))
        // a log opened again on the same store continues the same tree
        let again = try AuditLog(store: store, signer: signer)
        try again.append(auditDraft(40))
        #expect(try again.verify(publicKey: signer.publicKey).entries == 41)
    }

    static func auditLogSurvivesReopening(_ subject: StorageSubject) throws {
        let make = try #require(subject.auditStore), reopen = try #require(subject.reopen)
        let storage = try subject.make()
        let signer = AuditSigner()
        let log = try AuditLog(store: try make(storage), signer: signer)
        let appended = try log.append(contentsOf: (0 ..< 20).map(auditDraft))
        let store = try make(try reopen(storage))
        #expect(try store.entries(in: 0 ..< 20) == appended)
        let reopened = try AuditLog(store: store, signer: signer)
        #expect(try reopened.verify(publicKey: signer.publicKey).entries == 20)
        try reopened.append(auditDraft(20))
        #expect(try AuditLog(store: try make(try reopen(storage)), signer: nil).verify(publicKey: signer.publicKey).entries == 21)
    }

    static func auditDraft(_ i: Int) -> AuditEntry.Draft {
        AuditEntry.Draft(actor: "dr-\(i % 3)", role: "clinician", organisation: i % 4 == 0 ? nil : "ward-7", action: i % 2 == 0 ? "read" : "write",
                         twin: "twin-\(i % 5)", purpose: "care", decision: i % 6 == 1 ? .deny : .permit, reason: "policy rule \(i)")
    }
}

extension SignedTreeHead {
    /// This head with the signature of `other` (heads signed twice differ only in a randomised signature).
    func withSignature(of other: SignedTreeHead?) -> SignedTreeHead {
        var h = self
        h.signature = other?.signature ?? []
        return h
    }
}
