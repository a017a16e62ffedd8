import TwinCore

/// A trial's eligibility criteria, as structured data.
///
/// JSON form (`twinbank match --criteria FILE`):
/// ```json
/// {"id": "dm2-trial", "title": "...", "asOf": "2019-06-01T00:00:00Z",
///  "hierarchy": {"http://snomed.info/sct|73211009": ["http://snomed.info/sct|44054006"]},
///  "criteria": [
///    {"id": "adult", "type": "age", "min": 18, "max": 75},
///    {"id": "sex", "type": "sex", "values": ["female", "male"]},
///    {"id": "alive", "type": "alive"},
///    {"id": "dm", "type": "condition", "codes": ["http://snomed.info/sct|73211009"], "active": true},
///    {"id": "no-chf", "type": "condition", "codes": ["http://snomed.info/sct|84114007"], "exclude": true},
///    {"id": "hba1c", "type": "lab", "code": "http://loinc.org|4548-4", "min": 6.5, "max": 10, "unit": "%", "withinDays": 365},
///    {"id": "statin", "type": "medication", "codes": ["http://www.nlm.nih.gov/research/umls/rxnorm|316672"], "withinDays": 730}]}
/// ```
/// A FHIR `ResearchStudy` (with its enrollment `Group`, contained or in the same Bundle) or a `Group` alone is
/// read too (see `init(fhir:)`).
public struct Criteria: Sendable {
    public enum Kind: Sendable, Hashable {
        /// Age in years at `asOf`, inclusive bounds.
        case age(min: Double?, max: Double?)
        /// Administrative gender is one of the values.
        case sex([String])
        /// Not deceased at `asOf`.
        case alive
        /// A condition with one of the codes (or a descendant); `active`: not abated at `asOf`.
        case condition(codes: [CodeKey], active: Bool)
        /// The latest value of a lab code within the window is within [min, max] (in `unit`).
        case lab(code: CodeKey, min: Double?, max: Double?, unit: String?)
        /// A medication with one of the codes (or a descendant) within the window.
        case medication(codes: [CodeKey])
        /// A characteristic that could not be understood: always unknown, with the reason.
        case unsupported(String)
    }

    public struct Criterion: Sendable {
        public var id: String
        public var kind: Kind
        /// An exclusion criterion: met when the described thing is absent.
        public var exclude: Bool
        /// Only events within this many days before `asOf` count (nil: any time up to `asOf`).
        public var withinDays: Double?
        public var description: String
    }

    public var id: String
    public var title: String?
    /// The time eligibility is judged at (nil: now).
    public var asOf: Instant?
    public var criteria: [Criterion]
    public var hierarchy: CodeHierarchy

    static func fail(_ message: String, _ location: String, value: String? = nil) -> FHIRError {
        FHIRError(.invalidCriteria, message, location: location, value: value)
    }

    static func code(_ text: String, _ loc: String) throws(FHIRError) -> CodeKey {
        do { return try CodeKey(parsing: text) } catch {
            throw fail("'\(text)' is not a code: write SYSTEM|CODE (http://snomed.info/sct|44054006) or an alias (snomed:44054006)", loc, value: text)
        }
    }

    static func codes(_ v: JSONValue?, _ loc: String) throws(FHIRError) -> [CodeKey] {
        var out: [CodeKey] = []
        for (i, c) in (v?.list ?? []).enumerated() {
            guard let s = c.stringValue else { throw fail("codes must be strings", "\(loc)[\(i)]") }
            out.append(try code(s, "\(loc)[\(i)]"))
        }
        if out.isEmpty { throw fail("at least one code is needed", loc) }
        return out
    }

    /// Reads the JSON form, or a FHIR ResearchStudy / Group / Bundle holding them.
    public init(json: JSONValue) throws(FHIRError) {
        if json["resourceType"] != nil { self = try Criteria(fhir: json) } else { self = try Criteria(plain: json) }
    }

    init(id: String, title: String?, asOf: Instant?, criteria: [Criterion], hierarchy: CodeHierarchy) {
        self.id = id; self.title = title; self.asOf = asOf; self.criteria = criteria; self.hierarchy = hierarchy
    }

