import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// Twin definitions (create, update under `If-Match`, read at a commit), forks, the commit log and aggregates.
@Suite struct DefinitionRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// The fixture's bank opened beside the server, ungoverned (as its maker), to set up commits and aggregates.
    static func bank(_ f: ServerFixture) throws -> Bank {
        Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
    }

    @Test func createsATwinAndRefusesWhatItCannot() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let mallory = try await f.token("mallory", .clinician)
        let draft = #"{"id":"p9","kind":"person","attributes":{"sex":{"type":"concept","system":"http://hl7.org/fhir/administrative-gender","code":"female"},"weight":{"type":"quantity","value":72,"unit":"kg"}}}"#
        try await f.test { client in
            let etag = try await client.execute(uri: "/api/v1/twins", method: .post, headers: .auth(bob, Self.jsonBody), body: body(draft)) { r throws -> String in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                #expect(r.headers[.location] == "/api/v1/twins/p9")
                let j = try json(r)
                #expect(j["id"] as? String == "p9")
                #expect(((j["attributes"] as? [String: Any])?["weight"] as? [String: Any])?["value"] as? Double == 72)
                return try #require(r.headers[.eTag])
            }
            try await client.execute(uri: "/api/v1/twins/p9", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] == etag, "the ETag of the created twin is the one a read gives")
            }
            // the id is taken: 409, the twin unchanged
            try await client.execute(uri: "/api/v1/twins", method: .post, headers: .auth(bob, Self.jsonBody), body: body(#"{"id":"p1","kind":"organ"}"#)) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["code"] as? String == "duplicateTwin")
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in
                #expect(try json(r)["kind"] as? String == "person")
            }
            let bad: [(String, String)] = [
                (#"{"id":"no spaces","kind":"person"}"#, "id"),
                (#"{"id":"p10","kind":"gadget"}"#, "kind"),
                (#"{"id":"p10","kind":"person","parts":[{"role":"liver","twin":"nobody"}]}"#, "parts"),
                (#"{"id":"p10","kind":"person","origin":"yesterdayish"}"#, "origin"),
                (#"{"kind":"person"}"#, "id"),
                ("{not json", "body"),
            ]
            for (text, field) in bad {
                try await client.execute(uri: "/api/v1/twins", method: .post, headers: .auth(bob, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    if !field.isEmpty { #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))") }
                }
            }
            try await client.execute(uri: "/api/v1/twins/p10", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound, "a refused create wrote nothing")
            }
            try await client.execute(uri: "/api/v1/twins", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]), body: body(draft)) { r throws in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/twins", method: .post, headers: .auth(reader, Self.jsonBody), body: body(#"{"id":"p11","kind":"person"}"#)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins", method: .post, headers: .auth(mallory, Self.jsonBody), body: body(#"{"id":"p11","kind":"person"}"#)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
        }
    }

    @Test func updatesATwinOnlyFromItsCurrentETag() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let mallory = try await f.token("mallory", .clinician)
        let change = #"{"kind":"person","attributes":{"name":{"type":"text","value":"Renamed"}}}"#
        try await f.test { client in
            let first = try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in try #require(r.headers[.eTag]) }
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody), body: body(change)) { r throws in
                #expect(r.status == .preconditionRequired, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "If-Match")
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: "\"0123\""]) { a, _ in a }), body: body(change)) { r throws in
                #expect(r.status == .preconditionFailed)
                #expect(try json(r)["code"] as? String == "preconditionFailed")
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.headers[.eTag] == first, "a refused update wrote nothing")
                #expect(try json(r)["name"] as? String == "Person p1")
            }
            let second = try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: first]) { a, _ in a }), body: body(change)) { r throws -> String in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(try json(r)["name"] as? String == "Renamed")
                let etag = try #require(r.headers[.eTag])
                #expect(etag != first)
                return etag
            }
            // If-Match compares strongly: the current ETag marked weak does not match
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: "W/" + second]) { a, _ in a }), body: body(change)) { r throws in
                #expect(r.status == .preconditionFailed)
            }
            // the first ETag is stale now
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: first]) { a, _ in a }), body: body(change)) { r throws in
                #expect(r.status == .preconditionFailed)
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.headers[.eTag] == second)
            }
            try await client.execute(uri: "/api/v1/twins/nobody", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: "*"]) { a, _ in a }), body: body(change)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(bob, Self.jsonBody.merging([.ifMatch: second]) { a, _ in a }), body: body(#"{"attributes":{}}"#)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "kind")
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(mallory, Self.jsonBody.merging([.ifMatch: second]) { a, _ in a }), body: body(change)) { r throws in
                #expect(r.status == .forbidden)
            }
        }
    }

    @Test func readsATwinAtACommitAndListsCommits() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try Self.bank(f)
        let c1 = try bank.commit(message: "first", author: "alice")
        var t = try bank.twin("p1").twin
        t.attributes["name"] = .text("Later")
        try bank.updateTwin(t)
        let c2 = try bank.commit(message: "second", author: "alice")
        let bob = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1?at=\(c1.id.hex)", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok)
                #expect(try json(r)["name"] as? String == "Person p1")
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in
                #expect(try json(r)["name"] as? String == "Later")
            }
            try await client.execute(uri: "/api/v1/twins/p1?at=feedfacefeedface", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["field"] as? String == "at")
            }
            let cursor = try await client.execute(uri: "/api/v1/commits?limit=1", method: .get, headers: .auth(bob)) { r throws -> String in
                #expect(r.status == .ok)
                let j = try json(r)
                let items = try #require(j["items"] as? [[String: Any]])
                #expect(items.map { $0["id"] as? String } == [c2.id.hex])
                #expect(items.first?["message"] as? String == "second")
                #expect((items.first?["parents"] as? [String]) == [c1.id.hex])
                return try #require(j["nextCursor"] as? String)
            }
            try await client.execute(uri: "/api/v1/commits?limit=1&cursor=\(cursor)", method: .get, headers: .auth(bob)) { r throws in
                let j = try json(r)
                #expect((j["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [c1.id.hex])
                #expect(j["nextCursor"] == nil)
            }
            try await client.execute(uri: "/api/v1/commits?from=nosuchbranch", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["field"] as? String == "from")
            }
            try await client.execute(uri: "/api/v1/diff?from=\(c1.id.hex)&to=\(c2.id.hex)", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["from"] as? String == c1.id.hex)
                let change = try #require((j["changed"] as? [[String: Any]])?.first)
                #expect(change["path"] as? String == "twin/p1")
                let attribute = try #require((change["attributes"] as? [[String: Any]])?.first)
                #expect(attribute["key"] as? String == "name")
                #expect((attribute["old"] as? [String: Any])?["value"] as? String == "Person p1")
                #expect((attribute["new"] as? [String: Any])?["value"] as? String == "Later")
            }
            try await client.execute(uri: "/api/v1/diff?from=HEAD~1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok, "to defaults to HEAD: \(String(buffer: r.body))")
            }
            for (query, status, field) in [("", HTTPResponse.Status.badRequest, "from"), ("from=nosuch", .notFound, "from"), ("from=HEAD&to=nosuch", .notFound, "to")] {
                try await client.execute(uri: "/api/v1/diff?\(query)", method: .get, headers: .auth(bob)) { r throws in
                    #expect(r.status == status, "\(query): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(query)")
                }
            }
            try await client.execute(uri: "/api/v1/commits?cursor=%21", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/commits", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }

    @Test func forksATwinAndListsItsForks() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        // the default policy lets the admin fork (a clinician may not: see the 403 below)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"p1-what-if","at":"2026-01-01T08:30:00Z"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                #expect(r.headers[.location] == "/api/v1/twins/p1-what-if")
                let j = try json(r)
                #expect(j["forkOf"] as? String == "p1")
                #expect(j["forkedAt"] as? String == "2026-01-01T08:30:00Z")
            }
            // the fork's thread is the parent's up to the fork point
            try await client.execute(uri: "/api/v1/twins/p1-what-if/events", method: .get, headers: .auth(bob)) { r throws in
                #expect(try (json(r)["items"] as? [Any])?.count == 1)
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .get, headers: .auth(reader)) { r throws in
                #expect(r.status == .ok)
                #expect((try json(r)["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p1-what-if"])
            }
            try await client.execute(uri: "/api/v1/twins/p2/forks", method: .get, headers: .auth(reader)) { r throws in
                #expect((try json(r)["items"] as? [Any])?.count == 0)
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"p2","at":"2026-01-01T08:30:00Z"}"#)) { r throws in
                #expect(r.status == .conflict, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"p1-b","at":"whenever"}"#)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "at")
            }
            for uri in ["/api/v1/twins/nobody/forks"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(reader)) { r throws in #expect(r.status == .notFound) }
                try await client.execute(uri: uri, method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"id":"x1","at":"2026-01-01T08:30:00Z"}"#)) { r throws in
                    #expect(r.status == .notFound)
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .post, headers: .auth(reader, Self.jsonBody),
                                     body: body(#"{"id":"p1-c","at":"2026-01-01T08:30:00Z"}"#)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .post, headers: .auth(bob, Self.jsonBody),
                                     body: body(#"{"id":"p1-d","at":"2026-01-01T08:30:00Z"}"#)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .get, headers: .auth(mallory)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/twins/p1/forks", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }

    @Test func listsAggregatesAndTheirMembers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try Self.bank(f)
        try bank.createAggregate("pair", members: ["p1", "p2"], description: "two of them")
        try bank.createAggregate("glucose-high", where: "loinc:2339-0 > 100 mg/dL")
        let bob = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/aggregates", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["id"] as? String } == ["glucose-high", "pair"])
                #expect(items.last?["members"] as? [String] == ["p1", "p2"])
                #expect(items.first?["query"] as? String != nil)
            }
            let cursor = try await client.execute(uri: "/api/v1/aggregates/pair/members?limit=1", method: .get, headers: .auth(bob)) { r throws -> String in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["total"] as? Int == 2)
                #expect((j["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p1"])
                return try #require(j["nextCursor"] as? String)
            }
            try await client.execute(uri: "/api/v1/aggregates/pair/members?limit=1&cursor=\(cursor)", method: .get, headers: .auth(bob)) { r throws in
                #expect((try json(r)["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p2"])
            }
            // a query, evaluated now: p1's latest glucose is 140 mg/dL; p2 and p3 have none (unknown, not members)
            try await client.execute(uri: "/api/v1/aggregates/glucose-high/members", method: .get, headers: .auth(bob)) { r throws in
                let j = try json(r)
                #expect((j["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p1"], "\(j)")
                #expect(j["unknown"] as? Int == 2)
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/members", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownAggregate")
            }
            try await client.execute(uri: "/api/v1/aggregates/bad%20id/members", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/aggregates/pair/members", method: .get, headers: .auth(mallory)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/aggregates", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
