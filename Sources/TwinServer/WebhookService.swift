import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TwinBank
import TwinCore
import TwinServerAPI
import TwinSync

/// POSTs each alert a watch writes to every configured URL as JSON (``WebhookAlert``), retrying a failed delivery
/// (a connection error or a non-2xx answer) with exponential backoff: after ``backoff``, then twice as long, up to
/// ``attempts`` attempts in all; every failure and every abandoned alert is logged. A `Service` of the server's group.
///
/// Guarantees: each URL receives the alerts in the order they were written, one at a time; a URL that is down does not
/// hold up the others or the server (each URL has its own bounded buffer, ``LiveChannel``'s: when full, its oldest
/// alert is dropped, counted and logged). Delivery is at least once per attempt that reached the receiver (an answer
/// lost on the way back makes a retry): receivers deduplicate by the alert's `event.id` or by `X-Twinbank-Delivery`
/// (one id per alert and URL, the same on every retry and after a restart). Every attempt is signed by ``signer`` at
/// its own time (`X-Twinbank-Signature: t=UNIX,v1=HEX`, ``WebhookSigner``), so a receiver can refuse an altered body or
/// a late replay.
///
/// **Kept across a restart.** Each URL has a cursor in the bank's storage (``TwinBank/WebhookCursorStore``): the bank
/// sequence of the last alert delivered (a 2xx) or abandoned (its attempts exhausted) for it; it advances only then,
/// never while an alert is still being tried. On start the service first replays, per URL and in sequence order, the
/// alerts written after its cursor (read from the watched twins' threads through the bank's gate, as the watch's actor:
/// alert events, not retracted, that carry the ``TwinSync/ThreadUpdate/marker(watcher:)`` of one of the watch's
/// watchers; the body is the one the live notice would have carried), then follows the watch's live notices, skipping
/// those at or before what it replayed. A URL seen for the first time starts at the bank's current end (its cursor is
/// recorded at once): history is not sent.
public struct WebhookService: Service {
    public let urls: [URL]
    public let attempts: Int
    public let backoff: Duration
    /// Signs each POST.
    public let signer: WebhookSigner
    /// The bank the alerts are replayed from (the watch's, acting as its actor).
    public let bank: Bank
    /// The watched twins: only their alerts are sent.
    public let twins: [TwinID]
    /// The names of the watch's watchers: only the alerts they wrote are replayed.
    public let watchers: Set<String>
    /// Where each URL's cursor is kept.
    public let cursors: any WebhookCursorStore
    let subscriptions: [AsyncStream<WatchNotice>]
    let logger: Logger
    let timeout: TimeAmount

    /// Subscribes to `watch`'s notices now (so no alert published after this is missed).
    /// - Parameter cursors: where each URL's cursor is kept (``TwinBankAccess/BankLocation/webhookCursorStore(of:)``
    ///   of the bank's storage; a ``TwinBank/MemoryWebhookCursorStore`` keeps them for the process only).
    public init(urls: [URL], watch: WatchService, cursors: any WebhookCursorStore, signer: WebhookSigner, attempts: Int = 5,
                backoff: Duration = .milliseconds(500), timeout: TimeAmount = .seconds(10), logger: Logger = Logger(label: "twinbank.webhooks")) {
        self.urls = urls
        self.signer = signer
        self.attempts = max(1, attempts)
        self.backoff = backoff > .zero ? backoff : .milliseconds(500)
        self.bank = watch.bank
        self.twins = watch.twins
        self.watchers = Set(watch.watchers.map(\.name))
        self.cursors = cursors
        self.subscriptions = urls.map { _ in watch.channel.subscribe() }
        self.logger = logger
        self.timeout = timeout
    }

    /// How one alert's delivery to one URL ended.
    enum Outcome: Sendable, Equatable {
        /// The receiver answered 2xx.
        case delivered
        /// Every attempt failed: given up (logged).
        case abandoned
        /// The service was cancelled before the alert was delivered or given up: it is still pending.
        case interrupted
    }

