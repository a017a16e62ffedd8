import Foundation
import Testing
import TwinTesting

/// Options whose values are a closed set are enums: `--help` lists the values, and another value is refused
/// before anything runs, naming the option, the value and the allowed ones. Durations go through TimeSpan.
@Suite("twinbank command: closed-set option values")
struct ArgumentValueTests {
    let cli = CommandRunner()

    @Test(arguments: [
        (["simulate", "kidney"], "kidney", ["glucose", "liver"]),
        (["simulate", "glucose", "--controller", "pump"], "pump", ["basal-bolus", "basal", "none"]),
        (["simulate", "glucose", "--integration", "euler"], "euler", ["simglucose", "continuous"]),
        (["compare", "--twin", "pat", "--model", "kidney", "--option", "a=dose=1"], "kidney", ["glucose", "pk"]),
        (["thread", "append", "--twin", "pat", "--code", "loinc:2339-0", "--value", "1", "--at", "now", "--category", "gossip"], "gossip",
         ["observation", "intervention", "alert"]),
        (["thread", "query", "--twin", "pat", "--category", "gossip"], "gossip", ["observation", "prediction"]),
        (["risk", "--counts", "c.csv", "--grid", "1km", "--out", "r.geojson", "--alert-level", "dire"], "dire", ["low", "moderate", "substantial", "high"]),
        (["outbreak", "--calibrate", "c.csv", "--calibrate-series", "deaths"], "deaths", ["new_diagnoses", "new_infections"]),
        (["twin", "create", "--id", "pat", "--kind", "robot"], "robot", ["person", "body-system", "organisation"]),
        (["report", "cases", "--aggregate", "city", "--by", "street", "--out", "x.csv"], "street", ["region", "age"]),
    ])
    func anotherValueIsRefusedWithTheAllowedOnes(arguments: [String], bad: String, allowed: [String]) throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try cli.run(arguments + ["--bank", bank].filter { _ in !["simulate", "outbreak"].contains(arguments[0]) })
        #expect(out.status != 0)
        #expect(out.stderr.contains("'\(bad)'"), "\(out.stderr)")
        for value in allowed { #expect(out.stderr.contains(value), "\(value) in \(out.stderr)") }
        // nothing was created: the value is refused before the command runs
        #expect(!FileManager.default.fileExists(atPath: bank))
    }

    @Test func helpListsTheValues() throws {
        let simulate = try cli.ok(["simulate", "--help"])
        #expect(simulate.contains("basal-bolus") && simulate.contains("continuous") && simulate.contains("liver"), "\(simulate)")
        let thread = try cli.ok(["thread", "append", "--help"])
        #expect(thread.contains("recommendation"), "\(thread)")
        let risk = try cli.ok(["risk", "--help"])
        #expect(risk.contains("substantial"), "\(risk)")
    }

    @Test func categoriesStayCaseInsensitive() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "pat", "--kind", "Human"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "loinc:2339-0", "--value", "120", "--unit", "mg/dL",
                    "--at", "2024-01-01T06:00:00Z", "--category", "Observation"])
        let events = try cli.ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "OBSERVATION", "--json"])
        #expect(events.contains("2339-0"), "\(events)")
    }

    /// `compare --horizon` is a TimeSpan (a bare number is hours): a malformed one names the option and the grammar.
    @Test(arguments: ["soon", "-3h", "0h"])
    func horizonIsATimeSpan(horizon: String) throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        // checked before the bank is opened: no bank is needed to hear that the horizon is wrong
        let out = try cli.run(["compare", "--bank", bank, "--twin", "pat", "--option", "a=basal=1", "--horizon=\(horizon)"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("--horizon") && out.stderr.contains(horizon), "\(out.stderr)")
        #expect(!out.stderr.contains("no bank"), "\(out.stderr)")
    }

    /// NAC doses are parsed by TwinModels (`TimedDose.list(parsing:)`): a bad item is named.
    @Test func badNACDoseIsNamed() throws {
        let out = try cli.run(["simulate", "liver", "--nac", "2,8:x"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("--nac") && out.stderr.contains("'8:x'"), "\(out.stderr)")
    }
}
