import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance
import TwinPopulation
import TwinTesting

// Issue 27 item 3 for precision public health: the population computations over an aggregate (statistics, the
// risk map's inputs, case reports) ask `aggregate`, not `read`, so a public-health officer computes them without
// being able to read anyone's thread, and a person whose consent refuses public-health use is left out of them
// (the refusal audited) instead of failing the whole computation.
@Suite struct PopulationComputationGateTests {
    static let now = try! Instant(parsing: "2026-06-01T12:00:00Z")
    static let glucose = Concept(system: "http://loinc.org", code: "2339-0")

    /// p1 and p2 with a glucose value, a location ping and a confirmed case each, in aggregate `town`; p2 denies
    /// public-health use; `phil` is a public-health officer.
    struct Fixture {
        let storage = MemoryStorage()
        let audit = MemoryAuditStore()
        let clock = ManualClock(PopulationComputationGateTests.now)
        let gate: GovernedGate
        let owner: Bank

        init() throws {
            let store = BankGovernanceStore(storage: storage)
            _ = try store.updatePolicy(initial: .default(owner: "owner")) { p in
                try p.assign(Caller(id: "phil", role: .publicHealthOfficer, organisation: "health-dept"))
            }
            gate = GovernedGate(store: store, log: try AuditLog(store: audit, signer: AuditSigner()), owner: "owner", clock: clock)
            owner = Bank(storage: storage, gate: gate, clock: clock, actor: "owner", purpose: "treatment")
            let day = try Instant(parsing: "2026-05-30T08:00:00Z")
            for (k, id) in ["p1", "p2"].enumerated() {
                try owner.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: [
                    "birthDate": .date(try Instant(parsing: "1970-03-01")), "home_lat": .quantity(Quantity(45.5, "deg")),
                    "home_lon": .quantity(Quantity(-73.6, "deg")),
                ]))
                try owner.append([
                    .observation(try TwinID(id), at: day, code: PopulationComputationGateTests.glucose, Quantity(100 + Double(k) * 50, "mg/dL"),
                                 source: Source(.device, "meter")),
                    EventDraft(twin: try TwinID(id), effective: EffectiveTime(day.advanced(bySeconds: 3600)), code: RiskEvents.confirmedCase,
                               value: .boolean(true), source: Source(.record, "lab")),
                ])
            }
            try owner.createAggregate("town", members: ["p1", "p2"])
            _ = try store.updateConsent(for: "p2", by: "p2", at: PopulationComputationGateTests.now) { c in
                _ = c.add(ConsentRule(id: "", effect: .deny, purposes: [.publicHealth], granted: PopulationComputationGateTests.now))
            }
        }

        var phil: Bank { Bank(storage: storage, gate: gate, clock: clock, actor: "phil", purpose: "public-health") }
    }

    @Test func statisticsLeaveOutWhoDeniedPublicHealthUse() throws {
        let f = try Fixture()
        let logged = try f.audit.entryCount()
        let stats = try AggregateStatistics.series(of: "town", in: f.phil, code: Self.glucose.key, every: .seconds(86_400))
        #expect(stats.members == 1)
        #expect(stats.periods.map(\.values) == [1])
        #expect(stats.periods.first?.mean == 100)
        let entries = try f.audit.entries(in: logged ..< f.audit.entryCount())
        #expect(entries.contains { $0.actor == "phil" && $0.action == "aggregate" && $0.twin == nil && $0.decision == .permit })
        #expect(entries.contains { $0.actor == "phil" && $0.action == "aggregate" && $0.twin == "p1" && $0.decision == .permit })
        #expect(entries.contains { $0.actor == "phil" && $0.action == "aggregate" && $0.twin == "p2" && $0.decision == .deny })
        // the same officer may not read a thread: the computation did not need it
        #expect(throws: BankError.self) { try f.phil.events(ThreadQuery(twin: "p1")) }
        // the owner's statistics count both
        #expect(try AggregateStatistics.series(of: "town", in: f.owner, code: Self.glucose.key, every: .seconds(86_400)).members == 2)
    }

    @Test func caseReportsAndRiskInputsLeaveOutWhoDeniedPublicHealthUse() throws {
        let f = try Fixture()
        let table = try CaseReporting.casesByAgeBandAndWeek(bank: f.phil, aggregate: "town")
        #expect(table.counts.flatMap { $0 }.reduce(0, +) == 1)
        let all = try CaseReporting.casesByAgeBandAndWeek(bank: f.owner, aggregate: "town")
        #expect(all.counts.flatMap { $0 }.reduce(0, +) == 2)
        let regions = try GeoRegions.grid(west: -74, south: 45, east: -73, north: 46, cellMeters: 20_000)
        let input = try RiskTwins.read(bank: f.phil, aggregate: "town", regions: regions, locator: regions.locator())
        #expect(input.persons == 1 && input.refused == ["p2"])
        #expect(try RiskTwins.read(bank: f.owner, aggregate: "town", regions: regions, locator: regions.locator()).refused.isEmpty)
    }

    @Test func anActorWithoutAggregateIsRefusedOutright() throws {
        let f = try Fixture()
        let mallory = Bank(storage: f.storage, gate: f.gate, clock: f.clock, actor: "mallory", purpose: "public-health")
        #expect(throws: BankError.self) { try AggregateStatistics.series(of: "town", in: mallory, code: Self.glucose.key, every: .seconds(86_400)) }
    }
}