    /// Reads the cursors (recording the bank's current end for a URL seen for the first time), replays what each URL
    /// has not had, then follows the live notices until they end and the group asks the service to stop.
    /// - Throws: the storage's errors reading the cursors, the bank's last sequence or the alerts to replay.
    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let (start, last) = try await startingPoints()
            let replay = try await alerts(after: start.values.min() ?? last, through: last)
            await withTaskGroup(of: Void.self) { group in
                for (url, subscription) in zip(urls, subscriptions) {
                    let from = start[url.absoluteString] ?? last
                    group.addTask { await follow(url, from: from, replaying: replay.filter { $0.sequence > from }, subscription, client: client) }
                }
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        // The channel ends when the watch stops, which the service group does first on shutdown; wait until the
        // group asks this service to stop too: a service that returns before it is asked makes the group fail
        // ("finished unexpectedly"), and `serve` exit 1 on SIGTERM. Outside a group (a test), cancellation ends the wait.
        if !Task.isCancelled { try? await gracefulShutdown() }
        try await client.shutdown()
    }

    /// Each URL's cursor and the bank's last sequence; a URL without a cursor gets one at that last sequence, recorded.
    func startingPoints() async throws -> (cursors: [String: Int64], last: Int64) {
        let store = cursors, keys = urls.map(\.absoluteString)
        return try await bank.run { bank in
            let last = try bank.lastSequence()
            var known = try store.cursors()
            for key in keys where known[key] == nil {
                try store.advance(key, to: last)
                known[key] = last
            }
            return (known.filter { keys.contains($0.key) }, last)
        }
    }

    /// The alerts the watch's notices carried with sequences in `(cursor, last]`, in sequence order: alert events of the
    /// watched twins (their own threads, not retracted) bearing one of the watchers' update markers.
    func alerts(after cursor: Int64, through last: Int64) async throws -> [(sequence: Int64, alert: WebhookAlert)] {
        guard last > cursor else { return [] }
        let twins = self.twins, watchers = self.watchers
        let notices = try await bank.run { bank -> [WatchNotice] in
            var out: [WatchNotice] = []
            for twin in twins {
                for e in try bank.events(ThreadQuery(twin: twin, category: .alert)) where e.twin == twin && e.sequence > cursor && e.sequence <= last {
                    guard let marker = Self.marker(in: e.provenance.notes), watchers.contains(marker.watcher) else { continue }
                    out.append(WatchNotice(twin: twin, watcher: marker.watcher, update: marker.update, event: e))
                }
            }
            return out
        }
        return notices.compactMap { n in n.event.map { e in (e.sequence, WebhookAlert(n, event: e)) } }.sorted { $0.sequence < $1.sequence }
    }

    /// The watcher and update of a ``TwinSync/ThreadUpdate/marker(watcher:)`` (`watch=NAME watch-update=N`) in an
    /// event's provenance notes.
    static func marker(in notes: String?) -> (watcher: String, update: Int64)? {
        guard let notes, let u = notes.range(of: " watch-update=") else { return nil }
        let before = notes[..<u.lowerBound]
        guard let w = before.range(of: "watch=", options: .backwards) else { return nil }
        let watcher = String(before[w.upperBound...])
        guard !watcher.isEmpty, !watcher.contains(" "), let update = Int64(notes[u.upperBound...].prefix { $0.isNumber }) else { return nil }
        return (watcher, update)
    }

