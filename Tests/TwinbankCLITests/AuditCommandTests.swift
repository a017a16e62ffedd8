import Foundation
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinGovernance
import TwinTesting

/// `twinbank audit ...` over a bank whose log was seeded through the library; the command's own accesses (listing
/// entries, proving one) are appended to it by the gate.
@Suite struct AuditCommandTests {
    let cli = CommandRunner()

    /// A bank with 12 entries signed by the default key beside it.
    func seeded() throws -> (dir: URL, bank: String) {
        let (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        let log = try AuditLog(store: SQLiteAuditStore(SQLiteStorage(path: bank, create: false)),
                               signer: AuditSigner(keyFile: AuditSigner.defaultKeyFile(bank: bank)))
        for i in 0 ..< 12 {
            try log.append(AuditEntry.Draft(actor: "dr-\(i % 2)", role: "clinician", organisation: "ward-7", action: i % 3 == 0 ? "write" : "read",
                                            twin: "p-\(i % 3)", purpose: "care", decision: i == 5 ? .deny : .permit, reason: "rule \(i)"))
        }
        return (dir, bank)
    }

    @Test func anEmptyLogAndAMissingKey() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        #expect(try cli.ok(["audit", "verify", "--bank", bank]).contains("it is empty"))
        #expect(try cli.ok(["audit", "head", "--bank", bank]).contains("empty"))
        // listing the whole log is an access (administer), recorded before the listing
        let listed = try cli.ok(["audit", "log", "--bank", bank])
        #expect(listed.split(separator: "\n").count == 1 && listed.contains("#0 ") && listed.contains("administer"), "\(listed)")
        let (dir2, seededBank) = try seeded()
        defer { try? FileManager.default.removeItem(at: dir2) }
        let noKey = try cli.run(["audit", "verify", "--bank", seededBank, "--public-key", dir.appendingPathComponent("none.pub").path])
        #expect(noKey.status != 0 && noKey.stderr.contains("no public key file"))
        let noBank = try cli.run(["audit", "verify", "--bank", dir.appendingPathComponent("missing.sqlite").path])
        #expect(noBank.status != 0 && noBank.stderr.contains("no bank"))
    }

    @Test func verifyHeadLogAndProve() throws {
        let (dir, bank) = try seeded()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try cli.ok(["audit", "verify", "--bank", bank]).contains("audit log verified: 12 entries, 1 signed head,"))
        let head = try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "head", "--bank", bank, "--json"]).utf8)) as? [String: Any]
        #expect((head?["size"] as? Int) == 12)
        // a twin's accounting of disclosures: its 4 entries, then this reading of them (asked of the gate as `read`)
        let log = try cli.ok(["audit", "log", "--bank", bank, "--twin", "p-2"])
        let lines = log.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(log.contains("#5 ") && log.contains("deny (rule 5)"))
        #expect(lines.last?.contains("#12 ") == true && lines.last?.contains("read p-2") == true && lines.last?.contains("permit") == true, "\(log)")
        let json = try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "log", "--bank", bank, "--json", "--limit", "3"]).utf8)) as? [[String: Any]]
        #expect(json?.map { $0["seq"] as? Int } == [0, 1, 2])
        // a proof saved as JSON checks offline with the public key only
        let proof = try cli.ok(["audit", "prove", "--bank", bank, "--entry", "7", "--json"])
        let file = dir.appendingPathComponent("proof.json").path
        try proof.write(toFile: file, atomically: true, encoding: .utf8)
        let pub = AuditSigner.publicKeyPath(for: AuditSigner.defaultKeyFile(bank: bank))
        #expect(try cli.ok(["audit", "prove", "--verify", file, "--public-key", pub]).contains("proof verified: entry 7 is in the log of 14 entries"))
        let forged = proof.replacingOccurrences(of: "\"rule 7\"", with: "\"rule 8\"")
        #expect(forged != proof)
        try forged.write(toFile: file, atomically: true, encoding: .utf8)
        let out = try cli.run(["audit", "prove", "--verify", file, "--public-key", pub])
        #expect(out.status != 0 && out.stderr.contains("root"))
        #expect(try cli.ok(["audit", "prove", "--bank", bank, "--entry", "3", "--size", "5"]).contains("tree of 5 entries"))
        let bundleFile = dir.appendingPathComponent("audit.json").path
        // p-1's 4 seeded entries, the proof of entry 7 (about p-1) asked as a read of p-1, and this export's own
        #expect(try cli.ok(["audit", "export", "--bank", bank, "--out", bundleFile, "--twin", "p-1"]).contains("wrote 6 AuditEvents"))
        let bundle = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundleFile))) as? [String: Any]
        #expect((bundle?["entry"] as? [Any])?.count == 6)
        #expect(try cli.ok(["fhir", "validate", bundleFile]).contains(": valid"))
        #expect(try cli.run(["audit", "export", "--bank", bank, "--out", bundleFile]).status != 0)  // never overwrites without --force
        let bad = try cli.run(["audit", "prove", "--bank", bank, "--entry", "1000"])
        #expect(bad.status != 0 && bad.stderr.contains("entry 1000"))
    }

    static let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: sqlite3 != nil, "skipped: the sqlite3 tool is not installed (the library tests alter rows through GRDB instead)"))
    func verifyNamesTheAlteredEntry() throws {
        let (dir, bank) = try seeded()
        defer { try? FileManager.default.removeItem(at: dir) }
        // a change made behind the log's back (any SQLite client could do it)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: Self.sqlite3!)
        sqlite.arguments = [bank, "UPDATE audit_entry SET decision = 'permit' WHERE seq = 5"]
        try sqlite.run(); sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0)
        let out = try cli.run(["audit", "verify", "--bank", bank])
        #expect(out.status != 0)
        #expect(out.stderr.contains("audit entry 5"), "\(out.stderr)")
    }
}
