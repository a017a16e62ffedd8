import Foundation
import Testing
import TwinTesting

/// `twinbank risk`: regions from GeoJSON or a grid, counts from CSV or the bank, a GeoJSON and an SVG map out,
/// alerts written to the threads of people entering a high-risk region.
@Suite("twinbank command: risk")
struct RiskCommandTests {
    let cli = CommandRunner()
    static let montreal = SharedFolder.data("geo/montreal-districts.geojson").path

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),
                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func countsFromCSVOnTheMontrealDistricts() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let counts = dir.appendingPathComponent("counts.csv").path
        // Sault-au-Récollet: 60 cases in 50,000 in a week = 120 per 100,000 (high); Saint-Sulpice: 10 of 100 tests
        // positive = 10 % (high too); Ahuntsic: 5 cases in 50,000 = 10 per 100,000 (moderate); the other 55 no data
        try Data("""
        region,date,population,cases,tests,positives
        11-Sault-au-Récollet,2026-03-01,50000,30,0,0
        11-Sault-au-Récollet,2026-03-07,50000,30,0,0
        12-Saint-Sulpice,2026-03-03,40000,0,100,10
        13-Ahuntsic,2026-03-07,50000,5,,

        """.utf8).write(to: URL(fileURLWithPath: counts))
        let out = dir.appendingPathComponent("risk.geojson").path, map = dir.appendingPathComponent("risk.svg").path
        let text = try cli.ok(["risk", "--counts", counts, "--regions", Self.montreal, "--out", out, "--map", map])
        #expect(text.contains("58 regions, 7 days to 2026-03-07"), "\(text)")
        #expect(text.contains("levels: moderate 1, high 2, no data 55"), "\(text)")
        #expect(text.contains("11-Sault-au-Récollet: high (120 cases per 100,000 in 7 days)"), "\(text)")
        #expect(text.contains("wrote \(map)"))
        let geo = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let features = try #require(geo["features"] as? [[String: Any]])
        #expect(features.count == 58)
        let first = try #require(features.first?["properties"] as? [String: Any])
        #expect(first["name"] as? String == "11-Sault-au-Récollet")
        #expect(first["level"] as? String == "high")
        #expect(first["incidence_7d_per_100k"] as? Double == 120)
        let svg = try String(contentsOfFile: map, encoding: .utf8)
        #expect(svg.contains("<title>11-Sault-au-Récollet: high"))
        #expect(svg.components(separatedBy: "<path ").count == 59)

        // an existing output is refused (nothing replaced) unless --force
        let again = try cli.run(["risk", "--counts", counts, "--regions", Self.montreal, "--out", out])
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists"), "\(again.stderr)")
        try cli.ok(["risk", "--counts", counts, "--regions", Self.montreal, "--out", out, "--force", "--date", "2026-03-03"])
        let json = try cli.ok(["risk", "--counts", counts, "--regions", Self.montreal, "--out", out, "--force", "--json"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((d["levels"] as? [String: Int])?["high"] == 2)
    }

    @Test func badRegionsAreRefusedByName() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let regions = dir.appendingPathComponent("bad.geojson").path
        try Data(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "bow"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: regions))
        let counts = dir.appendingPathComponent("c.csv").path
        try Data("region,date,cases\nbow,2026-03-01,1\n".utf8).write(to: URL(fileURLWithPath: counts))
        let out = dir.appendingPathComponent("risk.geojson").path
        let r = try cli.run(["risk", "--counts", counts, "--regions", regions, "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("feature 0 ('bow'), polygon 0, ring 0 is self-intersecting"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func personTwinsOnAGridRaiseAlerts() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        // a1, a2 live at 45.50 N 73.60 W; b1, b2 5 km away; a1 is a case; b1 walks over to a's cell
        for (id, lat, lon) in [("a1", "45.50", "-73.60"), ("a2", "45.50", "-73.60"), ("b1", "45.54", "-73.64"), ("b2", "45.54", "-73.64")] {
            try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person", "--attr", "home_lat=\(lat)", "--attr", "home_lon=\(lon)"])
        }
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "a1", "--code", "local:case.confirmed", "--value", "true", "--at", "2026-03-05T10:00:00Z"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "b1", "--code", "local:location", "--value", "[45.54,-73.64] deg", "--at", "2026-03-05T08:00:00Z"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "b1", "--code", "local:location", "--value", "[45.5,-73.6] deg", "--at", "2026-03-05T12:00:00Z"])
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "city", "--where", "kind = person"])
        let out = dir.appendingPathComponent("risk.geojson").path
        let json = try cli.ok(["risk", "--bank", bank, "--aggregate", "city", "--grid", "1km", "--out", out, "--write-alerts", "--json"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(d["persons"] as? Int == 4)
        #expect((d["levels"] as? [String: Int])?["high"] == 1, "\(json)")
        let alerts = try #require(d["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["person"] as? String } == ["b1"])
        #expect(d["alerts_written"] as? Int == 1)
        let thread = try cli.ok(["thread", "query", "--bank", bank, "--twin", "b1"])
        #expect(thread.contains("risk.region-alert"), "\(thread)")
        // run again: the alert is in the thread already
        let second = try cli.ok(["risk", "--bank", bank, "--aggregate", "city", "--grid", "1km", "--out", out, "--force", "--write-alerts", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(second.utf8)) as? [String: Any])?["alerts_written"] as? Int == 0)
    }
}
