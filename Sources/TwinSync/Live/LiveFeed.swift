import Foundation
import ServiceLifecycle
import TwinBank
import TwinCore

/// One message of a twin's live feed (``LiveFeed``).
public struct LiveItem: Sendable, Hashable {
    /// What the feed delivers.
    public enum Message: Sendable, Hashable {
        /// A new event of the twin's thread, as recorded: an observation appended by anyone, or what a watcher wrote
        /// (a forecast as `prediction` events, an `alert`, a `recommendation`).
        case event(Event)
        /// A watcher that failed on an update of the twin (it wrote nothing for that update).
        case watchError(WatchNotice)
    }

    /// The item's place in its twin's feed: 1, 2, 3... with no gap, so a subscriber that sees a jump knows how many
    /// items its full buffer dropped (``LiveChannel``: drop-oldest).
    public var position: Int64
    public var message: Message

    public init(position: Int64, message: Message) { self.position = position; self.message = message }
}

/// The live view of twins' threads, per twin: every event appended to the bank from the moment the feed runs (by
/// this process or any other: the REST API, the FHIR facade, a device's WebSocket, a `twinbank thread append`), and
/// the failures a ``WatchService`` publishes, fanned out to each twin's subscribers. A `Service` of
/// swift-service-lifecycle.
///
/// How it follows: as ``WatchService`` does (the bank's ``TwinBank/StorageChangeFeed`` when it has one, with a look
/// every ``interval`` as a safety net; else a poll of the last sequence every ``interval``), then it reads the new
/// events of the whole bank in sequence order (in pages) and publishes each on its twin's channel, when the twin has
/// a subscriber, through the bank's gated calls (as the feed's bank's actor: each read is decided and audited).
///
/// Guarantees:
/// - **In order**: a subscriber receives its twin's events in sequence order, each at most once, and the alerts and
///   forecasts watchers write among them in the order they were written (they are events of the thread).
/// - **Bounded**: each subscriber buffers at most ``bufferSize`` items; a subscriber that does not keep up loses the
///   **oldest** (never blocks the feed or grows memory); ``LiveItem/position`` tells it how many it lost. The thread
///   is the record: a subscriber that must see everything reads the thread after the last sequence it has (see
///   ``subscribe(_:)``'s `after`).
/// - Reads the bank as the feed's bank's actor (the server's owner): a server checks a subscriber's own access to the
///   twin when it subscribes and applies the gate's filter for that subscriber to each event it forwards.
/// - Ends (every subscription finishes) on graceful shutdown or cancellation.
public final class LiveFeed: Service, @unchecked Sendable {
    public let bank: Bank
    /// The most items a subscriber buffers.
    public let bufferSize: Int
    /// The longest wait between two looks at the bank.
    public let interval: Duration
    /// Where a watch service publishes its notices (its failures are forwarded; its alerts arrive as events).
    public let notices: LiveChannel<WatchNotice>?
    private let noticeSubscription: AsyncStream<WatchNotice>?

    private let lock = NSLock()
    private var channels: [TwinID: LiveChannel<LiveItem>] = [:]
    private var positions: [TwinID: Int64] = [:]
    private var cursor: Int64 = -1
    private var inFlight: (through: Int64, twins: Set<TwinID>)?
    private var ended = false
    private var startWaiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameters:
    ///   - bank: the bank to follow (its actor must be allowed to read every twin, e.g. the server's owner).
    ///   - notices: a watch service's channel, whose failures are forwarded to the twin's subscribers.
    public init(bank: Bank, notices: LiveChannel<WatchNotice>? = nil, bufferSize: Int = 1024, interval: Duration = .seconds(1)) {
        self.bank = bank
        self.notices = notices
        self.noticeSubscription = notices?.subscribe()
        self.bufferSize = max(1, bufferSize)
        self.interval = interval > .zero ? interval : .seconds(1)
    }

    /// A subscription to `twin`'s feed; `after`: the last sequence the feed had published when it began (-1
    /// before the feed has started). Every event of the twin with a higher sequence will be delivered (unless a full
    /// buffer drops it), so reading the thread after `after` and then the stream (skipping sequences already read)
    /// misses nothing. `position`: the position of the twin's last item before the subscription (its first item is
    /// `position + 1` unless dropped). A finished feed gives a finished stream.
    public func subscribe(_ twin: TwinID) -> (stream: AsyncStream<LiveItem>, after: Int64, position: Int64) {
        lock.withLock {
            if ended { return (AsyncStream { $0.finish() }, cursor, positions[twin] ?? 0) }
            let channel: LiveChannel<LiveItem>
            if let c = channels[twin] { channel = c } else {
                channel = LiveChannel(bufferSize: bufferSize)
                channels[twin] = channel
            }
            // a page being read without this twin: its events up to the page's end are not coming live
            let after = inFlight.map { $0.twins.contains(twin) ? cursor : $0.through } ?? cursor
            return (channel.subscribe(), after, positions[twin] ?? 0)
        }
    }

