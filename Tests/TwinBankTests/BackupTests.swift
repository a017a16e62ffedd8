import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinStorageTesting
import TwinTesting

/// Backups across storages (memory to SQLite and back) with the audit log, and the refusals: a truncated or altered
/// backup, a target that is not empty, an existing path.
@Suite struct BackupTests {
    static func clock() -> ManualClock { ManualClock(try! Instant(parsing: "2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000) }

    /// A populated memory bank (with an audit log) and its backup file.
    static func memoryBackup(signer: AuditSigner) throws -> (storage: MemoryStorage, audit: MemoryAuditStore, file: String) {
        let storage = MemoryStorage(), audit = MemoryAuditStore()
        let bank = Bank(storage: storage, clock: clock())
        try BackupChecks.populate(bank, audit: audit, signer: signer)
        let file = try TemporaryFiles.path("bank.backup", label: "backup")
        try bank.backup(to: file, attachments: [AuditLogBackup(store: audit)])
        return (storage, audit, file)
    }

    enum Kind: String, CaseIterable { case memory, sqlite }

    static func empty(_ kind: Kind) throws -> (any BankStorage, any AuditStore) {
        switch kind {
        case .memory: return (MemoryStorage(), MemoryAuditStore())
        case .sqlite:
            let s = try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "backup"))
            return (s, SQLiteAuditStore(s))
        }
    }

    @Test(arguments: [(Kind.memory, Kind.sqlite), (.sqlite, .memory), (.sqlite, .sqlite)])
    func roundTripAcrossStorages(_ from: Kind, _ to: Kind) throws {
        let signer = AuditSigner()
        let (sourceStorage, sourceAudit) = try Self.empty(from)
        let source = Bank(storage: sourceStorage, clock: Self.clock())
        try BackupChecks.populate(source, audit: sourceAudit, signer: signer)
        let file = try TemporaryFiles.path("bank.backup", label: "backup")
        let written = try source.backup(to: file, attachments: [AuditLogBackup(store: sourceAudit)])

        let (targetStorage, targetAudit) = try Self.empty(to)
        let restored = try BankBackup.restore(from: file, into: targetStorage, attachments: [AuditLogBackup(store: targetAudit)])
        #expect(restored.counts == written.counts)
        try BackupChecks.expectSameContent(sourceStorage, targetStorage)
        try BackupChecks.expectSameAnswers(source, Bank(storage: targetStorage, clock: Self.clock()))
        try BackupChecks.expectSameAuditLog(sourceAudit, targetAudit)
        // the restored audit log verifies with the source's key, and continues under it
        #expect(try AuditLog(store: targetAudit, signer: nil).verify(publicKey: signer.publicKey).entries == 17)
        let log = try AuditLog(store: targetAudit, signer: signer, checkpointInterval: 4)
        _ = try log.append(AuditEntry.Draft(actor: "restorer", action: "import", twin: nil, purpose: "care", decision: .permit, reason: "restore"))
        #expect(try AuditLog(store: targetAudit, signer: nil).verify(publicKey: signer.publicKey).entries == 18)
    }

    /// Restores `file` into a fresh memory storage and expects it refused as invalid, with nothing written.
    func expectRefused(_ file: String, _ fragment: String) throws {
        let storage = MemoryStorage(), audit = MemoryAuditStore()
        let error = try #require(throws: BankError.self) {
            try BankBackup.restore(from: file, into: storage, attachments: [AuditLogBackup(store: audit)])
        }
        #expect(error.code == .invalidBackup)
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(error.value == file)
        #expect(try storage.read { try $0.lastSequence() } == 0)
        #expect(try storage.read { try $0.objects(after: nil, limit: 1) }.isEmpty)
        #expect(try audit.entryCount() == 0)
    }

