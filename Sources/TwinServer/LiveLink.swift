import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TwinBank
import TwinCore
import TwinServerAPI
import TwinSync

/// How the server's live link runs: which twins are watched by which watchers, the webhooks each alert is POSTed to,
/// and the live feed's bounds.
public struct LiveConfiguration: Sendable {
    /// Twins the server watches (``TwinSync/WatchService``): on each update of their threads the ``watchers`` run and
    /// what they raise (alerts, forecasts, recommendations) is written to the thread and sent live. None: no watch.
    public var watchTwins: [TwinID]
    /// The watchers, made from the bank when the server opens (a binding watcher reads the twins' bindings).
    public var watchers: @Sendable (Bank) throws -> [any ThreadWatcher]
    /// The watch's longest wait between two looks at the bank (its writes and the server's wake it at once).
    public var watchInterval: Duration
    /// URLs each alert is POSTed to as JSON (``WebhookService``); they need a watch.
    public var webhooks: [URL]
    /// Attempts per alert and URL (the first included), and the wait before the second, doubled after each failure.
    public var webhookAttempts: Int
    public var webhookBackoff: Duration
    /// Signs every webhook POST (``WebhookSigner``); required when there are webhooks.
    public var webhookSigner: WebhookSigner? = nil
    /// The most items a live subscriber (a WebSocket, an event stream, a webhook) buffers before dropping its oldest.
    public var bufferSize: Int
    /// How often the server looks for writes made by other processes (a SQLite bank; PostgreSQL pushes them).
    public var pollInterval: Duration
    /// How often an idle event stream sends a comment line (`: heartbeat`), so that proxies and clients keep it open
    /// and a client notices a dead connection.
    public var heartbeatInterval: Duration = .seconds(15)
    /// How often the server pings each WebSocket; a client that does not answer a ping before the next is closed.
    public var pingInterval: Duration = .seconds(30)

    public init(watchTwins: [TwinID] = [], watchers: [any ThreadWatcher] = [], watchInterval: Duration = .seconds(5), webhooks: [URL] = [],
                webhookAttempts: Int = 5, webhookBackoff: Duration = .milliseconds(500), bufferSize: Int = 1024, pollInterval: Duration = .seconds(1)) {
        self.init(watchTwins: watchTwins, makingWatchers: { _ in watchers }, watchInterval: watchInterval, webhooks: webhooks, webhookAttempts: webhookAttempts,
                  webhookBackoff: webhookBackoff, bufferSize: bufferSize, pollInterval: pollInterval)
    }

    /// - Parameter makingWatchers: makes the watchers from the bank (acting as the server's owner) when the server opens.
    public init(watchTwins: [TwinID], makingWatchers: @escaping @Sendable (Bank) throws -> [any ThreadWatcher], watchInterval: Duration = .seconds(5), webhooks: [URL] = [],
                webhookAttempts: Int = 5, webhookBackoff: Duration = .milliseconds(500), bufferSize: Int = 1024, pollInterval: Duration = .seconds(1)) {
        self.watchTwins = watchTwins; self.watchers = makingWatchers; self.watchInterval = watchInterval; self.webhooks = webhooks
        self.webhookAttempts = webhookAttempts; self.webhookBackoff = webhookBackoff; self.bufferSize = bufferSize; self.pollInterval = pollInterval
    }
}

/// The request context of the WebSocket router: what ``LiveAccessMiddleware`` granted the connection.
struct LiveContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<LiveContext>
    var grant: LiveGrant?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        grant = nil
    }
}

/// What a live connection may do on its twin, decided (and audited) by the bank's gate when it opens.
struct LiveGrant: Sendable {
    let call: ServedBank.Call
    let twin: TwinID
    /// Whether the caller may read the twin (then it receives the twin's events; a device, which may only append,
    /// receives only its acknowledgements).
    let mayRead: Bool
    /// What the gate lets the caller see of the twin's events.
    let filter: (any AccessFilter)?
    /// The subprotocol to answer with (`bearer` when the token came that way).
    let subprotocol: String?
}

