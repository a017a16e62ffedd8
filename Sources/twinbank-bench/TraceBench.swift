import ArgumentParser
import Foundation
import TwinPopulation

/// `twinbank-bench trace`: exact proximity contact tracing (issue 24 item 3) side by side with
/// `proximity_baseline.py` (numpy grid buckets and an exact haversine filter) on the same files.
///
/// The anchor generates the pings and cases, times its own index build and query, and saves its pairs; we read
/// its files, time our index build and query (the file reading is timed apart, as the anchor's data generation
/// is), check that our pairs file is byte for byte the anchor's, and print both times, the ratio and our peak
/// resident memory. Default 1M pings, 10k people, 100 cases; `--large` 10M pings, 100k people, 1,000 cases.
struct TraceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Proximity contact tracing vs proximity_baseline.py: same pairs, times, ratio, peak memory."
    )

    @Flag(help: "10,000,000 pings, 100,000 people, 1,000 cases (the issue's large case) instead of 1M / 10k / 100.")
    var large = false
    @Option(help: "Pings (overrides the size).") var pings: Int?
    @Option(help: "People (overrides the size).") var people: Int?
    @Option(help: "Index cases (overrides the size).") var cases: Int?
    @Option(help: "Metres.") var distance = 10.0
    @Option(help: "Seconds.") var window = 900
    @Option(help: "The anchor's --mode: places or uniform.") var mode = "places"
    @Option(help: "Repetitions of each timing (medians are reported).") var repetitions = 5
    @Option(help: "Keep the anchor's files (pings.csv, cases.txt, pairs.csv, anchor.txt: its output) in this folder; when they are there already (from an earlier run with the same sizes), reuse them and the anchor's timing instead of running it again.")
    var files: String?

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"
    @Option(help: "The shared folder holding anchors/ and data/.")
    var shared = ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared"

    func run() async throws {
        let n = pings ?? (large ? 10_000_000 : 1_000_000)
        let p = people ?? (large ? 100_000 : 10_000)
        let c = cases ?? (large ? 1_000 : 100)
        print("twinbank-bench trace  (cores: \(ProcessInfo.processInfo.activeProcessorCount))")
        print("\(n) pings, \(p) people, \(c) cases, \(distance) m, +/-\(window) s, mode \(mode)\n")
        let dir: URL
        if let files {
            dir = URL(fileURLWithPath: files)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-trace-\(UUID().uuidString)")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if files == nil { try? FileManager.default.removeItem(at: dir) } }
        let pingsPath = dir.appendingPathComponent("pings.csv").path
        let casesPath = dir.appendingPathComponent("cases.txt").path
        let pairsPath = dir.appendingPathComponent("pairs.csv").path
        let anchorPath = dir.appendingPathComponent("anchor.txt").path

        let text: String
        let started = ContinuousClock.now
        if files != nil, let saved = try? String(contentsOfFile: anchorPath, encoding: .utf8),
           [pingsPath, casesPath, pairsPath].allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            guard saved.contains("pings=\(grouped(n)) people=\(grouped(p)) cases=\(c) d=\(distance) m w=+/-\(window) s"), saved.contains("mode=\(mode) ") else {
                throw ValidationError("\(dir.path) holds the files of another run (its anchor.txt: \(saved.prefix(200))); use another --files folder")
            }
            print("(anchor) proximity_baseline.py: reusing the files and the timing of an earlier run in \(dir.path)")
            text = saved
            for line in text.split(separator: "\n") { print("    " + line) }
        } else {
            print("(anchor) proximity_baseline.py, numpy grid + haversine, \(repetitions) repeats (it also writes the files)")
            let (status, output) = try Measure.run(python, [
                "\(shared)/anchors/proximity_baseline.py", "--pings", "\(n)", "--people", "\(p)", "--cases", "\(c)",
                "--dist", "\(distance)", "--window", "\(window)", "--mode", mode, "--repeats", "\(repetitions)",
                "--validate", "0", "--save-pings", pingsPath, "--save-cases", casesPath, "--save-pairs", pairsPath])
            guard status == 0 else { throw ValidationError("proximity_baseline.py failed: \(output.suffix(600))") }
            text = output
            if files != nil { try text.write(toFile: anchorPath, atomically: true, encoding: .utf8) }
            var usage = rusage()
            getrusage(Int32(RUSAGE_CHILDREN.rawValue), &usage)
            for line in text.split(separator: "\n") { print("    " + line) }
            print(String(format: "    anchor process: %.0f s in all (with generating and writing the files), peak RSS %.0f MB",
                         Measure.seconds(ContinuousClock.now - started), Double(usage.ru_maxrss) / 1024))
        }
        guard let anchorWall = number(after: "total median=", in: text) else {
            throw ValidationError("could not read the anchor's 'total median=' from its output")
        }
        let anchorCPU = number(after: "s wall, ", in: text)

        print("\n(ours) read the files, then index the cases' pings and look every ping up, \(repetitions) repeats")
        let readStart = ContinuousClock.now
        let table = try Pings.read(path: pingsPath)
        let indexCases = try IndexCases.read(path: casesPath)
        let readSeconds = Measure.seconds(ContinuousClock.now - readStart)
        let criteria = try ProximityCriteria(distance: distance, window: Double(window))
        var totals: [Double] = [], indexTimes: [Double] = [], queryTimes: [Double] = [], cpus: [Double] = []
        var result: TraceResult?
        for _ in 0..<max(1, repetitions) {
            let cpu = Measure.cpuSeconds()
            let r = ContactTracer.trace(table, cases: indexCases, criteria: criteria)
            cpus.append(Measure.cpuSeconds() - cpu)
            indexTimes.append(r.indexSeconds)
            queryTimes.append(r.querySeconds)
            totals.append(r.indexSeconds + r.querySeconds)
            result = r
        }
        guard let result else { return }
        let same = ContactPairsCSV.render(result.pairs) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: pairsPath)))
        let anchorPingPairs = integer(after: "matching ping pairs=", in: text)
        print(String(format: "    read %d pings and %d cases: %.3f s (not timed below, as the anchor's generation)", table.count, indexCases.count, readSeconds))
        print(String(format: "    index median %.4f s, query median %.4f s, total median %.4f s wall, %.4f s CPU (runs: %@)",
                     Measure.median(indexTimes), Measure.median(queryTimes), Measure.median(totals), Measure.median(cpus),
                     totals.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
        print("    \(result.casePings) case pings, \(result.candidates) candidates examined (anchor: \(integer(after: "candidate ping pairs examined=", in: text).map(String.init) ?? "?")), \(result.matchingPingPairs) matching ping pairs (anchor: \(anchorPingPairs.map(String.init) ?? "?")), \(result.pairs.count) unique (case, contact) pairs")
        print("    pairs file identical to the anchor's: \(same ? "YES" : "NO")")
        print(String(format: "    peak RSS of this process: %.0f MB", Measure.peakResidentMB()))
        let ratio = anchorWall / Measure.median(totals)
        print(String(format: "\nratio: anchor %.4f s / ours %.4f s = %.1fx %@ (wall)%@",
                     anchorWall, Measure.median(totals), ratio, ratio >= 1 ? "faster" : "(slower)",
                     anchorCPU.map { String(format: "; CPU %.4f s / %.4f s = %.1fx", $0, Measure.median(cpus), $0 / Measure.median(cpus)) } ?? ""))
        if !same { throw ValidationError("the pairs differ from the anchor's") }
    }

    /// `n` with thousands commas, as Python's `f"{n:,}"` prints it.
    func grouped(_ n: Int) -> String {
        var digits = String(n.magnitude), out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return (n < 0 ? "-" : "") + digits + out
    }

    /// The first number after `marker` in `text`.
    func number(after marker: String, in text: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        return Double(String(text[r.upperBound...].prefix { "0123456789.e-+".contains($0) }))
    }

    /// The first integer (with thousands commas) after `marker` in `text`.
    func integer(after marker: String, in text: String) -> Int? {
        guard let r = text.range(of: marker) else { return nil }
        return Int(String(text[r.upperBound...].prefix { $0.isNumber || $0 == "," }.filter(\.isNumber)))
    }
}
