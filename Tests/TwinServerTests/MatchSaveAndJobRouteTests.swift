import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// Matching that saves the matched twins as an aggregate (`POST /api/v1/match?saveAggregate=`, `match
/// --save-aggregate`) and matching as a job (`POST /api/v1/match/jobs`).
@Suite struct MatchSaveAndJobRouteTests {
    static let jsonBody = MatchRouteTests.jsonBody
    static let criteria = MatchRouteTests.criteria

    /// The members of an aggregate, as the route lists them.
    static func members(_ client: any TestClientProtocol, _ id: String, _ token: String) async throws -> [String] {
        try await client.execute(uri: "/api/v1/aggregates/\(id)/members", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return (try json(r)["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
    }

    @Test func savesTheMatchedTwinsAsAnAggregate() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/match?aggregate=town&asOf=2026-03-01&saveAggregate=women", method: .post,
                                     headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["eligible"] as? [String] == ["d1", "d2", "d3"])
                let saved = try #require(j["savedAggregate"] as? [String: Any], "\(j)")
                #expect(saved["id"] as? String == "women")
                #expect(saved["members"] as? Int == 3)
            }
            #expect(try await Self.members(client, "women", alice) == ["d1", "d2", "d3"])
            // the id is taken: 409 naming saveAggregate, the aggregate unchanged
            try await client.execute(uri: "/api/v1/match?asOf=2026-03-01&saveAggregate=women&includePossible=true", method: .post,
                                     headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .conflict, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "saveAggregate")
            }
            #expect(try await Self.members(client, "women", alice) == ["d1", "d2", "d3"])
            // with replace, and the possibly eligible (p1-p3 record no sex): redefined
            try await client.execute(uri: "/api/v1/match?asOf=2026-03-01&saveAggregate=women&includePossible=true&replace=true", method: .post,
                                     headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let saved = try #require(try json(r)["savedAggregate"] as? [String: Any])
                #expect(saved["replaced"] as? Bool == true)
            }
            let now = try await Self.members(client, "women", alice)
            #expect(Set(now).isSuperset(of: ["d1", "d2", "d3", "p1", "p2", "p3"]) && !now.contains("d4"), "\(now)")
            // without saveAggregate the answer is 200 and nothing is saved
            try await client.execute(uri: "/api/v1/match?asOf=2026-03-01", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .ok)
                #expect(try json(r)["savedAggregate"] == nil)
            }
        }
    }

    @Test func refusesSavingBeforeMatching() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try DashboardRouteTests.people(bank)
        // a researcher for research may match (the policy) but not write an aggregate: set up below
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let claimsAdmin = try await f.token("bob", .admin)
        try await f.test { client in
            for (uri, field) in [
                ("/api/v1/match?saveAggregate=not%20an%20id", "saveAggregate"),
                ("/api/v1/match?includePossible=true", "includePossible"),
                ("/api/v1/match?replace=true", "replace"),
                ("/api/v1/match?saveAggregate=x&replace=perhaps", "replace"),
                ("/api/v1/match/jobs?saveAggregate=not%20an%20id", "saveAggregate"),
                ("/api/v1/match/jobs?asOf=whenever", "asOf"),
            ] {
                try await client.execute(uri: uri, method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                    #expect(r.status == .badRequest, "\(uri): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(uri): \(String(buffer: r.body))")
                }
            }
            // saving writes: a read-only scope is refused; a token claiming a role the policy does not give
            try await client.execute(uri: "/api/v1/match?saveAggregate=w2", method: .post, headers: .auth(reader, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/match?saveAggregate=w2", method: .post, headers: .auth(claimsAdmin, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/match?saveAggregate=town", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["code"] as? String == "duplicateAggregate")
            }
            // nothing saved
            try await client.execute(uri: "/api/v1/aggregates/w2/members", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func matchesAsAJob() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/match/jobs?asOf=2026-03-01&saveAggregate=women", method: .post,
                                                    headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["kind"] as? String == "match")
                #expect(j["target"] as? String == "bank")
                return try #require(r.headers[.location])
            }
            let job = try await JobRouteTests.finished(client, location, alice)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            let report = try #require(job["match"] as? [String: Any], "\(job)")
            #expect(report["eligible"] as? [String] == ["d1", "d2", "d3"])
            #expect(Set(report["possiblyEligible"] as? [String] ?? []).isSuperset(of: ["p1", "p2", "p3"]))
            #expect((report["savedAggregate"] as? [String: Any])?["members"] as? Int == 3)
            // the same as the immediate answer
            try await client.execute(uri: "/api/v1/match?asOf=2026-03-01", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                let j = try json(r)
                #expect(j["eligible"] as? [String] == report["eligible"] as? [String])
                #expect(j["possiblyEligible"] as? [String] == report["possiblyEligible"] as? [String])
                #expect((j["twins"] as? [Any])?.count == (report["twins"] as? [Any])?.count)
            }
            #expect(try await Self.members(client, "women", alice) == ["d1", "d2", "d3"])
        }
    }

    @Test func refusesAJobBeforeQueueing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let writer = try await f.token("alice", .admin, scopes: ["user/*.c"])
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        try await f.test { client in
            for text in [#"{"criteria":[{"type":"sex"}]}"#, "[1,2]"] {
                try await client.execute(uri: "/api/v1/match/jobs", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == "body")
                }
            }
            try await client.execute(uri: "/api/v1/match/jobs?aggregate=nowhere", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "aggregate")
            }
            try await client.execute(uri: "/api/v1/match/jobs?saveAggregate=town", method: .post, headers: .auth(alice, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .conflict, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "saveAggregate")
            }
            try await client.execute(uri: "/api/v1/match/jobs", method: .post, headers: .auth(bob, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/match/jobs", method: .post, headers: .auth(writer, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/match/jobs?saveAggregate=w2", method: .post, headers: .auth(reader, Self.jsonBody), body: body(Self.criteria)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/match/jobs", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(Self.criteria)) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", alice).ids.isEmpty)
        }
    }
}
