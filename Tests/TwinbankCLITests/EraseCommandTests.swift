import Foundation
import Testing
import TwinTesting

/// `twinbank erase`: the right to erasure from the command line.
@Suite(.serialized) struct EraseCommandTests {
    let cli = CommandRunner()

    @Test func eraseReportsWhatWasRemovedAndTheTwinIsGone() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        func ok(_ args: [String]) throws -> String { try cli.ok(args + ["--bank", bank, "--actor", "alice"]) }
        _ = try ok(["init"])
        _ = try ok(["twin", "create", "--id", "p1", "--kind", "person", "--attr", "name=QZXCLI7790"])
        _ = try ok(["twin", "create", "--id", "p2", "--kind", "person"])
        _ = try ok(["thread", "append", "--twin", "p1", "--code", "loinc:2339-0", "--value", "123.456", "--unit", "mg/dL", "--at", "2024-01-01T08:00:00Z",
                    "--source", "device:QZXSRC7791"])
        _ = try ok(["fork", "--twin", "p1", "--at", "2024-01-02T00:00:00Z", "--name", "p1-what-if"])
        _ = try ok(["aggregate", "create", "--id", "study", "--member", "p1", "--member", "p2"])
        _ = try ok(["commit", "-m", "first"])

        // a dry run says what would go and changes nothing
        let dry = try ok(["erase", "--twin", "p1", "--reason", "request 7", "--dry-run"])
        #expect(dry.contains("would erase p1") && dry.contains("nothing changed"))
        #expect(try ok(["twin", "list"]).contains("p1"))

        let text = try ok(["erase", "--twin", "p1", "--reason", "request 7"])
        #expect(text.contains("erased p1: request 7"))
        #expect(text.contains("p1 (requested): 1 event(s) purged"))
        #expect(text.contains("p1-what-if (fork of p1)"))
        #expect(text.contains("aggregates changed: study"))
        #expect(text.contains("write-ahead log emptied: yes"))

        let list = try ok(["twin", "list"])
        #expect(!list.contains("p1") && list.contains("p2"))
        let query = try cli.run(["thread", "query", "--twin", "p1", "--bank", bank, "--actor", "alice"])
        #expect(query.status != 0 && query.stderr.contains("'p1' was erased") && query.stderr.contains("request 7"))
        let again = try cli.run(["twin", "create", "--id", "p1", "--kind", "person", "--bank", bank, "--actor", "alice"])
        #expect(again.status != 0 && again.stderr.contains("erased"))
        #expect(try ok(["aggregate", "show", "--id", "study"]).contains("p2"))
        // an old commit shows the tombstone
        let old = try ok(["twin", "show", "--id", "p1", "--at", "HEAD"])
        #expect(old.contains("tombstone of an erased twin") && !old.contains("QZXCLI7790"))
        #expect(try cli.ok(["audit", "verify", "--bank", bank]).contains("audit log verified"))
        // no byte of the name or the source is left in the files
        for file in [bank, bank + "-wal", bank + "-shm"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            #expect(bytes.range(of: Data("QZXCLI7790".utf8)) == nil && bytes.range(of: Data("QZXSRC7791".utf8)) == nil, "\(file)")
        }

        // --json: the report
        let second = try cli.run(["erase", "--twin", "p2", "--reason", "request 8", "--json", "--bank", bank, "--actor", "alice"])
        #expect(second.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect(json["twin"] as? String == "p2" && json["reason"] as? String == "request 8" && json["dryRun"] as? Bool == false)
        #expect((json["twins"] as? [[String: Any]])?.first?["why"] as? String == "requested")
        #expect((json["physical"] as? [String: Any])?["walTruncated"] as? Bool == true)
    }
}
