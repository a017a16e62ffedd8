import Foundation
import Testing
import TwinTesting

/// Issue 23, items 1 and 2 at the command: `twinbank fhir import` imports a bundle with odd values, prints a
/// data-quality summary line, writes `--report FILE` (JSON with an OperationOutcome, refused when the file
/// exists unless `--force`), and `--strict` refuses the whole bundle as before.
@Suite("twinbank fhir import: data quality and the import report")
struct FHIRImportReportTests {
    let cli = CommandRunner()

    /// A transaction for patient p1: a pH in `pH`, a heart rate in `furlongs` (set aside), a heart rate of
    /// 1000 /min (flagged) and a glucose reading.
    static let bundle = #"""
    {"resourceType": "Bundle", "type": "transaction", "entry": [
      {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
      {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2744-1"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01T10:00:00Z", "valueQuantity": {"value": 7.4, "unit": "pH"}}, "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-02T10:00:00Z", "valueQuantity": {"value": 60, "unit": "furlongs"}}, "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:o3", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-03T10:00:00Z", "valueQuantity": {"value": 1000, "system": "http://unitsofmeasure.org", "code": "/min"}}, "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:o4", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-04T10:00:00Z", "valueQuantity": {"value": 100, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "request": {"method": "POST", "url": "Observation"}}]}
    """#

    func setUp() throws -> (dir: URL, bank: String, file: String) {
        let (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        let file = dir.appendingPathComponent("p1.json")
        try Data(Self.bundle.utf8).write(to: file)
        return (dir, bank, file.path)
    }

    @Test func importWritesTheReportAndASummaryLine() throws {
        let (dir, bank, file) = try setUp()
        let report = dir.appendingPathComponent("report.json").path
        let out = try cli.ok(["fhir", "import", "--bank", bank, file, "--report", report])
        #expect(out.contains("data quality: 3 event(s) imported, 1 flagged, 1 set aside (1 patient(s))"))
        #expect(out.contains("report written to \(report)"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let p1 = try #require((json["patients"] as? [String: Any])?["p1"] as? [String: Any])
        #expect(p1["imported"] as? Int == 3)
        #expect(p1["flagged"] as? Int == 1)
        #expect(p1["setAside"] as? Int == 1)
        let issues = try #require(p1["issues"] as? [[String: Any]])
        let aside = try #require(issues.first { $0["disposition"] as? String == "set-aside" })
        #expect(aside["entry"] as? String == "urn:uuid:o2")
        #expect(aside["path"] as? String == "Bundle.entry[2].resource.valueQuantity.code")
        #expect((aside["reason"] as? String)?.contains("furlongs") == true)
        #expect(issues.contains { $0["disposition"] as? String == "flagged" && $0["entry"] as? String == "urn:uuid:o3" })
        let outcome = try #require(json["operationOutcome"] as? [String: Any])
        #expect(outcome["resourceType"] as? String == "OperationOutcome")
        #expect((outcome["issue"] as? [Any])?.count == 3)
        // the thread: the pH in UCUM, the flagged heart rate kept but marked, the odd one absent
        let thread = try cli.ok(["thread", "query", "--bank", bank, "--twin", "p1"])
        #expect(thread.contains("[pH]"))
        #expect(thread.contains("(implausible)"))
        #expect(!thread.contains("furlongs"))
        // an existing report is refused (nothing imported twice matters here: the file is left as it was)
        let before = try Data(contentsOf: URL(fileURLWithPath: report))
        let again = try cli.run(["fhir", "import", "--bank", bank, file, "--report", report])
        #expect(again.status != 0)
        #expect(again.stderr.contains(report))
        #expect(try Data(contentsOf: URL(fileURLWithPath: report)) == before)
        // --force replaces it: a re-import adds nothing and sets aside the same value again
        let forced = try cli.ok(["fhir", "import", "--bank", bank, file, "--report", report, "--force"])
        #expect(forced.contains("3 already present"))
        #expect(forced.contains("data quality: 0 event(s) imported, 0 flagged, 1 set aside"))
    }

    @Test func strictRefusesTheWholeBundleAsBefore() throws {
        let (_, bank, file) = try setUp()
        let out = try cli.run(["fhir", "import", "--bank", bank, file, "--strict"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("furlongs"))
        let twins = try cli.ok(["twin", "list", "--bank", bank])
        #expect(!twins.contains("p1"))
    }

    @Test func theSummaryLineIsPrintedWithoutAReport() throws {
        let (_, bank, file) = try setUp()
        let out = try cli.ok(["fhir", "import", "--bank", bank, file])
        #expect(out.contains("data quality: 3 event(s) imported, 1 flagged, 1 set aside (1 patient(s)); --report FILE lists them"))
    }
}

/// Without `--strict`, one refused bundle (invalid FHIR) does not keep the other files' patients out: it is
/// named, the others import, the exit status is 1. With `--strict` the import stops at it, as before.
@Suite("twinbank fhir import: a refused file among many")
struct FHIRImportRefusedFileTests {
    let cli = CommandRunner()

    static func patient(_ id: String, subject: String) -> String {
        #"""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:\#(id)", "resource": {"resourceType": "Patient", "id": "\#(id)", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o-\#(id)", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
            "subject": {"reference": "\#(subject)"}, "effectiveDateTime": "2020-01-04T10:00:00Z", "valueQuantity": {"value": 100, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "request": {"method": "POST", "url": "Observation"}}]}
        """#
    }

    @Test(arguments: [false, true])
    func theOtherFilesImport(strict: Bool) throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        let folder = dir.appendingPathComponent("bundles")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(Self.patient("a1", subject: "urn:uuid:nobody").utf8).write(to: folder.appendingPathComponent("a.json"))   // a broken reference
        try Data(Self.patient("b1", subject: "urn:uuid:b1").utf8).write(to: folder.appendingPathComponent("b.json"))
        let out = try cli.run(["fhir", "import", "--bank", bank, folder.path] + (strict ? ["--strict"] : []))
        #expect(out.status != 0)
        #expect(out.stderr.contains("a.json") && out.stderr.contains("urn:uuid:nobody"), "\(out.stderr)")
        let twins = try cli.ok(["twin", "list", "--bank", bank])
        #expect(!twins.contains("a1"))
        #expect(twins.contains("b1") == !strict, "\(twins)")
        if !strict { #expect(out.stdout.contains("1 file(s) refused whole")) }
    }
}
