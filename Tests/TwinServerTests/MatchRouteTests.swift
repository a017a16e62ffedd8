import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// Clinical-trial matching (`POST /api/v1/match`, `twinbank match --json`): a criteria document over the bank or an
/// aggregate, answered at once with each twin's verdict and each criterion's outcome and reason.
@Suite struct MatchRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let criteria = #"{"id":"t1","title":"women over 18","criteria":[{"type":"sex","values":["female"]},{"type":"age","min":18}]}"#

    @Test func matchesTheBankOrAnAggregate() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            // the aggregate: three women born 1960-1980, one man
            try await client.execute(uri: "/api/v1/match?aggregate=town&asOf=2026-03-01", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(Self.criteria)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["trial"] as? String == "t1")
                #expect(j["title"] as? String == "women over 18")
                #expect((j["asOf"] as? String)?.hasPrefix("2026-03-01") == true, "\(j["asOf"] ?? "")")
                #expect((j["criteria"] as? [String])?.count == 3, "\(j["criteria"] ?? "")")  // with the implicit alive
                #expect(j["eligible"] as? [String] == ["d1", "d2", "d3"])
                #expect((j["possiblyEligible"] as? [String])?.isEmpty == true)
                let twins = try #require(j["twins"] as? [[String: Any]])
                #expect(twins.compactMap { $0["twin"] as? String } == ["d1", "d2", "d3", "d4"])
                let d4 = twins[3]
                #expect(d4["verdict"] as? String == "notEligible")
                let sex = try #require((d4["criteria"] as? [[String: Any]])?.first)
                #expect(sex["outcome"] as? String == "not-met")
                #expect((sex["reason"] as? String)?.isEmpty == false)
            }
            // the whole bank: p1-p3 record no sex or birth date (possibly eligible)
            try await client.execute(uri: "/api/v1/match?asOf=2026-03-01", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["eligible"] as? [String] == ["d1", "d2", "d3"])
                #expect(Set(j["possiblyEligible"] as? [String] ?? []).isSuperset(of: ["p1", "p2", "p3"]))
            }
        }
    }

    @Test func refusesBadCriteriaAndCallersTheGateRefuses() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let writer = try await f.token("alice", .admin, scopes: ["user/*.c"])
        try await f.test { client in
            for (uri, text, field) in [
                ("/api/v1/match", #"{"criteria":[{"type":"sex"}]}"#, "body"),
                ("/api/v1/match", #"{"criteria":[{"type":"banana"}]}"#, "body"),
                ("/api/v1/match", #"{"id":"t"}"#, "body"),
                ("/api/v1/match", #"[1,2]"#, "body"),
                ("/api/v1/match?asOf=whenever", Self.criteria, "asOf"),
                ("/api/v1/match?aggregate=not%20an%20id", Self.criteria, "aggregate"),
            ] {
                try await client.execute(uri: uri, method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(uri) \(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(uri) \(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/match?aggregate=nowhere", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "aggregate")
            }
            // the default policy gives matching to the admin only; a token that may not read; no token
            try await client.execute(uri: "/api/v1/match", method: .post, headers: .auth(bob, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/match", method: .post, headers: .auth(writer, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/match", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.criteria)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
