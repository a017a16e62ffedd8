import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

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
            if let state = last["state"] as? String, ["succeeded", "failed", "cancelled"].contains(state) { return last }
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

    // MARK: - Listing and cancelling

    /// Queues a job on the fixture's server whose work, once running, appends one reading to p1 (what a unit of
    /// work writes), says so on `started`, then waits until its task is cancelled.
    static func blockingJob(_ f: ServerFixture, owner: String, reading: Double, started: AsyncStream<Void>.Continuation) async throws -> String {
        let bank = f.server.served.base
        let job = try await f.server.served.jobs.submit(kind: .twinSync, target: "p1", owner: owner) { progress in
            _ = try await bank.run { b in
                try b.append([.observation("p1", at: try Instant(parsing: "2026-01-01T10:00:00Z"), code: ServerFixture.glucose,
                                           Quantity(reading, "mg/dL"), source: Source(.device, "cgm-1"))])
            }
            await progress(0.5)
            started.yield()
            try await Task.sleep(for: .seconds(3600))  // ends only by cancellation
            return []
        }
        return job.id
    }

    static func ids(_ client: any TestClientProtocol, _ uri: String, _ token: String) async throws -> (ids: [String], next: String?) {
        try await client.execute(uri: uri, method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let j = try json(r)
            let items = try #require(j["items"] as? [[String: Any]])
            return (items.compactMap { $0["id"] as? String }, j["nextCursor"] as? String)
        }
    }

    @Test func listsAndCancelsJobs() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let alice = try await f.token("alice", .admin)
        let carol = try await f.token("carol", .clinician)
        let (started, signal) = AsyncStream<Void>.makeStream()
        // two run (the queue runs two at once), the third waits
        let first = try await Self.blockingJob(f, owner: "bob", reading: 120, started: signal)
        let second = try await Self.blockingJob(f, owner: "bob", reading: 121, started: signal)
        let third = try await Self.blockingJob(f, owner: "alice", reading: 122, started: signal)
        var running = started.makeAsyncIterator()
        _ = await running.next(); _ = await running.next()
        try await f.test { client in
            // bob sees his two, newest first, a page at a time; alice (the admin) sees all three; carol none
            #expect(try await Self.ids(client, "/api/v1/jobs", bob).ids == [second, first])
            let page1 = try await Self.ids(client, "/api/v1/jobs?limit=1", bob)
            #expect(page1.ids == [second])
            let cursor = try #require(page1.next)
            let page2 = try await Self.ids(client, "/api/v1/jobs?limit=1&cursor=\(cursor)", bob)
            #expect(page2.ids == [first] && page2.next == nil)
            #expect(try await Self.ids(client, "/api/v1/jobs", alice).ids == [third, second, first])
            #expect(try await Self.ids(client, "/api/v1/jobs", carol).ids.isEmpty)
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: .auth(alice)) { r throws in
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.map { $0["state"] as? String } == ["queued", "running", "running"])
            }

            // the queued job: not bob's to cancel; alice cancels it, and it ends at once, never run
            try await client.execute(uri: "/api/v1/jobs/\(third)", method: .delete, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownJob")
            }
            try await client.execute(uri: "/api/v1/jobs/\(third)", method: .delete, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["state"] as? String == "cancelled")
                #expect(j["cancelRequested"] as? Bool == true)
                #expect(j["started"] == nil && j["finished"] != nil)
            }

            // a running job: asked to stop, its task cancelled, it ends cancelled; what it wrote stays
            try await client.execute(uri: "/api/v1/jobs/\(first)", method: .delete, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["cancelRequested"] as? Bool == true)
                #expect(["running", "cancelled"].contains(j["state"] as? String ?? ""))
            }
            let ended = try await Self.finished(client, "/api/v1/jobs/\(first)", bob)
            #expect(ended["state"] as? String == "cancelled", "\(ended)")
            #expect(ended["error"] == nil && ended["progress"] as? Double == 0.5, "\(ended)")
            // cancelling it again: it has ended
            try await client.execute(uri: "/api/v1/jobs/\(first)", method: .delete, headers: .auth(bob)) { r throws in
                #expect(r.status == .conflict)
                let j = try json(r)
                #expect(j["code"] as? String == "jobFinished")
                #expect(j["field"] as? String == "jobId")
            }
            // the admin cancels bob's other one
            try await client.execute(uri: "/api/v1/jobs/\(second)", method: .delete, headers: .auth(alice)) { r throws in #expect(r.status == .ok) }
            #expect(try await Self.finished(client, "/api/v1/jobs/\(second)", bob)["state"] as? String == "cancelled")
            // the two that ran each wrote their reading (p1 had two); the one cancelled while queued wrote nothing
            #expect(try await Self.count(client, "p1", bob) == 4)
        }
    }

    @Test func refusesJobListsAndCancellations() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let reader = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        let writer = try await f.token("bob", .clinician, scopes: ["user/*.c"])
        let claimsAdmin = try await f.token("bob", .admin)
        let alice = try await f.token("alice", .admin)
        let done = try await f.server.served.jobs.submit(kind: .twinSync, target: "p1", owner: "bob") { _ in [] }
        let carols = try await f.server.served.jobs.submit(kind: .twinSync, target: "p1", owner: "carol") { _ in [] }
        try await f.test { client in
            // a job that has ended cannot be cancelled
            #expect(try await Self.finished(client, "/api/v1/jobs/\(done.id)", bob)["state"] as? String == "succeeded")
            try await client.execute(uri: "/api/v1/jobs/\(done.id)", method: .delete, headers: .auth(bob)) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["code"] as? String == "jobFinished")
            }
            #expect(try await Self.finished(client, "/api/v1/jobs/\(done.id)", bob)["state"] as? String == "succeeded")
            // no such job
            try await client.execute(uri: "/api/v1/jobs/no-such-job", method: .delete, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["field"] as? String == "jobId")
            }
            // bad page parameters, named
            for (query, field) in [("limit=0", "limit"), ("limit=5000", "limit"), ("cursor=%25%25", "cursor"), ("cursor=eHl6", "cursor")] {
                try await client.execute(uri: "/api/v1/jobs?\(query)", method: .get, headers: .auth(bob)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query): \(String(buffer: r.body))")
                }
            }
            // no token
            try await client.execute(uri: "/api/v1/jobs", method: .get) { r throws in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/jobs/\(done.id)", method: .delete) { r throws in #expect(r.status == .unauthorized) }
            // scopes: listing needs a read scope, cancelling a write scope
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: .auth(writer)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/jobs/\(done.id)", method: .delete, headers: .auth(reader)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            // a token claiming a role the bank's policy does not give its subject (bob is a clinician)
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: .auth(claimsAdmin)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/jobs/\(done.id)", method: .delete, headers: .auth(claimsAdmin)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            // nor does it read another subject's job (only the bank's admin does)
            try await client.execute(uri: "/api/v1/jobs/\(carols.id)", method: .get, headers: .auth(claimsAdmin)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/jobs/\(carols.id)", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
        }
    }
}
