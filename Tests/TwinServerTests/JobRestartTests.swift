import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

/// Jobs outlive the server: their records are in the bank (`server_jobs`), and a server opened again on the same bank
/// file (a restart) reloads them: ended jobs read as before, queued ones run, a running twin's sync ends `failed` with
/// `interrupted`, a running aggregate's sync marks its member in progress `interrupted` and synchronises the rest.
@Suite struct JobRestartTests {
    static let window = try! {
        var s = TwinAPI.SyncSettings()
        s.from = try Instant(parsing: "2026-01-01T06:00:00Z")
        s.to = try Instant(parsing: "2026-01-01T08:00:00Z")
        return s
    }()

    /// The fixture's bank served again by a new server (the first one is left as a stopped process leaves its jobs:
    /// its records as last written).
    static func restarted(_ f: ServerFixture) async throws -> ServerFixture {
        await f.server.served.jobs.flush()
        let server = try await TwinServer.open(location: try BankLocation(f.path), tokens: f.tokens, configuration: .init(owner: "alice"))
        return ServerFixture(directory: f.directory, path: f.path, server: server, tokens: f.tokens)
    }

    static func job(_ client: any TestClientProtocol, _ id: String, _ token: String) async throws -> [String: Any] {
        try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try json(r)
        }
    }

    @Test func aRestartKeepsEndedJobsRunsQueuedOnesAndFailsARunningTwinSync() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try JobRouteTests.readings(f, twin: "p2")
        let queue = f.server.served.jobs
        let spec = JobQueue.Spec(purpose: "treatment", sync: Self.window)
        // an ended job
        let done = try await queue.submit(kind: .twinSync, target: "p2", owner: "bob", spec: spec) { _ in [] }
        while await queue.job(done.id, subject: "bob", admin: false)?.state.ended != true { await Task.yield() }
        // two jobs running when the server stops (the queue runs two at once), and one queued behind them
        let (started, signal) = AsyncStream<Void>.makeStream()
        let hang: JobQueue.Work = { _ in
            signal.yield()
            try await Task.sleep(for: .seconds(3600))
            return []
        }
        let running1 = try await queue.submit(kind: .twinSync, target: "p2", owner: "bob", spec: spec, work: hang)
        let running2 = try await queue.submit(kind: .twinSync, target: "p2", owner: "bob", spec: spec, work: hang)
        let queued = try await queue.submit(kind: .twinSync, target: "p2", owner: "bob", spec: spec, work: hang)
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next(); _ = await iterator.next()
        #expect(await queue.job(queued.id, subject: "bob", admin: false)?.state == .queued)
        let bob = try await f.token("bob", .clinician)
        let carol = try await f.token("carol", .clinician)
        let before = try await f.test { client in try await JobRouteTests.count(client, "p2", bob) }

        // the restarted server runs the queued job as soon as it has opened the bank
        let g = try await Self.restarted(f)
        try await g.test { client in
            #expect(try await Self.job(client, done.id, bob)["state"] as? String == "succeeded")
            for id in [running1.id, running2.id] {
                let j = try await Self.job(client, id, bob)
                #expect(j["state"] as? String == "failed", "\(j)")
                let error = try #require(j["error"] as? [String: Any])
                #expect(error["code"] as? String == "interrupted")
                #expect((error["message"] as? String)?.contains("submit again") == true, "\(error)")
                #expect(j["started"] as? String != nil && j["finished"] as? String != nil)
            }
            // the queued job runs now, for real, as bob with the settings he gave
            let ran = try await JobRouteTests.finished(client, "/api/v1/jobs/\(queued.id)", bob)
            #expect(ran["state"] as? String == "succeeded", "\(ran)")
            let outcome = try #require((ran["result"] as? [[String: Any]])?.first)
            #expect(outcome["observationsUsed"] as? Int == 25)
            let written = try #require(outcome["written"] as? Int)
            #expect(written > 0)
            #expect(try await JobRouteTests.count(client, "p2", bob) == before + written)
            // still only their starter's: newest first in bob's list, none in carol's
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", bob).ids == [queued.id, running2.id, running1.id, done.id])
            #expect(try await JobRouteTests.ids(client, "/api/v1/jobs", carol).ids.isEmpty)
            try await client.execute(uri: "/api/v1/jobs/\(done.id)", method: .get, headers: .auth(carol)) { r throws in
                #expect(r.status == .notFound)
            }
        }
        // and a third server finds them all ended, as they were
        let h = try await Self.restarted(g)
        for id in [done.id, running1.id, queued.id] {
            let old = await g.server.served.jobs.job(id, subject: "bob", admin: false)
            let after = await h.server.served.jobs.job(id, subject: "bob", admin: false)
            #expect(after != nil && after?.state == old?.state && after?.result == old?.result && after?.finished == old?.finished && after?.error == old?.error)
        }
    }

    @Test func anAggregateSyncResumesWithTheMembersItHadNotStarted() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try JobRouteTests.readings(f, twin: "p2")
        try JobRouteTests.readings(f, twin: "p3")
        let members: [TwinID] = ["p1", "p2", "p3"]
        let queue = f.server.served.jobs
        let bank = f.server.served.base.acting(as: "bob", purpose: "treatment")
        let spec = JobQueue.Spec(purpose: "treatment", sync: Self.window, members: members.map(\.rawValue))
        // the first member synchronised (its outcome recorded), the second started when the server stops
        let (started, signal) = AsyncStream<Void>.makeStream()
        let first = TwinAPI.aggregateSyncWork([members[0]], done: 0, total: 3, bank: bank, settings: Self.window)
        let job = try await queue.submit(kind: .aggregateSync, target: "ward", owner: "bob", spec: spec) { context in
            _ = try await first(context)
            await context.starting("p2")
            signal.yield()
            try await Task.sleep(for: .seconds(3600))
            return []
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        let before = await queue.job(job.id, subject: "bob", admin: false)
        #expect(before?.state == .running && before?.inProgress == "p2" && before?.result?.map(\.twin) == ["p1"])

        let bob = try await f.token("bob", .clinician)
        let (p2Before, p3Before) = try await f.test { client in
            (try await JobRouteTests.count(client, "p2", bob), try await JobRouteTests.count(client, "p3", bob))
        }

        let g = try await Self.restarted(f)
        try await g.test { client in
            let ended = try await JobRouteTests.finished(client, "/api/v1/jobs/\(job.id)", bob)
            #expect(ended["state"] as? String == "succeeded", "\(ended)")
            #expect(ended["progress"] as? Double == 1)
            let outcomes = try #require(ended["result"] as? [[String: Any]])
            #expect(outcomes.compactMap { $0["twin"] as? String } == ["p1", "p2", "p3"])
            // the member in progress: interrupted, not run again (nothing more written to its thread)
            let interrupted = try #require(outcomes[1]["error"] as? [String: Any])
            #expect(interrupted["code"] as? String == "interrupted", "\(outcomes[1])")
            #expect(try await JobRouteTests.count(client, "p2", bob) == p2Before)
            // the member not started: synchronised by the restarted server
            #expect(outcomes[2]["error"] == nil && outcomes[2]["observationsUsed"] as? Int == 25, "\(outcomes[2])")
            let written = try #require(outcomes[2]["written"] as? Int)
            #expect(written > 0)
            #expect(try await JobRouteTests.count(client, "p3", bob) == p3Before + written)
        }
    }

    @Test func queuedComparisonsAndOutbreaksRunAfterARestartWithTheirSettings() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try ComparisonRouteTests.glucoseTwin(f)
        let queue = f.server.served.jobs
        // the two running slots taken by jobs that never end, so what the routes submit stays queued
        let (started, signal) = AsyncStream<Void>.makeStream()
        for _ in 0..<2 {
            _ = try await queue.submit(kind: .twinSync, target: "p1", owner: "alice") { _ in
                signal.yield()
                try await Task.sleep(for: .seconds(3600))
                return []
            }
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next(); _ = await iterator.next()
        let alice = try await f.token("alice", .admin)
        let (comparison, outbreak) = try await f.test { client in
            let c = try await client.execute(uri: "/api/v1/twins/g1/comparisons", method: .post, headers: .auth(alice, ComparisonRouteTests.jsonBody),
                                             body: body(ComparisonRouteTests.request)) { r throws in
                #expect(r.status == .accepted)
                return try #require(r.headers[.location])
            }
            let o = try await client.execute(uri: "/api/v1/outbreaks", method: .post, headers: .auth(alice, ComparisonRouteTests.jsonBody),
                                             body: body(#"{"agents":1000,"days":20,"runs":2,"seed":5,"scenario":{"initialInfections":5}}"#)) { r throws in
                #expect(r.status == .accepted)
                #expect(try json(r)["state"] as? String == "queued")
                return try #require(r.headers[.location])
            }
            return (c, o)
        }

        let g = try await Self.restarted(f)
        try await g.test { client in
            let c = try await JobRouteTests.finished(client, comparison, alice)
            #expect(c["state"] as? String == "succeeded", "\(c)")
            let record = try #require(c["comparison"] as? [String: Any], "\(c)")
            #expect(record["effective"] as? String == "2026-02-01T06:00:00Z")
            #expect(Set((record["options"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }) == ["usual", "cautious-bolus"])
            let o = try await JobRouteTests.finished(client, outbreak, alice)
            #expect(o["state"] as? String == "succeeded", "\(o)")
            let report = try #require(o["outbreak"] as? [String: Any], "\(o)")
            #expect(report["agents"] as? Int == 1000 && report["days"] as? Int == 20 && report["seed"] as? Int == 5)
            #expect(report["runs"] as? [Int] == [0, 1])
        }
    }

    @Test func queuedSimulationsAndMatchesRunAfterARestartWithTheirSettings() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try ComparisonRouteTests.glucoseTwin(f)
        try DashboardRouteTests.people(try DashboardRouteTests.bank(f))
        let queue = f.server.served.jobs
        // the two running slots taken by jobs that never end, so what the routes submit stays queued
        let (started, signal) = AsyncStream<Void>.makeStream()
        for _ in 0..<2 {
            _ = try await queue.submit(kind: .twinSync, target: "p1", owner: "alice") { _ in
                signal.yield()
                try await Task.sleep(for: .seconds(3600))
                return []
            }
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next(); _ = await iterator.next()
        let alice = try await f.token("alice", .admin)
        let (simulation, match) = try await f.test { client in
            let s = try await client.execute(uri: "/api/v1/twins/g1/simulations", method: .post, headers: .auth(alice, ComparisonRouteTests.jsonBody),
                                             body: body(#"{"start":"2026-02-01T06:00:00Z","hours":3,"every":60,"record":true}"#)) { r throws in
                #expect(r.status == .accepted)
                #expect(try json(r)["state"] as? String == "queued")
                return try #require(r.headers[.location])
            }
            let m = try await client.execute(uri: "/api/v1/match/jobs?aggregate=town&asOf=2026-03-01&saveAggregate=women", method: .post,
                                             headers: .auth(alice, MatchRouteTests.jsonBody), body: body(MatchRouteTests.criteria)) { r throws in
                #expect(r.status == .accepted)
                #expect(try json(r)["state"] as? String == "queued")
                return try #require(r.headers[.location])
            }
            return (s, m)
        }

        let g = try await Self.restarted(f)
        try await g.test { client in
            let s = try await JobRouteTests.finished(client, simulation, alice)
            #expect(s["state"] as? String == "succeeded", "\(s)")
            let run = try #require(s["simulation"] as? [String: Any], "\(s)")
            #expect(run["start"] as? String == "2026-02-01T06:00:00Z" && (run["times"] as? [Any])?.count == 4 && run["recorded"] as? Int == 4)
            let m = try await JobRouteTests.finished(client, match, alice)
            #expect(m["state"] as? String == "succeeded", "\(m)")
            let report = try #require(m["match"] as? [String: Any], "\(m)")
            #expect(report["eligible"] as? [String] == ["d1", "d2", "d3"])
            #expect(try await MatchSaveAndJobRouteTests.members(client, "women", alice) == ["d1", "d2", "d3"])
        }
    }

    @Test func onlyTheNewestRetainedEndedJobsAreKeptInTheBank() async throws {
        let store = MemoryJobRecordStore()
        let journal = JobJournal(store: store, storage: MemoryStorage())
        let queue = JobQueue(retained: 2, clock: SystemClock(), journal: journal)
        var ids: [String] = []
        for _ in 0..<3 {
            let job = try await queue.submit(kind: .twinSync, target: "p1", owner: "bob") { _ in [] }
            while await queue.job(job.id, subject: "bob", admin: false)?.state.ended != true { await Task.yield() }
            ids.append(job.id)
        }
        await queue.flush()
        #expect(try store.records().map(\.id) == Array(ids.suffix(2)))
        // a queue over the same records: those two, and a job that was neither saved nor queued before is not there
        let again = JobQueue(retained: 2, clock: SystemClock(), journal: journal)
        try await again.restore { _ in nil }
        #expect(await again.jobs(subject: "bob", admin: false).map(\.id) == Array(ids.suffix(2).reversed()))
        // a record the server cannot read is left alone, and the others load
        try store.save([JobRecord(id: "garbled", ordinal: 9, bytes: Array("not json".utf8))])
        let third = JobQueue(retained: 2, clock: SystemClock(), journal: journal)
        try await third.restore { _ in nil }
        #expect(await third.jobs(subject: "bob", admin: true).map(\.id) == Array(ids.suffix(2).reversed()))
        #expect(try store.records().map(\.id).contains("garbled"))
    }
}
