import TwinCore

/// A FHIR resource: the JSON tree is the source of truth (so unknown elements, extensions and the exact text
/// of decimals survive a round trip), with typed read access to what twins need through views
/// (`Patient`, `Observation`, `Condition`, ...). `json` is written back unchanged by `JSONWriter`.
public struct Resource: Sendable, Hashable {
    public var json: JSONValue

    /// Wraps a JSON object with a string `resourceType`.
    /// - Throws: `FHIRError.unknownResourceType` otherwise.
    public init(_ json: JSONValue) throws(FHIRError) {
        guard case .string(let t)? = json["resourceType"], ResourceTypes.r4.contains(t) else {
            throw FHIRError(.unknownResourceType, "not a FHIR R4 resource: resourceType is missing or unknown",
                            value: json["resourceType"]?.stringValue)
        }
        self.json = json
    }

    /// Reads and wraps a resource from JSON bytes.
    public init(bytes: [UInt8]) throws(FHIRError) { try self.init(try JSONReader().read(bytes)) }

    public var resourceType: String { json["resourceType"]?.stringValue ?? "" }
    public var id: String? { json["id"]?.stringValue }
    /// The R4 rules this resource breaks (empty if valid).
    public var issues: [FHIRError] { Validator().validate(json) }
    public var bytes: [UInt8] { JSONWriter().write(json) }
}

/// Typed read access to a Patient.
public struct Patient: Sendable {
    public let resource: Resource
    public init(_ r: Resource) throws(FHIRError) {
        guard r.resourceType == "Patient" else { throw FHIRError(.unknownResourceType, "expected a Patient, found \(r.resourceType)", value: r.resourceType) }
        resource = r
    }
    var j: JSONValue { resource.json }
    public var gender: String? { j["gender"]?.stringValue }
    public var birthDate: Instant? { j["birthDate"]?.stringValue.flatMap(FHIRTime.instant) }
    public var names: [String] { (j["name"]?.list ?? []).compactMap(PatientMapping.name) }
    public var addresses: [String] { (j["address"]?.list ?? []).compactMap(PatientMapping.address) }
    /// `.date` for deceasedDateTime, `.boolean` for deceasedBoolean.
    public var deceased: Value? {
        if let d = j["deceasedDateTime"]?.stringValue.flatMap(FHIRTime.instant) { return .date(d) }
        return j["deceasedBoolean"]?.boolValue.map { .boolean($0) }
    }
    public var identifiers: [(system: String?, value: String)] {
        (j["identifier"]?.list ?? []).compactMap { i in i["value"]?.stringValue.map { (i["system"]?.stringValue, $0) } }
    }
}

/// Typed read access to an Observation.
public struct Observation: Sendable {
    public let resource: Resource
    public init(_ r: Resource) throws(FHIRError) {
        guard r.resourceType == "Observation" else { throw FHIRError(.unknownResourceType, "expected an Observation, found \(r.resourceType)", value: r.resourceType) }
        resource = r
    }
    var j: JSONValue { resource.json }
    public var status: String? { j["status"]?.stringValue }
    public var code: Concept? { FHIRValues.concept(j["code"]) }
    public var codes: [CodeKey] { FHIRValues.codeKeys(j["code"]) }
    public var categories: [Concept] { (j["category"]?.list ?? []).compactMap { FHIRValues.concept($0) } }
    public var subjectReference: String? { j["subject"]?["reference"]?.stringValue }
    /// effective[x] (dateTime, instant or Period), else issued.
    public var effective: EffectiveTime? {
        for k in ["effectiveDateTime", "effectiveInstant", "issued"] {
            if let t = j[k]?.stringValue.flatMap(FHIRTime.instant) { return EffectiveTime(t) }
        }
        if let p = j["effectivePeriod"], let s = p["start"]?.stringValue.flatMap(FHIRTime.instant) {
            return EffectiveTime(s, end: p["end"]?.stringValue.flatMap(FHIRTime.instant))
        }
        return nil
    }
    /// The name of the value[x] element present (`valueQuantity`, ...), if any.
    public var valueElement: String? { j.objectValue?.keys.first { $0.hasPrefix("value") } }
    /// The components: each one's code and its value[x] element.
    public var components: [(code: Concept?, value: JSONValue?)] {
        (j["component"]?.list ?? []).map { c in
            (FHIRValues.concept(c["code"]), c.objectValue?.members.first { $0.key.hasPrefix("value") }?.value)
        }
    }
}

/// Typed read access to the clinical records that become single thread events (Condition, Procedure,
/// Immunization, Encounter, AllergyIntolerance, Medication{Request,Administration,Statement}, DiagnosticReport).
public struct ClinicalRecord: Sendable {
    public let resource: Resource
    public static let types: Set<String> = ["Condition", "AllergyIntolerance", "Procedure", "Immunization", "Encounter",
                                            "MedicationRequest", "MedicationAdministration", "MedicationStatement", "DiagnosticReport"]
    public init(_ r: Resource) throws(FHIRError) {
        guard Self.types.contains(r.resourceType) else { throw FHIRError(.unknownResourceType, "\(r.resourceType) is not a clinical record type", value: r.resourceType) }
        resource = r
    }
    var spec: RecordSpec { RecordSpec.of(resource.resourceType) }
    /// The status (`status`, or the clinical status code for Condition and AllergyIntolerance).
    public var status: String? { resource.json["status"]?.stringValue ?? resource.json["clinicalStatus"].flatMap { FHIRValues.concept($0)?.code } }
    /// The code the record is about (Condition.code, Immunization.vaccineCode, Encounter.type, medication...).
    public var code: Concept? {
        spec.codes.lazy.compactMap { self.resource.json[$0] }.first.flatMap { FHIRValues.concept($0.list.first ?? $0) }
    }
    /// When it happened (onset, performed, occurrence, period, authoredOn ...).
    public var time: Instant? {
        for n in spec.times {
            if let s = resource.json[n]?.stringValue.flatMap(FHIRTime.instant) { return s }
            if let s = resource.json[n]?["start"]?.stringValue.flatMap(FHIRTime.instant) { return s }
        }
        return nil
    }
    public var subjectReference: String? { (resource.json["subject"] ?? resource.json["patient"])?["reference"]?.stringValue }
}
