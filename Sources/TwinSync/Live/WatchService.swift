import Foundation
import ServiceLifecycle
import TwinBank
import TwinCore
import UnixSignals

/// Follows twins' threads and runs the subscribed ``ThreadWatcher``s on each update, writing what they raise
/// back to the thread and publishing the alerts and recommendations on a ``LiveChannel``: the watcher half of
/// the two-way link, as a `Service` of swift-service-lifecycle.
///
/// How it follows: when the bank's storage pushes its changes (``TwinBank/StorageChangeFeed``: a PostgreSQL bank's
/// `LISTEN`/`NOTIFY`, across processes; a memory bank's own writes) it wakes on each committed change, and every
/// ``interval`` as a safety net; on other storage (a SQLite file, which cannot push another process's writes) every
/// ``interval`` it asks the bank for its last sequence number (cheap). When that has grown (a write by this process
/// or any other, e.g. `twinbank thread append` on the same bank), it reads each
/// twin's new events, groups them by append batch (one recorded time) and, batch by batch in sequence order,
/// runs every watcher that has a trigger in the batch on the thread as known right after it
/// (``ThreadUpdate``). The drafts of all watchers for one update are appended as one batch (all or nothing).
///
/// Guarantees:
/// - **Once**: an event a watcher returns is appended only if the thread (retracted events included) does
///   not already hold it (same content hash). Watchers are deterministic per update, so an update processed
///   again (after a crash, a restart, or by a second watch process) writes and publishes nothing new.
/// - **Resumes from the thread**: on start, each twin's cursor is the highest update marker (`watch-update=N`
///   in provenance notes) of the events watchers wrote; later updates are processed (again), earlier ones are
///   not. Without markers, the whole thread is processed.
/// - Only alerts and recommendations newly written are published, after their batch is committed, in sequence
///   order; a watcher that throws on an update publishes a notice with the error, writes nothing for that
///   update, and the service continues.
/// - Graceful shutdown (SIGTERM/SIGINT under ``serve(onNotice:)``, or the service group's) lets the update in
///   progress finish and its batch commit, then returns and finishes the channel; cancellation stops at the
///   next sleep.
public struct WatchService: Service {
    public let bank: Bank
    public let twins: [TwinID]
    public let watchers: [any ThreadWatcher]
    public let channel: LiveChannel<WatchNotice>
    /// Time between polls of the bank's last sequence number (with a change feed: the longest wait between two
    /// looks, should a notification be lost).
    public let interval: Duration
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - clock: the clock the service sleeps on between polls (a test can pass its own).
    /// - Throws: ``SyncError`` `invalidArgument` when there is no twin or watcher, or the interval is not positive;
    ///   ``BankError`` `accessDenied` when the bank's actor may not `sync` (or `read`) a twin, `unknownTwin`.
    public init(bank: Bank, twins: [TwinID], watchers: [any ThreadWatcher], channel: LiveChannel<WatchNotice> = .init(),
                interval: Duration = .seconds(5), clock: some _Concurrency.Clock<Duration> = ContinuousClock()) throws {
        guard !twins.isEmpty else { throw SyncError(.invalidArgument, "a watch needs at least one twin.", value: nil) }
        guard !watchers.isEmpty else { throw SyncError(.invalidArgument, "a watch needs at least one watcher.", value: nil) }
        guard interval > .zero else { throw SyncError(.invalidArgument, "the poll interval must be positive.", value: "\(interval)") }
        // Watching a twin is synchronising it with its data: asked as `sync` (and its reads as `read`).
        for t in twins { try bank.authorize(.sync, t); _ = try bank.twin(t) }
        self.bank = bank
        self.twins = twins
        self.watchers = watchers
        self.channel = channel
        self.interval = interval
        self.sleep = { try await clock.sleep(for: $0) }
    }

    /// Follows the bank until graceful shutdown or cancellation, then finishes the channel: when its storage pushes
    /// changes (``TwinBank/StorageChangeFeed``: memory, PostgreSQL across processes) it wakes on each change, and
    /// every ``interval`` as a safety net; otherwise (SQLite) it polls the last sequence every ``interval``. The bank
    /// is reached through ``TwinBank/Bank/run(_:)`` only (its storage's own threads), never blocking the cooperative
    /// pool (``TwinBank/BlockingWork/forbiddingOnTasks(_:)`` holds the whole service to it).
    public func run() async throws {
        defer { channel.finish() }
        try await BlockingWork.forbiddingOnTasks {
            var cursors: [TwinID: Int64] = [:]
            for t in twins { cursors[t] = try await resumePointOffTask(t) }
            if let feed = bank.changeFeed {
                try await follow(feed, cursors: cursors)
            } else {
                try await poll(cursors: cursors)
            }
        }
    }

