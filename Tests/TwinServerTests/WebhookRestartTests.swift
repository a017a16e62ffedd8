import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinBankSQLite
import TwinCore
import TwinServer
import TwinSync

/// A fake webhook receiver on loopback: `POST /hooks/NAME` answers 200 while NAME is up, else 503, and records every
/// attempt (its body, its delivery id, its answer).
final class WebhookReceiver: Sendable {
    struct Hit: Sendable {
        var name: String
        var body: String
        var delivery: String?
        var accepted: Bool
    }

    let up: Shared<Set<String>>
    let hits = Shared<[Hit]>([])

    init(up: Set<String>) { self.up = Shared(up) }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/hooks/:name") { [self] request, context -> HTTPResponse.Status in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let accepted = up.withLock { $0.contains(name) }
            let hit = Hit(name: name, body: String(buffer: body), delivery: request.headers[HTTPField.Name(WebhookSigner.deliveryHeader)!], accepted: accepted)
            hits.withLock { $0.append(hit) }
            return accepted ? .ok : .serviceUnavailable
        }
        return router
    }

    func attempts(_ name: String) -> [Hit] { hits.withLock { all in all.filter { $0.name == name } } }
    /// The bodies `name` accepted, in order.
    func accepted(_ name: String) -> [Hit] { attempts(name).filter(\.accepted) }
}

/// Webhooks kept across a restart (`WebhookService` with its cursors in the bank, `webhook_cursors`): an alert still
/// being retried when the server stopped is delivered after it starts again, once, under the same delivery id and with
/// the same body; each URL has its own cursor; a URL seen for the first time gets nothing old; an abandoned alert is
/// not sent again.
@Suite struct WebhookRestartTests {
    static func live(_ port: Int, _ names: [String], attempts: Int = 100) throws -> LiveConfiguration {
        var live = LiveConfiguration(watchTwins: ["p1"], watchers: [LowReadingWatcher()], watchInterval: .milliseconds(200),
                                     webhooks: names.map { URL(string: "http://127.0.0.1:\(port)/hooks/\($0)")! }, webhookAttempts: attempts,
                                     webhookBackoff: .milliseconds(20), pollInterval: .milliseconds(50))
        live.webhookSigner = try WebhookSigner(secret: [UInt8](repeating: 42, count: 32))
        return live
    }

