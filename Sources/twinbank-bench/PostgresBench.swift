import ArgumentParser
import Foundation
import PostgresNIO
import TwinBank
import TwinBankPostgres
import TwinCore

/// `twinbank-bench postgres`: the PostgreSQL benchmarks of issue 28, on scratch databases the command creates on the
/// server at `--url` (default `$TWINBANK_POSTGRES_URL`, e.g. under `Scripts/with-postgres`) and drops at the end,
/// also when a part fails.
///
/// (a) ingest of N observations (default 10,000,000) through `Bank.append` (every check and content hash of the
///     library), in batches of `--batch` events (default 10,000) over `--twins` twins (default 1,000): by default
///     each batch is one twin's block (a device or a record upload: the twins take turns), with
///     `--twins-per-batch K` a mix of K twins' blocks in every batch (a feed interleaving patients). Reported: obs/s of
///     wall time (target >= 100,000), the process's CPU and the server's (its postmaster and children, from /proc, when local),
///     bytes on disk (`pg_database_size`). Beside it the CEILING: PostgreSQL's own client-side `COPY` here,
///     `pgbench -i -s 100` (10,000,000 rows of `pgbench_accounts`) on the same server, rows/s; for scale, Smile CDR
///     publishes about 22,000 FHIR resources/s ingested on a cluster. An event row is wider (20 columns, two indexes,
///     16 hash partitions) than pgbench's (4 columns, one key), and each event is checked and hashed first, so the
///     ratio to the ceiling says how much of the server's raw ingest the bank keeps.
/// (b) state-as-of (`Bank.state(of:asOf:)`, latest value per code) on a random twin at a random time, in a bank of
///     `--state-twins` twins (default 100,000) and `--state-events` events (default 20,000,000): p50/p99 (target
///     p50 <= 5 ms); (b') the same from async code through `Bank.run` (the hop onto the storage's threads).
/// (c) `--writers` concurrent writers (default 16) for `--seconds` (default 60), each its own `Bank` on its own
///     `PostgresStorage` (own connections, as separate processes would have) on its own thread, appending small
///     batches into its own twins and every `--shared-every`th batch into one twin all writers share. Then, from the
///     database (SQL, not the bank): every acknowledged event is there exactly once (count and content ids), no
///     unacknowledged one is, and in every twin the order of sequence numbers of a writer's events is the order
///     that writer appended them. Throughput in events/s and batches/s, and the verdict (exit status 1 when it fails).
///
/// Progress goes to standard error when it is a terminal; the summary (figures, targets and ratios) to standard
/// output. The server of `Scripts/with-postgres` runs with `fsync`, `full_page_writes` and `synchronous_commit`
/// off (a throwaway test cluster): the figures are those of a server that does not wait for its disk; a durable
/// server adds the WAL flush per commit (one per batch here).
struct PostgresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "PostgreSQL benchmarks: ingest (with the pgbench COPY ceiling), state-as-of, concurrent writers, on scratch databases."
    )

    @Option(help: "The server: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $TWINBANK_POSTGRES_URL). Scratch databases are created beside DATABASE and dropped at the end.")
    var url: String?

    @Option(help: "(a) Observations to ingest.")
    var events = 10_000_000
    @Option(help: "(a) Events per Bank.append batch.")
    var batch = 10_000
    @Option(help: "(a) Twins the observations are spread over.")
    var twins = 1_000
    @Option(help: "(a) Twins per batch: 1 = each batch one twin's block; K = each batch K twins' blocks, interleaved.")
    var twinsPerBatch = 1
    @Option(help: "(a) pgbench scale of the COPY ceiling (100 = 10,000,000 rows).")
    var pgbenchScale = 100
    @Option(help: "(a) How batches are appended: sequential (Bank.append, one after the other), pipelined (Bank.appendPipelined: the next batches checked while one is written), or both, each into its own database, in this order.")
    var ingestPath: IngestPath = .both
    @Option(help: "(a) Rows of the ingested events COPYed again with nothing on the client (psql \\copy of the rows as stored): the server's part alone. 0: skip.")
    var serverAloneRows = 1_000_000

    @Option(help: "(b) Twins in the state-as-of bank.")
    var stateTwins = 100_000
    @Option(help: "(b) Events in the state-as-of bank.")
    var stateEvents = 20_000_000
    @Option(help: "(b) State-as-of queries to time (each way).")
    var queries = 2_000

    @Option(help: "(c) Concurrent writers.")
    var writers = 16
    @Option(help: "(c) Seconds the writers run.")
    var seconds = 60
    @Option(help: "(c) Events per writer batch.")
    var writerBatch = 10
    @Option(help: "(c) Own twins per writer.")
    var writerTwins = 10
    @Option(help: "(c) Every Nth batch of a writer goes into the twin all writers share.")
    var sharedEvery = 4

    @Flag(help: "Skip (a), the ingest.")
    var skipIngest = false
    @Flag(help: "Skip the pgbench COPY ceiling.")
    var skipCeiling = false
    @Flag(help: "Skip (b), state-as-of.")
    var skipStateAsOf = false
    @Flag(help: "Skip (c), the concurrent writers.")
    var skipWriters = false

    func validate() throws {
        for (name, v) in [("--events", events), ("--batch", batch), ("--twins", twins), ("--twins-per-batch", twinsPerBatch), ("--pgbench-scale", pgbenchScale),
                          ("--state-twins", stateTwins), ("--state-events", stateEvents), ("--queries", queries), ("--writers", writers),
                          ("--seconds", seconds), ("--writer-batch", writerBatch), ("--writer-twins", writerTwins), ("--shared-every", sharedEvery)] where v < 1 {
            throw ValidationError("\(name) must be at least 1, not \(v)")
        }
        if serverAloneRows < 0 { throw ValidationError("--server-alone-rows must be at least 0, not \(serverAloneRows)") }
        if twinsPerBatch > twins { throw ValidationError("--twins-per-batch (\(twinsPerBatch)) is more than --twins (\(twins))") }
        if batch % twinsPerBatch != 0 { throw ValidationError("--batch (\(batch)) must be a multiple of --twins-per-batch (\(twinsPerBatch))") }
    }

    func run() async throws {
        guard let text = url ?? ProcessInfo.processInfo.environment["TWINBANK_POSTGRES_URL"], !text.isEmpty else {
            throw ValidationError("no PostgreSQL server: pass --url postgres://USER@HOST:PORT/DATABASE or set TWINBANK_POSTGRES_URL (Scripts/with-postgres sets it for a throwaway server)")
        }
        var server = try BenchServer(location: try PostgresLocation(url: text))
        server.postmaster = await server.postmasterPID()
        let version = try await server.scalar("SHOW server_version")
        var settings: [String] = []
        for name in ["fsync", "synchronous_commit", "full_page_writes", "shared_buffers"] {
            let value = try await server.scalar("SHOW \(name)")
            settings.append("\(name)=\(value)")
        }
        print("twinbank-bench postgres  (cores: \(ProcessInfo.processInfo.activeProcessorCount); server \(server.location), PostgreSQL \(version); \(settings.joined(separator: ", ")))\n")

        var failures: [String] = []
        var ingestRate: Double?
        if !skipIngest {
            var rates: [Bool: Double] = [:]
            for pipelined in ingestPath.pipelined {
                let name = pipelined ? "pipelined" : "sequential"
                do {
                    ingestRate = try await server.withScratch("ingest") { db in
                        let rate = try await ingest(server, db, pipelined: pipelined)
                        if pipelined || ingestPath == .sequential, serverAloneRows > 0 { try await serverAlone(server, db) }
                        return rate
                    }
                    rates[pipelined] = ingestRate
                } catch { failures.append("(a) ingest, \(name): \(error)"); print("(a) FAILED (\(name)): \(error)") }
            }
            if let before = rates[false], let after = rates[true] {
                print("    pipelined / sequential: \(Int(after)) / \(Int(before)) obs/s = \(fmt(after / before))x")
            }
        }
        if !skipCeiling {
            do { try await server.withScratch("pgbench") { try ceiling(server, $0, ingestRate: ingestRate) } } catch { failures.append("(a) pgbench ceiling: \(error)"); print("    ceiling FAILED: \(error)") }
        }
        if !skipStateAsOf {
            do { try await server.withScratch("state") { try await stateAsOf(server, $0) } } catch { failures.append("(b) state-as-of: \(error)"); print("(b) FAILED: \(error)") }
        }
        if !skipWriters {
            do { try await server.withScratch("writers") { try await concurrentWriters(server, $0) } } catch { failures.append("(c) writers: \(error)"); print("(c) FAILED: \(error)") }
        }
        if !failures.isEmpty {
            print("\nFAILED:\n" + failures.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }

    // MARK: (a) ingest

    static let codes: [(Concept, String, Double, Double)] = [
        (.loinc("2339-0", "Glucose"), "mg/dL", 70, 180), (.loinc("8867-4", "Heart rate"), "/min", 50, 120),
        (.loinc("8480-6", "Systolic BP"), "mm[Hg]", 100, 160), (.loinc("8462-4", "Diastolic BP"), "mm[Hg]", 60, 100),
    ]
    static let start = try! Instant(parsing: "2020-01-01T00:00:00Z")

    static func twinID(_ prefix: String, _ i: Int) -> TwinID { try! TwinID("\(prefix)-\(i)") }

    /// Creates `count` twins named `prefix-0` ... in transactions of 1,000.
    static func createTwins(_ bank: Bank, prefix: String, count: Int, progress: BenchProgress?) throws {
        let birth = try Instant(parsing: "1970-01-01")
        var done = 0
        while done < count {
            let n = min(1_000, count - done)
            try bank.write { w in
                for i in done..<(done + n) {
                    try w.createTwin(Twin(id: twinID(prefix, i), kind: .person, attributes: ["birthDate": .date(birth)]))
                }
            }
            done += n
            progress?.show("creating twins \(done)/\(count)")
        }
    }

    /// The drafts of one twin's block: `n` observations from its `k`th one on, one a minute, the codes in turn.
    static func block(_ twin: TwinID, from k: Int, count n: Int, source: Source, rng: inout BankBenchRandom, step: Int64 = 60_000_000) -> [EventDraft] {
        (k..<(k + n)).map { i in
            let (code, unit, lo, hi) = codes[i % codes.count]
            let v = (lo + (hi - lo) * rng.nextUnit() * 10).rounded() / 10
            return EventDraft(twin: twin, effective: EffectiveTime(start.advanced(byMicroseconds: Int64(i) * step)),
                              code: code, value: .quantity(Quantity(v, unit)), source: source)
        }
    }

    func ingest(_ server: BenchServer, _ db: ScratchDatabase, pipelined: Bool) async throws -> Double {
        let progress = BenchProgress.ifTerminal()
        let storage = try PostgresStorage(location: db.location)
        defer { storage.close() }
        let bank = Bank(storage: storage)
        try PostgresBench.createTwins(bank, prefix: "ingest", count: twins, progress: progress)
        var wall = 0.0, cpu = 0.0, batches = 0, done = 0
        let server0 = BenchServer.serverCPUSeconds(server.postmaster)
        if pipelined {
            // the drafts are made on the checking thread, inside the time measured (the sequential loop leaves them out)
            let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Measure.cpuSeconds()
            try bank.appendPipelined(IngestBatches(feed: IngestFeed(twins: twins, twinsPerBatch: twinsPerBatch), events: events, batch: batch)) { ack in
                done += ack.result.count
                batches += 1
                progress?.show("(a) pipelined ingest \(done)/\(events): \(Int(Double(done) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))) obs/s")
            }
            wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            cpu = Measure.cpuSeconds() - c0
        } else {
            var feed = IngestFeed(twins: twins, twinsPerBatch: twinsPerBatch)
            while done < events {
                let n = min(batch, events - done)
                let drafts = feed.next(n)
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Measure.cpuSeconds()
                try bank.append(drafts)
                wall += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                cpu += Measure.cpuSeconds() - c0
                done += n
                batches += 1
                progress?.show("(a) ingest \(done)/\(events): \(Int(Double(done) / wall)) obs/s")
            }
        }
        progress?.clear()
        guard done == events else { throw BankError(.storageFailure, "\(done) events acknowledged, not \(events)") }
        let serverCPU = BenchServer.serverCPUSeconds(server.postmaster).map { $0 - (server0 ?? 0) }
        let size = try await db.size()
        let (checkSeconds, checkEvents) = try checksAlone()
        let rate = Double(events) / wall
        let layout = twinsPerBatch == 1 ? "each batch one twin's block, \(twins) twins in turn" : "each batch \(twinsPerBatch) twins' blocks interleaved, \(twins) twins"
        let path = pipelined ? "Bank.appendPipelined (the next batches checked while one is written; making the drafts included)" : "Bank.append, one batch after the other"
        print("(a) ingest \(events) observations through \(path) (\(batches) batches of \(batch), \(layout)):")
        print("    \(fmt(wall)) s = \(Int(rate)) obs/s   (target >= 100,000: \(fmt(rate / 100_000))x; Smile CDR ~22,000 FHIR resources/s on a cluster: \(fmt(rate / 22_000))x)")
        print("    CPU: this process \(fmt(cpu)) s (\(Int(Double(events) / cpu)) obs per CPU-second)" + (serverCPU.map { ", the server's processes \(fmt($0)) s" } ?? ""))
        let checkShare = checkSeconds / Double(checkEvents) * Double(events) / wall
        print("    phases: Bank.append's checks and hashing alone (the same drafts into an in-memory bank, \(checkEvents) events) \(fmt(checkSeconds)) s = \(Int(Double(checkEvents) / checkSeconds)) obs/s, ~\(Int(checkShare * 100)) % of the wall time above; the rest is the storage's (rows, COPY, indexes, commit) and waiting")
        print("    on disk: \(fmt(Double(size) / 1e6)) MB (pg_database_size) = \(Int(Double(size) / Double(events))) bytes per event")
        return rate
    }

    /// The time of Bank.append's own work (checks, hashing, numbering) without PostgreSQL: the first batches of (a)
    /// (up to 1,000,000 events), the same drafts, into an in-memory bank.
    func checksAlone() throws -> (seconds: Double, events: Int) {
        let bank = Bank(storage: MemoryStorage())
        try PostgresBench.createTwins(bank, prefix: "ingest", count: twins, progress: nil)
        var feed = IngestFeed(twins: twins, twinsPerBatch: twinsPerBatch)
        let total = min(events, 1_000_000)
        var seconds = 0.0, done = 0
        while done < total {
            let n = min(batch, total - done)
            let drafts = feed.next(n)
            let t0 = DispatchTime.now().uptimeNanoseconds
            try bank.append(drafts)
            seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            done += n
        }
        return (seconds, total)
    }

    /// The server's part of the ingest alone: the first `--server-alone-rows` rows of `events` as stored (sequence numbers
    /// moved past the last), written out by psql's `COPY TO`, then loaded again into the same table (same partitions,
    /// indexes and size) with psql's `\\copy FROM`: the client only reads a file and sends it.
    func serverAlone(_ server: BenchServer, _ db: ScratchDatabase) async throws {
        guard let psql = BenchServer.toolPath("psql") else {
            print("    server alone: no psql on PATH nor in /usr/lib/postgresql/*/bin: skipped")
            return
        }
        let columns = try await BenchServer.rows(db.location, "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position").map { try $0.decode(String.self) }
        let offset: Int64 = 1_000_000_000_000
        let select = columns.map { $0 == "seq" ? "seq + \(offset)" : $0 }.joined(separator: ", ")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("twinbank-bench-rows-\(getpid()).copy").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try BenchServer.run(psql, db.location, ["-c", "\\copy (SELECT \(select) FROM events ORDER BY seq LIMIT \(serverAloneRows)) TO '\(file)'"])
        let rows = try await BenchServer.rows(db.location, "SELECT count(*) FROM events").first!.decode(Int64.self)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let server0 = BenchServer.serverCPUSeconds(server.postmaster)
        let t0 = DispatchTime.now().uptimeNanoseconds
        try BenchServer.run(psql, db.location, ["-c", "\\copy events (\(columns.joined(separator: ", "))) FROM '\(file)'"])
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let serverCPU = BenchServer.serverCPUSeconds(server.postmaster).map { $0 - (server0 ?? 0) }
        let n = Double(min(Int64(serverAloneRows), rows))
        print("    server alone: the first \(Int(n)) rows as stored (\(bytes / Int(max(n, 1))) bytes each in COPY's text) loaded again by psql \\copy into the same table (\(rows) rows): \(fmt(wall)) s = \(Int(n / wall)) rows/s"
              + (serverCPU.map { "; server CPU \(fmt($0)) s = \(fmt($0 / n * 1e6)) µs a row" } ?? ""))
    }

    // MARK: the COPY ceiling

    func ceiling(_ server: BenchServer, _ db: ScratchDatabase, ingestRate: Double?) throws {
        guard let pgbench = BenchServer.toolPath("pgbench") else {
            print("    ceiling: no pgbench on PATH nor in /usr/lib/postgresql/*/bin (install postgresql-client): skipped")
            return
        }
        let loc = server.location
        let server0 = BenchServer.serverCPUSeconds(server.postmaster)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (status, output) = try Measure.run(pgbench, ["-i", "-s", String(pgbenchScale), "-h", loc.host, "-p", String(loc.port), "-U", loc.username, db.name],
                                               environment: loc.password.map { ["PGPASSWORD": $0] } ?? [:])
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let serverCPU = BenchServer.serverCPUSeconds(server.postmaster).map { $0 - (server0 ?? 0) }
        guard status == 0 else {
            throw BankError(.storageFailure, "pgbench -i failed (status \(status)): \(output.suffix(400))")
        }
        let rows = Double(pgbenchScale) * 100_000
        // "done in 25.12 s (drop tables 0.00 s, create tables 0.01 s, client-side generate 15.2 s, vacuum 4.1 s, primary keys 5.8 s)."
        let generate = output.range(of: #"client-side generate ([0-9.]+) s"#, options: .regularExpression).flatMap { r in
            Double(output[r].split(separator: " ")[2])
        }
        let copyRate = generate.map { rows / $0 }
        print("    ceiling: pgbench -i -s \(pgbenchScale) (\(Int(rows)) rows, client-side COPY) on the same server: \(fmt(wall)) s in all = \(Int(rows / wall)) rows/s"
              + (generate.map { "; its COPY phase \(fmt($0)) s = \(Int(rows / $0)) rows/s" } ?? "") + (serverCPU.map { "; server CPU \(fmt($0)) s" } ?? ""))
        if let ingestRate, let copyRate {
            print("    Twinbank ingest / pgbench COPY: \(fmt(ingestRate / copyRate))x (rows/s; with pgbench's vacuum and key: \(fmt(ingestRate / (rows / wall)))x)")
        }
    }

    // MARK: (b) state-as-of

    func stateAsOf(_ server: BenchServer, _ db: ScratchDatabase) async throws {
        let progress = BenchProgress.ifTerminal()
        let storage = try PostgresStorage(location: db.location)
        defer { storage.close() }
        let bank = Bank(storage: storage)
        let t0 = DispatchTime.now().uptimeNanoseconds
        try PostgresBench.createTwins(bank, prefix: "state", count: stateTwins, progress: progress)
        let perTwin = max(1, stateEvents / stateTwins)
        let twinsPerBatch = max(1, batch / perTwin)
        let step: Int64 = 3_600_000_000 // one an hour
        let source = Source(.device, "bench-monitor")
        var rng = BankBenchRandom(seed: 7)
        var done = 0, t = 0
        while t < stateTwins {
            var drafts: [EventDraft] = []
            for k in t..<min(stateTwins, t + twinsPerBatch) {
                drafts += PostgresBench.block(PostgresBench.twinID("state", k), from: 0, count: perTwin, source: source, rng: &rng, step: step)
            }
            try bank.append(drafts)
            done += drafts.count
            t += twinsPerBatch
            let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            progress?.show("(b) loading \(done)/\(perTwin * stateTwins) events (\(Int(Double(done) / s)) /s)")
        }
        progress?.clear()
        try await db.analyze()
        let load = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let span = Int64(perTwin) * step
        var times: [Double] = [], hopped: [Double] = [], checksum = 0
        // a warm-up (connections, the server's caches of the catalogue), then the two ways in turn, so both see the same load
        for i in 0..<(2 * queries + 100) {
            let twin = PostgresBench.twinID("state", Int(rng.next() % UInt64(stateTwins)))
            let at = PostgresBench.start.advanced(byMicroseconds: Int64(rng.nextUnit() * Double(span)))
            let q0 = DispatchTime.now().uptimeNanoseconds
            if i % 2 == 0 {
                checksum += try bank.state(of: twin, asOf: at).count
            } else {
                checksum += try await bank.run { try $0.state(of: twin, asOf: at).count }
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - q0) / 1e6
            if i >= 100 { if i % 2 == 0 { times.append(ms) } else { hopped.append(ms) } }
        }
        let size = try await db.size()
        let p50 = Measure.percentile(times, 0.5), p99 = Measure.percentile(times, 0.99)
        let h50 = Measure.percentile(hopped, 0.5), h99 = Measure.percentile(hopped, 0.99)
        print("(b) state-as-of on one twin among \(stateTwins) twins, \(perTwin * stateTwins) events in the bank (\(perTwin) per twin, \(PostgresBench.codes.count) codes; loaded in \(fmt(load)) s, \(fmt(Double(size) / 1e9)) GB):")
        print("    \(queries) queries at random times on random twins: p50 \(fmt(p50)) ms, p99 \(fmt(p99)) ms   (target p50 <= 5 ms: \(fmt(5 / p50))x headroom)  [\(checksum / (2 * queries + 100)) codes/answer]")
        print("    (b') the same from async code through Bank.run: p50 \(fmt(h50)) ms, p99 \(fmt(h99)) ms   (\(fmt(h50 / p50))x the blocking call's p50)")
    }

    // MARK: (c) concurrent writers

    /// What one writer appended and had acknowledged, in its order.
    final class WriterLog: @unchecked Sendable {
        var acknowledged: [(twin: TwinID, ids: [ContentHash], first: Int64, last: Int64)] = []
        var failed: [String] = []
        var batches = 0
    }

    func concurrentWriters(_ server: BenchServer, _ db: ScratchDatabase) async throws {
        let setup = try PostgresStorage(location: db.location)
        let setupBank = Bank(storage: setup)
        try PostgresBench.createTwins(setupBank, prefix: "shared", count: 1, progress: nil)
        for w in 0..<writers { try PostgresBench.createTwins(setupBank, prefix: "w\(w)", count: writerTwins, progress: nil) }
        setup.close()

        let logs = (0..<writers).map { _ in WriterLog() }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds) * 1_000_000_000
        let finished = Finished()
        let (writerBatch, writerTwins, sharedEvery, location) = (self.writerBatch, self.writerTwins, self.sharedEvery, db.location)
        let server0 = BenchServer.serverCPUSeconds(server.postmaster), c0 = Measure.cpuSeconds()
        let t0 = DispatchTime.now().uptimeNanoseconds
        for w in 0..<writers {
            let log = logs[w]
            let thread = Thread {
                defer { finished.add() }
                do {
                    // its own storage: its own connections, as another process would have
                    let storage = try PostgresStorage(location: location, poolSize: 1)
                    defer { storage.close() }
                    let bank = Bank(storage: storage)
                    let source = Source(.device, "writer-\(w)")
                    var rng = BankBenchRandom(seed: UInt64(1000 + w))
                    var next = [TwinID: Int]()
                    var k = 0
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        let twin = k % sharedEvery == sharedEvery - 1 ? PostgresBench.twinID("shared", 0) : PostgresBench.twinID("w\(w)", k % writerTwins)
                        k += 1
                        // the shared twin's events differ by source (each writer's own), so no two writers send the same event
                        let from = next[twin, default: 0]
                        let drafts = PostgresBench.block(twin, from: from, count: writerBatch, source: source, rng: &rng)
                        next[twin] = from + writerBatch
                        do {
                            let r = try bank.append(drafts)
                            log.acknowledged.append((twin, r.ids, r.firstSequence, r.lastSequence))
                            log.batches += 1
                        } catch {
                            log.failed.append("\(error)")
                            if log.failed.count > 10 { return }
                        }
                    }
                } catch {
                    log.failed.append("\(error)")
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        let progress = BenchProgress.ifTerminal()
        while finished.count < writers {
            try await Task.sleep(for: .milliseconds(200))
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            progress?.show("(c) \(writers) writers: \(Int(elapsed)) s, \(logs.reduce(0) { $0 + $1.batches }) batches")
        }
        progress?.clear()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let cpu = Measure.cpuSeconds() - c0
        try await Task.sleep(for: .milliseconds(500)) // the server reaps the writers' closed backends, whose CPU it then counts
        let serverCPU = BenchServer.serverCPUSeconds(server.postmaster).map { $0 - (server0 ?? 0) }

        // the check, from the database
        let rows = try await db.eventsInOrder()
        var problems: [String] = []
        var stored: [ContentHash: Int] = [:] // id -> count
        var storedOrder: [TwinID: [ContentHash]] = [:]
        var storedSeq: [ContentHash: Int64] = [:]
        for r in rows {
            stored[r.id, default: 0] += 1
            storedOrder[r.twin, default: []].append(r.id)
            storedSeq[r.id] = r.seq
        }
        let duplicates = stored.filter { $0.value > 1 }
        if !duplicates.isEmpty { problems.append("\(duplicates.count) events stored more than once") }
        var acknowledged = Set<ContentHash>()
        var ackCount = 0
        for (w, log) in logs.enumerated() {
            var perTwin: [TwinID: [ContentHash]] = [:]
            for a in log.acknowledged {
                perTwin[a.twin, default: []] += a.ids
                ackCount += a.ids.count
                acknowledged.formUnion(a.ids)
                for (i, id) in a.ids.enumerated() where storedSeq[id] != a.first + Int64(i) {
                    problems.append("writer \(w): event \(id.hex) acknowledged as sequence \(a.first + Int64(i)) is stored as \(storedSeq[id].map { "\($0)" } ?? "nothing")")
                    break
                }
            }
            // in each twin, this writer's events in sequence order are its own order
            for (twin, ids) in perTwin {
                let mine = Set(ids)
                let inDatabase = (storedOrder[twin] ?? []).filter { mine.contains($0) }
                if inDatabase != ids { problems.append("writer \(w): twin \(twin) holds \(inDatabase.count) of its \(ids.count) events, not in its order") }
            }
        }
        if acknowledged.count != ackCount { problems.append("the writers were acknowledged \(ackCount) events but only \(acknowledged.count) distinct ids") }
        let missing = acknowledged.filter { stored[$0] == nil }.count
        if missing > 0 { problems.append("\(missing) acknowledged events are missing") }
        let unacknowledged = stored.keys.filter { !acknowledged.contains($0) }.count
        if unacknowledged > 0 { problems.append("\(unacknowledged) stored events were never acknowledged") }
        let failures = logs.flatMap(\.failed)
        let batches = logs.reduce(0) { $0 + $1.batches }
        var sharedBatches = 0
        for log in logs { for a in log.acknowledged where a.twin.rawValue == "shared-0" { sharedBatches += 1 } }
        print("(c) \(writers) concurrent writers for \(seconds) s (each its own PostgresStorage; batches of \(writerBatch) events, \(writerTwins) own twins each, every \(sharedEvery)th batch into one shared twin):")
        print("    \(ackCount) events in \(batches) batches (\(sharedBatches) into the shared twin) in \(fmt(wall)) s = \(Int(Double(ackCount) / wall)) events/s, \(Int(Double(batches) / wall)) batches/s"
              + (failures.isEmpty ? "" : "; \(failures.count) appends failed (first: \(failures[0]))"))
        print("    CPU: the writers \(fmt(cpu)) s" + (serverCPU.map { ", the server's processes \(fmt($0)) s" } ?? "") + "; every write holds the bank's advisory write lock (one writer at a time)")
        print("    check from the database (\(rows.count) rows): " + (problems.isEmpty
            ? "PASS: every acknowledged event present exactly once (count and ids), none unacknowledged, each writer's order = sequence order in every twin"
            : "FAIL: " + problems.prefix(5).joined(separator: "; ")))
        if !problems.isEmpty { throw BankError(.storageFailure, "the concurrent writers' check failed: \(problems.prefix(5).joined(separator: "; "))") }
    }

    func fmt(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }
}

/// The drafts of (a), batch after batch: the twins `ingest-0` ... take turns; a batch is one twin's block of
/// observations or, with `twinsPerBatch` K, K twins' blocks interleaved in time order (as a feed sends them).
struct IngestFeed {
    let twins: Int, twinsPerBatch: Int
    let source = Source(.device, "bench-monitor")
    var rng = BankBenchRandom(seed: 42)
    var nextIndex: [Int] // per twin: its next observation's index
    var turn = 0

    init(twins: Int, twinsPerBatch: Int) {
        self.twins = twins; self.twinsPerBatch = twinsPerBatch
        nextIndex = [Int](repeating: 0, count: twins)
    }

    mutating func next(_ n: Int) -> [EventDraft] {
        let perTwin = (n + twinsPerBatch - 1) / twinsPerBatch
        var blocks: [[EventDraft]] = []
        var count = 0
        while count < n {
            let t = turn % twins
            turn += 1
            let m = min(perTwin, n - count)
            blocks.append(PostgresBench.block(PostgresBench.twinID("ingest", t), from: nextIndex[t], count: m, source: source, rng: &rng))
            nextIndex[t] += m
            count += m
        }
        if blocks.count == 1 { return blocks[0] }
        var drafts: [EventDraft] = []
        drafts.reserveCapacity(n)
        for i in 0..<(blocks.map(\.count).max() ?? 0) { for b in blocks where i < b.count { drafts.append(b[i]) } }
        return drafts
    }
}

/// The batches of (a) for ``TwinBank/Bank/appendPipelined(_:depth:acknowledge:)``: `events` drafts from `feed`, `batch` at a time.
struct IngestBatches: Sequence, Sendable {
    var feed: IngestFeed
    let events: Int, batch: Int

    struct Iterator: IteratorProtocol {
        var feed: IngestFeed
        let events: Int, batch: Int
        var done = 0
        mutating func next() -> [EventDraft]? {
            guard done < events else { return nil }
            let n = Swift.min(batch, events - done)
            done += n
            return feed.next(n)
        }
    }
    func makeIterator() -> Iterator { Iterator(feed: feed, events: events, batch: batch) }
}

/// Which ingest paths (a) measures.
enum IngestPath: String, ExpressibleByArgument, CaseIterable {
    case sequential, pipelined, both
    var pipelined: [Bool] {
        switch self {
        case .sequential: return [false]
        case .pipelined: return [true]
        case .both: return [false, true]
        }
    }
}

/// Progress on standard error, rewritten in place; only when standard error is a terminal.
final class BenchProgress {
    private var last: UInt64 = 0
    static func ifTerminal() -> BenchProgress? { isatty(STDERR_FILENO) == 1 ? BenchProgress() : nil }
    func show(_ text: @autoclosure () -> String) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - last > 250_000_000 else { return }
        last = now
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text()).utf8))
    }
    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

