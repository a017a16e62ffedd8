import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinSimulation
import TwinTesting

/// The governed gate: the bank's reads apply the decision's filter, and every decision is in the audit log
/// before the bank answers.
@Suite struct GovernedGateTests {
    static let hr = Concept(system: "http://loinc.org", code: "8867-4")       // heart rate: vital signs
    static let glucose = Concept(system: "http://loinc.org", code: "2339-0")  // glucose: chemistry

    /// A ward bank (memory storage, Ward.policy) with p1 holding heart rate and glucose on two days, behind a
    /// governed gate over `audit`.
    func ward(_ audit: any AuditStore = MemoryAuditStore(), signer: AuditSigner = AuditSigner()) throws -> (bank: Bank, gate: GovernedGate, store: BankGovernanceStore) {
        let storage = MemoryStorage()
        let store = BankGovernanceStore(storage: storage)
        try store.updatePolicy(initial: Ward.policy) { _ in }
        let gate = GovernedGate(store: store, log: try AuditLog(store: audit, signer: signer), owner: "owner", clock: ManualClock(Ward.now))
        let bank = Bank(storage: storage, gate: gate, clock: ManualClock(Ward.now), actor: "owner", purpose: "operations")
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        let device = bank.acting(as: "dev", purpose: "treatment")
        for (i, day) in ["2026-05-01", "2026-05-02"].enumerated() {
            _ = try device.append([.observation("p1", at: Ward.day(day), code: Self.hr, Quantity(60 + Double(i), "/min"), source: Source(.device, "watch")),
                                   .observation("p1", at: Ward.day(day), code: Self.glucose, Quantity(5 + Double(i), "mmol/L"), source: Source(.record, "lab"))])
        }
        return (bank, gate, store)
    }

