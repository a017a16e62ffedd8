import Foundation
import Testing
import TwinBank
import TwinCore
import TwinTesting
@testable import TwinPopulation

/// An aggregate's distributions (histograms of the members' latest values and attributes, counts of categories) and
/// its risk map on a grid.
@Suite struct AggregateDistributionTests {
    static let glucose = Concept.loinc("2339-0", "Glucose")
    static let weight = Concept.loinc("29463-7", "Body weight")

    /// Five people: glucose for all (latest 100, 104, 111, 130, 130 mg/dL; an older 300 each), weight for two, a name
    /// each (an identifier), a ward (two values), sex, a birth date; e's glucose in mmol/L. Three with a home.
    static func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-04-01T00:00:00Z"), stepMicroseconds: 1000))
        let latest: [Double] = [100, 104, 111, 130, 130]
        for (k, id) in ["a", "b", "c", "d", "e"].enumerated() {
            var attributes: [String: Value] = ["name": .text("Person \(id)"), "ward": .text(k < 3 ? "north" : "south"), "sex": .text(k == 4 ? "male" : "female"),
                                               "birthDate": .date(try Instant(parsing: "19\(50 + 10 * k)-01-01"))]
            if k < 3 { attributes["home_lat"] = .quantity(Quantity(51.5 + 0.02 * Double(k), "deg")); attributes["home_lon"] = .quantity(Quantity(-0.1, "deg")) }
            let twin = try TwinID(id)
            try bank.createTwin(Twin(id: twin, kind: .person, attributes: attributes))
            try bank.append([
                .observation(twin, at: try Instant(parsing: "2026-03-01T08:00:00Z"), code: glucose, Quantity(300, "mg/dL"), source: Source(.device, "meter")),
                .observation(twin, at: try Instant(parsing: "2026-03-02T08:00:00Z"), code: glucose, Quantity(k == 4 ? 7.2 : latest[k], k == 4 ? "mmol/L" : "mg/dL"),
                             source: Source(.device, "meter")),
            ])
            if k < 2 { try bank.append([.observation(twin, at: try Instant(parsing: "2026-03-02T08:00:00Z"), code: weight, Quantity(70, "kg"), source: Source(.record, "clinic"))]) }
        }
        let confirmed = Concept(system: "urn:twinbank:local", code: "case.confirmed", display: "confirmed case")
        try bank.append([EventDraft(twin: "a", effective: EffectiveTime(try Instant(parsing: "2026-03-03T08:00:00Z")), category: .observation,
                                    code: confirmed, value: .boolean(true), source: Source(.record, "lab"))])
        _ = try bank.createAggregate("all", members: ["a", "b", "c", "d", "e"])
        return bank
    }

    @Test func histogramsOfLatestValuesAndAttributes() throws {
        let bank = try Self.bank()
        let d = try AggregateDistribution.compute(of: "all", in: bank)
        #expect(d.members == 5 && d.refused == 0)
        // glucose is held by all five, weight by two; the latest glucose of each, in the most common unit
        #expect(d.codes.map(\.code) == [Self.glucose.key, Self.weight.key] && d.codes.map(\.members) == [5, 2])
        #expect(d.code == Self.glucose.key)
        let v = try #require(d.values)
        #expect(v.unit == "mg/dL" && v.count == 4 && v.otherUnits == 1)
        #expect(v.minimum == 100 && v.maximum == 130 && v.mean == 111.25)
        #expect(v.bins.map(\.count).reduce(0, +) == 4)
        #expect(v.bins.first!.lower <= 100 && v.bins.last!.upper >= 130)
        for b in v.bins { #expect(b.upper > b.lower) }
        // ages in whole years on 2026-04-01; home_lat and home_lon are left to a map
        #expect(d.attributes.map(\.name) == ["age"])
        #expect(d.attributes[0].minimum == 36 && d.attributes[0].maximum == 76 && d.attributes[0].unit == "a")
        // ward groups; the name identifies (every value is one member's) and is left out
        #expect(d.categories.map(\.name) == ["sex", "ward"])
        #expect(d.categories[0].counts == [.init(value: "female", count: 4), .init(value: "male", count: 1)])
        #expect(d.categories[1].counts == [.init(value: "north", count: 3), .init(value: "south", count: 2)])
        // another code, and bars asked for
        let w = try AggregateDistribution.compute(of: "all", in: bank, code: Self.weight.key, bins: 3)
        #expect(w.values?.count == 2 && w.values?.bins.count == 1 && w.values?.bins.first?.count == 2)
        #expect(throws: PopulationError.self) { try AggregateDistribution.compute(of: "all", in: bank, bins: 0) }
        #expect(throws: BankError.self) { try AggregateDistribution.compute(of: "none", in: bank) }
    }

    @Test func roundBinsHoldEveryValueOnce() throws {
        let xs: [Double] = [0.3, 1.7, 2.2, 9.99, 10]
        let bins = AggregateDistribution.bins(xs, 0.3, 10, 4)
        #expect(bins.map(\.count).reduce(0, +) == 5)
        #expect(bins.first!.lower <= 0.3 && bins.last!.upper >= 10)
        let step = bins[0].upper - bins[0].lower
        #expect([1.0, 2, 5].contains { abs(step - $0) < 1e-9 } || [10.0, 20, 50].contains { abs(step - $0) < 1e-9 })
        // values too far apart for a round width, or all equal: one bar, finite edges, every value counted
        let far = AggregateDistribution.bins([-1.7e308, 1.7e308], -1.7e308, 1.7e308, 10)
        #expect(far.count == 1 && far[0].count == 2 && far.allSatisfy { $0.lower.isFinite && $0.upper.isFinite })
        #expect(AggregateDistribution.bins([3, 3, 3], 3, 3, 5) == [.init(lower: 3, upper: 3, count: 3)])
        let huge = try #require(AggregateDistribution.histogram("x", [Quantity(1.7e308, "1"), Quantity(1.6e308, "1")], bins: nil))
        #expect(huge.mean.isFinite && huge.bins.map(\.count).reduce(0, +) == 2)
    }

    @Test func theRiskMapOfAnAggregateOnAGrid() throws {
        let bank = try Self.bank()
        let map = try AggregateRiskMap.grid(of: "all", in: bank, cellMeters: 1000)
        // three homes about 2.2 km apart north to south: three cells hold someone; a's case counted in its cell
        #expect(map.input.persons == 3 && map.input.unlocated.count == 2)
        let populated = map.risks.filter { $0.population > 0 }
        #expect(populated.count == 3 && populated.map(\.population) == [1, 1, 1])
        #expect(map.risks.map(\.cases7).reduce(0, +) == 1)
        #expect(map.counts.date(map.day) == "2026-03-03")
        #expect(throws: PopulationError.self) { try AggregateRiskMap.grid(of: "all", in: bank, cellMeters: 0.1) }
        #expect(throws: PopulationError.self) { try AggregateRiskMap.grid(of: "all", in: bank, cellMeters: 1000, date: try Instant(parsing: "2025-01-01T00:00:00Z")) }
        _ = try bank.createAggregate("nowhere", members: ["d", "e"])
        let nowhere = try AggregateRiskMap.grid(of: "nowhere", in: bank, cellMeters: 1000, date: try Instant(parsing: "2025-01-01T00:00:00Z"))
        #expect(nowhere.regions.regions.isEmpty && nowhere.risks.isEmpty)
        #expect(nowhere.input.persons == 0 && nowhere.input.unlocated == ["d", "e"])
    }
}