/// The live link of issue 29: a twin's WebSocket (`/api/v1/twins/{id}/live`) and its Server-Sent Events stream
/// (`/api/v1/twins/{id}/events/stream`), both fed by the server's ``TwinSync/LiveFeed``.
struct LiveLink: Sendable {
    let served: ServedBank
    let feed: LiveFeed
    let maxMessageSize: Int
    let logger: Logger
    /// How often an idle event stream sends `: heartbeat`.
    var heartbeatInterval: Duration = .seconds(15)

    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e
    }()

    // MARK: - Access

    /// Opens a live connection on `twin` for the request's token: read access (with its filter) when the token's scopes
    /// and the gate allow it, else write access (a device); neither is a 403 (audited).
    func grant(_ identity: TokenIdentity?, purpose header: String?, twin text: String, subprotocol: String?) async throws -> LiveGrant {
        guard let identity else { throw ServerError(.unauthorized, "this route needs a bearer token", field: "Authorization") }
        let twin = try TwinAPI.twinID(text)
        let call = try TwinAPI.caller(purpose: header, identity.mayRead ? .read : .write, .thread)
        if identity.mayRead {
            do {
                let filter = try await served.run(call) { bank -> (any AccessFilter)? in
                    _ = try bank.twin(twin)
                    return try bank.answering(.read, twin) { $0 }
                }
                return LiveGrant(call: call, twin: twin, mayRead: true, filter: filter, subprotocol: subprotocol)
            } catch let e as BankError where e.code == .accessDenied && identity.mayWrite {
                // a token that may write, refused reading: a device; it may still stream in
            } catch let e as BankError {
                throw ErrorMapping.bank(e, field: nil)
            }
        }
        do {
            try await served.run(call) { bank in try bank.authorize(.write, twin) }
        } catch let e as BankError {
            throw ErrorMapping.bank(e, field: nil)
        }
        return LiveGrant(call: call, twin: twin, mayRead: false, filter: nil, subprotocol: subprotocol)
    }

    // MARK: - WebSocket

    /// The WebSocket router: errors as JSON, the token (header, `?access_token=` or subprotocol), the grant, then the
    /// upgrade.
    func webSocketRouter(tokens: TokenAuthority) -> Router<LiveContext> {
        let router = Router(context: LiveContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenMiddleware(tokens: tokens, openPaths: []))
        router.add(middleware: LiveAccessMiddleware(link: self))
        let link = self
        router.ws("/api/v1/twins/:id/live") { _, context in
            guard let grant = context.grant else { return .dontUpgrade }
            var headers = HTTPFields()
            if let p = grant.subprotocol { headers[.secWebSocketProtocol] = p }
            return .upgrade(headers)
        } onUpgrade: { inbound, outbound, context in
            guard let grant = context.requestContext.grant else { return }
            try await link.serve(grant, inbound: inbound, outbound: outbound)
        }
        return router
    }

    /// How many received messages may wait for their append on one connection (beyond, the next is not read: a flood
    /// waits in the socket, not in memory).
    static let pendingMessages = 64

    /// One connection: the twin's feed out (when it may read), the messages in. A reader takes the messages off the
    /// socket into a bounded buffer (``pendingMessages``); the writer appends every message waiting there in one
    /// transaction (``TwinBank/Bank/appendEach(_:)``: each message still its own batch, with its own checks,
    /// idempotency key and answer) and answers them in their order, so a device streaming faster than one commit
    /// per message is acknowledged in groups instead of falling behind.
    func serve(_ grant: LiveGrant, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let batcher = MessageBatcher(capacity: Self.pendingMessages)
        let maxMessageSize = self.maxMessageSize
        try await withThrowingTaskGroup(of: Void.self) { group in
            if grant.mayRead {
                // after the feed has begun: what this client writes from now on comes back to it
                await feed.started()
                let sub = feed.subscribe(grant.twin)
                group.addTask {
                    do {
                        try await cancelWhenGracefulShutdown {
                            var last = sub.position
                            for await item in sub.stream {
                                for text in Self.messages(item, after: &last, filter: grant.filter) {
                                    try await outbound.write(.text(text))
                                }
                            }
                        }
                    } catch {}
                }
            }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: maxMessageSize) {
                        let text: String
                        switch message {
                        case .text(let s): text = s
                        case .binary(let b): text = String(buffer: b)
                        }
                        guard await batcher.push(text) else { break }
                    }
                    batcher.finish()
                } catch {
                    batcher.finish(failure: error)
                }
            }
            do {
                while let texts = await batcher.take() {
                    for reply in await receive(texts, grant: grant) { try await outbound.write(.text(reply)) }
                }
            } catch {
                batcher.close()
                throw error
            }
            batcher.close()
            group.cancelAll()
        }
        // a message over the size limit (or a broken socket) ends the connection with the error, as before
        if let error = batcher.failure { throw error }
    }

    /// A message from a device or app, checked and made into the batch it asks to append; a refusal names the
    /// message by its client `id` when it has one.
    struct Refusal: Error { let clientID: String?; let error: any Error }

    func prepare(_ text: String, grant: LiveGrant) throws(Refusal) -> (clientID: String?, request: AppendRequest) {
        var clientID: String?
        do {
            let message: LiveIn
            do {
                message = try JSONDecoder().decode(LiveIn.self, from: Data(text.utf8))
            } catch let e as DecodingError {
                clientID = LiveIn.clientID(in: text)
                throw ServerError(.badRequest, "the message is not {\"id\": ..., \"events\": [EventDraft, ...]} (the body of POST /api/v1/twins/{id}/events): \(LiveIn.describe(e))",
                                  field: LiveIn.field(e))
            }
            clientID = message.id
            guard grant.call.identity.mayWrite else {
                let have = grant.call.identity.scopes.map(\.description).joined(separator: " ")
                throw ServerError(.insufficientScope, "the token's scopes (\(have)) do not allow writing (c or u, e.g. user/*.cruds)", field: "scope")
            }
            guard !message.events.isEmpty else { throw ServerError(.badRequest, "the message has no events", field: "events") }
            let twin = grant.twin
            let now = served.base.clock.now()
            let drafts = try message.events.enumerated().map { i, e in try APIMapping.draft(e, twin: twin, field: "events[\(i)]", now: now) }
            try TwinAPI.checkWrites(grant.call.identity, drafts.lazy.map { ($0.category, $0.source) })
            return (clientID, AppendRequest(drafts, idempotencyKey: message.idempotencyKey))
        } catch {
            throw Refusal(clientID: clientID, error: error)
        }
    }

    /// Messages from a device or app, appended through the gate as the token's subject, those that are well formed
    /// together (``TwinBank/Bank/appendEach(_:)``); the answers, in the messages' order: each one's ack once its
    /// batch is durable, or its error (the connection stays open).
    func receive(_ texts: [String], grant: LiveGrant) async -> [String] {
        var replies = [String?](repeating: nil, count: texts.count)
        var requests: [AppendRequest] = []
        var slots: [(index: Int, clientID: String?)] = []
        for (i, text) in texts.enumerated() {
            do {
                let (clientID, request) = try prepare(text, grant: grant)
                requests.append(request)
                slots.append((i, clientID))
            } catch {
                replies[i] = reply(to: error.clientID, .failure(error.error), grant: grant)
            }
        }
        if !requests.isEmpty {
            let batches = requests
            do {
                let results = try await served.run(grant.call) { bank in try bank.appendEach(batches) }
                for (slot, result) in zip(slots, results) { replies[slot.index] = reply(to: slot.clientID, result, grant: grant) }
            } catch {
                for slot in slots { replies[slot.index] = reply(to: slot.clientID, .failure(error), grant: grant) }
            }
        }
        return replies.map { $0 ?? "" }
    }

    /// The answer to one message: its ack, or its error.
    func reply(to clientID: String?, _ result: Result<AppendResult, any Error>, grant: LiveGrant) -> String {
        switch result {
        case .success(let r):
            return Self.encode(LiveOut(type: "ack", ack: clientID, seq: r.lastSequence, firstSeq: r.firstSequence, count: r.count, ids: r.ids.map(\.hex)))
        case .failure(let error):
            let mapped: any Error
            if let e = error as? BankError {
                mapped = ErrorMapping.bank(e, field: e.code == .invalidIdempotencyKey || e.code == .idempotencyConflict ? "idempotencyKey" : e.code == .accessDenied || e.code == .unknownTwin ? nil : "events")
            } else {
                mapped = error
            }
            let e = ErrorMapping.serverError(mapped)
            if e.code == .internalError { logger.error("live message failed", metadata: ["error": "\(String(reflecting: error))", "twin": "\(grant.twin)"]) }
            return Self.encode(LiveOut(type: "error", ack: clientID, error: ErrorBody(code: e.code.rawValue, message: e.message, field: e.field)))
        }
    }

    // MARK: - Server-Sent Events

    /// `GET /api/v1/twins/{id}/events/stream`: the twin's events after `Last-Event-ID` or `?after=` (a thread sequence;
    /// none: only new ones), read from the thread, then live; each as an SSE message whose id is its sequence.
    func register(on router: Router<BasicRequestContext>) {
        let link = self
        router.get("/api/v1/twins/:id/events/stream") { request, context -> Response in
            let id = try context.parameters.require("id")
            let grant = try await link.grant(RequestIdentity.current, purpose: request.headers[.purposeOfUse], twin: id, subprotocol: nil)
            guard grant.mayRead else {
                throw ServerError(.accessDenied, "the stream needs read access to the twin; this token may only append to it (use the WebSocket)", field: "scope")
            }
            let resume = try Self.resumePoint(request)
            // subscribe (once the feed has begun) first, then read the thread: nothing falls between the two
            await link.feed.started()
            let sub = link.feed.subscribe(grant.twin)
            var backlog: [Event] = []
            if let resume {
                let twin = grant.twin
                backlog = try await link.served.run(grant.call) { bank in
                    try bank.events(ThreadQuery(twin: twin, includeRetracted: true))
                }.filter { $0.twin == twin && $0.sequence > resume }.sorted { $0.sequence < $1.sequence }
            }
            let first = backlog
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var sent = resume ?? -1
                try await writer.write(ByteBuffer(string: ": twinbank live stream of \(grant.twin)\n\n"))
                for e in first {
                    try await writer.write(ByteBuffer(string: Self.sse(e)))
                    sent = max(sent, e.sequence)
                }
                // the subscription relayed, so that graceful shutdown can end the stream (and the response), with a
                // heartbeat comment whenever nothing was sent for a heartbeat interval
                let (items, relay) = AsyncStream.makeStream(of: StreamItem.self, bufferingPolicy: .bufferingNewest(link.feed.bufferSize))
                let forward = Task {
                    for await item in sub.stream { relay.yield(.item(item)) }
                    relay.finish()
                }
                let beat = link.heartbeatInterval
                let heartbeat = Task {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: beat) } catch { break }
                        relay.yield(.heartbeat)
                    }
                }
                defer { forward.cancel(); heartbeat.cancel() }
                try await withGracefulShutdownHandler {
                    var last = sub.position
                    for await streamed in items {
                        guard case .item(let item) = streamed else {
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                            continue
                        }
                        if case .event(let e) = item.message, e.sequence <= sent { last = item.position; continue }
                        if item.position > last + 1 {
                            try await writer.write(ByteBuffer(string: "event: dropped\ndata: {\"count\":\(item.position - last - 1)}\n\n"))
                        }
                        last = item.position
                        switch item.message {
                        case .event(let e):
                            guard grant.filter?.admits(e) ?? true else { continue }
                            try await writer.write(ByteBuffer(string: Self.sse(e)))
                            sent = e.sequence
                        case .watchError(let n):
                            try await writer.write(ByteBuffer(string: "event: watchError\ndata: \(Self.encode(LiveOut(notice: n)))\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    relay.finish()
                }
                try await writer.finish(nil)
            })
        }
    }

    /// What an event stream relays: a feed item, or the tick of its heartbeat.
    enum StreamItem: Sendable {
        case item(LiveItem)
        case heartbeat
    }

    /// `Last-Event-ID`, else `?after=`: a thread sequence (0: the whole thread).
    static func resumePoint(_ request: Request) throws -> Int64? {
        let text = request.headers[.lastEventID] ?? request.uri.queryParameters["after"].map(String.init)
        guard let text else { return nil }
        guard let n = Int64(text.trimmingCharacters(in: .whitespaces)), n >= 0 else {
            throw ServerError(.badRequest, "Last-Event-ID or after must be a thread sequence number (0 or more), not '\(text.prefix(40))'",
                              field: request.headers[.lastEventID] != nil ? "Last-Event-ID" : "after", value: String(text.prefix(40)))
        }
        return n
    }

    /// One event as an SSE message: `id` its sequence, `event` its kind (``LiveOut/kind(_:)``), `data` its JSON.
    static func sse(_ e: Event) -> String {
        "id: \(e.sequence)\nevent: \(LiveOut.kind(e))\ndata: \(encode(LiveOut(event: e)))\n\n"
    }

    // MARK: - Messages out

    /// The JSON messages for one feed item: a `dropped` count first when the buffer lost items before it, then the
    /// item (an event the filter does not admit is not sent).
    static func messages(_ item: LiveItem, after last: inout Int64, filter: (any AccessFilter)?) -> [String] {
        var out: [String] = []
        if item.position > last + 1 { out.append(encode(LiveOut(type: "dropped", dropped: item.position - last - 1))) }
        last = item.position
        switch item.message {
        case .event(let e): if filter?.admits(e) ?? true { out.append(encode(LiveOut(event: e))) }
        case .watchError(let n): out.append(encode(LiveOut(notice: n)))
        }
        return out
    }

    static func encode(_ out: LiveOut) -> String {
        (try? encoder.encode(out)).flatMap { String(data: $0, encoding: .utf8) } ?? "{\"type\":\"error\"}"
    }
}

