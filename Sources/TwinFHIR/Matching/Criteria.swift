import TwinCore

/// A trial's eligibility criteria, as structured data.
///
/// The JSON form (`twinbank match --criteria FILE`) is described in ``schema``; every key is checked: an
/// unknown or misspelled key (`op`, `value`, `greaterThan`, `within`) or an incomplete criterion (a lab criterion
/// without a bound, or with a bound but no unit for a code that has one) is refused with an error naming the
/// key, where it is and, where it can be guessed, the key that was meant. A FHIR `ResearchStudy` (with its
/// enrollment `Group`, contained or in the same Bundle) or a `Group` alone is read too (see `init(fhir:)`).
///
/// Each criterion's ``Criterion/description`` says how it was understood (echoed by `match` before the results).
public struct Criteria: Sendable {
    public enum Kind: Sendable, Hashable {
        /// Age in whole years at `asOf` (the birthday must have passed), inclusive bounds.
        case age(min: Double?, max: Double?)
        /// Administrative gender is one of the values.
        case sex([String])
        /// Not deceased at `asOf`.
        case alive
        /// A condition with one of the codes (or a descendant); `active`: not abated at `asOf`.
        case condition(codes: [CodeKey], active: Bool)
        /// The latest value of a lab code within the window is within [min, max] (inclusive, in `unit`; values
        /// in other units are converted with ``TwinCore/AnalyteConversion``).
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
        /// How the criterion was understood, in words (`latest loinc:4548-4 >= 6.5 % ...`), with the author's
        /// own description (the criterion's `description`, a FHIR characteristic's text) in front when given.
        public var description: String
    }

    public var id: String
    public var title: String?
    /// The time eligibility is judged at (nil: now).
    public var asOf: Instant?
    public var criteria: [Criterion]
    public var hierarchy: CodeHierarchy

    /// The JSON schema of the criteria file, in words, with an example per criterion type (`match --help` and
    /// the README print it).
    public static let schema = """
    A criteria file is a JSON object:
      id         string, optional: the trial's id ("trial")
      title      string, optional
      asOf       date or dateTime, optional: when eligibility is judged
                 (default now; --as-of overrides it)
      hierarchy  object, optional: {"PARENT": ["CHILD", ...]} codes added
                 to the built-in code hierarchy
      criteria   array, required: the criteria, all of which must be met
    Every criterion takes "type" (required), "id" (default c1, c2 ...),
    "description" (your own words) and "exclude" (true: met when the thing
    is absent). condition, lab and medication also take "withinDays": only
    events in that many days before asOf count. The types and their keys:
    age: "min" and/or "max", whole years at asOf (the birthday must have
      passed), inclusive.
      {"type": "age", "min": 18, "max": 75}
    sex: "values" (or "value"): male, female, other, unknown (the twin's
      gender).
      {"type": "sex", "values": ["female"]}
    alive: no other key; not deceased at asOf.
      {"type": "alive"}
    condition: "codes" (or "code"): a condition with one of the codes or a
      descendant, at or before asOf; "active": true also needs it not
      abated at asOf.
      {"type": "condition", "codes": ["snomed:44054006"], "active": true}
    lab: "code", "min" and/or "max" (inclusive), "unit" (UCUM; required
      when the code has a known unit): the latest value of the code in the
      window; a value in another unit is converted (glucose mg/dL and
      mmol/L, HbA1c % and mmol/mol ...) or, if no conversion is known, the
      criterion is unknown.
      {"type": "lab", "code": "loinc:4548-4", "min": 6.5, "unit": "%",
       "withinDays": 365}
    medication: "codes" (or "code"): a medication with one of the codes or
      a descendant.
      {"type": "medication", "codes": ["rxnorm:316672"], "withinDays": 730}
    "HbA1c > 6.5 %" is {"type": "lab", "code": "loinc:4548-4", "min": 6.5,
    "unit": "%"}: there is no "op" or "value" key, and bounds are inclusive.
    An unknown key, or a criterion without its bound, is an error.
    A deceased person is never eligible: every trial is also judged on
    "alive at asOf", whether or not the file says so.
    Codes are SYSTEM:CODE (loinc:, snomed:, rxnorm:, icd10:) or URI|CODE.
    """

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

