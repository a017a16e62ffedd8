import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinFHIR

/// `twinbank-bench fhir`: the FHIR benchmarks of issue 6.
///
/// (a) Parse + validate the largest Synthea bundle (`Fletcher_Hyatt_*.json`, 3.9 MB): JSON bytes to a tree,
///     then every R4 rule of `Validator`; median of `--repetitions` runs, wall and CPU time. With `--anchor`,
///     runs `fhir_validate_bench.py` (fhir.resources R4B `Bundle.model_validate_json`) right after and prints
///     the ratio.
/// (b) Import every bundle of the Synthea folder into a new SQLite bank (one run, wall time), counting
///     resources per second.
struct FHIRBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir",
        abstract: "FHIR benchmarks: parse + validate the largest Synthea bundle (vs fhir.resources), import all Synthea bundles into SQLite."
    )

    @Option(help: "Folder of Synthea bundles.")
    var synthea = "../shared/data/synthea"

    @Option(help: "Repetitions of the parse + validate timing (the median is reported).")
    var repetitions = 21

    @Flag(help: "Run the fhir.resources anchor (fhir_validate_bench.py) right after, in the same session, and print the ratio.")
    var anchor = false

    @Option(help: "Python of the anchors' venv.")
    var python = NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "Path of fhir_validate_bench.py.")
    var anchorScript = "../shared/anchors/fhir_validate_bench.py"

    @Flag(help: "Skip the import benchmark.")
    var skipImport = false

    @Option(help: "Size in MB of a generated transaction bundle (copies of the largest Synthea patient with new ids) to import by streaming; 0 skips it.")
    var streamMB = 0

    func run() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: synthea).filter { $0.hasSuffix(".json") }
        let sized = names.filter { !$0.contains("Information") }.map { n -> (String, Int) in
            let p = (synthea as NSString).appendingPathComponent(n)
            return (p, ((try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? NSNumber)?.intValue ?? 0)
        }.sorted { $0.1 < $1.1 }
        guard let largest = sized.last else { throw ValidationError("no bundles in \(synthea)") }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: largest.0)))
        let entries = try JSONReader().read(bytes)["entry"]?.list.count ?? 0
        print("twinbank-bench fhir")
        print("")
        print("(a) parse + validate \((largest.0 as NSString).lastPathComponent): \(String(format: "%.2f", Double(bytes.count) / 1e6)) MB, \(entries) entries, median of \(repetitions)")
        var parseTimes: [Double] = [], totalTimes: [Double] = [], cpuTimes: [Double] = []
        var issues = 0
        for _ in 0..<repetitions {
            let c0 = Measure.cpuSeconds()
            let t0 = ContinuousClock.now
            let tree = try JSONReader().read(bytes)
            let t1 = ContinuousClock.now
            issues = Validator().validate(tree).count
            let t2 = ContinuousClock.now
            cpuTimes.append(Measure.cpuSeconds() - c0)
            parseTimes.append(Measure.seconds(t1 - t0))
            totalTimes.append(Measure.seconds(t2 - t0))
        }
        let parse = Measure.median(parseTimes), total = Measure.median(totalTimes), cpu = Measure.median(cpuTimes)
        print(String(format: "    TwinFHIR parse             wall %7.1f ms", parse * 1000))
        print(String(format: "    TwinFHIR parse + validate  wall %7.1f ms  cpu %7.1f ms  -> %.0f resources/s, %.0f MB/s  (%d issues)",
                     total * 1000, cpu * 1000, Double(entries) / total, Double(bytes.count) / 1e6 / total, issues))
        if anchor {
            print("    anchor: \(python) \(anchorScript) \(synthea)")
            let out = try Measure.run(python, [anchorScript, synthea]).output
            var anchorMs: Double?, anchorCPU: Double?
            func number(after word: String, in line: Substring) -> Double? {
                guard let r = line.range(of: word) else { return nil }
                return Double(line[r.upperBound...].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
            }
            for line in out.split(separator: "\n") {
                print("      " + line)
                if line.contains("R4B model_validate_json"), line.hasPrefix(String(format: "%.2f MB", Double(bytes.count) / 1e6)) {
                    anchorMs = number(after: "wall", in: line)
                    anchorCPU = number(after: "cpu", in: line)
                }
            }
            if let a = anchorMs {
                print(String(format: "    ratio (wall): fhir.resources %.1f ms / TwinFHIR %.1f ms = %.1fx faster (target >= 20x)", a, total * 1000, a / (total * 1000)))
            }
            if let a = anchorCPU {
                print(String(format: "    ratio (cpu):  fhir.resources %.1f ms / TwinFHIR %.1f ms = %.1fx faster (the CPU ratio is the fair one on a loaded machine)", a, cpu * 1000, a / (cpu * 1000)))
            }
        } else {
            print("    (run with --anchor for fhir.resources side by side; its README figure: 487 ms -> ratio \(String(format: "%.1f", 487 / (total * 1000)))x)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("twinbank-fhir-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        guard !skipImport else {
            if streamMB > 0 { try streamBenchmark(largest: bytes, dir: dir) }
            return
        }
        print("")
        let path = dir.appendingPathComponent("bank.sqlite").path
        let bank = Bank(storage: try SQLiteStorage(path: path))
        let total0 = ContinuousClock.now
        let cpu0 = Measure.cpuSeconds()
        let report = try FHIRImporter(bank: bank).importPaths([synthea])
        let wall = Measure.seconds(ContinuousClock.now - total0)
        let importCPU = Measure.cpuSeconds() - cpu0
        let resources = names.reduce(0) { n, f in
            n + ((try? JSONReader().read([UInt8](Data(contentsOf: URL(fileURLWithPath: (synthea as NSString).appendingPathComponent(f))))))?["entry"]?.list.count ?? 0)
        }
        print("(b) import \(report.files) Synthea files (\(resources) resources) into a new SQLite bank")
        print(String(format: "    wall %.2f s  cpu %.2f s  -> %.0f resources/s wall, %.0f per cpu second  (target < 3 s)", wall, importCPU, Double(resources) / wall, Double(resources) / importCPU))
        print("    \(report.personsCreated) person twins, \(report.organisationsCreated) organisation twins, \(report.recordsCreated) practitioner records, \(report.eventsAppended) events; \(report.eventsSkipped.count) events dated before birth skipped; not mapped: \(report.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        if streamMB > 0 { try streamBenchmark(largest: bytes, dir: dir) }
    }

    /// (c) A transaction bundle of `streamMB` MB, made of copies of the largest Synthea bundle's entries in
    /// which every UUID gets a per-copy suffix (so each copy is a new patient), imported into a new SQLite
    /// bank. Files this large are read entry by entry: peak memory should not grow with the file.
    func streamBenchmark(largest: [UInt8], dir: URL) throws {
        let entries = (try JSONReader().read(largest))["entry"]?.list.map { JSONWriter().write($0) } ?? []
        let path = dir.appendingPathComponent("stream.json").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        out.write(Data(#"{"resourceType":"Bundle","type":"transaction","entry":["#.utf8))
        var written = 0, copies = 0, count = 0
        let target = streamMB * 1_000_000
        while written < target {
            var chunk: [UInt8] = []
            for e in entries {
                if count > 0 { chunk.append(UInt8(ascii: ",")) }
                chunk.append(contentsOf: Self.suffixingUUIDs(e, copy: copies))
                count += 1
            }
            out.write(Data(chunk))
            written += chunk.count
            copies += 1
        }
        out.write(Data("]}".utf8))
        try out.close()
        let rss0 = Measure.peakResidentMB()
        let bank = Bank(storage: try SQLiteStorage(path: dir.appendingPathComponent("stream.sqlite").path))
        let t0 = ContinuousClock.now, c0 = Measure.cpuSeconds()
        let report = try FHIRImporter(bank: bank).importFile(path)
        let wall = Measure.seconds(ContinuousClock.now - t0), cpu = Measure.cpuSeconds() - c0
        print("")
        print(String(format: "(c) stream-import one transaction bundle of %.0f MB (%d entries, %d patients) into a new SQLite bank", Double(written) / 1e6, count, copies))
        print(String(format: "    wall %.1f s  cpu %.1f s  -> %.0f resources/s wall; %d events", wall, cpu, Double(count) / wall, report.eventsAppended))
        print(String(format: "    peak resident memory: %.0f MB before the import, %.0f MB after (the file is %.0f MB)", rss0, Measure.peakResidentMB(), Double(written) / 1e6))
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Replaces the last 4 hex digits of every UUID (8-4-4-4-12) in `bytes` with `copy` in hex.
    static func suffixingUUIDs(_ bytes: [UInt8], copy: Int) -> [UInt8] {
        var b = bytes
        let hex = Array("0123456789abcdef".utf8)
        func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
        var i = 0
        while i + 36 <= b.count {
            var ok = true
            for k in 0..<36 {
                let c = b[i + k]
                if k == 8 || k == 13 || k == 18 || k == 23 { if c != UInt8(ascii: "-") { ok = false; break } } else if !isHex(c) { ok = false; break }
            }
            if ok {
                for k in 0..<4 { b[i + 32 + k] = hex[(copy >> (4 * (3 - k))) & 0xF] }
                i += 36
            } else {
                i += 1
            }
        }
        return b
    }

}
