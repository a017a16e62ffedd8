import Foundation
import TwinCore
@testable import TwinFHIR

/// The robustness harness of issue 23: turns a sound FHIR bundle (a Synthea patient, an R4 example) into
/// *mutated* variants with the oddities real Synthea versions and hospital feeds have, so tests can check that
/// every patient still imports (what is odd is flagged or set aside) and that invalid FHIR is refused with a
/// clear error. We cannot run Synthea here; this stands in for "a larger set of Synthea patients".
///
/// Each ``Mutation`` edits a ``MessyBundle`` (the bundle's entries as editable objects) and says what the import
/// must then do (``Expectation``). `MessyBundlesTests` applies every mutation to the shared bundles, one at a time
/// and all together. To try a bundle of your own, run
/// `MESSY_BUNDLES=/path/to/dir swift test --skip-build --filter MessyBundlesTests/everyBundleOfADirectory`.
struct MessyBundle {
    /// The bundle's members other than `entry`.
    var top: JSONObject
    var entries: [JSONObject]
    /// Entries (fullUrl) a mutation added or changed whose value must be set aside.
    var expectSetAside: [String] = []
    /// Entries a mutation added or changed that must import as sound data (no issue).
    var expectSound: [String] = []
    /// Resource types a mutation added that the importer does not map (counted in `skipped`).
    var expectSkipped: Set<String> = []
    private var counter = 0

    init(_ bundle: JSONValue) {
        var t = bundle.objectValue ?? JSONObject()
        entries = (t["entry"]?.list ?? []).compactMap(\.objectValue)
        t["entry"] = nil
        top = t
    }

    var json: JSONValue {
        var t = top
        t["entry"] = .array(entries.map { .object($0) })
        return .object(t)
    }

    var isTransaction: Bool { top["type"]?.stringValue == "transaction" || top["type"]?.stringValue == "batch" }

    func type(_ i: Int) -> String? { entries[i]["resource"]?["resourceType"]?.stringValue }
    func resource(_ i: Int) -> JSONObject { entries[i]["resource"]?.objectValue ?? JSONObject() }
    func indices(of type: String) -> [Int] { entries.indices.filter { self.type($0) == type } }
    func label(_ i: Int) -> String { entries[i]["fullUrl"]?.stringValue ?? "Bundle.entry[\(i)].resource" }

    /// The first Patient entry.
    var patient: Int? { indices(of: "Patient").first }
    /// How records refer to the patient: its fullUrl (or `Patient/ID`).
    var patientReference: String? {
        guard let p = patient else { return nil }
        return entries[p]["fullUrl"]?.stringValue ?? resource(p)["id"]?.stringValue.map { "Patient/\($0)" }
    }

    /// The Observations with a valueQuantity of a code the bank knows is measured as a quantity (so a value
    /// of another type must be set aside).
    var quantityObservations: [Int] {
        indices(of: "Observation").filter { i in
            let r = resource(i)
            guard r["valueQuantity"] != nil, let c = FHIRValues.concept(r["code"]) else { return false }
            return CodeUnits.expectedDimensions(for: c.key) != nil
        }
    }

    /// Edits the resource of entry `i`.
    mutating func edit(_ i: Int, _ f: (inout JSONObject) -> Void) {
        var r = resource(i)
        f(&r)
        entries[i]["resource"] = .object(r)
    }

    /// Adds an entry (a fresh `urn:uuid:` fullUrl, and a POST request in a transaction); returns its fullUrl.
    @discardableResult
    mutating func add(_ resource: JSONObject) -> String {
        counter += 1
        let url = "urn:uuid:00000000-0000-4000-8000-\(String(format: "%012d", counter))"
        var e: JSONObject = ["fullUrl": .string(url), "resource": .object(resource)]
        if isTransaction { e["request"] = ["method": "POST", "url": .string(resource["resourceType"]?.stringValue ?? "Basic")] }
        entries.append(e)
        return url
    }

