import Foundation
import Testing
import TwinTesting
@testable import TwinPopulation

/// City exposure scenarios: attributable cases the AirQ+ way, checked against arithmetic written out by hand.
@Suite struct ExposureTests {
    static func scenario(_ json: String) throws -> ExposureScenario { try ExposureScenario(json: Array(json.utf8)) }

    static let city = """
    {"regions": [{"name": "Ville-Marie", "population": 100000}, {"name": "Verdun", "population": 50000}],
     "layers": [{"exposure": "no2", "unit": "ug/m3", "period": "2025", "values": {"Ville-Marie": 30, "Verdun": 8}},
                {"exposure": "no2", "unit": "ug/m3", "period": "2024", "values": {"Ville-Marie": 35, "Verdun": 9}},
                {"exposure": "pm25", "unit": "ug/m3", "period": "2025", "values": {"Ville-Marie": 15, "Verdun": 4}}],
     "period": "2025",
     "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 750},
                  {"name": "deaths (custom PM2.5 function)", "exposure": "pm25", "rr": 1.08, "rr_lower": 1.06, "rr_upper": 1.09,
                   "increment": 10, "counterfactual": 5, "incidence_per_100k": 1000}],
     "changes": [{"exposure": "no2", "region": "Ville-Marie", "percent": -20}]}
    """

    @Test func attributableCasesMatchTheHandComputedAirQExample() throws {
        let rows = try Self.scenario(Self.city).evaluate()
        #expect(rows.count == 4)
        // NO2 in Ville-Marie: 30 ug/m3, counterfactual 10, so delta = 20 = two increments of 10.
        //   RR(20) = 1.02^2 = 1.0404; AF = 0.0404 / 1.0404; cases = AF x 750 / 100,000 x 100,000 = AF x 750
        let vm = rows[0]
        #expect(vm.region == "Ville-Marie" && vm.exposure == "no2")
        #expect(abs(vm.baseline.central - 0.0404 / 1.0404 * 750) < 1e-9)            // 29.1234...
        #expect(abs(vm.baseline.central - 29.123414071510957) < 1e-9)
        //   lower RR 1.01: RR(20) = 1.0201, AF = 0.0201 / 1.0201 -> 14.7780; upper 1.04: 1.0816 -> 0.0816 / 1.0816 x 750 = 56.5828
        #expect(abs(vm.baseline.lower - 0.0201 / 1.0201 * 750) < 1e-9)
        #expect(abs(vm.baseline.upper - 0.0816 / 1.0816 * 750) < 1e-9)
        //   the scenario: 20 % less NO2, 24 ug/m3: delta 14, RR = 1.02^1.4 = exp(1.4 ln 1.02) = 1.02811156
        let rr14 = exp(1.4 * log(1.02))
        #expect(abs(rr14 - 1.0281115555) < 1e-9)
        #expect(vm.scenarioConcentration == 24)
        #expect(abs(vm.scenario.central - (rr14 - 1) / rr14 * 750) < 1e-9)         // 20.507...
        #expect(abs(vm.avoided.central - (0.0404 / 1.0404 - (rr14 - 1) / rr14) * 750) < 1e-9)
        #expect(vm.avoided.central > 8.6 && vm.avoided.central < 8.7)
        // NO2 in Verdun: 8 ug/m3 is below the counterfactual 10: nothing attributable, nothing changed
        #expect(rows[1].baseline == .zero && rows[1].avoided == .zero)
        // PM2.5 in Ville-Marie: 15 - 5 = 10 = one increment: RR = 1.08, AF = 0.08 / 1.08 = 0.074074...;
        //   incidence 1000 per 100,000 in 100,000 people = 1000 deaths; 1000 x 0.074074 = 74.074 attributable
        #expect(abs(rows[2].baseline.central - 1000 * 0.08 / 1.08) < 1e-9)
        #expect(abs(rows[2].baseline.lower - 1000 * 0.06 / 1.06) < 1e-9)
        #expect(abs(rows[2].baseline.upper - 1000 * 0.09 / 1.09) < 1e-9)
        #expect(rows[2].avoided == .zero)
        // the built-in function carries its source
        #expect(ConcentrationResponse.no2Mortality.source.contains("Huangfu & Atkinson 2020"))
        #expect(abs(ConcentrationResponse.pm25Mortality.relativeRisk(delta: 5, rr: 1.08) - 1.08.squareRoot()) < 1e-12)
    }

