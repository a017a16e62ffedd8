import Foundation
import TwinCore

/// De-identification in the style of the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), over the bank's own member
/// records (``record(of:at:)``) and over FHIR JSON (``deidentify(fhir:)``).
///
/// What it promises, for both forms:
/// - Names, telecom (phone, fax, email), URLs, photos, contacts (relatives), free-text notes and narratives, and
///   device identifiers (UDI, serial and lot numbers) are removed.
/// - Addresses keep only the state, the country and the 3-digit ZIP prefix; the prefix becomes `000` when it is
///   one of ``restrictedZIP3`` (the 17 prefixes of the 2000 census with 20,000 people or fewer).
/// - Every date keeps only its year; a person aged over 89 at ``referenceYear`` (by birth year, the conservative
///   reading) has no birth year at all: the value is ``ageOver89`` ("90+").
/// - Identifiers (record numbers, SSN, MRN, resource ids and the references to them, the twin id) are replaced by
///   keyed pseudonyms (``PseudonymKey``): the same identifier gives the same pseudonym in every release made with
///   the same key, and nothing of the identifier is kept.
/// The output is built from an allow-list for records (only the named fields and coded, numeric or boolean
/// attributes) and from a deny-list of FHIR elements plus a date rewrite of every string that looks like a date.
public struct SafeHarbor: Sendable {
    /// The 3-digit ZIP prefixes with a 2000-census population of 20,000 or fewer: released as `000`.
    public static let restrictedZIP3: Set<String> = [
        "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893",
    ]
    /// The value that stands for a birth year (or age) of a person over 89.
    public static let ageOver89 = "90+"
    /// Text attributes kept in records (coded words, not free text).
    public static let keptTextAttributes: Set<String> = ["gender", "sex", "race", "ethnicity", "birthSex"]
    /// Attributes always dropped from records (direct identifiers or free text).
    public static let droppedAttributes: Set<String> = ["name", "address", "fhir.id", "identifier", "telecom", "email", "phone", "note", "notes"]

    public let key: PseudonymKey
    /// The year ages are counted at (the release year).
    public let referenceYear: Int

    public init(key: PseudonymKey, referenceYear: Int) {
        self.key = key
        self.referenceYear = referenceYear
    }

    /// The ZIP3 that may be released for a postal code: its first three digits, `000` for a restricted prefix, nil
    /// when the code does not start with five digits.
    public static func zip3(of postalCode: String) -> String? {
        let digits = Array(postalCode.trimmingCharacters(in: .whitespaces))
        guard digits.count >= 5, digits.prefix(5).allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let p = String(digits.prefix(3))
        return restrictedZIP3.contains(p) ? "000" : p
    }

