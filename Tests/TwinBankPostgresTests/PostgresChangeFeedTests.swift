import Foundation
import PostgresNIO
import Testing
import TwinBank
import TwinCore
@testable import TwinBankPostgres
import TwinSync
import TwinTesting

/// Live updates across processes on one PostgreSQL bank: two ``PostgresStorage``s on one database stand for two
/// processes (each has its own connections); one writes, the other's ``PostgresStorage/changes()`` hears of it.
@Suite struct PostgresChangeFeedTests {
    static let enabled = PostgresTestServer.isAvailable
    static let skip = Comment(rawValue: PostgresTestServer.skipMessage)
    static let twin: TwinID = "p1"
    static let cgm = Source(.device, "cgm-1")
    /// How long a feed may take to connect and yield its first value, and to reconnect: very generous, since in a full
    /// test run on two cores Swift Testing's synchronous tests (which block on storage and subprocesses) can hold every
    /// thread of the test process's cooperative pool for minutes, and the feed's listener is a task on that pool (a
    /// test-process artifact: a watch process has its pool to itself). A bug that never delivers still fails. 600 s
    /// was once too short: a fresh-clone run with a build beside it (load 5 on two cores) starved the pool for longer.
    static let startup = 1_500.0
    /// How long a notified write may take to reach the other process's feed: under a second on an idle machine; the
    /// same starvation applies.
    static let prompt = 600.0

    /// Two storages (two "processes") on a new bank holding twin p1.
    static func twoProcesses(_ scratch: ScratchDatabases) throws -> (a: Bank, b: Bank) {
        let location = try scratch.create()
        let clock = ManualClock(try Instant(parsing: "2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000)
        let a = Bank(storage: try PostgresStorage(location: location), clock: clock)
        try a.createTwin(Twin(id: twin, kind: .person))
        let b = Bank(storage: try PostgresStorage(location: location), clock: clock)
        return (a, b)
    }

    static func reading(_ minute: Int, _ value: Double) throws -> EventDraft {
        .observation(twin, at: try Instant(parsing: String(format: "2025-12-31T10:%02d:00Z", minute)), code: .loinc("2339-0", "Glucose"),
                     Quantity(value, "mg/dL"), source: cgm)
    }

    /// A feed shared by a consumer task: the values it saw, in order.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int64] = []
        func add(_ v: Int64) { lock.withLock { values.append(v) } }
        var all: [Int64] { lock.withLock { values } }
        /// Waits until a value satisfies `until`, at most `seconds`; returns whether one did.
        func wait(seconds: Double, until: (Int64) -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if all.contains(where: until) { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return all.contains(where: until)
        }
    }

    static func consume(_ stream: AsyncThrowingStream<Int64, any Error>) -> (Seen, Task<Void, any Error>) {
        let seen = Seen()
        let task = Task { for try await v in stream { seen.add(v) } }
        return (seen, task)
    }

    @Test(.enabled(if: enabled, skip))
    func aWriteThroughOneProcessReachesTheOthersFeedPromptly() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let (a, b) = try Self.twoProcesses(scratch)
        let feed = try #require(b.changeFeed)
        let (seen, consumer) = Self.consume(feed.changes())
        defer { consumer.cancel() }
        // the current last sequence first (the twin's creation appends no event)
        #expect(try await seen.wait(seconds: Self.startup) { $0 == 0 })
        let started = ContinuousClock.now
        _ = try a.append([try Self.reading(0, 100), try Self.reading(5, 95)])
        #expect(try await seen.wait(seconds: Self.prompt) { $0 == 2 }, "seen: \(seen.all)")
        #expect(ContinuousClock.now - started < .seconds(Self.prompt))
        // a retraction and an erasure are changes too
        let retracted = try a.retract(source: Self.cgm, reason: "sensor fault")
        let afterRetraction = try a.lastSequence()
        #expect(afterRetraction > 2 && retracted.sequence == afterRetraction)
        #expect(try await seen.wait(seconds: Self.prompt) { $0 == afterRetraction }, "seen: \(seen.all)")
        let erasures = seen.all.count
        _ = try a.erase(twin: Self.twin, reason: "the person asked")
        #expect(try await seen.wait(seconds: Self.prompt) { _ in seen.all.count > erasures }, "an erasure is signalled: \(seen.all)")
        #expect(seen.all == seen.all.sorted(), "never behind the bank, in commit order: \(seen.all)")
    }

    @Test(.enabled(if: enabled, skip))
    func aRolledBackWriteSendsNothing() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let (a, b) = try Self.twoProcesses(scratch)
        let (seen, consumer) = Self.consume(try #require(b.changeFeed).changes())
        defer { consumer.cancel() }
        #expect(try await seen.wait(seconds: Self.startup) { $0 == 0 })
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try a.storage.write { w in
                try w.append([], batch: BatchRecord(firstSequence: 1, lastSequence: 1, recorded: try Instant(parsing: "2026-01-01T00:00:00Z")))
                throw Abort()
            }
        }
        // a write that changes no event (a reference) notifies nothing either
        try a.storage.write { w in try w.setRef("tag/x", "y") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(seen.all == [0])
        // and the feed still works: the next committed write is seen
        _ = try a.append([try Self.reading(0, 100)])
        #expect(try await seen.wait(seconds: Self.prompt) { $0 == 1 }, "seen: \(seen.all)")
    }

    @Test(.enabled(if: enabled, skip))
    func aKilledListeningConnectionRecovers() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let (a, b) = try Self.twoProcesses(scratch)
        let storageB = try #require(b.storage as? PostgresStorage)
        let (seen, consumer) = Self.consume(storageB.changes())
        defer { consumer.cancel() }
        #expect(try await seen.wait(seconds: Self.startup) { $0 == 0 })
        // the listener is the one session of the database named so: kill it
        let killed = try scratch.admin(storageB.location.database) { c in
            try c.all(Bool.self, """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = \(ConnectionPool.listenerApplicationName)
                """)
        }
        #expect(killed == [true])
        // written while the listener is down: missed as a notification, so the reconnection yields the current value
        _ = try a.append([try Self.reading(0, 100)])
        #expect(try await seen.wait(seconds: Self.startup) { $0 == 1 }, "seen: \(seen.all)")
        // and it listens again
        _ = try a.append([try Self.reading(5, 90)])
        #expect(try await seen.wait(seconds: Self.prompt) { $0 == 2 }, "seen: \(seen.all)")
    }

