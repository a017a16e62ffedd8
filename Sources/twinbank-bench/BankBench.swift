import ArgumentParser
import Foundation
import GRDB
import TwinBank
import TwinBankSQLite
import TwinCore

/// `twinbank-bench bank`: the bank benchmarks of issue 2, on a temporary SQLite bank.
///
/// (a) batch ingest of N observations (default 1,000,000) into one twin through `Bank.append`, with full
///     validation and SHA-256 content hashes (target >= 250,000 obs/s);
/// (b) state-as-of (latest value per code at a random effective time) on that twin: p50/p99 (target p50 <= 1 ms);
///     (b') the same queries from async code, through `Bank.run` (a hop onto the storage's threads and back per query:
///     what a server or a service pays), with its cost over (b);
/// (c) fork of that twin (target <= 5 ms);
/// (d) export of the twin to a bundle file and import into a second SQLite bank.
/// (a), (b), (c) and (d) call the bank's blocking API from the benchmark's own task, timing the storage itself.
/// There is no anchor script for the bank; published figures are printed for scale.
struct BankBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bank",
        abstract: "Bank benchmarks: ingest, state-as-of, fork, export/import on a temporary SQLite bank."
    )

    @Option(help: "Number of observations to ingest into one twin.")
    var events = 1_000_000

    @Option(help: "Observations per write transaction.")
    var batch = 100_000

    @Option(help: "Number of state-as-of queries to time.")
    var queries = 2000

    @Flag(help: "Skip export/import (the slowest part).")
    var skipExchange = false

    @Option(help: "Directory for the temporary banks (default: the system temporary directory).")
    var directory: String?

    @Flag(help: "Drop the index of events by effective start (SQLite migration v7-events-by-time) before ingesting: what it costs the ingest.")
    var withoutTimeIndex = false

    func run() async throws {
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("twinbank-bench bank  (cores: \(ProcessInfo.processInfo.activeProcessorCount), events: \(events), batch: \(batch))\n")

        if withoutTimeIndex {
            _ = try SQLiteStorage(path: dir + "/bank.sqlite")
            try await DatabaseQueue(path: dir + "/bank.sqlite").write { try $0.execute(sql: "DROP INDEX events_twin_eff") }
            print("(without the index of events by effective start)\n")
        }
        let bank = Bank(storage: try SQLiteStorage(path: dir + "/bank.sqlite"))
        let twin: TwinID = "bench-person"
        try bank.createTwin(Twin(id: twin, kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "1970-01-01"))]))
        let codes: [(Concept, String, Double, Double)] = [
            (.loinc("2339-0", "Glucose"), "mg/dL", 70, 180), (.loinc("8867-4", "Heart rate"), "/min", 50, 120),
            (.loinc("8480-6", "Systolic BP"), "mm[Hg]", 100, 160), (.loinc("8462-4", "Diastolic BP"), "mm[Hg]", 60, 100),
        ]
        let source = Source(.device, "bench-monitor")
        let start = try Instant(parsing: "2020-01-01T00:00:00Z")
        let step: Int64 = 60_000_000 // one observation per minute
        var rng = BankBenchRandom(seed: 42)

        // (a) ingest
        var ingestSeconds = 0.0, ingestCPU = 0.0
        var done = 0
        while done < events {
            let n = min(batch, events - done)
            var drafts: [EventDraft] = []
            drafts.reserveCapacity(n)
            for i in done..<(done + n) {
                let (code, unit, lo, hi) = codes[i % codes.count]
                let v = (lo + (hi - lo) * rng.nextUnit() * 10).rounded() / 10
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(start.advanced(byMicroseconds: Int64(i) * step)),
                                         code: code, value: .quantity(Quantity(v, unit)), source: source))
            }
            let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Measure.cpuSeconds()
            try bank.append(drafts)
            ingestSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            ingestCPU += Measure.cpuSeconds() - c0
            done += n
        }
        let rate = Double(events) / ingestSeconds
        let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/bank.sqlite")[.size] as? NSNumber)?.doubleValue ?? 0
        print("(a) ingest \(events) observations: \(fmt(ingestSeconds)) s = \(Int(rate)) obs/s   (target >= 250,000; \(fmt(rate / 250_000))x)")
        print("    process CPU time \(fmt(ingestCPU)) s = \(Int(Double(events) / ingestCPU)) obs per CPU-second (wall time is higher when the machine is shared)")
        print("    for scale: Eclipse Ditto ~800 twin modifications/s per instance; Azure Digital Twins 10 writes/s per twin")
        print("    bank file: \(fmt(size / 1e6)) MB (+ WAL)")

        // (b) state as of
        let span = Int64(events) * step
        var times: [Double] = []
        times.reserveCapacity(queries)
        var checksum = 0
        for _ in 0..<queries {
            let at = start.advanced(byMicroseconds: Int64(rng.nextUnit() * Double(span)))
            let t0 = DispatchTime.now().uptimeNanoseconds
            let s = try bank.state(of: twin, asOf: at)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            checksum += s.count
        }
        times.sort()
        let p50 = times[times.count / 2], p99 = times[min(times.count - 1, times.count * 99 / 100)]
        print("(b) state-as-of on a \(events)-event twin (\(codes.count) codes, \(queries) queries): p50 \(fmt(p50)) ms, p99 \(fmt(p99)) ms   (target p50 <= 1 ms)  [\(checksum / queries) codes/answer]")

        // (b') the same through the async seam
        var hopped: [Double] = []
        hopped.reserveCapacity(queries)
        for _ in 0..<queries {
            let at = start.advanced(byMicroseconds: Int64(rng.nextUnit() * Double(span)))
            let t0 = DispatchTime.now().uptimeNanoseconds
            let s = try await bank.run { try $0.state(of: twin, asOf: at) }
            hopped.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            checksum += s.count
        }
        hopped.sort()
        let h50 = hopped[hopped.count / 2], h99 = hopped[min(hopped.count - 1, hopped.count * 99 / 100)]
        print("(b') the same from async code through Bank.run: p50 \(fmt(h50)) ms, p99 \(fmt(h99)) ms   (\(fmt(h50 / p50))x the blocking call's p50)")

        // (c) fork
        var forkTimes: [Double] = []
        for k in 0..<5 {
            let at = start.advanced(byMicroseconds: span / 2 + Int64(k))
            let t0 = DispatchTime.now().uptimeNanoseconds
            try bank.fork(twin, at: at, as: try TwinID("bench-fork-\(k)"))
            forkTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        forkTimes.sort()
        let forkState = try bank.state(of: "bench-fork-0").count
        print("(c) fork of the \(events)-event twin: median \(fmt(forkTimes[2])) ms, max \(fmt(forkTimes.last!)) ms   (target <= 5 ms)  [fork sees \(forkState) codes]")

        // (d) export + import
        if !skipExchange {
            var t0 = DispatchTime.now().uptimeNanoseconds
            var c0 = Measure.cpuSeconds()
            let (data, result) = try bank.exportBundle(twin: twin)
            try data.write(to: URL(fileURLWithPath: dir + "/twin.bundle"))
            let exportSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print("(d) export: \(result.events) events, \(fmt(Double(data.count) / 1e6)) MB in \(fmt(exportSeconds)) s (\(Int(Double(result.events) / exportSeconds)) events/s; CPU \(fmt(Measure.cpuSeconds() - c0)) s)")
            c0 = Measure.cpuSeconds()
            let other = Bank(storage: try SQLiteStorage(path: dir + "/other.sqlite"))
            t0 = DispatchTime.now().uptimeNanoseconds
            let read = try Data(contentsOf: URL(fileURLWithPath: dir + "/twin.bundle"))
            let imported = try other.importBundle(read)
            let importSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print("    import (verify every hash, then one transaction): \(imported.eventsAdded) events in \(fmt(importSeconds)) s (\(Int(Double(imported.eventsAdded) / importSeconds)) events/s; CPU \(fmt(Measure.cpuSeconds() - c0)) s)")
            t0 = DispatchTime.now().uptimeNanoseconds
            let again = try other.importBundle(read)
            print("    re-import (idempotent): \(again.eventsAdded) events added in \(fmt(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)) s")
        }
    }

    func fmt(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }
}

/// A small seeded generator for reproducible benchmark data.
struct BankBenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
