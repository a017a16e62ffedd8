import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

struct RiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Risk levels per region from cases, contacts, tests and hospital admissions; a GeoJSON file and a choropleth map.",
        discussion: """
        Regions come from --regions (a GeoJSON FeatureCollection of Polygons and MultiPolygons, named by \
        --name-property or the first string property) or --grid SIZE (square cells over the people's locations). \
        Counts come from the person twins of --aggregate in --bank (home_lat/home_lon attributes or local:location \
        pings; local:case.confirmed, local:close-contact, loinc:94500-6 tests, local:hospital.admission events), or \
        from --counts FILE.csv (region,date,population,cases,contacts,tests,positives,admissions). The level of each \
        region on --date (default the last day) is the highest of its 7-day incidence per 100,000 (10/50/100), test \
        positivity (5/8/10 %) and admissions per 100,000 (10/20) tiers, raised one tier by week-over-week growth of \
        x1.5 or more (README, ### risk). With a bank, people whose pings in the last --recent-hours enter a region \
        at --alert-level or above are listed; --write-alerts records them as alert events in their threads.
        """)

    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The aggregate of person twins to count.") var aggregate: String?
    @Option(help: "Instead of --bank: daily counts per region as CSV.") var counts: String?
    @Option(help: "The regions: a GeoJSON file.") var regions: String?
    @Option(help: "The property that names a region (default: the first string property).") var nameProperty: String?
    @Option(help: "Instead of --regions: square cells of this size (1km, 500m) over the people's locations.") var grid: String?
    @Option(help: "Write the regions with their risk figures here, as GeoJSON.") var out: String
    @Option(help: "Also write a choropleth map here, as SVG.") var map: String?
    @Option(help: "The day to assess (2026-03-01; default the last day counted).") var date: String?
    @Option(parsing: .unconditional, help: "With --bank: count events from this time (default the first).") var from: String?
    @Option(parsing: .unconditional, help: "With --bank: count events up to this time (default the last).") var to: String?
    @Option(help: "Alert on entering regions at this level or above.") var alertLevel: RiskLevel = .high
    @Option(help: "Alert on pings within this many hours before the end of the assessed day.") var recentHours = 24.0
    @Flag(help: "Write the alerts as events in the people's threads.") var writeAlerts = false
    @Flag(help: "Replace --out and --map if they exist.") var force = false
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Region: Encodable {
            var name: String, level: String?, incidence_7d_per_100k: Double?, test_positivity: Double?, growth_week_over_week: Double?
            var admissions_7d_per_100k: Double?, population: Int, cases_7d: Int, tests_7d: Int, contacts_7d: Int
        }
        struct Alert: Encodable { var person: String; var time: String; var region: String; var level: String }
        var date: String
        var days: Int
        var regions: [Region]
        var levels: [String: Int]
        var persons: Int?
        var unlocated: Int?
        var refused: Int?
        var alerts: [Alert]
        var alerts_written: Int
        var out: String
        var map: String?
    }

    func run() throws {
        let level = alertLevel
        guard recentHours.isFinite, recentHours > 0 else { throw ValidationError("--recent-hours \(recentHours): give a positive number of hours") }
        if writeAlerts && counts != nil { throw ValidationError("--write-alerts goes with --bank and --aggregate (alerts are thread events)") }
        try OutputFile.checkWritable(out, overwrite: force)
        if let map {
            guard map != out else { throw ValidationError("--map and --out name the same file '\(map)'") }
            try OutputFile.checkWritable(map, overwrite: force)
        }
        let regionSet: GeoRegions
        var bankInput: BankRiskInput?
        var bank: Bank?
        let tally: RegionalCounts
        switch (aggregate, counts) {
        case (let id?, nil):
            let b = try bankOptions.open()
            bank = b
            let aggregateID = try AggregateID(id)
            regionSet = try regionsFor { () throws -> (west: Double, south: Double, east: Double, north: Double)? in try RiskTwins.extent(bank: b, aggregate: aggregateID) }
            let input = try RiskTwins.read(bank: b, aggregate: aggregateID, regions: regionSet, locator: regionSet.locator(),
                                           from: try from.map { try parseInstant($0, option: "--from", bound: .instant) },
                                           to: try to.map { try parseInstant($0, option: "--to", bound: .instant) })
            bankInput = input
            tally = input.counts
        case (nil, let file?):
            guard bankOptions.bank == nil, from == nil, to == nil, grid == nil else {
                throw ValidationError("--counts reads regions named in the file: --bank, --from, --to and --grid go with --aggregate")
            }
            regionSet = try regionsFor { nil }
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read --counts '\(file)'") }
            tally = try RegionalCounts(csv: String(decoding: data, as: UTF8.self), name: file, regions: regionSet.names)
        case (.some, .some): throw ValidationError("give --aggregate ID (with --bank) or --counts FILE.csv, not both")
        case (nil, nil): throw ValidationError("give the counts: --aggregate ID with --bank, or --counts FILE.csv")
        }
        let assessment: RiskAssessment
        do {
            assessment = try RiskAssessment(regions: regionSet, counts: tally,
                                            date: try date.map { try parseInstant($0.count == 10 ? $0 + "T00:00:00Z" : $0, option: "--date", bound: .instant) })
        } catch let e as PopulationError {
            throw ValidationError("--date \(date ?? ""): \(e.message)")
        }
        let (day, risks) = (assessment.day, assessment.risks)
        var alerts: [RegionAlert] = []
        if let input = bankInput {
            alerts = RegionalRisk.alerts(input, regions: regionSet, risks: risks, day: day, minimum: level, recentHours: recentHours).alerts
        }
        try OutputFile.write(assessment.geoJSON, to: out, overwrite: force)
        if let map {
            try OutputFile.write(RiskMap.svg(regions: regionSet, risks: risks, title: "Risk level by region, 7 days to \(tally.date(day))"), to: map, overwrite: force)
        }
        var written = 0
        if writeAlerts, let bank {
            written = try RiskTwins.writeAlerts(alerts, regions: regionSet, risks: risks, counts: tally, bank: bank)
        }
        var levels: [String: Int] = [:]
        for r in risks { levels[r.level?.rawValue ?? "no data", default: 0] += 1 }
        if output.json {
            try printJSON(Report(
                date: tally.date(day), days: tally.days,
                regions: risks.map { r in
                    Report.Region(name: regionSet.regions[r.region].name, level: r.level?.rawValue, incidence_7d_per_100k: r.incidence, test_positivity: r.positivity,
                                  growth_week_over_week: r.growth, admissions_7d_per_100k: r.admissionRate, population: r.population,
                                  cases_7d: r.cases7, tests_7d: r.tests7, contacts_7d: r.contacts7)
                },
                levels: levels, persons: bankInput?.persons, unlocated: bankInput?.unlocated.count, refused: bankInput?.refused.count,
                alerts: alerts.map { .init(person: $0.person, time: $0.ping.time.iso8601, region: regionSet.regions[$0.region].name, level: $0.level.rawValue) },
                alerts_written: written, out: out, map: map))
            return
        }
        print("\(regionSet.regions.count) regions, 7 days to \(tally.date(day)) (\(tally.days) days counted from \(tally.date(0)))")
        if let input = bankInput {
            print("\(input.persons) people counted\(input.unlocated.isEmpty ? "" : ", \(input.unlocated.count) without a location in the regions (not counted)")\(input.refused.isEmpty ? "" : ", \(input.refused.count) left out (their consent or the policy refuses this use)")")
        }
        print("levels: " + (RiskLevel.allCases.map(\.rawValue) + ["no data"]).compactMap { l in levels[l].map { "\(l) \($0)" } }.joined(separator: ", "))
        for r in risks where r.level.map({ $0 >= .substantial }) ?? false {
            print("  \(regionSet.regions[r.region].name): \(r.level!.rawValue) (\(r.reasons.joined(separator: "; ")))")
        }
        if bankInput != nil {
            print("alerts: \(alerts.count) \(alerts.count == 1 ? "person entered" : "entries into") a region at \(level.rawValue) risk or above in the last \(Value.format(recentHours)) h\(writeAlerts ? " (\(written) written to threads)" : "")")
            for a in alerts.prefix(20) { print("  \(a.person) entered \(regionSet.regions[a.region].name) at \(a.ping.time.iso8601)") }
        }
        print("wrote \(out)")
        if let map { print("wrote \(map) (open it in a browser; hover a region for its figures)") }
    }

    func regionsFor(_ extent: () throws -> (west: Double, south: Double, east: Double, north: Double)?) throws -> GeoRegions {
        switch (regions, grid) {
        case (let file?, nil): return try GeoRegions(contentsOf: file, nameProperty: nameProperty)
        case (nil, let size?):
            let metres = try GeoRegions.cellSize(parsing: size)
            guard let box = try extent() else { throw ValidationError("--grid needs people with a location (home_lat/home_lon or pings); none has one") }
            // a hair past the east and north edges, so people there fall inside the last cells (edges are half-open)
            return try GeoRegions.grid(west: box.west, south: box.south, east: min(box.east + 1e-9, 180), north: min(box.north + 1e-9, 90), cellMeters: metres)
        case (.some, .some): throw ValidationError("give --regions FILE or --grid SIZE, not both")
        case (nil, nil): throw ValidationError("give the regions: --regions FILE.geojson, or --grid SIZE (with --bank)")
        }
    }
}
