import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// `POST /api/v1/aggregates/{id}/exposures`: an exposure scenario whose regions' populations are the aggregate's people
/// living there (`twinbank exposure --scenario FILE --aggregate ID --regions FILE --json`); every refusal.
@Suite struct AggregateExposureRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]

    /// Noise in west and east (populations as given: replaced by the people living there), a change in east.
    static func scenario(west: Int = 1000, east: Int = 1000, region: String = "east") -> String {
        #"""
        {"regions": [{"name": "west", "population": \#(west)}, {"name": "\#(region)", "population": \#(east)}],
         "layers": [{"exposure": "noise", "values": {"west": 60, "\#(region)": 70}}],
         "outcomes": [{"name": "ischaemic heart disease", "exposure": "noise", "rr": 1.08, "rr_lower": 1.01, "rr_upper": 1.15,
                       "increment": 10, "counterfactual": 53, "incidence_per_100k": 500}],
         "changes": [{"exposure": "noise", "region": "\#(region)", "delta": -10}]}
        """#
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ text: String, headers: [HTTPField.Name: String] = headers,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: uri, method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    @Test func populationsAreTheAggregatesPeopleByRegion() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        try await f.test { client in
            // west holds d1 and d2, east d3, d4 has no location
            let answer = try await client.execute(uri: "/api/v1/aggregates/town/exposures?nameProperty=label", method: .post, headers: .auth(hana, Self.headers),
                                                  body: body(#"{"scenario":\#(Self.scenario()),"regions":\#(RegionRiskMapRouteTests.regions)}"#)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                return try json(r)
            }
            #expect(answer["aggregate"] as? String == "town")
            #expect(answer["located"] as? Int == 3 && answer["unlocated"] as? Int == 1 && answer["refused"] as? Int == 0)
            let regions = try #require(answer["regions"] as? [[String: Any]])
            #expect(regions.compactMap { $0["region"] as? String } == ["west", "east"])
            #expect(regions.compactMap { $0["population"] as? Double } == [2, 1])
            // the same figures as the scenario with those populations, evaluated alone
            let alone = try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(hana, Self.headers), body: body(Self.scenario(west: 2, east: 1))) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                return try json(r)
            }
            #expect((answer["regions"] as? NSArray)?.isEqual(to: alone["regions"] as? [Any] ?? []) == true, "\(answer)\n\(alone)")
            #expect((answer["totals"] as? NSArray)?.isEqual(to: alone["totals"] as? [Any] ?? []) == true)
            let avoided = try #require((regions[1]["avoided"] as? [String: Any])?["central"] as? Double)
            #expect(avoided > 0)
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        let regions = RegionRiskMapRouteTests.regions
        let uri = "/api/v1/aggregates/town/exposures?nameProperty=label"
        let good = #"{"scenario":\#(Self.scenario()),"regions":\#(regions)}"#
        try await f.test { client in
            for (path, text, status, field, says) in [
                (uri, #"{"scenario":\#(Self.scenario(region: "north")),"regions":\#(regions)}"#, HTTPResponse.Status.badRequest, "scenario", "north"),
                (uri, #"{"scenario":{"regions":[]},"regions":\#(regions)}"#, .badRequest, "scenario", "scenario"),
                (uri, #"{"scenario":[1],"regions":\#(regions)}"#, .badRequest, "scenario", "contract"),
                (uri, #"{"scenario":\#(Self.scenario()),"regions":{"type":"Feature"}}"#, .badRequest, "regions", "FeatureCollection"),
                ("/api/v1/aggregates/town/exposures?nameProperty=nope", good, .badRequest, "nameProperty", "nope"),
                ("/api/v1/aggregates/nowhere/exposures?nameProperty=label", good, .notFound, "id", "nowhere"),
                ("/api/v1/aggregates/-x/exposures?nameProperty=label", good, .badRequest, "id", ""),
            ] {
                try await Self.post(client, path, hana, text) { r throws in
                    #expect(r.status == status, "\(says): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["field"] as? String == field, "\(says): \(j)")
                    #expect(says.isEmpty || (j["message"] as? String)?.contains(says) == true, "\(says): \(j)")
                }
            }
            try await Self.post(client, uri, hana, #"{"regions":\#(regions)}"#) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
            }
            try await Self.post(client, uri, bob, good, headers: [.contentType: "application/json"]) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, uri, writer, good) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: uri, method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]), body: body(good)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
