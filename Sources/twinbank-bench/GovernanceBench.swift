import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance

/// `twinbank-bench governance`: what the decision point and the audit log on disk add to the bank's calls
/// (issue 27; target: at most 5 % added). For each gate, PermitAll and the ``GovernedGate`` (the bank's policy
/// store and its SQLite audit log, signed, `synchronous = FULL`), a fresh bank on disk: a `thread import` of
/// `--rows` CSV rows into one twin, then `--queries` bulk thread queries of all its events; the median of
/// `--repeats` runs of each, the two gates alternating (and which goes first alternating).
struct GovernanceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "governance",
        abstract: "Overhead of the governed gate (decision + durable audit entry) on a bulk thread query and a CSV import."
    )

    @Option(help: "Rows of the CSV import (and events of the queried thread).") var rows = 10_000
    @Option(help: "Thread queries timed per run.") var queries = 20
    @Option(help: "Runs of each measure (the median is reported).") var repeats = 5
    @Option(help: "Directory for the temporary banks (default: the system temporary directory).") var directory: String?
    @Flag(help: "Keep the audit log in memory (no I/O): what the decision alone adds.") var memoryAudit = false
    @Flag(help: "Print each query's time on standard error.") var verbose = false

    static func csv(_ rows: Int) -> String {
        var s = "time,code,value,unit\n"
        let start = 1_700_000_000
        for i in 0 ..< rows {
            s += "\(Instant(seconds: Double(start + 300 * i)).iso8601),loinc:2339-0,\(80 + i % 100),mg/dL\n"
        }
        return s
    }

    struct Times { var importSeconds: [Double] = []; var querySeconds: [Double] = []; var auditEntries: UInt64 = 0 }

    /// One run of one gate on a fresh bank: the import's time, the mean time of a query, the audit entries written.
    func measure(governed: Bool, run r: Int, in dir: String, text: String) throws -> (importSeconds: Double, querySeconds: Double, auditEntries: UInt64) {
        let clock = ContinuousClock()
        let path = dir + "/\(governed ? "governed" : "open")-\(r).sqlite"
        let storage = try SQLiteStorage(path: path)
        var gate: any AccessGate = PermitAll()
        var log: AuditLog? = nil
        if governed {
            let store: any AuditStore = memoryAudit ? MemoryAuditStore() : try SQLiteAuditStore(storage)
            let l = try AuditLog(store: store, signer: AuditSigner(keyFile: AuditSigner.defaultKeyFile(bank: path)))
            gate = GovernedGate(store: BankGovernanceStore(storage: storage), log: l, owner: "bench")
            log = l
        }
        let bank = Bank(storage: storage, gate: gate, actor: "bench")
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        let t0 = clock.now
        let imported = try bank.importCSV(twin: "p1", text: text, defaultSource: Source(.device, "bench"))
        let importSeconds = Measure.seconds(clock.now - t0)
        precondition(imported.count == rows, "imported \(imported.count) of \(rows) rows")
        let t1 = clock.now
        var each: [Double] = []
        for _ in 0 ..< queries {
            let q0 = clock.now
            let n = try bank.events(ThreadQuery(twin: "p1")).count
            precondition(n == rows)
            each.append(Measure.seconds(clock.now - q0) * 1000)
        }
        if verbose { FileHandle.standardError.write(Data("\(governed ? "governed" : "open") run \(r): query ms \(each.map { String(format: "%.1f", $0) }.joined(separator: " "))\n".utf8)) }
        return (importSeconds, Measure.seconds(clock.now - t1) / Double(queries), log?.size ?? 0)
    }

    func run() throws {
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-governance-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("twinbank-bench governance  (cores: \(ProcessInfo.processInfo.activeProcessorCount), rows: \(rows), queries: \(queries), repeats: \(repeats))\n")
        let text = Self.csv(rows)
        // the two gates alternate, and which goes first alternates too, so neither gets the warmer page cache
        var open = Times(), governed = Times()
        for r in 0 ..< repeats {
            for g in r % 2 == 0 ? [false, true] : [true, false] {
                let m = try measure(governed: g, run: r, in: dir, text: text)
                if g {
                    governed.importSeconds.append(m.importSeconds); governed.querySeconds.append(m.querySeconds); governed.auditEntries = m.auditEntries
                } else {
                    open.importSeconds.append(m.importSeconds); open.querySeconds.append(m.querySeconds)
                }
            }
        }
        for (name, a, b) in [("thread import of \(rows) rows", Measure.median(open.importSeconds), Measure.median(governed.importSeconds)),
                             ("bulk thread query of \(rows) events", Measure.median(open.querySeconds), Measure.median(governed.querySeconds))] {
            print(String(format: "%@: PermitAll %.2f ms, GovernedGate %.2f ms: %+.1f %% (target <= +5 %%)", name, a * 1000, b * 1000, (b / a - 1) * 100))
        }
        print("audit entries per governed run: \(governed.auditEntries) (create, import batches, \(queries) queries)")
    }
}