    @Test(.enabled(if: enabled, skip))
    func closingTheStorageEndsTheFeed() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let (_, b) = try Self.twoProcesses(scratch)
        let storage = try #require(b.storage as? PostgresStorage)
        let (seen, consumer) = Self.consume(storage.changes())
        #expect(try await seen.wait(seconds: Self.startup) { $0 == 0 })
        storage.close()
        // the consumer's loop ends (the stream finished): within seconds on an idle machine (the same starvation applies)
        let deadline = ContinuousClock.now + .seconds(Self.prompt)
        let ended = Task { try await consumer.value; return ContinuousClock.now }
        let timeout = Task { try await Task.sleep(until: deadline); consumer.cancel() }
        let endedAt = try await ended.value
        timeout.cancel()
        #expect(endedAt < deadline)
        // a closed storage's feed ends at once
        var after = storage.changes().makeAsyncIterator()
        #expect(try await after.next() == nil)
    }

    /// Raises an alert on every glucose reading below 70 mg/dL (what the watch writes and publishes).
    struct LowReadingWatcher: ThreadWatcher {
        var name: String { "low-reading" }
        func isTrigger(_ event: Event) -> Bool { event.category == .observation }
        func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
            update.events.compactMap { e -> EventDraft? in
                guard case .quantity(let q)? = e.value, let low = LowGlucoseReading(value: q.value, event: e) else { return nil }
                return low.draft(twin: update.twin, source: Source(.model, "low-reading"), context: update.marker(watcher: name))
            }
        }
    }

    @Test(.enabled(if: enabled, skip))
    func aWatchOnOneProcessAlertsPromptlyOnAReadingAppendedByAnother() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let (a, b) = try Self.twoProcesses(scratch)
        _ = try a.append([try Self.reading(0, 60)])
        let channel = LiveChannel<WatchNotice>()
        let notices = channel.subscribe()
        // a poll every hour (longer than the test may run: it is cancelled after `startup`), so only a notification can
        // bring the second alert
        let service = try WatchService(bank: b, twins: [Self.twin], watchers: [LowReadingWatcher()], channel: channel, interval: .seconds(3600))
        let started = ContinuousClock.now
        let running = Task { try await service.run() }
        let alerts = Task { () -> [ContinuousClock.Instant] in
            var at: [ContinuousClock.Instant] = []
            for await n in notices where n.event?.category == .alert { at.append(ContinuousClock.now) }
            return at
        }
        let timeout = Task { try await Task.sleep(for: .seconds(Self.startup)); running.cancel() }
        // the watch has started and processed the first reading once it has written its alert
        var waited = 0.0
        while try a.events(ThreadQuery(twin: Self.twin, category: .alert)).isEmpty {
            try #require(waited < Self.startup, "the watch did not process the first reading")
            try await Task.sleep(for: .milliseconds(50)); waited += 0.05
        }
        let appended = ContinuousClock.now
        _ = try a.append([try Self.reading(5, 50)])
        while try a.events(ThreadQuery(twin: Self.twin, category: .alert)).count < 2 && ContinuousClock.now - appended < .seconds(Self.prompt) {
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        timeout.cancel()
        do { try await running.value } catch is CancellationError {}
        let at = await alerts.value
        try #require(at.count == 2, "alerts published: \(at.count)")
        // long before the watch's first poll after its start (an hour on): the notification woke it
        #expect(at[1] < started + .seconds(3600), "the second alert came \(at[1] - appended) after its reading")
        #expect(at[1] - appended < .seconds(Self.prompt), "the second alert came \(at[1] - appended) after its reading")
        let written = try a.events(ThreadQuery(twin: Self.twin, category: .alert))
        #expect(written.count == 2 && written.allSatisfy { $0.source == Source(.model, "low-reading") })
    }
}
