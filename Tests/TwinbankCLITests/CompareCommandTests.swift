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

    /// `compare --known-at`: a PK twin bound with `--preset pk` and synchronised on its levels; compared now, the
    /// ensemble starts from the estimate the sync wrote back; compared as known before the sync, from the twin's
    /// attributes calibrated to its levels (the default). JSON and text say which start was used.
    @Test func knownAtChoosesTheStartKnownThen() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let drug = "http://www.nlm.nih.gov/research/umls/rxnorm|10438"
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "theo", "--kind", "person",
                    "--attr", "pk.clearance=2.8 L/h", "--attr", "pk.volume=35 L", "--attr", "pk.absorptionRate=1.5 /h", "--attr", "pk.code=\(drug)",
                    "--attr", "pk.levelCode=loinc:4049-3", "--attr", "pk.route=oral", "--attr", "pk.targetLow=10mg/L", "--attr", "pk.targetHigh=20mg/L"])
        try cli.ok(["twin", "bind", "--bank", bank, "--twin", "theo", "--preset", "pk"])
        func iso(_ hours: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_767_254_400 + hours * 3600)) }
        for h in [0.0, 12, 24, 36] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "theo", "--code", drug, "--value", "400", "--unit", "mg",
                        "--at", iso(h), "--category", "intervention", "--source", "record:mar"])
        }
        // the levels of a person who clears 4.2 L/h (one compartment, 35 L, absorption 1.5 /h)
        func level(_ t: Double) -> Double {
            let k = 4.2 / 35, ka = 1.5
            return stride(from: 0.0, through: t, by: 12).reduce(0) { $0 + 400 * ka / (35 * (ka - k)) * (exp(-k * (t - $1)) - exp(-ka * (t - $1))) }
        }
        for h in [2.0, 11, 26, 47] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "theo", "--code", "loinc:4049-3", "--value", String(format: "%.4f", level(h)), "--unit", "mg/L",
                        "--at", iso(h), "--source", "device:lab"])
        }
        // a recorded time after the data and before the sync (the time grammar's ISO 8601 is to the second)
        Thread.sleep(forTimeInterval: 1.1)
        let beforeSync = ISO8601DateFormatter().string(from: Date())
        Thread.sleep(forTimeInterval: 1.1)
        try cli.ok(["sync", "--bank", bank, "--twin", "theo", "--to", iso(47.5)])

        let compare = ["compare", "--bank", bank, "--twin", "theo", "--model", "pk", "--start", iso(48), "--horizon", "24",
                       "--option", "q12=dose=400,every=12,route=oral", "--ensemble", "5"]
        let now = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(compare + ["--json"]).utf8)) as? [String: Any])
        let then = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(compare + ["--known-at", beforeSync, "--json"]).utf8)) as? [String: Any])
        // now: the sync's estimate, read from the thread
        let started = try #require(now["startedFrom"] as? [String: Any], "\(now)")
        #expect((started["source"] as? String)?.hasPrefix("estimate binding=pk") == true, "\(started)")
        #expect((started["derivedFrom"] as? [Any])?.isEmpty == false)
        // then: no estimate was known, so the default start: the attributes calibrated to the 4 levels
        #expect(then["startedFrom"] == nil, "\(then)")
        let calibration = try #require(then["calibration"] as? [String: Any])
        #expect(calibration["levels"] as? Int == 4 && calibration["priorClearance"] as? Double == 2.8)
        // a bare --horizon is hours
        #expect(now["hours"] as? Double == 24 && then["hours"] as? Double == 24)
        // the two comparisons differ in where they started, so in what they predict
        func mean(_ doc: [String: Any]) -> Double? {
            (((doc["options"] as? [[String: Any]])?.first?["outcomes"] as? [String: Any])?["auc24"] as? [String: Any])?["mean"] as? Double
        }
        #expect(try #require(mean(now)) != (try #require(mean(then))))
        // the text says which start was used
        let text = try cli.ok(compare)
        #expect(text.contains("started from estimate binding=pk"), "\(text)")
        let textThen = try cli.ok(compare + ["--known-at", beforeSync])
        #expect(textThen.contains("started from the twin's pk.* attributes, calibrated to its measured levels"), "\(textThen)")
        // a bad --known-at is named
        let bad = try cli.run(compare + ["--known-at", "yesterdayish"])
        #expect(bad.status != 0 && bad.stderr.contains("--known-at") && bad.stderr.contains("yesterdayish"), "\(bad.stderr)")
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
