import Foundation
import Testing

/// Issue 22, "Done when": faults a person redoing the morning's work still found after the nine defects were
/// fixed, each as the command showed it.
@Suite("twinbank command: the morning walked through again")
struct MorningWalkthroughTests {
    let cli = CommandRunner()

    /// A value a command rejects while running (a mistyped time, a missing file) is named with its option, and
    /// no longer followed by the root command's usage ("Usage: twinbank <subcommand>"), which pointed at the
    /// wrong command.
    @Test("a value rejected while running is not followed by the root usage", arguments: [
        (["thread", "query", "--twin", "alice", "--from", "yesterdy"], "--from: malformed time 'yesterdy'"),
        (["thread", "import", "--twin", "alice", "--csv", "no-such-file.csv"], "--csv: cannot read 'no-such-file.csv'"),
        (["match", "--criteria", "no-such-criteria.json"], "no-such-criteria.json"),
    ])
    func rejectedValueWithoutRootUsage(_ arguments: [String], _ message: String) throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person"])
        let r = try cli.run(arguments + ["--bank", bank])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("Error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("<subcommand>"), "\(r.stderr)")
    }

    /// `match` over the whole bank screened a fork as one more person ("forky: ELIGIBLE" beside the person it
    /// was forked from), and printed bare ids where `twin list` prints names.
    @Test func matchScreensPeopleNotTheirForksAndNamesThem() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "ann", "--kind", "person",
                    "--attr", "name=Ann Smith", "--attr", "birthDate=1970-06-01", "--attr", "gender=female"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "ann", "--code", "loinc:2339-0", "--value", "110",
                    "--unit", "mg/dL", "--at", "2024-01-07T07:00:00Z"])
        try cli.ok(["fork", "--bank", bank, "--twin", "ann", "--at", "2024-01-08T00:00:00Z", "--name", "ann-what-if"])
        let criteria = dir.appendingPathComponent("adults.json")
        try #"{"id": "adults", "criteria": [{"type": "age", "min": 18}]}"#.write(to: criteria, atomically: true, encoding: .utf8)

        let out = try cli.ok(["match", "--bank", bank, "--criteria", criteria.path, "--as-of", "2024-06-01"])
        #expect(out.contains("ann  (Ann Smith): ELIGIBLE"), "\(out)")
        #expect(!out.contains("ann-what-if"), "\(out)")
        #expect(out.contains("1 eligible, 0 possibly eligible, of 1 twin(s)"), "\(out)")

        // an aggregate that names the fork screens it
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "both", "--member", "ann", "--member", "ann-what-if"])
        let named = try cli.ok(["match", "--bank", bank, "--criteria", criteria.path, "--as-of", "2024-06-01", "--aggregate", "both"])
        #expect(named.contains("ann-what-if"), "\(named)")
        #expect(named.contains("of 2 twin(s)"), "\(named)")
    }
}