    /// One URL: the replayed alerts, then the live ones after them, each delivered (or abandoned) before the next, the
    /// cursor advanced after each; returns when the notices end or the service is cancelled.
    func follow(_ url: URL, from start: Int64, replaying replay: [(sequence: Int64, alert: WebhookAlert)], _ subscription: AsyncStream<WatchNotice>,
                client: HTTPClient) async {
        var cursor = start
        if !replay.isEmpty {
            logger.info("webhook: sending the alerts not delivered before the restart", metadata: ["url": "\(url)", "after": "\(start)", "alerts": "\(replay.count)"])
        }
        for (sequence, alert) in replay {
            guard await deliver(alert, to: url, client: client) != .interrupted else { return }
            await advance(url, to: sequence)
            cursor = sequence
        }
        // the alerts still buffered when shutdown begins are delivered; then the loop ends with the channel
        for await notice in subscription {
            guard let event = notice.event, event.category == .alert, event.sequence > cursor else { continue }
            guard await deliver(WebhookAlert(notice, event: event), to: url, client: client) != .interrupted else { return }
            await advance(url, to: event.sequence)
            cursor = event.sequence
        }
    }

    /// Records `url`'s cursor at `sequence`, also when the service is being cancelled (the alert was delivered or given
    /// up: that must not be lost to a stop that comes right after); a failure is logged (the alert may then be sent
    /// again after a restart: at least once).
    func advance(_ url: URL, to sequence: Int64) async {
        let store = cursors, key = url.absoluteString, bank = self.bank
        let write = Task.detached { try await bank.run { _ in try store.advance(key, to: sequence) } }
        do { try await write.value } catch {
            logger.error("webhook: cannot record the delivery cursor; the alert may be sent again after a restart", metadata: ["url": "\(url)", "sequence": "\(sequence)", "error": "\(error)"])
        }
    }

    /// Delivers one alert, retrying with backoff.
    func deliver(_ alert: WebhookAlert, to url: URL, client: HTTPClient) async -> Outcome {
        let body: Data
        do { body = try LiveLink.encoder.encode(alert) } catch {
            logger.error("webhook: cannot encode the alert", metadata: ["error": "\(error)"])
            return .abandoned
        }
        let bytes = [UInt8](body)
        let delivery = WebhookSigner.deliveryID(url: url, event: alert.event.id)
        var wait = backoff
        for attempt in 1...attempts {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "twinbank/\(TwinbankVersion.current)")
            request.headers.add(name: WebhookSigner.deliveryHeader, value: delivery)
            // signed at each attempt's own time, so a retry after a long backoff is within the receiver's tolerance
            request.headers.add(name: WebhookSigner.signatureHeader, value: signer.signature(body: bytes, time: Int64(Date().timeIntervalSince1970)))
            request.body = .bytes(ByteBuffer(bytes: bytes))
            var problem: String
            do {
                let response = try await client.execute(request, timeout: timeout)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(Int(response.status.code)) {
                    logger.debug("webhook delivered", metadata: ["url": "\(url)", "event": "\(alert.event.id)", "delivery": "\(delivery)", "attempt": "\(attempt)"])
                    return .delivered
                }
                problem = "HTTP \(response.status.code)"
            } catch {
                problem = "\(error)"
            }
            // stopped mid-delivery: the alert stays pending (its cursor does not move), sent again after a restart
            if Task.isCancelled { return .interrupted }
            if attempt == attempts {
                logger.error("webhook: alert abandoned after \(attempts) attempts", metadata: ["url": "\(url)", "event": "\(alert.event.id)", "last": "\(problem)"])
                return .abandoned
            }
            logger.warning("webhook: delivery failed, retrying", metadata: ["url": "\(url)", "event": "\(alert.event.id)", "attempt": "\(attempt)", "problem": "\(problem)", "retryIn": "\(wait)"])
            do { try await Task.sleep(for: wait) } catch { return .interrupted }
            wait = wait * 2
        }
        return .abandoned
    }
}

/// The JSON body of a webhook POST: the twin, the watcher, the update it came from, and the alert event as
/// `GET /api/v1/twins/{id}/events` returns it.
public struct WebhookAlert: Encodable, Sendable {
    public var type = "alert"
    public var twin: String
    public var watcher: String
    public var update: Int64
    public var event: Components.Schemas.Event

    init(_ n: WatchNotice, event: Event) {
        twin = n.twin.rawValue; watcher = n.watcher; update = n.update; self.event = APIMapping.event(event)
    }
}