/// Grants a WebSocket connection before its upgrade (behind the token middleware): 4xx as JSON when refused.
struct LiveAccessMiddleware: RouterMiddleware {
    typealias Context = LiveContext
    let link: LiveLink

    func handle(_ request: Request, context: LiveContext, next: (Request, LiveContext) async throws -> Response) async throws -> Response {
        guard let id = context.parameters.get("id") ?? Self.twinSegment(request.uri.path) else { return try await next(request, context) }
        var context = context
        let viaProtocol = request.headers[.authorization] == nil && request.uri.queryParameters["access_token"] == nil
            && TokenMiddleware<LiveContext>.subprotocolToken(request) != nil
        context.grant = try await link.grant(RequestIdentity.current, purpose: request.headers[.purposeOfUse], twin: id,
                                             subprotocol: viaProtocol ? "bearer" : nil)
        return try await next(request, context)
    }

    static func twinSegment(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count == 5, parts[0] == "api", parts[1] == "v1", parts[2] == "twins", parts[4] == "live" else { return nil }
        return String(parts[3])
    }
}

/// A message a device or app sends on the WebSocket: the body of `POST /api/v1/twins/{id}/events` (`events`, each an
/// `EventDraft` of openapi.yaml), with an optional client `id` echoed in its ack or error and an optional
/// `idempotencyKey` (a resend after a lost ack appends nothing twice).
struct LiveIn: Decodable {
    var id: String?
    var events: [Components.Schemas.EventDraft]
    var idempotencyKey: String?

