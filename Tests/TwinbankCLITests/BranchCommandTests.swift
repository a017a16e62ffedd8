import Foundation
import Testing

/// Issue 23, item 3: `twinbank branch` and `twinbank switch` switch the twin definitions seen.
@Suite("twinbank command: branch and switch")
struct BranchCommandTests {
    let cli = CommandRunner()

    func twins(_ bank: String) throws -> [String] {
        try cli.ok(["twin", "list", "--bank", bank]).split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
    }

    @Test func switchingBranchSwitchesTheDefinitions() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "a", "--kind", "person", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["commit", "--bank", bank, "-m", "a on main"])
        let created = try cli.ok(["branch", "--bank", bank, "trial"])
        #expect(created.contains("created branch trial"), "\(created)")
        let list = try cli.ok(["branch", "--bank", bank])
        #expect(list.contains("* main") && list.contains("  trial"), "\(list)")

        #expect(try cli.ok(["switch", "--bank", bank, "trial"]).contains("switched to branch trial"))
        #expect(try cli.ok(["branch", "--bank", bank]).contains("* trial"))
        try cli.ok(["twin", "create", "--bank", bank, "--id", "b", "--kind", "organ", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "pair", "--member", "a", "b"])
        let commit = try cli.ok(["commit", "--bank", bank, "-m", "b on trial"])
        #expect(commit.hasPrefix("[trial "), "\(commit)")

        try cli.ok(["switch", "--bank", bank, "main"])
        #expect(try twins(bank) == ["a"])
        #expect(try cli.run(["aggregate", "show", "--bank", bank, "--id", "pair"]).status != 0)
        try cli.ok(["switch", "--bank", bank, "trial"])
        #expect(try twins(bank) == ["a", "b"])
    }

    @Test func uncommittedChangesAreNamedAndKeptUnlessForced() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "a", "--kind", "person", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["commit", "--bank", bank, "-m", "one"])
        try cli.ok(["branch", "--bank", bank, "trial"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "c", "--kind", "person", "--attr", "birthDate=1980-04-02"])
        let refused = try cli.run(["switch", "--bank", bank, "trial"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("uncommitted") && refused.stderr.contains("added twin/c"), "\(refused.stderr)")
        #expect(try twins(bank) == ["a", "c"])
        #expect(try cli.ok(["branch", "--bank", bank]).contains("* main"))

        let forced = try cli.ok(["switch", "--bank", bank, "trial", "--force"])
        #expect(forced.contains("discarded uncommitted change: added twin/c"), "\(forced)")
        #expect(forced.contains("reference discarded/main@"), "\(forced)")
        #expect(try twins(bank) == ["a"])
    }

    @Test func unknownBranchesAreNamed() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        let r = try cli.run(["switch", "--bank", bank, "nope"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown branch 'nope'"), "\(r.stderr)")
        let b = try cli.run(["branch", "--bank", bank, "trial"])
        #expect(b.status != 0)
        #expect(b.stderr.contains("no commits yet"), "\(b.stderr)")
    }

    @Test func aCompositeTwinTravelsWithItsPartsAndItsHistory() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let other = dir.appendingPathComponent("other.sqlite").path
        let bundle = dir.appendingPathComponent("alice.bundle").path
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice-heart", "--kind", "organ", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice-liver", "--kind", "organ", "--attr", "birthDate=1980-04-02"])
        try cli.ok(["twin", "create", "--bank", bank, "--id", "alice", "--kind", "person", "--attr", "birthDate=1980-04-02",
                    "--part", "heart=alice-heart", "--part", "liver=alice-liver"])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "alice-heart", "--code", "loinc:8867-4", "--value", "64", "--unit", "/min",
                    "--at", "2024-01-01T07:00:00Z"])
        try cli.ok(["commit", "--bank", bank, "-m", "alice and her organs"])
        let exported = try cli.ok(["export", "--bank", bank, "--twin", "alice", "--out", bundle])
        #expect(exported.contains("3 twin(s)"), "\(exported)")
        try cli.ok(["init", "--bank", other])
        let imported = try cli.ok(["import", "--bank", other, bundle])
        #expect(imported.contains("3 twin(s) created"), "\(imported)")
        #expect(imported.contains("1 commit(s) replayed") && imported.contains("imported:twin:alice"), "\(imported)")
        #expect(try twins(other) == ["alice", "alice-heart", "alice-liver"])
        #expect(try cli.ok(["thread", "query", "--bank", other, "--twin", "alice-heart"]).contains("64"))
        #expect(try cli.ok(["log", "--bank", other, "imported:twin:alice"]).contains("alice and her organs"))
        let again = try cli.ok(["import", "--bank", other, bundle])
        #expect(again.contains("0 commit(s) replayed, 1 already present"), "\(again)")
    }
}
