import TwinCore

/// What `twinbank risk` assesses from daily counts per region, whatever the counts come from (an aggregate's people,
/// a counts file): the day (the `date` asked, default the last day counted), every region's risk on it, and every
/// region's risk on each day counted (the levels by day the GeoJSON carries).
public struct RiskAssessment: Sendable {
    /// The regions assessed.
    public let regions: GeoRegions
    /// The counts assessed.
    public let counts: RegionalCounts
    /// The day assessed (an index of ``counts``' days).
    public let day: Int
    /// Each region's risk on ``day``, in the regions' order.
    public let risks: [RegionRisk]
    /// Each day's risks, day 0 first.
    public let daily: [[RegionRisk]]

    /// Assesses `counts` (over `regions`, in their order) on the day of `date`, default the last day counted.
    /// - Throws: ``PopulationError/Code/invalidArgument`` for a date outside the days counted, naming them.
    public init(regions: GeoRegions, counts: RegionalCounts, date: Instant? = nil) throws(PopulationError) {
        let day = try AggregateRiskMap.assessedDay(counts, date)
        self.regions = regions
        self.counts = counts
        self.day = day
        risks = RegionalRisk.assess(counts, day: day)
        daily = (0..<counts.days).map { RegionalRisk.assess(counts, day: $0) }
    }

    /// The regions with their risk figures as GeoJSON: what `twinbank risk --out FILE` writes
    /// (``RiskMap/geoJSON(regions:counts:risks:daily:)``).
    public var geoJSON: String { RiskMap.geoJSON(regions: regions, counts: counts, risks: risks, daily: daily) }
}
