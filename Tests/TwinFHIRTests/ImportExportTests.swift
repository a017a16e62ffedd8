import Foundation
import Testing
import TwinTesting
import TwinBank
import TwinCore
@testable import TwinFHIR

@Suite(.serialized) struct ImportExportTests {
    static let dir = SharedData.root.appendingPathComponent("synthea").path

    static func newBank() -> Bank { Bank(storage: MemoryStorage()) }

    @Test(.enabled(if: SharedFolder.has("data/synthea"),

                   "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func syntheaImportsDeduplicatesAndReimportsToNothing() throws {
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importPaths([Self.dir])
        #expect(report.files == 62)
        #expect(report.personsCreated == 60)
        let hospitals = SharedData.files("synthea").first { $0.lastPathComponent.hasPrefix("hospital") }!
        let orgCount = try JSONReader().read([UInt8](Data(contentsOf: hospitals)))["entry"]!.list.count
        #expect(report.organisationsCreated == orgCount)
        let practitioners = SharedData.files("synthea").first { $0.lastPathComponent.hasPrefix("practitioner") }!
        let practitionerCount = try JSONReader().read([UInt8](Data(contentsOf: practitioners)))["entry"]!.list.count
        #expect(report.recordsCreated == practitionerCount)
        #expect(report.eventsAppended > 10_000)
        #expect(report.skipped["Claim"] != nil)
        // nothing sound is flagged or set aside (issue 23)
        #expect(report.issues.isEmpty, "\(report.issues.prefix(5))")
        #expect(report.patients.count == 60)
        #expect(report.patients.values.allSatisfy { $0.flagged == 0 && $0.setAside == 0 && $0.imported > 0 })
        let twins = try bank.twinIDs()
        #expect(twins.count == 60 + orgCount)

        let again = try FHIRImporter(bank: bank).importPaths([Self.dir])
        #expect(again.eventsAppended == 0)
        #expect(again.personsCreated == 0 && again.personsUpdated == 0 && again.organisationsCreated == 0)
        #expect(again.recordsCreated == 0)
        #expect(again.eventsAlreadyPresent == report.eventsAppended + report.eventsAlreadyPresent)
        #expect(try bank.twinIDs() == twins)

        // Export each person twin, re-import into an empty bank: same twin, same thread.
        var checked = 0
        for id in twins {
            let original = try bank.twin(id).twin
            guard original.kind == .person else { continue }
            let exported = try FHIRExporter(bank: bank).bundle(twin: id)
            let issues = Validator().validate(exported)
            #expect(issues.isEmpty, "\(id): \(issues.prefix(3))")
            let text = JSONWriter().write(exported)
            let fresh = Self.newBank()
            _ = try FHIRImporter(bank: fresh).importResource(try JSONReader().read(text), origin: "export")
            #expect(try fresh.twin(id).twin == original)
            let a = try bank.events(ThreadQuery(twin: id)).map(\.id)
            let b = try fresh.events(ThreadQuery(twin: id)).map(\.id)
            #expect(a == b, "\(id): thread differs after export and re-import (\(a.count) vs \(b.count) events)")
            checked += 1
            if checked >= 60 { break }
        }
        #expect(checked == 60)
    }

    @Test func transactionIsAllOrNothing() throws {
        let bank = Self.newBank()
        let bad = try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org", "code": "parsecs/fortnight"}},
           "request": {"method": "POST", "url": "Observation"}}]}
        """#)
        var strict = FHIRImporter(bank: bank)
        strict.strict = true
        #expect(throws: FHIRError.self) { _ = try strict.importResource(bad, origin: "t") }
        #expect(try bank.twinIDs().isEmpty)
    }

    /// A failure that only the bank can see, under `strict` (the default sets the event aside, see
    /// `DataQualityImportTests`) (the bank records this code in metres, the bundle in kilograms)
    /// comes after the bundle's patient and practitioner were written in the same transaction: none of it stays.
    @Test func transactionFailingInTheBankLeavesNothing() throws {
        let bank = Self.newBank()
        _ = try bank.createTwin(Twin(id: "other", kind: .person))
        let length = Concept(system: "http://example.org/codes", code: "len")
        _ = try bank.append([.observation("other", at: try Instant(parsing: "2020-01-01T00:00:00Z"), code: length, Quantity(1, "m"), source: Source(.record, "x"))])
        let before = try bank.lastSequence()
        let bad = try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:pr1", "resource": {"resourceType": "Practitioner", "id": "pr1",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "999"}]}, "request": {"method": "POST", "url": "Practitioner"}},
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://example.org/codes", "code": "len"}]},
            "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "kg"}},
           "request": {"method": "POST", "url": "Observation"}}]}
        """#)
        var strict = FHIRImporter(bank: bank)
        strict.strict = true
        let e = #expect(throws: FHIRError.self) { _ = try strict.importResource(bad, origin: "t") }
        #expect(e?.description.contains("kg") == true)
        #expect(try bank.twinIDs() == ["other"])
        #expect(try bank.lastSequence() == before)
        #expect(try bank.recordNames(prefix: "fhir/").isEmpty)
    }

    @Test func batchEntriesAreIndependent() throws {
        let bank = Self.newBank()
        let batch = try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "batch", "entry": [
          {"resource": {"resourceType": "Patient", "id": "p1", "gender": "male"}, "request": {"method": "PUT", "url": "Patient/p1"}},
          {"resource": {"resourceType": "Observation", "id": "ok", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-01T00:00:00Z", "valueQuantity": {"value": 60, "system": "http://unitsofmeasure.org", "code": "/min"}},
           "request": {"method": "POST", "url": "Observation"}},
          {"resource": {"resourceType": "Observation", "id": "bad", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient/nobody"}, "effectiveDateTime": "2020-01-01"}, "request": {"method": "POST", "url": "Observation"}}]}
        """#)
        let report = try FHIRImporter(bank: bank).importResource(batch, origin: "t")
        #expect(report.personsCreated == 1)
        #expect(report.eventsAppended == 1)
        #expect(report.failures.count == 1)
        #expect(report.failures.first?.contains("Patient/nobody") == true)
    }

    /// A batch entry's precondition runs inside that entry's own transaction: what it writes and what the entry writes
    /// commit together or not at all, an entry whose precondition throws writes nothing and is a failure, and the
    /// others go on; it is given each entry's label (its fullUrl, else its path).
    @Test func aBatchEntrysPreconditionRunsInItsOwnTransaction() throws {
        let bank = Self.newBank()
        _ = try bank.createTwin(Twin(id: "p1", kind: .person))
        let batch = try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "batch", "entry": [
          {"fullUrl": "urn:uuid:keep", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-01T00:00:00Z", "valueQuantity": {"value": 60, "system": "http://unitsofmeasure.org", "code": "/min"}},
           "request": {"method": "POST", "url": "Observation"}},
          {"resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-02T00:00:00Z", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "/min"}},
           "request": {"method": "POST", "url": "Observation"}}]}
        """#)
        var seen: [[String]] = []
        let note = Concept(system: "urn:test", code: "precondition")
        let report = try FHIRImporter(bank: bank).importResource(batch, origin: "t", precondition: nil, entryPrecondition: { labels, w in
            seen.append(labels)
            // a write of the precondition's own, in the entry's transaction
            try w.append([EventDraft(twin: "p1", effective: EffectiveTime(try Instant(parsing: "2020-01-03T00:00:00Z")), category: .annotation, code: note,
                                     value: .text(labels.joined()), source: Source(.record, "test"))])
            if labels.contains("Bundle.entry[1].resource") { throw FHIRError(.versionConflict, "stale", value: "W/\"1\"") }
        })
        #expect(Set(seen) == [["urn:uuid:keep"], ["Bundle.entry[1].resource"]])
        #expect(report.eventsAppended == 1)
        #expect(report.failures.count == 1 && report.failures[0].contains("stale"))
        let thread = try bank.events(ThreadQuery(twin: "p1"))
        // the first entry and its precondition's note; nothing of the second, not even the note written before the throw
        #expect(thread.filter { $0.code.key == note.key }.map(\.value) == [.text("urn:uuid:keep")])
        #expect(thread.filter { $0.code.code == "8867-4" }.count == 1)
    }

    @Test(.enabled(if: SharedFolder.has("data/fhir-r4-examples/Observation-ekg.json"),
                   "skipped: the R4 example data/fhir-r4-examples/Observation-ekg.json is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func sampledDataBecomesAVector() throws {
        let bank = Self.newBank()
        _ = try bank.createTwin(Twin(id: "example", kind: .person))
        let ekg = SharedData.root.appendingPathComponent("fhir-r4-examples/Observation-ekg.json")
        var tree = try JSONReader().read([UInt8](Data(contentsOf: ekg)))
        guard case .object(var o) = tree else { Issue.record("Observation-ekg.json is not a JSON object"); return }
        o["subject"] = ["reference": "Patient/example"]
        tree = .object(o)
        let report = try FHIRImporter(bank: bank).importResource(tree, origin: "t")
        #expect(report.eventsAppended >= 1)
        let events = try bank.events(ThreadQuery(twin: "example"))
        guard case .vector(let v)? = events.first?.value else { Issue.record("no vector: \(events)"); return }
        #expect(v.values.count > 10)
        // the strip spans its samples (period 10 ms in the example), so its sampling rate travels with the thread
        let first = try #require(events.first)
        let span = try #require(first.effective.end).microseconds - first.effective.start.microseconds
        #expect(span == Int64(v.values.count) * 10_000, "\(first.effective)")
        // and the export gives the period back
        let exported = String(decoding: JSONWriter().write(.array(try FHIRExporter(bank: bank).resources(twin: "example"))), as: UTF8.self)
        #expect(exported.replacingOccurrences(of: " ", with: "").contains("\"period\":10,"), "\(exported.prefix(800))")
    }
}
