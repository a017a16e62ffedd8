import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
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
/// (one id per alert and URL, the same on every retry). Every attempt is signed by ``signer`` at its own time
/// (`X-Twinbank-Signature: t=UNIX,v1=HEX`, ``WebhookSigner``), so a receiver can refuse an altered body or a late replay.
public struct WebhookService: Service {
    public let urls: [URL]
    public let attempts: Int
    public let backoff: Duration
    /// Signs each POST.
    public let signer: WebhookSigner
    let subscriptions: [AsyncStream<WatchNotice>]
    let logger: Logger
    let timeout: TimeAmount

    /// Subscribes to `notices` now (so no alert published after this is missed).
    public init(urls: [URL], notices: LiveChannel<WatchNotice>, signer: WebhookSigner, attempts: Int = 5, backoff: Duration = .milliseconds(500),
                timeout: TimeAmount = .seconds(10), logger: Logger = Logger(label: "twinbank.webhooks")) {
        self.urls = urls
        self.signer = signer
        self.attempts = max(1, attempts)
        self.backoff = backoff > .zero ? backoff : .milliseconds(500)
        self.subscriptions = urls.map { _ in notices.subscribe() }
        self.logger = logger
        self.timeout = timeout
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        await withTaskGroup(of: Void.self) { group in
            for (url, subscription) in zip(urls, subscriptions) {
                group.addTask {
                    // the alerts still buffered when shutdown begins are delivered; then the loop ends with the channel
                    for await notice in subscription {
                        guard let event = notice.event, event.category == .alert else { continue }
                        await deliver(WebhookAlert(notice, event: event), to: url, client: client)
                    }
                }
            }
        }
        // The channel ends when the watch stops, which the service group does first on shutdown; wait until the
        // group asks this service to stop too: a service that returns before it is asked makes the group fail
        // ("finished unexpectedly"), and `serve` exit 1 on SIGTERM. Outside a group (a test), cancellation ends the wait.
        if !Task.isCancelled { try? await gracefulShutdown() }
        try await client.shutdown()
    }

    /// Delivers one alert, retrying with backoff; returns whether the receiver accepted it.
    @discardableResult
    func deliver(_ alert: WebhookAlert, to url: URL, client: HTTPClient) async -> Bool {
        let body: Data
        do { body = try LiveLink.encoder.encode(alert) } catch {
            logger.error("webhook: cannot encode the alert", metadata: ["error": "\(error)"])
            return false
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
                    return true
                }
                problem = "HTTP \(response.status.code)"
            } catch {
                problem = "\(error)"
            }
            if attempt == attempts {
                logger.error("webhook: alert abandoned after \(attempts) attempts", metadata: ["url": "\(url)", "event": "\(alert.event.id)", "last": "\(problem)"])
                return false
            }
            logger.warning("webhook: delivery failed, retrying", metadata: ["url": "\(url)", "event": "\(alert.event.id)", "attempt": "\(attempt)", "problem": "\(problem)", "retryIn": "\(wait)"])
            do { try await Task.sleep(for: wait) } catch { return false }
            wait = wait * 2
        }
        return false
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
