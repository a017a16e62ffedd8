import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

/// `POST /api/v1/aggregates/{id}/risk-alerts`: the people entering a region at a level or above (`twinbank risk
/// --aggregate ID --grid SIZE | --regions FILE --write-alerts`), written to their threads with `write`; every refusal.
@Suite struct RiskAlertsRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]

    /// a1, a2 live at 45.50 N 73.60 W; b1, b2 5 km away; a1 is a case; b1 walks over to a's place (as the command's
    /// test); the aggregate `city` of the four.
    static func people(_ bank: Bank) throws {
        for (id, lat, lon) in [("a1", 45.50, -73.60), ("a2", 45.50, -73.60), ("b1", 45.54, -73.64), ("b2", 45.54, -73.64)] {
            try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: ["home_lat": .quantity(Quantity(lat, "deg")), "home_lon": .quantity(Quantity(lon, "deg"))],
                                     origin: Instant(microseconds: 0)))
        }
        try bank.append([
            try .parse(twin: "a1", code: "local:case.confirmed", value: "true", at: "2026-03-05T10:00:00Z"),
            try .parse(twin: "b1", code: "local:location", value: "[45.54,-73.64]", unit: "deg", at: "2026-03-05T08:00:00Z"),
            try .parse(twin: "b1", code: "local:location", value: "[45.5,-73.6]", unit: "deg", at: "2026-03-05T12:00:00Z"),
        ])
        try bank.createAggregate("city", members: ["a1", "a2", "b1", "b2"])
    }

    static func box(_ lat: Double, _ lon: Double) -> String { RegionRiskMapRouteTests.box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01) }
    static let regions = """
    {"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"name":"a-side"},"geometry":{"type":"Polygon","coordinates":[\(box(45.50, -73.60))]}},
      {"type":"Feature","properties":{"name":"b-side"},"geometry":{"type":"Polygon","coordinates":[\(box(45.54, -73.64))]}}
    ]}
    """

    static func post(_ client: any TestClientProtocol, _ token: String, _ text: String, aggregate: String = "city", headers: [HTTPField.Name: String] = headers,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/aggregates/\(aggregate)/risk-alerts", method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    static func alerted(_ client: any TestClientProtocol, _ token: String) async throws -> Int {
        try await client.execute(uri: "/api/v1/twins/b1/events?code=local:risk.region-alert", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try #require(try json(r)["items"] as? [Any]).count
        }
    }

    @Test func raisesAndWritesTheCommandsAlerts() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            // on a 1 km grid (the default), looked at only
            try await Self.post(client, alice, "{}") { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["aggregate"] as? String == "city" && j["date"] as? String == "2026-03-05" && j["located"] as? Int == 4)
                #expect(j["alertLevel"] as? String == "high" && (j["to"] as? String)?.hasPrefix("2026-03-05T23:59:59") == true, "\(j)")
                let alerts = try #require(j["alerts"] as? [[String: Any]])
                #expect(alerts.compactMap { $0["person"] as? String } == ["b1"])
                #expect(alerts.first?["time"] as? String == "2026-03-05T12:00:00Z" && alerts.first?["level"] as? String == "high")
                #expect(j["written"] as? Int == 0)
            }
            #expect(try await Self.alerted(client, alice) == 0)
            // over regions, written: once, then the thread holds it
            for expected in [1, 0] {
                try await Self.post(client, alice, #"{"regions":\#(Self.regions),"write":true,"recentHours":48}"#) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let j = try json(r)
                    #expect((j["alerts"] as? [[String: Any]])?.compactMap { $0["region"] as? String } == ["a-side"], "\(j)")
                    #expect(j["written"] as? Int == expected)
                }
            }
            #expect(try await Self.alerted(client, alice) == 1)
            // nobody is alerted for pings before the window, or for a level above the region's
            try await Self.post(client, alice, #"{"recentHours":1}"#) { r throws in
                #expect((try json(r)["alerts"] as? [Any])?.isEmpty == true, "\(String(buffer: r.body))")
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        let hana = try await f.token("hana", .publicHealthOfficer)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            for (text, status, field) in [
                (#"{"regions":\#(Self.regions),"grid":"1km"}"#, HTTPResponse.Status.badRequest, "grid"),
                (#"{"grid":"one parsec"}"#, .badRequest, "grid"),
                (#"{"grid":"1m"}"#, .badRequest, "grid"),
                (#"{"recentHours":0}"#, .badRequest, "recentHours"),
                (#"{"date":"2026-04-01"}"#, .badRequest, "date"),
                (#"{"date":"soon"}"#, .badRequest, "date"),
                (#"{"regions":{"type":"Feature"}}"#, .badRequest, "regions"),
            ] {
                try await Self.post(client, alice, text) { r throws in
                    #expect(r.status == status, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.post(client, alice, "{}", aggregate: "nowhere") { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            // writing needs a write scope; the public-health officer may read the aggregate but not write to threads
            try await Self.post(client, reader, #"{"write":true}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await Self.post(client, hana, #"{"write":true}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            #expect(try await RiskAlertsRouteTests.alerted(client, alice) == 0, "nothing written")
            try await Self.post(client, hana, "{}") { r throws in #expect(r.status == .ok, "\(String(buffer: r.body))") }
            try await Self.post(client, bob, "{}", headers: [.contentType: "application/json"]) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/city/risk-alerts", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body("{}")) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
