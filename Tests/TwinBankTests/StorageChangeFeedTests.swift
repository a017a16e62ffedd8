import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting

/// The change feed of a memory bank (``StorageChangeFeed``): the current last sequence first, then one value after
/// each committed write that appends, retracts or erases; nothing for a rolled-back write or one that changes no
/// event; the latest for a subscriber that fell behind; SQLite has no feed (its watchers poll).
@Suite struct StorageChangeFeedTests {
    static func bank() throws -> Bank {
        let bank = try makeBank(.memory)
        try bank.createTwin(person("p1"))
        return bank
    }

    /// What a consumer of a feed saw, in order: a task iterates the stream until ``stop()``.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int64] = []
        private var task: Task<Void, any Error>?

        init(_ stream: AsyncThrowingStream<Int64, any Error>) {
            task = Task { [self] in for try await v in stream { add(v) } }
        }
        private func add(_ v: Int64) { lock.withLock { values.append(v) } }
        var all: [Int64] { lock.withLock { values } }
        /// The values seen once there are `count` (or after a second, those there are).
        func values(count: Int) async throws -> [Int64] {
            for _ in 0..<100 where all.count < count { try await Task.sleep(for: .milliseconds(10)) }
            return all
        }
        func stop() { task?.cancel() }
    }

    @Test func startsWithTheCurrentSequenceThenSignalsEachCommittedChange() async throws {
        let bank = try Self.bank()
        _ = try bank.append([obs("p1", "2025-12-31T10:00:00Z", 100)])
        let seen = Seen(try #require(bank.changeFeed).changes())
        defer { seen.stop() }
        #expect(try await seen.values(count: 1) == [1])

        _ = try bank.append([obs("p1", "2025-12-31T10:05:00Z", 110), obs("p1", "2025-12-31T10:10:00Z", 120)])
        #expect(try await seen.values(count: 2) == [1, 3])
        // a retraction is a change (it appends its retraction event too)
        _ = try bank.retract(source: cgm, reason: "sensor fault")
        #expect(try await seen.values(count: 3) == [1, 3, try bank.lastSequence()])
        #expect(try bank.lastSequence() > 3)
    }

    @Test func aRolledBackWriteOrOneThatChangesNoEventSignalsNothing() async throws {
        let bank = try Self.bank()
        let storage = try #require(bank.storage as? MemoryStorage)
        let seen = Seen(storage.changes())
        defer { seen.stop() }
        #expect(try await seen.values(count: 1) == [0])
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try storage.write { w in
                try w.append([], batch: BatchRecord(firstSequence: 1, lastSequence: 1, recorded: t("2026-01-01T00:00:00Z")))
                throw Abort()
            }
        }
        try storage.write { w in try w.setRef("branch/x", "y") }
        #expect(try storage.read { try $0.lastSequence() } == 0)
        #expect(try await seen.values(count: 2) == [0])
        // the next committed change is signalled
        _ = try bank.append([obs("p1", "2025-12-31T10:00:00Z", 100)])
        #expect(try await seen.values(count: 2) == [0, 1])
    }

    @Test func aSubscriberThatFellBehindGetsTheLatest() async throws {
        let bank = try Self.bank()
        let feed = try #require(bank.changeFeed)
        let stream = feed.changes()
        // nobody reads while five appends commit: of the first value (0) and the five after it, only the latest is kept
        for k in 0..<5 { _ = try bank.append([obs("p1", "2025-12-31T10:0\(k):00Z", 100 + Double(k))]) }
        let seen = Seen(stream)
        defer { seen.stop() }
        #expect(try await seen.values(count: 2) == [5])
    }

    @Test func eachSubscriberGetsEveryChangeAndAnEndedOneIsDropped() async throws {
        let bank = try Self.bank()
        let feed = try #require(bank.changeFeed)
        let gone = Seen(feed.changes())
        #expect(try await gone.values(count: 1) == [0])
        gone.stop()
        let a = Seen(feed.changes()), b = Seen(feed.changes())
        defer { a.stop(); b.stop() }
        #expect(try await a.values(count: 1) == [0])
        #expect(try await b.values(count: 1) == [0])
        _ = try bank.append([obs("p1", "2025-12-31T10:00:00Z", 100)])
        #expect(try await a.values(count: 2) == [0, 1])
        #expect(try await b.values(count: 2) == [0, 1])
        #expect(gone.all == [0])
    }

    @Test func sqliteHasNoFeed() throws {
        let bank = try makeBank(.sqlite)
        #expect(bank.changeFeed == nil)
    }
}
