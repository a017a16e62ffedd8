import Foundation
import Testing
import TwinTesting

/// `twinbank exposure`: a city scenario in, attributable and avoided cases per region out.
@Suite("twinbank command: exposure")
struct ExposureCommandTests {
    let cli = CommandRunner()

    @Test func twentyPercentLessNO2InOneDistrict() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("scenario.json").path
        try Data("""
        {"regions": [{"name": "Ville-Marie", "population": 100000}, {"name": "Verdun", "population": 50000}],
         "layers": [{"exposure": "no2", "unit": "ug/m3", "values": {"Ville-Marie": 30, "Verdun": 8}}],
         "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 750}],
         "changes": [{"exposure": "no2", "region": "Ville-Marie", "percent": -20}]}
        """.utf8).write(to: URL(fileURLWithPath: file))
        let json = try cli.ok(["exposure", "--scenario", file, "--json"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try #require(d["regions"] as? [[String: Any]])
        let vm = try #require(rows.first)
        // 0.0404 / 1.0404 x 750 = 29.1234 now; 20 % less (24 ug/m3): 20.5072; avoided 8.6162
        let base = try #require((vm["attributable_baseline"] as? [String: Double])?["central"])
        let avoided = try #require((vm["avoided"] as? [String: Double])?["central"])
        #expect(abs(base - 29.123414071510957) < 1e-9)
        #expect(abs(avoided - (29.123414071510957 - 20.50717798727104)) < 1e-9)
        let totals = try #require(d["totals"] as? [[String: Any]])
        #expect(abs(((totals.first?["avoided"] as? [String: Double])?["central"] ?? 0) - avoided) < 1e-9)
        let text = try cli.ok(["exposure", "--scenario", file])
        #expect(text.contains("Ville-Marie: no2 30 -> 24; attributable 29.12 (14.78-56.58) -> 20.51"), "\(text)")
        #expect(text.contains("source: Huangfu & Atkinson 2020"))

        try Data(#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 1}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}], "changes": [{"exposure": "pm25", "percent": -20}]}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let bad = try cli.run(["exposure", "--scenario", file])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("changes[0] changes the exposure 'pm25', which has no layer"), "\(bad.stderr)")
    }
}

extension ExposureCommandTests {
    @Test func populationsFromPersonTwinsByWhereTheyLive() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        // two square regions; three people live in A, one in B
        let regions = dir.appendingPathComponent("r.geojson").path
        try Data(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}, {"type": "Feature", "properties": {"name": "B"}, "geometry": {"type": "Polygon", "coordinates": [[[1,0],[2,0],[2,1],[1,1],[1,0]]]}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: regions))
        for (id, lon) in [("p1", "0.5"), ("p2", "0.5"), ("p3", "0.2"), ("p4", "1.5")] {
            try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person", "--attr", "home_lat=0.5", "--attr", "home_lon=\(lon)"])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "city", "--where", "kind = person"])
        let file = dir.appendingPathComponent("s.json").path
        try Data(#"{"regions": [{"name": "A", "population": 1}, {"name": "B", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 30, "B": 30}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 100000}]}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let json = try cli.ok(["exposure", "--scenario", file, "--bank", bank, "--aggregate", "city", "--regions", regions, "--json"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try #require(d["regions"] as? [[String: Any]])
        #expect(rows.map { $0["population"] as? Double } == [3, 1])
        // everyone has the outcome (100,000 per 100,000): AF x 3 and AF x 1, AF = 0.0404 / 1.0404
        let a = try #require((rows[0]["attributable_baseline"] as? [String: Double])?["central"])
        #expect(abs(a - 3 * 0.0404 / 1.0404) < 1e-12)
        let half = try cli.run(["exposure", "--scenario", file, "--aggregate", "city", "--bank", bank])
        #expect(half.status != 0)
    }
}