    // MARK: the plain JSON form

    static let topKeys = ["id", "title", "asOf", "hierarchy", "criteria"]
    static let commonKeys = ["id", "type", "description", "exclude"]
    /// The keys each criterion type takes besides ``commonKeys``.
    static let typeKeys: [String: [String]] = [
        "age": ["min", "max"],
        "sex": ["values", "value"], "gender": ["values", "value"],
        "alive": [],
        "condition": ["codes", "code", "active", "withinDays"],
        "lab": ["code", "min", "max", "unit", "withinDays"], "observation": ["code", "min", "max", "unit", "withinDays"],
        "medication": ["codes", "code", "withinDays"],
    ]
    static let types = ["age", "sex", "alive", "condition", "lab", "medication"]

    /// What a misspelt or foreign key probably meant (lowercased key -> candidate keys, best first).
    static let likelyMeant: [String: [String]] = {
        var t: [String: [String]] = [:]
        for k in ["greaterthan", "gt", "gte", "ge", ">", ">=", "above", "over", "atleast", "morethan", "minimum", "low", "lower", "lowerbound", "from", "minvalue", "min_value"] { t[k] = ["min"] }
        for k in ["lessthan", "lt", "lte", "le", "<", "<=", "below", "under", "atmost", "maximum", "high", "upper", "upperbound", "to", "maxvalue", "max_value"] { t[k] = ["max"] }
        for k in ["op", "operator", "comparator", "comparison", "value", "threshold", "range", "equals", "eq"] { t[k] = ["min", "max"] }
        for k in ["within", "days", "window", "lookback", "lookbackdays", "since", "period", "withindays", "within_days", "recentdays"] { t[k] = ["withinDays"] }
        for k in ["units", "uom", "ucum", "unitcode"] { t[k] = ["unit"] }
        for k in ["excluded", "exclusion", "not", "negate", "negated", "exclusive", "excludes"] { t[k] = ["exclude"] }
        for k in ["kind", "criterion", "category", "criteriontype"] { t[k] = ["type"] }
        for k in ["sexes", "genders", "sex", "gender"] { t[k] = ["values"] }
        for k in ["loinc", "snomed", "rxnorm", "system", "coding", "concept", "codings"] { t[k] = ["code", "codes"] }
        for k in ["status", "isactive", "current", "ongoing"] { t[k] = ["active"] }
        for k in ["name", "label", "text", "desc"] { t[k] = ["description", "title"] }
        for k in ["asof", "as_of", "as-of", "date", "evaluationdate", "at", "indexdate"] { t[k] = ["asOf"] }
        for k in ["inclusion", "inclusions", "exclusions", "rules", "conditions", "eligibility", "criterias"] { t[k] = ["criteria"] }
        for k in ["minage", "min_age", "agemin", "fromage"] { t[k] = ["min"] }
        for k in ["maxage", "max_age", "agemax", "toage"] { t[k] = ["max"] }
        return t
    }()

    /// The allowed key an unknown key probably meant, or nil.
    static func suggestion(for key: String, allowed: [String]) -> [String] {
        let lower = key.lowercased()
        if let meant = likelyMeant[lower]?.filter(allowed.contains), !meant.isEmpty { return meant }
        if let same = allowed.first(where: { $0.lowercased() == lower }) { return [same] }
        let close = allowed.filter { lower.count >= 3 && editDistance(lower, $0.lowercased()) <= (lower.count >= 6 ? 2 : 1) }
        return close
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var prev = row[0]; row[0] = i
            for j in 1...max(y.count, 1) where !y.isEmpty {
                let cur = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count]
    }

