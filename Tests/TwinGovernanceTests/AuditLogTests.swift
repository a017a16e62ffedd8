import Foundation
import GRDB
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting
@testable import TwinGovernance

/// A clock that advances one second per reading, from 2026-01-01.
final class StepClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t = Instant(microseconds: 1_767_225_600_000_000)
    func now() -> Instant { lock.lock(); defer { lock.unlock() }; t = t.advanced(bySeconds: 1); return t }
}

func draft(_ i: Int, twin: String? = nil, decision: AuditEntry.Decision = .permit) -> AuditEntry.Draft {
    AuditEntry.Draft(AccessRequest(actor: "dr-\(i % 3)", action: i % 2 == 0 ? .read : .write, twin: try? TwinID(twin ?? "twin-\(i % 5)"), purpose: "care"),
                     decision: decision, reason: "policy rule \(i)", role: "clinician", organisation: i % 4 == 0 ? nil : "ward-7")
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [UInt64] = []
    func add(_ v: UInt64) { lock.lock(); list.append(v); lock.unlock() }
    var values: [UInt64] { lock.lock(); defer { lock.unlock() }; return list }
}

/// The two stores an audit log runs on, opened fresh.
enum AuditStoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite
    var testDescription: String { rawValue }

    func make() throws -> (store: any AuditStore, path: String?) {
        switch self {
        case .memory: return (MemoryAuditStore(), nil)
        case .sqlite:
            let path = try TemporaryFiles.path("bank.sqlite", label: "audit")
            return (SQLiteAuditStore(try SQLiteStorage.createNew(path: path)), path)
        }
    }
}

@Suite struct AuditEntryTests {
    @Test func canonicalBytesAreStableSortedJSON() {
        let e = AuditEntry(sequence: 7, time: Instant(microseconds: 1_700_000_000_000_001), actor: "dr \"a\"\n", role: nil, organisation: "ward\\7",
                           action: "read", twin: "p-1", purpose: "care", decision: .permitWithFilter, reason: "tab\there")
        let text = String(decoding: e.canonicalBytes, as: UTF8.self)
        #expect(text == #"{"action":"read","actor":"dr \"a\"\n","decision":"permit-with-filter","organisation":"ward\\7","purpose":"care","reason":"tab\there","role":null,"seq":7,"time":1700000000000001,"twin":"p-1","v":1}"#)
        // it is JSON that reads back to the same fields
        let o = try? JSONSerialization.jsonObject(with: Data(e.canonicalBytes)) as? [String: Any]
        #expect(o?["actor"] as? String == "dr \"a\"\n")
        #expect(e.leafHash == Merkle.leafHash(e.canonicalBytes))
        var other = e
        other.reason = "tab\there "
        #expect(other.leafHash != e.leafHash)
    }

    @Test func aDraftFromAnAccessRequestKeepsNoHealthData() {
        let d = AuditEntry.Draft(AccessRequest(actor: "svc", action: .export, twin: "p-9", purpose: "research"), decision: .deny, reason: "no consent for research")
        #expect(d.twin == "p-9" && d.action == "export" && d.purpose == "research" && d.decision == .deny)
    }
}