    /// An Observation of the patient, effective at `time`.
    func observation(loinc: String, _ value: (String, JSONValue)?, time: String = "2015-06-01T10:00:00Z") -> JSONObject {
        var o: JSONObject = [
            "resourceType": "Observation", "status": "final",
            "code": ["coding": [["system": "http://loinc.org", "code": .string(loinc)]]],
            "subject": ["reference": .string(patientReference ?? "urn:uuid:none")],
            "effectiveDateTime": .string(time),
        ]
        if let (k, v) = value { o[k] = v }
        return o
    }

    /// A quantity with a free-text unit (`unit` only, as feeds write it), or none when `unit` is nil.
    static func quantity(_ value: Double, unit: String?) -> JSONValue {
        var q: JSONObject = ["value": .number(value)]
        if let unit { q["unit"] = .string(unit) }
        return .object(q)
    }
}

/// What an import of a mutated bundle must do.
enum Expectation: Sendable, CustomStringConvertible {
    /// Every patient imports; entries in ``MessyBundle/expectSetAside`` are set aside, those in
    /// ``MessyBundle/expectSound`` imported without issue.
    case imports
    /// Invalid FHIR: the bundle is refused with this error code, naming a location, nothing written.
    case refused(FHIRError.Code)

    var description: String {
        switch self {
        case .imports: "imports"
        case .refused(let c): "refused (\(c))"
        }
    }
}

/// One oddity: a name, what it does to a bundle, and what the import must do. `apply` returns false when the
/// bundle has nothing it applies to (no Patient, no Observation with a quantity, ...).
struct Mutation: Sendable, CustomStringConvertible {
    var name: String
    var expect: Expectation
    var apply: @Sendable (inout MessyBundle) -> Bool
    var description: String { name }
}

extension Mutation {
    /// Adds an observation with a unit as feeds write it (`unit` text only); `sound` when the unit must be
    /// read (a known synonym), else it must be set aside.
    static func unit(_ text: String?, loinc: String, value: Double, sound: Bool) -> Mutation {
        Mutation(name: "unit '\(text ?? "<none>")' on loinc \(loinc)", expect: .imports) { b in
            guard b.patient != nil else { return false }
            let url = b.add(b.observation(loinc: loinc, ("valueQuantity", MessyBundle.quantity(value, unit: text))))
            if sound { b.expectSound.append(url) } else { b.expectSetAside.append(url) }
            return true
        }
    }

    /// Edits the first (and the last) Observation with a valueQuantity; `setAside` when the edited value must
    /// be set aside.
    static func onQuantityObservation(_ name: String, setAside: Bool?, expect: Expectation = .imports,
                                      _ f: @escaping @Sendable (inout JSONObject) -> Void) -> Mutation {
        Mutation(name: name, expect: expect) { b in
            let found = b.quantityObservations
            guard let first = found.first else { return false }
            for i in Set([first, found.last!]) {
                b.edit(i, f)
                switch setAside {
                case true?: b.expectSetAside.append(b.label(i))
                case false?: b.expectSound.append(b.label(i))
                case nil: break
                }
            }
            return true
        }
    }

    /// What becomes of an added resource.
    enum Added: Sendable { case sound, setAside, skipped, kept }

    /// Adds a resource of the patient built by `make(patientReference)`: imported as sound data, set aside,
    /// skipped (a type the importer does not map), or kept (a record, a twin).
    static func adds(_ name: String, _ outcome: Added, _ make: @escaping @Sendable (String) -> JSONObject) -> Mutation {
        Mutation(name: "adds \(name)", expect: .imports) { b in
            guard let ref = b.patientReference else { return false }
            let r = make(ref)
            let url = b.add(r)
            switch outcome {
            case .skipped: if let t = r["resourceType"]?.stringValue { b.expectSkipped.insert(t) }
            case .sound: b.expectSound.append(url)
            case .setAside: b.expectSetAside.append(url)
            case .kept: break
            }
            return true
        }
    }

