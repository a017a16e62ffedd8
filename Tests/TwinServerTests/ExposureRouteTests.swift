import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// An exposure scenario evaluated (`POST /api/v1/exposures`, `twinbank exposure --scenario FILE --json`).
@Suite struct ExposureRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let scenario = #"""
    {"regions": [{"name": "A", "population": 100000}, {"name": "B", "population": 50000}],
     "layers": [{"exposure": "noise", "values": {"A": 60, "B": 70}}],
     "outcomes": [{"name": "ischaemic heart disease", "exposure": "noise", "rr": 1.08, "rr_lower": 1.01, "rr_upper": 1.15,
                   "increment": 10, "counterfactual": 53, "incidence_per_100k": 500}],
     "changes": [{"exposure": "noise", "region": "B", "delta": -10}]}
    """#

    @Test func evaluatesAScenario() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        try await f.test { client in
            try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(hana, Self.jsonBody.merging(DashboardRouteTests.publicHealth) { a, _ in a }),
                                     body: body(Self.scenario)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                let regions = try #require(j["regions"] as? [[String: Any]])
                #expect(regions.compactMap { $0["region"] as? String } == ["A", "B"])
                #expect(regions.compactMap { $0["scenarioConcentration"] as? Double } == [60, 60])
                let a = try #require(regions.first?["avoided"] as? [String: Any])
                #expect(a["central"] as? Double == 0)  // A unchanged
                let b = try #require(regions.last?["avoided"] as? [String: Any])
                #expect((b["central"] as? Double ?? 0) > 0 && (b["lower"] as? Double ?? 0) <= (b["central"] as? Double ?? 0))
                let total = try #require((j["totals"] as? [[String: Any]])?.first)
                #expect(total["outcome"] as? String == "ischaemic heart disease")
                let attributable = regions.compactMap { ($0["attributableBaseline"] as? [String: Any])?["central"] as? Double }.reduce(0, +)
                #expect(abs(((total["attributableBaseline"] as? [String: Any])?["central"] as? Double ?? -1) - attributable) < 1e-9)
            }
        }
    }

    @Test func refusesBadScenariosAndCallers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try DashboardRouteTests.bank(f)
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let hanaAsAdmin = try await f.token("hana", .admin)
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        let ph = Self.jsonBody.merging(DashboardRouteTests.publicHealth) { a, _ in a }
        try await f.test { client in
            for text in [#"{"regions": [{"name": "A", "population": 1}], "layers": [], "outcomes": [], "colour": 1}"#,
                         #"{"regions": [{"name": "A", "population": 1}], "layers": [{"exposure": "no2", "values": {"A": 20}}], "outcomes": [{"function": "no2-asthma", "incidence_per_100k": 1}]}"#,
                         "[1]"] {
                try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(hana, ph), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == "body")
                }
            }
            try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(bob, Self.jsonBody), body: body(Self.scenario)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(hanaAsAdmin, ph), body: body(Self.scenario)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            try await client.execute(uri: "/api/v1/exposures", method: .post, headers: .auth(writer, ph), body: body(Self.scenario)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/exposures", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.scenario)) { r throws in #expect(r.status == .unauthorized) }
        }
    }
}
