import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// `POST /api/v1/aggregates/{id}/risk-map`: the aggregate's risk map over GeoJSON regions in the body (as `twinbank
/// risk --aggregate ID --regions FILE`), one feature per region with its figures; a malformed region refused naming
/// its feature's index; every refusal.
@Suite struct RegionRiskMapRouteTests {
    /// A closed rectangle ring, [lon, lat] positions.
    static func box(_ west: Double, _ south: Double, _ east: Double, _ north: Double) -> String {
        "[[\(west),\(south)],[\(east),\(south)],[\(east),\(north)],[\(west),\(north)],[\(west),\(south)]]"
    }

    /// West holds d1 and d2 (the two cases), east d3; far holds no one; d4 has no location.
    static let regions = """
    {"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"W1","label":"west"},"geometry":{"type":"Polygon","coordinates":[\(box(-0.1210, 51.4995, -0.1195, 51.5010))]}},
      {"type":"Feature","properties":{"code":"E1","label":"east"},"geometry":{"type":"MultiPolygon","coordinates":[[\(box(-0.105, 51.505, -0.095, 51.515))],[\(box(-0.090, 51.505, -0.085, 51.515))]]}},
      {"type":"Feature","properties":{"code":"F1","label":"far"},"geometry":{"type":"Polygon","coordinates":[\(box(2.0, 48.0, 2.1, 48.1))]}}
    ]}
    """

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ text: String, type: String = "application/geo+json",
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        var headers = HTTPFields.auth(token, DashboardRouteTests.publicHealth)
        headers[.contentType] = type
        try await client.execute(uri: uri, method: .post, headers: headers, body: body(text)) { r throws in try check(r) }
    }

    @Test func mapsTheAggregateOverTheRegionsGiven() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try DashboardRouteTests.people(bank)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let map = "/api/v1/aggregates/town/risk-map"
        try await f.test { client in
            try await Self.post(client, map + "?nameProperty=label", hana, Self.regions) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["type"] as? String == "FeatureCollection" && j["aggregate"] as? String == "town")
                #expect(j["located"] as? Int == 3 && j["unlocated"] as? Int == 1 && j["refused"] as? Int == 0)
                #expect(j["date"] as? String == "2026-02-01")
                let features = try #require(j["features"] as? [[String: Any]])
                let properties = features.compactMap { $0["properties"] as? [String: Any] }
                #expect(properties.compactMap { $0["name"] as? String } == ["west", "east", "far"], "every region, in the file's order")
                #expect(properties.compactMap { $0["population"] as? Int } == [2, 1, 0])
                #expect(properties.compactMap { $0["cases7d"] as? Int } == [2, 0, 0])
                #expect(properties[0]["level"] as? String != nil && properties[2]["level"] == nil, "\(properties)")
                let levels = try #require(j["levels"] as? [String: Int])
                #expect(levels.values.reduce(0, +) == 3 && levels["no data"] != nil)
                let geometries = features.compactMap { $0["geometry"] as? [String: Any] }
                #expect(geometries.allSatisfy { $0["type"] as? String == "MultiPolygon" })
                #expect((geometries[1]["coordinates"] as? [Any])?.count == 2, "east's two polygons")
            }
            // the name from the first string property by default; plain JSON is taken too
            try await Self.post(client, map + "?date=2026-02-01", hana, Self.regions, type: "application/json") { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let names = (try json(r)["features"] as? [[String: Any]])?.compactMap { ($0["properties"] as? [String: Any])?["name"] as? String }
                #expect(names == ["W1", "E1", "F1"])
            }
            // no one located in the aggregate: the regions, no one in them, no day
            try await Self.post(client, "/api/v1/aggregates/pair/risk-map", hana, Self.regions) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["located"] as? Int == 0 && j["unlocated"] as? Int == 2 && j["date"] == nil)
                #expect((j["features"] as? [[String: Any]])?.count == 3)
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try DashboardRouteTests.people(bank)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let hanaAsAdmin = try await f.token("hana", .admin)
        let bob = try await f.token("bob", .clinician)
        let map = "/api/v1/aggregates/town/risk-map"
        let unclosed = Self.regions.replacingOccurrences(of: "[[-0.105,51.505],", with: "[[-0.1049,51.505],")
        try await f.test { client in
            for (text, query, field, mention) in [
                (unclosed, "", "body", "feature 1"),
                ("{\"type\":\"FeatureCollection\"", "", "body", "JSON"),
                (#"{"type":"Feature"}"#, "", "body", "FeatureCollection"),
                (Self.regions, "?nameProperty=zone", "nameProperty", "zone"),
                (Self.regions, "?date=2025-01-01", "date", "outside"),
                (Self.regions, "?date=someday", "date", "date"),
            ] {
                try await Self.post(client, map + query, hana, text) { r throws in
                    #expect(r.status == .badRequest, "\(mention): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["field"] as? String == field, "\(mention): \(j)")
                    #expect((j["message"] as? String)?.contains(mention) == true, "\(j)")
                }
            }
            try await Self.post(client, map, hana, Self.regions, type: "text/plain") { r throws in #expect(r.status == .unsupportedMediaType || r.status == .badRequest, "\(r.status)") }
            try await Self.post(client, "/api/v1/aggregates/nothing/risk-map", hana, Self.regions) { r throws in #expect(r.status == .notFound) }
            try await Self.post(client, map, bob, Self.regions) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, map, hanaAsAdmin, Self.regions) { r throws in #expect(r.status == .forbidden) }
            try await client.execute(uri: map, method: .post, headers: [.contentType: "application/geo+json"], body: body(Self.regions)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
