import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance

/// The backup cases: the storage's enumeration of the whole bank (``TwinBank/StorageReader/batches(after:limit:)``,
/// ``TwinBank/StorageReader/objects(after:limit:)``), and a backup of a bank on the storage restored into another
/// storage of the same kind, with the same content and answers. ``BackupChecks`` is public so a storage's tests can
/// also check backups across storages (memory to SQLite, SQLite to PostgreSQL ...).
extension StorageConformance {
    static func enumerationOfTheWholeStorage(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let b1 = BatchRecord(firstSequence: 1, lastSequence: 2, recorded: Instant(microseconds: 100))
        let b2 = BatchRecord(firstSequence: 3, lastSequence: 3, recorded: Instant(microseconds: 200))
        let b3 = BatchRecord(firstSequence: 4, lastSequence: 5, recorded: Instant(microseconds: 300))
        try s.write { try $0.append([event(1, eff: 1), event(2, twin: "b", eff: 2, source: lab)], batch: b1) }
        try s.write { try $0.append([], batch: b2) }
        try s.write { try $0.append([event(4, eff: 4), event(5, twin: "b", eff: 5)], batch: b3) }
        let hashes = (0..<7).map { EventHasher.sha256([UInt8($0), 42]) }
        try s.write { tx in
            for (i, h) in hashes.enumerated() { try tx.putObject(h, kind: i % 2 == 0 ? "twin" : "commit", bytes: [UInt8(i)]) }
            // an erasure's replacement keeps its hash with other bytes and kind
            try tx.replaceObject(hashes[3], kind: "twin-version", bytes: [9, 9])
        }
        let sorted = hashes.sorted { $0.hex < $1.hex }
        try s.read { (tx) throws in
            #expect(try tx.batches(after: Int64.min, limit: 100) == [b1, b2, b3])
            #expect(try tx.batches(after: 0, limit: 2) == [b1, b2])
            #expect(try tx.batches(after: 2, limit: 1) == [b2])
            #expect(try tx.batches(after: 3, limit: 10) == [b3])
            #expect(try tx.batches(after: 5, limit: 10).isEmpty)
            let all = try tx.objects(after: nil, limit: 100)
            #expect(all.map(\.hash) == sorted)
            for o in all {
                let i = hashes.firstIndex(of: o.hash)!
                #expect(o.bytes == (i == 3 ? [9, 9] : [UInt8(i)]))
                #expect(o.kind == (i == 3 ? "twin-version" : i % 2 == 0 ? "twin" : "commit"))
            }
            // pages of three, each after the last hash of the one before
            var paged: [ContentHash] = [], after: ContentHash? = nil
            while true {
                let page = try tx.objects(after: after, limit: 3)
                #expect(page.count <= 3)
                paged += page.map(\.hash)
                guard page.count == 3 else { break }
                after = page.last!.hash
            }
            #expect(paged == sorted)
            #expect(try tx.objects(after: sorted.last!, limit: 10).isEmpty)
        }
        // and inside a write, what the write added
        try s.write { (tx) throws in
            try tx.append([], batch: BatchRecord(firstSequence: 6, lastSequence: 6, recorded: Instant(microseconds: 400)))
            #expect(try tx.batches(after: 5, limit: 10).map(\.lastSequence) == [6])
        }
    }

    static func backupRestoreRoundTrip(_ subject: StorageSubject) throws {
        let sourceStorage = try subject.make()
        let source = Bank(storage: sourceStorage, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000))
        let sourceAudit = try subject.auditStore.map { try $0(sourceStorage) }
        let signer = AuditSigner()
        try BackupChecks.populate(source, audit: sourceAudit, signer: signer)
        let file = BackupChecks.temporaryPath("backup.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let written = try source.backup(to: file, attachments: sourceAudit.map { [AuditLogBackup(store: $0)] } ?? [])
        #expect(written.counts.events > 0 && written.counts.batches > 0 && written.counts.objects > 0 && written.counts.refs > 0)
        #expect(written.counts.attachments["audit", default: 0] > 0 || sourceAudit == nil)
        #expect(try sourceAudit.map { try $0.heads().count > 1 } ?? true, "the fixture's audit log has checkpoints")

        let targetStorage = try subject.make()
        let targetAudit = try subject.auditStore.map { try $0(targetStorage) }
        let restored = try BankBackup.restore(from: file, into: targetStorage, attachments: targetAudit.map { [AuditLogBackup(store: $0)] } ?? [])
        #expect(restored.counts == written.counts && restored.sha256 == written.sha256)
        try BackupChecks.expectSameContent(sourceStorage, targetStorage)
        try BackupChecks.expectSameAnswers(source, Bank(storage: targetStorage, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000)))
        if let sourceAudit, let targetAudit {
            try BackupChecks.expectSameAuditLog(sourceAudit, targetAudit)
            // the restored log verifies with the source's key, and continues under it
            #expect(try AuditLog(store: targetAudit, signer: nil).verify(publicKey: signer.publicKey).entries == 17)
        }