    /// The last sequence published (-1 before the feed started).
    public var publishedThrough: Int64 { lock.withLock { cursor } }

    /// Returns once the feed has read where it begins (or has ended). A subscription made after this misses nothing
    /// written after it; one made before could miss what was written between it and the feed's start (the feed
    /// begins at the bank's last sequence then), so a server subscribes a client only after this.
    public func started() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                if cursor >= 0 || ended { return true }
                startWaiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Current subscribers of `twin`.
    public func subscriberCount(_ twin: TwinID) -> Int { lock.withLock { channels[twin]?.subscriberCount ?? 0 } }

    public func run() async throws {
        defer { finish() }
        try await BlockingWork.forbiddingOnTasks {
            let start = try await bank.run { try $0.lastSequence() }
            begin(at: start)
            // a change feed's wake carries the committed sequence to publish through; a timer's does not (read it)
            let (wakes, wake) = AsyncStream.makeStream(of: Int64?.self, bufferingPolicy: .bufferingNewest(1))
            let interval = self.interval
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let feed = bank.changeFeed {
                    group.addTask { do { for try await last in feed.changes() { wake.yield(last) } } catch {} }
                }
                group.addTask {
                    while true {
                        do { try await Task.sleep(for: interval) } catch { return }
                        wake.yield(nil)
                    }
                }
                if let notices = noticeSubscription {
                    group.addTask { [self] in for await n in notices where n.error != nil { publish(n.twin, .watchError(n)) } }
                }
                try await withGracefulShutdownHandler {
                    var next = wakes.makeAsyncIterator()
                    var known: Int64? = nil
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        try await advance(known: known)
                        guard let woken = await next.next() else { break }
                        known = woken
                    }
                } onGracefulShutdown: {
                    wake.finish()
                }
                group.cancelAll()
            }
        }
    }

    /// Publishes every event committed after the cursor to the twins that have subscribers, page by page, and moves
    /// the cursor: up to `known` when the change feed told it (a committed sequence), else to the bank's last sequence.
    /// Reads through the gated calls (`lastSequence()`, `events(of:sequences:)` per subscribed twin).
    func advance(known: Int64? = nil) async throws {
        let last: Int64
        if let known { last = known } else { last = try await bank.run { try $0.lastSequence() } }
        var from = publishedThrough + 1
        while from <= last {
            let page = min(last, from + 9_999)
            let range = from...page
            let twins = beginPage(through: page)
            var fresh: [(TwinID, [Event])] = []
            do {
                for t in twins {
                    fresh.append((t, try await bank.run { try $0.events(of: t, sequences: range) }))
                }
            } catch {
                endPage(at: nil)
                throw error
            }
            for (t, events) in fresh {
                for e in events.sorted(by: { $0.sequence < $1.sequence }) { publish(t, .event(e)) }
            }
            endPage(at: page)
            from = page + 1
        }
    }

    private func begin(at start: Int64) {
        let waiters = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            if cursor < 0 { cursor = start }
            defer { startWaiters.removeAll() }
            return startWaiters
        }
        for w in waiters { w.resume() }
    }

    /// The twins whose events a page through `page` is read for (those with subscribers now); a twin subscribing while
    /// the page is read is told the page's end as its `after` (it will not get the page's events live).
    private func beginPage(through page: Int64) -> [TwinID] {
        lock.withLock {
            let twins = channels.filter { $0.value.subscriberCount > 0 }.map(\.key)
            inFlight = (page, Set(twins))
            return twins
        }
    }

    private func endPage(at page: Int64?) {
        lock.withLock {
            if let page { cursor = page }
            inFlight = nil
        }
    }

    private func publish(_ twin: TwinID, _ message: LiveItem.Message) {
        lock.withLock {
            guard let channel = channels[twin] else { return }
            guard channel.subscriberCount > 0 else { channels[twin] = nil; return }
            let position = (positions[twin] ?? 0) + 1
            positions[twin] = position
            channel.publish(LiveItem(position: position, message: message))
        }
    }

    /// Ends every subscription; later ones are finished at once.
    public func finish() {
        let (all, waiters) = lock.withLock { () -> ([LiveChannel<LiveItem>], [CheckedContinuation<Void, Never>]) in
            ended = true
            defer { channels.removeAll(); startWaiters.removeAll() }
            return (Array(channels.values), startWaiters)
        }
        for c in all { c.finish() }
        for w in waiters { w.resume() }
    }
}
