import Foundation
import Testing
import TwinTesting

/// `aggregate create --where` on a bank imported from Synthea FHIR bundles, as a user would (issue 22,
/// defect 4): the README's own example finds the women, `age` is derived, and a query that would find nobody
/// for a wrong reason is refused naming the reason.
@Suite("twinbank aggregate create: queries on a FHIR-imported bank",
       .enabled(if: SharedFolder.has("data/synthea"), "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
struct AggregateQueryCommandTests {
    /// Five Synthea patients: two women (born 1981 and 1996), three men (born 1975, 1994, and 1946, died 1989
    /// at 42). Body weights are in kg; only the 1994 man has an HbA1c (5.9 %).
    static let bundles = ["Dannie_Schmitt", "Carin_Kerluke", "Chauncey_Johnston", "Matt_Mosciski", "Tony_Beer"]

    let dir: URL
    let bank: String
    let cli = CommandRunner()
    /// Twin id by bundle name (the Patient's id).
    var twin: [String: String] = [:]

    init() throws {
        (dir, bank) = try CommandRunner.temporaryBank()
        let folder = SharedFolder.data("synthea")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        var files: [String] = []
        for b in Self.bundles {
            let name = try #require(names.first { $0.hasPrefix(b + "_") }, "no Synthea bundle \(b) in \(folder.path)")
            let url = folder.appendingPathComponent(name)
            files.append(url.path)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            let entries = json?["entry"] as? [[String: Any]] ?? []
            let patient = entries.compactMap { $0["resource"] as? [String: Any] }.first { $0["resourceType"] as? String == "Patient" }
            twin[b] = try #require(patient?["id"] as? String)
        }
        try cli.ok(["init", "--bank", bank])
        try cli.ok(["fhir", "import", "--bank", bank] + files)
    }

    func create(_ id: String, _ query: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try cli.ok(["aggregate", "create", "--bank", bank, "--id", id, "--where", query] + extra, sourceLocation: sourceLocation)
    }

    func members(_ id: String) throws -> Set<String> {
        let text = try cli.ok(["aggregate", "show", "--bank", bank, "--id", id, "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return Set(json?["members"] as? [String] ?? ["<no members key>"])
    }

    func ids(_ bundles: String...) -> Set<String> { Set(bundles.map { twin[$0]! }) }

    /// Runs a command that must fail; returns its error output.
    func fails(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let out = try cli.run(args)
        #expect(out.status != 0, "\(args.joined(separator: " ")) should have failed, printed: \(out.stdout)", sourceLocation: sourceLocation)
        return out.stderr
    }

    @Test func theREADMEExampleAndAgeFindTheirPatients() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let women = try create("women", "kind = person and sex = female")
        // the organisation twins the import made have no sex: not members, and not counted as unknown
        #expect(women.contains("created aggregate women with 2 member(s)") && !women.contains("unknown"), "\(women)")
        #expect(try members("women") == ids("Dannie_Schmitt", "Carin_Kerluke"))
        _ = try create("women-g", "gender = female")
        #expect(try members("women-g") == ids("Dannie_Schmitt", "Carin_Kerluke"))
        // age in whole years now (the man who died in 1989 was 42); birth year
        let over40 = try create("over-40", "age > 40")
        #expect(!over40.contains("unknown"), "\(over40)")
        #expect(try members("over-40") == ids("Dannie_Schmitt", "Chauncey_Johnston", "Tony_Beer"))
        _ = try create("born-before-1980", "birthYear < 1980")
        #expect(try members("born-before-1980") == ids("Chauncey_Johnston", "Tony_Beer"))
        // with its unit, a code comparison finds its patients
        _ = try create("heavy", "loinc:29463-7 > 85 kg")
        #expect(try members("heavy") == ids("Chauncey_Johnston", "Matt_Mosciski", "Tony_Beer"))
        // the README's cohort: nobody has HbA1c above 6.5 %, and the four without one are counted as unknown
        let a1c = try create("women-a1c", "kind = person and sex = female and loinc:4548-4 > 6.5 % within 3650d")
        #expect(a1c.contains("with 0 member(s)") && a1c.contains("2 twin(s) unknown, not members: no value for loinc:4548-4 (2)"), "\(a1c)")
        let shown = try cli.ok(["aggregate", "show", "--bank", bank, "--id", "women-a1c", "--json"])
        let unknown = (try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])?["unknown"] as? [[String: Any]]
        #expect(Set(unknown?.compactMap { $0["twin"] as? String } ?? []) == ids("Dannie_Schmitt", "Carin_Kerluke"))
    }

    @Test func queriesThatWouldFindNobodyAreRefusedNamingWhy() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let attr = try fails(["aggregate", "create", "--bank", bank, "--id", "x", "--where", "religion = quaker"])
        #expect(attr.contains("no twin has attribute 'religion'") && attr.contains("attributes in this bank: address, birthDate,")
                && attr.contains("gender") && attr.contains("derived: age, birthYear"), "\(attr)")
        let derived = try fails(["aggregate", "create", "--bank", bank, "--id", "x", "--where", "bmi > 30"])
        #expect(derived.contains("no twin has attribute 'bmi'"), "\(derived)")
        let unit = try fails(["aggregate", "create", "--bank", bank, "--id", "x", "--where", "loinc:29463-7 > 80"])
        #expect(unit.contains("'loinc:29463-7 > 80' has no unit") && unit.contains("'kg'"), "\(unit)")
        let code = try fails(["aggregate", "create", "--bank", bank, "--id", "x", "--where", "loinc:99999-9 > 1 mg/dL"])
        #expect(code.contains("no twin has any value of loinc:99999-9"), "\(code)")
        // nothing was written
        let none = try fails(["aggregate", "show", "--bank", bank, "--id", "x"])
        #expect(none.contains("unknown aggregate 'x'"), "\(none)")
    }

    @Test func anExistingIDIsRefusedUnlessReplacedAndForksAreLeftOut() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try create("cohort", "sex = female")
        let again = try fails(["aggregate", "create", "--bank", bank, "--id", "cohort", "--where", "sex = male"])
        #expect(again.contains("aggregate 'cohort' already exists (where sex = female)") && again.contains("--replace"), "\(again)")
        #expect(try members("cohort") == ids("Dannie_Schmitt", "Carin_Kerluke"))
        let replaced = try create("cohort", "sex = male", ["--replace"])
        #expect(replaced.contains("replaced aggregate cohort with 3 member(s)"), "\(replaced)")

        // a what-if fork of a woman is not a member of a population query unless asked for
        try cli.ok(["fork", "--bank", bank, "--twin", twin["Dannie_Schmitt"]!, "--at", "2021-06-01T00:00:00Z", "--name", "dannie-what-if"])
        let women = try create("women", "sex = female")
        #expect(women.contains("with 2 member(s)") && women.contains("1 fork(s) or comparison instance(s) not counted"), "\(women)")
        #expect(try members("women") == ids("Dannie_Schmitt", "Carin_Kerluke"))
        _ = try create("women-and-forks", "sex = female", ["--include-forks"])
        #expect(try members("women-and-forks") == ids("Dannie_Schmitt", "Carin_Kerluke").union(["dannie-what-if"]))
        let misuse = try fails(["aggregate", "create", "--bank", bank, "--id", "y", "--member", "dannie-what-if", "--include-forks"])
        #expect(misuse.contains("--include-forks applies to --where"), "\(misuse)")
    }
}