    @Test func changesApplyByPercentDeltaAndValueToOneRegionOrAll() throws {
        let base = """
        {"regions": [{"name": "A", "population": 1000}, {"name": "B", "population": 1000}],
         "layers": [{"exposure": "noise", "values": {"A": 60, "B": 70}}],
         "outcomes": [{"name": "ischaemic heart disease", "exposure": "noise", "rr": 1.08, "rr_lower": 1.01, "rr_upper": 1.15,
                       "increment": 10, "counterfactual": 53, "incidence_per_100k": 500}],
         "changes": CHANGES}
        """
        func layers(_ changes: String) throws -> [Double] { try Self.scenario(base.replacingOccurrences(of: "CHANGES", with: changes)).scenarioLayers()["noise"]! }
        #expect(try layers(#"[{"exposure": "noise", "percent": -10}]"#) == [54, 63])
        #expect(try layers(#"[{"exposure": "noise", "region": "B", "delta": -5}]"#) == [60, 65])
        #expect(try layers(#"[{"exposure": "noise", "region": "A", "value": 50}, {"exposure": "noise", "delta": 1}]"#) == [51, 71])
    }

    @Test(arguments: [
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [], "outcomes": [], "colour": 1}"#, "the scenario has the unknown key 'colour'"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-asthma", "incidence_per_100k": 1}]}"#, "outcomes[0].function 'no2-asthma' is unknown"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "rr": 1.5, "incidence_per_100k": 1}]}"#, "the relative risk 1.5 is not inside its confidence interval 1.01-1.04"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "pm25-mortality", "incidence_per_100k": 1}]}"#, "needs the exposure layer 'pm25'"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": -3}]}"#, "incidence_per_100k = -3.0 is not in 0...100000"),
        (#"{"regions": [{"name": "A", "population": 1}, {"name": "B", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}]}"#, "layers[0] (no2) has no value for the region 'B'"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}], "changes": [{"exposure": "no2", "region": "Z", "percent": -20}]}"#, "changes[0].region 'Z' is not in regions"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}], "changes": [{"exposure": "no2", "percent": -120}]}"#, "changes[0].percent = -120.0 would make the exposure negative"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}], "changes": [{"exposure": "no2", "delta": -30}]}"#, "the changes make no2 in 'A' negative (-10.0)"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}], "changes": [{"exposure": "no2", "percent": -20, "delta": 1}]}"#, "exactly one of percent, delta or value (it gives percent, delta)"),
        (#"{"regions": [{"name": "A", "population": 1.5}], "layers": [], "outcomes": []}"#, "regions[0].population = 1.5 is not a whole number"),
        (#"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "period": "2024", "values": {"A": 1}}, {"exposure": "no2", "period": "2025", "values": {"A": 2}}], "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 1}]}"#, "the layer no2 has 2 periods: choose one"),
        ("[1, 2", "the scenario is not valid JSON"),
    ])
    func invalidScenariosAreRefusedByName(json: String, fragment: String) {
        let e = #expect(throws: PopulationError.self) { _ = try Self.scenario(json) }
        #expect(e?.code == .invalidScenario)
        #expect(e?.message.contains(fragment) == true, "\(String(describing: e?.message))")
    }

    @Test(.enabled(if: SharedFolder.has("data/geo/montreal-districts.geojson"),

                   "skipped: the Montreal districts data/geo/montreal-districts.geojson are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func peopleGetTheExposureOfTheRegionTheyLiveIn() throws {
        let montreal = try GeoRegions(contentsOf: SharedFolder.data("geo/montreal-districts.geojson").path)
        let a = montreal.regions[0], b = montreal.regions[1]
        let s = try Self.scenario("""
        {"regions": [{"name": "\(a.name)", "population": 10}, {"name": "\(b.name)", "population": 10}],
         "layers": [{"exposure": "no2", "values": {"\(a.name)": 30, "\(b.name)": 20}}],
         "outcomes": [{"function": "no2-mortality", "incidence_per_100k": 750}],
         "changes": [{"exposure": "no2", "region": "\(a.name)", "percent": -20}]}
        """)
        let pa = a.interiorPoint, pb = b.interiorPoint
        let people = [(id: "ann", latitude: pa.lat, longitude: pa.lon), (id: "bob", latitude: pb.lat, longitude: pb.lon), (id: "eve", latitude: 0.0, longitude: 0.0)]
        let now = s.exposures(of: people, regions: montreal, locator: montreal.locator(), exposure: "no2")
        #expect(now.map(\.value) == [30, 20, nil])
        #expect(now.map(\.region) == [a.name, b.name, nil])
        #expect(s.exposures(of: people, regions: montreal, locator: montreal.locator(), exposure: "no2", afterChanges: true).map(\.value) == [24, 20, nil])
    }
}