        // a second restore into the now non-empty storage is refused and changes nothing
        let again = try #require(throws: BankError.self) {
            try BankBackup.restore(from: file, into: targetStorage, attachments: targetAudit.map { [AuditLogBackup(store: $0)] } ?? [])
        }
        #expect(again.code == .bankNotEmpty)
        try BackupChecks.expectSameContent(sourceStorage, targetStorage)
        // a backup of the restored bank holds the same content (the same hash, but for the header's time)
        let file2 = BackupChecks.temporaryPath("backup2.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file2) }
        let second = try BankBackup.write(from: targetStorage, to: file2, attachments: targetAudit.map { [AuditLogBackup(store: $0)] } ?? [],
                                          clock: ManualClock(written.created))
        #expect(second.counts == written.counts && second.sha256 == written.sha256)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let lines2 = try String(contentsOfFile: file2, encoding: .utf8).split(separator: "\n")
        if let k = Array(zip(lines, lines2)).firstIndex(where: { $0.0 != $0.1 }) {
            Issue.record("the backup of the restored bank differs at line \(k + 1): \(lines[k]) / \(lines2[k])")
        }
        // the restored log continues under the source's key
        if let targetAudit {
            _ = try AuditLog(store: targetAudit, signer: signer, checkpointInterval: 4)
                .append(AuditEntry.Draft(actor: "restorer", action: "import", twin: nil, purpose: "care", decision: .permit, reason: "restored"))
            #expect(try AuditLog(store: targetAudit, signer: nil).verify(publicKey: signer.publicKey).entries == 18)
        }
    }
}

