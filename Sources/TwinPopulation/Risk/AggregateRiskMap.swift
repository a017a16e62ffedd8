import Foundation
import TwinBank
import TwinCore

/// The risk map of an aggregate's person twins on a grid, as `twinbank risk --aggregate ID --grid SIZE` computes it:
/// square cells over the people's locations (``RiskTwins/extent(bank:aggregate:)``), their cases, contacts, tests and
/// admissions counted per cell and day (``RiskTwins/read(bank:aggregate:regions:locator:from:to:)``), and each
/// cell's level on one day (``RegionalRisk/assess(_:day:thresholds:)``). Asked of the bank as `aggregate`.
public struct AggregateRiskMap: Sendable {
    /// The grid's cells (none when no one is located).
    public var regions: GeoRegions
    /// The counts per cell and day.
    public var counts: RegionalCounts
    /// The assessed day (an index into ``counts``).
    public var day: Int
    /// Each cell's figures and level on ``day``, in cell order.
    public var risks: [RegionRisk]
    /// Who was counted (`persons`: those located), who was not located and who was left out.
    public var input: BankRiskInput

    /// The most cells a map may have (a larger map is refused: choose larger cells).
    public static let cellLimit = 10_000

    /// The map of `aggregate`'s person twins on a grid of `cellMeters` cells, assessed on the day of `date`
    /// (default: the last day counted). When no person twin of the aggregate has a location (`home_lat`/`home_lon`
    /// or location pings) the map has no cells and no risks, and every person is in ``input``'s `unlocated` (`date`
    /// is then not checked: there is no day counted).
    /// - Throws: ``PopulationError/Code/invalidArgument`` for a cell size that is not positive or a date outside the
    ///   days counted; ``PopulationError/Code/tooLarge`` for more than ``cellLimit`` cells; ``PopulationError``
    ///   `invalidPings` for a location that cannot be read; the bank's errors (an unknown aggregate, access denied).
    public static func grid(of aggregate: AggregateID, in bank: Bank, cellMeters: Double, date: Instant? = nil) throws -> AggregateRiskMap {
        guard cellMeters.isFinite, cellMeters > 0 else {
            throw PopulationError(.invalidArgument, "the grid cell size \(cellMeters) m is not a positive number", value: "\(cellMeters)")
        }
        guard let box = try RiskTwins.extent(bank: bank, aggregate: aggregate) else {
            // no one to place: the people, each unlocated, and whom the gate left out
            let cohort = try bank.cohort(of: aggregate, for: .aggregate)
            let persons = cohort.records.filter { $0.twin.kind == .person }.map(\.id)
            let counts = try RegionalCounts(regions: [], start: bank.clock.now(), days: 1)
            let input = BankRiskInput(counts: counts, pings: [], persons: 0, unlocated: persons,
                                      skipped: cohort.records.filter { $0.twin.kind != .person }.map(\.id), refused: cohort.refused)
            return AggregateRiskMap(regions: GeoRegions(unchecked: []), counts: counts, day: 0, risks: [], input: input)
        }
        // a hair past the east and north edges, so people there fall inside the last cells (edges are half-open)
        let (east, north) = (min(box.east + 1e-9, 180), min(box.north + 1e-9, 90))
        let metresPerDegree = 6_371_008.8 * Double.pi / 180
        let dLat = cellMeters / metresPerDegree, dLon = dLat / max(cos((box.south + north) / 2 * Double.pi / 180), 1e-6)
        let cells = ((north - box.south) / dLat).rounded(.up) * ((east - box.west) / dLon).rounded(.up)
        guard cells <= Double(cellLimit) else {
            throw PopulationError(.tooLarge, "a \(Value.format(cellMeters)) m grid over the aggregate's people has about \(Int(cells)) cells, more than \(cellLimit): choose larger cells", value: "\(cellMeters)")
        }
        let regions = try GeoRegions.grid(west: box.west, south: box.south, east: east, north: north, cellMeters: cellMeters)
        let input = try RiskTwins.read(bank: bank, aggregate: aggregate, regions: regions, locator: regions.locator())
        let day = try assessedDay(input.counts, date)
        return AggregateRiskMap(regions: regions, counts: input.counts, day: day, risks: RegionalRisk.assess(input.counts, day: day), input: input)
    }

    /// The map of `aggregate`'s person twins over `regions` (a GeoJSON FeatureCollection's, checked by
    /// ``GeoRegions/init(geoJSON:nameProperty:)``), as `twinbank risk --aggregate ID --regions FILE` counts them:
    /// each person in the region of their home (else latest ping), each region assessed on the day of `date`
    /// (default: the last day counted). People living outside every region are ``input``'s `unlocated`. When no one is
    /// placed in a region, the map has the regions but no risks (and `date` is not checked: there is no day counted).
    /// - Throws: ``PopulationError/Code/invalidArgument`` for a date outside the days counted; ``PopulationError``
    ///   `invalidPings` for a location that cannot be read; the bank's errors (an unknown aggregate, access denied).
    public static func regions(_ regions: GeoRegions, of aggregate: AggregateID, in bank: Bank, date: Instant? = nil) throws -> AggregateRiskMap {
        let input = try RiskTwins.read(bank: bank, aggregate: aggregate, regions: regions, locator: regions.locator())
        guard input.persons > 0 else { return AggregateRiskMap(regions: regions, counts: input.counts, day: 0, risks: [], input: input) }
        let day = try assessedDay(input.counts, date)
        return AggregateRiskMap(regions: regions, counts: input.counts, day: day, risks: RegionalRisk.assess(input.counts, day: day), input: input)
    }

    /// The day of `date` among those counted (default the last).
    static func assessedDay(_ counts: RegionalCounts, _ date: Instant?) throws(PopulationError) -> Int {
        guard let date else { return counts.days - 1 }
        let day = counts.day(of: date)
        guard (0..<counts.days).contains(day) else {
            throw PopulationError(.invalidArgument, "the date \(date.iso8601.prefix(10)) is outside the days counted, \(counts.date(0)) to \(counts.date(counts.days - 1))", value: String(date.iso8601.prefix(10)))
        }
        return day
    }
}