/// How many writer threads have ended.
final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var count: Int { lock.withLock { n } }
}

/// The server the benchmark runs on: an administrative connection to the URL's database, which creates and drops
/// the scratch databases.
struct BenchServer {
    let location: PostgresLocation
    /// The server's postmaster, when it is on this machine (for its CPU time).
    var postmaster: Int?
    static let logger = Logger(label: "twinbank-bench.postgres")

    init(location: PostgresLocation) throws { self.location = location }

    /// A new connection to `database` (default: the URL's).
    static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        let config = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.username,
                                                      password: location.password, database: location.database, tls: .disable)
        do {
            return try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: config, id: 1, logger: logger)
        } catch {
            throw BankError(.storageFailure, "cannot connect to the PostgreSQL server at \(location): \(String(reflecting: error))", value: location.description)
        }
    }

    /// Runs `sql` on a new connection to `location` and returns its rows.
    static func rows(_ location: PostgresLocation, _ sql: String) async throws -> [PostgresRow] {
        let c = try await connect(location)
        do {
            var out: [PostgresRow] = []
            for try await row in try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) { out.append(row) }
            try await c.close()
            return out
        } catch {
            try? await c.close()
            throw BankError(.storageFailure, "\(sql) on \(location) failed: \(String(reflecting: error))", value: location.description)
        }
    }

    /// The first column of the first row of `sql` on the URL's database, as text.
    func scalar(_ sql: String) async throws -> String {
        guard let row = try await BenchServer.rows(location, sql).first else { return "" }
        return try row.decode(String.self)
    }

    /// Creates a scratch database for `part`, runs `body` with it and drops it, also when `body` throws.
    func withScratch<T>(_ part: String, _ body: (ScratchDatabase) async throws -> T) async throws -> T {
        let name = "twinbank_bench_\(part)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await BenchServer.rows(location, "CREATE DATABASE \(name)")
        var scratch = location
        scratch.database = name
        let db = ScratchDatabase(name: name, location: scratch)
        let result: T
        do {
            result = try await body(db)
        } catch {
            try? await drop(name)
            throw error
        }
        try await drop(name)
        return result
    }

    private func drop(_ name: String) async throws {
        _ = try await BenchServer.rows(location, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// The server's process id (the postmaster), when it runs on this machine and /proc shows it: the parent of a
    /// backend's process.
    func postmasterPID() async -> Int? {
        // the backend's /proc entry is read while its connection is open (it goes when the connection closes)
        guard let c = try? await BenchServer.connect(location) else { return nil }
        var backend: Int32?
        if let rows = try? await c.query("SELECT pg_backend_pid()", logger: BenchServer.logger) {
            do { for try await row in rows { backend = try row.decode(Int32.self) } } catch {}
        }
        let stat = backend.flatMap { BenchServer.stat(Int($0)) }
        try? await c.close()
        guard let stat, stat.count > 1 else { return nil }
        return Int(stat[1]) // field 4, the parent
    }

    /// The fields of /proc/PID/stat after the command's name (the first is field 3, the state).
    static func stat(_ pid: Int) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// CPU seconds (user + system) the server has used so far: its postmaster's, with its reaped children's, and
    /// those of its live children (the backends, the writers of the WAL and of the buffers); nil when the server is
    /// not on this machine. Other PostgreSQL servers on the machine are not counted.
    static func serverCPUSeconds(_ postmaster: Int?) -> Double? {
        guard let postmaster, let own = stat(postmaster), own.count > 14 else { return nil }
        let tick = 100.0 // USER_HZ: the unit of /proc/PID/stat's times on Linux
        // utime, stime, cutime, cstime are fields 14-17
        var ticks = own[11...14].compactMap { Double($0) }.reduce(0, +)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries where pid.allSatisfy(\.isNumber) {
            guard let n = Int(pid), n != postmaster, let fields = stat(n), fields.count > 14, Int(fields[1]) == postmaster else { continue }
            ticks += fields[11...14].compactMap { Double($0) }.reduce(0, +)
        }
        return ticks / tick
    }

    /// A PostgreSQL client program (`pgbench`, `psql`) on PATH, else the newest in /usr/lib/postgresql/*/bin.
    static func toolPath(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        return versions.map { "/usr/lib/postgresql/\($0)/bin/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs psql (`tool`) on `location`'s database with `arguments`; throws with its output when it fails.
    static func run(_ tool: String, _ location: PostgresLocation, _ arguments: [String]) throws {
        let (status, output) = try Measure.run(tool, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", location.host, "-p", String(location.port), "-U", location.username,
                                                      "-d", location.database] + arguments,
                                               environment: location.password.map { ["PGPASSWORD": $0] } ?? [:])
        guard status == 0 else {
            throw BankError(.storageFailure, "\(tool) \(arguments.joined(separator: " ")) failed (status \(status)): \(output.suffix(400))")
        }
    }
}

/// A database the benchmark created for one part (dropped by ``BenchServer/withScratch(_:_:)``).
struct ScratchDatabase {
    let name: String
    let location: PostgresLocation

    /// Its size on disk, in bytes.
    func size() async throws -> Int64 {
        try await BenchServer.rows(location, "SELECT pg_database_size(current_database())").first!.decode(Int64.self)
    }

    /// Fresh planner statistics after a bulk load.
    func analyze() async throws { _ = try await BenchServer.rows(location, "ANALYZE") }

    /// Every event's twin, sequence number and content id, in sequence order.
    func eventsInOrder() async throws -> [(twin: TwinID, seq: Int64, id: ContentHash)] {
        try await BenchServer.rows(location, "SELECT t.name, e.seq, e.h0, e.h1, e.h2, e.h3 FROM events e JOIN twins t ON t.id = e.twin ORDER BY e.seq").map { row in
            let (name, seq, h0, h1, h2, h3) = try row.decode((String, Int64, Int64, Int64, Int64, Int64).self)
            return (try TwinID(name), seq, ContentHash(w0: UInt64(bitPattern: h0), w1: UInt64(bitPattern: h1), w2: UInt64(bitPattern: h2), w3: UInt64(bitPattern: h3)))
        }
    }
}
