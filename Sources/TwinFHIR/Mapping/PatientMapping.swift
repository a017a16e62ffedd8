import TwinCore

/// Patient <-> person twin and Organization <-> organisation twin attributes.
///
/// Person twin attributes: `gender` (text, the administrative gender code: the bank's one word for sex/gender,
/// which queries also answer to as `sex`; on export a twin's `sex` attribute stands in when it has no
/// `gender`), `birthDate` (date), `name`
/// (HumanName.text, else given names and family), `address` (Address.text, else lines, city, state, postal
/// code, country), `deceased` (date or boolean), `maritalStatus` (concept), `race` and `ethnicity` (the US Core
/// extensions `us-core-race` / `us-core-ethnicity`: the first OMB category as a concept of the CDC race and
/// ethnicity code system, else their `text` as text), `birthSex` (`us-core-birthsex`, text), `fhir.id`. Organisation twin
/// attributes: `name`, `address`, `identifier` (`system|value`), `type` (concept), `fhir.id`.
public enum PatientMapping {
    public static func twin(_ p: JSONValue, id: TwinID) -> Twin {
        var a: [String: Value] = [:]
        if let g = p["gender"]?.stringValue { a["gender"] = .text(g) }
        var origin: Instant?
        if let b = p["birthDate"]?.stringValue, let t = FHIRTime.instant(b) { a["birthDate"] = .date(t); origin = t }
        if let n = p["name"]?.list.first, let s = name(n) { a["name"] = .text(s) }
        if let ad = p["address"]?.list.first, let s = address(ad) { a["address"] = .text(s) }
        if let d = p["deceasedDateTime"]?.stringValue, let t = FHIRTime.instant(d) { a["deceased"] = .date(t) }
        else if let d = p["deceasedBoolean"]?.boolValue { a["deceased"] = .boolean(d) }
        if let m = FHIRValues.concept(p["maritalStatus"]) { a["maritalStatus"] = .concept(m) }
        for ext in p["extension"]?.list ?? [] {
            guard let url = ext["url"]?.stringValue else { continue }
            switch url {
            case usCoreRace: if let v = omb(ext) { a["race"] = v }
            case usCoreEthnicity: if let v = omb(ext) { a["ethnicity"] = v }
            case usCoreBirthSex: if let c = ext["valueCode"]?.stringValue { a["birthSex"] = .text(c) }
            default: break
            }
        }
        if let fid = p["id"]?.stringValue { a["fhir.id"] = .text(fid) }
        return Twin(id: id, kind: .person, attributes: a, dataSources: [Twin.DataSourceBinding(source: "record:fhir", cadence: "on-visit")], origin: origin)
    }

    public static func organisation(_ o: JSONValue, id: TwinID) -> Twin {
        var a: [String: Value] = [:]
        if let n = o["name"]?.stringValue { a["name"] = .text(n) }
        if let ad = o["address"]?.list.first, let s = address(ad) { a["address"] = .text(s) }
        if let k = ImportPlanner.identifierKey(o) { a["identifier"] = .text(k) }
        if let t = FHIRValues.concept(o["type"]?.list.first) { a["type"] = .concept(t) }
        if let fid = o["id"]?.stringValue { a["fhir.id"] = .text(fid) }
        return Twin(id: id, kind: .organisation, attributes: a, dataSources: [Twin.DataSourceBinding(source: "record:fhir", cadence: "on-update")])
    }

    static let usCoreRace = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
    static let usCoreEthnicity = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
    static let usCoreBirthSex = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"

    /// A US Core race or ethnicity extension's first `ombCategory` coding as a concept, else its `text`.
    static func omb(_ ext: JSONValue) -> Value? {
        let parts = ext["extension"]?.list ?? []
        if let coding = parts.first(where: { $0["url"]?.stringValue == "ombCategory" })?["valueCoding"],
           let system = coding["system"]?.stringValue, let code = coding["code"]?.stringValue {
            return .concept(Concept(system: system, code: code, display: coding["display"]?.stringValue))
        }
        if let text = parts.first(where: { $0["url"]?.stringValue == "text" })?["valueString"]?.stringValue { return .text(text) }
        return nil
    }

