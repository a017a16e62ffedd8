import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR
import TwinGovernance
import TwinTesting

/// FHIR R4 AuditEvents of audit log entries: shaped like the HL7 examples, valid for the project's validator and
/// (when the anchors are installed) for fhir.resources.
@Suite struct AuditEventExportTests {
    static let examples = ["AuditEvent-example.json", "AuditEvent-example-rest.json", "AuditEvent-example-search.json", "AuditEvent-example-login.json",
                           "AuditEvent-example-logout.json", "AuditEvent-example-disclosure.json", "AuditEvent-example-error.json",
                           "AuditEvent-example-media.json", "AuditEvent-example-pixQuery.json"]
    static let present = SharedFolder.has(examples.map { "data/fhir-r4-examples/" + $0 })
    static let reason: Comment = "skipped: the R4 AuditEvent examples data/fhir-r4-examples/AuditEvent-*.json are missing (put ../shared beside the package or set TWINBANK_SHARED)"

    static func example(_ name: String) throws -> JSONValue {
        try JSONReader().read([UInt8](Data(contentsOf: SharedFolder.data("fhir-r4-examples/" + name))))
    }

    static let entries: [AuditEntry] = [
        AuditEntry(sequence: 0, time: Instant(microseconds: 1_767_225_600_000_000), actor: "dr-lee", role: "clinician", organisation: "ward-7",
                   action: "read", twin: "p-1", purpose: "care", decision: .permit, reason: "clinician reads for care"),
        AuditEntry(sequence: 1, time: Instant(microseconds: 1_767_225_601_500_000), actor: "study-svc", role: "researcher", organisation: nil,
                   action: "export", twin: "p#2", purpose: "research", decision: .deny, reason: "no consent for research"),
        AuditEntry(sequence: 2, time: Instant(microseconds: 1_767_225_602_000_000), actor: "local", role: nil, organisation: nil,
                   action: "commit", twin: nil, purpose: "operations", decision: .permitWithFilter, reason: "retracted events hidden"),
    ]

    @Test(.enabled(if: present, reason), arguments: examples)
    func theOfficialExamplesPassTheValidator(_ name: String) throws {
        let issues = Validator().validate(try Self.example(name))
        #expect(issues.isEmpty, "\(issues.prefix(3))")
    }

    @Test func theValidatorChecksAuditEvents() throws {
        var e = AuditEventExport.auditEvent(Self.entries[0]).objectValue!
        e.members.removeAll { $0.key == "recorded" }
        e.members[e.members.firstIndex { $0.key == "action" }!].value = "X"
        let issues = Validator().validate(.object(e))
        #expect(issues.count == 2, "\(issues)")
    }

    @Test(.enabled(if: present, reason))
    func exportedEventsAreValidAndShapedLikeTheExamples() throws {
        let bundle = AuditEventExport.bundle(Self.entries)
        #expect(Validator().validate(bundle).isEmpty, "\(Validator().validate(bundle).prefix(5))")
        let events = bundle["entry"]!.list.map { $0["resource"]! }
        #expect(events.count == 3)
        // every element used is one the official examples use, at the same JSON shape (object or array)
        var shapes: [String: String] = [:]
        for name in Self.examples { for m in try Self.example(name).objectValue! { shapes[m.key] = m.value.kindName } }
        for e in events { for m in e.objectValue! where m.key != "id" {
            #expect(shapes[m.key] == m.value.kindName, "\(m.key): \(m.value.kindName), the examples have \(shapes[m.key] ?? "nothing")")
        } }
        #expect(events.map { $0["action"]?.stringValue } == ["R", "R", "U"])
        #expect(events.map { $0["outcome"]?.stringValue } == ["0", "4", "0"])
        #expect(events[0]["recorded"]?.stringValue == "2026-01-01T00:00:00Z")
        #expect(events[1]["recorded"]?.stringValue == "2026-01-01T00:00:01.500Z")
        #expect(events[0]["entity"]?[0]?["what"]?["reference"]?.stringValue == "Patient/p-1")
        #expect(events[1]["entity"]?[0]?["what"]?["reference"]?.stringValue == "Patient/p-2")
        #expect(events[2]["entity"]?.list.count == 1)  // bank-wide: only the log entry
        #expect(events[0]["purposeOfEvent"]?[0]?["coding"]?[0]?["code"]?.stringValue == "TREAT")
        #expect(events[1]["purposeOfEvent"]?[0]?["coding"]?[0]?["code"]?.stringValue == "HRESCH")
        #expect(events[0]["agent"]?[0]?["who"]?["identifier"]?["value"]?.stringValue == "dr-lee")
        #expect(events[0]["agent"]?[0]?["role"]?[0]?["text"]?.stringValue == "clinician")
        #expect(events[0]["agent"]?[1]?["who"]?["display"]?.stringValue == "ward-7")
        #expect(events[2]["entity"]?[0]?["detail"]?[0]?["valueString"]?.stringValue == Self.entries[2].leafHash.hex)
    }

    @Test func aTwinsPatientIdComesFromTheBank() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "p-1", kind: .person, attributes: ["fhir.id": .text("8f7e-abc")]))
        let bundle = AuditEventExport.bundle(Array(Self.entries.prefix(1)), bank: bank)
        #expect(bundle["entry"]?[0]?["resource"]?["entity"]?[0]?["what"]?["reference"]?.stringValue == "Patient/8f7e-abc")
    }

    @Test(.enabled(if: SharedFolder.runsAnchors(), "skipped: the anchor Python (with fhir.resources) is missing (set TWINBANK_ANCHOR_PYTHON or run ../shared/anchors/setup.sh)"))
    func fhirResourcesAcceptsTheExport() throws {
        let out = try IndependentValidatorTests.validateWithFHIRResources(AuditEventExport.bundle(Self.entries))
        #expect(out.contains("valid 3"), "\(out)")
    }
}
