import Foundation
import Testing
import TwinTesting

/// Issue 24 item 3: `twinbank trace` reads the anchor's pings and cases files and writes its pairs file.
@Suite("twinbank trace")
struct TraceCommandTests {
    let cli = CommandRunner()

    /// Person 1 (a case) meets 2 at 5 m and 3 at the window's edge, not 4 (111 m away) nor 5 (a second too late);
    /// case 6 meets 7 2.2 m away across the antimeridian.
    static let pings = """
        person,t,lat,lon
        1,1000,45.5000000,-73.6000000
        1,1001,45.5000000,-73.6000000
        2,1200,45.5000450,-73.6000000
        3,1900,45.5000000,-73.6000000
        4,1000,45.5010000,-73.6000000
        5,1902,45.5000000,-73.6000000
        6,50,0.0000000,179.9999900
        7,60,0.0000000,-179.9999900

        """

    func files(_ dir: URL, pings: String = pings, cases: String = "1\n6\n") throws -> (pings: String, cases: String) {
        let p = dir.appendingPathComponent("pings.csv"), c = dir.appendingPathComponent("cases.txt")
        try Data(pings.utf8).write(to: p)
        try Data(cases.utf8).write(to: c)
        return (p.path, c.path)
    }

    @Test func writesThePairsFile() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir)
        let out = dir.appendingPathComponent("pairs.csv").path
        let text = try cli.ok(["trace", "--pings", p, "--cases", c, "--distance", "10", "--window", "900", "--out", out])
        #expect(text.contains("3 (case, contact) pairs"), "\(text)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "case,contact\n1,2\n1,3\n6,7\n")
    }

    @Test func printsJSON() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir)
        let out = dir.appendingPathComponent("pairs.csv").path
        let text = try cli.ok(["trace", "--pings", p, "--cases", c, "--out", out, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(json["pairs"] as? Int == 3)
        #expect(json["pings"] as? Int == 8)
        #expect((json["index_seconds"] as? Double).map { $0 >= 0 } == true)
        #expect((json["query_seconds"] as? Double).map { $0 >= 0 } == true)
    }

    @Test func pairsToStandardOutputWithoutOut() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir)
        #expect(try cli.ok(["trace", "--pings", p, "--cases", c, "--distance", "3"]) == "case,contact\n1,3\n6,7\n")
        let refused = try cli.run(["trace", "--pings", p, "--cases", c, "--json"])
        #expect(refused.status != 0 && refused.stderr.contains("--out"), "\(refused.stderr)")
    }

    @Test func existingOutputIsRefusedUnlessForced() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir)
        let out = dir.appendingPathComponent("pairs.csv").path
        try Data("my own file\n".utf8).write(to: URL(fileURLWithPath: out))
        let refused = try cli.run(["trace", "--pings", p, "--cases", c, "--out", out])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(out) && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "my own file\n")
        try cli.ok(["trace", "--pings", p, "--cases", c, "--out", out, "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("case,contact\n1,2\n"))
    }

    @Test("bad input names the line and the value, and writes nothing", arguments: [
        ("1,100,91,-73.6", "91", "latitude"),
        ("1,100,45.5,200", "200", "longitude"),
        ("1,noon,45.5,-73.6", "noon", "time"),
    ])
    func badPings(line: String, value: String, what: String) throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir, pings: "person,t,lat,lon\n2,0,45.5,-73.6\n\(line)\n")
        let out = dir.appendingPathComponent("pairs.csv").path
        let r = try cli.run(["trace", "--pings", p, "--cases", c, "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("line 3") && r.stderr.contains("'\(value)'") && r.stderr.contains(what), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["cases.txt", "pings.csv"])
    }

    @Test func badCasesAndCriteria() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (p, c) = try files(dir, cases: "1\nalice\n")
        let r = try cli.run(["trace", "--pings", p, "--cases", c])
        #expect(r.status != 0 && r.stderr.contains("line 2") && r.stderr.contains("alice"), "\(r.stderr)")
        let (p2, c2) = try files(dir)
        let d = try cli.run(["trace", "--pings", p2, "--cases", c2, "--distance", "-3"])
        #expect(d.status != 0 && d.stderr.contains("-3"), "\(d.stderr)")
        let missing = try cli.run(["trace", "--pings", dir.appendingPathComponent("none.csv").path, "--cases", c2])
        #expect(missing.status != 0 && missing.stderr.contains("none.csv"), "\(missing.stderr)")
    }
}

/// `twinbank trace --bank B --aggregate ID --case TWIN`: pings as location events, close contacts written back.
@Suite("twinbank trace over the bank")
struct TraceBankCommandTests {
    let cli = CommandRunner()

    @Test func writesCloseContactsToThreadsOnce() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        for id in ["alice", "bob", "carol"] { try cli.ok(["twin", "create", "--bank", bank, "--id", id, "--kind", "person"]) }
        for (id, value, at) in [("alice", "[45.5,-73.6] deg", "2024-06-01T10:00:00Z"),
                                ("bob", "[45.500036,-73.6] deg", "2024-06-01T10:10:00Z"),
                                ("carol", "[45.6,-73.6] deg", "2024-06-01T10:10:00Z")] {
            try cli.ok(["thread", "append", "--bank", bank, "--twin", id, "--code", "local:location", "--value", value, "--at", at])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "street", "--member", "alice", "--member", "bob", "--member", "carol"])
        let text = try cli.ok(["trace", "--bank", bank, "--aggregate", "street", "--case", "alice"])
        #expect(text.contains("bob near alice") && text.contains("1 close-contact events"), "\(text)")
        let bob = try cli.ok(["thread", "query", "--bank", bank, "--twin", "bob", "--code", "local:close-contact"])
        #expect(bob.contains("= alice"), "\(bob)")
        #expect(!(try cli.ok(["thread", "query", "--bank", bank, "--twin", "carol", "--code", "local:close-contact"])).contains("close-contact"))

        let json = try cli.ok(["trace", "--bank", bank, "--aggregate", "street", "--case", "alice", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["pairs"] as? Int == 1 && object["written"] as? Int == 0 && object["already_in_threads"] as? Int == 1)
        #expect(object["index_seconds"] is Double && object["query_seconds"] is Double)

        // the live link: the contact watcher alerts bob (and only bob) once, with quarantine advice
        let watched = try cli.ok(["watch", "--bank", bank, "--twin", "bob", "--twin", "carol", "--watcher", "contact", "--once", "--json"])
        let lines = watched.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(watched)")
        #expect(lines.allSatisfy { $0.contains("\"bob\"") }, "\(watched)")
        #expect(watched.contains("Close contact of alice") && watched.contains("Quarantine until 2024-06-15T10:10:00"), "\(watched)")
        #expect(try cli.ok(["watch", "--bank", bank, "--twin", "bob", "--watcher", "contact", "--once", "--json"]).isEmpty)
        let badQuarantine = try cli.run(["watch", "--bank", bank, "--twin", "bob", "--watcher", "contact", "--contact-quarantine=-1", "--once"])
        #expect(badQuarantine.status != 0 && badQuarantine.stderr.contains("-1"), "\(badQuarantine.stderr)")

        let unknown = try cli.run(["trace", "--bank", bank, "--aggregate", "street", "--case", "zoe"])
        #expect(unknown.status != 0 && unknown.stderr.contains("zoe"), "\(unknown.stderr)")
        let mixed = try cli.run(["trace", "--bank", bank, "--aggregate", "street", "--case", "alice", "--out", dir.appendingPathComponent("x.csv").path])
        #expect(mixed.status != 0 && mixed.stderr.contains("--out"), "\(mixed.stderr)")
    }
}
