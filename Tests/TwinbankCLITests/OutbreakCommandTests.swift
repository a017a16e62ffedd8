import Foundation
import Testing
import TwinTesting

/// `twinbank outbreak`: daily counts per state, JSON, shards, plots and refused input.
@Suite("twinbank command: outbreak")
struct OutbreakCommandTests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func printsDailyCountsPerState() throws {
        let out = try CommandRunner().ok(["outbreak", "--agents", "3000", "--days", "30", "--seed", "2"])
        let lines = out.split(separator: "\n")
        let header = try #require(lines.first { $0.hasPrefix("day\t") })
        #expect(header.contains("susceptible") && header.contains("critical") && header.contains("dead") && header.contains("new_infections"))
        #expect(lines.contains { $0.hasPrefix("30\t") })
        #expect(out.contains("attack rate") && out.contains("SEIR estimate"))
        let day0 = try #require(lines.first { $0.hasPrefix("0\t") }).split(separator: "\t")
        #expect(day0[1] == "2980" && day0[2] == "20")  // 20 initial infections, exposed on day 0
    }

    @Test func jsonIsDeterministicAndShardsSplitTheRuns() throws {
        let cli = CommandRunner()
        let base = ["outbreak", "--agents", "2000", "--days", "25", "--seed", "4", "--runs", "4", "--json"]
        let a = try Self.object(try cli.ok(base)), b = try Self.object(try cli.ok(base))
        #expect(NSDictionary(dictionary: a).isEqual(to: b))
        let daily = try #require(a["daily"] as? [String: Any])
        let susceptible = try #require((daily["susceptible"] as? [String: Any])?["median"] as? [Double])
        #expect(susceptible.count == 26)
        let perRun = try #require(a["run_headlines"] as? [[String: Any]])
        let shard = try Self.object(try cli.ok(base + ["--shard", "2/2"]))
        let shardRuns = try #require(shard["run_headlines"] as? [[String: Any]])
        #expect(shard["runs"] as? [Int] == [2, 3])
        #expect(shardRuns.map { $0["cumulative_infections"] as? Int } == perRun.suffix(2).map { $0["cumulative_infections"] as? Int })
    }

    @Test func writesThePlotAsANewFile() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plot = dir.appendingPathComponent("curve.svg").path
        _ = try CommandRunner().ok(["outbreak", "--agents", "1000", "--days", "20", "--plot", plot])
        #expect(try String(contentsOfFile: plot, encoding: .utf8).hasPrefix("<svg"))
        let again = try CommandRunner().run(["outbreak", "--agents", "1000", "--days", "20", "--plot", plot])
        #expect(again.status != 0 && again.stderr.contains("exists"))
    }

    @Test(arguments: [
        (#"{"interventions": [{"type": "curfew"}]}"#, "curfew"),
        (#"{"interventions": [{"type": "testing", "symptomaticProbability": -0.2}]}"#, "-0.2"),
        (#"{"bta": 1}"#, "bta"),
    ])
    func refusesABadScenarioNamingTheValue(json: String, named: String) throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("scenario.json")
        try Data(json.utf8).write(to: file)
        let run = try CommandRunner().run(["outbreak", "--agents", "500", "--days", "10", "--scenario", file.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains(named), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func marginalsFileShapesThePopulation() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("marginals.json")
        try Data(#"{"householdSizes": [1], "school": {"enrolment": 0}, "work": {"employment": 0}, "community": {"contacts": 8}}"#.utf8).write(to: file)
        let out = try Self.object(try CommandRunner().ok(["outbreak", "--agents", "3000", "--days", "10", "--marginals", file.path, "--json"]))
        let contacts = try #require((out["population"] as? [String: Any])?["contacts_per_person"] as? [String: Double])
        #expect(contacts["h"] == 0 && contacts["s"] == 0 && contacts["w"] == 0)
        #expect(abs((contacts["c"] ?? 0) - 8) < 0.5)
        try Data(#"{"school": {"enrolment": 2}}"#.utf8).write(to: file)
        let bad = try CommandRunner().run(["outbreak", "--agents", "300", "--days", "5", "--marginals", file.path])
        #expect(bad.status != 0 && bad.stderr.contains("school.enrolment") && bad.stderr.contains("2"))
    }

    @Test func writesTheRunToAPopulationTwinsThread() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "town", "--kind", "population"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "ann", "--kind", "person"])
        let out = try Self.object(try cli.ok(["outbreak", "--agents", "800", "--days", "9", "--seed", "5", "--runs", "2",
                                              "--bank", bank, "--population", "town", "--start", "2026-03-01", "--json"]))
        let written = try #require(out["written"] as? [String: Any])
        #expect(written["twin"] as? String == "town" && written["events"] as? Int == 13 * 10)
        let events = try #require(JSONSerialization.jsonObject(with: Data(try cli.ok(["thread", "query", "--bank", bank, "--twin", "town", "--json"]).utf8)) as? [[String: Any]])
        #expect(events.count == 130)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: events), as: UTF8.self)
        #expect(text.contains("urn:twinbank:outbreak") && text.contains("new_infections") && text.contains("prediction"))
        #expect(text.contains("2026-03-01") && text.contains("2026-03-10"))
        // Not a population twin, an unknown twin, or --bank alone: refused before anything is computed or written.
        let person = try cli.run(["outbreak", "--agents", "100", "--days", "3", "--bank", bank, "--population", "ann"])
        #expect(person.status != 0 && person.stderr.contains("person"))
        let unknown = try cli.run(["outbreak", "--agents", "100", "--days", "3", "--bank", bank, "--population", "nobody"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nobody"))
        let alone = try cli.run(["outbreak", "--agents", "100", "--days", "3", "--bank", bank])
        #expect(alone.status != 0 && alone.stderr.contains("--population"))
        let after = try #require(JSONSerialization.jsonObject(with: Data(try cli.ok(["thread", "query", "--bank", bank, "--twin", "ann", "--json"]).utf8)) as? [Any])
        #expect(after.isEmpty)
    }

    @Test func synthesizedPopulationTwinIsWhereTheOutbreakRuns() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        let made = try Self.object(try cli.ok(["population", "synthesize", "--bank", bank, "--id", "village", "--size", "1200", "--seed", "8", "--json"]))
        #expect(made["size"] as? Int == 1200 && (made["households"] as? Double ?? 0) > 300)
        let again = try cli.run(["population", "synthesize", "--bank", bank, "--id", "village", "--size", "50"])
        #expect(again.status != 0 && again.stderr.contains("village"))
        let out = try Self.object(try cli.ok(["outbreak", "--days", "5", "--bank", bank, "--population", "village", "--start", "2026-05-01", "--json"]))
        #expect(out["agents"] as? Int == 1200)
        #expect((out["written"] as? [String: Any])?["events"] as? Int == 13 * 6)
        let conflict = try cli.run(["outbreak", "--days", "5", "--agents", "300", "--bank", bank, "--population", "village"])
        #expect(conflict.status != 0 && conflict.stderr.contains("--agents"))
        let badSize = try cli.run(["population", "synthesize", "--bank", bank, "--id", "empty", "--size", "0"])
        #expect(badSize.status != 0 && badSize.stderr.contains("0"))
    }

    @Test func calibratesBetaToDailyCounts() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        let truth = dir.appendingPathComponent("truth.json"), plain = dir.appendingPathComponent("plain.json")
        try Data(#"{"beta": 0.012}"#.utf8).write(to: truth)
        try Data("{}".utf8).write(to: plain)
        let made = try Self.object(try cli.ok(["outbreak", "--agents", "4000", "--days", "60", "--seed", "21", "--runs", "4",
                                               "--scenario", truth.path, "--json"]))
        let infections = try #require(((made["daily"] as? [String: Any])?["new_infections"] as? [String: Any])?["median"] as? [Double])
        let counts = dir.appendingPathComponent("counts.csv")
        try Data((["day,count"] + infections.enumerated().map { "\($0.offset),\($0.element)" }).joined(separator: "\n").utf8).write(to: counts)
        let fitted = try Self.object(try cli.ok(["outbreak", "--agents", "4000", "--days", "60", "--seed", "21", "--scenario", plain.path,
                                                 "--calibrate", counts.path, "--calibrate-series", "new_infections", "--json"]))
        let beta = try #require((fitted["calibration"] as? [String: Any])?["beta"] as? Double)
        #expect(abs(beta - 0.012) < 0.0015, "fitted beta \(beta)")
        try Data("day,count\n0,3\n2,5\n".utf8).write(to: counts)
        let gap = try cli.run(["outbreak", "--agents", "500", "--days", "5", "--calibrate", counts.path])
        #expect(gap.status != 0 && gap.stderr.contains("day 1 is missing"))
        try Data("day,count\n0,3\n1,-5\n".utf8).write(to: counts)
        let negative = try cli.run(["outbreak", "--agents", "500", "--days", "5", "--calibrate", counts.path])
        #expect(negative.status != 0 && negative.stderr.contains("-5"))
        try Data("date,cases\n0,3\n".utf8).write(to: counts)
        let header = try cli.run(["outbreak", "--agents", "500", "--days", "5", "--calibrate", counts.path])
        #expect(header.status != 0 && header.stderr.contains("day and count"))
    }

    @Test(arguments: [["--shard", "3/2"], ["--agents", "0"], ["--runs", "0"], ["--days", "4000"]])
    func refusesBadArguments(_ bad: [String]) throws {
        let run = try CommandRunner().run(["outbreak", "--days", "5", "--agents", "100"] + bad)
        #expect(run.status != 0)
        #expect(run.stderr.contains(bad[1]), "\(run.stderr)")
    }

    /// Members with pings: their close contacts are the community layer of the days they cover; the command
    /// says how many pairs over how many days it used, on stderr and in --json; members without pings get none.
    @Test func membersPingsBecomeTheCommunityLayer() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CommandRunner()
        try cli.ok(["init", "--bank", bank])
        for id in ["ann", "bob", "cal", "dee"] {
            try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person", "--attr", "birthDate=1990-01-01"])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "everyone", "--where", "kind = person"])
        try cli.ok(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "quiet", "--seed", "2"])
        let quiet = try cli.run(["outbreak", "--days", "10", "--bank", bank, "--population", "quiet", "--start", "2026-03-02", "--json"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("observed contacts"), "\(quiet.stderr)")
        #expect(try Self.object(quiet.stdout)["observed"] == nil)
        // ann and bob meet (3 m, 5 minutes apart) on Monday 2 and Tuesday 3 March; cal and dee are elsewhere.
        for (id, lat) in [("ann", "45.5"), ("bob", "45.500027"), ("cal", "45.6"), ("dee", "45.7")] {
            for day in ["2026-03-02", "2026-03-03"] {
                try cli.ok(["thread", "append", "--bank", bank, "--twin", id, "--code", "local:location", "--value", "[\(lat),-73.6] deg",
                            "--at", "\(day)T10:0\(id == "bob" ? 5 : 0):00Z"])
            }
        }
        try cli.ok(["population", "from-aggregate", "--bank", bank, "--aggregate", "everyone", "--id", "ward", "--seed", "2"])
        let run = try cli.run(["outbreak", "--days", "10", "--bank", bank, "--population", "ward", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        // Days 0 and 1 (Monday, Tuesday from the first ping's day), then 7 and 8 (the same weekdays repeated).
        #expect(run.stderr.contains("observed contacts: 2 observed contact pairs over 2 ping days used on 4 simulated days (day 0 = 2026-03-02)"), "\(run.stderr)")
        let observed = try #require(try Self.object(run.stdout)["observed"] as? [String: Any])
        #expect(observed["pairs"] as? Int == 2 && observed["ping_days"] as? Int == 2 && observed["simulated_days"] as? Int == 4)
        #expect(observed["pings"] as? Int == 8 && observed["people"] as? Int == 4 && observed["start"] as? String == "2026-03-02")
        let predictions = try cli.ok(["thread", "query", "--bank", bank, "--twin", "ward"])
        #expect(predictions.contains("2026-03-02"), "\(predictions)")
    }
}
