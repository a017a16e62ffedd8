import Foundation
import Testing
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinTesting

/// FHIR R4 Consent: every official example read or refused for a stated reason; export validated and read back.
@Suite struct FHIRConsentTests {
    static func day(_ s: String) -> Instant { try! Instant(parsing: s) }
    static let accessAndCorrect: Set<String> = ["read", "query", "export", "write"]

    struct Example: Sendable, CustomTestStringConvertible {
        enum Expect: Sendable {
            /// Read into exactly these rules (ids empty, granted from `dateTime`).
            case rules([ConsentRule])
            /// Refused as unsupported at this location, naming this value.
            case refused(location: String, value: String?, fragment: String)
        }
        var file: String
        var expect: Expect
        var testDescription: String { file }
    }

    static let examples: [Example] = [
        .init(file: "Consent-consent-example-basic.json", expect: .rules([
            ConsentRule(id: "", effect: .permit, validity: Validity(start: day("1964-01-01"), end: day("2016-01-01")),
                        granted: day("2016-05-11"), source: "Consent/consent-example-basic")])),
        .init(file: "Consent-consent-example-notOrg.json", expect: .rules([
            ConsentRule(id: "", effect: .deny, organisations: ["f001"], actions: accessAndCorrect,
                        granted: day("2015-11-18"), source: "Consent/consent-example-notOrg")])),
        // Its narrative says "withhold", but the resource says OPTIN and gives no type: read by its elements.
        .init(file: "Consent-consent-example-notThem.json", expect: .rules([
            ConsentRule(id: "", effect: .permit, actors: ["f204"], actions: accessAndCorrect,
                        granted: day("2015-11-18"), source: "Consent/consent-example-notThem")])),
        .init(file: "Consent-consent-example-notTime.json", expect: .rules([
            ConsentRule(id: "", effect: .permit, validity: Validity(start: day("2015-01-01"), end: day("2015-02-01")),
                        granted: day("2015-11-18"), source: "Consent/consent-example-notTime")])),
        .init(file: "Consent-consent-example-smartonfhir.json", expect: .rules([
            ConsentRule(id: "", effect: .permit, actions: ["read", "query", "export"],
                        data: DataScope(selectors: [.category(.medications)]),
                        validity: Validity(start: day("2016-06-23T07:02:33Z"), end: day("2016-06-23T07:32:33Z")),
                        granted: day("2016-06-23T07:02:33Z"), source: "Consent/consent-example-smartonfhir")])),
        .init(file: "Consent-consent-example-Emergency.json", expect: .refused(location: "Consent.provision.actor[0].role", value: "CST", fragment: "custodian")),
        .init(file: "Consent-consent-example-Out.json", expect: .refused(location: "Consent.provision.actor[0].role", value: "CST", fragment: "custodian")),
        .init(file: "Consent-consent-example-grantor.json", expect: .refused(location: "Consent.provision.actor[0].role", value: "CST", fragment: "custodian")),
        .init(file: "Consent-consent-example-notAuthor.json", expect: .refused(location: "Consent.provision.actor[0].role", value: "CST", fragment: "custodian")),
        .init(file: "Consent-consent-example-signature.json", expect: .refused(location: "Consent.provision.provision[0].actor[0].role", value: "AUT", fragment: "author")),
        .init(file: "Consent-consent-example-notThis.json", expect: .refused(location: "Consent.provision.data", value: "Task/example3", fragment: "single resources")),
        .init(file: "Consent-consent-example-pkb.json", expect: .refused(location: "Consent.provision.securityLabel", value: "N", fragment: "security label")),
    ]

    @Test func everyOfficialExampleIsInTheTable() {
        let files = SharedData.files("fhir-r4-examples").map(\.lastPathComponent).filter { $0.hasPrefix("Consent-") }
        #expect(files.sorted() == Self.examples.map(\.file).sorted())
    }

    @Test(.enabled(if: SharedFolder.has("data/fhir-r4-examples/Consent-consent-example-basic.json")), arguments: examples)
    func readsOrRefuses(_ example: Example) throws {
        let url = SharedData.root.appendingPathComponent("fhir-r4-examples/\(example.file)")
        let json = try JSONReader().read([UInt8](Data(contentsOf: url)))
        switch example.expect {
        case .rules(let rules):
            let imported = try FHIRConsent.read(json, recordedAt: Self.day("2026-01-01"))
            #expect(imported.rules == rules)
            #expect(imported.id == json["id"]?.stringValue)
        case .refused(let location, let value, let fragment):
            let e = #expect(throws: FHIRError.self) { try FHIRConsent.read(json, recordedAt: Self.day("2026-01-01")) }
            #expect(e?.code == .unsupported)
            #expect(e?.location == location)
            #expect(e?.value == value)
            #expect(e?.message.contains(fragment) == true, "\(e?.message ?? "")")
        }
    }

    @Test func aSourceAttachmentOnlyConsentAndABareOneAreRefused() throws {
        var doc: JSONObject = ["resourceType": "Consent", "status": "active"]
        doc["sourceAttachment"] = ["title": "terms"]
        let e1 = #expect(throws: FHIRError.self) { try FHIRConsent.read(.object(doc), recordedAt: .epoch) }
        #expect(e1?.location == "Consent.sourceAttachment")
        doc["sourceAttachment"] = nil
        doc["policyRule"] = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"]]]
        let e2 = #expect(throws: FHIRError.self) { try FHIRConsent.read(.object(doc), recordedAt: .epoch) }
        #expect(e2?.location == "Consent.provision")
        doc["status"] = "draft"
        let e3 = #expect(throws: FHIRError.self) { try FHIRConsent.read(.object(doc), recordedAt: .epoch) }
        #expect(e3?.value == "draft")
        let e4 = #expect(throws: FHIRError.self) { try FHIRConsent.read(["resourceType": "Patient"], recordedAt: .epoch) }
        #expect(e4?.code == .invalidResource)
    }

