import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSCompression
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer
import TwinSync

/// A watcher that alerts on every observation below 70 mg/dL (cheap and deterministic, for the server's tests; the
/// glucose watcher's own alert is tested end to end with the real binary in `LiveServeCommandTests`).
struct LowReadingWatcher: ThreadWatcher {
    var name: String { "low-reading" }
    func isTrigger(_ event: Event) -> Bool { event.category == .observation }
    func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        // the library's own low-reading alert (the glucose watcher's), on every update rather than once per episode
        update.events.compactMap { e -> EventDraft? in
            guard case .quantity(let q)? = e.value, let low = LowGlucoseReading(value: q.value, event: e) else { return nil }
            return low.draft(twin: update.twin, source: Source(.model, "low-reading"), context: update.marker(watcher: name))
        }
    }
}

/// A value shared with escaping closures (a `Mutex` cannot be captured by one).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

/// The live link in process: the WebSocket (acks, refusals, the twin's events and alerts out, in order), the
/// Server-Sent Events stream (resumed from a sequence), the token on the upgrade, and webhooks retried until the
/// receiver accepts.
@Suite struct LiveLinkTests {
    static let logger = Logger(label: "live-test")

    static func reading(_ id: String, _ value: Double, minute: Int) -> String {
        """
        {"id":"\(id)","events":[{"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-03T10:\(String(format: "%02d", minute)):00Z"},\
        "value":{"type":"quantity","value":\(value),"unit":"mg/dL"},"source":"device:cgm-9"}]}
        """
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    static let fastLive = LiveConfiguration(watchTwins: ["p1"], watchers: [LowReadingWatcher()], watchInterval: .milliseconds(200),
                                            webhookBackoff: .milliseconds(10), pollInterval: .milliseconds(50))

    /// A device streams readings: each is acknowledged with its sequence once appended; a message that is not JSON,
    /// and one with a bad field, get an error naming it and the socket stays open; out come the twin's new events in
    /// sequence order, and the alert the low reading caused after it.
    @Test func webSocketAcknowledgesRefusesAndStreamsTheTwinsEventsAndAlerts() async throws {
        let f = try await ServerFixture.make(live: Self.fastLive); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let app = try f.server.application()
        let texts = try await app.test(.live) { client -> [String] in
            let port = try #require(client.port)
            let messages = Shared<[String]>([])
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/twins/p1/live?access_token=\(token)", logger: Self.logger) { inbound, outbound, _ in
                try await outbound.write(.text(Self.reading("m1", 95, minute: 1)))
                try await outbound.write(.text("this is not JSON"))
                try await outbound.write(.text(#"{"id":7,"events":[{"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"yesterday-ish"},"source":"device:cgm-9"}]}"#))
                try await outbound.write(.text(Self.reading("m4", 62, minute: 2)))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    let all = messages.withLock { $0.append(text); return $0 }
                    if all.contains(where: { $0.contains("\"type\":\"alert\"") }) && all.filter({ $0.contains("\"type\":\"ack\"") }).count == 2 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            return messages.withLock { $0 }
        }
        let received = try texts.map(Self.object)
        let acks = received.filter { $0["type"] as? String == "ack" }
        let errors = received.filter { $0["type"] as? String == "error" }
        #expect(acks.map { $0["ack"] as? String } == ["m1", "m4"])
        #expect(errors.count == 2)
        #expect(errors.first?["ack"] == nil)
        #expect((errors.first?["error"] as? [String: Any])?["code"] as? String == "badRequest")
        #expect(errors.last?["ack"] as? String == "7")
        #expect((errors.last?["error"] as? [String: Any])?["field"] as? String == "events[0].effective.start")
        // out: the two readings and the alert, in sequence order; each ack's seq is its reading's sequence
        let events = received.compactMap { m -> [String: Any]? in ["event", "alert"].contains(m["type"] as? String ?? "") ? m["event"] as? [String: Any] : nil }
        let sequences = events.compactMap { $0["sequence"] as? Int }
        #expect(sequences == sequences.sorted())
        let readings = events.filter { $0["category"] as? String == "observation" }
        #expect(readings.compactMap { $0["sequence"] as? Int } == acks.compactMap { $0["seq"] as? Int })
        let alert = try #require(received.first { $0["type"] as? String == "alert" }?["event"] as? [String: Any])
        let low = try #require(readings.last)
        #expect((alert["sequence"] as? Int ?? 0) > (low["sequence"] as? Int ?? .max))
        #expect((alert["provenance"] as? [String: Any])?["derivedFrom"] as? [String] == [low["id"] as? String ?? ""])
        // nothing acked is lost: the thread holds both readings
        let bank = try BankLocation(f.path).open(create: false)
        let thread = try Bank(storage: bank.storage, actor: "alice").events(ThreadQuery(twin: "p1", category: .observation))
        #expect(thread.count == 4)
    }

    /// A flood: 300 messages sent without reading a thing, then read: every one is acknowledged in order, the thread
    /// holds every acknowledged reading, and the out stream reports what its full buffer dropped rather than growing.
    @Test func aFloodIsAcknowledgedInOrderAndNothingAckedIsLost() async throws {
        var live = LiveConfiguration()
        live.bufferSize = 16
        let f = try await ServerFixture.make(live: live); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let app = try f.server.application()
        let n = 300
        let texts = try await app.test(.live) { client -> [String] in
            let port = try #require(client.port)
            let messages = Shared<[String]>([])
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/twins/p1/live?access_token=\(token)", logger: Self.logger) { inbound, outbound, _ in
                for i in 0..<n { try await outbound.write(.text(Self.reading("f\(i)", 100, minute: i % 60).replacingOccurrences(of: "2026-01-03T10", with: "2026-01-0\(4 + i / 60)T10"))) }
                var acks = 0
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    messages.withLock { $0.append(text) }
                    if text.contains("\"type\":\"ack\"") || text.contains("\"type\":\"error\"") { acks += 1 }
                    if acks == n { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            return messages.withLock { $0 }
        }
        let received = try texts.map(Self.object)
        let acks = received.filter { $0["type"] as? String == "ack" }
        #expect(acks.map { $0["ack"] as? String } == (0..<n).map { "f\($0)" })
        let sequences = acks.compactMap { $0["seq"] as? Int }
        #expect(sequences == sequences.sorted() && Set(sequences).count == n)
        let bank = try BankLocation(f.path).open(create: false)
        let thread = try Bank(storage: bank.storage, actor: "alice").events(ThreadQuery(twin: "p1", category: .observation))
        #expect(Set(thread.map(\.sequence)).isSuperset(of: sequences.map(Int64.init)))
        // the out stream: events and dropped counts account for every reading, none twice
        let events = received.filter { $0["type"] as? String == "event" }.compactMap { ($0["event"] as? [String: Any])?["sequence"] as? Int }
        let dropped = received.filter { $0["type"] as? String == "dropped" }.compactMap { $0["dropped"] as? Int }.reduce(0, +)
        #expect(Set(events).count == events.count && events == events.sorted())
        #expect(events.count + dropped <= n)
    }

    /// The upgrade needs a token the gate accepts: none is refused before the upgrade, so is a subject the bank's
    /// policy does not know; a token sent as the `bearer` subprotocol (a browser's way) is accepted.
    @Test func theUpgradeNeedsATokenTheGateAccepts() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician), mallory = try await f.token("mallory", .clinician)
        let app = try f.server.application()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = "ws://127.0.0.1:\(port)/api/v1/twins/p1/live"
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: url, logger: Self.logger) { _, outbound, _ in try await outbound.close(.normalClosure, reason: nil) }
            }
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: url + "?access_token=\(mallory)", logger: Self.logger) { _, outbound, _ in
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
            var headers = HTTPFields()
            headers[.secWebSocketProtocol] = "bearer, \(bob)"
            let opened = Shared(false)
            try await WebSocketClient.connect(url: url, configuration: .init(additionalHeaders: headers), logger: Self.logger) { inbound, outbound, _ in
                try await outbound.write(.text(Self.reading("b1", 101, minute: 5)))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let t) = message, t.contains("\"ack\":\"b1\"") { opened.withLock { $0 = true }; break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(opened.withLock { $0 })
        }
    }

