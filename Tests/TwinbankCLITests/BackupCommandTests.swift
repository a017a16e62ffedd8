import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting

/// `twinbank backup` and `twinbank restore`: a bank backed up, restored into a new file, answers the same and its
/// audit log verifies; existing paths and damaged backups are refused with nothing written.
@Suite struct BackupCommandTests {
    let cli = CommandRunner()

    /// Copies a bank's keys folder beside another bank path, owner-only as the key files require.
    static func copyKeys(from bank: String, to newBank: String) throws {
        let fm = FileManager.default
        try fm.copyItem(atPath: bank + ".keys", toPath: newBank + ".keys")
        chmod(newBank + ".keys", 0o700)
        for name in try fm.contentsOfDirectory(atPath: newBank + ".keys") {
            chmod(newBank + ".keys/" + name, name.hasSuffix(".pub") ? 0o644 : 0o600)
        }
    }

    @Test func backupThenRestoreAnswersTheSame() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        func on(_ b: String, _ args: [String]) throws -> String { try cli.ok(args + ["--bank", b]) }
        try on(bank, ["init"])
        try on(bank, ["twin", "create", "--id", "p1", "--kind", "person", "--attr", "sex=female"])
        try on(bank, ["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "100", "--unit", "mg/dL", "--at", "2024-01-01T08:00:00Z"])
        Thread.sleep(forTimeInterval: 0.01)
        let knownAt = Instant(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000)).iso8601
        Thread.sleep(forTimeInterval: 0.01)
        try on(bank, ["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "140", "--unit", "mg/dL", "--at", "2024-01-02T08:00:00Z"])
        try on(bank, ["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "120", "--unit", "mg/dL", "--at", "2024-01-03T08:00:00Z"])
        try on(bank, ["retract", "--event", "2", "--reason", "wrong"])
        try on(bank, ["fork", "--twin", "p1", "--at", "2024-01-02T12:00:00Z", "--name", "p1-what-if"])
        try on(bank, ["aggregate", "create", "--id", "women", "--where", "sex = female"])
        try on(bank, ["commit", "-m", "first"])

        // a server's job record (`twinbank serve` keeps its jobs in the bank's `server_jobs`)
        let job = JobRecord(id: "job-1", ordinal: 1, bytes: Array(#"{"state":"finished"}"#.utf8))
        try SQLiteJobRecordStore(try SQLiteStorage(path: bank, create: false)).save([job])

        let file = dir.appendingPathComponent("bank.backup").path
        let written = try JSONSerialization.jsonObject(with: Data(try on(bank, ["backup", "--out", file, "--json"]).utf8)) as? [String: Any]
        let counts = try #require(written?["counts"] as? [String: Any])
        #expect(counts["events"] as? Int == 4 && (counts["attachments"] as? [String: Int])?["audit", default: 0] ?? 0 > 0, "\(counts)")
        #expect((counts["attachments"] as? [String: Int])?["jobs"] == 1, "\(counts)")
        // an existing file is refused and kept
        let again = try cli.run(["backup", "--out", file, "--bank", bank])
        #expect(again.status != 0 && again.stderr.contains("exists") && !again.stderr.contains("--force"), "\(again.stderr)")

        let restored = dir.appendingPathComponent("restored.sqlite").path
        // without the source's audit key beside it, refused, and nothing made
        let noKey = try cli.run(["restore", file, "--bank", restored])
        #expect(noKey.status != 0 && noKey.stderr.contains(bank + ".keys"), "\(noKey.stderr)")
        #expect(!FileManager.default.fileExists(atPath: restored) && !FileManager.default.fileExists(atPath: restored + ".keys"))
        try Self.copyKeys(from: bank, to: restored)
        #expect(try cli.ok(["restore", file, "--bank", restored]).contains("restored"))
        #expect(try cli.ok(["audit", "verify", "--bank", restored]).contains("audit log verified"))
        #expect(try SQLiteJobRecordStore(try SQLiteStorage(path: restored, create: false)).records() == [job], "the job record is restored")
        // the restore's own decision is in the restored log
        let log = try JSONSerialization.jsonObject(with: Data(try on(restored, ["audit", "log", "--json"]).utf8)) as? [[String: Any]] ?? []
        #expect(log.contains { $0["action"] as? String == "import" && $0["decision"] as? String == "permit" })

        for query in [["thread", "query", "--twin", "p1", "--include-retracted", "--json"],
                      ["thread", "query", "--twin", "p1", "--as-of", "2024-01-02T12:00:00Z", "--json"],
                      ["thread", "query", "--twin", "p1", "--known-at", knownAt, "--json"],
                      ["thread", "query", "--twin", "p1-what-if", "--json"],
                      ["log", "--json"]] {
            #expect(try on(bank, query) == on(restored, query), "\(query.joined(separator: " "))")
        }
        // the aggregate's members (its answer also says when it was computed)
        let members = { (b: String) throws -> [String] in
            let shown = try JSONSerialization.jsonObject(with: Data(try on(b, ["aggregate", "show", "--id", "women", "--json"]).utf8)) as? [String: Any]
            return shown?["members"] as? [String] ?? []
        }
        #expect(try members(bank) == ["p1"] && members(restored) == ["p1"])
        #expect(try on(restored, ["thread", "query", "--twin", "p1", "--known-at", knownAt]).contains("100"))
        // a restore onto an existing bank is refused and changes nothing
        let size = try FileManager.default.attributesOfItem(atPath: bank)[.size] as? Int
        let onto = try cli.run(["restore", file, "--bank", bank])
        #expect(onto.status != 0 && onto.stderr.contains("exists"), "\(onto.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: bank)[.size] as? Int == size)
    }

    @Test func aDamagedBackupIsRefusedAndNothingIsMade() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["twin", "create", "--id", "p1", "--kind", "person", "--bank", bank])
        try cli.ok(["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "100", "--unit", "mg/dL", "--at", "2024-01-01T08:00:00Z", "--bank", bank])
        let file = dir.appendingPathComponent("bank.backup").path
        try cli.ok(["backup", "--out", file, "--bank", bank])
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let altered = dir.appendingPathComponent("altered.backup").path
        try text.replacingOccurrences(of: "\"value\":100", with: "\"value\":101").write(toFile: altered, atomically: true, encoding: .utf8)
        let truncated = dir.appendingPathComponent("truncated.backup").path
        try String(text.prefix(text.count * 2 / 3)).write(toFile: truncated, atomically: true, encoding: .utf8)
        for (damaged, problem) in [(altered, "was altered"), (truncated, "truncated")] {
            let target = dir.appendingPathComponent("new.sqlite").path
            let out = try cli.run(["restore", damaged, "--bank", target])
            #expect(out.status != 0 && out.stderr.contains(problem) && out.stderr.contains(damaged), "\(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target))
        }
        // only the files this test made are in the folder (no temporary bank left behind)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(names.isSubset(of: ["bank.sqlite", "bank.sqlite-wal", "bank.sqlite-shm", "bank.sqlite.keys", "bank.backup", "altered.backup", "truncated.backup"]), "\(names)")
    }
}
