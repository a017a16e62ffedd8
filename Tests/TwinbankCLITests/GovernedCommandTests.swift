import Foundation
import Testing
import TwinTesting

/// Every command that opens a bank goes through the governed gate: an actor without a role on a bank someone
/// else made is refused, by name, and the refusal is in the bank's audit log, which still verifies.
@Suite(.serialized) struct GovernedCommandTests {
    let cli = CommandRunner()

    /// A bank alice made: twin p1 with one reading, an aggregate, a commit, and the files the verbs read.
    final class Fixture: @unchecked Sendable {
        let dir: URL, bank: String
        var files: [String: String] = [:]
        init(_ cli: CommandRunner) throws {
            (dir, bank) = try CommandRunner.temporaryBank()
            func as_alice(_ args: [String]) throws { try cli.ok(args + ["--bank", bank, "--actor", "alice"]) }
            try as_alice(["init"])
            try as_alice(["twin", "create", "--id", "p1", "--kind", "person", "--attr", "sex=female"])
            try as_alice(["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "100", "--unit", "mg/dL", "--at", "2024-01-01T08:00:00Z"])
            try as_alice(["aggregate", "create", "--id", "everyone", "--where", "kind = person"])
            try as_alice(["commit", "-m", "first"])
            let bundle = dir.appendingPathComponent("p1.bundle").path
            try as_alice(["export", "--twin", "p1", "--out", bundle])
            files["bundle"] = bundle
            let csv = dir.appendingPathComponent("rows.csv").path
            try "time,code,value,unit\n2024-01-02T08:00:00Z,loinc:2339-0,110,mg/dL\n".write(toFile: csv, atomically: true, encoding: .utf8)
            files["csv"] = csv
            let criteria = dir.appendingPathComponent("criteria.json").path
            try #"{"id": "t", "criteria": [{"type": "sex", "values": ["female"]}]}"#.write(toFile: criteria, atomically: true, encoding: .utf8)
            files["criteria"] = criteria
            files["out"] = dir.appendingPathComponent("out").path
        }
    }

    /// Every verb that opens a bank, with arguments that pass parsing (each is run with `--bank B --actor mallory`).
    static let verbs: [[String]] = [
        ["twin", "create", "--id", "m1", "--kind", "person"],
        ["twin", "show", "--id", "p1"],
        ["twin", "list"],
        ["twin", "bind", "--twin", "p1", "--preset", "pk"],
        ["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "90", "--unit", "mg/dL", "--at", "2024-01-03T08:00:00Z"],
        ["thread", "import", "--twin", "p1", "--csv", "@csv"],
        ["thread", "query", "--twin", "p1"],
        ["fork", "--twin", "p1", "--at", "2024-01-02T00:00:00Z", "--name", "p1-what-if"],
        ["retract", "--event", "1", "--reason", "wrong"],
        ["erase", "--twin", "p1", "--reason", "request"],
        ["erase", "--twin", "p1", "--reason", "request", "--dry-run"],
        ["aggregate", "create", "--id", "mine", "--member", "p1"],
        ["aggregate", "show", "--id", "everyone"],
        ["aggregate", "list"],
        ["aggregate", "delete", "--id", "everyone"],
        ["commit", "-m", "mine"],
        ["log"],
        ["diff", "HEAD", "HEAD"],
        ["tag", "v9"],
        ["branch", "b2"],
        ["switch", "main"],
        ["export", "--twin", "p1", "--out", "@out"],
        ["import", "@bundle"],
        ["backup", "--out", "@out"],
        ["fhir", "export", "--twin", "p1", "--out", "@out"],
        ["match", "--criteria", "@criteria", "--as-of", "2024-06-01T00:00:00Z"],
        ["sync", "--twin", "p1"],
        ["watch", "--twin", "p1", "--once"],
        ["population", "from-aggregate", "--aggregate", "everyone", "--id", "ward"],
        ["population", "stats", "--aggregate", "everyone", "--code", "loinc:2339-0"],
        ["consent", "show", "--twin", "p1"],
        ["consent", "grant", "--twin", "p1", "--purpose", "research"],
        ["policy", "set-role", "mallory", "admin"],
        ["audit", "log"],
        ["audit", "log", "--twin", "p1"],
        ["audit", "export", "--out", "@out"],
        ["audit", "prove", "--entry", "0"],
    ]

    @Test(arguments: verbs)
    func anActorWithoutARoleIsRefusedAndAudited(_ verb: [String]) throws {
        let f = try Fixture(cli)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let args = verb.map { $0.hasPrefix("@") ? f.files[String($0.dropFirst())]! : $0 } + ["--bank", f.bank, "--actor", "mallory"]
        let out = try cli.run(args)
        #expect(out.status != 0, "\(verb.joined(separator: " ")) was not refused: \(out.stdout)")
        #expect(out.stderr.contains("access denied") && out.stderr.contains("mallory"), "\(verb.joined(separator: " ")): \(out.stderr)")
        let log = try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "log", "--bank", f.bank, "--json", "--actor", "alice"]).utf8)) as? [[String: Any]] ?? []
        #expect(log.contains { $0["actor"] as? String == "mallory" && $0["decision"] as? String == "deny" }, "\(verb.joined(separator: " ")): no deny entry")
        #expect(!log.contains { $0["actor"] as? String == "mallory" && $0["decision"] as? String != "deny" })
        #expect(try cli.ok(["audit", "verify", "--bank", f.bank]).contains("audit log verified"))
    }

    /// A restore is asked of the restored bank's gate (its policy is the backup's) as `import`: an actor without a
    /// role there is refused, and no bank is made; the bank's admin restores it, the permit in the restored log.
    @Test func aRestoreIsAskedOfTheRestoredBanksGate() throws {
        let f = try Fixture(cli)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let backup = f.dir.appendingPathComponent("bank.backup").path
        try cli.ok(["backup", "--out", backup, "--bank", f.bank, "--actor", "alice"])
        let restored = f.dir.appendingPathComponent("restored.sqlite").path
        try BackupCommandTests.copyKeys(from: f.bank, to: restored)
        let refused = try cli.run(["restore", backup, "--bank", restored, "--actor", "mallory"])
        #expect(refused.status != 0 && refused.stderr.contains("access denied") && refused.stderr.contains("mallory"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: restored))
        try cli.ok(["restore", backup, "--bank", restored, "--actor", "alice"])
        let log = try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "log", "--bank", restored, "--json", "--actor", "alice"]).utf8)) as? [[String: Any]] ?? []
        #expect(log.contains { $0["actor"] as? String == "alice" && $0["action"] as? String == "import" && $0["decision"] as? String == "permit" })
        #expect(log.contains { $0["actor"] as? String == "alice" && $0["action"] as? String == "export" && ($0["twin"] as? String) == nil })
        #expect(try cli.ok(["audit", "verify", "--bank", restored]).contains("audit log verified"))
    }

    @Test func theCreatorIsAdminAndHerAccessesAreAuditedAsPermit() throws {
        let f = try Fixture(cli)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        #expect(try cli.ok(["thread", "query", "--twin", "p1", "--bank", f.bank, "--actor", "alice"]).contains("2339-0"))
        let log = try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "log", "--bank", f.bank, "--json", "--actor", "alice"]).utf8)) as? [[String: Any]] ?? []
        let last = try #require(log.last { $0["action"] as? String == "read" })
        // reading the log is itself an access, recorded before the entries are read
        #expect(log.last?["action"] as? String == "administer" && log.last?["actor"] as? String == "alice")
        #expect(last["actor"] as? String == "alice" && last["action"] as? String == "read" && last["twin"] as? String == "p1"
                && last["decision"] as? String == "permit" && last["purpose"] as? String == "care")
        // once alice gives mallory a role, mallory reads (TWINBANK_ACTOR stands for --actor)
        try cli.ok(["policy", "set-role", "--bank", f.bank, "--actor", "alice", "mallory", "clinician"])
        var env = cli
        env.environment["TWINBANK_ACTOR"] = "mallory"
        #expect(try env.ok(["thread", "query", "--twin", "p1", "--bank", f.bank]).contains("2339-0"))
        // a purpose the policy does not grant the clinician is refused
        let research = try env.run(["thread", "query", "--twin", "p1", "--bank", f.bank, "--purpose", "research"])
        #expect(research.status != 0 && research.stderr.contains("mallory"))
    }
}