    /// Edits the Patient.
    static func onPatient(_ name: String, _ f: @escaping @Sendable (inout JSONObject) -> Void) -> Mutation {
        Mutation(name: name, expect: .imports) { b in
            guard let p = b.patient else { return false }
            b.edit(p, f)
            return true
        }
    }

    /// Rewrites every reference to the patient (its fullUrl) with `newReference(patient resource)`.
    static func patientReferences(_ name: String, _ newReference: @escaping @Sendable (JSONObject) -> String?) -> Mutation {
        Mutation(name: name, expect: .imports) { b in
            guard let p = b.patient, let old = b.patientReference, let new = newReference(b.resource(p)) else { return false }
            for i in b.entries.indices where i != p {
                guard case .object(let r)? = b.entries[i]["resource"] else { continue }
                b.entries[i]["resource"] = Self.replacing(.object(r), reference: old, with: new)
            }
            return true
        }
    }

    static func replacing(_ v: JSONValue, reference old: String, with new: String) -> JSONValue {
        switch v {
        case .object(var o):
            for k in o.members.indices {
                if o.members[k].key == "reference", o.members[k].value.stringValue == old { o.members[k].value = .string(new) }
                else { o.members[k].value = replacing(o.members[k].value, reference: old, with: new) }
            }
            return .object(o)
        case .array(let a): return .array(a.map { replacing($0, reference: old, with: new) })
        default: return v
        }
    }
}

/// The oddities (issue 23): what real Synthea versions and hospital feeds write.
enum Oddities {
    static let loincHeartRate = "8867-4"
    static let allergyActive: JSONValue = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"]]]
    static let conditionActive: JSONValue = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"]]]

    /// Mutations after which every patient must still import.
    static let importing: [Mutation] = units + values + times + statuses + resources + patients + references + bundles

    /// Non-UCUM and odd units.
    static let units: [Mutation] = [
        .unit("pH", loinc: "2744-1", value: 7.4, sound: true),
        .unit("M/uL", loinc: "789-8", value: 4.5, sound: true),
        .unit("K/uL", loinc: "6690-2", value: 6.1, sound: true),
        .unit("10^3/uL", loinc: "6690-2", value: 6.2, sound: true),
        .unit("x10E3/uL", loinc: "777-3", value: 250, sound: true),
        .unit("10*3/ul", loinc: "777-3", value: 251, sound: true),
        .unit("thou/uL", loinc: "6690-2", value: 6.3, sound: true),
        .unit("units", loinc: "11111-1", value: 3, sound: true),
        .unit("mmHg", loinc: "8480-6", value: 121, sound: true),
        .unit("/min", loinc: loincHeartRate, value: 71, sound: true),
        .unit("bpm", loinc: loincHeartRate, value: 72, sound: true),
        .unit("{beats}/min", loinc: loincHeartRate, value: 73, sound: true),
        .unit("{score}", loinc: "44261-6", value: 4, sound: true),
        .unit("(score)", loinc: "44261-6", value: 5, sound: true),
        .unit("%", loinc: "59408-5", value: 97, sound: true),
        .unit("mL/min/{1.73_m2}", loinc: "33914-3", value: 88, sound: true),
        .unit("beats per fortnight", loinc: loincHeartRate, value: 74, sound: false),
        .unit("furlongs", loinc: "29463-7", value: 75, sound: false),
        .unit(nil, loinc: loincHeartRate, value: 76, sound: false),   // value, but no unit, code or system
        .unit(nil, loinc: "99999-9", value: 77, sound: true),          // a unitless number of a code without units
        .unit("units", loinc: "20448-7", value: 10, sound: false),     // insulin needs [IU]/L
        Mutation(name: "unit as UCUM code without system", expect: .imports) { b in
            guard b.patient != nil else { return false }
            b.expectSound.append(b.add(b.observation(loinc: loincHeartRate, ("valueQuantity", ["value": 78, "code": "/min"]))))
            return true
        },
        Mutation(name: "unit in a foreign system", expect: .imports) { b in
            guard b.patient != nil else { return false }
            b.expectSetAside.append(b.add(b.observation(loinc: loincHeartRate, ("valueQuantity", ["value": 79, "system": "http://example.org/units", "code": "BPM"]))))
            return true
        },
    ]

