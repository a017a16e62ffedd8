import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinFHIR

@Suite struct MatcherTests {
    static let t0 = Instant.parse("2020-06-01T00:00:00Z")!

    func event(_ twin: TwinID, _ source: String, _ code: CodeKey, _ time: String, _ value: Value? = nil, end: String? = nil) -> Event {
        let d = EventDraft(twin: twin, effective: EffectiveTime(Instant.parse(time)!, end: end.flatMap(Instant.parse)),
                           code: Concept(code), value: value, source: Source(.record, source))
        var h = EventHasher()
        return Event(id: h.hash(d), twin: twin, effective: d.effective, recorded: Self.t0, sequence: 1, category: .observation,
                     code: d.code, value: value, source: d.source)
    }

    func criteria(_ text: String) throws -> Criteria { try Criteria(json: try JSONReader().read(text)) }

    @Test func everyCriterionHasAnOutcomeWithEvidence() throws {
        let c = try criteria(#"""
        {"id": "t", "asOf": "2020-06-01", "criteria": [
          {"id": "age", "type": "age", "min": 40, "max": 75},
          {"id": "sex", "type": "sex", "values": ["female"]},
          {"id": "dm", "type": "condition", "codes": ["http://snomed.info/sct|73211009"], "active": true},
          {"id": "no-hf", "type": "condition", "codes": ["http://snomed.info/sct|84114007"], "exclude": true},
          {"id": "a1c", "type": "lab", "code": "http://loinc.org|4548-4", "min": 7, "max": 10, "unit": "%", "withinDays": 365},
          {"id": "glucose", "type": "lab", "code": "http://loinc.org|2339-0", "min": 7, "unit": "mmol/L", "withinDays": 365},
          {"id": "glucose-g", "type": "lab", "code": "http://loinc.org|2339-0", "min": 1.5, "max": 2, "unit": "g/L", "withinDays": 365},
          {"id": "statin", "type": "medication", "codes": ["http://www.nlm.nih.gov/research/umls/rxnorm|316672"]}]}
        """#)
        let twin = Twin(id: "ann", kind: .person, attributes: ["gender": .text("female"), "birthDate": .date(Instant.parse("1960-07-01")!)])
        let events = [
            event("ann", "fhir/Condition/c1", .snomed("44054006"), "2010-01-01T00:00:00Z", .concept(Concept(system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "confirmed"))),
            event("ann", "fhir/Observation/o1", .loinc("4548-4"), "2018-01-01T00:00:00Z", .quantity(Quantity(6.0, "%"))),
            event("ann", "fhir/Observation/o2", .loinc("4548-4"), "2020-01-01T00:00:00Z", .quantity(Quantity(8.1, "%"))),
            event("ann", "fhir/Observation/o3", .loinc("2339-0"), "2020-02-01T00:00:00Z", .quantity(Quantity(180, "mg/dL"))),
        ]
        let r = Matcher(criteria: c).evaluate(twin, events: events, asOf: c.asOf!)
        let outcomes = Dictionary(uniqueKeysWithValues: r.results.map { ($0.criterion.id, $0.outcome) })
        #expect(outcomes["age"] == .met)  // 59 on 2020-06-01
        #expect(outcomes["sex"] == .met)
        #expect(outcomes["dm"] == .met)   // type 2 DM is-a diabetes mellitus
        #expect(outcomes["no-hf"] == .met)
        #expect(outcomes["a1c"] == .met)  // the latest (8.1 %), not the 2018 value
        // mass to moles needs the molar mass, which UCUM does not know: unknown, with the reason.
        #expect(outcomes["glucose"] == .unknown)
        #expect(r.results.first { $0.criterion.id == "glucose" }?.reason.contains("does not convert") == true)
        #expect(outcomes["glucose-g"] == .met)  // 180 mg/dL = 1.8 g/L
        #expect(outcomes["statin"] == .unknown)  // no medication records at all
        #expect(r.eligible == nil)
        #expect(r.results.first { $0.criterion.id == "a1c" }?.evidence.map(\.source.id) == ["fhir/Observation/o2"])
        #expect(r.results.first { $0.criterion.id == "dm" }?.evidence.map(\.source.id) == ["fhir/Condition/c1"])

        // Age 76 and heart failure recorded: not eligible, exclusion not met.
        let old = Twin(id: "bob", kind: .person, attributes: ["gender": .text("male"), "birthDate": .date(Instant.parse("1944-01-01")!)])
        let r2 = Matcher(criteria: c).evaluate(old, events: [event("bob", "fhir/Condition/c2", .snomed("88805009"), "2015-01-01T00:00:00Z")], asOf: c.asOf!)
        let o2 = Dictionary(uniqueKeysWithValues: r2.results.map { ($0.criterion.id, $0.outcome) })
        #expect(o2["age"] == .notMet && o2["sex"] == .notMet && o2["no-hf"] == .notMet && o2["dm"] == .notMet && o2["a1c"] == .unknown)
        #expect(r2.eligible == false)
    }

    @Test func researchStudyWithGroup() throws {
        let study = try JSONReader().read(#"""
        {"resourceType": "ResearchStudy", "id": "rs", "status": "active", "title": "Women 18-65 with hypertension",
         "contained": [{"resourceType": "Group", "id": "g", "type": "person", "actual": false, "characteristic": [
           {"code": {"coding": [{"system": "http://loinc.org", "code": "30525-0"}], "text": "age"}, "valueRange": {"low": {"value": 18, "unit": "a"}, "high": {"value": 65, "unit": "a"}}, "exclude": false},
           {"code": {"coding": [{"system": "http://loinc.org", "code": "46098-0"}]}, "valueCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "female"}]}, "exclude": false},
           {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "439401001"}]}, "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]}, "exclude": false},
           {"code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "valueQuantity": {"value": 200, "comparator": "<", "system": "http://unitsofmeasure.org", "code": "mg/dL"}, "exclude": false}]}],
         "enrollment": [{"reference": "#g"}]}
        """#)
        let c = try Criteria(json: study)
        #expect(c.criteria.count == 4)
        guard case .age(18, 65) = c.criteria[0].kind, case .sex(["female"]) = c.criteria[1].kind,
              case .condition(let codes, _) = c.criteria[2].kind, case .lab(_, nil, 200, "mg/dL") = c.criteria[3].kind else {
            Issue.record("unexpected criteria \(c.criteria.map(\.kind))"); return
        }
        #expect(codes == [.snomed("38341003")])
    }

    @Test(arguments: [
        (#"{"criteria": []}"#, "criteria"),
        (#"{"criteria": [{"type": "height"}]}"#, "criteria[0].type"),
        (#"{"criteria": [{"type": "condition", "codes": ["nonsense"]}]}"#, "criteria[0].codes[0]"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "unit": "furlong"}]}"#, "criteria[0].unit"),
    ])
    func badCriteriaAreRejected(text: String, location: String) {
        #expect {
            _ = try Criteria(json: try JSONReader().read(text))
        } throws: { e in (e as? FHIRError)?.location == location && (e as? FHIRError)?.code == .invalidCriteria }
    }

    @Test func syntheaMatchOverBank() throws {
        let bank = Bank(storage: MemoryStorage())
        _ = try FHIRImporter(bank: bank).importPaths([SharedData.root.appendingPathComponent("synthea").path])
        let c = try criteria(#"""
        {"id": "htn", "asOf": "2019-06-01", "criteria": [
          {"id": "adult", "type": "age", "min": 18},
          {"id": "alive", "type": "alive"},
          {"id": "htn", "type": "condition", "codes": ["snomed:38341003"]},
          {"id": "sbp", "type": "lab", "code": "loinc:8480-6", "min": 130, "unit": "mm[Hg]", "withinDays": 3650}]}
        """#)
        let results = try Matcher(criteria: c).evaluate(bank: bank)
        #expect(results.count == 60)
        #expect(results.allSatisfy { $0.results.count == 4 })
        let eligible = results.filter { $0.eligible == true }
        #expect(!eligible.isEmpty)
        // Every eligible twin's hypertension evidence really is a hypertension record of that twin.
        for r in eligible {
            let ev = r.results.first { $0.criterion.id == "htn" }!.evidence
            #expect(!ev.isEmpty && ev.allSatisfy { $0.code.code == "38341003" && $0.twin == r.twin })
        }
        let json = Matcher(criteria: c).report(results, asOf: c.asOf!)
        #expect(json["eligible"]?.list.count == eligible.count)
    }
}
