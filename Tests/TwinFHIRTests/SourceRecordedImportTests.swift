import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR

/// Issue 23, item 3 for FHIR: an imported event keeps the time its source recorded it
/// (`Provenance.sourceRecorded`): Observation.issued, Condition.recordedDate, Immunization.recorded, ...,
/// else meta.lastUpdated. The bank's own recorded time stays when this bank learnt it.
@Suite struct SourceRecordedImportTests {
    static let bundle = #"""
    {"resourceType": "Bundle", "type": "transaction", "entry": [
      {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
      {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "id": "o1", "status": "final", "meta": {"lastUpdated": "2021-01-01T00:00:00Z"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "urn:uuid:p1"},
        "effectiveDateTime": "2020-01-01T10:00:00Z", "issued": "2020-01-01T12:30:00.5+01:00",
        "valueQuantity": {"value": 100, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "id": "o2", "status": "final", "meta": {"lastUpdated": "2020-02-03T04:05:06Z"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}, "subject": {"reference": "urn:uuid:p1"},
        "effectiveDateTime": "2020-02-01T10:00:00Z",
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                      {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 80, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]},
       "request": {"method": "POST", "url": "Observation"}},
      {"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "urn:uuid:p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}, "onsetDateTime": "2019-05-01", "recordedDate": "2019-06-01T08:00:00Z"},
       "request": {"method": "POST", "url": "Condition"}},
      {"fullUrl": "urn:uuid:i1", "resource": {"resourceType": "Immunization", "id": "i1", "status": "completed", "patient": {"reference": "urn:uuid:p1"},
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]}, "occurrenceDateTime": "2019-10-01", "recorded": "2019-10-02"},
       "request": {"method": "POST", "url": "Immunization"}},
      {"fullUrl": "urn:uuid:e1", "resource": {"resourceType": "Encounter", "id": "e1", "status": "finished", "subject": {"reference": "urn:uuid:p1"},
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "period": {"start": "2019-10-01T09:00:00Z"}},
       "request": {"method": "POST", "url": "Encounter"}}]}
    """#

    static func sourceTimes(_ bank: Bank) throws -> [String: String?] {
        var out: [String: String?] = [:]
        for e in try bank.events(ThreadQuery(twin: "p1")) { out[e.code.code] = e.provenance.sourceRecorded?.iso8601 }
        return out
    }

    @Test func eachResourceKeepsItsSourcesRecordedTime() throws {
        let bank = Bank(storage: MemoryStorage())
        let report = try FHIRImporter(bank: bank).importResource(try JSONReader().read(Self.bundle), origin: "t")
        #expect(report.issues.isEmpty)
        let times = try Self.sourceTimes(bank)
        #expect(times["2339-0"] == .some("2020-01-01T11:30:00.500Z"))       // Observation.issued (not meta.lastUpdated)
        #expect(times["8480-6"] == .some("2020-02-03T04:05:06Z"))         // no issued: meta.lastUpdated, every component
        #expect(times["8462-4"] == .some("2020-02-03T04:05:06Z"))
        #expect(times["44054006"] == .some("2019-06-01T08:00:00Z"))       // Condition.recordedDate
        #expect(times["140"] == .some("2019-10-02T00:00:00Z"))            // Immunization.recorded
        #expect(times["AMB"] == nil || times.values.contains(nil))         // Encounter: nothing to say
        // this bank's recorded time is when it learnt it, not the source's
        #expect(try bank.events(ThreadQuery(twin: "p1")).allSatisfy { $0.recorded > t2("2025-01-01T00:00:00Z") })
        // the library filters on it
        let before2020 = try bank.events(ThreadQuery(twin: "p1", sourceRecordedTo: t2("2019-12-31T00:00:00Z")))
        #expect(Set(before2020.map(\.code.code)) == ["44054006", "140"])
    }

    /// Re-importing adds nothing (the source time is not content), and a FHIR export writes it back where the
    /// type keeps it, so export and re-import give the same source times.
    @Test func reimportAndExportRoundTrip() throws {
        let bank = Bank(storage: MemoryStorage())
        _ = try FHIRImporter(bank: bank).importResource(try JSONReader().read(Self.bundle), origin: "t")
        let again = try FHIRImporter(bank: bank).importResource(try JSONReader().read(Self.bundle), origin: "t")
        #expect(again.eventsAppended == 0)
        let exported = try FHIRExporter(bank: bank).bundle(twin: "p1")
        #expect(Validator().validate(exported).isEmpty)
        let fresh = Bank(storage: MemoryStorage())
        _ = try FHIRImporter(bank: fresh).importResource(try JSONReader().read(JSONWriter().write(exported)), origin: "t")
        #expect(try Self.sourceTimes(fresh) == Self.sourceTimes(bank))
        #expect(try fresh.events(ThreadQuery(twin: "p1")).map(\.id) == bank.events(ThreadQuery(twin: "p1")).map(\.id))
    }

    /// FHIR allows a leap second (`23:59:60`): read as the next minute's first instant, never a refusal.
    @Test func aLeapSecondIsRead() {
        #expect(FHIRTime.instant("2016-12-31T23:59:60Z") == t2("2017-01-01T00:00:00Z"))
        #expect(FHIRTime.instant("2016-12-31T23:59:60.5+00:00") == t2("2017-01-01T00:00:00.5Z"))
        #expect(FHIRTime.instant("2016-12-31T23:59:61Z") == nil)
    }

    func t2(_ s: String) -> Instant { try! Instant(parsing: s) }
}
