import Foundation
import Testing
import TwinBank
import TwinCore
import TwinFHIR
import TwinTesting
@testable import TwinPopulation

/// Regional risk: levels from hand-computed 7-day figures, counts from CSV and from the bank's threads, alerts
/// for people entering high-risk regions, and the GeoJSON and SVG outputs.
@Suite struct RiskTests {
    static let day0 = try! Instant(parsing: "2026-03-01T00:00:00Z")

    /// Six regions, 14 days; the week assessed is days 7...13.
    static func counts() throws -> RegionalCounts {
        var c = try RegionalCounts(regions: ["A", "B", "C", "D", "E", "F"], population: [10_000, 100_000, 50_000, 100_000, 0, 100_000], start: day0, days: 14)
        c.add(.cases, region: 0, day: 13, count: 12)      // A: 12 / 10,000 x 100,000 = 120 per 100k: high
        c.add(.cases, region: 1, day: 8, count: 20)       // B: 20 per 100k: moderate ...
        c.add(.tests, region: 1, day: 9, count: 100)      // ... but 9 of 100 tests positive = 9 %: substantial
        c.add(.positives, region: 1, day: 9, count: 9)
        c.add(.cases, region: 2, day: 10, count: 2)       // C: 4 per 100k: low; 6 admissions = 12 per 100k: substantial
        c.add(.admissions, region: 2, day: 12, count: 6)
        c.add(.cases, region: 3, day: 2, count: 12)       // D: 12 the week before (day 2), 20 now: x1.67, raised
        c.add(.cases, region: 3, day: 11, count: 20)      //    from moderate (20 per 100k) to substantial
        c.add(.tests, region: 4, day: 13, count: 5)       // E: nobody lives there, 5 tests: no data
        c.add(.tests, region: 5, day: 13, count: 10)      // F: 10 of 10 positive, below the 20 tests read: low
        c.add(.positives, region: 5, day: 13, count: 10)
        c.add(.cases, region: 0, day: 6, count: 50)       // outside A's week: does not count
        return c
    }

    @Test func levelsFollowTheCDCTiers() throws {
        let risks = RegionalRisk.assess(try Self.counts())
        #expect(risks.map(\.level) == [.high, .substantial, .substantial, .substantial, nil, .low])
        #expect(risks[0].incidence == 120)
        #expect(risks[0].cases7 == 12)
        #expect(risks[0].previousCases7 == 50)
        #expect(risks[0].growth == 12.0 / 50.0)
        #expect(risks[1].positivity == 0.09)
        #expect(risks[1].reasons == ["test positivity 9 % (9 of 100)"])
        #expect(risks[2].admissionRate == 12)
        #expect(risks[2].reasons == ["12 hospital admissions per 100,000 in 7 days"])
        #expect(risks[3].growth == 20.0 / 12.0)
        #expect(risks[3].reasons.last == "cases grew x1.7 week over week (12 to 20): raised to substantial")
        #expect(risks[4].incidence == nil && risks[4].positivity == nil)
        #expect(risks[5].positivity == nil)
        // one day earlier (days 6...12), A counts the 50 cases of day 6: 500 per 100k, still high
        #expect(RegionalRisk.assess(try Self.counts(), day: 12)[0].incidence == 500)
        // the thresholds are checked
        var bad = RiskThresholds()
        bad.incidence = [50, 10, 100]
        #expect(throws: PopulationError.self) { try bad.validate() }
        try RiskThresholds.standard.validate()
    }

    @Test func countsFromCSV() throws {
        let csv = """
        region,date,population,cases,tests,positives
        A,2026-03-01,1000,1,10,1
        A,2026-03-03,,2,,
        B,2026-03-02T15:00:00Z,500,0,4,0
        A,2026-03-03,1000,1,0,0
        """
        let c = try RegionalCounts(csv: csv, regions: ["A", "B"])
        #expect(c.days == 3)
        #expect(c.date(0) == "2026-03-01")
        #expect(c.population == [1000, 500])
        #expect(c.series(.cases, region: 0) == [1, 0, 3])
        #expect(c.series(.tests, region: 1) == [0, 4, 0])
        for (text, fragment) in [("region,date,cases\nZ,2026-03-01,1", "line 2: the region 'Z' is not in the regions file"),
                                 ("region,date,cases\nA,2026-03-01,-1", "line 2: cases = '-1' is not a whole number of at least 0"),
                                 ("region,date,deaths\nA,2026-03-01,1", "unknown column 'deaths'"),
                                 ("region,date,population\nA,2026-03-01,5\nA,2026-03-02,6", "line 3: population 6 for 'A', which an earlier row gives as 5"),
                                 ("region,date,cases\nA,yesterday,1", "the date 'yesterday' is not a date"),
                                 ("region,cases\nA,1", "needs the columns region and date")] {
            let e = #expect(throws: PopulationError.self) { _ = try RegionalCounts(csv: text, regions: ["A", "B"]) }
            #expect(e?.message.contains(fragment) == true, "\(String(describing: e?.message))")
        }
    }

