import TwinCore

/// Reading FHIR data types into TwinCore values.
public enum FHIRValues {
    /// The first coding of a CodeableConcept (or a Coding) that has both a system and a code, as a Concept.
    /// A CodeableConcept with only text becomes a concept of the system `urn:twinbank:text`.
    public static func concept(_ v: JSONValue?) -> Concept? {
        guard let v else { return nil }
        if let code = v["code"]?.stringValue, v["coding"] == nil {
            return Concept(system: v["system"]?.stringValue ?? "", code: code, display: v["display"]?.stringValue)
        }
        for c in v["coding"]?.list ?? [] {
            if let s = c["system"]?.stringValue, let code = c["code"]?.stringValue {
                return Concept(system: s, code: code, display: c["display"]?.stringValue ?? v["text"]?.stringValue)
            }
        }
        if let t = v["text"]?.stringValue { return Concept(system: textSystem, code: t) }
        return nil
    }

    /// All codings of a CodeableConcept as code keys (for matching against any of them).
    public static func codeKeys(_ v: JSONValue?) -> [CodeKey] {
        (v?["coding"]?.list ?? []).compactMap { c in
            guard let s = c["system"]?.stringValue, let code = c["code"]?.stringValue else { return nil }
            return CodeKey(system: s, code: code)
        }
    }

    static let textSystem = "urn:twinbank:text"
    static let ucum = "http://unitsofmeasure.org"

    /// A CodeableConcept for a Concept (inverse of `concept` for the concepts it produces).
    public static func codeableConcept(_ c: Concept) -> JSONValue {
        if c.system == textSystem { return ["text": .string(c.code)] }
        var coding: JSONObject = ["system": .string(c.system), "code": .string(c.code)]
        if let d = c.display { coding["display"] = .string(d) }
        return .object(["coding": [.object(coding)]])
    }

    /// A FHIR Quantity for a TwinCore quantity, with the UCUM code.
    public static func quantity(_ q: Quantity) -> JSONValue {
        ["value": .number(q.value), "unit": .string(q.unit), "system": .string(ucum), "code": .string(q.unit)]
    }
}
