import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore

/// `twinbank-bench aggregate`: aggregate queries at scale (issue 23, item 6), on a temporary SQLite bank of N
/// person twins (default 100,000) with `sex` and `birthDate` and a few HbA1c (in % and mmol/mol) and glucose
/// observations each, written through the bank's batch writes. Times `aggregate create` (the query checked
/// against the bank, then stored) and the query's members (target: under a second for 100,000 twins, release
/// build), and counts the storage reads each makes (they must not grow with the number of twins).
struct AggregateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Aggregate queries over many twins: create and members on a temporary SQLite bank, timed, with storage reads counted."
    )

    @Option(help: "Number of person twins.")
    var twins = 100_000

    @Option(help: "Twins per write transaction while building the bank.")
    var batch = 10_000

    @Option(help: "How many times each query's members are evaluated (the median is reported).")
    var repeats = 3

    @Option(help: "Directory for the temporary bank (default: the system temporary directory).")
    var directory: String?

    @Flag(help: "Keep the bank file (its path is printed), e.g. to inspect query plans with sqlite3.")
    var keep = false

    @Option(name: .customLong("bank"), help: "Use this bank file: built there if it does not exist (and kept), reused as it is if it does (no build).")
    var bankPath: String?

    static let hba1c = Concept.loinc("4548-4", "Hemoglobin A1c")
    static let glucose = Concept.loinc("2339-0", "Glucose")
    static let queries = [
        "kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d",
        "age >= 50 and (loinc:4548-4 >= 48 mmol/mol or loinc:2339-0 > 126 mg/dL within 730d)",
    ]

    func run() async throws {
        guard twins > 0, batch > 0, repeats > 0 else { throw ValidationError("--twins, --batch and --repeats must be positive") }
        let path: String
        if let bankPath {
            path = bankPath
        } else {
            let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            path = dir + "/bank.sqlite"
        }
        let reuse = bankPath != nil && FileManager.default.fileExists(atPath: path)
        defer { if !keep && bankPath == nil { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) } }
        print("twinbank-bench aggregate  (cores: \(ProcessInfo.processInfo.activeProcessorCount), twins: \(reuse ? "as in the bank" : "\(twins)"))\n")

        let storage = reuse ? try SQLiteStorage(path: path, create: false) : try SQLiteStorage.createNew(path: path)
        let bank = Bank(storage: storage)
        let counting = CountingStorage(storage)
        let counted = Bank(storage: counting)

        if reuse {
            print("bank: \(path) reused as it is")
        } else {
            // N people, 2-4 HbA1c results (one in five in mmol/mol) and 2 glucose readings each over the last four years
            let t0 = DispatchTime.now().uptimeNanoseconds
            let events = try build(bank)
            print("bank: \(twins) person twins, \(events) observations written in \(fmt(seconds(since: t0))) s (batch writes of \(batch) twins)")
            if keep || bankPath != nil { print("bank file: \(path)") }
        }

        for (i, query) in AggregateBench.queries.enumerated() {
            let id = try AggregateID("bench-\(i + 1)")
            print("\nquery \(i + 1): \(query)")
            counting.reset()
            var c0 = DispatchTime.now().uptimeNanoseconds
            var cpu0 = Measure.cpuSeconds()
            try counted.createAggregate(id, where: query, replace: true)
            let createSeconds = seconds(since: c0), createCPU = Measure.cpuSeconds() - cpu0
            let createReads = counting.reads
            var times: [Double] = [], cpuTimes: [Double] = []
            var membership: AggregateMembership?
            for _ in 0..<repeats {
                c0 = DispatchTime.now().uptimeNanoseconds
                cpu0 = Measure.cpuSeconds()
                membership = try bank.members(of: id)
                times.append(seconds(since: c0))
                cpuTimes.append(Measure.cpuSeconds() - cpu0)
            }
            counting.reset()
            _ = try counted.members(of: id)
            let reads = counting.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let m = membership!
            print("  create (checked against the bank, stored): \(fmt(createSeconds)) s (CPU \(fmt(createCPU)) s), \(createReads) storage reads")
            print("  members: median \(fmt(Measure.median(times))) s (CPU \(fmt(Measure.median(cpuTimes))) s) of \(repeats), first \(fmt(times[0])) s"
                  + " (target < 1 s for 100,000 twins, release build)  [\(m.members.count) members, \(m.unknown.count) unknown]")
            print("  storage reads per members query: \(counting.reads) (\(reads))")
        }
    }

    /// Writes the twins and their observations; returns the number of observations.
    func build(_ bank: Bank) throws -> Int {
        var rng = BankBenchRandom(seed: 23)
        let source = Source(.record, "bench-lab")
        let day: Int64 = 86_400_000_000
        let last = SystemClock().now().microseconds - day
        let first = last - 4 * 365 * day
        let span = last - first
        let born = try Instant(parsing: "1940-01-01T00:00:00Z").microseconds
        let bornSpan = try Instant(parsing: "2004-01-01T00:00:00Z").microseconds - born
        var written = 0
        var start = 0
        while start < twins {
            let end = min(start + batch, twins)
            try bank.write { w in
                var drafts: [EventDraft] = []
                for n in start..<end {
                    let id = try TwinID(String(format: "p%07d", n))
                    let birth = Instant(microseconds: born + Int64(rng.nextUnit() * Double(bornSpan)) / day * day)
                    try w.createTwin(Twin(id: id, kind: .person, attributes: ["sex": .text(rng.nextUnit() < 0.5 ? "female" : "male"),
                                                                              "birthDate": .date(birth)]))
                    func at() -> EffectiveTime { EffectiveTime(Instant(microseconds: first + Int64(rng.nextUnit() * Double(span)))) }
                    for _ in 0..<(2 + Int(rng.nextUnit() * 3)) {
                        let percent = ((4.5 + rng.nextUnit() * 5) * 10).rounded() / 10
                        let value = rng.nextUnit() < 0.2 ? Quantity(((percent - 2.15) * 10.929).rounded(), "mmol/mol") : Quantity(percent, "%")
                        drafts.append(EventDraft(twin: id, effective: at(), code: AggregateBench.hba1c, value: .quantity(value), source: source))
                    }
                    for _ in 0..<2 {
                        let value = (70 + rng.nextUnit() * 110).rounded()
                        drafts.append(EventDraft(twin: id, effective: at(), code: AggregateBench.glucose, value: .quantity(Quantity(value, "mg/dL")), source: source))
                    }
                }
                written += try w.append(drafts).count
            }
            start = end
        }
        return written
    }

    func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
    func fmt(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }
}