@Suite(.serialized) struct AuditLogTests {
    /// Two log objects on one store, as two processes on one bank (a long-lived `watch` beside short commands): each
    /// appends after the other has, numbering its batch from the store's end; the log stays one valid tree.
    @Test(arguments: AuditStoreKind.allCases)
    func twoProcessesAppendInTurnToOneLog(_ kind: AuditStoreKind) throws {
        let (store, path) = try kind.make()
        let signer = AuditSigner()
        // the second "process": its own storage on the file (memory: the same store, another log object)
        let other: any AuditStore = try path.map { SQLiteAuditStore(try SQLiteStorage(path: $0, create: false)) } ?? store
        let a = try AuditLog(store: store, signer: signer, checkpointInterval: 4)
        let b = try AuditLog(store: other, signer: signer, checkpointInterval: 4)
        var numbers: [UInt64] = []
        for i in 0..<6 {
            numbers.append(try a.append(draft(2 * i)).sequence)
            numbers.append(try b.append(contentsOf: [draft(2 * i + 1), draft(100 + i)]).map(\.sequence).last!)
        }
        #expect(numbers == [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17])
        #expect(try store.latestHead()?.size == 18)
        _ = try AuditLog(store: store, signer: nil).verify(publicKey: signer.publicKey)
        // a store that is not just ahead (a gap) is still refused as before
        let gap = AuditEntry(draft(1), sequence: 30, time: Instant(microseconds: 1_767_225_600_000_000))
        let refused = try #require(throws: GovernanceError.self) {
            try store.append(AuditBatch(entries: [gap], nodes: [], head: try signer.sign(size: 31, root: Merkle.emptyRoot, time: gap.time), replacesHead: nil))
        }
        #expect(refused.code == .storageFailure)
    }

    /// Queued entries (``AuditLog/enqueue(_:startingCommit:)``) share one commit with everything queued before the
    /// first wait, keep the order they were queued in, and are committed even when nobody waits (a started commit).
    @Test(arguments: AuditStoreKind.allCases)
    func queuedEntriesShareACommitInOrder(_ kind: AuditStoreKind) throws {
        let (store, _) = try kind.make()
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer)
        let tickets = try (0 ..< 5).map { try log.enqueue([draft($0)], startingCommit: false) }
        #expect(log.size == 0, "nothing is committed before a wait")
        let last = try log.wait(tickets[4])
        #expect(last.map(\.sequence) == [4])
        #expect(log.commits == 1 && log.size == 5, "one commit for the five queued entries")
        #expect(try tickets.map { try log.wait($0)[0].sequence } == [0, 1, 2, 3, 4])
        #expect(log.commits == 1, "waiting for committed tickets commits nothing")

        // a ticket nobody waits for is committed by the commit enqueue starts
        _ = try log.enqueue([draft(5), draft(6)])
        let deadline = Date().addingTimeInterval(30)
        while log.size < 7 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(log.size == 7)
        #expect(try log.verify(publicKey: signer.publicKey).entries == 7)
        // a read-only log refuses to queue
        #expect(throws: GovernanceError.self) { try AuditLog(store: store, signer: nil).enqueue([draft(1)]) }
    }

    @Test(arguments: AuditStoreKind.allCases)
    func appendsProvesAndVerifies(_ kind: AuditStoreKind) throws {
        let (store, _) = try kind.make()
        let signer = AuditSigner()
        let clock = StepClock()
        let log = try AuditLog(store: store, signer: signer, checkpointInterval: 1, clock: clock.now)
        #expect(try log.verify(publicKey: signer.publicKey).entries == 0)
        var appended: [AuditEntry] = []
        for i in 0 ..< 13 { appended.append(try log.append(draft(i))) }
        appended += try log.append(contentsOf: (13 ..< 40).map { draft($0) })
        #expect(appended.map(\.sequence) == Array(0 ..< 40))
        #expect(log.size == 40)
        let report = try log.verify(publicKey: signer.publicKey)
        #expect(report.entries == 40 && report.heads == 14)
        let head = try #require(try log.latestHead())
        #expect(head.size == 40 && head.isSigned(by: signer.publicKey))
        #expect(!head.isSigned(by: AuditSigner().publicKey))
        #expect(head.root == Merkle.root(leaves: appended.map(\.leafHash)))
        for i in [0, 1, 17, 38, 39] as [UInt64] {
            let p = try log.inclusionProof(entry: i)
            #expect(p.entry == appended[Int(i)])
            try p.verify(publicKey: signer.publicKey)
            // the proof file round-trips and still verifies offline
            let again = try InclusionProof(json: p.json)
            #expect(again == p)
            try again.verify(publicKey: signer.publicKey)
            var forged = again
            forged.entry.decision = .deny
            #expect(throws: GovernanceError.self) { try forged.verify(publicKey: signer.publicKey) }
        }
        let old = try log.inclusionProof(entry: 5, size: 13)
        #expect(old.head == nil && old.root == Merkle.root(leaves: appended.prefix(13).map(\.leafHash)))
        try old.verify(publicKey: nil)
        #expect(throws: GovernanceError.self) { try log.inclusionProof(entry: 40) }
        #expect(throws: GovernanceError.self) { try log.inclusionProof(entry: 3, size: 41) }
        let c = try log.consistencyProof(from: 13, to: 40)
        try Merkle.verifyConsistency(size1: 13, size2: 40, proof: c.map(\.bytes), root1: try log.root(size: 13).bytes, root2: head.root.bytes)
        #expect(try log.entries(matching: AuditQuery(twin: "twin-2")).map(\.sequence) == [2, 7, 12, 17, 22, 27, 32, 37])
        let t = appended[20].time
        #expect(try log.entries(matching: AuditQuery(from: t, to: t)).map(\.sequence) == Array(13 ..< 40).filter { appended[Int($0)].time == t })
        // a reopened log continues the same tree
        let reopened = try AuditLog(store: store, signer: signer, clock: clock.now)
        #expect(reopened.size == 40)
        try reopened.append(draft(40))
        #expect(try reopened.verify(publicKey: signer.publicKey).entries == 41)
        // a read-only log refuses to write
        #expect(throws: GovernanceError.self) { try AuditLog(store: store, signer: nil).append(draft(1)) }
    }

    @Test(arguments: AuditStoreKind.allCases)
    func headsAreKeptAsCheckpointsAndTheLatest(_ kind: AuditStoreKind) throws {
        let (store, _) = try kind.make()
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer, checkpointInterval: 8)
        for i in 0 ..< 40 { try log.append(draft(i)) }
        #expect(try store.heads().map(\.size) == [7, 15, 23, 31, 39, 40])
        try log.append(contentsOf: (40 ..< 60).map { draft($0) })  // crosses two blocks at once: 40 stays
        try log.append(draft(60))
        #expect(try store.heads().map(\.size) == [7, 15, 23, 31, 39, 40, 61])  // 60 is superseded by 61, in its block
        #expect(try log.verify(publicKey: signer.publicKey).heads == 7)
        #expect(try AuditLog(store: store, signer: nil).inclusionProof(entry: 3).head?.size == 61)
    }

    @Test(arguments: AuditStoreKind.allCases)
    func concurrentAppendsShareCommits(_ kind: AuditStoreKind) throws {
        let (store, _) = try kind.make()
        (store as? MemoryAuditStore)?.commitDelay = 0.005
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer)
        let n = 64
        let done = DispatchGroup()
        let results = Collected()
        for i in 0 ..< n {
            done.enter()
            let thread = Thread {
                if let e = try? log.append(draft(i)) { results.add(e.sequence) }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        #expect(results.values.sorted() == (0 ..< UInt64(n)).map { $0 })
        #expect(log.commits < n, "\(n) concurrent appends took \(log.commits) commits")
        #expect(try log.verify(publicKey: signer.publicKey).entries == UInt64(n))
        for i in 0 ..< UInt64(n) { try log.inclusionProof(entry: i).verify(publicKey: signer.publicKey) }
    }

    @Test func aFailedAppendRecordsNothingAndTheLogContinues() throws {
        // the next append fails (a full disk, a lost connection)
        let store = FailingAuditStore()
        store.failingOnce = true
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer)
        let error = try #require(throws: GovernanceError.self) { try log.append(contentsOf: [draft(0), draft(1)]) }
        #expect(error.code == .storageFailure)
        let stored = try store.entryCount()
        #expect(log.size == 0 && log.commits == 0 && stored == 0)
        let e = try log.append(draft(2))
        #expect(e.sequence == 0)
        #expect(try log.verify(publicKey: signer.publicKey).entries == 1)
    }

    @Test func tamperingInMemoryIsNamed() throws {
        for tamper in ["edit", "delete", "swap", "insert"] {
            let store = MemoryAuditStore()
            let signer = AuditSigner()
            let log = try AuditLog(store: store, signer: signer)
            for i in 0 ..< 20 { try log.append(draft(i)) }
            store.tamper { rows in
                switch tamper {
                case "edit": rows[11].decision = .deny
                case "delete": rows.remove(at: 11)
                case "swap":
                    let (a, b) = (rows[11], rows[15])
                    rows[11] = b; rows[11].sequence = 11
                    rows[15] = a; rows[15].sequence = 15
                default: rows.append(AuditEntry(draft(99), sequence: 20, time: rows[0].time))
                }
            }
            let error = try #require(throws: GovernanceError.self) { try log.verify(publicKey: signer.publicKey) }
            #expect(error.code == .auditTampered)
            #expect(error.value == (tamper == "insert" ? "20" : "11"), "\(tamper): \(error)")
        }
    }
}

