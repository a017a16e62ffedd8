import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// Synchronisation as jobs: 202 with the job's address, then its state, progress and result; refusals before the
/// job is queued; a job only its starter (or an admin) reads.
@Suite struct JobRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]
    static let window = #"{"from":"2026-01-01T06:00:00Z","to":"2026-01-01T08:00:00Z"}"#

    /// Twenty-five CGM readings, every 5 minutes from 06:00 to 08:00 on 2026-01-01, into `twin`.
    static func readings(_ f: ServerFixture, twin: TwinID) throws {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        let start = try Instant(parsing: "2026-01-01T06:00:00Z")
        try bank.append((0...24).map { k in
            .observation(twin, at: start.advanced(bySeconds: Double(k) * 300), code: ServerFixture.glucose,
                         Quantity(110 + 8 * sin(Double(k) / 4), "mg/dL"), source: Source(.device, "cgm-3"))
        })
    }

    /// Polls the job at `location` until it ends (at most about two minutes, then whatever it says).
    static func finished(_ client: any TestClientProtocol, _ location: String, _ token: String) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<1200 {
            last = try await client.execute(uri: location, method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .ok)
                return try json(r)
            }
            if let state = last["state"] as? String, state == "succeeded" || state == "failed" { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    static func count(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> Int {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?limit=1000", method: .get, headers: .auth(token)) { r throws in
            try #require(try json(r)["items"] as? [Any]).count
        }
    }

    @Test func synchronisesATwinAsAJob() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.readings(f, twin: "p2")
        let bob = try await f.token("bob", .clinician)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            #expect(try await Self.count(client, "p2", bob) == 25)
            // a dry run writes nothing
            let dry = try await client.execute(uri: "/api/v1/twins/p2/sync", method: .post, headers: .auth(bob, Self.jsonBody),
                                               body: body(#"{"from":"2026-01-01T06:00:00Z","to":"2026-01-01T08:00:00Z","dryRun":true}"#)) { r throws -> String in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["kind"] as? String == "twinSync")
                #expect(["queued", "running"].contains(j["state"] as? String ?? ""))
                let location = try #require(r.headers[.location])
                #expect(location == "/api/v1/jobs/\(try #require(j["id"] as? String))")
                return location
            }
            let dryJob = try await Self.finished(client, dry, bob)
            #expect(dryJob["state"] as? String == "succeeded", "\(dryJob)")
            let dryOutcome = try #require((dryJob["result"] as? [[String: Any]])?.first)
            #expect(dryOutcome["observationsUsed"] as? Int == 25)
            #expect(dryOutcome["written"] as? Int == 0)
            #expect(try await Self.count(client, "p2", bob) == 25)

            let location = try await client.execute(uri: "/api/v1/twins/p2/sync", method: .post, headers: .auth(bob, Self.jsonBody), body: body(Self.window)) { r throws in
                #expect(r.status == .accepted)
                return try #require(r.headers[.location])
            }
            let job = try await Self.finished(client, location, bob)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            #expect(job["finished"] as? String != nil)
            let outcome = try #require((job["result"] as? [[String: Any]])?.first)
            #expect(outcome["twin"] as? String == "p2")
            let written = try #require(outcome["written"] as? Int)
            #expect(written > 0)
            #expect(try await Self.count(client, "p2", bob) == 25 + written, "the job wrote its estimate and forecast to the thread")
            // an admin may read it; another subject may not (it is not theirs)
            try await client.execute(uri: location, method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .ok) }
            let carol = try await f.token("carol", .clinician)
            try await client.execute(uri: location, method: .get, headers: .auth(carol)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownJob")
            }
            try await client.execute(uri: "/api/v1/jobs/no-such-job", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .notFound) }
            try await client.execute(uri: location, method: .get) { r throws in #expect(r.status == .unauthorized) }
        }
    }

    @Test func refusesASyncBeforeQueueingIt() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for (text, field) in [(#"{"horizon":7}"#, "horizon"), (#"{"from":"soonish"}"#, "from"),
                                  (#"{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}"#, "to"), (#"{"dryRun":"yes"}"#, "dryRun")] {
                try await client.execute(uri: "/api/v1/twins/p1/sync", method: .post, headers: .auth(bob, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text)")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/nobody/sync", method: .post, headers: .auth(bob, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/aggregates/nothing/sync", method: .post, headers: .auth(bob, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p1/sync", method: .post, headers: .auth(mallory, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/twins/p1/sync", method: .post, headers: .auth(reader, Self.jsonBody), body: body("{}")) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/twins/p1/sync", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]), body: body("{}")) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }

    @Test func synchronisesEachMemberOfAnAggregate() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.readings(f, twin: "p2")
        try Self.readings(f, twin: "p3")
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try bank.createAggregate("ward", members: ["p1", "p2", "p3"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let location = try await client.execute(uri: "/api/v1/aggregates/ward/sync", method: .post, headers: .auth(bob, Self.jsonBody),
                                                    body: body(#"{"from":"2026-01-01T06:00:00Z","to":"2026-01-01T07:55:00Z","dryRun":true}"#)) { r throws in
                #expect(r.status == .accepted, "\(String(buffer: r.body))")
                #expect(try json(r)["kind"] as? String == "aggregateSync")
                return try #require(r.headers[.location])
            }
            let job = try await Self.finished(client, location, bob)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["progress"] as? Double == 1)
            let outcomes = try #require(job["result"] as? [[String: Any]])
            #expect(outcomes.compactMap { $0["twin"] as? String } == ["p1", "p2", "p3"])
            // p1's only reading in 06:00-07:55 is none (its readings are at 08:00 and 09:00): its outcome is its error, the others went on
            #expect((outcomes[0]["error"] as? [String: Any])?["code"] != nil, "\(outcomes[0])")
            #expect(outcomes[1]["observationsUsed"] as? Int == 24 && outcomes[1]["error"] == nil, "\(outcomes[1])")
            #expect(outcomes[2]["observationsUsed"] as? Int == 24 && outcomes[2]["error"] == nil, "\(outcomes[2])")
        }
    }
}