    init(plain json: JSONValue) throws(FHIRError) {
        guard case .object = json else { throw Self.fail("the criteria file must hold a JSON object", "$") }
        id = json["id"]?.stringValue ?? "trial"
        title = json["title"]?.stringValue
        if let t = json["asOf"]?.stringValue {
            guard let i = FHIRTime.instant(t) else { throw Self.fail("'\(t)' is not a date or dateTime", "asOf", value: t) }
            asOf = i
        }
        hierarchy = .builtIn
        if case .object(let h)? = json["hierarchy"] {
            for m in h {
                let parent = try Self.code(m.key, "hierarchy")
                for c in try Self.codes(m.value, "hierarchy.\(m.key)") { hierarchy.add(parent: parent, child: c) }
            }
        }
        guard let list = json["criteria"]?.arrayValue, !list.isEmpty else {
            throw Self.fail("'criteria' must be a non-empty array", "criteria")
        }
        criteria = []
        for (i, c) in list.enumerated() {
            let loc = "criteria[\(i)]"
            let cid = c["id"]?.stringValue ?? "c\(i + 1)"
            let type = c["type"]?.stringValue ?? ""
            let exclude = c["exclude"]?.boolValue ?? false
            let within = c["withinDays"]?.doubleValue
            let kind: Kind
            var desc: String
            switch type {
            case "age":
                let lo = c["min"]?.doubleValue, hi = c["max"]?.doubleValue
                if lo == nil && hi == nil { throw Self.fail("an age criterion needs min or max (years)", loc) }
                kind = .age(min: lo, max: hi)
                desc = "age \(lo.map { Value.format($0) } ?? "")..\(hi.map { Value.format($0) } ?? "") years"
            case "sex", "gender":
                let vals = (c["values"]?.list ?? c["value"].map { [$0] } ?? []).compactMap(\.stringValue)
                guard !vals.isEmpty else { throw Self.fail("a sex criterion needs values (male, female, other, unknown)", loc) }
                kind = .sex(vals)
                desc = "sex in \(vals.joined(separator: ", "))"
            case "alive":
                kind = .alive
                desc = "alive"
            case "condition":
                let cs = try Self.codes(c["codes"] ?? c["code"], loc + ".codes")
                kind = .condition(codes: cs, active: c["active"]?.boolValue ?? false)
                desc = "condition \(cs.map(\.description).joined(separator: " or "))"
            case "lab", "observation":
                guard let s = c["code"]?.stringValue else { throw Self.fail("a lab criterion needs a code", loc + ".code") }
                let k = try Self.code(s, loc + ".code")
                let unit = c["unit"]?.stringValue
                if let unit, (try? UCUMUnit(parsing: unit)) == nil {
                    throw Self.fail("'\(unit)' is not a UCUM unit", loc + ".unit", value: unit)
                }
                let lo = c["min"]?.doubleValue, hi = c["max"]?.doubleValue
                kind = .lab(code: k, min: lo, max: hi, unit: unit)
                desc = "\(k) in \(lo.map { Value.format($0) } ?? "")..\(hi.map { Value.format($0) } ?? "") \(unit ?? "")"
            case "medication":
                let cs = try Self.codes(c["codes"] ?? c["code"], loc + ".codes")
                kind = .medication(codes: cs)
                desc = "medication \(cs.map(\.description).joined(separator: " or "))"
            default:
                throw Self.fail("unknown criterion type '\(type)': use age, sex, alive, condition, lab or medication", loc + ".type", value: type)
            }
            if exclude { desc = "not " + desc }
            if let within { desc += " within \(Value.format(within)) days" }
            criteria.append(Criterion(id: cid, kind: kind, exclude: exclude, withinDays: within, description: c["description"]?.stringValue ?? desc))
        }
    }

