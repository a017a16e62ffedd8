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
