import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// Retraction of a source's events in one twin (`POST /api/v1/twins/{id}/retractions`, as `twinbank retract
/// --source --from --to --twin`): what was retracted, the rest of the thread and other twins untouched, and the
/// refusals (bad fields named, unknown twin, no token, a read-only scope, a role the policy does not let retract).
@Suite struct RetractionRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// The glucose readings of `twin` in the current view, as (effective start, value).
    static func readings(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> [String] {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?category=observation", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok)
            let items = try #require(try json(r)["items"] as? [[String: Any]])
            return items.compactMap { ($0["effective"] as? [String: Any])?["start"] as? String }
        }
    }

    static func retract(_ client: any TestClientProtocol, _ twin: String, _ token: String, _ text: String,
                        _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/twins/\(twin)/retractions", method: .post, headers: .auth(token, jsonBody), body: body(text)) { r throws in
            try check(r)
        }
    }

    @Test func retractsASourcesEventsInOneTwin() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        // p2 holds a reading of the same device: a retraction in p1 leaves it
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try bank.append([.observation("p2", at: try Instant(parsing: "2026-01-01T08:30:00Z"), code: ServerFixture.glucose,
                                      Quantity(100, "mg/dL"), source: Source(.device, "cgm-1"))])
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            #expect(try await Self.readings(client, "p1", alice) == ["2026-01-01T08:00:00Z", "2026-01-01T09:00:00Z"])
            // a range: the 08:00 reading only
            try await Self.retract(client, "p1", alice, #"{"source":"device:cgm-1","reason":"sensor fault","from":"2026-01-01T07:00:00Z","to":"2026-01-01T08:30:00Z"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "p1")
                #expect(j["source"] as? String == "device:cgm-1")
                #expect(j["reason"] as? String == "sensor fault")
                #expect(j["erased"] as? Bool == false)
                #expect(j["eventsRetracted"] as? Int == 1)
                #expect((j["events"] as? [String])?.count == 1)
                #expect(j["from"] as? String == "2026-01-01T07:00:00Z" && j["to"] as? String == "2026-01-01T08:30:00Z")
                #expect((j["sequence"] as? Int ?? 0) > 0)
            }
            #expect(try await Self.readings(client, "p1", alice) == ["2026-01-01T09:00:00Z"])
            // the retraction is in the thread, with its reason
            try await client.execute(uri: "/api/v1/twins/p1/events?category=retraction", method: .get, headers: .auth(alice)) { r throws in
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.count == 1)
                #expect((items.first?["value"] as? [String: Any])?["value"] as? String == "sensor fault")
            }
            // the rest of the source in p1, erased (no range: all of its time)
            try await Self.retract(client, "p1", alice, #"{"source":"device:cgm-1","reason":"another person's sensor","erase":true}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["eventsRetracted"] as? Int == 1)
                #expect(j["erased"] as? Bool == true)
                #expect(j["from"] == nil && j["to"] == nil)
            }
            #expect(try await Self.readings(client, "p1", alice).isEmpty)
            #expect(try await Self.readings(client, "p2", alice) == ["2026-01-01T08:30:00Z"], "another twin's events of the source stay")
            // nothing left to retract
            try await Self.retract(client, "p1", alice, #"{"source":"device:cgm-1","reason":"again"}"#) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "source")
            }
        }
    }

    @Test func refusesBadOrForbiddenRetractions() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            for (text, field) in [(#"{"source":"cgm-1","reason":"x"}"#, "source"), (#"{"source":"device:cgm-1","reason":"  "}"#, "reason"),
                                  (#"{"source":"device:cgm-1"}"#, "reason"), (#"{"source":"device:cgm-1","reason":"x","from":"soonish"}"#, "from"),
                                  (#"{"source":"device:cgm-1","reason":"x","from":"2026-01-02","to":"2026-01-01T00:00:00Z"}"#, "to"),
                                  (#"{"source":"device:cgm-1","reason":"x","erase":"yes"}"#, "erase")] {
                try await Self.retract(client, "p1", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text)")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            let good = #"{"source":"device:cgm-1","reason":"sensor fault"}"#
            try await Self.retract(client, "nobody", alice, good) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            try await client.execute(uri: "/api/v1/twins/p1/retractions", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]), body: body(good)) { r throws in
                #expect(r.status == .unauthorized)
            }
            try await Self.retract(client, "p1", reader, good) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            // the default policy does not let a clinician retract
            try await Self.retract(client, "p1", bob, good) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            #expect(try await Self.readings(client, "p1", alice).count == 2, "nothing was retracted")
        }
    }

    /// The ids and sequence numbers of `twin`'s current observations.
    static func observationIDs(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> [(id: String, sequence: Int)] {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?category=observation", method: .get, headers: .auth(token)) { r throws in
            let items = try #require(try json(r)["items"] as? [[String: Any]])
            return try items.map { (try #require($0["id"] as? String), try #require($0["sequence"] as? Int)) }
        }
    }

    /// One event (`{"event": ID or sequence, "reason": ...}`, as `twinbank retract --event`): by an id prefix; again
    /// refused (already retracted); another twin's event refused as not in this thread, by id or by sequence number,
    /// the same answer as for no event at all; the two ways of naming what to retract not mixed.
    @Test func retractsOneEventOfTheTwin() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try bank.append([.observation("p2", at: try Instant(parsing: "2026-01-01T08:30:00Z"), code: ServerFixture.glucose,
                                      Quantity(100, "mg/dL"), source: Source(.device, "cgm-1"))])
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let p1 = try await Self.observationIDs(client, "p1", alice)
            let p2 = try await Self.observationIDs(client, "p2", alice)
            #expect(p1.count == 2 && p2.count == 1)
            let target = try #require(p1.first)
            try await Self.retract(client, "p1", alice, #"{"event":"\#(target.id.prefix(10))","reason":"meter not calibrated"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "p1")
                #expect(j["source"] as? String == "device:cgm-1")
                #expect(j["eventsRetracted"] as? Int == 1)
                #expect(j["events"] as? [String] == [target.id])
                #expect(j["from"] == nil && j["to"] == nil)
            }
            #expect(try await Self.observationIDs(client, "p1", alice).map(\.id) == [p1[1].id], "the other reading stays")
            try await Self.retract(client, "p1", alice, #"{"event":"\#(target.id)","reason":"again"}"#) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "event", "\(String(buffer: r.body))")
            }
            // p2's reading through p1's route: not in this thread, by id and by sequence number, as for no event at all
            for reference in [p2[0].id, String(p2[0].sequence), "99999", "abcdef0123"] {
                try await Self.retract(client, "p1", alice, #"{"event":"\#(reference)","reason":"wrong twin"}"#) { r throws in
                    #expect(r.status == .notFound, "\(reference): \(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["code"] as? String == "unknownEvent")
                    #expect(j["field"] as? String == "event")
                }
            }
            #expect(try await Self.observationIDs(client, "p2", alice).count == 1, "p2's reading was not retracted")
            for (text, field) in [(#"{"event":"\#(p1[1].id)","source":"device:cgm-1","reason":"x"}"#, "event"),
                                  (#"{"reason":"x"}"#, "source"),
                                  (#"{"event":"\#(p1[1].id)","reason":"x","from":"2026-01-01"}"#, "from"),
                                  (#"{"event":"not-an-id","reason":"x"}"#, "event"),
                                  (#"{"event":"\#(p1[1].id)","reason":" "}"#, "reason")] {
                try await Self.retract(client, "p1", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text)")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            #expect(try await Self.observationIDs(client, "p1", alice).count == 1, "nothing more was retracted")
        }
    }
}
