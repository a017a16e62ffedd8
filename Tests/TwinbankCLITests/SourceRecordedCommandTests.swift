import Foundation
import Testing
import TwinTesting

/// Issue 23, item 3 at the command: `thread query` shows the time an imported event's source recorded it (text
/// and `--json`) and selects by it (`--source-recorded-from`, `--source-recorded-to`).
@Suite("twinbank thread query: the source's recorded time")
struct SourceRecordedCommandTests {
    let cli = CommandRunner()

    static let bundle = #"""
    {"resourceType": "Bundle", "type": "transaction", "entry": [
      {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
      {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01T10:00:00Z", "issued": "2020-01-01T12:00:00Z",
        "valueQuantity": {"value": 100, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
        "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2021-01-01T10:00:00Z", "issued": "2021-03-01T00:00:00Z",
        "valueQuantity": {"value": 110, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "request": {"method": "POST", "url": "Observation"}}]}
    """#

    @Test func queryShowsAndSelectsBySourceTime() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        try cli.ok(["init", "--bank", bank])
        let file = dir.appendingPathComponent("p1.json")
        try Data(Self.bundle.utf8).write(to: file)
        try cli.ok(["fhir", "import", "--bank", bank, file.path])
        try cli.ok(["thread", "append", "--bank", bank, "--twin", "p1", "--code", "loinc:2339-0", "--value", "120", "--unit", "mg/dL", "--at", "2022-01-01T10:00:00Z"])
        let text = try cli.ok(["thread", "query", "--bank", bank, "--twin", "p1"])
        #expect(text.contains("(source recorded 2020-01-01T12:00:00Z)"), "\(text)")
        #expect(text.contains("(source recorded 2021-03-01T00:00:00Z)"))
        #expect(text.components(separatedBy: "source recorded").count == 3)   // the appended one has none
        let json = try cli.ok(["thread", "query", "--bank", bank, "--twin", "p1", "--json"])
        let events = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let times = events.map { ($0["provenance"] as? [String: Any])?["sourceRecorded"] as? String }
        #expect(times == ["2020-01-01T12:00:00Z", "2021-03-01T00:00:00Z", nil])
        // selection: the source's time for imported events, this bank's recorded time for the appended one
        let in2021 = try cli.ok(["thread", "query", "--bank", bank, "--twin", "p1", "--source-recorded-from", "2021-01-01", "--source-recorded-to", "2021-12-31", "--json"])
        let selected = try #require(try JSONSerialization.jsonObject(with: Data(in2021.utf8)) as? [[String: Any]])
        #expect(selected.count == 1)
        #expect((selected.first?["value"] as? [String: Any])?["value"] as? Double == 110)
        let recent = try cli.ok(["thread", "query", "--bank", bank, "--twin", "p1", "--source-recorded-from", "2024-01-01"])
        #expect(recent.contains("120") && !recent.contains("source recorded"))
        // bad input names the option and the value; --as-of does not combine with it
        let bad = try cli.run(["thread", "query", "--bank", bank, "--twin", "p1", "--source-recorded-to", "yesterday-ish"])
        #expect(bad.status != 0 && bad.stderr.contains("--source-recorded-to"))
        let asOf = try cli.run(["thread", "query", "--bank", bank, "--twin", "p1", "--as-of", "2022-01-01", "--source-recorded-from", "2020-01-01"])
        #expect(asOf.status != 0 && asOf.stderr.contains("--as-of"))
    }
}
