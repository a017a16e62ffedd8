import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR
import TwinTesting

/// Files above `streamingThreshold` are read entry by entry. These tests set the threshold to 0 so every
/// file streams, and compare with the in-memory import.
@Suite struct StreamingImportTests {
    static func streaming(_ bank: Bank, entriesPerWrite: Int = 2_000) -> FHIRImporter {
        var i = FHIRImporter(bank: bank)
        i.streamingThreshold = 0
        i.entriesPerWrite = entriesPerWrite
        return i
    }

    static func write(_ text: String) throws -> String {
        let dir = try TemporaryFiles.directory("fhir")
        let path = dir.appendingPathComponent("bundle.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every twin, every event id and every record of a bank.
    static func contents(_ bank: Bank) throws -> ([Twin], [[ContentHash]], [String: [UInt8]]) {
        let ids = try bank.twinIDs()
        let twins = try ids.map { try bank.twin($0).twin }
        let events = try ids.map { try bank.events(ThreadQuery(twin: $0, includeRetracted: true)).map(\.id) }
        var records: [String: [UInt8]] = [:]
        for n in try bank.recordNames() { records[n] = try bank.record(named: n) }
        return (twins, events, records)
    }

    @Test(.enabled(if: SharedFolder.has("data/synthea"),

                   "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func streamingTheSyntheaBundlesGivesTheSameBankAsReadingThemWhole() throws {
        let dir = SharedData.root.appendingPathComponent("synthea").path
        let whole = Bank(storage: MemoryStorage())
        let a = try FHIRImporter(bank: whole).importPaths([dir])
        let streamed = Bank(storage: MemoryStorage())
        // small write chunks, so patients and their records span several chunks of one transaction
        let b = try Self.streaming(streamed, entriesPerWrite: 97).importPaths([dir])
        #expect(a.eventsAppended == b.eventsAppended)
        #expect(a.personsCreated == b.personsCreated && a.organisationsCreated == b.organisationsCreated)
        #expect(a.recordsCreated == b.recordsCreated)
        #expect(a.skipped == b.skipped)
        let (t1, e1, r1) = try Self.contents(whole)
        let (t2, e2, r2) = try Self.contents(streamed)
        #expect(t1 == t2)
        #expect(e1 == e2)
        #expect(r1 == r2)
        // and re-importing streamed adds nothing
        let again = try Self.streaming(streamed).importPaths([dir])
        #expect(again.eventsAppended == 0 && again.personsCreated == 0 && again.recordsCreated == 0)
    }

    @Test func aMalformedEntryLateInAStreamedTransactionWritesNothing() throws {
        // entry 3 is cut off; entries 0-2 would be written in earlier chunks of the same transaction
        let path = try Self.write("""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01T00:00:00Z", "valueQuantity": {"value": 60, "system": "http://unitsofmeasure.org", "code": "/min"}},
           "request": {"method": "POST", "url": "Observation"}},
          {"fullUrl": "urn:uuid:p2", "resource": {"resourceType": "Patient", "id": "p2"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "status": "final",
        """)
        let bank = Bank(storage: MemoryStorage())
        let e = #expect(throws: FHIRError.self) { _ = try Self.streaming(bank, entriesPerWrite: 1).importFile(path) }
        #expect(e?.code == .malformedJSON)
        #expect(e?.location?.hasPrefix("Bundle.entry[3]") == true)
        #expect(e?.line == 7)
        #expect(e?.file == path)
        #expect(try bank.twinIDs().isEmpty)
        #expect(try bank.lastSequence() == 0)
    }

    @Test func anInvalidEntryIsNamedWithItsIndexAndPath() throws {
        let path = try Self.write("""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "POST", "url": "Patient"}},
          {"fullUrl": "urn:uuid:p2", "resource": {"resourceType": "Patient", "id": "p2", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}}
        ]}
        """)
        let bank = Bank(storage: MemoryStorage())
        let e = #expect(throws: FHIRError.self) { _ = try Self.streaming(bank, entriesPerWrite: 1).importFile(path) }
        #expect(e?.location == "Bundle.entry[1].resource.gender")
        #expect(e?.value == "robot")
        #expect(try bank.twinIDs().isEmpty)
    }

    @Test func aStreamedBatchImportsEachEntryOnItsOwnPatientsFirst() throws {
        // the observation comes before its patient in the file; the bad entry fails alone
        let path = try Self.write("""
        {"resourceType": "Bundle", "type": "batch", "entry": [
          {"resource": {"resourceType": "Observation", "id": "ok", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-01T00:00:00Z", "valueQuantity": {"value": 60, "system": "http://unitsofmeasure.org", "code": "/min"}},
           "request": {"method": "POST", "url": "Observation"}},
          {"resource": {"resourceType": "Observation", "id": "bad", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient/nobody"}, "effectiveDateTime": "2020-01-01"}, "request": {"method": "POST", "url": "Observation"}},
          {"resource": {"resourceType": "Patient", "id": "p1", "gender": "male"}, "request": {"method": "PUT", "url": "Patient/p1"}}
        ]}
        """)
        let bank = Bank(storage: MemoryStorage())
        let report = try Self.streaming(bank).importFile(path)
        #expect(report.personsCreated == 1)
        #expect(report.eventsAppended == 1)
        #expect(report.failures.count == 1)
        #expect(report.failures.first?.contains("Patient/nobody") == true)
    }

    @Test(arguments: [
        ("[1, 2]", "one JSON object"),
        (#"{"resourceType": "Bundle", "type": "transaction", "entry": {}}"#, "must be a JSON array"),
        (#"{"resourceType": "Bundle", "type": "transaction", "type": "batch"}"#, "duplicate member 'type'"),
        (#"{"resourceType": "Bundle", "type": "transaction", "entry": []} x"#, "after the end"),
        (#"{"resourceType": "Patient", "id": "p"}"#, "only Bundles are read in parts"),
        (#"{"resourceType": "Bundle", "type": "searchset2", "entry": []}"#, "searchset2"),
    ])
    func badFilesGiveClearErrors(text: String, expected: String) throws {
        let path = try Self.write(text)
        let bank = Bank(storage: MemoryStorage())
        let e = #expect(throws: FHIRError.self) { _ = try Self.streaming(bank).importFile(path) }
        #expect(e?.description.contains(expected) == true, "\(e?.description ?? "")")
        #expect(try bank.twinIDs().isEmpty)
    }
}