    @Test func nestedProvisionsLieWithinTheirParent() throws {
        let json: JSONValue = ["resourceType": "Consent", "status": "active",
                               "policyRule": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"]]],
                               "provision": ["period": ["start": "2020-01-01", "end": "2030-01-01"],
                                             "purpose": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH"]],
                                             "provision": [["type": "permit", "period": ["start": "2019-01-01", "end": "2025-01-01"],
                                                            "class": [["system": "urn:twinbank:data-category", "code": "vital-signs"]]],
                                                           ["type": "deny", "code": [["coding": [["system": "http://loinc.org", "code": "81247-9"]]]]]]]]
        let rules = try FHIRConsent.read(json, recordedAt: Self.day("2026-01-01")).rules
        #expect(rules.map(\.effect) == [.permit, .deny], "a provision with nested ones and no type is only their context")
        #expect(rules[0].validity == Validity(start: Self.day("2020-01-01"), end: Self.day("2025-01-01")))
        #expect(rules[1].validity == Validity(start: Self.day("2020-01-01"), end: Self.day("2030-01-01")))
        #expect(rules.allSatisfy { $0.purposes == [.research] })
        #expect(rules[0].data.selectors == [.category(.vitalSigns)])
        #expect(rules[1].data.selectors == [.code(CodeKey(system: "http://loinc.org", code: "81247-9"))])
    }

    @Test func anOversizedDocumentIsRefusedBeforeParsing() throws {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: FHIRConsent.maximumBytes + 1)
        let e = #expect(throws: FHIRError.self) { try FHIRConsent.read(bytes: big, recordedAt: .epoch) }
        #expect(e?.code == .unsupported)
        #expect(e?.value == "\(FHIRConsent.maximumBytes + 1)")
        let bad = #expect(throws: FHIRError.self) { try FHIRConsent.read(bytes: Array("{\"resourceType\": ".utf8), recordedAt: .epoch) }
        #expect(bad?.code == .malformedJSON)
    }

    @Test func aPurposeIsReadWithItsSpecialisations() throws {
        let json: JSONValue = ["resourceType": "Consent", "status": "active",
                               "provision": ["type": "deny", "purpose": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "CLINTRCH"],
                                                                         ["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"]],
                                             "dataPeriod": ["start": "2020-01-01"]]]
        let rules = try FHIRConsent.read(json, recordedAt: Self.day("2026-01-01")).rules
        #expect(rules.map(\.purposes) == [[.research, .treatment]])
        #expect(rules.first?.data.period == DataPeriod(from: Self.day("2020-01-01")))
        #expect(rules.first?.granted == Self.day("2026-01-01"))
        let bad: JSONValue = ["resourceType": "Consent", "status": "active",
                              "provision": ["type": "deny", "purpose": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "FUN"]]]]
        let e = #expect(throws: FHIRError.self) { try FHIRConsent.read(bad, recordedAt: .epoch) }
        #expect(e?.location == "Consent.provision.purpose[0]")
        #expect(e?.value == "FUN")
    }

    @Test func exportPassesTheValidatorAndReadsBackEqual() throws {
        var consent = Consent(twin: "person:7", updated: Self.day("2026-03-01"), updatedBy: "pat")
        consent.add(ConsentRule(id: "", effect: .permit, purposes: [.research], organisations: ["uni"],
                                data: DataScope(selectors: [.category(.vitalSigns), .system("http://snomed.info/sct"), .code(CodeKey(system: "http://loinc.org", code: "2339-0"))],
                                                period: DataPeriod(from: Self.day("2020-01-01"), to: Self.day("2024-01-01"))),
                                validity: Validity(start: Self.day("2026-01-01"), end: Self.day("2027-01-01")), granted: Self.day("2026-01-02"), source: "command"))
        consent.add(ConsentRule(id: "", effect: .deny, actors: ["dr who"], actions: ["export", "read"], data: DataScope(selectors: [.category(.genomics), .descendants(.snomed("73211009"))]),
                                granted: Self.day("2026-02-01")))
        consent.add(ConsentRule(id: "", effect: .permit, purposes: [.commercial], granted: Self.day("2026-02-02")))
        try consent.revoke(rule: "r3", at: Self.day("2026-02-03"))
        let json = try FHIRConsent.resource(for: consent)
        #expect(Validator().validate(json).isEmpty, "\(Validator().validate(json))")
        let bytes = JSONWriter().write(json)
        let back = try FHIRConsent.read(try JSONReader().read(bytes), recordedAt: .epoch)
        #expect(back.rules == consent.rules.filter { $0.revoked == nil })
        #expect(back.rules.map(\.id) == ["r1", "r2"])
        #expect(back.patient == "person:7")

        var empty = Consent(twin: "p")
        empty.add(ConsentRule(id: "", effect: .permit, granted: .epoch))
        empty.revokeAll(at: Self.day("2026-01-01"))
        let e = #expect(throws: GovernanceError.self) { try FHIRConsent.resource(for: empty) }
        #expect(e?.code == .invalidConsent)
    }
}