    /// The event stream resumes after `Last-Event-ID` from the thread, then goes live with a write by another process
    /// (a second bank on the same file); each message's id is its sequence.
    @Test func serverSentEventsResumeFromTheThreadThenGoLive() async throws {
        let f = try await ServerFixture.make(live: LiveConfiguration(pollInterval: .milliseconds(50))); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let feed = f.server.feed
        let following = Task { try await feed.run() }
        defer { following.cancel() }
        let other = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        let first = try #require(try other.events(ThreadQuery(twin: "p1")).map(\.sequence).min())
        // another process appends once the stream is subscribed; the feed ends once it has published it
        let writer = Task {
            while feed.subscriberCount("p1") == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try other.append([.observation("p1", at: try Instant(parsing: "2026-01-04T08:00:00Z"), code: ServerFixture.glucose, Quantity(77, "mg/dL"),
                                           source: Source(.device, "cgm-1"))])
            let last = try other.lastSequence()
            while feed.publishedThrough < last { try await Task.sleep(for: .milliseconds(5)) }
            feed.finish()
            return last
        }
        let text = try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events/stream", method: .get, headers: .auth(token, [HTTPField.Name("Last-Event-ID")!: String(first)])) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                return String(buffer: r.body)
            }
        }
        let last = try await writer.value
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
        #expect(ids.first.map { $0 > first } == true, "\(text)")
        #expect(ids.last == last, "\(text)")
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        #expect(text.contains("\"value\":77"), "\(text)")
        // a resume point that is not a sequence: 400 naming it
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events/stream?after=yesterday", method: .get, headers: .auth(token)) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "after")
            }
        }
    }

    /// An idle event stream sends a heartbeat comment every heartbeat interval (here 50 ms, over 3 s: about 60 on an
    /// idle machine; at least one asserted, since a loaded machine delays the heartbeat's task), which SSE clients
    /// ignore and proxies see as traffic.
    @Test func anIdleEventStreamSendsHeartbeats() async throws {
        var live = LiveConfiguration(pollInterval: .milliseconds(50))
        live.heartbeatInterval = .milliseconds(50)
        let f = try await ServerFixture.make(live: live); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let feed = f.server.feed
        let following = Task { try await feed.run() }
        defer { following.cancel() }
        let ender = Task {
            while feed.subscriberCount("p1") == 0 { try await Task.sleep(for: .milliseconds(5)) }
            // long beside the interval: on a loaded machine the heartbeat's task can wait for a thread (a run with 0.5 s
            // once saw a single heartbeat)
            try await Task.sleep(for: .seconds(3))
            feed.finish()
        }
        let text = try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events/stream", method: .get, headers: .auth(token)) { r in String(buffer: r.body) }
        }
        try await ender.value
        let beats = text.components(separatedBy: "\n").filter { $0 == ": heartbeat" }.count
        #expect(beats >= 1, "\(text)")
        #expect(!text.contains("id: "), "no event was written, only comments: \(text)")
    }

    /// A client that offers per-message deflate (as browsers do) gets it: a batch of ten readings in (about 2 KB, over
    /// the 256-byte threshold, so compressed), its ack and the twin's events out, all readable. Bounded: an error or
    /// a close ends the wait.
    @Test func webSocketWithPerMessageDeflate() async throws {
        let f = try await ServerFixture.make(live: Self.fastLive); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let app = try f.server.application()
        let events = (0..<10).map { k in
            #"{"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-03T11:\#(String(format: "%02d", k)):00Z"},"value":{"type":"quantity","value":\#(100 + k),"unit":"mg/dL"},"source":"device:cgm-9"}"#
        }
        let message = #"{"id":"z1","events":["# + events.joined(separator: ",") + "]}"
        #expect(message.utf8.count > 1500)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let got = Shared<[String]>([])
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/twins/p1/live?access_token=\(token)",
                                              configuration: .init(maxFrameSize: 1 << 20, extensions: [.perMessageDeflate(maxDecompressedFrameSize: 1 << 20)]),
                                              logger: Self.logger) { inbound, outbound, _ in
                try await outbound.write(.text(message))
                for try await m in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let t) = m else { continue }
                    let all = got.withLock { $0.append(t); return $0 }
                    if t.contains("\"type\":\"error\"") { break }
                    if all.contains(where: { $0.contains("\"ack\":\"z1\"") }) && all.filter({ $0.contains("\"2339-0\"") }).count >= 10 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            let texts = got.withLock { $0 }
            #expect(texts.contains { $0.contains("\"ack\":\"z1\"") }, "\(texts)")
            #expect(texts.filter { $0.contains("\"2339-0\"") }.count >= 10, "the ten events came back: \(texts)")
            for t in texts { _ = try Self.object(t) }
        }
    }

    /// Each alert is POSTed to the webhook; the receiver fails twice, then accepts: three attempts of the same body, each
    /// signed (the signature verifies with the secret), all under one delivery id.
    @Test func webhooksRetryWithBackoffUntilTheReceiverAccepts() async throws {
        let attempts = Shared<[String]>([])
        let headers = Shared<[(signature: String?, delivery: String?)]>([])
        let secret = [UInt8](repeating: 42, count: 32)
        let receiver = Router()
        receiver.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            headers.withLock { $0.append((request.headers[HTTPField.Name(WebhookSigner.signatureHeader)!], request.headers[HTTPField.Name(WebhookSigner.deliveryHeader)!])) }
            let n = attempts.withLock { $0.append(String(buffer: body)); return $0.count }
            return n <= 2 ? .serviceUnavailable : .ok
        }
        let receiverApp = Application(router: receiver, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiverApp.test(.live) { hookClient in
            let port = try #require(hookClient.port)
            var live = Self.fastLive
            live.webhooks = [URL(string: "http://127.0.0.1:\(port)/hook")!]
            live.webhookSigner = try WebhookSigner(secret: secret)
            let f = try await ServerFixture.make(live: live); defer { f.remove() }
            let services = f.server.services
            #expect(services.count == 3)
            let running = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for s in services { group.addTask { try await s.run() } }
                    try await group.waitForAll()
                }
            }
            defer { running.cancel() }
            let other = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
            try other.append([.observation("p1", at: try Instant(parsing: "2026-01-04T09:00:00Z"), code: ServerFixture.glucose, Quantity(58, "mg/dL"),
                                           source: Source(.device, "cgm-1"))])
            let deadline = ContinuousClock.now + .seconds(120)
            while attempts.withLock({ $0.count }) < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        }
        let bodies = attempts.withLock { $0 }
        #expect(bodies.count == 3)
        #expect(Set(bodies).count == 1)
        let alert = try Self.object(try #require(bodies.first))
        #expect(alert["type"] as? String == "alert" && alert["twin"] as? String == "p1" && alert["watcher"] as? String == "low-reading")
        #expect((alert["event"] as? [String: Any])?["category"] as? String == "alert")
        let sent = headers.withLock { $0 }
        #expect(sent.count == 3)
        for (h, b) in zip(sent, bodies) {
            let signature = try #require(h.signature)
            #expect(throws: Never.self) { try WebhookSigner.verify(header: signature, body: Array(b.utf8), secret: secret) }
        }
        let eventID = try #require((alert["event"] as? [String: Any])?["id"] as? String)
        #expect(Set(sent.map(\.delivery)).count == 1, "one delivery id across the retries")
        #expect(sent.first?.delivery?.count == 32 && !eventID.isEmpty)
    }
}
