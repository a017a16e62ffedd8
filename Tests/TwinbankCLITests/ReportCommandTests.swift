import Foundation
import Testing
import TwinTesting

/// `twinbank report cases`: a table in, small counts and their complements suppressed out.
@Suite("twinbank command: report cases")
struct ReportCommandTests {
    let cli = CommandRunner()

    @Test func suppressesSmallCountsAndTheirComplements() throws {
        let dir = try CommandRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = dir.appendingPathComponent("cases.csv").path
        try Data("region,w1,w2,w3\nA,10,2,12\nB,8,9,7\nC,6,11,15\n".utf8).write(to: URL(fileURLWithPath: table))
        let out = dir.appendingPathComponent("released.csv").path
        let text = try cli.ok(["report", "cases", "--table", table, "--out", out])
        #expect(text.contains("4 of 16 values (totals included) suppressed"), "\(text)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "group,w1,w2,w3,total\nA,suppressed,suppressed,12,24\nB,suppressed,suppressed,7,24\nC,6,11,15,32\ntotal,24,22,34,80\n")
        let json = dir.appendingPathComponent("released.json").path
        try cli.ok(["report", "cases", "--table", table, "--out", json, "--min-count", "3"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(d["min_count"] as? Int == 3)
        #expect(d["suppressed"] as? Int == 4)
        let bad = try cli.run(["report", "cases", "--table", table, "--out", dir.appendingPathComponent("x.csv").path, "--min-count", "0"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--min-count 0"), "\(bad.stderr)")
        let exists = try cli.run(["report", "cases", "--table", table, "--out", out])
        #expect(exists.status != 0)
    }
}

extension ReportCommandTests {
    @Test func casesByAgeBandFromTheBank() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        try cli.ok(["init", "--bank", bank])
        // six people aged 30 with a case each in one week, one aged 70: 6 is published, 1 is not (nor its complements)
        for i in 0..<7 {
            try cli.ok(["twin", "create", "--bank", bank, "--id", "p\(i)", "--kind", "person", "--attr", "age=\(i < 6 ? 30 : 70)"])
            try cli.ok(["thread", "append", "--bank", bank, "--twin", "p\(i)", "--code", "local:case.confirmed", "--value", "true", "--at", "2026-03-03T10:00:00Z"])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "city", "--where", "kind = person"])
        let out = dir.appendingPathComponent("ages.csv").path
        try cli.ok(["report", "cases", "--bank", bank, "--aggregate", "city", "--by", "age", "--age-bands", "0,18,65", "--out", out])
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        #expect(csv.hasPrefix("age,2026-W10,total\n"), "\(csv)")
        #expect(!csv.contains(",1,") && !csv.contains(",1\n"), "\(csv)")
        #expect(csv.contains("0-17,0,0\n"), "\(csv)")
        #expect(csv.contains("65+,suppressed,suppressed\n"), "\(csv)")
        let bad = try cli.run(["report", "cases", "--bank", bank, "--aggregate", "city", "--by", "age", "--age-bands", "5,18", "--out", dir.appendingPathComponent("x.csv").path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("must start at 0"), "\(bad.stderr)")
    }
}
