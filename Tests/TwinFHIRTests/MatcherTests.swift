import Foundation
import Testing
import TwinTesting
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
        // mass to moles through glucose's molar mass: 180 mg/dL is 9.99 mmol/L
        #expect(outcomes["glucose"] == .met)
        #expect(r.results.first { $0.criterion.id == "glucose" }?.reason.contains("9.99 mmol/L (recorded as 180 mg/dL)") == true)
        // a deceased person is never eligible: the matcher adds the alive criterion the file lacks
        #expect(outcomes[Matcher.implicitAliveID] == .met)
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

    /// A FHIR lab characteristic without a bound or without the unit its code needs is unknown, never met by all.
    @Test func fhirThresholdsWithoutBoundOrUnitAreUnsupported() throws {
        let group = try JSONReader().read(#"""
        {"resourceType": "Group", "id": "g", "type": "person", "actual": false, "characteristic": [
          {"code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueRange": {"low": {"unit": "%"}}, "exclude": false},
          {"code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 6.5, "comparator": ">="}, "exclude": false}]}
        """#)
        let c = try Criteria(json: group)
        for criterion in c.criteria {
            guard case .unsupported = criterion.kind else { Issue.record("\(criterion.kind) should be unsupported"); continue }
        }
        let r = Matcher(criteria: c).evaluate(Self.woman("w"), events: [], asOf: Instant.parse("2024-01-01")!)
        #expect(r.eligible == nil)
    }

    @Test(arguments: [
        (#"{"criteria": []}"#, "criteria"),
        (#"{"criteria": [{"type": "height"}]}"#, "criteria[0].type"),
        (#"{"criteria": [{"type": "condition", "codes": ["nonsense"]}]}"#, "criteria[0].codes[0]"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "unit": "furlong"}]}"#, "criteria[0].unit"),
        // incomplete criteria
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "unit": "%"}]}"#, "criteria[0]"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "min": 6.5}]}"#, "criteria[0].unit"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "mg/dL"}]}"#, "criteria[0].unit"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "min": "6.5", "unit": "%"}]}"#, "criteria[0].min"),
        (#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "min": 8, "max": 7, "unit": "%"}]}"#, "criteria[0].min"),
        (#"{"criteria": [{"type": "age"}]}"#, "criteria[0]"),
        (#"{"criteria": [{"min": 18}]}"#, "criteria[0].type"),
        (#"{"criteria": [{"type": "sex", "values": ["F"]}]}"#, "criteria[0].values[0]"),
        (#"{"criteria": [{"type": "condition", "codes": ["snomed:44054006"], "active": "yes"}]}"#, "criteria[0].active"),
        (#"{"criteria": [{"type": "alive", "exclude": true}]}"#, "criteria[0].exclude"),
        (#"{"criteria": [{"id": "a", "type": "alive"}, {"id": "a", "type": "age", "min": 1}]}"#, "criteria[1].id"),
        // unknown keys, at the top and per type
        (#"{"criterias": [{"type": "alive"}]}"#, "$"),
        (#"{"criteria": [{"type": "alive", "withinDays": 30}]}"#, "criteria[0]"),
        (#"{"criteria": [{"type": "age", "min": 18, "unit": "a"}]}"#, "criteria[0]"),
    ])
    func badCriteriaAreRejected(text: String, location: String) {
        #expect {
            _ = try Criteria(json: try JSONReader().read(text))
        } throws: { e in (e as? FHIRError)?.location == location && (e as? FHIRError)?.code == .invalidCriteria }
    }

    @Test(.enabled(if: SharedFolder.has("data/synthea"),

                   "skipped: the Synthea bundles data/synthea are missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func syntheaMatchOverBank() throws {
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

    static func woman(_ id: TwinID, born: String = "1970-03-01", _ extra: [String: Value] = [:]) -> Twin {
        var attrs: [String: Value] = ["gender": .text("female"), "birthDate": .date(Instant.parse(born)!)]
        for (k, v) in extra { attrs[k] = v }
        return Twin(id: id, kind: .person, attributes: attrs)
    }

    /// The report: seven women with HbA1c 5.9-6.2 % were eligible for "HbA1c > 6.5 %" written with `op` and
    /// `value`, which were ignored. Now the file is refused naming both keys, and the criterion written as
    /// the schema says finds none of them.
    @Test func misspelledBoundsAreRefusedAndTheCorrectCriterionFindsNone() throws {
        #expect {
            _ = try criteria(#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "op": ">", "value": 6.5, "unit": "%"}]}"#)
        } throws: { e in
            guard let e = e as? FHIRError, e.code == .invalidCriteria, e.location == "criteria[0]" else { return false }
            return e.message.contains("'op'") && e.message.contains("'value'") && e.message.contains("'min'") && e.message.contains("lab criterion")
        }
        let c = try criteria(#"{"asOf": "2024-06-01", "criteria": [{"type": "sex", "values": ["female"]}, {"id": "a1c", "type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%"}]}"#)
        let values = [5.9, 6.0, 6.05, 6.1, 6.15, 6.2, 6.2]
        var results: [Matcher.TwinResult] = []
        for (i, v) in values.enumerated() {
            let id = try TwinID("w\(i)")
            results.append(Matcher(criteria: c).evaluate(Self.woman(id), events: [event(id, "fhir/Observation/a\(i)", .loinc("4548-4"), "2024-01-10T00:00:00Z", .quantity(Quantity(v, "%")))], asOf: c.asOf!))
        }
        #expect(results.count == 7)
        #expect(results.allSatisfy { $0.eligible == false })
        #expect(results.allSatisfy { $0.results.first { $0.criterion.id == "a1c" }?.outcome == .notMet })
    }

    @Test(arguments: [
        ("greaterThan", "'min'"), ("within", "'withinDays'"), ("lessThan", "'max'"), ("units", "'unit'"),
        ("withindays", "'withinDays'"), ("maxx", "'max'"), ("excluded", "'exclude'"),
    ])
    func unknownKeysNameWhatWasMeant(key: String, meant: String) throws {
        #expect {
            _ = try criteria(#"{"criteria": [{"type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%", "\#(key)": 1}]}"#)
        } throws: { e in
            guard let e = e as? FHIRError, e.code == .invalidCriteria else { return false }
            return e.message.contains("'\(key)' (did you mean \(meant)") && e.value == key
        }
    }

    @Test func unknownKeysOfSeveralCriteriaAreNamedTogether() throws {
        #expect {
            _ = try criteria(#"{"asof": "2024-01-01", "criteria": [{"type": "age", "minimum": 18}, {"type": "lab", "code": "loinc:2339-0", "min": 7, "unit": "mmol/L", "within": 90}]}"#)
        } throws: { e in
            guard let e = e as? FHIRError else { return false }
            return e.location == "$" && e.message.contains("'asof' (did you mean 'asOf'?)") && e.message.contains("unknown key 'minimum' (did you mean 'min'?) in criteria[0] (an age criterion)")
                && e.message.contains("unknown key 'within' (did you mean 'withinDays'?) in criteria[1] (a lab criterion)")
        }
    }

    /// HbA1c recorded in mmol/mol against a criterion in % goes through the IFCC-NGSP master equation: 48 mmol/mol
    /// is 6.54 %, 47 mmol/mol is 6.45 % (UCUM's plain ratio would have made them 4.8 and 4.7 %).
    @Test(arguments: [(48.0, "mmol/mol", Matcher.Outcome.met), (47.0, "mmol/mol", .notMet), (6.5, "%", .met), (6.4, "%", .notMet)])
    func labValuesInAnotherUnitAreConverted(value: Double, unit: String, expected: Matcher.Outcome) throws {
        let percent = try criteria(#"{"asOf": "2024-06-01", "criteria": [{"id": "a1c", "type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%"}]}"#)
        let ifcc = try criteria(#"{"asOf": "2024-06-01", "criteria": [{"id": "a1c", "type": "lab", "code": "loinc:4548-4", "min": 47.5, "unit": "mmol/mol"}]}"#)
        for c in [percent, ifcc] {
            let r = Matcher(criteria: c).evaluate(Self.woman("w"), events: [event("w", "fhir/Observation/a", .loinc("4548-4"), "2024-01-10T00:00:00Z", .quantity(Quantity(value, unit)))], asOf: c.asOf!)
            #expect(r.results.first { $0.criterion.id == "a1c" }?.outcome == expected)
        }
    }

    /// Age is whole years at asOf: the day before the 60th birthday is 59.
    @Test(arguments: [("2020-06-01T00:00:00Z", Matcher.Outcome.notMet), ("2020-06-02T00:00:00Z", .met), ("2020-06-01T23:59:59Z", .notMet), ("2021-01-01T00:00:00Z", .met)])
    func ageIsComputedAtAsOf(asOf: String, expected: Matcher.Outcome) throws {
        let c = try criteria(#"{"criteria": [{"id": "age", "type": "age", "min": 60}]}"#)
        let r = Matcher(criteria: c).evaluate(Self.woman("w", born: "1960-06-02"), events: [], asOf: Instant.parse(asOf)!)
        #expect(r.results.first { $0.criterion.id == "age" }?.outcome == expected)
    }

    /// No age before birth (it printed "age -2"), and the age at death for the dead, as aggregate queries count it.
    @Test func ageBeforeBirthAndAtDeath() throws {
        let c = try criteria(#"{"criteria": [{"id": "age", "type": "age", "max": 50}]}"#)
        let unborn = Matcher(criteria: c).evaluate(Self.woman("w", born: "2022-03-01"), events: [], asOf: Instant.parse("2020-01-01T00:00:00Z")!)
        let u = try #require(unborn.results.first { $0.criterion.id == "age" })
        #expect(u.outcome == .notMet && u.reason.contains("not born by 2020-01-01"), "\(u.reason)")
        var dead = Self.woman("d", born: "1940-01-01")
        dead.attributes["deceased"] = .date(Instant.parse("1985-06-01")!)
        let d = try #require(Matcher(criteria: c).evaluate(dead, events: [], asOf: Instant.parse("2024-01-01T00:00:00Z")!).results.first { $0.criterion.id == "age" })
        #expect(d.outcome == .met && d.reason.contains("died aged 45"), "\(d.reason)")
    }

    /// A deceased person is not eligible, even when the criteria do not ask for `alive`; one who dies after asOf is.
    @Test(arguments: [(Value.date(Instant.parse("2019-02-01")!), false), (.boolean(true), false), (.date(Instant.parse("2025-02-01")!), true), (.boolean(false), true)])
    func deceasedIsNeverEligible(deceased: Value, eligible: Bool) throws {
        let c = try criteria(#"{"asOf": "2024-06-01", "criteria": [{"type": "sex", "values": ["female"]}]}"#)
        let matcher = Matcher(criteria: c)
        #expect(matcher.criteria.criteria.count == 2 && matcher.descriptions.last?.contains("always applied") == true)
        let r = matcher.evaluate(Self.woman("w", ["deceased": deceased]), events: [], asOf: c.asOf!)
        #expect(r.eligible == eligible)
        // with an explicit alive criterion nothing is added
        let explicit = try criteria(#"{"criteria": [{"type": "alive"}]}"#)
        #expect(Matcher(criteria: explicit).criteria.criteria.count == 1)
    }

    /// Each criterion is echoed as understood: in the report's `criteria` array.
    @Test func criteriaAreDescribedAsUnderstood() throws {
        let c = try criteria(#"""
        {"asOf": "2024-06-01", "criteria": [
          {"type": "age", "min": 18, "max": 75},
          {"type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%", "withinDays": 365, "description": "HbA1c over 6.5"},
          {"type": "condition", "codes": ["snomed:84114007"], "exclude": true}]}
        """#)
        let m = Matcher(criteria: c)
        #expect(m.descriptions[0] == "age at asOf (whole years) between 18 and 75 years (inclusive)")
        #expect(m.descriptions[1] == "HbA1c over 6.5: latest loinc:4548-4 (hemoglobin A1c/hemoglobin.total in blood) >= 6.5 %, other units converted within the 365 days before asOf")
        #expect(m.descriptions[2] == "exclusion (met when absent): a condition snomed:84114007 (or a descendant)")
        let json = m.report([], asOf: c.asOf!)
        #expect(json["criteria"]?.list.compactMap(\.stringValue) == m.descriptions)
    }
}
