import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinSimulation
import TwinTesting

@Suite struct PrivacyBudgetTests {
    static let t0 = try! Instant(parsing: "2026-03-01T00:00:00Z")

    static func storages() throws -> [(String, any BankStorage)] {
        [("memory", MemoryStorage()), ("sqlite", try SQLiteStorage(path: try TemporaryFiles.path("budget.sqlite", label: "budget")))]
    }

    @Test func spendsAddUpPerRequesterAndAggregateAndTheExcessIsRefusedNamingWhoAndWhat() throws {
        for (name, storage) in try Self.storages() {
            let clock = ManualClock(Self.t0)
            let ledger = PrivacyLedger(storage: storage, clock: clock)
            let s1 = try ledger.spend(requester: "dr.lee", aggregate: "diabetes", epsilon: 0.4, query: "count")
            #expect(s1.spent == 0.4 && abs(s1.remaining - 0.6) < 1e-9, "\(name)")
            try ledger.spend(requester: "dr.lee", aggregate: "diabetes", epsilon: 0.4, query: "count")
            let e = try #require(throws: GovernanceError.self) {
                try ledger.spend(requester: "dr.lee", aggregate: "diabetes", epsilon: 0.3, query: "count")
            }
            #expect(e.code == .budgetExhausted, "\(name)")
            #expect(e.message.contains("dr.lee") && e.message.contains("diabetes") && e.message.contains("0.8") && e.message.contains("0.2"), "\(e.message)")
            // a refusal records nothing; the exact remainder is still allowed
            #expect(try ledger.state(requester: "dr.lee", aggregate: "diabetes").spent == 0.8)
            try ledger.spend(requester: "dr.lee", aggregate: "diabetes", epsilon: 0.2, query: "count")
            // other requesters and other aggregates have their own budget
            try ledger.spend(requester: "dr.kim", aggregate: "diabetes", epsilon: 1, query: "count")
            try ledger.spend(requester: "dr.lee", aggregate: "asthma", epsilon: 1, query: "count")
            // the window rolls: 30 days after the first spends they no longer count
            clock.advance(byMicroseconds: 30 * 86_400 * 1_000_000 + 1)
            #expect(try ledger.state(requester: "dr.lee", aggregate: "diabetes").spent == 0)
            try ledger.spend(requester: "dr.lee", aggregate: "diabetes", epsilon: 1, query: "count")
        }
    }

    @Test func decimalEpsilonsAddUpExactly() throws {
        // 0.1 + 0.2 + 0.3 + 0.4 is 1 in decimal but not in binary floating point: the whole budget is still spendable
        let ledger = PrivacyLedger(storage: MemoryStorage(), clock: ManualClock(Self.t0))
        for e in [0.1, 0.2, 0.3, 0.4] { try ledger.spend(requester: "r", aggregate: "a", epsilon: e, query: "count") }
        #expect(try ledger.state(requester: "r", aggregate: "a").remaining == 0)
        #expect(throws: GovernanceError.self) { try ledger.spend(requester: "r", aggregate: "a", epsilon: 0.000001, query: "count") }
    }

    @Test func theLedgerIsDurableInTheBankFile() throws {
        let path = try TemporaryFiles.path("durable.sqlite", label: "budget")
        let clock = ManualClock(Self.t0)
        try PrivacyLedger(storage: try SQLiteStorage(path: path), clock: clock).spend(requester: "r1", aggregate: "a", epsilon: 0.9, query: "count")
        let reopened = PrivacyLedger(storage: try SQLiteStorage(path: path, create: false), clock: clock)
        #expect(try reopened.state(requester: "r1", aggregate: "a").spent == 0.9)
        #expect(throws: GovernanceError.self) { try reopened.spend(requester: "r1", aggregate: "a", epsilon: 0.2, query: "count") }
    }

    @Test func aBadRequesterIsRefused() throws {
        let ledger = PrivacyLedger(storage: MemoryStorage())
        for bad in ["", "a/b", "x y", "../etc"] {
            let e = try #require(throws: GovernanceError.self) { try ledger.spend(requester: bad, aggregate: "a", epsilon: 0.1, query: "count") }
            #expect(e.value == bad)
        }
    }

    @Test func aRefusedQueryDrawsNoNoiseAndAFailedOneCostsNothing() throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(Self.t0))
        for i in 0..<7 { _ = try bank.createTwin(Twin(id: try TwinID("p\(i)"), kind: .person, attributes: ["gender": .text(i < 3 ? "female" : "male")])) }
        let agg = AggregateID("all")
        _ = try bank.createAggregate(agg, members: (0..<7).map { try TwinID("p\($0)") })
        let q = PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: bank.storage, clock: bank.clock))
        var g = CountingGenerator(inner: Xoshiro256StarStar(seed: 1))
        let a = try q.count(aggregate: agg, requester: "r", epsilon: 0.5, using: &g)
        #expect(a.value != nil && a.budget.remaining == 0.5 && g.draws > 0)
        let h = try q.histogram(aggregate: agg, by: "sex", bins: ["female", "male"], requester: "r", epsilon: 0.5, using: &g)
        #expect(h.bins?.map(\.value) == ["female", "male", "(other)"] && h.budget.remaining == 0)
        let before = g.draws
        let e = try #require(throws: GovernanceError.self) { try q.count(aggregate: agg, requester: "r", epsilon: 0.1, using: &g) }
        #expect(e.code == .budgetExhausted && g.draws == before)
        // a query that fails (bad expression, unknown aggregate) is not charged
        let fresh = PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: bank.storage, clock: bank.clock))
        #expect(throws: (any Error).self) { try fresh.count(aggregate: agg, where: "colour = blue", requester: "t", epsilon: 0.5, using: &g) }
        #expect(throws: (any Error).self) { try fresh.count(aggregate: try AggregateID("nobody"), requester: "t", epsilon: 0.5, using: &g) }
        #expect(try fresh.ledger.state(requester: "t", aggregate: "all").spent == 0)
        // --where restricts the count to the members that satisfy it
        let generous = PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: bank.storage, budget: PrivacyBudget(epsilon: 1000, windowSeconds: 86_400), clock: bank.clock))
        let women = try generous.count(aggregate: agg, where: "sex = female", requester: "u", epsilon: 200, using: &g)
        #expect(women.value == 3 && women.query == "count where sex = female")
        // with a large epsilon the noise is small: the answer is near the truth
        let big = PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: bank.storage, budget: PrivacyBudget(epsilon: 100, windowSeconds: 86_400), clock: bank.clock))
        let c = try big.count(aggregate: agg, requester: "s", epsilon: 50, using: &g)
        #expect(c.value == 7)
        let s = try big.sum(aggregate: agg, value: "age", lower: 0, upper: 100, requester: "s", epsilon: 40, using: &g)
        #expect(abs(s.value! - 0) <= 20, "no member has a birth date: the sum is 0 plus noise")
    }
}
