import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinSync

/// A watcher that alerts on every observation below 70 (a stand-in for the glucose watcher's reading alert, cheap
/// and deterministic).
struct BelowSeventyWatcher: ThreadWatcher {
    var name: String { "below-70" }
    func isTrigger(_ event: Event) -> Bool { event.category == .observation }
    func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        // the library's own low-reading alert (the glucose watcher's), on every update rather than once per episode
        update.events.compactMap { e -> EventDraft? in
            guard case .quantity(let q)? = e.value, let low = LowGlucoseReading(value: q.value, event: e) else { return nil }
            return low.draft(twin: update.twin, source: Source(.model, "below-70"), context: update.marker(watcher: name))
        }
    }
}

@Suite struct LiveFeedTests {
    static let glucose = Concept(system: "http://loinc.org", code: "15074-8")
    static let t0 = Instant(microseconds: 1_767_225_600_000_000) // 2026-01-01T00:00:00Z

    static func reading(_ twin: TwinID, _ minute: Int, _ value: Double) -> EventDraft {
        .observation(twin, at: t0.advanced(bySeconds: Double(minute * 60)), code: glucose, Quantity(value, "mg/dL"), source: Source(.device, "cgm"))
    }

    /// Runs `body` with the feed running; stops the feed after.
    static func running<T>(_ feed: LiveFeed, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await feed.run() }
        defer { task.cancel() }
        while feed.publishedThrough < 0 { try await Task.sleep(for: .milliseconds(1)) }
        return try await body()
    }

    /// `started()` waits until the feed has read where it begins, so a subscriber made after it gets everything written
    /// after it (a device that connects as the server starts sees its first readings come back); it returns at once once
    /// begun, and once the feed has ended without beginning.
    @Test func startedWaitsForTheFeedsBeginning() async throws {
        let bank = Bank(storage: MemoryStorage())
        let a: TwinID = "live-a"
        _ = try bank.createTwin(Twin(id: a, kind: .person))
        let feed = LiveFeed(bank: bank, interval: .milliseconds(5))
        let waiting = Task { await feed.started(); return feed.publishedThrough }
        try await Task.sleep(for: .milliseconds(50))
        #expect(feed.publishedThrough == -1)   // not begun: the waiter is still waiting
        let task = Task { try await feed.run() }
        defer { task.cancel() }
        let begun = await waiting.value
        #expect(begun >= 0)
        let sub = feed.subscribe(a)
        try bank.append([Self.reading(a, 1, 101)])
        var got: [Int64] = []
        for await item in sub.stream {
            if case .event(let e) = item.message { got.append(e.sequence) }
            if !got.isEmpty { break }
        }
        #expect(got == [try bank.lastSequence()])
        await feed.started()   // at once, now
        // a feed that ends before it begins releases its waiters
        let never = LiveFeed(bank: bank)
        let released = Task { await never.started(); return true }
        never.finish()
        #expect(await released.value)
    }

    /// Events appended to two twins, interleaved: each twin's subscriber gets its own twin's, in sequence order,
    /// positions 1, 2, 3... and none of the other twin's.
    @Test func eachSubscriberGetsItsTwinsNewEventsInOrder() async throws {
        let bank = Bank(storage: MemoryStorage())
        let a: TwinID = "live-a", b: TwinID = "live-b"
        for t in [a, b] { _ = try bank.createTwin(Twin(id: t, kind: .person)) }
        try bank.append([Self.reading(a, 0, 100)])   // before the feed: not delivered
        let feed = LiveFeed(bank: bank, interval: .milliseconds(5))
        let received: [LiveItem] = try await Self.running(feed) {
            let sub = feed.subscribe(a)
            #expect(sub.position == 0)
            for i in 1...6 {
                try bank.append([Self.reading(a, i, Double(100 + i))])
                try bank.append([Self.reading(b, i, Double(200 + i))])
            }
            var out: [LiveItem] = []
            for await item in sub.stream {
                out.append(item)
                if out.count == 6 { break }
            }
            return out
        }
        let events = received.compactMap { item -> Event? in if case .event(let e) = item.message { return e } else { return nil } }
        #expect(events.count == 6)
        #expect(events.allSatisfy { $0.twin == a })
        #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
        #expect(events.map { if case .quantity(let q)? = $0.value { q.value } else { 0 } } == (1...6).map { Double(100 + $0) })
        #expect(received.map(\.position) == Array(1...6))
    }

    /// A subscriber that does not read keeps only the newest `bufferSize` items; the positions say how many were lost;
    /// the feed itself never waits.
    @Test func aSubscriberThatDoesNotReadLosesTheOldestAndKnowsHowMany() async throws {
        let bank = Bank(storage: MemoryStorage())
        let a: TwinID = "live-slow"
        _ = try bank.createTwin(Twin(id: a, kind: .person))
        let feed = LiveFeed(bank: bank, bufferSize: 4, interval: .milliseconds(5))
        let items: [LiveItem] = try await Self.running(feed) {
            let sub = feed.subscribe(a)
            for i in 1...10 { try bank.append([Self.reading(a, i, 100)]) }
            let last = try bank.lastSequence()
            while feed.publishedThrough < last { try await Task.sleep(for: .milliseconds(1)) }
            feed.finish()
            var out: [LiveItem] = []
            for await item in sub.stream { out.append(item) }
            return out
        }
        #expect(items.map(\.position) == [7, 8, 9, 10])
    }

    /// With a watch service in the same process, the alerts it writes arrive among the twin's events, after the
    /// reading that caused them; a watcher's failure arrives as a watch error.
    @Test func watchAlertsAndFailuresArriveOnTheTwinsFeed() async throws {
        let bank = Bank(storage: MemoryStorage())
        let a: TwinID = "live-watched"
        _ = try bank.createTwin(Twin(id: a, kind: .person))
        let watch = try WatchService(bank: bank, twins: [a], watchers: [BelowSeventyWatcher(), FailingWatcher()], interval: .milliseconds(5))
        let feed = LiveFeed(bank: bank, notices: watch.channel, interval: .milliseconds(5))
        let watching = Task { try await watch.run() }
        defer { watching.cancel() }
        let items: [LiveItem] = try await Self.running(feed) {
            let sub = feed.subscribe(a)
            try bank.append([Self.reading(a, 1, 90)])
            try bank.append([Self.reading(a, 2, 65)])
            var out: [LiveItem] = []
            var alerts = 0, failures = 0
            for await item in sub.stream {
                out.append(item)
                switch item.message {
                case .event(let e) where e.category == .alert: alerts += 1
                case .watchError: failures += 1
                default: break
                }
                if alerts == 1 && failures == 2 { break }
            }
            return out
        }
        let events = items.compactMap { item -> Event? in if case .event(let e) = item.message { return e } else { return nil } }
        let low = try #require(events.first { if case .quantity(let q)? = $0.value { q.value == 65 } else { false } })
        let alert = try #require(events.first { $0.category == .alert })
        #expect(alert.sequence > low.sequence)
        #expect(alert.provenance.derivedFrom == [low.id])
        #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
        #expect(items.map(\.position) == Array(1...Int64(items.count)))
    }

    /// The local change feed reports this process's writes through it, and a write straight to the wrapped storage
    /// (as another process would make) within its poll interval.
    @Test func localChangeFeedReportsOwnWritesAndOthers() async throws {
        let base = MemoryStorage()
        let wrapped = LocalChangeFeed(base: base, pollInterval: .milliseconds(5))
        let bank = Bank(storage: wrapped), other = Bank(storage: base)
        let a: TwinID = "live-feed"
        _ = try bank.createTwin(Twin(id: a, kind: .person))
        #expect(bank.changeFeed != nil)
        #expect(LocalChangeFeed.wrapping(base) is MemoryStorage)
        var changes = wrapped.changes().makeAsyncIterator()
        let start = try #require(try await changes.next())
        #expect(start == (try bank.lastSequence()))
        try bank.append([Self.reading(a, 1, 100)])
        let own = try bank.lastSequence()
        while let n = try await changes.next(), n < own {}
        try other.append([Self.reading(a, 2, 100)])
        let theirs = try other.lastSequence()
        var seen: Int64 = 0
        while seen < theirs, let n = try await changes.next() { seen = n }
        #expect(seen == theirs)
    }
}