    /// Runs the server's live services (the webhooks, the feed, the watch) until the task is cancelled.
    static func start(_ server: TwinServer) -> Task<Void, any Error> {
        let services = server.services
        return Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in services { group.addTask { try await s.run() } }
                try await group.waitForAll()
            }
        }
    }

    /// Stops the services as a crash or a kill would leave them: cancelled mid-delivery.
    static func stop(_ task: Task<Void, any Error>) async {
        task.cancel()
        _ = await task.result
    }

    static func reopen(_ f: ServerFixture, _ live: LiveConfiguration) async throws -> TwinServer {
        try await TwinServer.open(location: try BankLocation(f.path), tokens: f.tokens, configuration: .init(owner: "alice", live: live))
    }

    /// Appends a low glucose reading to p1 (the watcher alerts on it) as another process would.
    static func lowReading(_ f: ServerFixture, minute: Int) throws {
        let other = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try other.append([.observation("p1", at: try Instant(parsing: "2026-01-04T09:\(String(format: "%02d", minute)):00Z"), code: ServerFixture.glucose,
                                       Quantity(58, "mg/dL"), source: Source(.device, "cgm-1"))])
    }

    /// Waits (at most two minutes) until `done`; the expectations that follow say what was missing.
    static func waitUntil(_ done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while !done() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    static func event(_ hit: WebhookReceiver.Hit?) throws -> (id: String, sequence: Int64) {
        let body = try #require(hit?.body)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let event = try #require(object["event"] as? [String: Any])
        return (try #require(event["id"] as? String), Int64(try #require(event["sequence"] as? Int)))
    }

    /// Whether `url`'s cursor has reached the alert of `hit` (its delivery is recorded).
    static func recorded(_ f: ServerFixture, _ url: String, _ hit: WebhookReceiver.Hit?) -> Bool {
        guard let hit, let sequence = try? event(hit).sequence, let cursor = (try? cursors(f))?[url] else { return false }
        return cursor >= sequence
    }

    static func cursors(_ f: ServerFixture) throws -> [String: Int64] {
        try SQLiteWebhookCursorStore(try SQLiteStorage(path: f.path, create: false)).cursors()
    }

    /// The receiver is down; the server stops while it retries the alert; started again with the receiver up, it sends
    /// that alert first, once, with the body and delivery id of the failed attempts, then the next alert (no repeat).
    @Test func aPendingAlertIsDeliveredOnceAfterARestartUnderTheSameDeliveryID() async throws {
        let receiver = WebhookReceiver(up: [])
        let receiverApp = Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiverApp.test(.live) { hookClient in
            let port = try #require(hookClient.port)
            let live = try Self.live(port, ["h"])
            let f = try await ServerFixture.make(live: live); defer { f.remove() }
            let url = live.webhooks[0].absoluteString
            let first = Self.start(f.server)
            try await Self.waitUntil { (try? Self.cursors(f)[url]) != nil }
            let start = try #require(try Self.cursors(f)[url], "a first start records the bank's end as the cursor")
            try Self.lowReading(f, minute: 0)
            try await Self.waitUntil { receiver.attempts("h").count >= 2 }
            await Self.stop(first)
            let failed = receiver.attempts("h")
            #expect(failed.count >= 2 && failed.allSatisfy { !$0.accepted })
            let pending = try Self.event(failed.first)
            #expect(pending.sequence > start)
            #expect(try Self.cursors(f)[url] == start, "the cursor does not move while the alert is pending")

            receiver.up.withLock { _ = $0.insert("h") }
            let second = Self.start(try await Self.reopen(f, live))
            try await Self.waitUntil { receiver.accepted("h").count >= 1 }
            try Self.lowReading(f, minute: 5)
            try await Self.waitUntil { receiver.accepted("h").count >= 2 && Self.recorded(f, url, receiver.accepted("h").last) }
            await Self.stop(second)

            let accepted = receiver.accepted("h")
            #expect(accepted.count == 2)
            #expect(try Self.event(accepted.first).id == pending.id, "the pending alert first")
            #expect(accepted.first?.body == failed.first?.body, "the body the live notice carried")
            #expect(accepted.first?.delivery == failed.first?.delivery && accepted.first?.delivery?.count == 32, "the same delivery id")
            let next = try Self.event(accepted.last)
            #expect(next.id != pending.id && next.sequence > pending.sequence)
            #expect(try Self.cursors(f)[url] == next.sequence)
        }
    }

    /// Two URLs, one up and one down: only the one that did not get the alert gets it after the restart; a third URL
    /// added at the restart gets only what comes after it.
    @Test func eachURLHasItsOwnCursorAndANewURLStartsAtTheEnd() async throws {
        let receiver = WebhookReceiver(up: ["a", "c"])
        let receiverApp = Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiverApp.test(.live) { hookClient in
            let port = try #require(hookClient.port)
            let f = try await ServerFixture.make(live: try Self.live(port, ["a", "b"])); defer { f.remove() }
            let urls = try Self.live(port, ["a", "b", "c"]).webhooks.map(\.absoluteString)
            let first = Self.start(f.server)
            try await Self.waitUntil { (try? Self.cursors(f).count) == 2 }
            try Self.lowReading(f, minute: 0)
            try await Self.waitUntil { Self.recorded(f, urls[0], receiver.accepted("a").first) && receiver.attempts("b").count >= 1 }
            await Self.stop(first)
            let alert = try Self.event(receiver.accepted("a").first)
            #expect(try Self.cursors(f)[urls[0]] == alert.sequence)
            #expect(try #require(try Self.cursors(f)[urls[1]]) < alert.sequence)

            receiver.up.withLock { _ = $0.insert("b") }
            let second = Self.start(try await Self.reopen(f, try Self.live(port, ["a", "b", "c"])))
            try await Self.waitUntil { receiver.accepted("b").count >= 1 && (try? Self.cursors(f).count) == 3 }
            try Self.lowReading(f, minute: 5)
            try await Self.waitUntil {
                Self.recorded(f, urls[0], receiver.accepted("a").dropFirst().first) && Self.recorded(f, urls[1], receiver.accepted("b").dropFirst().first)
                    && Self.recorded(f, urls[2], receiver.accepted("c").first)
            }
            await Self.stop(second)

            let a = try receiver.accepted("a").map { try Self.event($0).id }, b = try receiver.accepted("b").map { try Self.event($0).id }
            let c = try receiver.accepted("c").map { try Self.event($0).id }
            #expect(a.count == 2 && a.first == alert.id, "a: the first alert once, then the next")
            #expect(b == a, "b: the alert it missed, then the next")
            #expect(c == [a.last], "c, new: only the alert written after it started")
            let last = try Self.event(receiver.accepted("c").first).sequence
            #expect(try Self.cursors(f) == [urls[0]: last, urls[1]: last, urls[2]: last])
        }
    }

    /// An alert whose attempts are exhausted is abandoned: its cursor moves past it, and a restart does not send it.
    @Test func anAbandonedAlertIsNotSentAgain() async throws {
        let receiver = WebhookReceiver(up: [])
        let receiverApp = Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiverApp.test(.live) { hookClient in
            let port = try #require(hookClient.port)
            let live = try Self.live(port, ["h"], attempts: 2)
            let url = live.webhooks[0].absoluteString
            let f = try await ServerFixture.make(live: live); defer { f.remove() }
            let first = Self.start(f.server)
            try await Self.waitUntil { (try? Self.cursors(f).count) == 1 }
            try Self.lowReading(f, minute: 0)
            try await Self.waitUntil { receiver.attempts("h").count >= 2 && (try? Self.cursors(f)[url]) ?? 0 >= (try? Self.event(receiver.attempts("h").first).sequence) ?? .max }
            await Self.stop(first)
            let abandoned = try Self.event(receiver.attempts("h").first)
            #expect(receiver.attempts("h").count == 2)
            #expect(try Self.cursors(f)[url] == abandoned.sequence)

            receiver.up.withLock { _ = $0.insert("h") }
            let second = Self.start(try await Self.reopen(f, live))
            try Self.lowReading(f, minute: 5)
            try await Self.waitUntil { receiver.accepted("h").count >= 1 }
            await Self.stop(second)
            let accepted = try receiver.accepted("h").map { try Self.event($0) }
            #expect(accepted.count == 1 && accepted.first?.id != abandoned.id && (accepted.first?.sequence ?? 0) > abandoned.sequence)
        }
    }
}
