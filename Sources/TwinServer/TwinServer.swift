import Foundation
import Hummingbird
import HummingbirdWebSocket
import HummingbirdWSCompression
import Logging
import Metrics
import NIOCore
import OpenAPIHummingbird
import Prometheus
import ServiceLifecycle
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinSync
import UnixSignals

/// `twinbank serve`: the bank's HTTP API (openapi.yaml, generated into TwinServerAPI) on Hummingbird 2.
///
/// Thin: every behaviour is the bank's; a handler maps a request to one group of bank calls run through
/// `Bank.run` (never on an event loop or the cooperative pool) and the answer or the error back to HTTP. Every
/// route but `/health` needs a bearer token (``TokenAuthority``): its subject and the request's
/// `X-Purpose-Of-Use` (default treatment) are the actor and purpose the bank's ``TwinGovernance/GovernedGate``
/// decides on, and every decision is in the bank's audit log before the answer leaves. Errors are one JSON body
/// (`code`, `message`, `field`). Metrics at `/metrics` (Prometheus text; a token with the admin role), one
/// structured log line per request.
public struct TwinServer: Sendable {
    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// The address to bind (default loopback only).
        public var host: String
        /// The port (0: any free port, which ``run(onListening:)`` reports).
        public var port: Int
        /// The largest request body accepted, in bytes (default 1 MiB); a larger one is a 413 and is not read.
        public var bodyLimit: Int
        /// The admin of a bank with neither a stored policy nor a recorded owner (a bank made before governance):
        /// by default the operating-system user who serves it, as for the command.
        public var owner: String
        /// The live link: the watch, webhooks and the live feed's bounds.
        public var live: LiveConfiguration
        /// The most twins a FHIR search without `patient` scans (the twins holding its code, or every twin); a search
        /// that would scan more answers 422 asking for `patient` or a narrower code. Default 10,000.
        public var fhirSearchTwinLimit: Int