    enum CodingKeys: String, CodingKey { case id, events, idempotencyKey }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let s = try? c.decodeIfPresent(String.self, forKey: .id) { id = s } else if let n = try c.decodeIfPresent(Int64.self, forKey: .id) { id = String(n) } else { id = nil }
        events = try c.decode([Components.Schemas.EventDraft].self, forKey: .events)
        idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
    }

    /// The `id` of a message that does not decode as a whole, when it has one.
    static func clientID(in text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        if let s = object["id"] as? String { return s }
        if let n = object["id"] as? NSNumber { return n.stringValue }
        return nil
    }

    static func path(_ e: DecodingError) -> [any CodingKey] {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): c.codingPath
        case .keyNotFound(let k, let c): c.codingPath + [k]
        @unknown default: []
        }
    }

    static func field(_ e: DecodingError) -> String {
        let names = path(e).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return names.isEmpty ? "message" : names.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound: "\(field(e)) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): c.debugDescription
        @unknown default: "\(e)"
        }
    }
}

/// A message the server sends on the live link (JSON; `type` says which fields it has).
struct LiveOut: Encodable {
    /// `event`, `alert`, `forecast`, `recommendation` (an event of the thread, in `event`); `watchError`; `dropped`
    /// (how many items a full buffer lost, in `dropped`); `ack` and `error` (answers to a message, `ack` its client id).
    var type: String
    var ack: String?
    var seq: Int64?
    var firstSeq: Int64?
    var count: Int?
    var ids: [String]?
    var error: ErrorBody?
    var dropped: Int64?
    var event: Components.Schemas.Event?
    var watcher: String?
    var update: Int64?
    var message: String?

    init(type: String, ack: String? = nil, seq: Int64? = nil, firstSeq: Int64? = nil, count: Int? = nil, ids: [String]? = nil,
         error: ErrorBody? = nil, dropped: Int64? = nil) {
        self.type = type; self.ack = ack; self.seq = seq; self.firstSeq = firstSeq; self.count = count; self.ids = ids
        self.error = error; self.dropped = dropped
    }

    init(event e: Event) {
        self.init(type: Self.kind(e))
        event = APIMapping.event(e)
    }

    init(notice n: WatchNotice) {
        self.init(type: "watchError")
        watcher = n.watcher; update = n.update; message = n.error
    }

    /// `alert`, `recommendation`, `forecast` (a prediction) or `event`.
    static func kind(_ e: Event) -> String {
        switch e.category {
        case .alert: "alert"
        case .recommendation: "recommendation"
        case .prediction: "forecast"
        default: "event"
        }
    }
}

extension HTTPField.Name {
    /// `Last-Event-ID`: where a Server-Sent Events client resumes (the sequence of the last event it received).
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
