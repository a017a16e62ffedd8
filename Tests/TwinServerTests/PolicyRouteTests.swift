import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinGovernance
import TwinServer

/// `policy show`, `set-role`, `allow`/`deny` and `configure` as routes, for the admin only; the gate applies a change
/// at once.
@Suite struct PolicyRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String, _ text: String) async throws
        -> (HTTPResponse.Status, [String: Any], String) {
        try await client.execute(uri: uri, method: method, headers: .auth(token, jsonBody), body: body(text)) { r throws in
            let t = String(buffer: r.body)
            return (r.status, (try? JSONSerialization.jsonObject(with: Data(t.utf8))) as? [String: Any] ?? [:], t)
        }
    }

    static func policy(_ client: any TestClientProtocol, _ token: String) async throws -> [String: Any] {
        try await client.execute(uri: "/api/v1/policy", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try json(r)
        }
    }

    @Test func showsAndChangesThePolicy() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let shown = try await Self.policy(client, alice)
            #expect(shown["stored"] as? Bool == true && shown["owner"] as? String == "alice")
            let callers = try #require(shown["callers"] as? [String: [String: Any]])
            #expect(callers["alice"]?["role"] as? String == "admin" && callers["bob"]?["role"] as? String == "clinician")
            #expect((shown["grants"] as? [Any])?.count == Policy.defaultGrants.count)
            #expect(shown["optIn"] as? [String] == ["commercial", "research"])
            #expect((shown["privacy"] as? [String: Any])?["epsilonPerAggregate"] as? Double == 1)
            #expect((shown["privacy"] as? [String: Any])?["budgetWindowDays"] as? Int == 30)

            var (status, j, text) = try await Self.send(client, .put, "/api/v1/policy/roles/carol", alice,
                                                        #"{"role":"researcher","organisation":"acme","scopes":["read","Query"],"twins":["p1"]}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["id"] as? String == "carol" && j["role"] as? String == "researcher" && j["organisation"] as? String == "acme")
            #expect(j["scopes"] as? [String] == ["query", "read"] && j["twins"] as? [String] == ["p1"])
            #expect(((try await Self.policy(client, alice))["callers"] as? [String: Any])?["carol"] != nil)

            // a clinician may read p1 for treatment until a deny line says otherwise
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .ok) }
            (status, j, text) = try await Self.send(client, .post, "/api/v1/policy/rules", alice, #"{"effect":"deny","role":"clinician","actions":["read"]}"#)
            #expect(status == .created, "\(text)")
            let grants = try #require(j["grants"] as? [[String: Any]])
            #expect(grants.count == Policy.defaultGrants.count + 1)
            let line = try #require(grants.last)
            #expect(line["effect"] as? String == "deny" && line["role"] as? String == "clinician" && line["actions"] as? [String] == ["read"])
            #expect(line["subject"] as? String == "any" && (line["purposes"] as? [String])?.isEmpty == true)
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden, "the deny line applies at once: \(String(buffer: r.body))")
            }
            // the same line again is not added twice
            (status, j, _) = try await Self.send(client, .post, "/api/v1/policy/rules", alice, #"{"effect":"deny","role":"clinician","actions":["read"]}"#)
            #expect(status == .created && (j["grants"] as? [Any])?.count == Policy.defaultGrants.count + 1)
            (status, j, text) = try await Self.send(client, .post, "/api/v1/policy/rules", alice,
                                                    #"{"effect":"permit","role":"patient","actions":["*"],"purposes":["research"],"ownTwins":true}"#)
            #expect(status == .created, "\(text)")
            let own = try #require((j["grants"] as? [[String: Any]])?.last)
            #expect(own["actions"] as? [String] == ["*"] && own["purposes"] as? [String] == ["research"] && own["subject"] as? String == "linked")

            (status, j, text) = try await Self.send(client, .patch, "/api/v1/policy/configuration", alice,
                                                    #"{"optIn":["quality-improvement"],"epsilon":2.5,"budgetWindowDays":7}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["optIn"] as? [String] == ["commercial", "quality-improvement", "research"])
            #expect((j["privacy"] as? [String: Any])?["epsilonPerAggregate"] as? Double == 2.5)
            #expect((j["privacy"] as? [String: Any])?["budgetWindowDays"] as? Int == 7)
            (status, j, text) = try await Self.send(client, .patch, "/api/v1/policy/configuration", alice, #"{"optOut":["research"]}"#)
            #expect(status == .ok, "\(text)")
            #expect(j["optIn"] as? [String] == ["commercial", "quality-improvement"])
            #expect((j["privacy"] as? [String: Any])?["epsilonPerAggregate"] as? Double == 2.5, "fields not given keep their value")
        }
    }

    @Test func refusedChangesChangeNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let claimed = try await f.token("bob", .admin)
        let readOnly = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let writeOnly = try await f.token("alice", .admin, scopes: ["user/*.cu"])
        try await f.test { client in
            let before = try await Self.policy(client, alice)
            let cases: [(HTTPRequest.Method, String, String, HTTPResponse.Status, String)] = [
                (.put, "/api/v1/policy/roles/carol", #"{"role":"wizard"}"#, .badRequest, "role"),
                (.put, "/api/v1/policy/roles/carol", #"{"organisation":"acme"}"#, .badRequest, "role"),
                (.put, "/api/v1/policy/roles/carol", #"{"role":"clinician","scopes":["read","juggle"]}"#, .badRequest, "scopes[1]"),
                (.put, "/api/v1/policy/roles/carol", #"{"role":"patient","twins":["-p1"]}"#, .badRequest, "twins[0]"),
                (.put, "/api/v1/policy/roles/carol", #"{"role":"patient","organisation":" "}"#, .badRequest, "organisation"),
                (.put, "/api/v1/policy/roles/alice", #"{"role":"clinician"}"#, .conflict, "role"),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"wizard","actions":["read"]}"#, .badRequest, "role"),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"clinician","actions":[]}"#, .badRequest, "actions"),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"clinician","actions":["juggle"]}"#, .badRequest, "actions[0]"),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"clinician","actions":["read"],"purposes":["gossip"]}"#, .badRequest, "purposes[0]"),
                (.post, "/api/v1/policy/rules", #"{"effect":"maybe","role":"clinician","actions":["read"]}"#, .badRequest, "effect"),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"clinician"}"#, .badRequest, "actions"),
                (.patch, "/api/v1/policy/configuration", #"{}"#, .badRequest, "body"),
                (.patch, "/api/v1/policy/configuration", #"{"optIn":["gossip"]}"#, .badRequest, "optIn[0]"),
                (.patch, "/api/v1/policy/configuration", #"{"optIn":["research"],"optOut":["research"]}"#, .badRequest, "optOut"),
                (.patch, "/api/v1/policy/configuration", #"{"epsilon":0}"#, .badRequest, "epsilon"),
                (.patch, "/api/v1/policy/configuration", #"{"epsilon":-1.5}"#, .badRequest, "epsilon"),
                (.patch, "/api/v1/policy/configuration", #"{"budgetWindowDays":0}"#, .badRequest, "budgetWindowDays"),
                (.patch, "/api/v1/policy/configuration", #"{"budgetWindowDays":"week"}"#, .badRequest, "budgetWindowDays"),
            ]
            for (method, uri, text, status, field) in cases {
                let (s, j, t) = try await Self.send(client, method, uri, alice, text)
                #expect(s == status, "\(uri) \(text): \(t)")
                #expect(j["field"] as? String == field, "\(uri) \(text): \(t)")
            }
            let writes: [(HTTPRequest.Method, String, String)] = [
                (.put, "/api/v1/policy/roles/bob", #"{"role":"admin"}"#),
                (.post, "/api/v1/policy/rules", #"{"effect":"permit","role":"clinician","actions":["*"]}"#),
                (.patch, "/api/v1/policy/configuration", #"{"epsilon":100}"#),
            ]
            for (method, uri, text) in writes {
                for (token, field) in [(bob, nil), (claimed, "role"), (readOnly, "scope")] as [(String, String?)] {
                    let (s, j, t) = try await Self.send(client, method, uri, token, text)
                    #expect(s == .forbidden, "\(uri): \(t)")
                    if let field { #expect(j["field"] as? String == field, "\(uri): \(t)") }
                }
                try await client.execute(uri: uri, method: method, headers: HTTPFields([.init(name: .contentType, value: "application/json")]), body: body(text)) { r throws in
                    #expect(r.status == .unauthorized)
                }
            }
            for (token, field) in [(bob, nil), (claimed, "role"), (writeOnly, "scope")] as [(String, String?)] {
                try await client.execute(uri: "/api/v1/policy", method: .get, headers: .auth(token)) { r throws in
                    #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                    if let field { #expect(try json(r)["field"] as? String == field) }
                }
            }
            try await client.execute(uri: "/api/v1/policy", method: .get) { r throws in #expect(r.status == .unauthorized) }
            let after = try await Self.policy(client, alice)
            let sorted = { (o: [String: Any]) in String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self) }
            #expect(try sorted(after) == sorted(before), "nothing changed on refusal")
        }
    }
}