        public init(host: String = "127.0.0.1", port: Int = 8080, bodyLimit: Int = 1 << 20, owner: String = NSUserName(),
                    live: LiveConfiguration = LiveConfiguration(), fhirSearchTwinLimit: Int = Bank.defaultScanLimit) {
            self.host = host; self.port = port; self.bodyLimit = bodyLimit; self.owner = owner; self.live = live
            self.fhirSearchTwinLimit = fhirSearchTwinLimit
        }
    }

    /// Paths that answer without a token (besides the dashboard's files, ``dashboardPaths``): the health check and
    /// the FHIR facade's CapabilityStatement.
    public static let openPaths: Set<String> = ["/health", "/fhir/metadata"]

    public let configuration: Configuration
    public let tokens: TokenAuthority
    /// The bank's gate, with its audit log (``TwinGovernance/GovernedGate/log``), where every request's decision is.
    public let gate: GovernedGate
    /// The server's metrics, served at `/metrics`.
    public let metrics: PrometheusCollectorRegistry
    public let logger: Logger
    let served: ServedBank
    /// Every new event of the bank, per twin, for the live routes.
    public let feed: LiveFeed
    /// The watch over ``Configuration/live``'s twins, when there are some.
    public let watch: WatchService?
    /// The webhooks, when there are some.
    public let webhooks: WebhookService?

    init(configuration: Configuration, tokens: TokenAuthority, logger: Logger, served: ServedBank) async throws {
        let live = configuration.live
        self.configuration = configuration; self.tokens = tokens; self.gate = served.gate; self.metrics = PrometheusCollectorRegistry()
        self.logger = logger; self.served = served
        var watch: WatchService?
        if !live.watchTwins.isEmpty {
            watch = try await served.base.run { bank in
                try WatchService(bank: bank, twins: live.watchTwins, watchers: try live.watchers(bank), interval: live.watchInterval)
            }
        }
        if !live.webhooks.isEmpty && watch == nil {
            throw ServerError(.badRequest, "webhooks POST the alerts of a watch: name the twins to watch as well", field: "webhook")
        }
        if !live.webhooks.isEmpty && live.webhookSigner == nil {
            throw ServerError(.badRequest, "webhooks are signed: give the secret that signs them (twinbank serve --webhook-secret-file FILE, or the bank's webhook-secret.key)", field: "webhook-secret-file")
        }
        self.watch = watch
        self.feed = LiveFeed(bank: served.base, notices: watch?.channel, bufferSize: live.bufferSize, interval: live.pollInterval)
        // each URL's delivery cursor in the bank's own storage (under the change feed's wrapper), so a restart resumes
        let storage = (served.base.storage as? LocalChangeFeed)?.base ?? served.base.storage
        let cursors = BankLocation.webhookCursorStore(of: storage) ?? MemoryWebhookCursorStore()
        self.webhooks = watch.flatMap { w in
            live.webhookSigner.flatMap { signer in live.webhooks.isEmpty ? nil : WebhookService(urls: live.webhooks, watch: w, cursors: cursors, signer: signer,
                                                         attempts: live.webhookAttempts, backoff: live.webhookBackoff, logger: logger) }
        }
    }

    /// The live link's services (the webhooks, the feed, the watch), run next to the HTTP server. A service group shuts
    /// its services down last to first: the watch first (it finishes its channel), then the feed, then the webhooks,
    /// which deliver what is still buffered and end with the channel.
    public var services: [any Service] {
        var out: [any Service] = []
        if let webhooks { out.append(webhooks) }
        out.append(feed)
        if let watch { out.append(watch) }
        return out
    }

    /// Opens the bank at `location` (it must exist; opened on NIO's blocking pool) for serving.
    /// - Throws: the errors of ``TwinBankAccess/BankLocation/open(create:)`` and of the audit key.
    public static func open(location: BankLocation, tokens: TokenAuthority, configuration: Configuration = Configuration(),
                            logger: Logger = Logger(label: "twinbank.server")) async throws -> TwinServer {
        let served = try await ServedBank.open(location, owner: configuration.owner, pollInterval: configuration.live.pollInterval)
        return try await TwinServer(configuration: configuration, tokens: tokens, logger: logger, served: served)
    }

    /// Opens the bank at `location` (it must exist), then the token key in `tokenKey` (made on first use), so a
    /// mistyped bank leaves no key folder behind.
    /// - Throws: the errors of ``TwinBankAccess/BankLocation/open(create:)``, and ``TwinGovernance/GovernanceError``
    ///   `invalidKey` for a key file that is not a private 32-byte file.
    /// - Parameter moreKeys: adds keys shared with an identity provider (``TokenAuthority/adding(pemFile:)``,
    ///   ``TokenAuthority/adding(jwksFile:)``) to the authority over the HS256 key, once the bank is open.
    /// - Parameter webhookSecret: the secret that signs the webhooks (``WebhookSigner``), read (made on first use, with
    ///   the same rules) only when there are webhooks and `configuration` has no signer; default: the bank's
    ///   `webhook-secret.key` (``WebhookSigner/defaultKeyFile(for:environment:)``).
    public static func open(location: BankLocation, tokenKey: KeyFile, webhookSecret: KeyFile? = nil, configuration: Configuration = Configuration(),
                            logger: Logger = Logger(label: "twinbank.server"),
                            moreKeys: @Sendable (TokenAuthority) async throws -> TokenAuthority = { $0 }) async throws -> TwinServer {
        let served = try await ServedBank.open(location, owner: configuration.owner, pollInterval: configuration.live.pollInterval)
        let tokens = try await moreKeys(try await TokenAuthority.hs256(keyFile: tokenKey))
        var configuration = configuration
        if !configuration.live.webhooks.isEmpty && configuration.live.webhookSigner == nil {
            configuration.live.webhookSigner = try await WebhookSigner.load(keyFile: webhookSecret ?? WebhookSigner.defaultKeyFile(for: location))
        }
        return try await TwinServer(configuration: configuration, tokens: tokens, logger: logger, served: served)
    }

    /// The routes: the contract's operations (registered from the generated handler protocol), `/metrics`, and the
    /// middlewares (metrics and logs, errors as JSON, token, body limit) in front of them.
    public func router() throws -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(factory: PrometheusMetricsFactory(registry: metrics)))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenMiddleware(tokens: tokens, openPaths: Self.openPaths.union(Self.dashboardPaths)))
        router.add(middleware: BodyLimitMiddleware(limit: configuration.bodyLimit))
        router.add(middleware: ETagMiddleware())
        try TwinAPI(served: served).registerHandlers(on: router)
        FHIRFacade(served: served, bodyLimit: configuration.bodyLimit, searchTwinLimit: configuration.fhirSearchTwinLimit).register(on: router)
        liveLink.register(on: router)
        addDashboard(to: router)
        let registry = metrics
        router.get("/metrics") { _, _ -> Response in
            guard let identity = RequestIdentity.current, identity.role == .admin else {
                throw ServerError(.insufficientScope, "the metrics need a token with the admin role")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return router
    }

    var liveLink: LiveLink {
        LiveLink(served: served, feed: feed, maxMessageSize: configuration.bodyLimit, logger: logger, heartbeatInterval: configuration.live.heartbeatInterval)
    }

    /// The router of WebSocket upgrades: the twin's live link (`/api/v1/twins/{id}/live`).
    func webSocketRouter() -> Router<LiveContext> { liveLink.webSocketRouter(tokens: tokens) }

    /// The Hummingbird application on ``configuration``'s address, with the WebSocket upgrade of the live link and the
    /// live services (``services``); `onListening` is told the port it bound.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(router: try router(),
                    // a WebSocket frame may be as large as a request body (the default is 16 KiB), also once inflated;
                    // per-message deflate when the client offers it (browsers do); a ping every pingInterval
                    server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter(),
                                                   configuration: .init(ws: .init(
                                                    maxFrameSize: configuration.bodyLimit,
                                                    extensions: [.perMessageDeflate(maxDecompressedFrameSize: configuration.bodyLimit)],
                                                    autoPing: .enabled(timePeriod: configuration.live.pingInterval)))),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "twinbank"),
                    services: services,
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                    logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully (the listener closes, requests in flight finish),
    /// as a swift-service-lifecycle service group.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(configuration: .init(services: [try application(onListening: onListening)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let e as IOError where e.errnoCode == EADDRINUSE {
            throw ServerError(.unavailable, "cannot listen on \(configuration.host):\(configuration.port): the address is in use; choose another --port (0 picks a free one)", field: "port", value: String(configuration.port))
        }
    }
}
