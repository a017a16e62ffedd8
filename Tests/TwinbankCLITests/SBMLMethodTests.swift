import Foundation
import Testing
import TwinTesting

/// `twinbank sbml run --method`: every integrator gives the suite's answer on case 00001 (first-order decay), and
/// a method that does not exist is refused naming the allowed ones.
@Suite struct SBMLMethodTests {
    let cli = CommandRunner()

    @Test func anUnknownMethodIsRefusedNamingTheChoices() throws {
        let r = try cli.run(["sbml", "run", "model.xml", "--settings", "settings.txt", "--out", "x.csv", "--method", "euler"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("euler") && r.stderr.contains("rodas5P") && r.stderr.contains("dormandPrince"), "\(r.stderr)")
    }

    @Test(.enabled(if: SharedFolder.has("data/sbml-test-suite/cases/00001/00001-sbml-l3v2.xml"),
                   "skipped: the SBML Test Suite case data/sbml-test-suite/cases/00001 is missing (put ../shared beside the package or set TWINBANK_SHARED)"),
          arguments: ["auto", "dormandPrince", "rodas5", "rodas5P"])
    func everyMethodMatchesTheSuite(method: String) throws {
        let cases = SharedFolder.data("sbml-test-suite/cases/00001")
        try TemporaryFiles.withDirectory("sbml-method") { dir in
            let out = dir.appendingPathComponent("result.csv").path
            try cli.ok(["sbml", "run", cases.appendingPathComponent("00001-sbml-l3v2.xml").path,
                        "--settings", cases.appendingPathComponent("00001-settings.txt").path, "--out", out, "--method", method])
            let ours = try rows(out), expected = try rows(cases.appendingPathComponent("00001-results.csv").path)
            #expect(ours.count == expected.count && ours.count > 10)
            for (a, b) in zip(ours, expected) {
                #expect(a.count == b.count)
                for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-6 + 1e-5 * abs(y), "\(method): \(x) vs \(y)") }
            }
        }
    }

    /// The numeric rows of a CSV with a header line.
    func rows(_ path: String) throws -> [[Double]] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst().map { line in
            line.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
    }
}