@Suite(.serialized) struct SQLiteAuditTamperTests {
    /// A log of 30 entries in a new SQLite bank, closed; returns the bank path and the public key.
    func bank() throws -> (String, AuditSigner.PublicKey) {
        let (store, path) = try AuditStoreKind.sqlite.make()
        let signer = AuditSigner()
        let log = try AuditLog(store: store, signer: signer, checkpointInterval: 1)
        for i in 0 ..< 10 { try log.append(draft(i)) }
        try log.append(contentsOf: (10 ..< 30).map { draft($0) })
        return (path!, signer.publicKey)
    }

    func verify(_ path: String, _ key: AuditSigner.PublicKey) throws -> AuditLog.Verification {
        try AuditLog(store: SQLiteAuditStore(SQLiteStorage(path: path, create: false)), signer: nil).verify(publicKey: key)
    }

    @Test func anUntouchedLogVerifies() throws {
        let (path, key) = try bank()
        #expect(try verify(path, key).entries == 30)
        #expect(throws: GovernanceError.self) { try verify(path, AuditSigner().publicKey) }
    }

    @Test(arguments: [
        ("UPDATE audit_entry SET purpose = 'research' WHERE seq = 17", "17"),
        ("UPDATE audit_entry SET time = time + 1 WHERE seq = 3", "3"),
        ("UPDATE audit_entry SET twin = NULL WHERE seq = 25", "25"),
        ("DELETE FROM audit_entry WHERE seq = 12", "12"),
        ("DELETE FROM audit_entry WHERE seq = 29", "29"),
        ("CREATE TEMP TABLE swap AS SELECT * FROM audit_entry WHERE seq IN (8, 19); UPDATE audit_entry SET time = (SELECT time FROM swap WHERE swap.seq = 27 - audit_entry.seq), actor = (SELECT actor FROM swap WHERE swap.seq = 27 - audit_entry.seq), role = (SELECT role FROM swap WHERE swap.seq = 27 - audit_entry.seq), organisation = (SELECT organisation FROM swap WHERE swap.seq = 27 - audit_entry.seq), action = (SELECT action FROM swap WHERE swap.seq = 27 - audit_entry.seq), twin = (SELECT twin FROM swap WHERE swap.seq = 27 - audit_entry.seq), purpose = (SELECT purpose FROM swap WHERE swap.seq = 27 - audit_entry.seq), decision = (SELECT decision FROM swap WHERE swap.seq = 27 - audit_entry.seq), reason = (SELECT reason FROM swap WHERE swap.seq = 27 - audit_entry.seq) WHERE seq IN (8, 19)", "8"),
        ("INSERT INTO audit_entry SELECT 30, time, actor, role, organisation, action, twin, purpose, decision, reason, leaf FROM audit_entry WHERE seq = 4", "30"),
        ("UPDATE audit_entry SET leaf = randomblob(32) WHERE seq = 21", "21"),
        ("UPDATE audit_node SET hash = randomblob(32) WHERE level = 4 AND idx = 0", "0"),
    ])
    func tamperingWithRowsIsDetectedAndNamed(_ sql: String, _ entry: String) throws {
        let (path, key) = try bank()
        let db = try DatabaseQueue(path: path)
        try db.write { try $0.execute(sql: sql) }
        try db.close()
        let error = try #require(throws: GovernanceError.self) { try verify(path, key) }
        #expect(error.code == .auditTampered)
        #expect(error.value == entry, "\(error)")
    }

