import Foundation
import Testing
import TwinCore
import TwinTesting
import TwinPopulation

/// An outbreak run counted per region: each person's outcome, households placed by area, diagnoses per day.
@Suite struct OutbreakRegionsTests {
    static let start = try! Instant(parsing: "2026-03-01T00:00:00Z")

    /// The run with outcomes is the same run, count for count, and its outcomes agree with its counts.
    @Test func outcomesAgreeWithTheRun() throws {
        let population = try SyntheticPopulation.generate(size: 2000, seed: 3)
        let seed = OutbreakModel.runSeed(3, index: 0)
        let plain = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 40, seed: seed)
        let (run, outcomes) = try OutbreakModel.runWithOutcomes(population: population, scenario: .covasimFull, days: 40, seed: seed)
        #expect(run == plain)
        let infected = (0..<population.count).filter { outcomes.everInfected($0) }.count
        #expect(infected == run.headline.cumulativeInfections)
        for d in 0...40 {
            #expect(outcomes.dayDiagnosed.filter { $0 == Int32(d) }.count == Int(run.series(.newDiagnoses)[d]), "day \(d)")
        }
        #expect(outcomes.dayDiagnosed.allSatisfy { $0 >= -1 && $0 <= 40 })
    }

    /// Households stay together, placement follows the areas (a region twice the area gets about twice the
    /// households) and is the same for a seed, and every diagnosis is counted once in its person's region.
    @Test func householdsPlacedByAreaAndCasesCounted() throws {
        let population = try SyntheticPopulation.generate(size: 5000, seed: 5)
        // Two cells side by side: the east one twice as wide.
        let regions = try GeoRegions([
            GeoRegion(name: "west", polygons: [GeoPolygon(exterior: [.init(lon: 0, lat: 0), .init(lon: 1, lat: 0), .init(lon: 1, lat: 1), .init(lon: 0, lat: 1), .init(lon: 0, lat: 0)])]),
            GeoRegion(name: "east", polygons: [GeoPolygon(exterior: [.init(lon: 1, lat: 0), .init(lon: 3, lat: 0), .init(lon: 3, lat: 1), .init(lon: 1, lat: 1), .init(lon: 1, lat: 0)])]),
        ])
        let place = try OutbreakRegions.placeHouseholds(population, regions: regions, seed: 9)
        #expect(place == (try OutbreakRegions.placeHouseholds(population, regions: regions, seed: 9)))
        #expect(place != (try OutbreakRegions.placeHouseholds(population, regions: regions, seed: 10)))
        let east = Double(place.filter { $0 == 1 }.count) / Double(place.count)
        #expect(abs(east - 2.0 / 3) < 0.04, "\(east)")
        let (run, outcomes) = try OutbreakModel.runWithOutcomes(population: population, scenario: .covasimFull, days: 30, seed: 1)
        let counts = try OutbreakRegions.counts(population, outcomes: outcomes, days: 30, regions: regions, start: Self.start, seed: 9)
        #expect(counts.days == 31)
        #expect(counts.population.reduce(0, +) == population.count)
        var residents = [0, 0]
        for i in 0..<population.count { residents[Int(place[Int(population.household[i])])] += 1 }
        #expect(counts.population == residents)
        for d in 0...30 {
            #expect(counts[.cases, 0, d] + counts[.cases, 1, d] == Int(run.series(.newDiagnoses)[d]))
        }
        // Outcomes of another population are refused.
        let other = try OutbreakModel.runWithOutcomes(population: try SyntheticPopulation.generate(size: 100, seed: 1), scenario: .covasimFull, days: 5, seed: 1)
        #expect(throws: PopulationError.self) { try OutbreakRegions.counts(population, outcomes: other.outcomes, days: 5, regions: regions, start: Self.start, seed: 9) }
    }
}
