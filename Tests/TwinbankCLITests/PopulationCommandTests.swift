import Foundation
import Testing
import TwinTesting

/// `twinbank population from-aggregate` (an aggregate's person twins become a population twin the outbreak runs on) and `population stats`.
@Suite("twinbank command: population")
struct PopulationCommandTests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func anAggregateBecomesThePopulationTheOutbreakRunsOn() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        // 30 people in 10 households of 3 (one parent at work, one at school), 5 people without a household,
        // and one person without a birth date (left out).
        for i in 0..<30 {
            let age = i % 3 == 2 ? "2016-06-01" : "1980-06-01"
            var attrs = ["--attr", "birthDate=\(age)", "--attr", "sex=\(i % 2 == 0 ? "female" : "male")", "--attr", "household=h\(i / 3)",
                         "--attr", "home_lat=45.5\(i % 10)", "--attr", "home_lon=-73.6"]
            if i % 3 == 0 { attrs += ["--attr", "workplace=w\(i % 2)"] }
            if i % 3 == 2 { attrs += ["--attr", "school=s1"] }
            try cli.ok(["twin", "create", "--bank", bank, "--id", String(format: "p%02d", i), "--kind", "person"] + attrs)
        }
        for i in 0..<5 {
            try cli.ok(["twin", "create", "--bank", bank, "--id", "single-\(i)", "--kind", "person", "--attr", "birthDate=1950-01-01",
                        "--attr", "condition=snomed:38341003"])
        }
        try cli.ok(["twin", "create", "--bank", bank, "--id", "undated", "--kind", "person"])
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "everyone", "--where", "kind = person"])
        let made = try Self.object(try cli.ok(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "ward",
                                               "--seed", "4", "--as-of", "2026-01-01T00:00:00Z", "--json"]))
        #expect(made["size"] as? Int == 35)
        #expect(made["households"] as? Double == 15)
        #expect(made["own_households"] as? Int == 5)
        #expect(made["located"] as? Int == 30 && made["with_conditions"] as? Int == 5)
        #expect(made["skipped"] as? [String] == ["undated"])
        #expect(made["pupils"] as? Double == 10 && made["workers"] as? Double == 10)
        #expect(made["schools"] as? Double == 1 && made["workplaces"] as? Double == 2)
        // Mean age at 2026-01-01: 20 adults of 45, 10 children of 9, 5 people of 76.
        #expect(made["meanAge"] as? Double == Double(((20 * 45 + 10 * 9 + 5 * 76) * 100 / 35)) / 100)
        // The outbreak runs on exactly these people and writes the run to the population twin's thread.
        let out = try Self.object(try cli.ok(["outbreak", "--days", "5", "--bank", bank, "--population", "ward", "--start", "2026-01-01", "--json"]))
        #expect(out["agents"] as? Int == 35)
        #expect((out["written"] as? [String: Any])?["events"] as? Int == 13 * 6)
        // An existing id is refused without --replace; an unknown aggregate is named.
        let again = try cli.run(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "ward"])
        #expect(again.status != 0 && again.stderr.contains("ward"))
        let unknown = try cli.run(["population", "from-aggregate", "--bank", bank, "--aggregate", "nobody-here", "--id", "w2"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nobody-here"))
        let person = try cli.run(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "p01"])
        #expect(person.status != 0 && person.stderr.contains("person"))
        #expect(try cli.ok(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "ward", "--replace"]).contains("35 members"))
    }

    @Test func statsOfAnAggregateOverTime() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        for id in ["a", "b"] { try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person"]) }
        for (id, t, v) in [("a", "2026-03-02T08:00:00Z", "100"), ("a", "2026-03-04T08:00:00Z", "120"), ("b", "2026-03-05T08:00:00Z", "140"),
                           ("a", "2026-03-17T08:00:00Z", "90")] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", id, "--code", "loinc:2339-0", "--value", v, "--unit", "mg/dL", "--at", t])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "all", "--where", "kind = person"])
        let out = try Self.object(try cli.ok(["population", "stats", "--bank", bank, "--aggregate", "all", "--code", "loinc:2339-0", "--every", "7d", "--json"]))
        #expect(out["members"] as? Int == 2 && out["unit"] as? String == "mg/dL")
        let periods = try #require(out["periods"] as? [[String: Any]])
        #expect(periods.map { $0["members"] as? Int } == [2, 0, 1])
        #expect(periods.first?["mean"] as? Double == 120 && periods.first?["start"] as? String == "2026-03-02T00:00:00Z")
        let text = try cli.ok(["population", "stats", "--bank", bank, "--aggregate", "all", "--code", "loinc:2339-0", "--every", "1mo"])
        #expect(text.contains("2 members") && text.contains("112.5"))
        let bad = try cli.run(["population", "stats", "--bank", bank, "--aggregate", "all", "--code", "loinc:2339-0", "--every", "fortnight"])
        #expect(bad.status != 0 && bad.stderr.contains("fortnight"))
    }
}
