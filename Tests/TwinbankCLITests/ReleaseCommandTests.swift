import Foundation
import Testing
import TwinTesting

/// `twinbank release`, `dp` and `representativeness` on a small bank: twelve people with names, street addresses
/// and birth dates; six women born 1980-1984 in ZIP 02110 and six men born 1990-1994 in ZIP 02139.
@Suite struct ReleaseCommandTests {
    let dir: URL
    let bank: String
    let cli = CommandRunner()

    init() throws {
        (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        for i in 0..<12 {
            let woman = i < 6
            try cli.ok(["twin", "create", "--bank", bank, "--id", "p\(i)", "--kind", "person",
                        "--attr", "name=Person Number\(i) Smithson",
                        "--attr", "birthDate=\(woman ? 1980 + i % 5 : 1990 + i % 5)-0\(1 + i % 9)-1\(i % 10)",
                        "--attr", "sex=\(woman ? "female" : "male")",
                        "--attr", "address=text:\(100 + i) Elm Street, Boston, MA, \(woman ? "02110" : "02139"), US"])
        }
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "all", "--where", "kind = person"])
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", "women", "--where", "kind = person and sex = female"])
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @Test func releasesAKAnonymousCSVWithoutIdentifiersAndNeverOverwritesSilently() throws {
        let out = path("release.csv")
        let text = try cli.ok(["release", "--bank", bank, "--aggregate", "all", "--k", "3", "--out", out])
        #expect(text.contains("before: 12 records") && text.contains("after:"))
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "id,birthYear,sex,zip3")
        #expect(lines.count >= 12 - 0 && lines.count <= 13)
        // the id column holds keyed pseudonyms (32 hex digits, random per bank: a secret's digits may turn up in one by
        // chance), never a twin id; the other columns hold none of the identifiers
        let ids = lines.dropFirst().map { $0.prefix { $0 != "," } }
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) }, "\(ids)")
        let released = lines.dropFirst().map { $0.drop { $0 != "," } }.joined(separator: "\n")
        for secret in ["Smithson", "Elm Street", "Boston", "p0", "-01-1", "0211", "0213"] {
            #expect(!released.contains(secret), "'\(secret)' is in the release")
        }
        // every class of (birthYear, sex, zip3) has at least 3 rows
        let classes = Dictionary(grouping: lines.dropFirst(), by: { $0.split(separator: ",").dropFirst().joined(separator: ",") })
        #expect(classes.values.allSatisfy { $0.count >= 3 })
        // the key file is owner-only, beside the bank
        let key = bank + ".keys/pseudonym.key"
        let mode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        // an existing output is refused without --force and left as it was
        let again = try cli.run(["release", "--bank", bank, "--aggregate", "all", "--k", "3", "--out", out])
        #expect(again.status != 0 && again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == csv)
        // with --force it is replaced, and the same people get the same pseudonyms (same key)
        try cli.ok(["release", "--bank", bank, "--aggregate", "all", "--k", "3", "--out", out, "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == csv)
    }

    @Test func writesAFHIRBundleAndReportsAsJSON() throws {
        let out = path("release.json")
        let report = try cli.ok(["release", "--bank", bank, "--aggregate", "all", "--k", "6", "--out", out, "--json"])
        let r = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        #expect((r["after"] as? [String: Any])?["smallestClass"] as? Int ?? 0 >= 6)
        #expect((r["before"] as? [String: Any])?["unique"] as? Int == 8, "1980 and 1991 have two people each")
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(bundle["resourceType"] as? String == "Bundle")
        #expect((bundle["entry"] as? [Any])?.count == 12)
        #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("Smithson"))
        // with the clinical records: a FHIR Bundle only
        let csv = try cli.run(["release", "--bank", bank, "--aggregate", "all", "--k", "6", "--out", path("records.csv"), "--records"])
        #expect(csv.status != 0 && csv.stderr.contains("records.csv") && !FileManager.default.fileExists(atPath: path("records.csv")))
        let records = try cli.ok(["release", "--bank", bank, "--aggregate", "all", "--k", "6", "--out", path("records.json"), "--records"])
        #expect(records.contains("FHIR resources with their clinical records"), "\(records)")
        #expect(try cli.ok(["fhir", "validate", path("records.json")]).contains(": valid"))
    }

    @Test func aKeyFileOthersCanReadIsRefusedAndNothingIsWritten() throws {
        let key = path("shared.key")
        _ = FileManager.default.createFile(atPath: key, contents: Data(repeating: 9, count: 32), attributes: [.posixPermissions: 0o644])
        let out = path("never.csv")
        let r = try cli.run(["release", "--bank", bank, "--aggregate", "all", "--k", "3", "--out", out, "--key-file", key])
        #expect(r.status != 0 && r.stderr.contains(key) && r.stderr.contains("chmod 600"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func dpQueriesSpendTheBudgetAndTheExcessIsRefused() throws {
        // the askers are public-health officers of the bank (given their role by its owner, who made it), asking for
        // public health; everyone else is refused by the decision point before any budget is read
        for officer in ["dr.lee", "dr.kim", "dr.wu"] { _ = try cli.ok(["policy", "set-role", "--bank", bank, officer, "public-health-officer"]) }
        // the default policy lets officers aggregate and query, not read members one by one, which the queries do
        // today (a gap: an aggregate-only path for releases is not built yet), so the owner grants it
        // the default policy is enough: officers compute over the cohort (`aggregate`) without reading anyone's record
        #expect(try cli.run(["thread", "query", "--bank", bank, "--twin", "p0", "--actor", "dr.lee", "--purpose", "public-health"]).status != 0)
        let stranger = try cli.run(["dp", "count", "--bank", bank, "--aggregate", "all", "--epsilon", "0.1", "--actor", "mallory", "--purpose", "public-health"])
        #expect(stranger.status != 0 && stranger.stderr.contains("mallory"), "\(stranger.stderr)")
        let first = try cli.ok(["dp", "count", "--bank", bank, "--aggregate", "all", "--epsilon", "0.6", "--actor", "dr.lee", "--purpose", "public-health", "--json"])
        let a = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(a["value"] as? Int != nil)
        #expect(((a["budget"] as? [String: Any])?["remaining"] as? Double).map { abs($0 - 0.4) < 1e-9 } == true)
        let refused = try cli.run(["dp", "histogram", "--bank", bank, "--aggregate", "all", "--epsilon", "0.6", "--actor", "dr.lee", "--purpose", "public-health", "--by", "sex"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("dr.lee") && refused.stderr.contains("'all'") && refused.stderr.contains("0.4 remains"))
        // another actor has a budget of their own
        let other = try cli.ok(["dp", "histogram", "--bank", bank, "--aggregate", "all", "--epsilon", "0.6", "--actor", "dr.kim", "--purpose", "public-health", "--by", "sex"])
        #expect(other.contains("female:") && other.contains("(other):") && other.contains("0.4 remains"))
        let sum = try cli.ok(["dp", "sum", "--bank", bank, "--aggregate", "all", "--epsilon", "0.4", "--actor", "dr.kim", "--purpose", "public-health", "--value", "age", "--lower", "0", "--upper", "100"])
        #expect(sum.contains("sum age [0, 100]:") && sum.contains("0.0 remains"))
        // --where restricts the members counted; a bad expression is refused and costs nothing
        let women = try cli.ok(["dp", "count", "--bank", bank, "--aggregate", "all", "--where", "sex = female", "--epsilon", "0.5", "--actor", "dr.wu", "--purpose", "public-health"])
        #expect(women.contains("count where sex = female:") && women.contains("0.5 remains"))
        let bad = try cli.run(["dp", "count", "--bank", bank, "--aggregate", "all", "--where", "colour = blue", "--epsilon", "0.5", "--actor", "dr.wu", "--purpose", "public-health"])
        #expect(bad.status != 0 && bad.stderr.contains("colour"))
        let after = try cli.ok(["dp", "count", "--bank", bank, "--aggregate", "all", "--epsilon", "0.5", "--actor", "dr.wu", "--purpose", "public-health"])
        #expect(after.contains("0.0 remains"))
    }

    @Test func representativenessFlagsAnAbsentGroup() throws {
        let text = try cli.ok(["representativeness", "--bank", bank, "--aggregate", "women", "--reference", "all"])
        let male = try #require(text.split(separator: "\n").first { $0.hasPrefix("sex") && $0.contains("male") && !$0.contains("female") })
        #expect(male.hasSuffix("absent"))
        let json = try cli.ok(["representativeness", "--bank", bank, "--aggregate", "all", "--reference", "all", "--json"])
        let r = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((r["groups"] as? [[String: Any]])?.allSatisfy { $0["flag"] as? String == "ok" } == true)
        let bad = path("bad.csv")
        try "attribute,value,share\nsex,female,1.7\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try cli.run(["representativeness", "--bank", bank, "--aggregate", "all", "--marginals", bad])
        #expect(refused.status != 0 && refused.stderr.contains("1.7") && refused.stderr.contains("line 2"))
    }
}
