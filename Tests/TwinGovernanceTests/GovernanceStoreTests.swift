import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinTesting

/// The same guarantees checked on every ``GovernanceStore``: in memory, and in a bank over memory and over SQLite.
@Suite struct GovernanceStoreTests {
    enum Kind: String, CaseIterable, Sendable { case memory, bankInMemory, bankInSQLite }

    static func withStore<T>(_ kind: Kind, _ body: (any GovernanceStore, (any BankStorage)?) throws -> T) throws -> T {
        switch kind {
        case .memory: return try body(MemoryGovernanceStore(), nil)
        case .bankInMemory:
            let s = MemoryStorage()
            return try body(BankGovernanceStore(storage: s), s)
        case .bankInSQLite:
            return try TemporaryFiles.withDirectory("gov") { dir in
                let s = try SQLiteStorage(path: dir.appendingPathComponent("bank.sqlite").path)
                return try body(BankGovernanceStore(storage: s), s)
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func consentVersionsKeepTheHistory(_ kind: Kind) throws {
        try Self.withStore(kind) { store, _ in
            #expect(try store.consent(for: "p1") == nil)
            #expect(try store.consentHistory(for: "p1").isEmpty)
            try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research])) }
            try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-02-01")) { $0.add(rule(.deny, data: [.category(.genomics)])) }
            let v3 = try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-03-01")) { try $0.revoke(rule: "r1", at: Ward.day("2026-03-01")) }
            #expect(v3.version == 3)
            let history = try store.consentHistory(for: "p1")
            #expect(history.map(\.version) == [1, 2, 3])
            #expect(history.map(\.rules.count) == [1, 2, 2])
            #expect(history[0].previous == nil && history[1].previous != nil && history[2].previous != nil)
            #expect(history[1].rules[0].revoked == nil, "the revocation is a new version; the old one is kept as it was")
            #expect(try store.consent(for: "p1")?.rules[0].revoked == Ward.day("2026-03-01"))
            #expect(try store.consent(for: "p2") == nil)
            // A throwing update changes nothing.
            #expect(throws: GovernanceError.self) {
                try store.updateConsent(for: "p1", by: "pat", at: Ward.now) { c in
                    c.add(rule(.permit))
                    try c.revoke(rule: "r9", at: Ward.now)
                }
            }
            #expect(try store.consent(for: "p1")?.version == 3)
            #expect(try store.consent(for: "p1")?.rules.count == 2)
        }
    }

    @Test(arguments: Kind.allCases)
    func policyIsStoredAndDecides(_ kind: Kind) throws {
        try Self.withStore(kind) { store, _ in
            #expect(try store.policy() == nil)
            #expect(try store.policy(orDefaultFor: "olga").caller("olga")?.role == .admin)
            try store.updatePolicy(initial: .default(owner: "olga")) { try $0.assign(Caller(id: "res", role: .researcher, organisation: "uni")) }
            #expect(try store.policy()?.caller("res")?.organisation == "uni")
            let request = AccessRequest(actor: "res", action: .read, twin: "p1", purpose: "research")
            #expect(try !store.decide(request, owner: "olga", now: Ward.now).isPermitted)
            try store.updateConsent(for: "p1", by: "pat", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research], data: [.category(.vitalSigns)])) }
            let d = try store.decide(request, owner: "olga", now: Ward.now)
            #expect(d.filter.map { f in Ward.events.filter { f.admits($0.1) }.map(\.0) } == ["hr"])
            #expect(throws: GovernanceError.self) { try store.updatePolicy(initial: .default(owner: "olga")) { try $0.assign(Caller(id: "olga", role: .device)) } }
            #expect(try store.policy()?.caller("olga")?.role == .admin)
        }
    }

    @Test(arguments: Kind.allCases)
    func decidesForManyTwinsAtOnce(_ kind: Kind) throws {
        try Self.withStore(kind) { store, _ in
            try store.updatePolicy(initial: Ward.policy) { _ in }
            try store.updateConsent(for: "a", by: "x", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research])) }
            try store.updateConsent(for: "b", by: "x", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research], data: [.category(.vitalSigns)])) }
            try store.updateConsent(for: "c", by: "x", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research], revoked: "2026-02-01")) }
            #expect(Set(try store.consents(for: ["a", "b", "c", "d"]).keys) == ["a", "b", "c"])
            let d = try store.decide(AccessRequest(actor: "res", action: .aggregate, twin: nil, purpose: "research"),
                                     twins: ["a", "b", "c", "d"], owner: "owner", now: Ward.now)
            #expect(d["a"]?.filter?.isUnrestricted == true)
            #expect(d["b"]?.filter?.include == [DataScope(selectors: [.category(.vitalSigns)])])
            #expect(d["c"]?.isPermitted == false, "revoked")
            #expect(d["d"]?.isPermitted == false, "no opt-in")
        }
    }

    /// The policy and the consents are under the bank's version control: a commit records them, `diff` lists their
    /// changes, and a branch switch brings back the committed versions.
    @Test func commitsAndBranchesSeeGovernance() throws {
        let storage = MemoryStorage()
        let bank = Bank(storage: storage)
        let store = BankGovernanceStore(storage: storage)
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        try store.updatePolicy(initial: .default(owner: "local")) { _ in }
        try store.updateConsent(for: "p1", by: "local", at: Ward.day("2026-01-01")) { $0.add(rule(.permit, [.research])) }
        #expect(try bank.uncommittedChanges().map(\.path) == ["consent/p1", "policy", "twin/p1"])
        let first = try bank.commit(message: "p1 with consent")
        try store.updateConsent(for: "p1", by: "local", at: Ward.day("2026-02-01")) { $0.revokeAll(at: Ward.day("2026-02-01")) }
        #expect(try bank.uncommittedChanges().map(\.path) == ["consent/p1"])
        let second = try bank.commit(message: "revoked")
        let diff = try bank.diff(first.id.hex, second.id.hex)
        #expect(diff.changed.map(\.path) == ["consent/p1"])
        try bank.createBranch("before", at: first.id.hex)
        try bank.switchBranch("before")
        #expect(try store.consent(for: "p1")?.version == 1)
        #expect(try store.consent(for: "p1")?.rules.first?.revoked == nil)
        try bank.switchBranch("main")
        #expect(try store.consent(for: "p1")?.version == 2)
    }

    /// Stored objects are content-addressed: equal values give equal bytes whatever the order sets were built in.
    @Test func equalValuesEncodeToEqualBytes() throws {
        let names = (1...40).map { "actor-\($0)" }
        var a = rule(.permit, [.research, .commercial, .treatment], actors: Set(names))
        var b = rule(.permit, [.treatment, .commercial, .research])
        for n in names.reversed() { b.actors.insert(n) }
        a.actions = ["read", "query", "export", "aggregate"]
        b.actions = ["aggregate", "export", "query", "read"]
        #expect(a == b)
        #expect(try ObjectCodec.encode(a) == ObjectCodec.encode(b))
        #expect(try ObjectCodec.decode(ConsentRule.self, from: ObjectCodec.encode(a)) == a)
        var p = Ward.policy, q = Ward.policy
        p.optIn = [.research, .commercial, .qualityImprovement]
        q.optIn = [.qualityImprovement, .commercial, .research]
        #expect(try ObjectCodec.encode(p) == ObjectCodec.encode(q))
        #expect(try ObjectCodec.decode(Policy.self, from: ObjectCodec.encode(p)) == p)
    }

    /// Switching to a commit made before the policy takes the policy out of the working state; the default that
    /// stands for it then names the recorded owner as admin, not whoever acts next.
    @Test func aBranchWithoutPolicyFallsBackToTheRecordedOwner() throws {
        let storage = MemoryStorage()
        let bank = Bank(storage: storage)
        let store = BankGovernanceStore(storage: storage)
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        let before = try bank.commit(message: "no policy yet")
        #expect(try store.recordedOwner() == nil)
        let g = Governance(bank: bank, actor: "olga", store: store)
        try g.assign(Caller(id: "rita", role: .researcher))
        #expect(try store.recordedOwner() == "olga")
        try bank.commit(message: "policy")
        try bank.createBranch("old", at: before.id.hex)
        try bank.switchBranch("old")
        #expect(try store.policy() == nil)
        let mallory = Governance(bank: bank, actor: "mallory", store: store)
        #expect(try mallory.effectiveOwner() == "olga")
        let denied = #expect(throws: GovernanceError.self) { try mallory.assign(Caller(id: "mallory", role: .admin)) }
        #expect(denied?.code == .accessDenied)
        try bank.switchBranch("main")
        #expect(try store.policy()?.caller("rita")?.role == .researcher)
    }
}
