import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
import TwinPopulation
@testable import TwinServer

/// `POST /api/v1/risk-maps`: the risk map over GeoJSON regions from daily counts in the body (`twinbank risk --counts
/// FILE.csv --regions FILE --out OUT`), rows or CSV, answered as the GeoJSON the command writes; every refusal.
@Suite struct CountsRiskMapRouteTests {
    static let csv = """
    region,date,population,cases,tests,positives
    west,2026-03-01,10000,2,50,3
    west,2026-03-08,10000,20,80,10
    east,2026-03-08,20000,1,,
    """
    static let rows = """
    [{"region":"west","date":"2026-03-01","population":10000,"cases":2,"tests":50,"positives":3},
     {"region":"west","date":"2026-03-08","population":10000,"cases":20,"tests":80,"positives":10},
     {"region":"east","date":"2026-03-08","population":20000,"cases":1}]
    """
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]

    /// What the command writes to `--out` for these regions and counts (the library it calls), without its nulls (the
    /// route leaves out a figure the command writes as null).
    static func expected(date: String? = nil) throws -> Data {
        let regions = try GeoRegions(geoJSON: Array(RegionRiskMapRouteTests.regions.utf8), nameProperty: "label")
        let counts = try RegionalCounts(csv: csv, regions: regions.names)
        let assessment = try RiskAssessment(regions: regions, counts: counts, date: try date.map { try Instant(parsing: $0 + "T00:00:00Z") })
        return try JSONSerialization.data(withJSONObject: withoutNulls(try JSONSerialization.jsonObject(with: Data(assessment.geoJSON.utf8))))
    }

    static func withoutNulls(_ value: Any) -> Any {
        if let d = value as? [String: Any] { return d.filter { !($0.value is NSNull) }.mapValues(withoutNulls) }
        if let a = value as? [Any] { return a.map(withoutNulls) }
        return value
    }

    static func post(_ client: any TestClientProtocol, _ token: String, query: String = "", _ text: String,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/risk-maps" + query, method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    @Test func mapsCountsGivenAsRowsOrCSVAsTheCommandWritesThem() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let expected = try Self.expected()
        let csvText = String(data: try JSONSerialization.data(withJSONObject: [Self.csv]), encoding: .utf8)!.dropFirst().dropLast()
        try await f.test { client in
            for text in [#"{"regions":\#(RegionRiskMapRouteTests.regions),"counts":\#(Self.rows)}"#,
                         #"{"countsCSV":\#(csvText),"regions":\#(RegionRiskMapRouteTests.regions)}"#] {
                try await Self.post(client, hana, query: "?nameProperty=label", text) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let answer = try JSONSerialization.jsonObject(with: Data(buffer: r.body))
                    let wanted = try JSONSerialization.jsonObject(with: expected)
                    #expect((answer as? NSDictionary)?.isEqual(to: wanted as? [String: Any] ?? [:]) == true, "\(answer)\n\(wanted)")
                    let features = try #require((answer as? [String: Any])?["features"] as? [[String: Any]])
                    let properties = features.compactMap { $0["properties"] as? [String: Any] }
                    #expect(properties.compactMap { $0["name"] as? String } == ["west", "east", "far"], "every region, in the file's order")
                    #expect(properties.compactMap { $0["population"] as? Int } == [10000, 20000, 0])
                    #expect(properties.compactMap { $0["cases_7d"] as? Int } == [20, 1, 0])
                    #expect(properties.allSatisfy { $0["date"] as? String == "2026-03-08" })
                    #expect((properties[0]["levels_by_day"] as? [Any])?.count == 8)
                    #expect(properties[0]["level"] as? String == "high" && properties[2]["level"] == nil, "\(properties)")
                    #expect(features.compactMap { ($0["geometry"] as? [String: Any])?["type"] as? String } == ["Polygon", "MultiPolygon", "Polygon"])
                }
            }
            // another day, and the names by default from the first string property
            let another = try Self.expected(date: "2026-03-02")
            try await Self.post(client, hana, query: "?nameProperty=label&date=2026-03-02", #"{"regions":\#(RegionRiskMapRouteTests.regions),"counts":\#(Self.rows)}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let answer = try JSONSerialization.jsonObject(with: Data(buffer: r.body))
                #expect((answer as? NSDictionary)?.isEqual(to: try JSONSerialization.jsonObject(with: another) as? [String: Any] ?? [:]) == true, "\(answer)")
            }
            try await Self.post(client, hana, #"{"regions":\#(RegionRiskMapRouteTests.regions),"counts":[{"region":"W1","date":"2026-03-01","cases":1}]}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let names = (try json(r)["features"] as? [[String: Any]])?.compactMap { ($0["properties"] as? [String: Any])?["name"] as? String }
                #expect(names == ["W1", "E1", "F1"])
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        let regions = RegionRiskMapRouteTests.regions
        let unclosed = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"label":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}"#
        let good = #""counts":\#(Self.rows)"#
        try await f.test { client in
            for (query, text, field, says) in [
                ("", #"{"regions":\#(regions),\#(good),"countsCSV":"region,date\nwest,2026-03-01"}"#, "counts", "one of the two"),
                ("", #"{"regions":\#(regions)}"#, "counts", "one of the two"),
                ("?nameProperty=label", #"{"regions":\#(regions),"counts":[{"region":"north","date":"2026-03-01"}]}"#, "counts", "counts[0]"),
                ("?nameProperty=label", #"{"regions":\#(regions),"counts":[{"region":"west","date":"2026-03-01"},{"region":"west","date":"March"}]}"#, "counts", "counts[1]"),
                ("?nameProperty=label", #"{"regions":\#(regions),"counts":[{"region":"west","date":"2026-03-01","cases":-1}]}"#, "counts", "cases = -1"),
                ("?nameProperty=label", #"{"regions":\#(regions),"counts":[]}"#, "counts", "no rows"),
                ("?nameProperty=label", #"{"regions":\#(regions),"countsCSV":"region,date,deaths\nwest,2026-03-01,1"}"#, "countsCSV", "deaths"),
                ("?nameProperty=label", #"{"regions":\#(regions),"countsCSV":"region,date,cases\nwest,2026-03-01,x"}"#, "countsCSV", "line 2"),
                ("?nameProperty=label&date=2026-04-01", #"{"regions":\#(regions),\#(good)}"#, "date", "outside the days counted"),
                ("?nameProperty=label&date=soon", #"{"regions":\#(regions),\#(good)}"#, "date", "date:"),
                ("?nameProperty=nope", #"{"regions":\#(regions),\#(good)}"#, "nameProperty", "nope"),
                ("?nameProperty=label", #"{"regions":\#(unclosed),\#(good)}"#, "regions", "feature 0"),
                ("?nameProperty=label", #"{"regions":{"type":"Feature"},\#(good)}"#, "regions", "FeatureCollection"),
            ] {
                try await Self.post(client, hana, query: query, text) { r throws in
                    #expect(r.status == .badRequest, "\(says): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["field"] as? String == field, "\(says): \(j)")
                    #expect((j["message"] as? String)?.contains(says) == true, "\(says): \(j)")
                }
            }
            try await Self.post(client, hana, #"{\#(good)}"#) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
            }
            // a clinician for treatment (the default policy gives `aggregate` to public health, research and the admin),
            // a token that may not read, no token
            try await client.execute(uri: "/api/v1/risk-maps?nameProperty=label", method: .post, headers: .auth(bob, [.contentType: "application/json"]),
                                     body: body(#"{"regions":\#(regions),\#(good)}"#)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, writer, query: "?nameProperty=label", #"{"regions":\#(regions),\#(good)}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/risk-maps", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(#"{"regions":\#(regions),\#(good)}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
