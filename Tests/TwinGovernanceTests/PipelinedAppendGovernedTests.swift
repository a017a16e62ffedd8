import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinTesting

/// `Bank.appendPipelined` behind the governed gate on a SQLite bank whose audit log lives in the same file (as the
/// command opens it): the checking thread's decisions are appended to the log while the calling thread writes
/// batches through the same connection pool; every batch lands, every decision is logged, the log verifies.
@Suite struct PipelinedAppendGovernedTests {
    @Test func aLongPermittedStreamLandsAndEveryBatchIsAudited() throws {
        let sqlite = try SQLiteStorage(path: try TemporaryFiles.path("pipelined.twinbank", label: "pipelined"))
        let audit = SQLiteAuditStore(sqlite)
        let store = BankGovernanceStore(storage: sqlite)
        _ = try store.updatePolicy(initial: .default(owner: "owner")) { _ in }
        let clock = ManualClock(try Instant(parsing: "2026-06-01T12:00:00Z"), stepMicroseconds: 1_000)
        let signer = AuditSigner()
        let log = try AuditLog(store: audit, signer: signer)
        let gate = GovernedGate(store: store, log: log, owner: "owner", clock: clock)
        let bank = Bank(storage: sqlite, gate: gate, clock: clock, actor: "owner", purpose: "treatment")
        try bank.createTwin(Twin(id: "p1", kind: .person))
        let glucose = Concept(system: "http://loinc.org", code: "2339-0")
        let start = try Instant(parsing: "2026-05-01T00:00:00Z")
        let batches: [[EventDraft]] = (0..<40).map { b in
            (0..<250).map { k in
                .observation("p1", at: start.advanced(bySeconds: Double(b * 250 + k) * 60), code: glucose, Quantity(100 + Double(k % 50), "mg/dL"),
                             source: Source(.device, "cgm"))
            }
        }
        let before = try audit.entryCount()
        var acknowledged: [Int] = []
        let appended = try bank.appendPipelined(batches) { acknowledged.append($0.batch) }
        #expect(appended == 40 && acknowledged == Array(1...40))
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 10_000)
        let entries = try audit.entries(in: before ..< audit.entryCount())
        #expect(entries.filter { $0.action == "write" && $0.twin == "p1" && $0.decision == .permit }.count == 40)
        #expect(try log.verify(publicKey: signer.publicKey).entries == (try audit.entryCount()))

        // an actor without a role: the first batch is refused, nothing is written, the refusal is logged
        let mallory = Bank(storage: sqlite, gate: gate, clock: clock, actor: "mallory", purpose: "treatment")
        let last = try bank.lastSequence()
        #expect(throws: AppendPipelineError.self) { try mallory.appendPipelined(batches) }
        #expect(try bank.lastSequence() == last)
        #expect(try audit.entries(in: 0 ..< audit.entryCount()).contains { $0.actor == "mallory" && $0.decision == .deny })
    }
}