    /// The US Core extension of a race or ethnicity attribute (`ombCategory` for a concept, and `text`, required).
    static func ombExtension(_ url: String, _ v: Value?) -> JSONValue? {
        switch v {
        case .concept(let c)?:
            var coding: JSONObject = ["system": .string(c.system), "code": .string(c.code)]
            if let d = c.display { coding["display"] = .string(d) }
            return ["url": .string(url), "extension": [["url": "ombCategory", "valueCoding": .object(coding)],
                                                        ["url": "text", "valueString": .string(c.display ?? c.code)]]]
        case .text(let t)?:
            return ["url": .string(url), "extension": [["url": "text", "valueString": .string(t)]]]
        default: return nil
        }
    }

    static func name(_ n: JSONValue) -> String? {
        if let t = n["text"]?.stringValue { return t }
        let parts = (n["given"]?.list.compactMap(\.stringValue) ?? []) + [n["family"]?.stringValue].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    static func address(_ a: JSONValue) -> String? {
        if let t = a["text"]?.stringValue { return t }
        var parts = a["line"]?.list.compactMap(\.stringValue) ?? []
        for k in ["city", "state", "postalCode", "country"] { if let s = a[k]?.stringValue { parts.append(s) } }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// The Patient resource of a person twin (inverse of `twin` for the attributes it reads).
    public static func patient(_ t: Twin) -> JSONValue {
        var o: JSONObject = ["resourceType": "Patient", "id": .string(fhirID(t))]
        if case .text(let g)? = t.attributes["gender"] ?? t.attributes["sex"] { o["gender"] = .string(g) }
        if case .date(let d)? = t.attributes["birthDate"] { o["birthDate"] = .string(FHIRTime.date(d)) }
        if case .text(let n)? = t.attributes["name"] { o["name"] = [["text": .string(n)]] }
        if case .text(let s)? = t.attributes["address"] { o["address"] = [["text": .string(s)]] }
        switch t.attributes["deceased"] {
        case .date(let d)?: o["deceasedDateTime"] = .string(FHIRTime.text(d))
        case .boolean(let b)?: o["deceasedBoolean"] = .bool(b)
        default: break
        }
        if case .concept(let c)? = t.attributes["maritalStatus"] { o["maritalStatus"] = FHIRValues.codeableConcept(c) }
        var extensions: [JSONValue] = []
        if let e = ombExtension(usCoreRace, t.attributes["race"]) { extensions.append(e) }
        if let e = ombExtension(usCoreEthnicity, t.attributes["ethnicity"]) { extensions.append(e) }
        if case .text(let b)? = t.attributes["birthSex"] { extensions.append(["url": .string(usCoreBirthSex), "valueCode": .string(b)]) }
        if !extensions.isEmpty { o["extension"] = .array(extensions) }
        return .object(o)
    }

    /// The Organization resource of an organisation twin.
    public static func organization(_ t: Twin) -> JSONValue {
        var o: JSONObject = ["resourceType": "Organization", "id": .string(fhirID(t))]
        if case .text(let k)? = t.attributes["identifier"], let bar = k.firstIndex(of: "|") {
            var ident: JSONObject = ["value": .string(String(k[k.index(after: bar)...]))]
            if bar != k.startIndex { ident["system"] = .string(String(k[..<bar])); ident.members.reverse() }
            o["identifier"] = [.object(ident)]
        }
        if case .concept(let c)? = t.attributes["type"] { o["type"] = [FHIRValues.codeableConcept(c)] }
        if case .text(let n)? = t.attributes["name"] { o["name"] = .string(n) }
        if case .text(let s)? = t.attributes["address"] { o["address"] = [["text": .string(s)]] }
        return .object(o)
    }

    /// A population twin as a FHIR R4 `Group`: `type` person, `actual` false (it stands for a population described by
    /// its definition, not a list of members), `quantity` its `populationSize` attribute when that is a whole number,
    /// `name` its `name` attribute.
    public static func group(_ t: Twin) -> JSONValue {
        var o: JSONObject = ["resourceType": "Group", "id": .string(fhirID(t)), "type": "person", "actual": .bool(false)]
        if case .text(let n)? = t.attributes["name"] { o["name"] = .string(n) }
        if case .quantity(let q)? = t.attributes["populationSize"], q.value >= 0, q.value == q.value.rounded(), q.value < 1e15 {
            o["quantity"] = .number(String(Int64(q.value)))
        }
        return .object(o)
    }

    /// The FHIR logical id of a twin: its `fhir.id` attribute, else the twin id made FHIR-safe.
    static func fhirID(_ t: Twin) -> String {
        if case .text(let s)? = t.attributes["fhir.id"] { return s }
        let safe = String(t.id.rawValue.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" }.prefix(64))
        return safe
    }
}
