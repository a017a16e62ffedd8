import Foundation
import Testing

/// `twinbank compare --model pk`: a twin whose attributes hold a one-compartment PK model and a therapeutic
/// window, two doses recorded with `thread append`, three regimens compared; the ranking, the forks and the
/// recorded recommendation; bad input named with nothing written.
@Suite("twinbank compare --model pk")
struct CompareCommandTests {
    let cli = CommandRunner()

    @Test func comparesRegimensOnForks() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "pat", "--kind", "person", "--attr", "pk.clearance=4L/h", "--attr", "pk.volume=50L",
                    "--attr", "pk.targetLow=10mg/L", "--attr", "pk.targetHigh=20mg/L", "--attr", "pk.code=rxnorm:11124", "--attr", "pk.route=infusion:1"])
        for hour in ["00", "12"] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat", "--code", "rxnorm:11124", "--value", "1000", "--unit", "mg",
                        "--at", "2024-01-01T\(hour):00:00Z", "--category", "intervention", "--source", "record:mar"])
        }
        let out = try cli.ok(["compare", "--bank", bank, "--twin", "pat", "--model", "pk", "--start", "2024-01-02T00:00:00Z", "--horizon", "48h",
                              "--option", "q12=dose=1000,every=12,route=infusion:1", "--option", "q24=dose=1000,every=24,route=infusion:1",
                              "--option", "hold=", "--ensemble", "10", "--json"])
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(result["dosesGiven"] as? Int == 2)
        let options = try #require(result["options"] as? [[String: Any]])
        #expect(Set(options.compactMap { $0["rank"] as? Int }) == [1, 2, 3])
        func outcome(_ name: String, _ measure: String) -> Double? {
            ((options.first { $0["name"] as? String == name }?["outcomes"] as? [String: Any])?[measure] as? [String: Any])?["mean"] as? Double
        }
        // holding lets the level fall out of the window; once a day keeps it lower than twice a day
        let q12 = try #require(outcome("q12", "auc24")), q24 = try #require(outcome("q24", "auc24")), hold = try #require(outcome("hold", "auc24"))
        #expect(q12 > q24 && q24 > hold)
        #expect(try #require(outcome("hold", "timeBelowWindow")) > 0.5)
        let forks = options.compactMap { $0["fork"] as? String }
        #expect(forks.count == 3 && forks.allSatisfy { $0.hasPrefix("pat.cmp") })
        let recs = try cli.ok(["thread", "query", "--bank", bank, "--twin", "pat", "--category", "recommendation", "--json"])
        let recorded = try #require(try JSONSerialization.jsonObject(with: Data(recs.utf8)) as? [[String: Any]])
        #expect(recorded.count == 1)
        // the text form names the window and the regimens
        let text = try cli.ok(["compare", "--bank", bank, "--twin", "pat", "--model", "pk", "--start", "2024-01-02T00:00:00Z", "--horizon", "24h",
                               "--option", "q12=dose=1000,every=12"])
        #expect(text.contains("window 10-20 mg/L") && text.contains("1. ") && text.contains("q12"))

        // a twin with a measured level is calibrated first, and says so
        try cli.ok(["twin", "create", "--bank", bank, "--id", "pat2", "--kind", "person", "--attr", "pk.clearance=4L/h", "--attr", "pk.volume=50L",
                    "--attr", "pk.targetLow=10mg/L", "--attr", "pk.targetHigh=20mg/L", "--attr", "pk.code=rxnorm:11124", "--attr", "pk.levelCode=loinc:20578-1"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat2", "--code", "rxnorm:11124", "--value", "1000", "--unit", "mg",
                    "--at", "2024-01-01T00:00:00Z", "--category", "intervention", "--source", "record:mar"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "pat2", "--code", "loinc:20578-1", "--value", "4.1", "--unit", "mg/L",
                    "--at", "2024-01-01T11:30:00Z", "--source", "device:lab"])
        let calibrated = try cli.ok(["compare", "--bank", bank, "--twin", "pat2", "--model", "pk", "--start", "2024-01-01T12:00:00Z", "--horizon", "24h",
                                     "--option", "q12=dose=1000,every=12"])
        #expect(calibrated.contains("calibrated to 1 measured levels: clearance 4 -> "), "\(calibrated)")

        // bad input: named, nothing written
        let before = try cli.ok(["log", "--bank", bank, "--json"]) + (try cli.ok(["twin", "list", "--bank", bank, "--json"]))
        let badModel = try cli.run(["compare", "--bank", bank, "--twin", "pat", "--model", "kidney", "--option", "a=dose=1"])
        #expect(badModel.status != 0 && badModel.stderr.contains("kidney"))
        let badRoute = try cli.run(["compare", "--bank", bank, "--twin", "pat", "--model", "pk", "--start", "2024-01-02T00:00:00Z", "--option", "a=dose=500,route=nasal"])
        #expect(badRoute.status != 0 && badRoute.stderr.contains("nasal"))
        let oral = try cli.run(["compare", "--bank", bank, "--twin", "pat", "--model", "pk", "--start", "2024-01-02T00:00:00Z", "--option", "a=dose=500,route=oral"])
        #expect(oral.status != 0 && oral.stderr.contains("pk.absorptionRate"))
        #expect(try cli.ok(["log", "--bank", bank, "--json"]) + (try cli.ok(["twin", "list", "--bank", bank, "--json"])) == before)
    }

    /// The glucose comparison's JSON keeps its field and measure names (typed measures inside, the same names out),
    /// and says nothing of a start when the twin's own `virtualPatient` was used.
    @Test func glucoseJSONKeepsItsNames() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--attr", "virtualPatient=adult#001"])
        for (at, grams) in [("2023-12-31T19:00:00Z", "60"), ("2024-01-01T02:00:00Z", "45")] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:9059-7", "--value", grams, "--unit", "g",
                        "--at", at, "--category", "intervention", "--source", "person:alice"])
        }
        let out = try cli.ok(["compare", "--bank", bank, "--twin", "alice", "--start", "2024-01-01T00:00:00Z", "--horizon", "6h",
                              "--option", "usual=", "--option", "no-bolus=bolus=0", "--ensemble", "2", "--json"])
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(Set(result.keys) == ["twin", "start", "hours", "ensemble", "seed", "rankedBy", "options", "recordedEvent"])
        #expect(result["rankedBy"] as? [String] == ["timeBelowRange <= 4 %", "timeInRange", "lowBGIndex"])
        let options = try #require(result["options"] as? [[String: Any]])
        for o in options {
            #expect(Set(o.keys) == ["name", "fork", "outcomes", "rank"])
            let outcomes = try #require(o["outcomes"] as? [String: [String: Double]])
            #expect(Set(outcomes.keys) == ["timeInRange", "timeBelowRange", "lowBGIndex", "meanBG"])
            #expect(outcomes.values.allSatisfy { Set($0.keys) == ["mean", "p05", "p95"] })
        }
    }
}