    /// The unknown keys of one JSON object, each with what it probably meant, as one sentence, or nil.
    static func unknownKeys(_ object: JSONValue, allowed: [String], what: String, location: String) -> (location: String, message: String, keys: [String])? {
        guard case .object(let o) = object else { return nil }
        let unknown = o.keys.filter { !allowed.contains($0) }
        guard !unknown.isEmpty else { return nil }
        let parts = unknown.map { k -> String in
            let meant = suggestion(for: k, allowed: allowed)
            var hint = meant.isEmpty ? "" : " (did you mean \(meant.map { "'\($0)'" }.joined(separator: " or "))?)"
            if ["op", "operator", "comparator", "comparison"].contains(k.lowercased()), meant.contains("min") {
                hint = " (there is no operator: write a lower bound as 'min' and an upper bound as 'max', both inclusive)"
            } else if k.lowercased() == "value", meant.contains("min") {
                hint = " (did you mean 'min' or 'max'? a bound is written \"min\": 6.5)"
            }
            return "'\(k)'\(hint)"
        }
        let message = "unknown key\(unknown.count == 1 ? "" : "s") \(parts.joined(separator: ", ")) in \(what); it takes \(allowed.joined(separator: ", "))"
        return (location, message, unknown)
    }

    /// The value of `key` as a number, nil when absent or null.
    static func number(_ c: JSONValue, _ key: String, _ loc: String) throws(FHIRError) -> Double? {
        guard let v = c[key], v != .null else { return nil }
        guard let d = v.doubleValue, d.isFinite else {
            throw fail("'\(key)' must be a number, not a \(v.kindName)\(v.stringValue.map { " ('\($0)')" } ?? "")", "\(loc).\(key)", value: v.stringValue)
        }
        return d
    }

    static func string(_ c: JSONValue, _ key: String, _ loc: String) throws(FHIRError) -> String? {
        guard let v = c[key], v != .null else { return nil }
        guard let s = v.stringValue else { throw fail("'\(key)' must be a string, not a \(v.kindName)", "\(loc).\(key)") }
        return s
    }

    static func bool(_ c: JSONValue, _ key: String, _ loc: String) throws(FHIRError) -> Bool? {
        guard let v = c[key], v != .null else { return nil }
        guard let b = v.boolValue else {
            throw fail("'\(key)' must be true or false, not a \(v.kindName)\(v.stringValue.map { " ('\($0)')" } ?? "")", "\(loc).\(key)", value: v.stringValue)
        }
        return b
    }

    static func bounds(_ c: JSONValue, _ loc: String, _ what: String) throws(FHIRError) -> (Double?, Double?) {
        let lo = try number(c, "min", loc), hi = try number(c, "max", loc)
        if lo == nil && hi == nil { throw fail("\(what) needs min or max (inclusive bounds): e.g. \"min\": 6.5 for at least 6.5", loc) }
        if let lo, let hi, lo > hi { throw fail("min (\(Value.format(lo))) is above max (\(Value.format(hi))): nobody could match", loc + ".min", value: Value.format(lo)) }
        return (lo, hi)
    }

