import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinServer

/// `audit verify` and a twin's consent as routes.
@Suite struct GovernanceRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    @Test func verifiesTheAuditLogForAnAdminOnly() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            // some decisions to verify
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .ok) }
            try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["verified"] as? Bool == true)
                #expect((j["entries"] as? Int ?? 0) >= 2)
                #expect((j["root"] as? String)?.count == 64)
            }
            try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/audit/verify", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }

    @Test func readsAndRecordsATwinsConsent() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["version"] as? Int == 0)
                #expect((j["rules"] as? [Any])?.count == 0)
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"effect":"deny","purposes":["research"],"actions":["read","query"]}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["version"] as? Int == 1)
                let rule = try #require((j["rules"] as? [[String: Any]])?.first)
                #expect(rule["effect"] as? String == "deny")
                #expect(rule["purposes"] as? [String] == ["research"])
                #expect(rule["actions"] as? [String] == ["query", "read"])
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get, headers: .auth(alice)) { r throws in
                #expect(try json(r)["version"] as? Int == 1)
            }
            // a clinician manages no one's consent
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .post, headers: .auth(bob, Self.jsonBody), body: body(#"{"effect":"permit"}"#)) { r throws in
                #expect(r.status == .forbidden)
            }
            for (text, field) in [(#"{"effect":"permit","purposes":["gossip"]}"#, "purposes[0]"), (#"{"effect":"permit","actions":["juggle"]}"#, "actions[0]"),
                                  (#"{"effect":"maybe"}"#, "effect"), (#"{"effect":"permit","validFrom":"2027-01-02","validUntil":"2027-01-01"}"#, "body")] {
                try await client.execute(uri: "/api/v1/twins/p1/consent", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get, headers: .auth(alice)) { r throws in
                #expect(try json(r)["version"] as? Int == 1, "refused rules recorded nothing")
            }
            try await client.execute(uri: "/api/v1/twins/nobody/consent", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
