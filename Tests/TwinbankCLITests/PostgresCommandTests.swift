import Foundation
import Testing
import TwinTesting

/// `--bank postgres://...`: the command on a PostgreSQL bank works as on a file (the server is the one
/// `Scripts/with-postgres` starts; its own database is used, by this suite only).
@Suite(.serialized) struct PostgresCommandTests {
    static let skip = Comment(rawValue: PostgresTestServer.skipMessage)

    @Test(.enabled(if: PostgresTestServer.isAvailable, skip))
    func aPostgresBankWorksLikeAFile() throws {
        let url = try #require(PostgresTestServer.url)
        let keys = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: keys) }
        var cli = CommandRunner()
        cli.environment["TWINBANK_KEYS"] = keys.path
        cli.environment["TWINBANK_ACTOR"] = "alice"

        // init makes the schema in the empty database; a second init is refused and changes nothing
        #expect(try cli.ok(["init", "--bank", url]).contains("initialised bank"))
        let again = try cli.run(["init", "--bank", url])
        #expect(again.status != 0 && again.stderr.contains("already holds a bank"), "\(again.stderr)")
        // migrate: current
        #expect(try cli.ok(["migrate", "--bank", url, "--json"]).contains("\"applied\" : [\n\n  ]") ||
                (try cli.ok(["migrate", "--bank", url])).contains("the schema is current"))

        // twins, threads, as-of, version control through the same commands
        try cli.ok(["twin", "create", "--bank", url, "--id", "p1", "--kind", "person"])
        try cli.ok(["thread", "append", "--bank", url, "--twin", "p1", "--code", "loinc:2339-0", "--value", "90", "--unit", "mg/dL",
                    "--at", "2024-01-03T08:00:00Z"])
        try cli.ok(["thread", "append", "--bank", url, "--twin", "p1", "--code", "loinc:2339-0", "--value", "140", "--unit", "mg/dL",
                    "--at", "2024-01-03T12:00:00Z"])
        // an append retried with its idempotency key appends once and prints the first answer; the key with another value is refused
        let keyed = ["thread", "append", "--bank", url, "--twin", "p1", "--code", "loinc:8867-4", "--value", "72", "--unit", "/min",
                     "--at", "2024-01-03T09:00:00Z", "--idempotency-key", "monitor-7/0900", "--json"]
        let once = try cli.ok(keyed)
        #expect(try cli.ok(keyed) == once)
        var other = keyed
        other[9] = "75"
        let conflict = try cli.run(other)
        #expect(conflict.status != 0 && conflict.stderr.contains("monitor-7/0900"), "\(conflict.stderr) \(other)")
        let asOf = try cli.ok(["thread", "query", "--bank", url, "--twin", "p1", "--as-of", "2024-01-03T10:00:00Z"])
        #expect(asOf.contains("90") && !asOf.contains("140") && asOf.components(separatedBy: "8867-4").count == 2, "\(asOf)")
        try cli.ok(["commit", "--bank", url, "-m", "first"])
        #expect(try cli.ok(["log", "--bank", url]).contains("first"))

        // every access went through the gate into the audit log in the database, signed with the key under TWINBANK_KEYS
        let verified = try cli.ok(["audit", "verify", "--bank", url])
        #expect(verified.contains("verified"), "\(verified)")
        #expect(FileManager.default.fileExists(atPath: keys.path + "/" + (try keyFolder(url)) + ".keys/audit-signing.key"))
        // a backup of the PostgreSQL bank restores into a new file (the keys copied beside it) with the same answers
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let backup = dir.appendingPathComponent("pg.backup").path, file = dir.appendingPathComponent("copy.sqlite").path
        try cli.ok(["backup", "--bank", url, "--out", backup])
        try FileManager.default.copyItem(atPath: keys.path + "/" + (try keyFolder(url)) + ".keys", toPath: file + ".keys")
        try cli.ok(["restore", backup, "--bank", file])
        #expect(try cli.ok(["thread", "query", "--bank", file, "--twin", "p1", "--as-of", "2024-01-03T10:00:00Z"]) == asOf)
        #expect(try cli.ok(["audit", "verify", "--bank", file]).contains("verified"))
        // restoring into the PostgreSQL bank, which holds a bank, is refused
        let into = try cli.run(["restore", backup, "--bank", url])
        #expect(into.status != 0 && into.stderr.contains("already holds a bank"), "\(into.stderr)")

        // the URL's password never shows; a refused connection is a clear error
        let refused = try cli.run(["thread", "query", "--bank", "postgres://nobody:secret@127.0.0.1:1/none", "--twin", "p1"])
        #expect(refused.status != 0 && !refused.stderr.contains("secret") && refused.stderr.contains("127.0.0.1"), "\(refused.stderr)")
    }

    /// `HOST-PORT-DATABASE` of a URL, as the keys folder names it.
    func keyFolder(_ url: String) throws -> String {
        let u = try #require(URLComponents(string: url))
        return "\(u.host ?? "")-\(u.port ?? 5432)-\(u.path.dropFirst())"
    }
}