/// What a backup must keep, and the checks that a restore kept it: for the conformance cases and for tests of
/// backups across storages.
public enum BackupChecks {
    /// A new path in the temporary folder (the file is not created).
    public static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("twinbank-backup-\(UUID().uuidString)-\(name)").path
    }

    /// Fills a bank with what a backup must keep: twins and a template, observations from two sources, a retracted
    /// event, a source retracted with erasure, a fork, commits on a branch and a tag, aggregates by members and by
    /// query, a twin erased under the right to erasure; and with `audit`, an audit log of several signed heads.
    public static func populate(_ bank: Bank, audit: (any AuditStore)? = nil, signer: AuditSigner = AuditSigner()) throws {
        try bank.createTwin(person("alice", ["sex": .text("female")]))
        try bank.createTwin(person("bob"))
        try bank.createTwin(person("carol", ["sex": .text("female")]))
        try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["species": .text("human")]))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100), obs("alice", "2025-01-02T08:00:00Z", 150, source: lab),
                         obs("bob", "2025-01-01T09:00:00Z", 90, source: lab), obs("carol", "2025-01-01T10:00:00Z", 120),
                         obs("alice", "2025-01-03T08:00:00Z", heartRate, 70, "/min")])
        try bank.commit(message: "three people")
        try bank.tag("v1")
        try bank.append([obs("alice", "2025-01-01T12:00:00Z", 105), obs("bob", "2025-01-02T09:00:00Z", 95)])
        let first = try #require(try bank.events(ThreadQuery(twin: "alice")).first)
        try bank.retract(event: try EventReference(parsing: "\(first.sequence)"), reason: "sensor fault")
        try bank.retract(source: lab, reason: "wrong lab", erase: true)
        try bank.fork("alice", at: t("2025-01-02T00:00:00Z"), as: "alice-sim")
        try bank.append([obs("alice-sim", "2025-01-02T06:00:00Z", 130)])
        try bank.createAggregate("women", where: "kind = person and sex = female")
        try bank.createAggregate("study", members: ["alice", "bob"])
        try bank.commit(message: "fork and aggregates")
        try bank.createBranch("trial")
        try bank.erase(twin: "carol", reason: "request 7")
        if let audit {
            let log = try AuditLog(store: audit, signer: signer, checkpointInterval: 4)
            for i in 0..<11 {
                _ = try log.append(AuditEntry.Draft(actor: "dr-\(i % 3)", action: i % 2 == 0 ? "read" : "write", twin: i % 3 == 0 ? nil : "alice",
                                                    purpose: "care", decision: .permit, reason: "rule \(i)"))
            }
            _ = try log.append(contentsOf: (0..<6).map { AuditEntry.Draft(actor: "batch", action: "export", twin: nil, purpose: "research", decision: .deny, reason: "no \($0)") })
        }
    }

    struct Content: Equatable {
        var lastSequence: Int64
        var lastRecorded: Instant?
        var objects: [StoredObject]
        var refs: [String]
        var units: [CodeKey: String]
        var batches: [BatchRecord]
        var events: [Event]
    }

    static func content(_ s: any BankStorage) throws -> Content {
        try s.read { tx in
            Content(lastSequence: try tx.lastSequence(), lastRecorded: try tx.lastRecorded(),
                    objects: try tx.objects(after: nil, limit: Int.max / 2), refs: try tx.refs(prefix: "").map { "\($0.name)=\($0.value)" },
                    units: try tx.units(), batches: try tx.batches(after: Int64.min, limit: Int.max / 2),
                    events: try tx.events(sequences: Int64.min...Int64.max, limit: Int.max / 2))
        }
    }

    /// Expects two storages to hold the same content: every object (kind and bytes), ref, first unit, batch and
    /// event (every field), and the same last sequence and recorded time.
    public static func expectSameContent(_ a: any BankStorage, _ b: any BankStorage, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let x = try content(a), y = try content(b)
        #expect(x.lastSequence == y.lastSequence, sourceLocation: sourceLocation)
        #expect(x.lastRecorded == y.lastRecorded, sourceLocation: sourceLocation)
        #expect(x.objects == y.objects, sourceLocation: sourceLocation)
        #expect(x.refs == y.refs, sourceLocation: sourceLocation)
        #expect(x.units == y.units, sourceLocation: sourceLocation)
        #expect(x.batches == y.batches, sourceLocation: sourceLocation)
        #expect(x.events.count == y.events.count, sourceLocation: sourceLocation)
        for (e, f) in zip(x.events, y.events) where e != f {
            Issue.record("event \(e.sequence) differs after the restore: \(e) / \(f)", sourceLocation: sourceLocation)
        }
        #expect(!x.events.isEmpty || x.lastSequence == 0, sourceLocation: sourceLocation)
    }

    /// Expects two banks filled by ``populate(_:audit:)`` (or one restored from the other) to answer the same: threads
    /// as of several effective times and as known at every sequence, with retracted rows, the log, tags and branches,
    /// aggregates, and the erased twin.
    public static func expectSameAnswers(_ a: Bank, _ b: Bank, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try a.twinIDs() == b.twinIDs(), sourceLocation: sourceLocation)
        let last = try a.lastSequence()
        #expect(try b.lastSequence() == last, sourceLocation: sourceLocation)
        for twin in ["alice", "bob", "alice-sim"] as [TwinID] {
            #expect(try a.twin(twin) == b.twin(twin), sourceLocation: sourceLocation)
            #expect(try a.events(ThreadQuery(twin: twin, includeRetracted: true)) == b.events(ThreadQuery(twin: twin, includeRetracted: true)), sourceLocation: sourceLocation)
            for asOf in ["2025-01-01T10:00:00Z", "2025-01-02T12:00:00Z", "2025-06-01T00:00:00Z"] {
                #expect(try a.state(of: twin, asOf: t(asOf)) == b.state(of: twin, asOf: t(asOf)), sourceLocation: sourceLocation)
            }
            for k in 0...last {
                #expect(try a.events(ThreadQuery(twin: twin, knownAtSequence: k)) == b.events(ThreadQuery(twin: twin, knownAtSequence: k)), sourceLocation: sourceLocation)
            }
        }
        #expect(try a.log().map(\.id) == b.log().map(\.id), sourceLocation: sourceLocation)
        #expect(try a.tags().map(\.name) == b.tags().map(\.name), sourceLocation: sourceLocation)
        #expect(try a.branches().all.sorted() == b.branches().all.sorted(), sourceLocation: sourceLocation)
        for aggregate in ["women", "study"] as [AggregateID] {
            let asOf = t("2025-06-01T00:00:00Z")
            #expect(try a.members(of: aggregate, asOf: asOf).members == b.members(of: aggregate, asOf: asOf).members, sourceLocation: sourceLocation)
        }
        let erasedA = try #require(throws: BankError.self, sourceLocation: sourceLocation) { try a.twin("carol") }
        let erasedB = try #require(throws: BankError.self, sourceLocation: sourceLocation) { try b.twin("carol") }
        #expect(erasedA.code == erasedB.code, sourceLocation: sourceLocation)
    }

    /// Expects two audit stores to hold the same log: entries, signed heads (so the same checkpoints) and leaf hashes.
    public static func expectSameAuditLog(_ a: any AuditStore, _ b: any AuditStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let n = try a.entryCount()
        #expect(try b.entryCount() == n, sourceLocation: sourceLocation)
        #expect(try a.entries(in: 0..<n) == b.entries(in: 0..<n), sourceLocation: sourceLocation)
        #expect(try a.heads() == b.heads(), sourceLocation: sourceLocation)
        let leaves = Set((0..<n).map { MerkleNodeID(level: 0, index: $0) })
        #expect(try a.nodes(leaves) == b.nodes(leaves), sourceLocation: sourceLocation)
    }
}
