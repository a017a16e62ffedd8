import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer

/// `twinbank-bench server`: twin reads over HTTP through the whole server (token verification, the governed gate
/// and its durable, signed audit entry per read, the bank, JSON) against a bare Hummingbird route returning a small
/// JSON object, both in this process, both loaded by `wrk` (Debian) on loopback in the same run (issue 29: at least
/// 20,000 reads/s at p99 ≤ 5 ms; the bare route is the ceiling). Each figure is `wrk`'s own (requests/s, p99).
struct ServerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Twin reads through the server (gate + audit) vs a bare Hummingbird route, loaded by wrk on loopback."
    )

    @Option(help: "Twins in the bank (reads cycle over them).") var twins = 100
    @Option(help: "Seconds of each wrk run.") var seconds = 10
    @Option(help: "wrk connections.") var connections = 64
    @Option(help: "wrk threads.") var threads = 2
    @Option(help: "Runs of each (alternating; the median requests/s is reported).") var repeats = 3
    @Option(help: "Directory for the temporary bank (default: the system temporary directory).") var directory: String?
    @Option(help: "The wrk executable.") var wrk = "/usr/bin/wrk"

    struct Figure { var rps: Double; var p99ms: Double; var errors: Int }

    /// Runs wrk against `url` and reads its requests/s, p99 and non-2xx count.
    func load(_ url: String, token: String?, script: String?, seconds: Int? = nil) throws -> Figure {
        var args = ["-t\(threads)", "-c\(connections)", "-d\(seconds ?? self.seconds)s", "--latency"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let script { args += ["-s", script] }
        args.append(url)
        let (status, out) = try Measure.run(wrk, args)
        guard status == 0 else { throw ValidationError("wrk failed (\(status)): \(out)") }
        func number(after label: String) -> String? {
            guard let line = out.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }) else { return nil }
            return line.trimmingCharacters(in: .whitespaces).dropFirst(label.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
        }
        func ms(_ s: String) -> Double {
            if s.hasSuffix("us") { return Double(s.dropLast(2))! / 1000 }
            if s.hasSuffix("ms") { return Double(s.dropLast(2))! }
            if s.hasSuffix("s") { return Double(s.dropLast(1))! * 1000 }
            return Double(s) ?? .nan
        }
        let rps = Double(number(after: "Requests/sec:") ?? "") ?? .nan
        let p99 = number(after: "99%").map(ms) ?? .nan
        let errors = Int(number(after: "Non-2xx or 3xx responses:") ?? "0") ?? 0
        return Figure(rps: rps, p99ms: p99, errors: errors)
    }

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: wrk) else {
            throw ValidationError("wrk is not at \(wrk) (Debian: apt-get install wrk; or --wrk PATH)")
        }
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bank.sqlite"

        // a SQLite bank of `twins` people, each with a few observations; its owner reads
        let location = try BankLocation(path)
        let opened = try location.createNew()
        let bank = Bank(storage: opened.storage, actor: "bench")
        let glucose = Concept(system: "http://loinc.org", code: "2339-0", display: "Glucose")
        for i in 0 ..< twins {
            let id = try TwinID(String(format: "p%04d", i))
            try bank.createTwin(Twin(id: id, kind: .person, attributes: ["name": .text("Person \(i)")], origin: Instant(microseconds: 0)))
            try bank.append((0 ..< 5).map { k in
                .observation(id, at: Instant(seconds: 1_700_000_000 + Double(k) * 300), code: glucose, Quantity(90 + Double(k), "mg/dL"), source: Source(.device, "cgm"))
            })
        }
        let tokens = await TokenAuthority.hs256(key: (0 ..< 32).map { _ in UInt8.random(in: 0 ... 255) })
        var logger = Logger(label: "twinbank.bench.server"); logger.logLevel = .error
        let server = try await TwinServer.open(location: location, tokens: tokens,
                                               configuration: .init(host: "127.0.0.1", port: 0, owner: "bench"), logger: logger)
        let token = try await tokens.issue(subject: "bench", role: .admin, scopes: [try SMARTScope(parsing: "user/*.rs")], lifetime: 3600)

        // a wrk script cycling over the twins
        let script = dir + "/twins.lua"
        try """
        local n = \(twins)
        local i = 0
        request = function()
          i = (i + 1) % n
          return wrk.format("GET", string.format("/api/v1/twins/p%04d", i))
        end
        """.write(toFile: script, atomically: true, encoding: .utf8)

        // the bare route: a small JSON object, no middleware
        let bareRouter = Router()
        bareRouter.get("/bare") { _, _ -> Response in
            var headers = HTTPFields(); headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: #"{"id":"p0001","kind":"person","version":1}"#)))
        }
        let ports = Ports()
        let bare = Application(router: bareRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                               onServerRunning: { await ports.set("bare", $0.localAddress?.port ?? 0) }, logger: logger)
        let served = try server.application(onListening: { await ports.set("twin", $0) })

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bare.runService() }
            group.addTask { try await served.runService() }
            let (barePort, twinPort) = try await ports.wait()
            // warm both, and check a read answers 200
            let warm = try load("http://127.0.0.1:\(twinPort)/api/v1/twins/p0001", token: token, script: nil, seconds: 2)
            guard warm.errors == 0 else { throw ValidationError("the twin read answered \(warm.errors) non-2xx responses while warming up") }
            _ = try load("http://127.0.0.1:\(barePort)/bare", token: nil, script: nil, seconds: 2)
            print("twinbank-bench server  (cores: \(ProcessInfo.processInfo.activeProcessorCount), twins: \(twins), wrk -t\(threads) -c\(connections) -d\(seconds)s, repeats: \(repeats))\n")
            var bareFigures: [Figure] = [], stackFigures: [Figure] = [], twinFigures: [Figure] = []
            for r in 0 ..< repeats {
                for which in r % 2 == 0 ? ["bare", "stack", "twin"] : ["twin", "stack", "bare"] {
                    if which == "bare" {
                        let f = try load("http://127.0.0.1:\(barePort)/bare", token: nil, script: nil)
                        bareFigures.append(f)
                        print(String(format: "  run %d bare route:          %9.0f req/s  p99 %6.2f ms", r + 1, f.rps, f.p99ms))
                    } else if which == "stack" {
                        // the server's own stack (its middlewares, the generated handler, JSON) answering without the bank
                        let f = try load("http://127.0.0.1:\(twinPort)/health", token: token, script: nil)
                        stackFigures.append(f)
                        print(String(format: "  run %d server stack, no bank (/health): %9.0f req/s  p99 %6.2f ms", r + 1, f.rps, f.p99ms))
                    } else {
                        let before = server.gate.log.size, commitsBefore = server.gate.log.commits
                        let f = try load("http://127.0.0.1:\(twinPort)/", token: token, script: script)
                        let audited = server.gate.log.size - before, commits = server.gate.log.commits - commitsBefore
                        twinFigures.append(f)
                        print(String(format: "  run %d twin read (gate+audit): %9.0f req/s  p99 %6.2f ms  (%d non-2xx, %llu audit entries in %d commits)", r + 1, f.rps, f.p99ms, f.errors, audited, commits))
                    }
                }
            }
            let b = bareFigures.sorted { $0.rps < $1.rps }[bareFigures.count / 2]
            let t = twinFigures.sorted { $0.rps < $1.rps }[twinFigures.count / 2]
            let s = stackFigures.sorted { $0.rps < $1.rps }[stackFigures.count / 2]
            print(String(format: "\nmedian  bare %0.f req/s (p99 %.2f ms)  server stack without the bank %.0f req/s (p99 %.2f ms)  twin reads %.0f req/s (p99 %.2f ms)  ratio %.2f of the bare route, %.2f of the stack; target ≥ 20,000 req/s, p99 ≤ 5 ms",
                         b.rps, b.p99ms, s.rps, s.p99ms, t.rps, t.p99ms, t.rps / b.rps, t.rps / s.rps))
            group.cancelAll()
        }
    }
}

/// The ports the two applications bound, once both have.
actor Ports {
    private var ports: [String: Int] = [:]
    func set(_ name: String, _ port: Int) { ports[name] = port }
    func wait() async throws -> (Int, Int) {
        while ports.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
        return (ports["bare"]!, ports["twin"]!)
    }
}
