import Foundation
import Testing
import TwinBank
import TwinCore
import TwinTesting
@testable import TwinPopulation

/// A population made of an aggregate's person twins: their own ages, households, schools, workplaces, homes
/// and conditions, and an outbreak on them written to the population twin's thread.
@Suite struct MemberPopulationTests {
    static func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-03-01T00:00:00Z"), stepMicroseconds: 1000))
        func person(_ id: String, born: String, _ extra: [String: Value] = [:]) throws {
            var a: [String: Value] = ["birthDate": .date(try Instant(parsing: born)), "gender": .text("female")]
            a.merge(extra) { $1 }
            try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: a))
        }
        // Household "b" lists its members apart (c, a): they are numbered together all the same.
        try person("a", born: "1990-03-01", ["household": .text("b"), "workplace": .text("mill"), "home_lat": .quantity(Quantity(45.5, "deg")), "home_lon": .quantity(Quantity(-73.6, "deg"))])
        try person("b", born: "2000-03-02", ["household": .text("x")])
        try person("c", born: "2018-01-01", ["household": .text("b"), "school": .text("north"),
                                             "condition": .concept(Concept.snomed("195967001", "Asthma"))])
        try person("d", born: "1950-01-01")
        try bank.createTwin(Twin(id: "organ", kind: .organ, attributes: ["birthDate": .date(try Instant(parsing: "1990-01-01"))]))
        try bank.createTwin(Twin(id: "undated", kind: .person))
        _ = try bank.createAggregate("all", where: "kind = person or kind = organ")
        return bank
    }

    @Test func membersKeepTheirOwnAttributes() throws {
        let bank = try Self.bank()
        let made = try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 3)
        #expect(made.skipped == ["organ", "undated"])
        #expect(made.members == ["a", "c", "b", "d"])             // household b (a, c), then x (b), then d alone
        #expect(made.population.ages == [36, 8, 25, 76])          // whole years on 2026-03-01: b turns 26 tomorrow
        #expect(made.population.household == [0, 0, 1, 2])
        #expect(made.ownHouseholds == 1)
        #expect(made.population.school == [-1, 0, -1, -1] && made.population.workplace == [0, -1, -1, -1])
        #expect(Array(made.population.layer(.household).contacts(of: 0)) == [1])
        #expect(made.population.layer(.household).contacts(of: 3).isEmpty)
        #expect(made.home[0]?.lat == 45.5 && made.home[1] == nil)
        #expect(made.conditions[1] == ["http://snomed.info/sct|195967001"] && made.sex.allSatisfy { $0 == "female" })
        // The twin records the members; the population it gives back is the same, person for person.
        let twin = try bank.twin("ward").twin
        #expect(twin.attributes[PopulationTwin.membersAttribute] == .text("a c b d"))
        let again = try PopulationTwin.population(of: "ward", in: bank)
        #expect(again.ages == made.population.ages && again.layer(.community).neighbours == made.population.layer(.community).neighbours)
        // An outbreak on it, written to its thread.
        let ensemble = try OutbreakEnsemble.simulate(population: again, scenario: .covasimFull, days: 4, seed: 1, runs: 0..<1)
        try OutbreakThread.write(ensemble, agents: again.count, seed: 1, scenarioName: "default", scenarioJSON: nil, to: "ward",
                                 start: try Instant(parsing: "2026-03-01T00:00:00Z"), in: bank)
        #expect(try bank.events(ThreadQuery(twin: "ward", category: .prediction)).count == 13 * 5)
        // An existing twin is not replaced without asking; a population twin with --replace keeps its thread.
        #expect(throws: PopulationError.self) { try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 3) }
        #expect(throws: PopulationError.self) { try PopulationTwin.fromAggregate("all", in: bank, id: "a", seed: 3) }
        try PopulationTwin.fromAggregate("all", in: bank, id: "ward", seed: 3, replace: true)
        #expect(try bank.events(ThreadQuery(twin: "ward", category: .prediction)).count == 13 * 5)
    }

    @Test func noPersonWithAnAgeIsRefused() throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-03-01T00:00:00Z"), stepMicroseconds: 1000))
        try bank.createTwin(Twin(id: "undated", kind: .person))
        _ = try bank.createAggregate("none", where: "kind = person")
        #expect(throws: PopulationError.self) { try PopulationTwin.fromAggregate("none", in: bank, id: "ward", seed: 3) }
        #expect((try? bank.twin("ward")) == nil)
    }
}
