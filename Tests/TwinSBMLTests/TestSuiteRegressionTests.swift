import Foundation
import Testing
import TwinCore
import TwinTesting
@testable import TwinSBML

/// Runs all SBML Test Suite semantic cases in ../shared/data/sbml-test-suite/cases with the suite's own rule
/// and compares with the committed outcome table: a case that passed before and does not pass now is a
/// regression. Set `TWINBANK_UPDATE_SBML_BASELINE=1` to rewrite the table after an improvement.
@Suite struct TestSuiteRegressionTests {
    @Test(.enabled(if: SharedFolder.has("data/sbml-test-suite/cases"),
                   "skipped: the SBML Test Suite data/sbml-test-suite/cases is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func wholeSuiteHasNoRegressions() async throws {
        let dir = SuitePaths.cases.path
        try #require(FileManager.default.fileExists(atPath: dir), "SBML test suite not found at \(dir)")
        let outcomes = try await TestSuiteRunner.runSuite(directory: dir, concurrency: 2)
        let timeCourse = outcomes.filter { $0.status != .skipped }
        let passed = Set(outcomes.filter { $0.status == .pass }.map(\.caseID))
        let fraction = Double(passed.count) / Double(max(1, timeCourse.count))
        print("SBML test suite: \(passed.count) of \(timeCourse.count) time-course cases pass (\(String(format: "%.1f", fraction * 100)) %)")

        let text = try String(contentsOf: SuitePaths.baseline, encoding: .utf8)
        var before: [String: String] = [:]
        for cells in try CSVTable(text: text, name: "suite-outcomes.csv", separator: UInt8(ascii: ",")).rows where cells.count >= 2 {
            before[cells[0]] = cells[1]
        }
        let regressions = before.filter { $0.value == "pass" && !passed.contains($0.key) }.keys.sorted()
        for id in regressions {
            let o = outcomes.first { $0.caseID == id }
            Issue.record("case \(id) passed before and now is \(o?.status.rawValue ?? "missing"): \(o?.message ?? "")")
        }
        #expect(regressions.isEmpty)
        #expect(passed.count >= before.values.filter { $0 == "pass" }.count)
        // Every case that does not pass says why, and an unsupported one names the construct.
        for o in outcomes where o.status == .unsupported || o.status == .fail {
            #expect(!o.message.isEmpty, "case \(o.caseID) \(o.status) without a message")
        }
        if ProcessInfo.processInfo.environment["TWINBANK_UPDATE_SBML_BASELINE"] == "1" {
            var s = "case,status,message\n"
            for o in outcomes { s += "\(o.caseID),\(o.status.rawValue),\"\(o.message.replacingOccurrences(of: "\"", with: "'"))\"\n" }
            try s.write(to: SuitePaths.baseline, atomically: true, encoding: .utf8)
        }
    }
}
