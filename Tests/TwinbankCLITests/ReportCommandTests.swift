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
