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

    /// `twinbank watch --bank postgres://...` in one process sees a `thread append` by another at once (LISTEN/NOTIFY),
    /// well before its next poll (--interval 600), and SIGTERM stops it. On a database of its own, so the bank the other
    /// test makes in the server's database is not touched.
    @Test(.enabled(if: PostgresTestServer.isAvailable, skip))
    func aWatchSeesAnotherProcessesWriteAtOnce() throws {
        let server = try #require(PostgresTestServer.url)
        let name = "twb_watch_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try psql(server, "CREATE DATABASE \(name)")
        defer { try? psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        var parts = try #require(URLComponents(string: server))
        parts.path = "/" + name
        let url = try #require(parts.string)
        let keys = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: keys) }
        var cli = CommandRunner()
        cli.environment["TWINBANK_KEYS"] = keys.path
        cli.environment["TWINBANK_ACTOR"] = "alice"
        try cli.ok(["init", "--bank", url])
        try cli.ok(["twin", "create", "--bank", url, "--id", "pat", "--kind", "person", "--attr", "virtualPatient=adult#001"])
        let reading = { (time: String, value: Int) throws in
            try cli.ok(["thread", "append", "--bank", url, "--twin", "pat", "--code", "loinc:2339-0", "--value", "\(value)", "--unit", "mg/dL",
                        "--at", time, "--source", "device:cgm-1"])
        }
        try reading("2024-01-01T06:00:00Z", 120)

        // the watch, in a process of its own, printing JSON lines as they come
        let watch = try cli.start(["watch", "--bank", url, "--twin", "pat", "--interval", "600", "--json"])
        defer { _ = watch.stop() }

        // it has caught up with the thread once it has written the first reading's forecast
        let deadline = Date().addingTimeInterval(60)
        func predictions() throws -> Int {
            let json = try cli.ok(["thread", "query", "--bank", url, "--twin", "pat", "--category", "prediction", "--json"])
            return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any])?.count ?? 0
        }
        while try predictions() == 0 {
            try #require(Date() < deadline && watch.process.isRunning, "the watch did not process the first reading: \(watch.stop().stderr)")
            Thread.sleep(forTimeInterval: 0.2)
        }
        // another process appends a low reading: the watch alerts within seconds, not at its next poll ten minutes on
        let appended = Date()
        try reading("2024-01-01T06:05:00Z", 50)
        let alerted = watch.wait(seconds: 30) { $0.contains("\"category\":\"alert\"") }
        #expect(alerted && Date().timeIntervalSince(appended) < 30, "no alert printed within 30 s: \(watch.printed)")
        #expect(watch.printed.contains("Low glucose reading"), "\(watch.printed)")
        // SIGTERM: a graceful stop
        let end = watch.stop()
        #expect(end.reason == .exit && end.status == 0, "\(end.reason) \(end.status): \(end.stderr)")
    }

    /// Runs one SQL statement on the server with `psql` (the client `Scripts/with-postgres` servers come with).
    func psql(_ url: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "psql \(sql): \(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
    }

    /// `HOST-PORT-DATABASE` of a URL, as the keys folder names it.
    func keyFolder(_ url: String) throws -> String {
        let u = try #require(URLComponents(string: url))
        return "\(u.host ?? "")-\(u.port ?? 5432)-\(u.path.dropFirst())"
    }
}
