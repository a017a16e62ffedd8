import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
@testable import TwinRun

@Suite("In-silico comparison of treatments on forks")
struct InSilicoComparisonTests {
    let start = try! Instant(parsing: "2024-01-01T00:00:00Z")

    func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "alice", kind: .person, attributes: ["virtualPatient": .text("adult#001"),
                                                                           "birthDate": .date(try Instant(parsing: "1980-04-02"))]))
        try bank.append([(7.0, 45.0), (12.0, 70.0), (18.0, 80.0)].map { h, g in
            EventDraft(twin: "alice", effective: EffectiveTime(start.advanced(bySeconds: h * 3600)), category: .intervention,
                       code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "alice"))
        })
        return bank
    }

    @Test func ranksOptionsAndRecordsTheComparison() async throws {
        let bank = try bank()
        let options = try ["usual=", "no-bolus=bolus=0", "double-basal=basal=2", "second-dinner=meal=18:60"].map { try InSilicoComparison.Option(parsing: $0) }
        let result = try await InSilicoComparison.compare("alice", in: bank, options: options, start: start, hours: 24, ensemble: 6, seed: 3)
        let byName = Dictionary(uniqueKeysWithValues: result.options.map { ($0.name, $0) })
        // Without boluses, meals push BG out of range; doubling basal insulin causes hypoglycaemia.
        #expect(byName["usual"]!.rank == 1)
        #expect(byName["no-bolus"]!.outcomes[.meanBG]!.mean > byName["usual"]!.outcomes[.meanBG]!.mean + 20)
        #expect(byName["double-basal"]!.outcomes[.lowBGIndex]!.mean > byName["usual"]!.outcomes[.lowBGIndex]!.mean)
        // Doubling basal insulin causes more than 4 % of time below 70 mg/dL: it ranks last whatever its time in range.
        #expect(byName["double-basal"]!.outcomes[.timeBelowRange]!.mean > InSilicoComparison.hypoglycaemiaCeiling)
        #expect(byName["double-basal"]!.rank == options.count)
        // A second dinner at the same time adds to the first (meals at one minute are summed).
        #expect(byName["second-dinner"]!.outcomes[.meanBG]!.mean > byName["usual"]!.outcomes[.meanBG]!.mean)
        let u = byName["usual"]!.outcomes[.timeInRange]!
        #expect(u.p05 <= u.mean && u.mean <= u.p95)
        // Each option is a fork with its interventions and predictions; the original thread only gains the record.
        for o in result.options {
            #expect(try bank.twin(o.fork).fork?.parent == "alice")
            #expect(try bank.events(ThreadQuery(twin: o.fork, category: .prediction)).count == 289)
        }
        let recs = try bank.events(ThreadQuery(twin: "alice", category: .recommendation))
        #expect(recs.count == 1)
        #expect(recs.first?.provenance.seed == 3)
        #expect(try bank.events(ThreadQuery(twin: "alice", category: .prediction)).isEmpty)
        // Same seed, same ensemble: the comparison reproduces.
        let again = try await InSilicoComparison.compare("alice", in: bank, options: options, start: start, hours: 24, ensemble: 6, seed: 3)
        #expect(again.options.map(\.outcomes) == result.options.map(\.outcomes))
    }

    @Test(arguments: ["nameonly", "x=basal=abc", "x=basal=-1", "x=shoes=2", "x=meal=7", "bad name=basal=1"])
    func badOptionsNameTheProblem(_ spec: String) {
        #expect(throws: RunError.self) { try InSilicoComparison.Option(parsing: spec) }
    }

    @Test func badInputWritesNothing() async throws {
        let bank = try bank()
        let before = try bank.lastSequence()
        await #expect(throws: RunError.self) {
            try await InSilicoComparison.compare("alice", in: bank, options: [.init(name: "a"), .init(name: "a")], start: start, hours: 24)
        }
        await #expect(throws: RunError.self) {
            try await InSilicoComparison.compare("alice", in: bank, options: [.init(name: "a")], start: start, hours: -1)
        }
        #expect(try bank.lastSequence() == before)
        #expect(try bank.twinIDs() == ["alice"])
    }
}
