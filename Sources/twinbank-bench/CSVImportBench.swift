import ArgumentParser
import Foundation

/// `twinbank-bench csv-import`: `twinbank thread import` of a large CSV file through the built command, side by
/// side with `sqlite3 .import` of the same file into an indexed table (issue 23 item 5: at least 250,000 rows/s,
/// memory bounded by a batch, not by the file).
///
/// The file is generated with a seeded generator: one row a minute from 2020-01-01, cycling through glucose
/// (`loinc:2339-0`, mg/dL), heart rate (`loinc:8867-4`, /min) and a text code (`local:mood`); one row in
/// 100,000 is an implausible heart rate, so the import flags a few rows as it would in real data.
///
/// Each child process is started with `posix_spawn` and reaped with `wait4`, which gives its own peak resident
/// memory (`ru_maxrss`) and CPU time; wall time is measured around it. The `twinbank` binary is the one beside
/// this executable (the same build), unless `--twinbank` names another.
struct CSVImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv-import",
        abstract: "twinbank thread import of a generated CSV file vs sqlite3 .import into an indexed table."
    )

    @Option(help: "Data rows in the generated file.")
    var rows = 1_000_000

    @Option(help: "Seed of the value generator.")
    var seed: UInt64 = 42

    @Option(help: "The twinbank binary (default: the one beside this executable).")
    var twinbank: String?

    @Option(help: "The sqlite3 shell (default: sqlite3 on PATH).")
    var sqlite3: String?

    @Flag(help: "Skip the second import of the same file (every row already in the thread).")
    var skipReimport = false

    @Option(help: "Directory for the temporary files (default: the system temporary directory).")
    var directory: String?

    /// The schema and import script given to `sqlite3` (FILE is the CSV path). The CSV has no twin column, so
    /// rows go through a view whose INSTEAD OF trigger adds the twin, and the table is indexed on
    /// (twin, code, time) as the bank's events are.
    static func sqliteScript(csv: String) -> String {
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE events (twin TEXT NOT NULL, time TEXT NOT NULL, code TEXT NOT NULL, value TEXT NOT NULL, unit TEXT);
        CREATE INDEX events_twin_code_time ON events (twin, code, time);
        CREATE VIEW csv_rows (time, code, value, unit) AS SELECT time, code, value, unit FROM events;
        CREATE TRIGGER csv_row INSTEAD OF INSERT ON csv_rows BEGIN
          INSERT INTO events VALUES ('bench-person', NEW.time, NEW.code, NEW.value, NEW.unit);
        END;
        BEGIN;
        .import --csv --skip 1 \(csv) csv_rows
        COMMIT;
        SELECT count(*) FROM events;

        """
    }

    func run() async throws {
        let dir = (directory ?? NSTemporaryDirectory()) + "/twinbank-bench-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = twinbank ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("twinbank").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw ValidationError("no twinbank binary at '\(exe)': build it (swift build -c release --product twinbank) or pass --twinbank")
        }
        let shell = try sqlite3 ?? CSVImportBench.onPath("sqlite3")

        let csv = dir + "/thread.csv"
        let bytes = try CSVImportBench.writeCSV(path: csv, rows: rows, seed: seed)
        print("twinbank-bench csv-import  (cores: \(ProcessInfo.processInfo.activeProcessorCount), rows: \(rows), file: \(fmt(Double(bytes) / 1e6)) MB)")
        print("  twinbank: \(exe)")

        let bank = dir + "/bank.sqlite"
        try CSVImportBench.check(CSVImportBench.spawn(exe, ["init", "--bank", bank], log: dir + "/init.log"), "twinbank init", log: dir + "/init.log")
        try CSVImportBench.check(CSVImportBench.spawn(exe, ["twin", "create", "--bank", bank, "--id", "bench-person", "--kind", "person",
                                                            "--attr", "birthDate=1970-01-01"], log: dir + "/twin.log"),
                                 "twinbank twin create", log: dir + "/twin.log")
        let importArgs = ["thread", "import", "--bank", bank, "--twin", "bench-person", "--csv", csv]
        let first = try CSVImportBench.spawn(exe, importArgs, log: dir + "/import.log")
        try CSVImportBench.check(first, "twinbank thread import", log: dir + "/import.log")
        let said = CSVImportBench.lastLine(dir + "/import.log")
        report("twinbank thread import", first, target: true)
        print("    \(said)")

        if !skipReimport {
            let again = try CSVImportBench.spawn(exe, importArgs, log: dir + "/reimport.log")
            try CSVImportBench.check(again, "twinbank thread import (again)", log: dir + "/reimport.log")
            report("twinbank thread import again (every row already there)", again, target: false)
            print("    \(CSVImportBench.lastLine(dir + "/reimport.log"))")
        }

        let script = dir + "/import.sql"
        try CSVImportBench.sqliteScript(csv: csv).write(toFile: script, atomically: true, encoding: .utf8)
        let lite = try CSVImportBench.spawn(shell, [dir + "/plain.sqlite"], log: dir + "/sqlite.log", stdin: script)
        try CSVImportBench.check(lite, "sqlite3 .import", log: dir + "/sqlite.log")
        report("sqlite3 .import (one transaction, indexed on twin, code, time)", lite, target: false)
        print("    rows in the table: \(CSVImportBench.lastLine(dir + "/sqlite.log"))")
        print("  ratio: twinbank takes \(fmt(first.seconds / lite.seconds))x the wall time of sqlite3 .import (\(fmt(first.cpuSeconds / lite.cpuSeconds))x its CPU time)")
        print("  sqlite3 script:")
        for line in CSVImportBench.sqliteScript(csv: "FILE").split(separator: "\n") { print("    \(line)") }
    }

    func report(_ what: String, _ r: ChildRun, target: Bool) {
        let rate = Double(rows) / r.seconds
        print("  \(what): \(fmt(r.seconds)) s = \(Int(rate)) rows/s; CPU \(fmt(r.cpuSeconds)) s = \(Int(Double(rows) / r.cpuSeconds)) rows per CPU-second; peak RSS \(fmt(r.peakMB)) MB"
              + (target ? "   (target >= 250,000 rows/s: \(fmt(rate / 250_000))x; wall time is higher when the machine is shared)" : ""))
    }

    func fmt(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }

    // MARK: The file

    /// Writes the benchmark CSV and returns its size in bytes.
    static func writeCSV(path: String, rows: Int, seed: UInt64) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write '\(path)'")
        }
        defer { try? out.close() }
        var rng = BankBenchRandom(seed: seed)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        buffer.append(contentsOf: "time,code,value,unit\n".utf8)
        var total = 0
        let start: Int64 = 1_577_836_800 // 2020-01-01T00:00:00Z
        let moods = ["calm", "tired", "stressed", "\"restless, then calm\""]
        for i in 0..<rows {
            let seconds = start + Int64(i) * 60
            buffer.append(contentsOf: iso(seconds).utf8)
            switch i % 3 {
            case 0:
                let v = (70 + 110 * rng.nextUnit()) * 10
                buffer.append(contentsOf: ",loinc:2339-0,\(Int(v) / 10).\(Int(v) % 10),mg/dL\n".utf8)
            case 1:
                let v = i % 100_000 == 1 ? 900 : 50 + Int(70 * rng.nextUnit())
                buffer.append(contentsOf: ",loinc:8867-4,\(v),/min\n".utf8)
            default:
                buffer.append(contentsOf: ",local:mood,\(moods[Int(rng.next() % UInt64(moods.count))]),\n".utf8)
            }
            if buffer.count >= 1 << 20 {
                try out.write(contentsOf: buffer)
                total += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try out.write(contentsOf: buffer)
        return total + buffer.count
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (days from civil, proleptic Gregorian).
    static func iso(_ t: Int64) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let s = t - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }

    // MARK: Child processes

    struct ChildRun {
        var status: Int32
        var seconds: Double
        var cpuSeconds: Double
        var peakMB: Double
    }

    static func onPath(_ name: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw ValidationError("\(name) is not on PATH: install it (apt-get install \(name)) or pass --\(name) PATH")
    }

    /// Runs a child with stdout and stderr to `log` (and stdin from a file), waits for it with `wait4` and
    /// returns its exit status, wall time, CPU time and peak RSS.
    static func spawn(_ executable: String, _ arguments: [String], log: String, stdin: String? = nil) throws -> ChildRun {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let stdin { posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw ValidationError("cannot run \(executable): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw ValidationError("wait4 failed for \(executable): \(String(cString: strerror(errno)))") }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        // exit status: WIFEXITED/WEXITSTATUS by hand (the macros are not imported)
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ChildRun(status: exit, seconds: seconds, cpuSeconds: cpu, peakMB: Double(usage.ru_maxrss) / 1024)
    }

    static func check(_ r: ChildRun, _ what: String, log: String) throws {
        guard r.status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ValidationError("\(what) failed (exit \(r.status)):\n\(text.suffix(2000))")
        }
    }

    static func lastLine(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? ""
    }
}
