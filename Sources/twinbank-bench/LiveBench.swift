import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import ServiceLifecycle
import Synchronization
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer
import TwinSync

/// `twinbank-bench live`: the live link of issue 29 on a SQLite bank on disk, in one process over loopback.
///
/// A device streams `--observations` heart-rate readings (NEWS2 0) into one twin over the WebSocket, `--batch` per
/// message, paced at `--rate` observations per second (0: as fast as the server takes them); one message in
/// `--alert-every` also carries an SpO2 of 85 % (a NEWS2 red 3, which the server's NEWS2 watcher alerts on at once,
/// quiet period off), and the next one a normal SpO2. Measured: the ingest rate (acknowledged observations per
/// second, each durable before its ack) and, for each alerting message, the time from sending it to receiving the
/// alert on the same socket (p50, p99, max; target p99 <= 50 ms at 10,000 observations/s). Reference, same run:
/// the same batches appended straight to the bank (no server, no WebSocket, no watch).
struct LiveBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "WebSocket ingest into one twin through the server's live link, and the latency of the alerts readings raise."
    )

    @Option(help: "Observations streamed in all.") var observations = 100_000
    @Option(help: "Observations per WebSocket message (one append each).") var batch = 100
    @Option(help: "Target observations per second (0: as fast as the server takes them).") var rate = 10_000
    @Option(name: .customLong("alert-every"), help: "One message in this many carries a reading that alerts.") var alertEvery = 10
    @Option(help: "Directory for the temporary banks (default: the system temporary directory).") var directory: String?

    static let heartRate = Concept(system: "http://loinc.org", code: "8867-4", display: "Heart rate")
    static let spo2 = Concept(system: "http://loinc.org", code: "59408-5", display: "SpO2")
    static let t0 = Instant(microseconds: 1_767_225_600_000_000)  // 2026-01-01T00:00:00Z

    /// Message `m`: `batch` heart-rate readings a tenth of a second apart, plus an SpO2 (85 % when it alerts, 97 %
    /// after an alerting one).
    func message(_ m: Int, alerting: Bool, recovering: Bool) -> String {
        var events: [String] = []
        for k in 0..<batch {
            let t = Self.t0.advanced(bySeconds: Double(m * batch + k) / 10).iso8601
            events.append(#"{"code":{"system":"http://loinc.org","code":"8867-4"},"effective":{"start":"\#(t)"},"value":{"type":"quantity","value":72,"unit":"/min"},"source":"device:monitor-1"}"#)
        }
        if alerting || recovering {
            let t = Self.t0.advanced(bySeconds: Double(m * batch + batch - 1) / 10).iso8601
            events.append(#"{"code":{"system":"http://loinc.org","code":"59408-5"},"effective":{"start":"\#(t)"},"value":{"type":"quantity","value":\#(alerting ? 85 : 97),"unit":"%"},"source":"device:monitor-1"}"#)
        }
        return #"{"id":"\#(m)","events":[\#(events.joined(separator: ","))]}"#
    }

    func run() async throws {
        guard observations > 0, batch > 0, rate >= 0, alertEvery >= 2 else { throw ValidationError("--observations, --batch must be positive, --rate 0 or more, --alert-every at least 2") }
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-live-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messages = (observations + batch - 1) / batch
        print("twinbank-bench live  (cores: \(ProcessInfo.processInfo.activeProcessorCount), \(observations) observations, \(batch) per message, target \(rate == 0 ? "as fast as taken" : "\(rate)/s"), an alert every \(alertEvery) messages)\n")

        // the reference: the same batches appended straight to a bank
        let reference: Double
        do {
            let path = dir + "/reference.sqlite"
            let bank = Bank(storage: try BankLocation(path).createNew().storage, actor: "bench")
            try bank.createTwin(Twin(id: "bench", kind: .person))
            let clock = ContinuousClock(), start = clock.now
            for m in 0..<messages {
                var drafts: [EventDraft] = []
                for k in 0..<batch {
                    drafts.append(.observation("bench", at: Self.t0.advanced(bySeconds: Double(m * batch + k) / 10), code: Self.heartRate, Quantity(72, "/min"), source: Source(.device, "monitor-1")))
                }
                try bank.append(drafts)
            }
            let s = Measure.seconds(clock.now - start)
            reference = Double(messages * batch) / s
            print(String(format: "reference: the same %d batches appended to the bank directly: %.2f s = %.0f observations/s", messages, s, reference))
        }

        // the server, with the NEWS2 watcher on the twin, quiet period off
        let path = dir + "/live.sqlite"
        do {
            let opened = try BankLocation(path).createNew()
            let bank = Bank(storage: opened.storage, actor: "bench")
            try bank.createTwin(Twin(id: "bench", kind: .person))
        }
        let tokens = await TokenAuthority.hs256(key: [UInt8](repeating: 9, count: 32))
        let live = LiveConfiguration(watchTwins: ["bench"], watchers: [try NEWS2ThreadWatcher(quietPeriod: .off)], watchInterval: .seconds(1))
        let server = try await TwinServer.open(location: try BankLocation(path), tokens: tokens,
                                               configuration: .init(host: "127.0.0.1", port: 0, bodyLimit: 8 << 20, owner: "bench", live: live),
                                               logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        let token = try await tokens.issue(subject: "bench", role: .admin, scopes: [try SMARTScope(parsing: "user/*.cruds")], lifetime: 3600)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try server.application { port in portSink.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })))
        let serving = Task { try await group.run() }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { throw ValidationError("the server did not start") }

        let sent = Shared<[Int: ContinuousClock.Instant]>([:])       // alerting message -> when it was sent
        let alertIDs = Shared<[String: Int]>([:])                    // event id of an alerting SpO2 -> its message
        let latencies = Shared<[Double]>([])
        let acked = Shared(0)
        let clock = ContinuousClock()
        let start = clock.now
        let lastAck = Shared(start)
        let batch = self.batch, rate = self.rate, alertEvery = self.alertEvery
        let command = self
        let expectedAlerts = (0..<messages).filter { $0 % alertEvery == alertEvery - 1 }.count
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/twins/bench/live?access_token=\(token)",
                                          configuration: .init(maxFrameSize: 8 << 20), logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })) { inbound, outbound, _ in
            let sender = Task {
                for m in 0..<messages {
                    if rate > 0 {
                        let due = start + .nanoseconds(Int64(Double(m * batch) / Double(rate) * 1e9))
                        if clock.now < due { try await Task.sleep(until: due, clock: clock) }
                    }
                    let alerting = m % alertEvery == alertEvery - 1
                    if alerting { sent.withLock { $0[m] = clock.now } }
                    try await outbound.write(.text(command.message(m, alerting: alerting, recovering: m % alertEvery == 0 && m > 0)))
                }
            }
            var alerts = 0
            for try await message in inbound.messages(maxSize: 8 << 20) {
                guard case .text(let text) = message, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { continue }
                switch object["type"] as? String {
                case "ack":
                    let count = object["count"] as? Int ?? 0
                    acked.withLock { $0 += count }
                    lastAck.withLock { $0 = clock.now }
                    if let id = object["ack"] as? String, let m = Int(id), m % alertEvery == alertEvery - 1, let ids = object["ids"] as? [String], let last = ids.last {
                        alertIDs.withLock { $0[last] = m }
                    }
                case "alert":
                    let now = clock.now
                    let event = object["event"] as? [String: Any]
                    let from = ((event?["provenance"] as? [String: Any])?["derivedFrom"] as? [String]) ?? []
                    let ids = alertIDs.withLock { $0 }
                    let m = from.compactMap { ids[$0] }.first
                    if let m, let t = sent.withLock({ $0[m] }) { latencies.withLock { $0.append(Measure.seconds(now - t) * 1000) } }
                    alerts += 1
                case "error":
                    print("error: \(text)")
                default: break
                }
                if acked.withLock({ $0 }) >= messages * batch && alerts >= expectedAlerts { break }
            }
            sender.cancel()
            try await outbound.close(.normalClosure, reason: nil)
        }
        serving.cancel()
        let s = Measure.seconds(lastAck.withLock { $0 } - start)
        let total = acked.withLock { $0 }
        let ms = latencies.withLock { $0 }
        print(String(format: "WebSocket ingest: %d observations acknowledged (durable) in %.2f s = %.0f observations/s (target 10,000/s; paced at %d/s, 0: no limit); %.2fx the direct appends' rate above",
                     total, s, Double(total) / s, rate, Double(total) / s / reference))
        if ms.isEmpty {
            print("alert latency: no alert matched its reading")
        } else {
            print(String(format: "alert latency (reading sent -> alert received, %d of %d alerts): p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 <= 50 ms)",
                         ms.count, expectedAlerts, Measure.percentile(ms, 0.5), Measure.percentile(ms, 0.99), ms.max() ?? 0))
        }
    }
}

/// A value shared with escaping closures.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