    init(plain json: JSONValue) throws(FHIRError) {
        guard case .object = json else { throw Self.fail("the criteria file must hold a JSON object (see `twinbank match --help`)", "$") }
        // Unknown keys anywhere are reported together, before anything else.
        var unknown: [(location: String, message: String, keys: [String])] = []
        if let u = Self.unknownKeys(json, allowed: Self.topKeys, what: "the criteria file", location: "$") { unknown.append(u) }
        for (i, c) in (json["criteria"]?.arrayValue ?? []).enumerated() {
            let loc = "criteria[\(i)]"
            let type = c["type"]?.stringValue ?? ""
            guard let keys = Self.typeKeys[type] else { continue }  // the type itself is reported below
            if let u = Self.unknownKeys(c, allowed: Self.commonKeys + keys, what: "\(loc) (a\(type == "alive" || type == "age" ? "n" : "") \(type) criterion)", location: loc) {
                unknown.append(u)
            }
        }
        if let first = unknown.first {
            let message = unknown.map(\.message).joined(separator: "; ")
            throw Self.fail(message + " (see `twinbank match --help`)", first.location, value: first.keys.joined(separator: ", "))
        }
        id = try Self.string(json, "id", "$") ?? "trial"
        title = try Self.string(json, "title", "$")
        if let t = try Self.string(json, "asOf", "$") {
            guard let i = FHIRTime.instant(t) else { throw Self.fail("'\(t)' is not a date or dateTime", "asOf", value: t) }
            asOf = i
        }
        hierarchy = .builtIn
        if let h = json["hierarchy"], h != .null {
            guard case .object(let o) = h else { throw Self.fail("'hierarchy' must be an object {\"PARENT\": [\"CHILD\", ...]}", "hierarchy") }
            for m in o {
                let parent = try Self.code(m.key, "hierarchy")
                for c in try Self.codes(m.value, "hierarchy.\(m.key)") { hierarchy.add(parent: parent, child: c) }
            }
        }
        guard let list = json["criteria"]?.arrayValue, !list.isEmpty else {
            throw Self.fail("'criteria' must be a non-empty array", "criteria")
        }
        criteria = []
        var ids = Set<String>()
        for (i, c) in list.enumerated() {
            let loc = "criteria[\(i)]"
            guard case .object = c else { throw Self.fail("a criterion must be a JSON object, not a \(c.kindName)", loc) }
            let cid = try Self.string(c, "id", loc) ?? "c\(i + 1)"
            guard ids.insert(cid).inserted else { throw Self.fail("criterion id '\(cid)' is used twice", loc + ".id", value: cid) }
            guard let type = try Self.string(c, "type", loc) else {
                throw Self.fail("a criterion needs a type: \(Self.types.joined(separator: ", "))", loc + ".type")
            }
            let exclude = try Self.bool(c, "exclude", loc) ?? false
            let within = try Self.number(c, "withinDays", loc)
            if let within, within <= 0 { throw Self.fail("withinDays must be a positive number of days", loc + ".withinDays", value: Value.format(within)) }
            let kind: Kind
            switch type {
            case "age":
                let (lo, hi) = try Self.bounds(c, loc, "an age criterion")
                if let lo, lo < 0 { throw Self.fail("an age cannot be negative", loc + ".min", value: Value.format(lo)) }
                kind = .age(min: lo, max: hi)
            case "sex", "gender":
                let raw = c["values"] ?? c["value"]
                var vals: [String] = []
                for (j, v) in (raw?.list ?? []).enumerated() {
                    guard let s = v.stringValue else { throw Self.fail("sex values must be strings", "\(loc).values[\(j)]") }
                    let lower = s.lowercased()
                    guard ["male", "female", "other", "unknown"].contains(lower) else {
                        throw Self.fail("'\(s)' is not a sex value: use male, female, other or unknown", "\(loc).values[\(j)]", value: s)
                    }
                    vals.append(lower)
                }
                guard !vals.isEmpty else { throw Self.fail("a sex criterion needs values (male, female, other, unknown)", loc + ".values") }
                kind = .sex(vals)
            case "alive":
                if exclude { throw Self.fail("an alive criterion cannot be an exclusion: a deceased person is never eligible", loc + ".exclude") }
                kind = .alive
            case "condition":
                let cs = try Self.codes(c["codes"] ?? c["code"], loc + ".codes")
                kind = .condition(codes: cs, active: try Self.bool(c, "active", loc) ?? false)
            case "lab", "observation":
                guard let s = try Self.string(c, "code", loc) else { throw Self.fail("a lab criterion needs a code", loc + ".code") }
                let k = try Self.code(s, loc + ".code")
                let unit = try Self.string(c, "unit", loc)
                if let unit {
                    let parsed: UCUMUnit
                    do { parsed = try UCUMUnit(parsing: unit) } catch {
                        throw Self.fail("'\(unit)' is not a UCUM unit", loc + ".unit", value: unit)
                    }
                    do { try CodeUnits.check(parsed, for: k) } catch {
                        throw Self.fail("\(error)", loc + ".unit", value: unit)
                    }
                }
                let (lo, hi) = try Self.bounds(c, loc, "a lab criterion")
                if unit == nil, let known = CodeUnits.referenceUnits(for: k) {
                    throw Self.fail("a lab criterion on \(k) needs a unit for its bound (\(known.map { "\"unit\": \"\($0)\"" }.joined(separator: " or ")))", loc + ".unit")
                }
                kind = .lab(code: k, min: lo, max: hi, unit: unit)
            case "medication":
                kind = .medication(codes: try Self.codes(c["codes"] ?? c["code"], loc + ".codes"))
            default:
                let meant = Self.suggestion(for: type, allowed: Self.types)
                throw Self.fail("unknown criterion type '\(type)'\(meant.isEmpty ? "" : " (did you mean '\(meant[0])'?)"): use \(Self.types.joined(separator: ", "))", loc + ".type", value: type)
            }
            let label = try Self.string(c, "description", loc)
            criteria.append(Criterion(id: cid, kind: kind, exclude: exclude, withinDays: within,
                                      description: Self.describe(kind, exclude: exclude, withinDays: within, label: label)))
        }
    }

    /// How a criterion is understood, in words: `latest loinc:4548-4 (hemoglobin A1c/hemoglobin.total in blood)
    /// >= 6.5 % within the 365 days before asOf`.
    public static func describe(_ kind: Kind, exclude: Bool, withinDays: Double?, label: String? = nil) -> String {
        func range(_ lo: Double?, _ hi: Double?, _ unit: String) -> String {
            let u = unit.isEmpty ? "" : " \(unit)"
            switch (lo, hi) {
            case let (lo?, hi?) where lo == hi: return "= \(Value.format(lo))\(u)"
            case let (lo?, hi?): return "between \(Value.format(lo)) and \(Value.format(hi))\(u) (inclusive)"
            case let (lo?, nil): return ">= \(Value.format(lo))\(u)"
            case let (nil, hi?): return "<= \(Value.format(hi))\(u)"
            default: return "(no bound)"
            }
        }
        func codeList(_ codes: [CodeKey]) -> String { codes.map(\.description).joined(separator: " or ") }
        var d: String
        switch kind {
        case .age(let lo, let hi): d = "age at asOf (whole years) \(range(lo, hi, "years"))"
        case .sex(let v): d = "sex (gender) is \(v.joined(separator: " or "))"
        case .alive: d = "alive at asOf"
        case .condition(let codes, let active):
            d = "a\(active ? "n active" : "") condition \(codeList(codes)) (or a descendant)\(active ? ", not abated at asOf" : "")"
        case .lab(let code, let lo, let hi, let unit):
            let name = CodeUnits.name(for: code).map { " (\($0))" } ?? ""
            d = "latest \(code)\(name) \(range(lo, hi, unit ?? ""))" + (unit == nil ? " in the value's own unit" : ", other units converted")
        case .medication(let codes): d = "a medication \(codeList(codes)) (or a descendant)"
        case .unsupported(let why): d = "not understood, always unknown: \(why)"
        }
        if let withinDays { d += " within the \(Value.format(withinDays)) days before asOf" }
        if exclude { d = "exclusion (met when absent): " + d }
        if let label, !label.isEmpty { d = "\(label): \(d)" }
        return d
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
                // A threshold without a bound, or without the unit its code needs, would match everyone: unknown.
                if case .lab(_, nil, nil, _) = kind {
                    kind = .unsupported("a threshold on \(k) without a value")
                } else if case .lab(_, _, _, nil) = kind, let units = CodeUnits.referenceUnits(for: k) {
                    kind = .unsupported("a threshold on \(k) without a unit (expected \(units.joined(separator: " or ")))")
                }
            } else {
                kind = .unsupported("characteristic \(keys.first?.description ?? text) is not understood")
            }
            var within: Double?
            if let start = ch["period"]?["start"]?.stringValue.flatMap(FHIRTime.instant),
               let end = ch["period"]?["end"]?.stringValue.flatMap(FHIRTime.instant), end > start {
                within = (end.seconds - start.seconds) / 86_400
            }
            let what = ch["code"]?["text"]?.stringValue ?? keys.first?.description ?? "characteristic"
            let label = what + (ch["valueCodeableConcept"].flatMap { FHIRValues.concept($0) }.map { " = \($0.display ?? $0.code)" } ?? "")
            criteria.append(Criterion(id: "characteristic-\(i + 1)", kind: kind, exclude: exclude, withinDays: within,
                                      description: Self.describe(kind, exclude: exclude, withinDays: within, label: label)))
            _ = loc
        }
        if criteria.isEmpty { throw Self.fail("the Group has no characteristic", "Group.characteristic") }
    }
}
