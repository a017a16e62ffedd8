import Foundation
import Testing
import TwinBank
import TwinCore
import TwinTesting
@testable import TwinFHIR

/// Issue 23, items 1 and 2: an odd value (a unit that cannot be read or does not fit its code, an event the
/// bank refuses) is set aside or flagged and listed in the import report; the rest of the bundle is imported.
/// `strict` keeps the old all-or-nothing refusal.
@Suite struct DataQualityImportTests {
    static func newBank() -> Bank { Bank(storage: MemoryStorage()) }

    /// An Observation entry `o<n>` of patient p1, with a LOINC code and a quantity (`unit` nil: no unit at all).
    static func observation(_ n: Int, loinc: String, value: Double, unit: String?, ucum: Bool = false) -> String {
        let q = unit.map { u in ucum ? #""value": \#(value), "system": "http://unitsofmeasure.org", "code": "\#(u)""# : #""value": \#(value), "unit": "\#(u)""# } ?? #""value": \#(value)"#
        return #"""
        {"fullUrl": "urn:uuid:o\#(n)", "resource": {"resourceType": "Observation", "id": "o\#(n)", "status": "final",
          "code": {"coding": [{"system": "http://loinc.org", "code": "\#(loinc)"}]}, "subject": {"reference": "urn:uuid:p1"},
          "effectiveDateTime": "2020-01-0\#(n % 9 + 1)T10:00:00Z", "valueQuantity": {\#(q)}}, "request": {"method": "POST", "url": "Observation"}}
        """#
    }

    /// A blood-pressure panel `o<n>` whose systolic component has a value but no unit.
    static func bloodPressureWithoutUnit(_ n: Int) -> String {
        #"""
        {"fullUrl": "urn:uuid:o\#(n)", "resource": {"resourceType": "Observation", "id": "o\#(n)", "status": "final",
          "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}, "subject": {"reference": "urn:uuid:p1"},
          "effectiveDateTime": "2020-02-01T10:00:00Z",
          "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 120}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 80, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]},
         "request": {"method": "POST", "url": "Observation"}}
        """#
    }

    static func bundle(_ entries: [String]) throws -> JSONValue {
        try JSONReader().read(#"""
        {"resourceType": "Bundle", "type": "transaction", "entry": [
          {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-04"}, "request": {"method": "POST", "url": "Patient"}},
          \#(entries.joined(separator: ",\n"))]}
        """#)
    }

    /// Well-known non-UCUM spellings are read through `UnitSynonyms`: imported as their UCUM unit, nothing flagged.
    @Test(arguments: [
        ("2744-1", 7.4, "pH", "[pH]"),
        ("789-8", 4.5, "M/uL", "10*6/uL"),
        ("6690-2", 6.1, "K/uL", "10*3/uL"),
        ("6690-2", 6.1, "10^3/uL", "10*3/uL"),
        ("6690-2", 6.1, "x10E3/uL", "10*3/uL"),
        ("6690-2", 6.1, "K/µL", "10*3/uL"),
        ("8480-6", 120, "mmHg", "mm[Hg]"),
        ("11111-1", 3, "units", "{units}"),
    ])
    func aKnownSpellingImportsAsUCUM(loinc: String, value: Double, unit: String, ucum: String) throws {
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importResource(try Self.bundle([Self.observation(1, loinc: loinc, value: value, unit: unit)]), origin: "t")
        #expect(report.issues.isEmpty)
        #expect(report.eventsAppended == 1)
        let events = try bank.events(ThreadQuery(twin: "p1"))
        #expect(events.map(\.value) == [.quantity(Quantity(value, ucum))])
    }

    /// A unit that cannot be read, or one that does not fit its code, sets that value aside (never converted by
    /// guessing) and the rest of the bundle imports; the report names the entry, the path and the reason.
    @Test(arguments: [
        ("8867-4", "furlongs", "furlongs"),                 // not a unit at all
        ("20448-7", "units", "{units}"),                   // insulin needs [IU]/L: "units" is not read as one
        ("29463-7", "mm[Hg]", "mm[Hg]"),                    // a weight in a pressure unit
    ])
    func anOddUnitIsSetAsideAndTheRestImports(loinc: String, unit: String, shown: String) throws {
        let bank = Self.newBank()
        let sound = Self.observation(2, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)
        let report = try FHIRImporter(bank: bank).importResource(try Self.bundle([Self.observation(1, loinc: loinc, value: 5, unit: unit), sound]), origin: "t")
        #expect(report.personsCreated == 1)
        #expect(report.eventsAppended == 1)
        let issue = try #require(report.issues.first)
        #expect(report.issues.count == 1)
        #expect(issue.disposition == .setAside)
        #expect(issue.patient == "p1")
        #expect(issue.entry == "urn:uuid:o1")
        #expect(issue.path == "Bundle.entry[1].resource.valueQuantity.code")
        #expect(issue.code == "loinc:\(loinc)")
        #expect(issue.value == shown)
        #expect(issue.reason.contains(shown))
        #expect(report.patients["p1"] == { var c = PatientImportCounts(); c.imported = 1; c.setAside = 1; return c }())
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.code.code) == ["2339-0"])
    }

    @Test func aBloodPressureComponentWithoutUnitIsSetAsideAndTheOtherComponentImports() throws {
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importResource(try Self.bundle([Self.bloodPressureWithoutUnit(1)]), origin: "t")
        #expect(report.eventsAppended == 1)
        #expect(report.issues.map(\.path) == ["Bundle.entry[1].resource.component[0].valueQuantity.code"])
        #expect(report.issues.map(\.code) == ["loinc:8480-6"])
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.value) == [.quantity(Quantity(80, "mm[Hg]"))])
    }

    /// Strict keeps today's all-or-nothing refusal: the odd unit refuses the whole bundle, nothing is written.
    @Test func strictRefusesTheWholeBundle() throws {
        let bank = Self.newBank()
        var importer = FHIRImporter(bank: bank)
        importer.strict = true
        let b = try Self.bundle([Self.observation(1, loinc: "8867-4", value: 60, unit: "furlongs"), Self.observation(2, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)])
        let e = #expect(throws: FHIRError.self) { _ = try importer.importResource(b, origin: "t") }
        #expect(e?.code == .unitNotConvertible)
        #expect(try bank.twinIDs().isEmpty)
        #expect(throws: FHIRError.self) { _ = try importer.importResource(try Self.bundle([Self.bloodPressureWithoutUnit(1)]), origin: "t") }
        #expect(try bank.twinIDs().isEmpty)
    }

    /// Invalid FHIR still refuses the bundle whatever the mode: a broken reference.
    @Test func aBrokenReferenceStillRefusesTheBundle() throws {
        let bank = Self.newBank()
        let broken = Self.observation(1, loinc: "8867-4", value: 60, unit: "/min", ucum: true).replacingOccurrences(of: "urn:uuid:p1", with: "urn:uuid:nobody")
        let e = #expect(throws: FHIRError.self) { _ = try FHIRImporter(bank: bank).importResource(try Self.bundle([broken]), origin: "t") }
        #expect(e?.code == .danglingReference)
        #expect(try bank.twinIDs().isEmpty)
    }

    /// An event the bank refuses for a reason of its own (this bank records the code in metres, the bundle
    /// says kilograms) is set aside with the bank's reason; the patient and the other events are written.
    @Test func anEventTheBankRefusesIsSetAsideWithItsReason() throws {
        let bank = Self.newBank()
        _ = try bank.createTwin(Twin(id: "other", kind: .person))
        let length = Concept(system: "http://example.org/codes", code: "len")
        _ = try bank.append([.observation("other", at: try Instant(parsing: "2020-01-01T00:00:00Z"), code: length, Quantity(1, "m"), source: Source(.record, "x"))])
        let odd = #"""
        {"fullUrl": "urn:uuid:o9", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://example.org/codes", "code": "len"}]},
          "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "kg"}},
         "request": {"method": "POST", "url": "Observation"}}
        """#
        let b = try Self.bundle([odd, Self.observation(2, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)])
        let report = try FHIRImporter(bank: bank).importResource(b, origin: "t")
        #expect(report.personsCreated == 1)
        #expect(report.eventsAppended == 1)
        let issue = try #require(report.issues.first)
        #expect(issue.disposition == .setAside)
        #expect(issue.entry == "urn:uuid:o9")
        #expect(issue.reason.hasPrefix("the bank refused it: unit 'kg'"))
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.code.code) == ["2339-0"])
        // strict: the old refusal, nothing written
        let fresh = Self.newBank()
        _ = try fresh.createTwin(Twin(id: "other", kind: .person))
        _ = try fresh.append([.observation("other", at: try Instant(parsing: "2020-01-01T00:00:00Z"), code: length, Quantity(1, "m"), source: Source(.record, "x"))])
        var strict = FHIRImporter(bank: fresh)
        strict.strict = true
        #expect(throws: FHIRError.self) { _ = try strict.importResource(b, origin: "t") }
        #expect(try fresh.twinIDs() == ["other"])
    }

    /// A value of the wrong type for its code (text for glucose), refused by the bank's type check, is set aside
    /// with the bank's reason; the glucose reading next to it is imported.
    @Test func aValueOfTheWrongTypeIsSetAside() throws {
        let bank = Self.newBank()
        let text = #"""
        {"fullUrl": "urn:uuid:o8", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
          "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-05T10:00:00Z", "valueString": "abc"}, "request": {"method": "POST", "url": "Observation"}}
        """#
        let report = try FHIRImporter(bank: bank).importResource(try Self.bundle([text, Self.observation(2, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)]), origin: "t")
        #expect(report.eventsAppended == 1)
        #expect(report.issues.map(\.entry) == ["urn:uuid:o8"])
        #expect(report.issues.first?.disposition == .setAside)
        #expect(report.issues.first?.reason.contains("abc") == true)
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.value) == [.quantity(Quantity(100, "mg/dL"))])
    }

    /// The mixed case: every oddity in one bundle, in memory and streamed. What landed, what was flagged (the
    /// bank's implausibility flag: a heart rate of 1000 /min) and what the report and its OperationOutcome say.
    @Test(arguments: [false, true])
    func theMixedCase(streamed: Bool) throws {
        let entries = [
            Self.observation(1, loinc: "2744-1", value: 7.4, unit: "pH"),
            Self.bloodPressureWithoutUnit(2),
            Self.observation(3, loinc: "789-8", value: 4.5, unit: "M/uL"),
            Self.observation(4, loinc: "11111-1", value: 2, unit: "units"),
            Self.observation(5, loinc: "8867-4", value: 60, unit: "furlongs"),
            Self.observation(6, loinc: "8867-4", value: 1000, unit: "/min", ucum: true),
            Self.observation(7, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true),
        ]
        let bank = Self.newBank()
        var importer = FHIRImporter(bank: bank)
        let report: ImportReport
        if streamed {
            let dir = try TemporaryFiles.directory("fhir-dq")
            let file = dir.appendingPathComponent("mixed.json")
            try Data(JSONWriter().write(try Self.bundle(entries))).write(to: file)
            importer.streamingThreshold = 0
            report = try importer.importFile(file.path)
        } else {
            report = try importer.importResource(try Self.bundle(entries), origin: "t")
        }
        // landed: pH, diastolic, RBC, units, heart rate 1000 (flagged), glucose
        #expect(report.eventsAppended == 6)
        let events = try bank.events(ThreadQuery(twin: "p1", includeImplausible: true))
        #expect(Set(events.map(\.code.code)) == ["2744-1", "8462-4", "789-8", "11111-1", "8867-4", "2339-0"])
        #expect(events.filter(\.isFlaggedImplausible).map(\.code.code) == ["8867-4"])
        #expect(events.filter { !$0.isModelInput }.count == 1)
        // the report
        #expect(report.issues(.setAside).map(\.entry).sorted() == ["urn:uuid:o2", "urn:uuid:o5"])
        #expect(report.issues(.flagged).map(\.entry) == ["urn:uuid:o6"])
        #expect(report.issues(.flagged).first?.reason.contains("outside the possible range") == true)
        #expect(report.patients["p1"]?.imported == 6)
        #expect(report.patients["p1"]?.flagged == 1)
        #expect(report.patients["p1"]?.setAside == 2)
        #expect(report.dataQualitySummary == "data quality: 6 event(s) imported, 1 flagged, 2 set aside (1 patient(s))")
        let json = report.reportJSON()
        #expect(json["patients"]?["p1"]?["setAside"]?.doubleValue == 2)
        #expect(json["patients"]?["p1"]?["issues"]?.list.count == 3)
        let outcome = try #require(json["operationOutcome"])
        #expect(outcome["resourceType"]?.stringValue == "OperationOutcome")
        #expect(Validator().validate(outcome).isEmpty)
        let issues = outcome["issue"]?.list ?? []
        #expect(issues.count == 4)
        let expressions: [String] = issues.compactMap { $0["expression"]?[0]?.stringValue }
        #expect(expressions.contains("Bundle.entry[2].resource.component[0].valueQuantity.code"))
        #expect(issues.filter { $0["severity"]?.stringValue == "warning" }.count == 1)
        #expect(issues.contains { $0["diagnostics"]?.stringValue?.contains("entry urn:uuid:o5") == true && $0["diagnostics"]?.stringValue?.contains("furlongs") == true })
        // a re-import adds nothing: the flagged event is found present (not refused as a duplicate)
        let again = try importer.importResource(try Self.bundle(entries), origin: streamed ? "bundle:mixed.json" : "t")
        #expect(again.eventsAppended == 0)
        #expect(again.eventsAlreadyPresent == 6)
        #expect(again.issues(.setAside).count == 2)
        #expect(again.issues(.flagged).isEmpty)
    }

    /// Valid FHIR that cannot become sound thread data (issue 23: it refused the whole record before) is set
    /// aside with its entry, path and reason; the patient and the glucose reading beside it import. Under strict
    /// it refuses the bundle (`notImportable`), nothing written.
    @Test(arguments: [
        // no effective[x] and no issued
        (#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}, "subject": {"reference": "urn:uuid:p1"}, "valueQuantity": {"value": 60, "unit": "/min"}}"#,
         "Bundle.entry[1].resource.effective[x]", "no effective time"),
        // a bound, not a measurement
        (#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 40, "comparator": "<", "unit": "mg/dL"}}"#,
         "Bundle.entry[1].resource.valueQuantity.comparator", "a bound ('<40')"),
        // a quantity without value
        (#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"unit": "mg/dL"}}"#,
         "Bundle.entry[1].resource.valueQuantity.value", "has no value"),
        // the source says the value is absent
        (#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error"}]}}"#,
         "Bundle.entry[1].resource.dataAbsentReason", "dataAbsentReason 'error'"),
        // sampled data with an E point
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "ecg"}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueSampledData": {"origin": {"value": 0, "code": "mV", "system": "http://unitsofmeasure.org"}, "period": 1, "dimensions": 1, "data": "1 E 2"}}"#,
         "Bundle.entry[1].resource.valueSampledData.data", "'E'"),
        // withdrawn by its source
        (#"{"resourceType": "Observation", "status": "entered-in-error", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 90, "unit": "mg/dL"}}"#,
         "Bundle.entry[1].resource.status", "entered-in-error"),
        // a code with no system
        (#"{"resourceType": "Condition", "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}, "code": {"coding": [{"code": "44054006"}]}, "subject": {"reference": "urn:uuid:p1"}, "onsetDateTime": "2020-01-01"}"#,
         "Bundle.entry[1].resource.code", "no code"),
        // a Procedure without performed[x]
        (#"{"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": "http://snomed.info/sct", "code": "73761001"}]}, "subject": {"reference": "urn:uuid:p1"}}"#,
         "Bundle.entry[1].resource.performedDateTime", "none of performedDateTime"),
        // a unit coded outside UCUM, without unit text
        (#"{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}, "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 60, "system": "http://example.org/units", "code": "BPM"}}"#,
         "Bundle.entry[1].resource.valueQuantity.system", "coded in http://example.org/units"),
        // a subject that is a Group
        (#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "Group/g1"}, "effectiveDateTime": "2020-01-01"}"#,
         "Bundle.entry[1].resource.subject", "is a Group, not a Patient"),
    ])
    func aRecordThatCannotBeSoundIsSetAside(resource: String, path: String, reason: String) throws {
        let entry = #"{"fullUrl": "urn:uuid:x1", "resource": \#(resource), "request": {"method": "POST", "url": "Basic"}}"#
        let b = try Self.bundle([entry, Self.observation(2, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)])
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importResource(b, origin: "t")
        #expect(report.personsCreated == 1)
        #expect(report.eventsAppended == 1)
        let issue = try #require(report.issues.first)
        #expect(report.issues.count == 1)
        #expect(issue.disposition == .setAside)
        #expect(issue.entry == "urn:uuid:x1")
        #expect(issue.path == path)
        #expect(issue.reason.contains(reason), "\(issue.reason)")
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.code.code) == ["2339-0"])
        // strict: the bundle is refused, naming the entry and the path; nothing written
        let fresh = Self.newBank()
        var strict = FHIRImporter(bank: fresh)
        strict.strict = true
        let e = #expect(throws: FHIRError.self) { _ = try strict.importResource(b, origin: "t") }
        #expect(e?.code == .notImportable || e?.code == .unitNotConvertible)
        #expect(e?.fullUrl == "urn:uuid:x1" && e?.location == path)
        #expect(try fresh.twinIDs().isEmpty)
    }

    /// A record with no patient is listed in the report without one (`withoutPatient`), not under a patient "".
    @Test func anIssueWithoutAPatientIsReportedApart() throws {
        let entry = #"{"fullUrl": "urn:uuid:x1", "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "room temperature"}, "effectiveDateTime": "2020-01-01"}}"#
        let report = try FHIRImporter(bank: Self.newBank()).importResource(try Self.bundle([entry]), origin: "t")
        #expect(report.issues.map(\.patient) == [""])
        #expect(report.patients[""] == nil)
        let json = report.reportJSON()
        #expect(json["withoutPatient"]?.list.first?["entry"]?.stringValue == "urn:uuid:x1")
        #expect(json["withoutPatient"]?.list.first?["path"]?.stringValue == "Bundle.entry[1].resource.subject")
    }

    /// A conditional reference `Patient?identifier=SYSTEM|VALUE` finds the Patient of the bundle with that
    /// identifier (Synthea 3.x transactions); one that matches none is a broken reference and refuses the bundle.
    @Test func aConditionalPatientReferenceResolvesByIdentifier() throws {
        let obs = Self.observation(1, loinc: "2339-0", value: 100, unit: "mg/dL", ucum: true)
            .replacingOccurrences(of: "urn:uuid:p1", with: "Patient?identifier=https%3A%2F%2Fexample.org%2Fmrn%7CM-1")
        let text = String(decoding: JSONWriter().write(try Self.bundle([obs])), as: UTF8.self)
            .replacingOccurrences(of: #""id":"p1""#, with: #""id":"p1","identifier":[{"system":"https://example.org/mrn","value":"M-1"}]"#)
        let withIdentifier = try JSONReader().read(text)
        #expect(withIdentifier["entry"]?[0]?["resource"]?["identifier"] != nil)
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importResource(withIdentifier, origin: "t")
        #expect(report.issues.isEmpty)
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 1)
        let unmatched = text.replacingOccurrences(of: "%7CM-1", with: "%7CM-2")
        let e = #expect(throws: FHIRError.self) { _ = try FHIRImporter(bank: Self.newBank()).importResource(try JSONReader().read(unmatched), origin: "t") }
        #expect(e?.code == .danglingReference)
        #expect(e?.location == "Bundle.entry[1].resource.subject.reference")
    }

    /// A long history with a few events the bank refuses (observations dated in the future) imports the rest:
    /// the refused ones are found by halving the batch, not by appending thousands of events one by one.
    @Test func aLongHistoryWithAFewRefusedEventsImportsTheRest() throws {
        var entries: [String] = []
        for k in 0..<3000 {
            let day = k % 28 + 1, month = k / 28 % 12 + 1, year = 1990 + k / 336
            let time = k == 1234 || k == 2999 ? "2099-01-01T00:00:00Z" : String(format: "%04d-%02d-%02dT%02d:00:00Z", year, month, day, k % 24)
            entries.append(#"""
            {"fullUrl": "urn:uuid:h\#(k)", "resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
              "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "\#(time)", "valueQuantity": {"value": \#(60 + k % 40), "system": "http://unitsofmeasure.org", "code": "/min"}}}
            """#)
        }
        let bank = Self.newBank()
        let report = try FHIRImporter(bank: bank).importResource(try Self.bundle(entries), origin: "t")
        #expect(report.eventsAppended == 2998)
        #expect(report.issues(.setAside).map(\.entry) == ["urn:uuid:h1234", "urn:uuid:h2999"])
        #expect(report.issues(.setAside).allSatisfy { $0.reason.hasPrefix("the bank refused it") })
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 2998)
    }
}