    /// value[x] other than a quantity, quantities without parts, components without values, absent data.
    static let values: [Mutation] = [
        .onQuantityObservation("valueQuantity without unit, code and system", setAside: nil) { r in
            r["valueQuantity"] = ["value": r["valueQuantity"]?["value"] ?? 1]
        },
        .onQuantityObservation("valueQuantity without value", setAside: true) { r in
            var q = r["valueQuantity"]?.objectValue ?? JSONObject()
            q["value"] = nil
            r["valueQuantity"] = .object(q)
        },
        .onQuantityObservation("valueQuantity with a comparator", setAside: true) { r in
            var q = r["valueQuantity"]?.objectValue ?? JSONObject()
            q["comparator"] = "<"
            r["valueQuantity"] = .object(q)
        },
        .onQuantityObservation("valueString instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil; r["valueString"] = "see report"
        },
        .onQuantityObservation("valueCodeableConcept instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil; r["valueCodeableConcept"] = ["coding": [["system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"]]]
        },
        .onQuantityObservation("valueBoolean instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil; r["valueBoolean"] = true
        },
        .onQuantityObservation("valueInteger instead of valueQuantity", setAside: nil) { r in
            let n = Int(r["valueQuantity"]?["value"]?.doubleValue ?? 1)
            r["valueQuantity"] = nil; r["valueInteger"] = .number(String(n))
        },
        .onQuantityObservation("valueRange instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil
            r["valueRange"] = ["low": ["value": 1, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"], "high": ["value": 2]]
        },
        .onQuantityObservation("valueRatio instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil; r["valueRatio"] = ["numerator": ["value": 1], "denominator": ["value": 128]]
        },
        .onQuantityObservation("valueSampledData with E/L/U points", setAside: true) { r in
            r["valueQuantity"] = nil
            r["valueSampledData"] = ["origin": ["value": 0, "system": "http://unitsofmeasure.org", "code": "mV"], "period": 10, "dimensions": 1, "data": "1 2 E 3 L U"]
        },
        .onQuantityObservation("valueSampledData with an odd origin unit", setAside: true) { r in
            r["valueQuantity"] = nil
            r["valueSampledData"] = ["origin": ["value": 0, "unit": "ticks"], "period": 10, "dimensions": 1, "data": "1 2 3"]
        },
        .onQuantityObservation("valuePeriod instead of valueQuantity", setAside: true) { r in
            r["valueQuantity"] = nil; r["valuePeriod"] = ["start": "2015-01-01", "end": "2015-02-01"]
        },
        .onQuantityObservation("dataAbsentReason instead of a value", setAside: true) { r in
            r["valueQuantity"] = nil
            r["dataAbsentReason"] = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown"]]]
        },
        Mutation(name: "components without values", expect: .imports) { b in
            let panels = b.indices(of: "Observation").filter { b.resource($0)["component"] != nil }
            guard let i = panels.first else { return false }
            b.edit(i) { r in
                r["component"] = .array((r["component"]?.list ?? []).enumerated().map { k, c in
                    guard var o = c.objectValue else { return c }
                    for key in o.keys where key.hasPrefix("value") { o[key] = nil }
                    if k == 0 { o["dataAbsentReason"] = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"]]] }
                    return .object(o)
                })
            }
            b.expectSetAside.append(b.label(i))
            return true
        },
    ]

    /// effective[x] shapes, partial dates, zones, leap seconds, the future.
    static let times: [Mutation] = [
        .onQuantityObservation("no effective[x] and no issued", setAside: true) { r in _ = clearEffective(&r); r["issued"] = nil },
        .onQuantityObservation("issued only", setAside: false) { r in
            r["issued"] = .string(clearEffective(&r))
        },
        .onQuantityObservation("effectivePeriod", setAside: false) { r in
            r["effectivePeriod"] = ["start": .string(clearEffective(&r))]
        },
        .onQuantityObservation("effectiveInstant", setAside: false) { r in
            r["effectiveInstant"] = .string(clearEffective(&r))
        },
        .onQuantityObservation("effective year only", setAside: false) { r in
            r["effectiveDateTime"] = .string(String(clearEffective(&r).prefix(4)))
        },
        .onQuantityObservation("effective year-month", setAside: false) { r in
            r["effectiveDateTime"] = .string(String(clearEffective(&r).prefix(7)))
        },
        .onQuantityObservation("effective with a +05:30 zone", setAside: false) { r in
            r["effectiveDateTime"] = .string(String(clearEffective(&r).prefix(10)) + "T10:00:00+05:30")
        },
        .onQuantityObservation("effective at a leap second", setAside: false) { r in _ = clearEffective(&r); r["effectiveDateTime"] = "2016-12-31T23:59:60Z" },
        .onQuantityObservation("effective in the future", setAside: true) { r in _ = clearEffective(&r); r["effectiveDateTime"] = "2099-01-01T00:00:00Z" },
        .onQuantityObservation("issued and meta.lastUpdated", setAside: false) { r in
            r["issued"] = "2016-01-02T03:04:05.678+01:00"
            r["meta"] = ["lastUpdated": "2017-01-01T00:00:00Z"]
        },
    ]

    /// Removes effective[x], returning its time as an instant text (a full dateTime with zone).
    static func clearEffective(_ r: inout JSONObject) -> String {
        var t = "2015-06-01T10:00:00Z"
        if let s = r["effectiveDateTime"]?.stringValue ?? r["effectiveInstant"]?.stringValue ?? r["effectivePeriod"]?["start"]?.stringValue,
           let i = FHIRTime.instant(s) { t = FHIRTime.text(i) }
        for k in ["effectiveDateTime", "effectiveInstant", "effectivePeriod", "effectiveTiming"] { r[k] = nil }
        return t
    }

    /// status oddities.
    static let statuses: [Mutation] = [
        .onQuantityObservation("status entered-in-error", setAside: true) { r in r["status"] = "entered-in-error" },
        .onQuantityObservation("status cancelled", setAside: true) { r in r["status"] = "cancelled" },
        .onQuantityObservation("status amended", setAside: false) { r in r["status"] = "amended" },
    ]

    /// Resource types the importer does not map, and mapped ones in shapes the shared bundles lack.
    static let resources: [Mutation] = [
        .adds("Device", .kept) { p in ["resourceType": "Device", "patient": ["reference": .string(p)], "deviceName": [["name": "CGM", "type": "user-friendly-name"]]] },
        .adds("ImagingStudy", .skipped) { p in ["resourceType": "ImagingStudy", "status": "available", "subject": ["reference": .string(p)]] },
        .adds("Media", .skipped) { p in ["resourceType": "Media", "status": "completed", "subject": ["reference": .string(p)], "content": ["contentType": "image/png"]] },
        .adds("SupplyDelivery", .skipped) { p in ["resourceType": "SupplyDelivery", "status": "completed", "patient": ["reference": .string(p)]] },
        .adds("DocumentReference", .skipped) { p in
            ["resourceType": "DocumentReference", "status": "current", "subject": ["reference": .string(p)],
             "content": [["attachment": ["contentType": "text/plain", "data": "aGVsbG8="]]]]
        },
        .adds("Claim", .skipped) { p in
            ["resourceType": "Claim", "status": "active", "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"]]],
             "use": "claim", "patient": ["reference": .string(p)], "created": "2015-06-01", "provider": ["display": "x"],
             "priority": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"]]],
             "insurance": [["sequence": 1, "focal": true, "coverage": ["display": "x"]]]]
        },
        .adds("ExplanationOfBenefit", .skipped) { p in
            ["resourceType": "ExplanationOfBenefit", "status": "active",
             "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"]]],
             "use": "claim", "patient": ["reference": .string(p)], "created": "2015-06-01", "insurer": ["display": "x"], "provider": ["display": "x"],
             "outcome": "complete", "insurance": [["focal": true, "coverage": ["display": "x"]]]]
        },
        .adds("Provenance", .skipped) { p in
            ["resourceType": "Provenance", "target": [["reference": .string(p)]], "recorded": "2015-06-01T10:00:00Z",
             "agent": [["who": ["display": "Synthea"]]]]
        },
        .adds("CarePlan", .skipped) { p in ["resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": ["reference": .string(p)]] },
        .adds("CareTeam", .skipped) { p in ["resourceType": "CareTeam", "status": "active", "subject": ["reference": .string(p)]] },
        .adds("Goal", .skipped) { p in
            ["resourceType": "Goal", "lifecycleStatus": "active", "description": ["text": "lose weight"], "subject": ["reference": .string(p)]]
        },
        .adds("AllergyIntolerance without onset or recordedDate", .setAside) { p in
            ["resourceType": "AllergyIntolerance", "patient": ["reference": .string(p)], "clinicalStatus": allergyActive,
             "code": ["coding": [["system": "http://snomed.info/sct", "code": "91936005"]]]]
        },
        .adds("AllergyIntolerance", .sound) { p in
            ["resourceType": "AllergyIntolerance", "patient": ["reference": .string(p)], "recordedDate": "2015-06-01", "clinicalStatus": allergyActive,
             "code": ["coding": [["system": "http://snomed.info/sct", "code": "91936005"]]]]
        },
        .adds("Immunization", .sound) { p in
            ["resourceType": "Immunization", "status": "completed", "patient": ["reference": .string(p)], "occurrenceDateTime": "2015-06-01T10:00:00Z",
             "recorded": "2015-06-02", "vaccineCode": ["coding": [["system": "http://hl7.org/fhir/sid/cvx", "code": "140"]]]]
        },
        .adds("Immunization with occurrenceString", .setAside) { p in
            ["resourceType": "Immunization", "status": "completed", "patient": ["reference": .string(p)], "occurrenceString": "as a child",
             "vaccineCode": ["coding": [["system": "http://hl7.org/fhir/sid/cvx", "code": "140"]]]]
        },
        .adds("Procedure without performed[x]", .setAside) { p in
            ["resourceType": "Procedure", "status": "completed", "subject": ["reference": .string(p)],
             "code": ["coding": [["system": "http://snomed.info/sct", "code": "73761001"]]]]
        },
        .adds("Procedure not done", .setAside) { p in
            ["resourceType": "Procedure", "status": "not-done", "subject": ["reference": .string(p)], "performedDateTime": "2015-06-01T10:00:00Z",
             "code": ["coding": [["system": "http://snomed.info/sct", "code": "73761001"]]]]
        },
        .adds("MedicationAdministration", .sound) { p in
            ["resourceType": "MedicationAdministration", "status": "completed", "subject": ["reference": .string(p)],
             "medicationCodeableConcept": ["coding": [["system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "313782"]]],
             "effectiveDateTime": "2015-06-01T10:00:00Z"]
        },
        .adds("MedicationRequest without authoredOn", .setAside) { p in
            ["resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": ["reference": .string(p)],
             "medicationCodeableConcept": ["coding": [["system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "313782"]]]]
        },
        .adds("Condition without onset or recordedDate", .setAside) { p in
            ["resourceType": "Condition", "subject": ["reference": .string(p)], "clinicalStatus": conditionActive, "code": ["coding": [["system": "http://snomed.info/sct", "code": "44054006"]]]]
        },
        .adds("Condition with a code without a system", .setAside) { p in
            ["resourceType": "Condition", "subject": ["reference": .string(p)], "clinicalStatus": conditionActive, "onsetDateTime": "2015-06-01", "code": ["coding": [["code": "44054006"]]]]
        },
        .adds("Encounter without period", .setAside) { p in
            ["resourceType": "Encounter", "status": "finished", "subject": ["reference": .string(p)],
             "class": ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"]]
        },
        .adds("DiagnosticReport with presentedForm", .sound) { p in
            ["resourceType": "DiagnosticReport", "status": "final", "subject": ["reference": .string(p)],
             "code": ["coding": [["system": "http://loinc.org", "code": "34117-2"]]], "effectiveDateTime": "2015-06-01T10:00:00Z",
             "issued": "2015-06-01T12:00:00Z", "presentedForm": [["contentType": "text/plain", "data": "bm90ZQ=="]]]
        },
        .adds("Location", .kept) { _ in ["resourceType": "Location", "name": "Ward 3"] },
        .adds("Organization without id or identifier", .kept) { _ in ["resourceType": "Organization", "name": "Clinic"] },
        .adds("Practitioner", .kept) { _ in ["resourceType": "Practitioner", "name": [["family": "Who"]]] },
        .adds("PractitionerRole", .kept) { _ in ["resourceType": "PractitionerRole", "active": true] },
        .adds("Observation of a Group", .setAside) { _ in
            ["resourceType": "Observation", "status": "final", "code": ["text": "prevalence"], "subject": ["reference": "Group/cohort-1"],
             "effectiveDateTime": "2015-06-01T10:00:00Z", "valueQuantity": ["value": 3, "unit": "%"]]
        },
        .adds("Observation without subject", .setAside) { _ in
            ["resourceType": "Observation", "status": "final", "code": ["text": "room temperature"], "effectiveDateTime": "2015-06-01T10:00:00Z"]
        },
        .adds("Observation with a code without a system", .setAside) { p in
            ["resourceType": "Observation", "status": "final", "code": ["coding": [["code": "8867-4"]]], "subject": ["reference": .string(p)],
             "effectiveDateTime": "2015-06-01T10:00:00Z", "valueQuantity": ["value": 70, "unit": "/min"]]
        },
        Mutation(name: "a long history (ten times the observations)", expect: .imports) { b in
            let obs = b.quantityObservations
            guard !obs.isEmpty else { return false }
            for copy in 1...9 {
                for i in obs.prefix(400) {
                    var r = b.resource(i)
                    r["id"] = r["id"].map { .string(($0.stringValue ?? "o") + "-copy\(copy)") }
                    if let t = r["effectiveDateTime"]?.stringValue, let inst = FHIRTime.instant(t) {
                        r["effectiveDateTime"] = .string(FHIRTime.text(.init(microseconds: inst.microseconds - Int64(copy) * 86_400_000_000)))
                    }
                    b.add(r)
                }
            }
            return true
        },
    ]

    /// Patient shapes.
    static let patients: [Mutation] = [
        .onPatient("deceasedDateTime") { r in r["deceasedBoolean"] = nil; r["deceasedDateTime"] = "2019-02-03T04:05:06-05:00" },
        .onPatient("deceasedBoolean") { r in r["deceasedDateTime"] = nil; r["deceasedBoolean"] = true },
        .onPatient("us-core and Synthea extensions") { r in
            r["extension"] = [
                ["url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                 "extension": [["url": "ombCategory", "valueCoding": ["system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3", "display": "White"]],
                               ["url": "text", "valueString": "White"]]],
                ["url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
                 "extension": [["url": "ombCategory", "valueCoding": ["system": "urn:oid:2.16.840.1.113883.6.238", "code": "2186-5", "display": "Not Hispanic or Latino"]],
                               ["url": "text", "valueString": "Not Hispanic or Latino"]]],
                ["url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex", "valueCode": "F"],
                ["url": "http://synthetichealth.github.io/synthea/disability-adjusted-life-years", "valueDecimal": .number("0.123")],
                ["url": "http://synthetichealth.github.io/synthea/quality-adjusted-life-years", "valueDecimal": .number("41.9")],
            ]
        },
        .onPatient("multiple names") { r in
            r["name"] = [["use": "official", "family": "Doe", "given": ["Jane", "Q"]], ["use": "maiden", "family": "Roe"], ["text": "J. Doe"]]
        },
        .onPatient("no name") { r in r["name"] = nil },
        .onPatient("birthDate year only") { r in r["birthDate"] = .string(String((r["birthDate"]?.stringValue ?? "1970").prefix(4))) },
    ]

    /// Reference forms.
    static let references: [Mutation] = [
        .patientReferences("Patient/ID references instead of urn:uuid") { p in p["id"]?.stringValue.map { "Patient/\($0)" } },
        Mutation(name: "conditional Patient?identifier= references", expect: .imports) { b in
            guard let p = b.patient, let old = b.patientReference else { return false }
            b.edit(p) { r in
                var ids = r["identifier"]?.list ?? []
                ids.append(["system": "https://example.org/mrn", "value": "MRN-4711"])
                r["identifier"] = .array(ids)
            }
            for i in b.entries.indices where i != p {
                b.entries[i]["resource"] = Mutation.replacing(.object(b.resource(i)), reference: old, with: "Patient?identifier=https%3A%2F%2Fexample.org%2Fmrn%7CMRN-4711")
            }
            return true
        },
    ]

    /// Bundle shapes of Synthea 3.x and servers.
    static let bundles: [Mutation] = [
        Mutation(name: "transaction with PUT and conditional ifNoneExist", expect: .imports) { b in
            // (a bundle of searches, GET entries without resources, is no transaction of creates)
            guard !b.entries.isEmpty, b.entries.allSatisfy({ $0["resource"] != nil }) else { return false }
            b.top["type"] = "transaction"
            for i in b.entries.indices {
                let t = b.type(i) ?? "Basic"
                if i % 2 == 0, let id = b.resource(i)["id"]?.stringValue {
                    b.entries[i]["request"] = ["method": "PUT", "url": .string("\(t)/\(id)")]
                } else {
                    b.entries[i]["request"] = ["method": "POST", "url": .string(t), "ifNoneExist": .string("identifier=https://example.org|\(i)")]
                }
            }
            return true
        },
        Mutation(name: "collection bundle", expect: .imports) { b in
            guard b.entries.contains(where: { $0["resource"] != nil }) else { return false }
            b.top["type"] = "collection"
            b.entries.removeAll { $0["resource"] == nil }   // a request without a resource has no place in a collection
            for i in b.entries.indices { b.entries[i]["request"] = nil; b.entries[i]["response"] = nil }
            return true
        },
    ]

    /// Invalid FHIR: the bundle is refused with a clear error.
    static let refusing: [Mutation] = [
        Mutation(name: "a broken reference", expect: .refused(.danglingReference)) { b in
            guard let i = b.quantityObservations.first else { return false }
            b.edit(i) { r in r["subject"] = ["reference": "urn:uuid:11111111-2222-4333-8444-555555555555"] }
            return true
        },
        Mutation(name: "an Observation without status", expect: .refused(.invalidResource)) { b in
            guard let i = b.quantityObservations.first else { return false }
            b.edit(i) { r in r["status"] = nil }
            return true
        },
        Mutation(name: "an Observation without code", expect: .refused(.invalidResource)) { b in
            guard let i = b.quantityObservations.first else { return false }
            b.edit(i) { r in r["code"] = nil }
            return true
        },
        Mutation(name: "a conditional reference no Patient matches", expect: .refused(.danglingReference)) { b in
            guard let i = b.quantityObservations.first else { return false }
            b.edit(i) { r in r["subject"] = ["reference": "Patient?identifier=https://example.org/mrn|nobody"] }
            return true
        },
    ]
}
