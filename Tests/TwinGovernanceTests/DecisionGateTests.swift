import Testing
import TwinBank
import TwinCore
import TwinGovernance

/// The decision point behind the bank's gate: the bank's own entry points permit or refuse by policy and consent.
@Suite struct DecisionGateTests {
    @Test func theBankAsksTheDecisionPointAndFailsClosedOnFilters() throws {
        let storage = MemoryStorage()
        let store = BankGovernanceStore(storage: storage)
        try store.updatePolicy(initial: Ward.policy) { _ in }
        let gate = DecisionGate(store: store, owner: "owner", clock: ManualClock(Ward.now))
        let owner = Bank(storage: storage, gate: gate, clock: ManualClock(Ward.now), actor: "owner", purpose: "operations")
        _ = try owner.createTwin(Twin(id: "p1", kind: .person))
        let hr = Concept(system: "http://loinc.org", code: "8867-4")
        _ = try owner.acting(as: "dev", purpose: "treatment").append([.observation("p1", at: Ward.day("2026-05-01"), code: hr, Quantity(60, "/min"), source: Source(.device, "watch"))])

        // A clinician reads for treatment; a researcher without the person's opt-in does not.
        #expect(try owner.acting(as: "dr", purpose: "treatment").events(ThreadQuery(twin: "p1")).count == 1)
        let research = owner.acting(as: "res", purpose: "research")
        let refused = #expect(throws: GovernanceError.self) { try research.events(ThreadQuery(twin: "p1")) }
        #expect(refused?.code == .accessDenied)
        #expect(refused?.message.contains("needs the person's consent") == true, "\(refused?.message ?? "")")
        // A device may not read.
        #expect(throws: GovernanceError.self) { try owner.acting(as: "dev", purpose: "treatment").events(ThreadQuery(twin: "p1")) }

        // The person opts in to research on all data: permitted from then on.
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-02")) { $0.add(rule(.permit, [.research])) }
        #expect(try research.events(ThreadQuery(twin: "p1")).count == 1)
        // Opting in on vital signs only gives a filter, which `authorize` cannot carry: refused, naming it.
        try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-05-03")) { c in
            c.revokeAll(at: Ward.day("2026-05-03"))
            c.add(rule(.permit, [.research], data: [.category(.vitalSigns)]))
        }
        let filtered = #expect(throws: GovernanceError.self) { try research.events(ThreadQuery(twin: "p1")) }
        #expect(filtered?.message.contains("only with a filter (only category vital-signs)") == true, "\(filtered?.message ?? "")")
        let decision = try gate.decide(AccessRequest(actor: "res", action: .read, twin: "p1", purpose: "research"))
        #expect(decision.filter?.include == [DataScope(selectors: [.category(.vitalSigns)])])
    }
}
