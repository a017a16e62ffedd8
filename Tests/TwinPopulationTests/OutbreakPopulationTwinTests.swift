import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinPopulation

/// Population twins: a synthetic population recorded in the bank redraws exactly; outbreak runs land in its thread.
@Suite struct OutbreakPopulationTwinTests {
    @Test func marginalsJSONRoundTrips() throws {
        var m = PopulationMarginals.covasimHybrid
        m.communityDaily = true
        m.employment = 0.73
        m.workplaceSizes = [.init(min: 3, max: 9, weight: 2), .init(min: 10, max: 80, weight: 0.5)]
        #expect(try PopulationMarginals.parse(Data(m.json.utf8)) == m)
        #expect(try PopulationMarginals.parse(Data(PopulationMarginals.covasimHybrid.json.utf8)) == .covasimHybrid)
    }

    @Test func synthesizedTwinRedrawsThePopulationAndHoldsRuns() throws {
        let bank = Bank(storage: MemoryStorage())
        let id = try TwinID("town")
        let drawn = try PopulationTwin.synthesize(in: bank, id: id, size: 4000, seed: 99, marginals: .covasimHybrid)
        let twin = try bank.twin(id).twin
        #expect(twin.kind == .population && PopulationTwin.holdsPopulation(twin))
        #expect(twin.attributes["households"] == .quantity(Quantity(Double(drawn.household.last! + 1), "1")))
        let again = try PopulationTwin.population(of: id, in: bank)
        #expect(again.ages == drawn.ages && again.layer(.community).neighbours == drawn.layer(.community).neighbours)

        // An existing twin is not replaced silently; another kind is refused.
        #expect(throws: PopulationError.self) { try PopulationTwin.synthesize(in: bank, id: id, size: 10, seed: 1, marginals: .covasimHybrid) }
        try bank.createTwin(Twin(id: try TwinID("ann"), kind: .person))
        let wrongKind = #expect(throws: PopulationError.self) {
            try PopulationTwin.synthesize(in: bank, id: try TwinID("ann"), size: 10, seed: 1, marginals: .covasimHybrid, replace: true)
        }
        #expect(wrongKind?.message.contains("person") == true)
        try PopulationTwin.synthesize(in: bank, id: id, size: 500, seed: 3, marginals: .covasimHybrid, replace: true)
        #expect(try PopulationTwin.population(of: id, in: bank).count == 500)

        // A run written to its thread: one prediction per day and series, with the seed in the provenance.
        let population = try PopulationTwin.population(of: id, in: bank)
        let ensemble = try OutbreakEnsemble.simulate(population: population, scenario: .covasimFull, days: 6, seed: 4, runs: 0..<3)
        let result = try OutbreakThread.write(ensemble, agents: 500, seed: 4, scenarioName: "default", scenarioJSON: nil, to: id,
                                              start: try Instant(parsing: "2026-01-01T00:00:00Z"), in: bank)
        #expect(result.count == OutbreakSeries.allCases.count * 7)
        let events = try bank.events(ThreadQuery(twin: id))
        #expect(events.count == result.count)
        #expect(events.allSatisfy { $0.category == .prediction && $0.provenance.seed == 4 && $0.provenance.model == "twinbank-outbreak" })
        let susceptible = events.filter { $0.code.code == "susceptible" }.sorted { $0.effective.start < $1.effective.start }
        #expect(susceptible.count == 7 && susceptible.first?.value == .quantity(Quantity(480, "1")))
        #expect(throws: PopulationError.self) {
            try OutbreakThread.write(ensemble, agents: 500, seed: 4, scenarioName: "default", scenarioJSON: nil, to: try TwinID("ann"),
                                     start: try Instant(parsing: "2026-01-01T00:00:00Z"), in: bank)
        }
    }
}