    @Test func readsApplyTheConsentsFilter() throws {
        let (bank, _, store) = try ward()
        let research = bank.acting(as: "res", purpose: "research")
        // the person opts in to research on vital signs only
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-03")) { $0.add(rule(.permit, [.research], data: [.category(.vitalSigns)])) }
        let events = try research.events(ThreadQuery(twin: "p1"))
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.code.key == Self.hr.key })
        // the state holds the latest heart rate and no glucose
        let state = try research.state(of: "p1")
        #expect(state.map(\.code.key) == [Self.hr.key])
        #expect(state.first?.value == .quantity(Quantity(61, "/min")))
        // following the twin by sequence number applies it too
        #expect(try research.events(of: "p1", sequences: 1 ... 100).allSatisfy { $0.code.key == Self.hr.key })
        // an entry point that cannot apply a filter refuses
        let export = #expect(throws: BankError.self) { try research.acting(as: "res", purpose: "research").authorize(.read, "p1") }
        #expect(export?.code == .accessDenied)
        #expect(export?.message.contains("only with a filter") == true)
        // the clinician, for treatment, sees everything
        #expect(try bank.acting(as: "dr", purpose: "treatment").events(ThreadQuery(twin: "p1")).count == 4)
        #expect(try bank.acting(as: "dr", purpose: "treatment").state(of: "p1").count == 2)
    }

    /// The decisions the bank's own entry points get through the gate: by role, purpose and the person's opt-in.
    @Test func researchNeedsTheOptInAndDevicesDoNotRead() throws {
        let (bank, _, store) = try ward()
        #expect(try bank.acting(as: "dr", purpose: "treatment").events(ThreadQuery(twin: "p1")).count == 4)
        let research = bank.acting(as: "res", purpose: "research")
        let refused = #expect(throws: BankError.self) { try research.events(ThreadQuery(twin: "p1")) }
        #expect(refused?.code == .accessDenied)
        #expect(refused?.message.contains("needs the person's consent") == true, "\(refused?.message ?? "")")
        #expect(refused?.value == "res")
        let device = #expect(throws: BankError.self) { try bank.acting(as: "dev", purpose: "treatment").events(ThreadQuery(twin: "p1")) }
        #expect(device?.code == .accessDenied)
        // the person opts in to research on all data: permitted, unrestricted, from then on
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-02")) { $0.add(rule(.permit, [.research])) }
        #expect(try research.events(ThreadQuery(twin: "p1")).count == 4)
        try research.authorize(.read, "p1")
    }

    @Test func everyDecisionIsAuditedBeforeTheAnswer() throws {
        let audit = MemoryAuditStore()
        let signer = AuditSigner()
        let (bank, gate, store) = try ward(audit, signer: signer)
        let before = try audit.entryCount()
        _ = try bank.acting(as: "dr", purpose: "treatment").events(ThreadQuery(twin: "p1"))
        var last = try #require(audit.entries(in: before ..< before + 1).first)
        #expect(try audit.entryCount() == before + 1)
        #expect((last.actor, last.action, last.twin, last.purpose, last.decision) == ("dr", "read", "p1", "treatment", .permit))
        #expect(last.role == "clinician" && last.organisation == "hospital-a")

        // a deny throws BankError accessDenied naming the actor, and is recorded as deny
        let denied = #expect(throws: BankError.self) { try bank.acting(as: "mallory", purpose: "treatment").events(ThreadQuery(twin: "p1")) }
        #expect(denied?.code == .accessDenied && denied?.value == "mallory" && denied?.message.contains("mallory") == true)
        last = try #require(audit.entries(in: before + 1 ..< before + 2).first)
        #expect((last.actor, last.decision) == ("mallory", .deny))

        // a filtered permit is recorded as permit-with-filter, naming the filter
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-03")) { $0.add(rule(.permit, [.research], data: [.category(.vitalSigns)])) }
        _ = try bank.acting(as: "res", purpose: "research").events(ThreadQuery(twin: "p1"))
        last = try #require(audit.entries(in: before + 2 ..< before + 3).first)
        #expect(last.decision == .permitWithFilter && last.reason.contains("vital-signs"))

        // decisions inside the bank's own transactions are recorded when it ends, a deny too
        let n = try audit.entryCount()
        #expect(throws: BankError.self) {
            try bank.acting(as: "mallory", purpose: "treatment").write { w in try w.append([.observation("p1", at: Ward.day("2026-05-04"), code: Self.hr, Quantity(70, "/min"), source: Source(.device, "watch"))]) }
        }
        last = try #require(audit.entries(in: n ..< n + 1).first)
        #expect((last.actor, last.action, last.decision) == ("mallory", "write", .deny))
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 4)
        // and the log verifies
        #expect(try gate.log.verify(publicKey: signer.publicKey).entries == audit.entryCount())
    }

    /// Computations over a cohort ask with their own action, not `read`, and leave out (audited) the members whose
    /// consent refuses the purpose, rather than failing the whole computation.
    @Test func cohortComputationsAskPerMemberAndLeaveOutRefusals() throws {
        let audit = MemoryAuditStore()
        let (bank, _, store) = try ward(audit)
        for i in 2...4 { _ = try bank.createTwin(Twin(id: try TwinID("p\(i)"), kind: .person, attributes: ["gender": .text(i % 2 == 0 ? "female" : "male")])) }
        _ = try bank.acting(as: "dev", purpose: "treatment").append([.observation("p2", at: Ward.day("2026-05-01"), code: Self.glucose, Quantity(7, "mmol/L"), source: Source(.record, "lab"))])
        _ = try bank.createAggregate("ward", members: ["p1", "p2", "p3", "p4"])
        // p3 refuses public health use; p1 permits it for vital signs only (its glucose is held back)
        try store.updateConsent(for: "p3", by: "owner", at: Ward.day("2026-05-03")) { $0.add(rule(.deny, [.publicHealth])) }
        try store.updateConsent(for: "p1", by: "owner", at: Ward.day("2026-05-03")) { c in
            c.add(rule(.deny, [.publicHealth], data: [.category(.laboratory)]))
        }
        let pho = bank.acting(as: "pho", purpose: "public-health")
        // the officer may not read the members one by one ...
        #expect(throws: BankError.self) { try pho.members(of: "ward") }
        // ... but may compute over the cohort, without p3
        let before = try audit.entryCount()
        let cohort = try pho.cohort(of: "ward", for: .aggregate)
        #expect(cohort.members == ["p1", "p2", "p4"] && cohort.refused == ["p3"])
        let entries = try audit.entries(in: before ..< audit.entryCount())
        #expect(entries.count == 5, "one bank-wide decision and one per member")
        #expect(entries.filter { $0.decision == .deny }.map(\.twin) == ["p3"])
        #expect(entries.allSatisfy { $0.action == "aggregate" && $0.actor == "pho" })
        // values: p1's glucose is held back by its filter; p2's is read
        let glucose = try pho.latestValues(code: Self.glucose.key, in: cohort)
        #expect(glucose.keys.sorted() == ["p2"])
        #expect(glucose["p2"]?.value == .quantity(Quantity(7, "mmol/L")))
        #expect(try pho.holders(of: Self.glucose.key, in: cohort) == ["p2"])
        #expect(try pho.holders(of: Self.hr.key, in: cohort) == ["p1"])
        // the cohort answers only whom it was decided for
        let other = #expect(throws: BankError.self) { try bank.acting(as: "res", purpose: "research").latestValues(code: Self.glucose.key, in: cohort) }
        #expect(other?.code == .accessDenied && other?.value == "res")
        #expect(throws: BankError.self) { try pho.events(of: "p3", in: cohort) }
        // a noisy count over the cohort needs no read permission either
        let queries = PrivateQueries(bank: pho, ledger: PrivacyLedger(storage: bank.storage, budget: PrivacyBudget(epsilon: 100, windowSeconds: 86_400), clock: bank.clock))
        var g = Xoshiro256StarStar(seed: 7)
        #expect(try queries.count(aggregate: "ward", requester: "pho", epsilon: 60, using: &g).value == 3)
        // a device may not compute over the cohort at all
        let refused = #expect(throws: BankError.self) { try bank.acting(as: "dev", purpose: "treatment").cohort(of: "ward", for: .aggregate) }
        #expect(refused?.code == .accessDenied)
    }

    @Test func anAccessThatCannotBeAuditedIsDenied() throws {
        let audit = FailingAuditStore()
        let (bank, _, _) = try ward(audit)
        audit.failing = true
        let refused = #expect(throws: BankError.self) { try bank.acting(as: "dr", purpose: "treatment").events(ThreadQuery(twin: "p1")) }
        #expect(refused?.code == .accessDenied)
        #expect(refused?.message.contains("could not be recorded in the audit log") == true, "\(refused?.message ?? "")")
        // nothing was written either
        #expect(throws: BankError.self) { try bank.createTwin(Twin(id: "p2", kind: .person)) }
        audit.failing = false
        #expect(throws: BankError.self) { try bank.twin("p2") }
    }

    @Test func theSQLiteBankRecordsItsAccessesInItsOwnLog() throws {
        let dir = try TemporaryFiles.directory("governed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bank.sqlite").path
        let storage = try SQLiteStorage(path: path)
        let signer = AuditSigner()
        let log = try AuditLog(store: SQLiteAuditStore(storage), signer: signer)
        let gate = GovernedGate(store: BankGovernanceStore(storage: storage), log: log, owner: "alice")
        let bank = Bank(storage: storage, gate: gate, actor: "alice")
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        // writes inside the bank's transaction (Bank.write), then a retraction: no reentrant write, all audited
        try bank.write { w in _ = try w.append([.observation("p1", at: Instant(seconds: 1_700_000_000), code: Self.hr, Quantity(60, "/min"), source: Source(.device, "watch"))]) }
        _ = try bank.retract(source: Source(.device, "watch"), reason: "wrong watch")
        #expect(throws: BankError.self) { try bank.acting(as: "mallory", purpose: "care").events(ThreadQuery(twin: "p1")) }
        let entries = try log.entries(matching: AuditQuery())
        #expect(entries.map(\.action) == ["write", "write", "retract", "retract", "read"])
        #expect(entries.last?.decision == .deny && entries.dropLast().allSatisfy { $0.decision == .permit })
        #expect(try log.verify(publicKey: signer.publicKey).entries == 5)
    }

    /// A credential's claimed role (a server's token) is part of the decision: a claim the policy does not give the
    /// actor is denied and audited with the policy's role, in the read's own transaction; the right claim, or none,
    /// is decided as before.
    @Test func aClaimedRoleThePolicyDoesNotGiveIsDenied() throws {
        let audit = MemoryAuditStore()
        let (bank, _, _) = try ward(audit)
        #expect(try bank.acting(as: "dr", purpose: "treatment", claimedRole: "clinician").twin("p1").id == "p1")
        #expect(try bank.acting(as: "dr", purpose: "treatment").twin("p1").id == "p1")
        let before = try audit.entryCount()
        let refused = #expect(throws: BankError.self) { try bank.acting(as: "dr", purpose: "treatment", claimedRole: "admin").twin("p1") }
        #expect(refused?.code == .accessDenied)
        #expect(refused?.message.contains(DecisionPoint.roleClaimPrefix + "admin") == true, "\(refused?.message ?? "")")
        #expect(refused?.message.contains("gives 'dr' the role clinician") == true)
        let entry = try #require(audit.entries(in: before ..< before + 1).first)
        #expect((entry.actor, entry.decision, entry.role) == ("dr", .deny, "clinician"))
        // writes too
        #expect(throws: BankError.self) {
            try bank.acting(as: "dev", purpose: "treatment", claimedRole: "clinician")
                .append([.observation("p1", at: Ward.day("2026-05-04"), code: Self.hr, Quantity(70, "/min"), source: Source(.device, "watch"))])
        }
    }

    /// A definition cannot be filtered: a permit that holds part of the thread back refuses the definition (fail
    /// closed), recorded as the filtered permit it was.
    @Test func aDefinitionReadWithAFilteredPermitIsRefused() throws {
        let audit = MemoryAuditStore()
        let (bank, _, store) = try ward(audit)
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-03")) { $0.add(rule(.permit, [.research], data: [.category(.vitalSigns)])) }
        let before = try audit.entryCount()
        let refused = #expect(throws: BankError.self) { try bank.acting(as: "res", purpose: "research").twin("p1") }
        #expect(refused?.code == .accessDenied && refused?.message.contains("only with a filter") == true)
        #expect(try audit.entries(in: before ..< before + 1).first?.decision == .permitWithFilter)
    }
}

/// An audit store whose appends fail on demand (the disk is full, the file is locked ...).
final class FailingAuditStore: AuditStore, @unchecked Sendable {
    let inner = MemoryAuditStore()
    /// Every append fails while set.
    nonisolated(unsafe) var failing = false
    /// The next append fails, then this clears.
    nonisolated(unsafe) var failingOnce = false
    func append(_ batch: AuditBatch) throws {
        if failingOnce { failingOnce = false; throw GovernanceError(.storageFailure, "disk full", value: "audit") }
        if failing { throw GovernanceError(.storageFailure, "disk full", value: "audit") }
        try inner.append(batch)
    }
    func latestHead() throws -> SignedTreeHead? { try inner.latestHead() }
    func heads() throws -> [SignedTreeHead] { try inner.heads() }
    func entries(in range: Range<UInt64>) throws -> [AuditEntry] { try inner.entries(in: range) }
    func entryCount() throws -> UInt64 { try inner.entryCount() }
    func entries(matching query: AuditQuery) throws -> [AuditEntry] { try inner.entries(matching: query) }
    func nodes(_ ids: Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash] { try inner.nodes(ids) }

}