    static func montreal() throws -> GeoRegions {
        try GeoRegions(contentsOf: SharedFolder.data("geo/montreal-districts.geojson").path)
    }

    /// 20 residents of district 0 (5 cases: 25,000 per 100k, high) and 20 of district 1 (none: low); ann lives in
    /// district 1 and walks into district 0; bob lives in district 0; cat stays home in district 1.
    static func bank(_ regions: GeoRegions) throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        let p0 = regions.regions[0].interiorPoint, p1 = regions.regions[1].interiorPoint
        func home(_ p: GeoPoint) -> [String: Value] { ["home_lat": .quantity(Quantity(p.lat, "deg")), "home_lon": .text("\(p.lon)")] }
        var drafts: [EventDraft] = []
        for i in 0..<20 {
            _ = try bank.createTwin(Twin(id: try TwinID("r0-\(i)"), kind: .person, attributes: home(p0)))
            _ = try bank.createTwin(Twin(id: try TwinID("r1-\(i)"), kind: .person, attributes: home(p1)))
            if i < 5 {
                drafts.append(EventDraft(twin: try TwinID("r0-\(i)"), effective: EffectiveTime(try Instant(parsing: "2026-03-0\(i + 2)T10:00:00Z")),
                                         code: RiskEvents.confirmedCase, value: .boolean(true), source: Source(.record, "lab")))
            }
            drafts.append(EventDraft(twin: try TwinID("r1-\(i)"), effective: EffectiveTime(try Instant(parsing: "2026-03-06T09:00:00Z")),
                                     code: RiskEvents.test, value: i == 0 ? .concept(Concept(system: "http://snomed.info/sct", code: "260373001")) : .text("negative"),
                                     source: Source(.record, "lab")))
        }
        _ = try bank.createTwin(Twin(id: "ann", kind: .person, attributes: home(p1)))
        _ = try bank.createTwin(Twin(id: "bob", kind: .person, attributes: home(p0)))
        _ = try bank.createTwin(Twin(id: "cat", kind: .person))
        _ = try bank.createTwin(Twin(id: "st-mary", kind: .organisation))
        func ping(_ t: TwinID, _ when: String, _ p: GeoPoint) throws -> EventDraft {
            EventDraft(twin: t, effective: EffectiveTime(try Instant(parsing: when)), code: RiskEvents.location,
                       value: .vector(Vector([p.lat, p.lon], unit: "deg")), source: Source(.device, "phone"))
        }
        drafts += [try ping("ann", "2026-03-06T08:00:00Z", p1), try ping("ann", "2026-03-06T12:00:00Z", p0), try ping("ann", "2026-03-06T13:00:00Z", p0),
                   try ping("bob", "2026-03-04T08:00:00Z", p0), try ping("bob", "2026-03-06T12:00:00Z", p0),
                   try ping("cat", "2026-03-06T12:00:00Z", p1)]
        _ = try bank.append(drafts)
        _ = try bank.createAggregate("city", where: "kind = person")
        _ = try bank.createAggregate("everyone", members: ["ann", "st-mary"])
        return bank
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func countsAndAlertsFromTheBank() throws {
        let regions = try Self.montreal()
        let bank = try Self.bank(regions)
        let locator = regions.locator()
        let input = try RiskTwins.read(bank: bank, aggregate: "city", regions: regions, locator: locator)
        #expect(input.persons == 43)
        #expect(input.unlocated.isEmpty)
        #expect(input.counts.population[0] == 21 && input.counts.population[1] == 22)   // cat lives where her last ping is
        #expect(input.counts.date(0) == "2026-03-02" && input.counts.days == 5)
        #expect(input.counts.sum(.cases, region: 0, from: 0, to: 4) == 5)
        #expect(input.counts.sum(.tests, region: 1, from: 0, to: 4) == 20)
        #expect(input.counts.sum(.positives, region: 1, from: 0, to: 4) == 1)
        let risks = RegionalRisk.assess(input.counts)
        #expect(risks[0].level == .high)
        // no case in district 1, but 1 of its 20 tests positive: 5 %, where moderate begins
        #expect(risks[1].level == .moderate)
        #expect(risks[1].positivity == 0.05)
        let end = try Instant(parsing: "2026-03-06T23:59:59Z"), start = try Instant(parsing: "2026-03-06T00:00:00Z")
        let alerts = RegionalRisk.alerts(pings: input.pings, locator: locator, levels: risks.map(\.level), minimum: .high, from: start, to: end)
        // ann enters district 0 at 12:00 (one alert, not two); bob was already there before the window
        #expect(alerts.map(\.person) == ["ann"])
        #expect(alerts.first?.ping.time == (try Instant(parsing: "2026-03-06T12:00:00Z")))
        #expect(try RiskTwins.writeAlerts(alerts, regions: regions, risks: risks, counts: input.counts, bank: bank) == 1)
        #expect(try RiskTwins.writeAlerts(alerts, regions: regions, risks: risks, counts: input.counts, bank: bank) == 0)
        // nor when the figures behind it changed since: one alert per person, region and time
        var changed = risks
        changed[0].reasons = ["200 cases per 100,000 in 7 days"]
        #expect(try RiskTwins.writeAlerts(alerts, regions: regions, risks: changed, counts: input.counts, bank: bank) == 0)
        let written = try bank.events(ThreadQuery(twin: "ann", code: RiskEvents.regionAlert.key, category: .alert))
        #expect(written.count == 1)
        #expect(written.first?.value?.description.contains("entered \(regions.regions[0].name), a region at high risk") == true)
        #expect(written.first?.provenance.derivedFrom.count == 1)
        // members that are not people are skipped, by name
        #expect(try RiskTwins.read(bank: bank, aggregate: "everyone", regions: regions, locator: locator).skipped == ["st-mary"])
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func unreadableInputsAreNamed() throws {
        let regions = try Self.montreal()
        let bank = try Self.bank(regions)
        _ = try bank.append([EventDraft(twin: "cat", effective: EffectiveTime(try Instant(parsing: "2026-03-06T09:00:00Z")), code: RiskEvents.test,
                                        value: .text("inconclusive"), source: Source(.record, "lab"))])
        let e = #expect(throws: PopulationError.self) { _ = try RiskTwins.read(bank: bank, aggregate: "city", regions: regions, locator: regions.locator()) }
        #expect(e?.message.contains("twin 'cat': the test (loinc:94500-6) at 2026-03-06T09:00:00Z has the result 'inconclusive'") == true, "\(String(describing: e?.message))")
        let bank2 = try Self.bank(regions)
        _ = try bank2.append([EventDraft(twin: "cat", effective: EffectiveTime(try Instant(parsing: "2026-03-06T09:00:00Z")), code: RiskEvents.location,
                                         value: .vector(Vector([95, -73.6], unit: "deg")), source: Source(.device, "phone"))])
        let p = #expect(throws: PopulationError.self) { _ = try RiskTwins.read(bank: bank2, aggregate: "city", regions: regions, locator: regions.locator()) }
        #expect(p?.code == .invalidPings)
    }

    @Test func geoJSONAndSVGOutputs() throws {
        let c = try Self.counts()
        let squares = (0..<6).map { i in
            GeoRegion(name: ["A", "B", "C", "D", "E", "F"][i], polygons: [GeoPolygon(exterior: [
                GeoPoint(lon: Double(i), lat: 45), GeoPoint(lon: Double(i) + 1, lat: 45), GeoPoint(lon: Double(i) + 1, lat: 46),
                GeoPoint(lon: Double(i), lat: 46), GeoPoint(lon: Double(i), lat: 45)])])
        }
        let regions = try GeoRegions(squares)
        let risks = RegionalRisk.assess(c)
        let daily = (0..<c.days).map { RegionalRisk.assess(c, day: $0) }
        let text = RiskMap.geoJSON(regions: regions, counts: c, risks: risks, daily: daily)
        let back = try GeoRegions(geoJSON: Array(text.utf8))
        #expect(back.names == ["A", "B", "C", "D", "E", "F"])
        let root = try JSONReader().read(text)
        let props = try #require(root["features"]?[0]?["properties"])
        #expect(props["level"]?.stringValue == "high")
        #expect(props["incidence_7d_per_100k"]?.numberText == "120")
        #expect(props["date"]?.stringValue == "2026-03-14")
        #expect(props["levels_by_day"]?.arrayValue?.count == 14)
        #expect(root["features"]?[4]?["properties"]?["level"] == .null)
        let svg = RiskMap.svg(regions: regions, risks: risks, title: "Risk <test>")
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<title>A: high, 120 cases per 100,000 in 7 days"))
        #expect(svg.contains("Risk &lt;test&gt;"))
        #expect(svg.components(separatedBy: "<path ").count == 7)
        #expect(svg.contains(RiskMap.colour(.high)) && svg.contains(">no data</text>"))
        // equirectangular scaled by cos(45.5°): six 1° squares are 960 px wide, each 1° of latitude 960 / (6 cos 45.5°) px tall
        let tall = 960 / (6 * cos(45.5 * Double.pi / 180))
        #expect(svg.contains("height=\"\(RiskMap.f(40 + tall + 20 + 5 * 22 + 20))\""), "\(svg.prefix(300))")
    }
}