    /// The state and ZIP3 of the bank's `address` text (what the FHIR import writes: lines, city, state, postal code,
    /// country joined by ", "): the ZIP3 of the first part that is a postal code, and the part before it as the state.
    public static func region(ofAddress text: String) -> (state: String?, zip3: String?) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let i = parts.firstIndex(where: { zip3(of: $0) != nil && $0.count <= 10 }) else { return (nil, nil) }
        return (i > 0 ? parts[i - 1] : nil, zip3(of: parts[i]))
    }

    /// The released birth year: the year, or ``ageOver89`` when the person is over 89 at the reference year.
    public func birthYear(_ year: Int) -> String {
        referenceYear - year > 89 ? Self.ageOver89 : String(year)
    }

    /// The de-identified record of a twin (the tabular release): `id` (the pseudonym of the twin id), `birthYear`,
    /// `sex`, `state`, `zip3` when known, and the twin's other attributes that are coded (`SYSTEM:CODE`), numeric,
    /// boolean, a date (year only) or one of ``keptTextAttributes``; everything else is dropped.
    public func record(of twin: Twin) -> ReleaseRecord {
        var fields: [String: String] = [:]
        for (name, value) in twin.attributes {
            if Self.droppedAttributes.contains(name) { continue }
            switch value {
            case .date(let d):
                if name == "birthDate" { fields["birthYear"] = birthYear(d.utcDate.year) } else { fields[name] = String(d.utcDate.year) }
            case .text(let t):
                if Self.keptTextAttributes.contains(name) { fields[name == "gender" ? "sex" : name] = t.lowercased() }
            case .concept(let c): fields[name] = "\(c.system):\(c.code)"
            case .quantity(let q): fields[name] = q.unit.isEmpty || q.unit == "1" ? "\(q.value)" : "\(q.value) \(q.unit)"
            case .boolean(let b): fields[name] = String(b)
            case .vector: continue
            }
        }
        if case .text(let a)? = twin.attributes["address"] {
            let r = Self.region(ofAddress: a)
            if let s = r.state { fields["state"] = s }
            if let z = r.zip3 { fields["zip3"] = z }
        }
        return ReleaseRecord(id: key.pseudonym(twin.id.rawValue, domain: "twin"), fields: fields)
    }

    // MARK: FHIR

    /// Elements removed wherever they occur in a FHIR resource.
    static let droppedElements: Set<String> = [
        "name", "telecom", "text", "note", "comment", "photo", "contact", "link", "url", "udiCarrier", "serialNumber",
        "lotNumber", "distinctIdentifier", "deviceName", "modelNumber", "presentedForm", "content", "attachment",
        "valueAttachment", "description", "div",
    ]
    /// Elements of type `instant` (a full time with a zone), which a year alone cannot fill: removed.
    static let instantElements: Set<String> = ["issued", "lastUpdated", "recorded", "timestamp", "when"]
        /// Extensions removed (by URL suffix): a name or a place of a relative or of birth below the state.
    static let droppedExtensions = ["mothersMaidenName", "geolocation"]

    /// De-identifies FHIR JSON (a Bundle, a single resource, or NDJSON: one resource per line), returning JSON of the
    /// same shape (keys sorted). See the type's promises. Organization names are kept (an organisation is not a person).
    /// - Throws: ``GovernanceError`` `invalidRelease` when the bytes are not JSON.
    public func deidentify(fhir bytes: [UInt8]) throws -> [UInt8] {
        let data = Data(bytes)
        func parse(_ d: Data) throws -> Any {
            do { return try JSONSerialization.jsonObject(with: d, options: [.fragmentsAllowed]) } catch {
                throw GovernanceError(.invalidRelease, "the FHIR input is not JSON: \(error.localizedDescription)")
            }
        }
        func render(_ v: Any) throws -> Data {
            try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        }
        if let whole = try? JSONSerialization.jsonObject(with: data, options: []) {
            return Array(try render(clean(whole, parentKey: nil, resourceType: nil) ?? NSNull()))
        }
        var out = Data()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
            let v = try parse(Data(line))
            out.append(try render(clean(v, parentKey: nil, resourceType: nil) ?? NSNull()))
            out.append(UInt8(ascii: "\n"))
        }
        return Array(out)
    }

    /// The pseudonym of a FHIR reference or id (`Patient/123`, `urn:uuid:...`, a bare id): the resource type prefix is
    /// kept, the id replaced.
    func pseudonymousReference(_ s: String) -> String {
        if s.hasPrefix("urn:uuid:") { return "urn:uuid:" + uuidShaped(key.pseudonym(String(s.dropFirst(9)), domain: "fhir")) }
        if s.hasPrefix("#") { return s }
        if let slash = s.lastIndex(of: "/") {
            let type = s[..<slash].split(separator: "/").last.map(String.init) ?? ""
            return type + "/" + key.pseudonym(String(s[s.index(after: slash)...]), domain: "fhir")
        }
        return key.pseudonym(s, domain: "fhir")
    }

    private func uuidShaped(_ hex: String) -> String {
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// Whether a string looks like a FHIR date, dateTime or instant with more than a year (`YYYY-MM...`).
    static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 7, u[4] == UInt8(ascii: "-"), u[0..<4].allSatisfy({ $0 >= 48 && $0 <= 57 }),
              u[5] >= 48, u[5] <= 57, u[6] >= 48, u[6] <= 57 else { return false }
        let month = Int(u[5] - 48) * 10 + Int(u[6] - 48)
        return (1...12).contains(month) && (u.count == 7 || u[7] == UInt8(ascii: "-"))
    }

    private func clean(_ v: Any, parentKey: String?, resourceType: String?) -> Any? {
        if let o = v as? [String: Any] {
            let type = (o["resourceType"] as? String) ?? resourceType
            if let url = o["url"] as? String, Self.droppedExtensions.contains(where: { url.hasSuffix($0) }) { return nil }
            var out: [String: Any] = [:]
            var over89 = false
            let isAddress = parentKey == "address" || parentKey == "valueAddress" || parentKey == "birthPlace"
            for (k, value) in o {
                if isAddress {
                    if k == "state" || k == "country" { out[k] = value }
                    if k == "postalCode", let pc = value as? String, let z = Self.zip3(of: pc) { out[k] = z }
                    continue
                }
                if k == "url", parentKey == "extension" || parentKey == "modifierExtension" { out[k] = value; continue }
                if k == "name", type == "Organization", value is String { out[k] = value; continue }
                if k == "text", value is String, parentKey != nil, resourceType != nil, o["coding"] != nil { out[k] = value; continue }
                if Self.droppedElements.contains(k) { continue }
                // where the record came from (a file named after the patient, a system's URI) says who it is
                if k == "source", parentKey == "meta" { continue }
                // an instant cut to its year is no longer an instant: dropped (the event's own date keeps its year)
                if Self.instantElements.contains(k), let t = value as? String, Self.isDate(t) { continue }
                if k == "display", o["reference"] != nil { continue }
                if k == "identifier" {
                    out[k] = pseudonymousIdentifiers(value)
                    continue
                }
                if k == "id" || k == "reference" || k == "fullUrl", let s = value as? String {
                    out[k] = pseudonymousReference(s)
                    continue
                }
                if k == "birthDate", type == "Patient", let s = value as? String, let y = Int(s.prefix(4)) {
                    let b = birthYear(y)
                    if b == Self.ageOver89 { over89 = true } else { out[k] = b }
                    continue
                }
                // FHIR has no empty elements: one emptied by the removals goes too
                if let c = clean(value, parentKey: k, resourceType: type), !((c as? [String: Any])?.isEmpty ?? false), !((c as? [Any])?.isEmpty ?? false) { out[k] = c }
            }
            if over89 {
                // Safe Harbor pools ages over 89: no birth year, only the pooled category.
                out["extension"] = ((out["extension"] as? [Any]) ?? []) + [["url": "urn:twinbank:age-over-89", "valueString": Self.ageOver89]]
            }
            return out
        }
        if let a = v as? [Any] {
            return a.compactMap { clean($0, parentKey: parentKey, resourceType: resourceType) }
        }
        if let s = v as? String {
            if Self.isDate(s) { return String(s.prefix(4)) }
            if s.contains("://"), parentKey != "system", parentKey != "url", parentKey != "profile" { return nil }
            return s
        }
        return v
    }

    private func pseudonymousIdentifiers(_ v: Any) -> Any {
        func one(_ i: Any) -> Any? {
            guard let o = i as? [String: Any], let value = o["value"] as? String else { return nil }
            let system = (o["system"] as? String) ?? ""
            return ["system": "urn:twinbank:pseudonym", "value": key.pseudonym(system + "|" + value, domain: "identifier")]
        }
        if let a = v as? [Any] { return a.compactMap(one) }
        return one(v) ?? [String: Any]()
    }
}

/// One de-identified member record of a tabular release: its pseudonym and its released fields.
public struct ReleaseRecord: Sendable, Hashable, Codable {
    /// The keyed pseudonym of the twin id.
    public var id: String
    /// Field name to released value (`birthYear`, `sex`, `state`, `zip3`, coded attributes ...).
    public var fields: [String: String]
    public init(id: String, fields: [String: String]) { self.id = id; self.fields = fields }
}
