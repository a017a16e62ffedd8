import TwinCore

/// A location ping: where a person was at an instant.
public struct LocationPing: Sendable, Hashable {
    public var person: String
    public var time: Instant
    public var latitude: Double
    public var longitude: Double
    /// The thread event the ping came from, if any (alerts are derived from it).
    public var event: ContentHash?
    public init(person: String, time: Instant, latitude: Double, longitude: Double, event: ContentHash? = nil) {
        self.person = person; self.time = time; self.latitude = latitude; self.longitude = longitude; self.event = event
    }
}

/// A person entered a region at or above the alert level.
public struct RegionAlert: Sendable, Hashable {
    public var person: String
    /// The ping inside the region.
    public var ping: LocationPing
    public var region: Int
    public var level: RiskLevel
}

extension RegionalRisk {
    /// The people whose pings in `from...to` enter a region whose level is `minimum` or higher: for each person
    /// and such region, the first ping in the window that lies in it while the person's ping before it (at any
    /// time, also before `from`) did not (or there was none). One alert per person and region; sorted by time,
    /// then person.
    public static func alerts(pings: [LocationPing], locator: RegionLocator, levels: [RiskLevel?], minimum: RiskLevel = .high,
                              from: Instant, to: Instant) -> [RegionAlert] {
        let sorted = pings.sorted { ($0.person, $0.time) < ($1.person, $1.time) }
        var out: [RegionAlert] = []
        var previousRegion: Int? = nil
        var previousPerson: String? = nil
        var alerted = Set<Int>()
        for p in sorted {
            if p.person != previousPerson { previousPerson = p.person; previousRegion = nil; alerted = [] }
            let r = locator.region(lon: p.longitude, lat: p.latitude)
            defer { previousRegion = r }
            guard let r, p.time >= from, p.time <= to, r != previousRegion, let l = levels[r], l >= minimum,
                  alerted.insert(r).inserted else { continue }
            out.append(RegionAlert(person: p.person, ping: p, region: r, level: l))
        }
        return out.sorted { ($0.ping.time, $0.person) < ($1.ping.time, $1.person) }
    }
}

extension RegionalRisk {
    /// The alerts `twinbank risk --aggregate ID` raises after assessing the aggregate's people: those whose pings in the
    /// `recentHours` hours before the end of the assessed `day` (UTC) enter a region whose level that day is `minimum` or
    /// higher (``alerts(pings:locator:levels:minimum:from:to:)``), with the window.
    public static func alerts(_ input: BankRiskInput, regions: GeoRegions, risks: [RegionRisk], day: Int, minimum: RiskLevel = .high,
                              recentHours: Double = 24) -> (alerts: [RegionAlert], from: Instant, to: Instant) {
        let end = Instant(microseconds: input.counts.start.microseconds + Int64(day + 1) * 86_400_000_000 - 1)
        let start = Instant(microseconds: end.microseconds - Int64(recentHours * 3_600_000_000))
        guard !risks.isEmpty else { return ([], start, end) }
        return (alerts(pings: input.pings, locator: regions.locator(), levels: risks.map(\.level), minimum: minimum, from: start, to: end), start, end)
    }
}
