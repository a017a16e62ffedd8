import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// Commits and branches over HTTP (`POST /api/v1/commits`, `GET`/`POST /api/v1/branches`, as `twinbank commit` and
/// `twinbank branch`): made and listed, and refused with the field named, without a token, scope or role.
@Suite struct VersionControlRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String?, _ text: String,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let headers = token.map { HTTPFields.auth($0, jsonBody) } ?? HTTPFields([HTTPField(name: .contentType, value: "application/json")])
        try await client.execute(uri: uri, method: .post, headers: headers, body: body(text)) { r throws in try check(r) }
    }

    static func branches(_ client: any TestClientProtocol, _ uri: String, _ token: String) async throws -> (items: [[String: Any]], next: String?) {
        try await client.execute(uri: uri, method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let j = try json(r)
            return (try #require(j["items"] as? [[String: Any]]), j["nextCursor"] as? String)
        }
    }

    @Test func commitsAndBranches() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let first = try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"message":"three people"}"#)) { r throws -> String in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["author"] as? String == "alice", "the token's subject by default")
                #expect(j["message"] as? String == "three people")
                #expect(j["names"] as? [String] == ["main"])
                #expect((j["parents"] as? [String])?.isEmpty == true)
                return try #require(j["id"] as? String)
            }
            // nothing changed since
            try await Self.post(client, "/api/v1/commits", alice, #"{"message":"again"}"#) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["code"] as? String == "nothingToCommit")
            }
            // a new twin, committed under another author's name
            try await Self.post(client, "/api/v1/twins", alice, #"{"id":"p4","kind":"person"}"#) { r throws in #expect(r.status == .created) }
            let second = try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"message":"p4","author":"Dr Ames"}"#)) { r throws -> String in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["author"] as? String == "Dr Ames")
                #expect(j["parents"] as? [String] == [first])
                return try #require(j["id"] as? String)
            }
            try await client.execute(uri: "/api/v1/commits", method: .get, headers: .auth(bob)) { r throws in
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["id"] as? String } == [second, first])
            }

            // branches: main only, then one made at the first commit (not switched to)
            let only = try await Self.branches(client, "/api/v1/branches", bob)
            #expect(only.items.count == 1 && only.items[0]["name"] as? String == "main" && only.items[0]["current"] as? Bool == true)
            #expect((only.items[0]["head"] as? [String: Any])?["id"] as? String == second)
            try await Self.post(client, "/api/v1/branches", alice, #"{"name":"trial","from":"\#(first.prefix(12))"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["name"] as? String == "trial")
                #expect(j["current"] as? Bool == false)
                #expect((j["head"] as? [String: Any])?["id"] as? String == first)
            }
            try await Self.post(client, "/api/v1/branches", alice, #"{"name":"trial"}"#) { r throws in
                #expect(r.status == .conflict)
                let j = try json(r)
                #expect(j["code"] as? String == "branchExists")
                #expect(j["field"] as? String == "name")
            }
            let page1 = try await Self.branches(client, "/api/v1/branches?limit=1", bob)
            #expect(page1.items.compactMap { $0["name"] as? String } == ["main"])
            let page2 = try await Self.branches(client, "/api/v1/branches?limit=1&cursor=\(try #require(page1.next))", bob)
            #expect(page2.items.compactMap { $0["name"] as? String } == ["trial"] && page2.next == nil)
            #expect((page2.items[0]["head"] as? [String: Any])?["id"] as? String == first)
        }
    }

    @Test func refusesBadOrForbiddenCommitsAndBranches() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let writer = try await f.token("alice", .admin, scopes: ["user/*.c"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            for (text, field) in [(#"{"message":"  "}"#, "message"), (#"{}"#, "message"), (#"{"message":"m","author":""}"#, "author"), (#"{"message":7}"#, "message")] {
                try await Self.post(client, "/api/v1/commits", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text)")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            for (text, field) in [(#"{"name":"two words"}"#, "name"), (#"{}"#, "name"), (#"{"name":"b","from":" "}"#, "from")] {
                try await Self.post(client, "/api/v1/branches", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text)")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            for (query, field) in [("limit=0", "limit"), ("cursor=%25%25", "cursor")] {
                try await client.execute(uri: "/api/v1/branches?\(query)", method: .get, headers: .auth(alice)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query)")
                }
            }
            // no commit to start from
            try await Self.post(client, "/api/v1/branches", alice, #"{"name":"b","from":"0123abcd"}"#) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["field"] as? String == "from")
            }
            // no token
            try await Self.post(client, "/api/v1/commits", nil, #"{"message":"m"}"#) { r throws in #expect(r.status == .unauthorized) }
            try await Self.post(client, "/api/v1/branches", nil, #"{"name":"b"}"#) { r throws in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/branches", method: .get) { r throws in #expect(r.status == .unauthorized) }
            // scopes
            try await Self.post(client, "/api/v1/commits", reader, #"{"message":"m"}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await Self.post(client, "/api/v1/branches", reader, #"{"name":"b"}"#) { r throws in
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/branches", method: .get, headers: .auth(writer)) { r throws in
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            // the default policy lets a clinician read branches but not commit or branch
            try await Self.post(client, "/api/v1/commits", bob, #"{"message":"m"}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, "/api/v1/branches", bob, #"{"name":"b"}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/commits", method: .get, headers: .auth(alice)) { r throws in
                #expect((try json(r)["items"] as? [Any])?.isEmpty == true, "nothing was committed")
            }
        }
    }

    static func put(_ client: any TestClientProtocol, _ uri: String, _ token: String?, _ text: String,
                    _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let headers = token.map { HTTPFields.auth($0, jsonBody) } ?? HTTPFields([HTTPField(name: .contentType, value: "application/json")])
        try await client.execute(uri: uri, method: .put, headers: headers, body: body(text)) { r throws in try check(r) }
    }

    /// Tags (`GET`/`POST /api/v1/tags`, as `twinbank tag`) and the branch switch (`PUT /api/v1/branches/current`, as
    /// `twinbank switch`): a tag made, listed, made again on its commit, refused on another; a switch refused while a
    /// definition is uncommitted, forced with the discarded change named and kept; refusals named.
    @Test func tagsAndTheBranchSwitch() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let first = try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"message":"three people"}"#)) { r throws -> String in
                try #require(try json(r)["id"] as? String)
            }
            try await Self.post(client, "/api/v1/tags", alice, #"{"name":"baseline"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["name"] as? String == "baseline")
                #expect((j["commit"] as? [String: Any])?["id"] as? String == first)
            }
            try await Self.post(client, "/api/v1/tags", alice, #"{"name":"baseline","commit":"\#(first.prefix(12))"}"#) { r throws in
                #expect(r.status == .created, "the same commit again: \(String(buffer: r.body))")
            }
            try await Self.post(client, "/api/v1/twins", alice, #"{"id":"p4","kind":"person"}"#) { r throws in #expect(r.status == .created) }
            let second = try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.jsonBody), body: body(#"{"message":"p4"}"#)) { r throws -> String in
                try #require(try json(r)["id"] as? String)
            }
            try await Self.post(client, "/api/v1/tags", alice, #"{"name":"baseline"}"#) { r throws in
                #expect(r.status == .conflict)
                let j = try json(r)
                #expect(j["code"] as? String == "tagExists")
                #expect(j["field"] as? String == "name")
            }
            try await Self.post(client, "/api/v1/tags", alice, #"{"name":"v2","commit":"0123abcd"}"#) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["field"] as? String == "commit")
            }
            try await Self.post(client, "/api/v1/tags", alice, #"{"name":"v2"}"#) { r throws in #expect(r.status == .created) }
            let tags = try await Self.branches(client, "/api/v1/tags", bob)
            #expect(tags.items.compactMap { $0["name"] as? String } == ["baseline", "v2"])
            #expect(tags.items.compactMap { ($0["commit"] as? [String: Any])?["id"] as? String } == [first, second])
            let page = try await Self.branches(client, "/api/v1/tags?limit=1", bob)
            #expect(page.items.count == 1 && page.next != nil)

            // a branch at the baseline; an uncommitted twin refuses the switch; forced, it is discarded and kept
            try await Self.post(client, "/api/v1/branches", alice, #"{"name":"trial","from":"baseline"}"#) { r throws in #expect(r.status == .created) }
            try await Self.post(client, "/api/v1/twins", alice, #"{"id":"p5","kind":"person"}"#) { r throws in #expect(r.status == .created) }
            try await Self.put(client, "/api/v1/branches/current", alice, #"{"name":"trial"}"#) { r throws in
                #expect(r.status == .conflict)
                let j = try json(r)
                #expect(j["code"] as? String == "uncommittedChanges")
                #expect((j["message"] as? String)?.contains("twin/p5") == true, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p5", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .ok, "a refused switch changed nothing") }
            try await Self.put(client, "/api/v1/branches/current", alice, #"{"name":"trial","force":true}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["from"] as? String == "main" && j["to"] as? String == "trial")
                #expect(j["commit"] as? String == first)
                #expect(j["discarded"] as? [String] == ["added twin/p5"])
                #expect((j["discardedReference"] as? String)?.hasPrefix("discarded/main@") == true)
            }
            for twin in ["p4", "p5"] {
                try await client.execute(uri: "/api/v1/twins/\(twin)", method: .get, headers: .auth(alice)) { r throws in
                    #expect(r.status == .notFound, "\(twin) is not on the baseline")
                }
            }
            let now = try await Self.branches(client, "/api/v1/branches", bob)
            #expect(now.items.first { $0["current"] as? Bool == true }?["name"] as? String == "trial")
            try await Self.put(client, "/api/v1/branches/current", alice, #"{"name":"main"}"#) { r throws in #expect(r.status == .ok) }
            try await client.execute(uri: "/api/v1/twins/p4", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .ok, "back on main") }

            // refusals
            try await Self.put(client, "/api/v1/branches/current", alice, #"{"name":"nope"}"#) { r throws in
                #expect(r.status == .notFound)
                let j = try json(r)
                #expect(j["code"] as? String == "unknownBranch" && j["field"] as? String == "name")
            }
            for text in [#"{"name":"two words"}"#, #"{}"#, #"{"name":"trial","force":"yes"}"#] {
                try await Self.put(client, "/api/v1/branches/current", alice, text) { r throws in #expect(r.status == .badRequest, "\(text)") }
            }
            try await Self.put(client, "/api/v1/branches/current", bob, #"{"name":"trial"}"#) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, "/api/v1/tags", bob, #"{"name":"v3"}"#) { r throws in
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.put(client, "/api/v1/branches/current", nil, #"{"name":"trial"}"#) { r throws in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/tags", method: .get) { r throws in #expect(r.status == .unauthorized) }
            let still = try await Self.branches(client, "/api/v1/branches", alice)
            #expect(still.items.first { $0["current"] as? Bool == true }?["name"] as? String == "main", "no refused switch moved the bank")
        }
    }
}
