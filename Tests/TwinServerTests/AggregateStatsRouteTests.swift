import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// An aggregate's statistics over time (`GET /api/v1/aggregates/{id}/stats`, `twinbank population stats --json`).
@Suite struct AggregateStatsRouteTests {
    static let publicHealth = DashboardRouteTests.publicHealth

    @Test func servesThePeriods() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        try await f.test { client in
            // every member read 90 at midnight and 100, 110, 120, 130 an hour later
            try await client.execute(uri: "/api/v1/aggregates/town/stats?code=loinc:2339-0&every=1h", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["aggregate"] as? String == "town" && j["members"] as? Int == 4 && j["unit"] as? String == "mg/dL")
                let periods = try #require(j["periods"] as? [[String: Any]])
                #expect(periods.count == 2, "\(periods)")
                #expect(periods.first?["start"] as? String == "2026-02-01T00:00:00Z")
                #expect(periods.first?["end"] as? String == "2026-02-01T01:00:00Z")
                #expect(periods.compactMap { $0["members"] as? Int } == [4, 4])
                #expect(periods.compactMap { $0["mean"] as? Double } == [90, 115])
                #expect(periods.last?["min"] as? Double == 100 && periods.last?["max"] as? Double == 130)
            }
            // the default period (7d) from midnight; a span with periods without values
            try await client.execute(uri: "/api/v1/aggregates/town/stats?code=loinc:2339-0", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                let j = try json(r)
                #expect(j["every"] as? String == "7d")
                let periods = try #require(j["periods"] as? [[String: Any]])
                #expect(periods.count == 1 && periods.first?["values"] as? Int == 8 && periods.first?["mean"] as? Double == 102.5, "\(periods)")
            }
            try await client.execute(uri: "/api/v1/aggregates/town/stats?code=loinc:2339-0&every=1d&from=2026-01-30&to=2026-02-02", method: .get,
                                     headers: .auth(hana, Self.publicHealth)) { r throws in
                let periods = try #require(try json(r)["periods"] as? [[String: Any]])
                #expect(periods.compactMap { $0["values"] as? Int } == [0, 0, 8, 0], "\(periods)")
                #expect(periods.first?["mean"] == nil)
            }
            // a code no member has: no periods
            try await client.execute(uri: "/api/v1/aggregates/town/stats?code=loinc:4548-4", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .ok)
                #expect((try json(r)["periods"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func refusesBadParametersAndCallers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let hana = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.rs"])
        let hanaAsAdmin = try await f.token("hana", .admin)
        let writer = try await f.token("hana", .publicHealthOfficer, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        let base = "/api/v1/aggregates/town/stats"
        try await f.test { client in
            for (query, field) in [
                ("", "code"),
                ("?code=no%20code", "code"),
                ("?code=loinc:2339-0&every=fortnightly", "every"),
                ("?code=loinc:2339-0&every=0d", "every"),
                ("?code=loinc:2339-0&from=whenever", "from"),
                ("?code=loinc:2339-0&to=whenever", "to"),
                ("?code=loinc:2339-0&from=2026-02-02&to=2026-02-01", "to"),
                ("?code=loinc:2339-0&every=1s&from=2026-02-01&to=2026-02-02", "every"),  // 86,401 periods: over 10,000
                ("?code=loinc:2339-0&every=1s&from=2026-01-01&to=2026-03-01", "every"),  // over the library's 100,000
            ] {
                try await client.execute(uri: base + query, method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                    #expect(r.status == .badRequest, "\(query): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/aggregates/not%20an%20id/stats?code=loinc:2339-0", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "id")
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/stats?code=loinc:2339-0", method: .get, headers: .auth(hana, Self.publicHealth)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownAggregate")
            }
            // a clinician may not compute over an aggregate; a token claiming another role; a write-only scope; no token
            try await client.execute(uri: base + "?code=loinc:2339-0", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: base + "?code=loinc:2339-0", method: .get, headers: .auth(hanaAsAdmin, Self.publicHealth)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            try await client.execute(uri: base + "?code=loinc:2339-0", method: .get, headers: .auth(writer, Self.publicHealth)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: base + "?code=loinc:2339-0", method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }
}
