import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer

/// `twinbank erase` as `POST /api/v1/twins/{id}/erasure`: the report, the dry run, and the gate deciding who may.
@Suite struct ErasureRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func erase(_ client: any TestClientProtocol, _ twin: String, _ token: String, _ text: String,
                      _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/twins/\(twin)/erasure", method: .post, headers: .auth(token, jsonBody), body: body(text)) { r throws in
            try check(r)
        }
    }

    /// How many events the twin's thread serves to `token` (nil: the twin is not served, 404).
    static func events(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> Int? {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events", method: .get, headers: .auth(token)) { r throws in
            if r.status == .notFound { return nil }
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return (try json(r)["items"] as? [Any])?.count
        }
    }

    @Test func aDryRunReportsAndTheErasureErases() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            try await Self.erase(client, "p1", alice, #"{"reason":"request 42","dryRun":true}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "p1")
                #expect(j["reason"] as? String == "request 42")
                #expect(j["dryRun"] as? Bool == true)
                #expect(j["eventsPurged"] as? Int == 2)
                let twins = try #require(j["twins"] as? [[String: Any]])
                #expect(twins.count == 1)
                #expect(twins.first?["twin"] as? String == "p1" && twins.first?["why"] as? String == "requested")
                #expect(twins.first?["eventsPurged"] as? Int == 2)
                #expect(j["physical"] == nil, "a dry run touches no file")
            }
            #expect(try await Self.events(client, "p1", alice) == 2, "the dry run changed nothing")
            try await Self.erase(client, "p1", alice, #"{"reason":"request 42"}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["dryRun"] as? Bool == false)
                #expect(j["eventsPurged"] as? Int == 2)
                #expect((j["indexRowsRemoved"] as? Int ?? 0) >= 1)
                let physical = try #require(j["physical"] as? [String: Any])
                #expect(physical["applies"] as? Bool == true)
            }
            #expect(try await Self.events(client, "p1", alice) == nil, "p1 is gone")
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
            try await Self.erase(client, "p1", alice, #"{"reason":"again"}"#) { r throws in
                #expect(r.status == .notFound, "already erased: \(String(buffer: r.body))")
            }
            #expect(try await Self.events(client, "p2", alice) == 0, "other twins untouched")
        }
    }

    @Test func badRequestsAndTemplatesEraseNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        do {
            let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
            _ = try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["species": .text("human")]))
        }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            for (text, field) in [(#"{"reason":"  "}"#, "reason"), (#"{"dryRun":true}"#, "reason"), (#"{"reason":"r","dryRun":"no"}"#, "dryRun"),
                                  (#"{"reason":7}"#, "reason")] {
                try await Self.erase(client, "p1", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.erase(client, "-p1", alice, #"{"reason":"r"}"#) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "id")
            }
            try await Self.erase(client, "nobody", alice, #"{"reason":"r"}"#) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            try await Self.erase(client, "adult", alice, #"{"reason":"r"}"#) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "notErasable")
            }
            #expect(try await Self.events(client, "p1", alice) == 2)
        }
    }

    /// The gate decides: the patient on their own twin, the admin; not a clinician, not a token claiming a role the
    /// policy does not give, not a token that may not write; nothing erased on refusal.
    @Test func theGateDecidesWhoMayErase() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "pat", role: .patient, twins: ["p2"]))
        }
        let alice = try await f.token("alice", .admin)
        let pat = try await f.token("pat", .patient)
        let bob = try await f.token("bob", .clinician)
        let claimed = try await f.token("bob", .admin)
        let readOnly = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        try await f.test { client in
            for (token, twin, field) in [(bob, "p1", nil), (claimed, "p1", "role"), (readOnly, "p1", "scope"), (pat, "p1", nil)] as [(String, String, String?)] {
                try await Self.erase(client, twin, token, #"{"reason":"r","dryRun":true}"#) { r throws in
                    #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                    if let field { #expect(try json(r)["field"] as? String == field) }
                }
                try await Self.erase(client, twin, token, #"{"reason":"r"}"#) { r throws in #expect(r.status == .forbidden) }
            }
            try await client.execute(uri: "/api/v1/twins/p1/erasure", method: .post, headers: HTTPFields([.init(name: .contentType, value: "application/json")]),
                                     body: body(#"{"reason":"r"}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await Self.events(client, "p1", alice) == 2, "nothing erased on refusal")
            try await Self.erase(client, "p2", pat, #"{"reason":"my right"}"#) { r throws in
                #expect(r.status == .ok, "the patient erases their own twin: \(String(buffer: r.body))")
            }
            #expect(try await Self.events(client, "p2", alice) == nil)
            #expect(try await Self.events(client, "p1", alice) == 2)
        }
    }
}