    /// Processes every twin's updates up to the bank's last sequence when it is past `seen`: `known` when the change feed
    /// told it (a committed sequence), else read from the bank.
    private func advance(_ cursors: inout [TwinID: Int64], seen: inout Int64, known: Int64? = nil) async throws {
        let last: Int64
        if let known { last = known } else { last = try await bank.run { try $0.lastSequence() } }
        guard last > seen else { return }
        for t in twins { cursors[t] = try await catchUp(t, after: cursors[t] ?? 0, through: last).cursor }
        seen = last
    }

    /// Polls the last sequence every ``interval`` (a storage without a change feed).
    private func poll(cursors start: [TwinID: Int64]) async throws {
        var cursors = start, seen: Int64 = -1
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try await advance(&cursors, seen: &seen)
            do {
                let sleep = self.sleep, interval = self.interval
                try await cancelWhenGracefulShutdown { try await sleep(interval) }
            } catch is CancellationError {
                return
            }
        }
    }

    /// Wakes on each change the feed reports (the committed sequence it reports is the one caught up to: no read of
    /// the last sequence), and every ``interval`` in any case (a feed that failed or ended leaves the service polling);
    /// wake-ups during an update coalesce into one. Graceful shutdown lets the update in progress finish, then ends;
    /// cancellation ends at the next wait.
    private func follow(_ feed: any StorageChangeFeed, cursors start: [TwinID: Int64]) async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Int64?.self, bufferingPolicy: .bufferingNewest(1))
        let sleep = self.sleep, interval = self.interval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { for try await last in feed.changes() { wake.yield(last) } } catch {}
            }
            group.addTask {
                while true {
                    do { try await sleep(interval) } catch { return }
                    wake.yield(nil)
                }
            }
            var cursors = start, seen: Int64 = -1
            try await withGracefulShutdownHandler {
                var next = wakes.makeAsyncIterator()
                var known: Int64? = nil
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try await advance(&cursors, seen: &seen, known: known)
                    guard let woken = await next.next() else { break }
                    known = woken
                }
            } onGracefulShutdown: {
                wake.finish()
            }
            group.cancelAll()
        }
    }

    /// Processes what the threads hold now (from each twin's resume point), publishes and returns the
    /// notices; does not finish the channel.
    @discardableResult
    public func runOnce() async throws -> [WatchNotice] {
        try await BlockingWork.forbiddingOnTasks {
            let last = try await bank.run { try $0.lastSequence() }
            var notices: [WatchNotice] = []
            for t in twins { notices += try await catchUp(t, after: try await resumePointOffTask(t), through: last).notices }
            return notices
        }
    }

    /// ``resumePoint(_:)`` on the storage's threads.
    private func resumePointOffTask(_ twin: TwinID) async throws -> Int64 {
        let service = self
        return try await bank.run { _ in try service.resumePoint(twin) }
    }

    /// Runs the service in a service group that shuts down gracefully on SIGTERM and SIGINT, calling
    /// `onNotice` for each notice as it is published; returns after shutdown once every notice was handled.
    public func serve(onNotice: @escaping @Sendable (WatchNotice) async throws -> Void) async throws {
        let subscription = channel.subscribe()
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: .current))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { for await n in subscription { try await onNotice(n) } }
            tasks.addTask { try await group.run() }
            try await tasks.waitForAll()
        }
    }

    /// The sequence after which updates of the twin still need processing: the highest `watch-update=N`
    /// marker among the events watchers wrote to its thread (retracted included), or 0.
    public func resumePoint(_ twin: TwinID) throws -> Int64 {
        var best: Int64 = 0
        var written: [Event] = []
        for category in [Event.Category.prediction, .alert, .recommendation] {
            written += try bank.events(ThreadQuery(twin: twin, category: category, includeRetracted: true))
        }
        for e in written {
            guard let notes = e.provenance.notes, let r = notes.range(of: "watch-update=") else { continue }
            let digits = notes[r.upperBound...].prefix { $0.isNumber }
            if let n = Int64(digits) { best = max(best, n) }
        }
        return best
    }

    /// Runs the watchers on each update of the twin with highest sequence in `(cursor, through]`, oldest
    /// first; appends and publishes what is new. Returns the new cursor and the published notices.
    ///
    /// The updates are read, and the ``RuleWatcher``s evaluated on them, in one read transaction under one decision of
    /// the gate, update after update, until one has something to write, an error to tell, or a watcher that is not a
    /// rule to run: that update is then finished on its own (the other watchers run, what is new written and
    /// published), and the next transaction goes on after it. Updates that raise nothing cost no read of their own.
    public func catchUp(_ twin: TwinID, after cursor: Int64, through last: Int64) async throws -> (cursor: Int64, notices: [WatchNotice]) {
        guard last > cursor else { return (cursor, []) }
        var notices: [WatchNotice] = []
        var position = cursor
        let service = self
        while position < last {
            let from = position
            let scan = try await bank.run { bank in try bank.reading(twin) { thread in try service.scan(thread, after: from, through: last) } }
            position = max(position, scan.quietThrough)
            guard let (update, evaluated) = scan.stop else { break }
            notices += try await process(update, evaluated: evaluated)
            position = max(position, update.sequence)
        }
        return (position, notices)
    }

    /// What one read transaction of ``catchUp(_:after:through:)`` found.
    struct Scan {
        /// The highest update sequence evaluated with nothing to write or tell (the cursor when none).
        var quietThrough: Int64
        /// The first update that needs more: what the rule watchers gave on it, by watcher index.
        var stop: (update: ThreadUpdate, evaluated: [Int: Result<[EventDraft], any Error>])?
    }

    /// Reads the twin's updates in `(cursor, last]` (its own events, minus those already retracted by `last`, grouped by
    /// append batch) and evaluates the rule watchers on each, oldest first, until an update needs more than that.
    func scan(_ thread: ThreadReader, after cursor: Int64, through last: Int64) throws -> Scan {
        let fresh = try thread.events(sequences: (cursor + 1)...last).filter { e in e.retractedAtSequence.map { $0 > last } ?? true }
        var batches: [Instant: [Event]] = [:]
        for e in fresh { batches[e.recorded, default: []].append(e) }
        var quiet = cursor
        for recorded in batches.keys.sorted() {
            let events = batches[recorded, default: []].sorted { $0.sequence < $1.sequence }
            guard let top = events.last?.sequence else { continue }
            let update = ThreadUpdate(twin: thread.twin, sequence: top, recorded: recorded, events: events)
            var evaluated: [Int: Result<[EventDraft], any Error>] = [:]
            var others = false
            for (i, w) in watchers.enumerated() where events.contains(where: w.isTrigger) {
                guard let rule = w as? any RuleWatcher else { others = true; continue }
                evaluated[i] = Result { try rule.evaluate(update, reading: thread) }
            }
            let nothing = evaluated.values.allSatisfy { r in (try? r.get())?.isEmpty ?? false }
            guard !others && nothing else { return Scan(quietThrough: quiet, stop: (update, evaluated)) }
            quiet = max(quiet, top)
        }
        return Scan(quietThrough: quiet, stop: nil)
    }

    /// Runs the triggered watchers on one update (those in `evaluated` were already: their results), appends what the
    /// thread does not hold yet as one batch, then publishes its alerts and recommendations.
    func process(_ update: ThreadUpdate, evaluated: [Int: Result<[EventDraft], any Error>] = [:]) async throws -> [WatchNotice] {
        var drafts: [(watcher: String, draft: EventDraft)] = []
        var notices: [WatchNotice] = []
        for (i, w) in watchers.enumerated() where update.events.contains(where: w.isTrigger) {
            let result: Result<[EventDraft], any Error>
            if let known = evaluated[i] { result = known } else {
                do { result = .success(try await w.evaluate(update, in: bank)) } catch { result = .failure(error) }
            }
            switch result {
            case .success(let d): drafts += d.map { (w.name, $0) }
            case .failure(let error):
                let n = WatchNotice(twin: update.twin, watcher: w.name, update: update.sequence, error: "\(error)")
                channel.publish(n)
                notices.append(n)
            }
        }
        guard !drafts.isEmpty else { return notices }
        // what the thread already holds (same content), retracted included, read in the transaction that appends the
        // rest (one commit); should another watch process write the same events concurrently (storage that does not
        // serialise writers), the bank rejects them as duplicates: check again
        let candidates = drafts, twin = update.twin
        let (fresh, writtenOrNil) = try await bank.run { bank -> ([(watcher: String, draft: EventDraft)], AppendResult?) in
            var attempt = 0
            while true {
                do {
                    return try bank.write { writer in
                        let fresh = try HeldEvents.unheld(candidates.map(\.draft), twin: twin, in: writer).map { candidates[$0] }
                        guard !fresh.isEmpty else { return (fresh, nil) }
                        return (fresh, try writer.append(fresh.map(\.draft)))
                    }
                } catch let e as BankError where e.code == .duplicateEvent && attempt < 2 {
                    attempt += 1
                }
            }
        }
        guard let written = writtenOrNil else { return notices }
        for (i, d) in fresh.enumerated() where d.draft.category == .alert || d.draft.category == .recommendation {
            let event = Event(id: written.ids[i], twin: d.draft.twin, effective: d.draft.effective, recorded: written.recorded,
                              sequence: written.firstSequence + Int64(i), category: d.draft.category, code: d.draft.code, value: d.draft.value,
                              source: d.draft.source, provenance: d.draft.provenance)
            let n = WatchNotice(twin: update.twin, watcher: d.watcher, update: update.sequence, event: event)
            channel.publish(n)
            notices.append(n)
        }
        return notices
    }
}
