import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinGovernance
import TwinServer

@Suite struct RouteTests {
    @Test func healthAnswersWithoutAToken() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try await f.test { client in
            try await client.execute(uri: "/health", method: .get) { r throws in
                #expect(r.status == .ok)
                #expect(try json(r)["status"] as? String == "ok")
            }
        }
    }

    @Test func everyOtherRouteNeedsAValidToken() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let foreign = try await TokenAuthority.hs256(key: [UInt8](repeating: 9, count: 32))
            .issue(subject: "alice", role: .admin, scopes: [try SMARTScope(parsing: "user/*.rs")], lifetime: 3600)
        let expired = try await f.token("alice", .admin, lifetime: 60, now: Date().addingTimeInterval(-3600))
        try await f.test { client in
            let cases: [(HTTPFields, String)] = [(HTTPFields(), "no token"), (.auth(foreign), "signature"), (.auth(expired), "expired"),
                                                 (.auth("not.a.jwt"), "malformed"), ([.authorization: "Basic YWxpY2U6eA=="], "not bearer")]
            for (headers, why) in cases {
                for uri in ["/api/v1/twins", "/api/v1/twins/p1", "/api/v1/twins/p1/events", "/api/v1/twins/p1/state", "/metrics"] {
                    try await client.execute(uri: uri, method: .get, headers: headers) { r throws in
                        #expect(r.status == .unauthorized, "\(uri) with \(why)")
                        #expect(try json(r)["code"] as? String == "unauthorized", "\(uri) with \(why)")
                        #expect(r.headers[.wwwAuthenticate] != nil)
                    }
                }
            }
            try await client.execute(uri: "/api/v1/twins", method: .get, headers: .auth(expired)) { r throws in
                #expect((try json(r)["message"] as? String)?.contains("expired") == true)
            }
        }
    }

    @Test func listsTwinsAPageAtATime() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("alice", .admin)
        try await f.test { client in
            let cursor = try await client.execute(uri: "/api/v1/twins?limit=2", method: .get, headers: .auth(token)) { r throws -> String in
                #expect(r.status == .ok)
                let j = try json(r)
                #expect((j["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p1", "p2"])
                return try #require(j["nextCursor"] as? String)
            }
            try await client.execute(uri: "/api/v1/twins?limit=2&cursor=\(cursor)", method: .get, headers: .auth(token)) { r throws in
                let j = try json(r)
                #expect((j["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p3"])
                #expect(j["nextCursor"] == nil)
            }
            for (query, field) in [("limit=0", "limit"), ("limit=5000", "limit"), ("cursor=%21%21", "cursor"), ("limit=abc", "limit")] {
                try await client.execute(uri: "/api/v1/twins?\(query)", method: .get, headers: .auth(token)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
        }
    }

    @Test func readsATwinWithItsETag() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        try await f.test { client in
            let etag = try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(token)) { r throws -> String in
                #expect(r.status == .ok)
                let j = try json(r)
                #expect(j["id"] as? String == "p1")
                #expect(j["kind"] as? String == "person")
                #expect(j["name"] as? String == "Person p1")
                let etag = try #require(r.headers[.eTag])
                // a quoted string as RFC 9110 spells it, not percent-encoded
                #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.contains("%"), "\(etag)")
                return etag
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(token, [.ifNoneMatch: etag])) { r throws in
                #expect(r.status == .notModified)
                #expect(r.headers[.eTag] == etag)
                #expect(r.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/v1/twins/p2", method: .get, headers: .auth(token, [.ifNoneMatch: etag])) { r throws in
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] != etag)
            }
            try await client.execute(uri: "/api/v1/twins/nobody", method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            try await client.execute(uri: "/api/v1/twins/no%20spaces", method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "id")
            }
        }
    }

    @Test func queriesTheThreadWithTimesAndPages() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        try await f.test { client in
            let cursor = try await client.execute(uri: "/api/v1/twins/p1/events?limit=1", method: .get, headers: .auth(token)) { r throws -> String in
                #expect(r.status == .ok)
                let j = try json(r)
                let items = try #require(j["items"] as? [[String: Any]])
                #expect(items.count == 1)
                #expect((items[0]["value"] as? [String: Any])?["value"] as? Double == 95)
                #expect((items[0]["value"] as? [String: Any])?["type"] as? String == "quantity")
                #expect((items[0]["effective"] as? [String: Any])?["start"] as? String == "2026-01-01T08:00:00Z")
                return try #require(j["nextCursor"] as? String)
            }
            try await client.execute(uri: "/api/v1/twins/p1/events?limit=1&cursor=\(cursor)", method: .get, headers: .auth(token)) { r throws in
                let j = try json(r)
                let items = try #require(j["items"] as? [[String: Any]])
                #expect((items.first?["value"] as? [String: Any])?["value"] as? Double == 140)
                #expect(j["nextCursor"] == nil)
            }
            try await client.execute(uri: "/api/v1/twins/p1/events?asOf=2026-01-01T08:30:00Z&code=http://loinc.org%7C2339-0", method: .get, headers: .auth(token)) { r throws in
                #expect(try (json(r)["items"] as? [Any])?.count == 1)
            }
            try await client.execute(uri: "/api/v1/twins/p1/events?from=2026-01-01T08:30:00Z&category=observation", method: .get, headers: .auth(token)) { r throws in
                #expect(try (json(r)["items"] as? [Any])?.count == 1)
            }
            // known before anything was recorded: nothing
            try await client.execute(uri: "/api/v1/twins/p1/events?knownAt=2020-01-01T00:00:00Z", method: .get, headers: .auth(token)) { r throws in
                #expect(try (json(r)["items"] as? [Any])?.count == 0)
            }
            for (query, field) in [("from=yesterdayish", "from"), ("knownAt=2026-13-01", "knownAt"), ("code=nocolon", "code"), ("category=gossip", "category")] {
                try await client.execute(uri: "/api/v1/twins/p1/events?\(query)", method: .get, headers: .auth(token)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/nobody/events", method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func answersTheStateAsOfATime() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        try await f.test { client in
            for (asOf, value) in [("2026-01-01T08:30:00Z", 95.0), ("2026-01-01T09:30:00Z", 140.0)] {
                try await client.execute(uri: "/api/v1/twins/p1/state?asOf=\(asOf)", method: .get, headers: .auth(token)) { r throws in
                    #expect(r.status == .ok)
                    let events = try #require(try json(r)["events"] as? [[String: Any]])
                    #expect(events.count == 1)
                    #expect((events.first?["value"] as? [String: Any])?["value"] as? Double == value)
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1/state?asOf=2025-01-01", method: .get, headers: .auth(token)) { r throws in
                #expect(try (json(r)["events"] as? [Any])?.count == 0)
            }
            try await client.execute(uri: "/api/v1/twins/nobody/state", method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .notFound)
            }
        }
    }
}
