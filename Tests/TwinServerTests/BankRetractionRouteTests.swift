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

/// `POST /api/v1/retractions`: a source retracted across the bank (as `twinbank retract --source` without `--twin`),
/// all or nothing, answering the count per twin; a range; nothing left (400); every refusal, with nothing retracted.
@Suite struct BankRetractionRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// p1 has cgm-1's two readings (the fixture's); p2 gets one of cgm-1's and one of another device's.
    static func prepare(_ f: ServerFixture) throws {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try bank.append([
            .observation("p2", at: try Instant(parsing: "2026-01-01T08:30:00Z"), code: ServerFixture.glucose, Quantity(120, "mg/dL"), source: Source(.device, "cgm-1")),
            .observation("p2", at: try Instant(parsing: "2026-01-01T08:40:00Z"), code: ServerFixture.glucose, Quantity(121, "mg/dL"), source: Source(.device, "cgm-2")),
        ])
    }

    static func readings(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> [String] {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?category=observation", method: .get, headers: .auth(token)) { r throws in
            try #require(try json(r)["items"] as? [[String: Any]]).compactMap { $0["source"] as? String }
        }
    }

    static func retract(_ client: any TestClientProtocol, _ token: String, _ text: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/retractions", method: .post, headers: .auth(token, Self.jsonBody), body: body(text)) { r throws in try check(r) }
    }

    @Test func retractsASourceInEveryTwinWithTheCountPerTwin() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            // a range first: only p1's 09:00 reading and p2's 08:30 one
            try await Self.retract(client, alice, #"{"source":"device:cgm-1","reason":"recalled batch","from":"2026-01-01T08:15:00Z","to":"2026-01-01T09:30:00Z"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["eventsRetracted"] as? Int == 2 && j["source"] as? String == "device:cgm-1" && j["erased"] as? Bool == false)
                let twins = try #require(j["twins"] as? [[String: Any]])
                #expect(twins.compactMap { $0["twin"] as? String } == ["p1", "p2"])
                #expect(twins.compactMap { $0["count"] as? Int } == [1, 1])
                #expect(j["from"] as? String == "2026-01-01T08:15:00Z")
            }
            #expect(try await Self.readings(client, "p1", alice) == ["device:cgm-1"])
            #expect(try await Self.readings(client, "p2", alice) == ["device:cgm-2"])
            // then the rest of it, anywhere, erased
            try await Self.retract(client, alice, #"{"source":"device:cgm-1","reason":"recalled batch","erase":true}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["erased"] as? Bool == true && j["from"] == nil)
                #expect((j["twins"] as? [[String: Any]])?.first?["twin"] as? String == "p1")
            }
            #expect(try await Self.readings(client, "p1", alice).isEmpty)
            #expect(try await Self.readings(client, "p2", alice) == ["device:cgm-2"], "another source's reading stays")
            // each twin touched has its retraction events, with the reason
            let p2 = try await client.execute(uri: "/api/v1/twins/p2/events?category=retraction", method: .get, headers: .auth(alice)) { r throws in
                try #require(try json(r)["items"] as? [[String: Any]])
            }
            #expect(p2.count >= 1)
            // nothing current left: 400 naming the source, nothing written
            try await Self.retract(client, alice, #"{"source":"device:cgm-1","reason":"again","from":"2026-01-01","to":"2026-01-02"}"#) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "source")
            }
        }
    }

    /// The gate permits the retraction bank-wide and for p1 but refuses it for p2 (a patient, pat, whom the policy lets
    /// retract, except on the twin linked to them): the one transaction is rolled back, 403, nothing retracted in p1 either.
    @Test func oneTwinRefusedRetractsNothingAnywhere() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "pat", role: .patient, twins: ["p2"]))
            p.grants.append(Grant(.patient, .deny, actions: ["retract"], subject: .linked))
            p.grants.append(Grant(.patient, .permit, actions: ["retract", "read"]))
        }
        let pat = try await f.token("pat", .patient)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            try await Self.retract(client, pat, #"{"source":"device:cgm-1","reason":"recalled"}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            #expect(try await Self.readings(client, "p1", alice).count == 2, "p1's readings kept: all or nothing")
            #expect(try await Self.readings(client, "p2", alice).count == 2)
            // the same source in p1 alone (a range that holds none of p2's) is permitted
            try await Self.retract(client, pat, #"{"source":"device:cgm-1","reason":"recalled","from":"2026-01-01T08:50:00Z"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                #expect((try json(r)["twins"] as? [[String: Any]])?.compactMap { $0["twin"] as? String } == ["p1"])
            }
        }
    }

    @Test func refusalsRetractNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        let alice = try await f.token("alice", .admin)
        let readOnly = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        let claimed = try await f.token("bob", .admin)
        try await f.test { client in
            for (text, field) in [
                (#"{"source":"cgm-1","reason":"x"}"#, "source"),
                (#"{"source":"device:cgm-1","reason":"  "}"#, "reason"),
                (#"{"source":"device:cgm-1"}"#, "reason"),
                (#"{"reason":"x"}"#, "source"),
                (#"{"source":"device:cgm-1","reason":"x","from":"yesterday-ish"}"#, "from"),
                (#"{"source":"device:cgm-1","reason":"x","from":"2026-01-02","to":"2026-01-01"}"#, "to"),
                (#"{"source":"device:cgm-1","reason":"x","erase":"yes"}"#, "erase"),
                (#"{"source":"device:nothing","reason":"x"}"#, "source"),
            ] {
                try await Self.retract(client, alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/retractions", method: .post, headers: .auth(alice, Self.jsonBody), body: body("not json")) { r throws in
                #expect(r.status == .badRequest)
            }
            let good = #"{"source":"device:cgm-1","reason":"recalled"}"#
            try await client.execute(uri: "/api/v1/retractions", method: .post, headers: Self.jsonBody.reduce(into: HTTPFields()) { $0[$1.key] = $1.value }, body: body(good)) { r throws in
                #expect(r.status == .unauthorized)
            }
            for (token, what) in [(readOnly, "a read-only scope"), (bob, "a clinician, whom the default policy does not let retract"), (claimed, "a role the policy does not give")] {
                try await Self.retract(client, token, good) { r throws in #expect(r.status == .forbidden, "\(what): \(String(buffer: r.body))") }
            }
            #expect(try await Self.readings(client, "p1", alice).count == 2, "nothing retracted")
            #expect(try await Self.readings(client, "p2", alice).count == 2)
        }
    }
}
