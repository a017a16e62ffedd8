import Foundation
import Testing
import TwinTesting

/// `twinbank petab evaluate`: the log-likelihood of a PEtab problem at its nominal parameters, with
/// `--set` overrides; bad input named.
@Suite("twinbank petab evaluate")
struct PEtabCommandTests {
    let cli = CommandRunner()
    static var perelson: String {
        SharedFolder.root.appendingPathComponent("data/petab/Perelson_Science1996/Perelson_Science1996.yaml").path
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: perelson), "skipped: ../shared/data/petab/Perelson_Science1996 is missing"))
    func evaluatesAndTakesOverrides() throws {
        let out = try cli.ok(["petab", "evaluate", "--petab", Self.perelson, "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let llh = try #require(doc["logLikelihood"] as? Double)
        #expect(llh.isFinite && llh < 0)
        #expect(doc["conditions"] as? Int == 1)
        #expect(doc["measurements"] as? Int == 16)
        #expect((doc["seconds"] as? Double ?? -1) >= 0)
        // with σ = 0.12 (nominal 1e5) the published optimum (c = 1.8606, delta = 0.5473) fits far better than c = 10
        func evaluate(_ sets: [String]) throws -> Double {
            let out = try cli.ok(["petab", "evaluate", "--petab", Self.perelson] + sets.flatMap { ["--set", $0] })
            return try #require(out.split(separator: "\n").first.flatMap { Double($0.split(separator: " ").last ?? "") }, "\(out)")
        }
        let sd = "sd_task0_model0_perelson1_V=0.12"
        let optimum = try evaluate([sd, "c=1.8606", "delta=0.5473"]), away = try evaluate([sd, "c=10", "delta=0.5473"])
        #expect(optimum > away + 10)
        #expect(optimum > llh + 100)
        let unknown = try cli.run(["petab", "evaluate", "--petab", Self.perelson, "--set", "nope=1"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("'nope'"))
        let malformed = try cli.run(["petab", "evaluate", "--petab", Self.perelson, "--set", "c"])
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("'c'"))
    }

    @Test func missingProblemIsNamed() throws {
        let r = try cli.run(["petab", "evaluate", "--petab", "/nonexistent/problem.yaml"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/problem.yaml"))
    }
}