    @Test func aTruncatedBackupIsRefused() throws {
        let (_, _, file) = try Self.memoryBackup(signer: AuditSigner())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false)
        // cut in the middle of a line, and at a line boundary (the trailer lost)
        let cut = try TemporaryFiles.path("cut.backup", label: "backup")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        try expectRefused(cut, "truncated")
        let noTrailer = try TemporaryFiles.path("no-trailer.backup", label: "backup")
        try Data(lines.dropLast(2).joined(separator: [10]) + [10]).write(to: URL(fileURLWithPath: noTrailer))
        try expectRefused(noTrailer, "ends before its trailer")
        let empty = try TemporaryFiles.path("empty.backup", label: "backup")
        try Data().write(to: URL(fileURLWithPath: empty))
        try expectRefused(empty, "empty")
        try expectRefused(try TemporaryFiles.path("missing.backup", label: "backup"), "cannot read")
    }

    @Test func anAlteredBackupIsRefused() throws {
        let (_, _, file) = try Self.memoryBackup(signer: AuditSigner())
        let text = try String(contentsOfFile: file, encoding: .utf8)
        // one value changed in an event line (105 mg/dL to 106)
        let altered = try TemporaryFiles.path("altered.backup", label: "backup")
        #expect(text.contains("\"value\":105"))
        try text.replacingOccurrences(of: "\"value\":105", with: "\"value\":106").write(toFile: altered, atomically: true, encoding: .utf8)
        try expectRefused(altered, "was altered")
        // a line removed, with the hash recomputed by hand is still caught by the counts; a line removed is caught by the hash
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let eventLine = try #require(lines.firstIndex { $0.hasPrefix("{\"t\":\"event\"") })
        lines.remove(at: eventLine)
        let dropped = try TemporaryFiles.path("dropped.backup", label: "backup")
        try lines.joined(separator: "\n").write(toFile: dropped, atomically: true, encoding: .utf8)
        try expectRefused(dropped, "was altered")
        // not a backup at all
        let other = try TemporaryFiles.path("other.backup", label: "backup")
        try "{\"hello\":1}\n".write(toFile: other, atomically: true, encoding: .utf8)
        try expectRefused(other, "not a Twinbank backup")
        // another version
        let future = try TemporaryFiles.path("future.backup", label: "backup")
        try text.replacingOccurrences(of: "\"version\":1", with: "\"version\":99").write(toFile: future, atomically: true, encoding: .utf8)
        try expectRefused(future, "version 99")
    }

    @Test func aBackupWithAnAuditLogNeedsAnAuditStore() throws {
        let (_, _, file) = try Self.memoryBackup(signer: AuditSigner())
        let storage = MemoryStorage()
        let error = try #require(throws: BankError.self) { try BankBackup.restore(from: file, into: storage) }
        #expect(error.code == .invalidBackup && error.message.contains("audit"))
        #expect(try storage.read { try $0.lastSequence() } == 0)
    }

    @Test func aNonEmptyTargetIsRefused() throws {
        let (_, _, file) = try Self.memoryBackup(signer: AuditSigner())
        // a bank with one twin
        let storage = MemoryStorage()
        try Bank(storage: storage, clock: Self.clock()).createTwin(Twin(id: "zed", kind: .person))
        let before = try storage.read { try $0.refs(prefix: "").map(\.name) }
        let error = try #require(throws: BankError.self) { try BankBackup.restore(from: file, into: storage, attachments: [AuditLogBackup(store: MemoryAuditStore())]) }
        #expect(error.code == .bankNotEmpty)
        #expect(try storage.read { try $0.refs(prefix: "").map(\.name) } == before)
        // an empty bank with a non-empty audit log
        let audit = MemoryAuditStore()
        _ = try AuditLog(store: audit, signer: AuditSigner()).append(AuditEntry.Draft(actor: "a", action: "read", twin: nil, purpose: "care", decision: .permit, reason: "r"))
        let empty = MemoryStorage()
        let logError = try #require(throws: BankError.self) { try BankBackup.restore(from: file, into: empty, attachments: [AuditLogBackup(store: audit)]) }
        #expect(logError.code == .bankNotEmpty && logError.value == "audit")
        #expect(try empty.read { try $0.lastSequence() } == 0 && audit.entryCount() == 1)
    }

    @Test func aBackupFileIsNewAndWholeOrAbsent() throws {
        let storage = MemoryStorage()
        let bank = Bank(storage: storage, clock: Self.clock())
        try BackupChecks.populate(bank)
        let folder = try TemporaryFiles.directory("backup-out")
        let existing = folder.appendingPathComponent("old.backup").path
        try "keep".write(toFile: existing, atomically: true, encoding: .utf8)
        let error = try #require(throws: TwinError.self) { try bank.backup(to: existing) }
        #expect(error.code == .outputExists && error.value == existing && !error.message.contains("--force"), "\(error.message)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep")
        // a storage that fails half-way leaves no file and no temporary file
        let failing = folder.appendingPathComponent("failed.backup").path
        #expect(throws: BankError.self) {
            try BankBackup.write(from: FailingReadStorage(base: storage), to: failing)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["old.backup"])
    }

    /// Fails when the backup pages through the events.
    final class FailingReadStorage: BankStorage, @unchecked Sendable {
        let base: MemoryStorage
        init(base: MemoryStorage) { self.base = base }
        func read<T>(_ body: (any StorageReader) throws -> T) throws -> T {
            try base.read { _ in throw BankError(.storageFailure, "the disk went away") }
        }
        func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T { try base.write(body) }
        func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T { try await base.runBlocking(body) }
    }

    /// A backup reads in pages: the number of storage queries grows with the pages, not with the events or twins.
    @Test func aBackupReadsInPages() throws {
        let storage = CountingStorage(MemoryStorage())
        let bank = Bank(storage: storage, clock: Self.clock())
        let twins = (0..<40).map { try! TwinID("p\($0)") }
        for id in twins { try bank.createTwin(Twin(id: id, kind: .person)) }
        // 12,000 events in 40 batches
        for k in 0..<40 {
            try bank.append((0..<300).map { i in
                EventDraft.observation(twins[(k + i) % twins.count], at: Instant(microseconds: 1_700_000_000_000_000 + Int64(k * 300 + i) * 1_000_000),
                                       code: Concept.loinc("2339-0"), Quantity(Double(i), "mg/dL"), source: Source(.device, "m"))
            })
        }
        storage.reset()
        let file = try TemporaryFiles.path("paged.backup", label: "backup")
        let summary = try BankBackup.write(from: storage, to: file)
        #expect(summary.counts.events == 12_000 && summary.counts.batches == 40)
        let counts = storage.counts
        // pages of 5,000 events: 3, and one look past the last event
        #expect(counts["eventsBySequence", default: 0] == 4, "\(counts)")
        #expect(counts["batches", default: 0] == 1 && counts["objectsAfter", default: 0] == 1, "\(counts)")
        #expect(storage.reads <= 10, "\(counts)")
    }

    @Test func restoreToANewSQLiteBank() throws {
        let signer = AuditSigner()
        let (source, audit, file) = try Self.memoryBackup(signer: signer)
        let folder = try TemporaryFiles.directory("restore")
        let path = folder.appendingPathComponent("new.sqlite").path
        // refused when something is at the path (untouched)
        let occupied = folder.appendingPathComponent("occupied.sqlite").path
        try "not mine".write(toFile: occupied, atomically: true, encoding: .utf8)
        let exists = try #require(throws: BankError.self) { try SQLiteStorage.restoreBackup(from: file, toNewBank: occupied) }
        #expect(exists.code == .bankExists && exists.value == occupied)
        #expect(try String(contentsOfFile: occupied, encoding: .utf8) == "not mine")
        // a failure before the rename (here the gate denies) leaves no file and no temporary file
        #expect(throws: BankError.self) {
            try SQLiteStorage.restoreBackup(from: file, toNewBank: path, beforeCommit: { _ in throw BankError(.accessDenied, "access denied") })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["occupied.sqlite"])
        // restored whole
        try SQLiteStorage.restoreBackup(from: file, toNewBank: path)
        let restored = try SQLiteStorage(path: path, create: false)
        try BackupChecks.expectSameContent(source, restored)
        try BackupChecks.expectSameAuditLog(audit, SQLiteAuditStore(restored))
        #expect(try AuditLog(store: SQLiteAuditStore(restored), signer: nil).verify(publicKey: signer.publicKey).entries == 17)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)).isSubset(of: ["occupied.sqlite", "new.sqlite", "new.sqlite-wal", "new.sqlite-shm"]))
    }
}