    @Test func aDamagedTreeOpensForVerifyButRefusesAppends() throws {
        let (path, key) = try bank()
        let db = try DatabaseQueue(path: path)
        try db.write { try $0.execute(sql: "UPDATE audit_node SET hash = randomblob(32) WHERE level = 4 AND idx = 0") }
        try db.close()
        let log = try AuditLog(store: SQLiteAuditStore(SQLiteStorage(path: path, create: false)), signer: AuditSigner())
        let refused = try #require(throws: GovernanceError.self) { try log.append(draft(1)) }
        #expect(refused.code == .auditTampered)
        let named = try #require(throws: GovernanceError.self) { try log.verify(publicKey: key) }
        #expect(named.value == "0")
        #expect(try AuditLog(store: SQLiteAuditStore(SQLiteStorage(path: path, create: false)), signer: nil).entries(matching: AuditQuery()).count == 30)
    }

    @Test func aForgedHeadIsRefused() throws {
        let (path, key) = try bank()
        let db = try DatabaseQueue(path: path)
        try db.write { try $0.execute(sql: "UPDATE audit_head SET time = time + 1 WHERE size = 10") }
        try db.close()
        let error = try #require(throws: GovernanceError.self) { try verify(path, key) }
        #expect(error.value == "head 10")
    }
}

@Suite struct BankFilePermissionTests {
    @Test func aNewBankAndItsWALAreOwnerOnly() throws {
        let old = umask(0o022)
        defer { umask(old) }
        let path = try TemporaryFiles.path("perm.sqlite", label: "audit")
        let storage = try SQLiteStorage.createNew(path: path)
        try storage.write { w in try w.setRef("heads/probe", "x") }
        for file in [path, path + "-wal", path + "-shm"] {
            let attrs = try FileManager.default.attributesOfItem(atPath: file)
            let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue ?? -1
            #expect(mode == 0o600, "\(file) has mode \(String(mode, radix: 8))")
        }
    }
}
