import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// The case report by age band over an aggregate (`GET /api/v1/aggregates/{id}/case-report`, `twinbank report cases
/// --by age`).
@Suite struct CaseReportRouteTests {
    static let publicHealth = DashboardRouteTests.publicHealth

    @Test func releasesTheCasesByAgeBand() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        try await f.test { client in
            // d1 (born 1960) and d2 (born 1970) confirmed on 2026-02-01: one case each in the 60s and the 50s
            try await client.execute(uri: "/api/v1/aggregates/town/case-report?minCount=1", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["by"] as? String == "age" && j["minCount"] as? Int == 1 && j["suppressed"] as? Int == 0)
                #expect((j["columns"] as? [String])?.count == 1)
                let rows = try #require(j["rows"] as? [[String: Any]])
                #expect(rows.count == 9)
                let counts = rows.map { (($0["cells"] as? [[String: Any]])?.first?["count"] as? Int) ?? -1 }
                #expect(counts == [0, 0, 0, 0, 0, 1, 1, 0, 0], "\(counts)")
                #expect((j["total"] as? [String: Any])?["count"] as? Int == 2)
            }
            // the default minimum (5) suppresses the ones, and enough more that none can be worked out
            try await client.execute(uri: "/api/v1/aggregates/town/case-report?ageBands=0,50,65", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                let rows = try #require(j["rows"] as? [[String: Any]])
                #expect(rows.compactMap { $0["label"] as? String } == ["0-49", "50-64", "65+"])
                #expect((j["suppressed"] as? Int ?? 0) > 0)
                let cells = rows.flatMap { $0["cells"] as? [[String: Any]] ?? [] }
                #expect(cells.allSatisfy { ($0["suppressed"] as? Bool == true) == ($0["count"] == nil) })
                #expect(!cells.contains { $0["count"] as? Int == 1 })
            }
        }
    }

    @Test func releasesTheCasesByRegion() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        let uri = "/api/v1/aggregates/town/case-report"
        try await f.test { client in
            // west holds d1 and d2, the two cases
            try await RegionRiskMapRouteTests.post(client, uri + "?nameProperty=label&minCount=1", hana, RegionRiskMapRouteTests.regions) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["by"] as? String == "region")
                let rows = try #require(j["rows"] as? [[String: Any]])
                let west = try #require(rows.first { $0["label"] as? String == "west" }, "\(rows)")
                #expect((west["total"] as? [String: Any])?["count"] as? Int == 2)
                #expect((j["total"] as? [String: Any])?["count"] as? Int == 2)
            }
            try await RegionRiskMapRouteTests.post(client, uri + "?nameProperty=nothing", hana, RegionRiskMapRouteTests.regions) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "nameProperty")
            }
            try await RegionRiskMapRouteTests.post(client, uri + "?minCount=0", hana, RegionRiskMapRouteTests.regions) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "minCount")
            }
            try await RegionRiskMapRouteTests.post(client, uri, hana, #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"n":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}}]}"#) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "body")
            }
            try await RegionRiskMapRouteTests.post(client, "/api/v1/aggregates/nothing/case-report", hana, RegionRiskMapRouteTests.regions) { r throws in
                #expect(r.status == .notFound)
            }
            try await RegionRiskMapRouteTests.post(client, uri, bob, RegionRiskMapRouteTests.regions) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: uri, method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/geo+json")]),
                                     body: body(RegionRiskMapRouteTests.regions)) { r throws in #expect(r.status == .unauthorized) }
        }
    }

    @Test func refusesBadParametersAndCallers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let hanaAsAdmin = try await f.token("hana", .admin)
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        let base = "/api/v1/aggregates/town/case-report"
        try await f.test { client in
            for (query, field) in [("?ageBands=10,20", "ageBands"), ("?ageBands=0,x", "ageBands"), ("?ageBands=0,30,20", "ageBands"), ("?minCount=0", "minCount")] {
                try await client.execute(uri: base + query, method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                    #expect(r.status == .badRequest, "\(query): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
            // an aggregate without cases (p1, p2): nothing to report
            try await client.execute(uri: "/api/v1/aggregates/pair/case-report", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/case-report", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownAggregate")
            }
            try await client.execute(uri: base, method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: base, method: .get, headers: .auth(hanaAsAdmin, Self.publicHealth)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            try await client.execute(uri: base, method: .get, headers: .auth(writer, Self.publicHealth)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: base, method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }
}
