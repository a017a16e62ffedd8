import Foundation
import Testing
import TwinBank
import TwinCore
import TwinTesting
@testable import TwinPopulation

/// Statistics of an aggregate over time from its members' threads.
@Suite struct AggregateStatisticsTests {
    static let glucose = Concept.loinc("2339-0", "Glucose")

    static func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-04-01T00:00:00Z"), stepMicroseconds: 1000))
        for id in ["a", "b", "c"] { try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: ["ward": .text(id == "c" ? "south" : "north")])) }
        func at(_ t: String) throws -> Instant { try Instant(parsing: t) }
        // a: 100 and 120 in week 1, 90 in week 3; b: 140 in week 1; c (not a member): 500 in week 1.
        try bank.append([
            .observation("a", at: try at("2026-03-02T08:00:00Z"), code: glucose, Quantity(100, "mg/dL"), source: Source(.device, "meter")),
            .observation("a", at: try at("2026-03-04T08:00:00Z"), code: glucose, Quantity(120, "mg/dL"), source: Source(.device, "meter")),
            .observation("a", at: try at("2026-03-17T08:00:00Z"), code: glucose, Quantity(90, "mg/dL"), source: Source(.device, "meter")),
            .observation("b", at: try at("2026-03-08T23:59:59Z"), code: glucose, Quantity(140, "mg/dL"), source: Source(.device, "meter")),
            .observation("c", at: try at("2026-03-03T08:00:00Z"), code: glucose, Quantity(500, "mg/dL"), source: Source(.device, "meter")),
        ])
        _ = try bank.createAggregate("ward-1", where: "ward = north")
        return bank
    }

    @Test func weeklyCountsAndMeansFromTheMembersThreads() throws {
        let bank = try Self.bank()
        let r = try AggregateStatistics.series(of: "ward-1", in: bank, code: Self.glucose.key, every: try .init(parsing: "7d"))
        #expect(r.members == 2 && r.unit == "mg/dL")
        try #require(r.periods.count == 3)
        #expect(r.periods.map { String($0.start.iso8601.prefix(10)) } == ["2026-03-02", "2026-03-09", "2026-03-16"])
        #expect(r.periods.map(\.members) == [2, 0, 1])
        #expect(r.periods.map(\.values) == [3, 0, 1])
        #expect(r.periods[0].mean == 120 && r.periods[0].minimum == 100 && r.periods[0].maximum == 140)
        #expect(r.periods[1].mean == nil && r.periods[2].mean == 90)
        let monthly = try AggregateStatistics.series(of: "ward-1", in: bank, code: Self.glucose.key, every: try .init(parsing: "1mo"))
        try #require(monthly.periods.count == 1)
        #expect(monthly.periods[0].mean == 112.5)
        #expect(monthly.periods[0].end == (try Instant(parsing: "2026-04-01T00:00:00Z")))
    }

    @Test(arguments: ["7", "0d", "-1w", "1.5mo", "week"])
    func badPeriodsAreNamed(_ text: String) {
        #expect { try AggregateStatistics.Every(parsing: text) } throws: { ($0 as? PopulationError)?.value == text }
    }

    @Test func mixedUnitsAreRefused() throws {
        let bank = try Self.bank()
        try bank.append([.observation("b", at: try Instant(parsing: "2026-03-05T08:00:00Z"), code: Self.glucose, Quantity(7, "mmol/L"), source: Source(.device, "meter"))])
        #expect { try AggregateStatistics.series(of: "ward-1", in: bank, code: Self.glucose.key, every: .seconds(86_400)) } throws: {
            ($0 as? PopulationError)?.message.contains("mmol/L") == true
        }
    }
}