    /// Reads a FHIR ResearchStudy whose `enrollment` names a Group (contained, or in the same Bundle), or a
    /// Group directly. Each `Group.characteristic` becomes a criterion: `code` says what is constrained and
    /// `value[x]` how; `exclude` true makes it an exclusion criterion; `period` ends at `asOf`.
    /// Understood: age (LOINC 30525-0, 21612-7; SNOMED 397669002; text "age") with valueRange or valueQuantity
    /// in years; sex/gender (LOINC 46098-0, 76689-9; SNOMED 263495000, 734000001) with valueCodeableConcept;
    /// diagnosis/condition (SNOMED 439401001, 64572001; LOINC 29308-4) with valueCodeableConcept; medication
    /// (SNOMED 410942007, 763158003) with valueCodeableConcept; any other coded `code` with valueQuantity or
    /// valueRange is a lab threshold on that code. Others are kept as `unsupported` (always unknown).
    public init(fhir: JSONValue) throws(FHIRError) {
        var group: JSONValue?
        var study: JSONValue?
        switch fhir["resourceType"]?.stringValue {
        case "Group": group = fhir
        case "ResearchStudy": study = fhir
        case "Bundle":
            for e in fhir["entry"]?.list ?? [] {
                switch e["resource"]?["resourceType"]?.stringValue {
                case "ResearchStudy": study = e["resource"]
                case "Group": group = group ?? e["resource"]
                default: break
                }
            }
        default:
            throw Self.fail("criteria as FHIR must be a ResearchStudy, a Group or a Bundle of them", "resourceType", value: fhir["resourceType"]?.stringValue)
        }
        if let study, let ref = study["enrollment"]?.list.first?["reference"]?.stringValue, ref.hasPrefix("#") {
            group = study["contained"]?.list.first { $0["id"]?.stringValue == String(ref.dropFirst()) } ?? group
        }
        guard let group else { throw Self.fail("no Group with characteristics (ResearchStudy.enrollment)", "ResearchStudy.enrollment") }
        if let first = Validator().validate(group).first { throw first }
        id = study?["id"]?.stringValue ?? group["id"]?.stringValue ?? "trial"
        title = study?["title"]?.stringValue ?? group["name"]?.stringValue
        hierarchy = .builtIn
        criteria = []
        for (i, ch) in (group["characteristic"]?.list ?? []).enumerated() {
            let loc = "Group.characteristic[\(i)]"
            let keys = FHIRValues.codeKeys(ch["code"])
            let text = (ch["code"]?["text"]?.stringValue ?? "").lowercased()
            func has(_ codes: [String]) -> Bool { keys.contains { codes.contains($0.code) } }
            let exclude = ch["exclude"]?.boolValue ?? false
            var kind: Kind
            if has(["30525-0", "21612-7", "397669002"]) || text == "age" {
                let lo = ch["valueRange"]?["low"]?["value"]?.doubleValue ?? ch["valueQuantity"]?["value"]?.doubleValue
                let hi = ch["valueRange"]?["high"]?["value"]?.doubleValue ?? ch["valueQuantity"]?["value"]?.doubleValue
                kind = .age(min: lo, max: hi)
            } else if has(["46098-0", "76689-9", "263495000", "734000001"]) || text == "sex" || text == "gender" {
                kind = .sex(FHIRValues.codeKeys(ch["valueCodeableConcept"]).map(\.code))
            } else if has(["439401001", "64572001", "29308-4"]) || text == "condition" || text == "diagnosis" {
                let cs = FHIRValues.codeKeys(ch["valueCodeableConcept"])
                kind = cs.isEmpty ? .unsupported("a diagnosis characteristic without a coded value") : .condition(codes: cs, active: false)
            } else if has(["410942007", "763158003"]) || text == "medication" {
                let cs = FHIRValues.codeKeys(ch["valueCodeableConcept"])
                kind = cs.isEmpty ? .unsupported("a medication characteristic without a coded value") : .medication(codes: cs)
            } else if let k = keys.first, ch["valueQuantity"] != nil || ch["valueRange"] != nil {
                let q = ch["valueQuantity"]
                let lo = ch["valueRange"]?["low"]?["value"]?.doubleValue ?? (q?["comparator"]?.stringValue?.hasPrefix(">") == true ? q?["value"]?.doubleValue : nil)
                let hi = ch["valueRange"]?["high"]?["value"]?.doubleValue ?? (q?["comparator"]?.stringValue?.hasPrefix("<") == true ? q?["value"]?.doubleValue : nil)
                let unitQ = ch["valueRange"]?["low"] ?? ch["valueRange"]?["high"] ?? q
                kind = .lab(code: k, min: lo, max: hi, unit: unitQ?["code"]?.stringValue ?? unitQ?["unit"]?.stringValue)
                if case .lab(_, nil, nil, _) = kind, let v = q?["value"]?.doubleValue { kind = .lab(code: k, min: v, max: v, unit: unitQ?["code"]?.stringValue) }
            } else {
                kind = .unsupported("characteristic \(keys.first?.description ?? text) is not understood")
            }
            var within: Double?
            if let start = ch["period"]?["start"]?.stringValue.flatMap(FHIRTime.instant),
               let end = ch["period"]?["end"]?.stringValue.flatMap(FHIRTime.instant), end > start {
                within = (end.seconds - start.seconds) / 86_400
            }
            let what = ch["code"]?["text"]?.stringValue ?? keys.first?.description ?? "characteristic"
            criteria.append(Criterion(id: "characteristic-\(i + 1)", kind: kind, exclude: exclude, withinDays: within,
                                      description: (exclude ? "not " : "") + what + (ch["valueCodeableConcept"].flatMap { FHIRValues.concept($0) }.map { " = \($0.display ?? $0.code)" } ?? "")))
            _ = loc
        }
        if criteria.isEmpty { throw Self.fail("the Group has no characteristic", "Group.characteristic") }
    }
}
