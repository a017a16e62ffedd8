import Foundation
import Testing

/// Drives the built `twinbank` binary through the whole bank contract of the README, on a temporary bank.
@Suite("twinbank command: the bank contract")
struct BankContractTests {
    let dir: URL
    let bank: String
    let cli = CommandRunner()

    init() throws {
        (dir, bank) = try CommandRunner.temporaryBank()
    }

    @discardableResult
    func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try cli.ok(args, sourceLocation: sourceLocation)
    }

    /// Runs a command that must fail; returns its error output.
    func fails(_ args: [String]) throws -> String {
        let out = try cli.run(args)
        #expect(out.status != 0, "\(args.joined(separator: " ")) should have failed, printed: \(out.stdout)")
        return out.stderr + out.stdout
    }

    func json(_ args: [String]) throws -> Any {
        let text = try ok(args + ["--json"])
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    func eventCount(_ twin: String, extra: [String] = []) throws -> Int {
        (try json(["thread", "query", "--bank", bank, "--twin", twin] + extra) as? [Any])?.count ?? -1
    }

    @Test func wholeContract() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try ok(["init", "--bank", bank])

        // Twins: a reference twin, an instance of it, a composite twin with parts, an organisation.
        try ok(["twin", "create", "--bank", bank, "--id", "adult-t1d", "--kind", "person", "--as-template", "--attr", "diagnosis=snomed:46635009"])
        try ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--template", "adult-t1d@1",
                "--attr", "sex=female", "--attr", "birthDate=1980-04-02", "--attr", "weight=72 kg"])
        try ok(["twin", "create", "--bank", bank, "--id", "alice-liver", "--kind", "organ", "--attr", "birthDate=1980-04-02"])
        try ok(["twin", "create", "--bank", bank, "--id", "alice-body", "--kind", "person", "--part", "liver=alice-liver", "--attr", "birthDate=1980-04-02"])
        try ok(["twin", "create", "--bank", bank, "--id", "bob", "--kind", "person", "--attr", "sex=male", "--attr", "birthDate=1975-01-01"])
        try ok(["twin", "create", "--bank", bank, "--id", "st-mary", "--kind", "organisation", "--attr", "beds=420 1"])
        let alice = try json(["twin", "show", "--bank", bank, "--id", "alice"]) as? [String: Any]
        let aliceTwin = alice?["twin"] as? [String: Any]
        #expect(aliceTwin?["kind"] as? String == "person")
        #expect((aliceTwin?["template"] as? [String: Any])?["version"] as? Int == 1)
        let body = try ok(["twin", "show", "--bank", bank, "--id", "alice-body"])
        #expect(body.contains("part liver: alice-liver"))

        // Thread: single appends and a CSV import.
        try ok(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "110", "--unit", "mg/dL",
                "--at", "2024-01-01T07:00:00Z", "--source", "device:cgm-1"])
        try ok(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:4548-4", "--value", "7.1", "--unit", "%",
                "--at", "2024-01-02T09:00:00Z", "--source", "record:lab-1"])
        let csv = dir.appendingPathComponent("cgm.csv")
        try """
        time,code,value,unit,source
        2024-01-01T08:00:00Z,loinc:2339-0,150,mg/dL,device:cgm-1
        2024-01-01T09:00:00Z,loinc:2339-0,180,mg/dL,device:cgm-1
        2024-01-01T10:00:00Z,loinc:2339-0,0.9,g/L,device:cgm-2
        2024-01-01T10:00:00Z,loinc:8867-4,72,/min,
        """.write(to: csv, atomically: true, encoding: .utf8)
        try ok(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", csv.path])
        #expect(try eventCount("alice") == 6)
        #expect(try eventCount("alice", extra: ["--code", "loinc:2339-0", "--from", "2024-01-01T08:00:00Z", "--to", "2024-01-01T09:30:00Z"]) == 2)

        // State as of an effective time: latest value per code.
        let state = try json(["thread", "query", "--bank", bank, "--twin", "alice", "--as-of", "2024-01-01T09:30:00Z"]) as? [[String: Any]]
        #expect(state?.count == 1)
        #expect(((state?.first?["value"] as? [String: Any])?["value"] as? Double) == 180)

        // Commit, fork, hypothetical events on the fork only.
        try ok(["commit", "--bank", bank, "-m", "first cohort"])
        try ok(["fork", "--bank", bank, "--twin", "alice", "--at", "2024-01-01T09:00:00Z", "--name", "alice-what-if"])
        #expect(try eventCount("alice-what-if") == 3)
        try ok(["thread", "append", "--bank", bank, "--twin", "alice-what-if", "--code", "rxnorm:253182", "--value", "4", "--unit", "U",
                "--at", "2024-01-01T09:05:00Z", "--category", "intervention", "--source", "person:dr-x"])
        #expect(try eventCount("alice-what-if") == 4)
        #expect(try eventCount("alice") == 6)
        #expect(try eventCount("alice", extra: ["--code", "rxnorm:253182"]) == 0)

        // Retraction: the faulty CGM leaves current views, but what was known before stays replayable.
        // A recorded time strictly between the last append and the retraction (millisecond precision).
        Thread.sleep(forTimeInterval: 0.02)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let beforeRetraction = formatter.string(from: Date())
        Thread.sleep(forTimeInterval: 0.02)
        try ok(["retract", "--bank", bank, "--source", "device:cgm-1", "--reason", "sensor recall"])
        #expect(try eventCount("alice", extra: ["--code", "loinc:2339-0"]) == 1)
        #expect(try eventCount("alice", extra: ["--code", "loinc:2339-0", "--known-at", beforeRetraction]) == 4)
        #expect(try eventCount("alice", extra: ["--category", "retraction"]) == 1)
        #expect(try eventCount("alice-what-if", extra: ["--code", "loinc:2339-0"]) == 0)

        // Aggregates, explicit and by query; membership at a past commit.
        try ok(["aggregate", "create", "--bank", bank, "--id", "pair", "--member", "alice", "bob"])
        try ok(["aggregate", "create", "--bank", bank, "--id", "women-high-a1c", "--where", "kind = person and sex = female and loinc:4548-4 > 6.5 %"])
        let women = try json(["aggregate", "show", "--bank", bank, "--id", "women-high-a1c"]) as? [String: Any]
        #expect(women?["members"] as? [String] == ["alice"])
        try ok(["commit", "--bank", bank, "-m", "aggregates"])
        try ok(["tag", "--bank", bank, "v1"])
        let log = try json(["log", "--bank", bank]) as? [[String: Any]]
        #expect(log?.count == 2)
        let first = (log?.last?["id"] as? String) ?? ""
        try ok(["twin", "create", "--bank", bank, "--id", "carol", "--kind", "person", "--attr", "sex=female"])
        try ok(["thread", "append", "--bank", bank, "--twin", "carol", "--code", "loinc:4548-4", "--value", "8.0", "--unit", "%",
                "--at", "2024-02-01T09:00:00Z", "--source", "record:lab-2"])
        try ok(["commit", "--bank", bank, "-m", "carol"])
        let now = try json(["aggregate", "show", "--bank", bank, "--id", "women-high-a1c"]) as? [String: Any]
        #expect(now?["members"] as? [String] == ["alice", "carol"])
        let atV1 = try json(["aggregate", "show", "--bank", bank, "--id", "women-high-a1c", "--at", "v1"]) as? [String: Any]
        #expect(atV1?["members"] as? [String] == ["alice"])
        #expect(try fails(["aggregate", "show", "--bank", bank, "--id", "pair", "--at", String(first.prefix(12))]).contains("pair"))
        let diff = try json(["diff", "--bank", bank, "v1", "main"]) as? [String: Any]
        #expect((diff?["added"] as? [String])?.contains { $0.contains("carol") } == true)
        #expect(try ok(["twin", "show", "--bank", bank, "--id", "alice", "--at", String(first.prefix(12))]).contains("alice"))
        // The thread as pinned by the first commit: before the retraction and the fork's events.
        #expect(try eventCount("alice", extra: ["--code", "loinc:2339-0", "--commit", String(first.prefix(12))]) == 4)

        // Exchange: export the fork, import into another bank, twice; a changed byte is rejected.
        let bundle = dir.appendingPathComponent("alice.twinbundle").path
        try ok(["export", "--bank", bank, "--twin", "alice-what-if", "--out", bundle])
        let other = dir.appendingPathComponent("other.sqlite").path
        try ok(["init", "--bank", other])
        try ok(["import", "--bank", other, bundle])
        let countAfterFirst = (try json(["thread", "query", "--bank", other, "--twin", "alice-what-if"]) as? [Any])?.count
        #expect(countAfterFirst == (try eventCount("alice-what-if")))
        try ok(["import", "--bank", other, bundle])
        #expect((try json(["thread", "query", "--bank", other, "--twin", "alice-what-if"]) as? [Any])?.count == countAfterFirst)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        let index = bytes.count / 2
        bytes[index] = bytes[index] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        let tampered = dir.appendingPathComponent("tampered.twinbundle")
        try bytes.write(to: tampered)
        let third = dir.appendingPathComponent("third.sqlite").path
        try ok(["init", "--bank", third])
        let tamperError = try fails(["import", "--bank", third, tampered.path])
        #expect(tamperError.contains("hash") || tamperError.contains("bundle"))
        #expect(try ok(["twin", "list", "--bank", third]).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

        // TWINBANK_BANK stands for --bank.
        var envCLI = CommandRunner()
        envCLI.environment["TWINBANK_BANK"] = bank
        let listed = try envCLI.run(["twin", "list"])
        #expect(listed.status == 0 && listed.stdout.contains("alice-what-if"))
    }

    @Test func badInputIsRejectedNamingTheValueAndWritesNothing() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try ok(["init", "--bank", bank])
        try ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--attr", "birthDate=1980-04-02"])
        try ok(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "110", "--unit", "mg/dL",
                "--at", "2024-01-01T07:00:00Z"])

        #expect(try fails(["thread", "append", "--bank", bank, "--twin", "nobody", "--code", "loinc:2339-0", "--value", "1", "--unit", "mg/dL", "--at", "2024-01-01"]).contains("nobody"))
        #expect(try fails(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "1", "--unit", "mg/dL", "--at", "2024-13-45"]).contains("2024-13-45"))
        #expect(try fails(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "1", "--unit", "kg", "--at", "2024-01-02"]).contains("kg"))
        #expect(try fails(["twin", "create", "--bank", bank, "--id", "x", "--kind", "spaceship"]).contains("spaceship"))
        #expect(try fails(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person"]).contains("alice"))
        #expect(try fails(["fork", "--bank", bank, "--twin", "alice", "--at", "1970-01-01", "--name", "early"]).contains("1970"))
        #expect(try fails(["thread", "append", "--bank", bank, "--twin", "alice", "--code", "loinc:2339-0", "--value", "5", "--unit", "mg/dL", "--at", "1970-01-01"]).contains("1970"))

        // A CSV with one bad row writes none of its rows.
        let csv = dir.appendingPathComponent("bad.csv")
        try "time,code,value,unit\n2024-01-03T00:00:00Z,loinc:2339-0,120,mg/dL\n2024-01-03T25:00:00Z,loinc:2339-0,125,mg/dL\n2024-01-03T02:00:00Z,loinc:2339-0,130,mg/dL\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let csvError = try fails(["thread", "import", "--bank", bank, "--twin", "alice", "--csv", csv.path])
        #expect(csvError.contains("line 3"))
        #expect(try eventCount("alice") == 1)
        #expect(try ok(["twin", "list", "--bank", bank]).split(separator: "\n").count == 1)

        // A corrupted or foreign file given as --bank: a clear error, not a crash.
        let foreign = dir.appendingPathComponent("notes.txt")
        try "these are not the droids".write(to: foreign, atomically: true, encoding: .utf8)
        let foreignError = try cli.run(["twin", "list", "--bank", foreign.path])
        #expect(foreignError.status == 1)
        #expect(foreignError.stderr.contains("not a Twinbank bank") || foreignError.stderr.contains("not a"))
        var corrupted = try Data(contentsOf: URL(fileURLWithPath: bank))
        for i in stride(from: 100, to: min(corrupted.count, 8192), by: 7) { corrupted[i] ^= 0x5A }
        let broken = dir.appendingPathComponent("broken.sqlite")
        try corrupted.write(to: broken)
        let brokenRun = try cli.run(["thread", "query", "--bank", broken.path, "--twin", "alice"])
        #expect(brokenRun.status == 1, "a corrupted bank must fail cleanly (status \(brokenRun.status)): \(brokenRun.stderr)")
        let missing = try cli.run(["twin", "list", "--bank", dir.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 1 && missing.stderr.contains("twinbank init"))
    }
}
