import Foundation
import Testing
import TwinTesting
@testable import TwinPopulation

/// Issue 24 item 3 against the outside world: `proximity_baseline.py` (numpy grid, exact haversine) generates
/// pings and cases and saves its pairs; reading its files and tracing gives the very same pairs file, byte for
/// byte, and the same number of matching ping pairs. Skipped, with the reason, when the anchor venv is missing.
@Suite("tracing: the same pairs as proximity_baseline.py",
       .enabled(if: SharedFolder.runsAnchors("proximity_baseline.py"),
                "skipped: the anchor Python (with numpy) or anchors/proximity_baseline.py is missing (set TWINBANK_ANCHOR_PYTHON or run ../shared/anchors/setup.sh)"))
struct TracingAnchorTests {
    struct Run: Sendable, CustomStringConvertible {
        var mode: String, pings: Int, people: Int, cases: Int, distance: Double, window: Int
        var description: String { "\(mode) \(pings) pings \(people) people \(cases) cases \(distance) m \(window) s" }
    }

    @Test(arguments: [
        Run(mode: "places", pings: 40_000, people: 1_000, cases: 20, distance: 10, window: 900),
        Run(mode: "places", pings: 30_000, people: 600, cases: 15, distance: 25, window: 300),
        Run(mode: "uniform", pings: 40_000, people: 1_000, cases: 50, distance: 60, window: 1800),
    ])
    func samePairsAsTheAnchor(_ run: Run) throws {
        guard let python = SharedFolder.anchorPython else {
            Issue.record("CI installs the anchors, yet the anchor Python is missing: cannot compare with proximity_baseline.py")
            return
        }
        try TemporaryFiles.withDirectory("trace-anchor") { dir in
            let pingsPath = dir.appendingPathComponent("pings.csv").path
            let casesPath = dir.appendingPathComponent("cases.txt").path
            let pairsPath = dir.appendingPathComponent("pairs.csv").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [SharedFolder.anchors.appendingPathComponent("proximity_baseline.py").path,
                                 "--mode", run.mode, "--pings", "\(run.pings)", "--people", "\(run.people)",
                                 "--cases", "\(run.cases)", "--dist", "\(run.distance)", "--window", "\(run.window)",
                                 "--repeats", "1", "--validate", "3",
                                 "--save-pings", pingsPath, "--save-cases", casesPath, "--save-pairs", pairsPath]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "proximity_baseline.py failed: \(output.suffix(600))")

            let pings = try Pings.read(path: pingsPath)
            let cases = try IndexCases.read(path: casesPath)
            #expect(pings.count == run.pings)
            #expect(cases.count == run.cases)
            let criteria = try ProximityCriteria(distance: run.distance, window: Double(run.window))
            let result = ContactTracer.trace(pings, cases: cases, criteria: criteria)
            let anchorPairs = try Data(contentsOf: URL(fileURLWithPath: pairsPath))
            #expect(Data(ContactPairsCSV.render(result.pairs)) == anchorPairs, "\(run)")
            if run.mode == "places" { #expect(result.pairs.count > 10, "places mode should give contacts") }
            // the anchor prints "matching ping pairs=N"
            if let r = output.range(of: "matching ping pairs=") {
                let n = Int(output[r.upperBound...].prefix { $0.isNumber || $0 == "," }.filter(\.isNumber))
                #expect(n == result.matchingPingPairs, "\(output)")
            } else {
                Issue.record("no 'matching ping pairs' in the anchor's output: \(output)")
            }
        }
    }
}
