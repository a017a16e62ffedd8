import Foundation
import TwinBank
import TwinCore

/// Turns a parsed FHIR file (a Bundle of type transaction, batch or collection, or a single resource) into an
/// `ImportPlan`: person twins from Patients (twin id = the Patient's logical id), organisation twins from
/// Organizations (twin id derived from the first identifier, so the same hospital in many bundles is one
/// twin), Practitioner records deduplicated by identifier, and thread events from Observations (one per
/// component), Conditions, AllergyIntolerances, Medication{Request,Administration,Statement}s, Procedures,
/// Immunizations and Encounters, each with its code, UCUM unit, effective time and the source record
/// (`record:fhir/TYPE/ID`, with the origin bundle in the provenance).
///
/// References: `urn:uuid:`/`urn:oid:` full URLs, relative (`Patient/1`), absolute and `#contained` references
/// are resolved inside the bundle, and conditional ones to a Patient (`Patient?identifier=SYSTEM|VALUE`) by the
/// identifiers of the bundle's Patients; a subject outside the bundle must be an existing twin (checked by the
/// importer when it writes). A reference that resolves nowhere is a `danglingReference` error naming the
/// entry's fullUrl and the path.
public struct ImportPlanner: Sendable {
    public var validator = Validator()
    /// When true, a value whose unit cannot be read or does not fit its code, or a record that cannot be sound
    /// data (``FHIRError/Code/notImportable``), refuses the whole file (the behaviour before data-quality
    /// handling, `twinbank fhir import --strict`); when false (the default) such a value or record is set aside
    /// in ``ImportPlan/Unit/setAside`` with its entry, path and reason, and the rest of the entry and bundle is
    /// imported. It is never converted by guessing.
    public var strict = false

    public init() {}

    /// Plans the import of `resource` (already validated or not: it is validated here).
    /// - Parameter origin: names the file or bundle in provenance (`bundle:<Bundle.id or file name>`).
    /// - Throws: `FHIRError` for an invalid resource or, in a transaction/collection, any entry that cannot be
    ///   mapped; nothing of such a file should be written.
    public func plan(_ resource: JSONValue, origin: String) throws(FHIRError) -> ImportPlan {
        if let first = validator.validate(resource).first { throw first }
        guard let rt = resource["resourceType"]?.stringValue else {
            throw FHIRError(.unknownResourceType, "the resource has no resourceType")
        }
        if rt != "Bundle" {
            let only = Entry(fullUrl: nil, resource: resource, path: rt)
            var ctx = Context(index: BundleIndex([only]), origin: origin, strict: strict)
            var unit = ImportPlan.Unit()
            try ctx.map(0, only, into: &unit)
            return ImportPlan(origin: origin, atomicity: .allOrNothing, units: [unit], failures: [], skipped: ctx.skipped)
        }
        let type = resource["type"]?.stringValue ?? ""
        let entries = (resource["entry"]?.list ?? []).enumerated().map { i, e in Entry(bundleEntry: e, index: i) }
        var ctx = Context(index: BundleIndex(entries), origin: origin, strict: strict)
        switch type {
        case _ where Self.atomicTypes.contains(type):
            for (i, e) in entries.enumerated() { try Self.checkMethod(e, i) }
            var unit = ImportPlan.Unit()
            for (i, e) in entries.enumerated() { try ctx.map(i, e, into: &unit) }
            return ImportPlan(origin: origin, atomicity: .allOrNothing, units: [unit], failures: [], skipped: ctx.skipped)
        case "batch":
            var units: [ImportPlan.Unit] = []
            var failures: [FHIRError] = []
            for i in entries.indices {
                var unit = ImportPlan.Unit()
                do throws(FHIRError) {
                    try ctx.map(i, entries[i], into: &unit)
                    units.append(unit)
                } catch { failures.append(error) }
            }
            // Twins first, so an entry about a patient created by another entry finds it.
            units.sort { !$0.twins.isEmpty && $1.twins.isEmpty }
            return ImportPlan(origin: origin, atomicity: .perEntry, units: units, failures: failures, skipped: ctx.skipped)
        default:
            throw FHIRError(.unsupported, "a Bundle of type '\(type)' is not imported (transaction, batch and collection are)",
                            location: "Bundle.type", value: type)
        }
    }

    /// Bundle types imported as one all-or-nothing unit.
    static let atomicTypes: Set<String> = ["transaction", "collection", "document", "searchset", "history", "message"]

    /// Plans a bundle that is read entry by entry (``BundleStream``) rather than held in memory: `top` holds
    /// the bundle's members other than `entry`, `index` what every entry is (read in a first pass).
    struct StreamedBundle {
        let validator: Validator
        let top: JSONObject
        let type: String
        var context: Context

        init(validator: Validator, top: JSONObject, index: BundleIndex, origin: String, strict: Bool = false) throws(FHIRError) {
            guard let rt = top["resourceType"]?.stringValue else {
                throw FHIRError(.unknownResourceType, "the resource has no resourceType", location: "$.resourceType")
            }
            guard rt == "Bundle" else {
                throw FHIRError(.unsupported, "only Bundles are read in parts; a single \(rt) this large is not imported", location: rt, value: rt)
            }
            self.validator = validator
            self.top = top
            type = top["type"]?.stringValue ?? ""
            guard ImportPlanner.atomicTypes.contains(type) || type == "batch" else {
                throw FHIRError(.unsupported, "a Bundle of type '\(type)' is not imported (transaction, batch and collection are)",
                                location: "Bundle.type", value: type)
            }
            context = Context(index: index, origin: origin, strict: strict)
        }

        var isAtomic: Bool { ImportPlanner.atomicTypes.contains(type) }

        /// Checks entry `i` against the R4 rules, as part of the whole bundle (references to other entries
        /// resolve through the index).
        func validate(_ i: Int, _ e: JSONValue) throws(FHIRError) {
            var b = top
            b.members.append(JSONObject.Member("entry", .array([e])))
            let index = context.index
            if var first = validator.validate(partOfBundle: .object(b), entryType: { index.resourceType(fullUrl: $0) }).first {
                if let loc = first.location, loc.hasPrefix("Bundle.entry[0]") {
                    first.location = "Bundle.entry[\(i)]" + loc.dropFirst("Bundle.entry[0]".count)
                }
                throw first
            }
        }

        /// Maps entry `i` (already validated) into `unit`.
        mutating func map(_ i: Int, _ e: JSONValue, into unit: inout ImportPlan.Unit) throws(FHIRError) {
            let entry = Entry(bundleEntry: e, index: i)
            if isAtomic { try ImportPlanner.checkMethod(entry, i) }
            try context.map(i, entry, into: &unit)
        }

        var skipped: [String: Int] { context.skipped }
    }

    /// Entries of a transaction or collection are imported only if they create or update.
    static func checkMethod(_ e: Entry, _ i: Int) throws(FHIRError) {
        if e.method == "DELETE" || e.method == "GET" || e.method == "HEAD" {
            throw FHIRError(.unsupported, "entry method \(e.method ?? "") is not imported (only POST, PUT and PATCH-free creates)",
                            location: "Bundle.entry[\(i)].request.method", value: e.method, fullUrl: e.fullUrl)
        }
    }

    struct Entry {
        var fullUrl: String?
        var resource: JSONValue
        var path: String
        var method: String? = nil
        var label: String { fullUrl ?? path }

        /// The `i`th element of `Bundle.entry`.
        init(bundleEntry e: JSONValue, index i: Int) {
            self.init(fullUrl: e["fullUrl"]?.stringValue, resource: e["resource"] ?? .null, path: "Bundle.entry[\(i)].resource",
                      method: e["request"]?["method"]?.stringValue)
        }

        init(fullUrl: String?, resource: JSONValue, path: String, method: String? = nil) {
            self.fullUrl = fullUrl; self.resource = resource; self.path = path; self.method = method
        }
    }

    /// What the planner must know of every entry of a bundle to resolve references to it, without keeping
    /// the entries themselves, so a streamed bundle is planned in bounded memory: about 120 bytes an entry
    /// (a Patient's id, a Medication's code, and 128-bit keys of full URLs and `type/id`s).
    struct BundleIndex {
        struct Info {
            var resourceType: String?
            /// For a Patient: its twin id text (its id, else the UUID of a `urn:uuid:` full URL).
            var patientID: String?
            /// `Medication.code`, which a MedicationRequest's `medicationReference` takes as its code.
            var medicationCode: JSONValue?
        }
        /// A 128-bit key of a string (two independently seeded SipHash values; collisions are not a concern).
        struct Key: Hashable {
            var a: Int, b: Int
            init(_ s: String) {
                var h1 = Hasher(), h2 = Hasher()
                h1.combine(UInt8(1)); h1.combine(s)
                h2.combine(UInt8(2)); h2.combine(s)
                a = h1.finalize(); b = h2.finalize()
            }
        }
        var infos: [Info] = []
        var byFullUrl: [Key: Int32] = [:]
        var byTypeAndID: [Key: Int32] = [:]
        /// Patients by identifier, for conditional references (`Patient?identifier=SYSTEM|VALUE`): keys
        /// `SYSTEM|VALUE` and `|VALUE` (any system); -1 when more than one patient has it.
        var patientsByIdentifier: [Key: Int32] = [:]

        init() {}

        init(_ entries: [Entry]) {
            for e in entries { add(e) }
        }

        mutating func add(_ e: Entry) {
            let i = Int32(infos.count)
            let t = e.resource["resourceType"]?.stringValue
            let id = e.resource["id"]?.stringValue
            var patientID: String?
            if t == "Patient" {
                patientID = id ?? e.fullUrl.flatMap(Self.idFromFullUrl)
                for ident in e.resource["identifier"]?.list ?? [] {
                    guard let v = ident["value"]?.stringValue else { continue }
                    for k in [(ident["system"]?.stringValue ?? "") + "|" + v, "*|" + v] {
                        let key = Key(k)
                        if let old = patientsByIdentifier[key], old != i { patientsByIdentifier[key] = -1 } else { patientsByIdentifier[key] = i }
                    }
                }
            }
            infos.append(Info(resourceType: t, patientID: patientID, medicationCode: t == "Medication" ? e.resource["code"] : nil))
            if let u = e.fullUrl { byFullUrl[Key(u)] = i }
            if let t, let id { byTypeAndID[Key("\(t)/\(id)")] = i }
        }

        /// The id a Patient without `id` takes from its full URL: the UUID of `urn:uuid:UUID`, the last segment
        /// of `.../Patient/ID`.
        static func idFromFullUrl(_ u: String) -> String? {
            if u.hasPrefix("urn:uuid:") { return String(u.dropFirst(9)) }
            let parts = u.split(separator: "/")
            guard parts.count >= 2, parts[parts.count - 2] == "Patient" else { return nil }
            return String(parts[parts.count - 1])
        }

        /// The Patient entry a conditional reference `Patient?identifier=[SYSTEM|]VALUE` names: nil when none
        /// does, -1 when several do.
        func patient(identifierSearch query: String) -> Int? {
            guard query.hasPrefix("identifier=") else { return nil }
            let raw = String(query.dropFirst("identifier=".count))
            let token = raw.removingPercentEncoding ?? raw
            let key = token.contains("|") ? token : "*|" + token
            return patientsByIdentifier[Key(key)].map(Int.init)
        }

        /// The entry with this full URL.
        func entry(fullUrl: String) -> Int? { byFullUrl[Key(fullUrl)].map(Int.init) }
        /// The entry with this `type/id`.
        func entry(typeAndID: String) -> Int? { byTypeAndID[Key(typeAndID)].map(Int.init) }
        /// The resource type of the entry with this full URL, for reference type checks.
        func resourceType(fullUrl: String) -> String? { entry(fullUrl: fullUrl).flatMap { infos[$0].resourceType } }
    }

    /// The twin id of an Organization: `org-` and 24 hex digits of the SHA-256 of its first identifier
    /// (`system|value`), or of its id when it has no identifier, or of its entry's `fullUrl` when it has neither.
    public static func organisationTwinID(_ org: JSONValue, fullUrl: String? = nil) -> TwinID? {
        let key: String
        if let ident = org["identifier"]?.list.first(where: { $0["value"] != nil }), let v = ident["value"]?.stringValue {
            key = (ident["system"]?.stringValue ?? "") + "|" + v
        } else if let id = org["id"]?.stringValue {
            key = "id|" + id
        } else if let fullUrl {
            key = "fullUrl|" + fullUrl
        } else {
            return nil
        }
        return try? TwinID("org-" + EventHasher.sha256(Array(key.utf8)).abbreviated(24))
    }

    static func identifierKey(_ r: JSONValue) -> String? {
        guard let ident = r["identifier"]?.list.first(where: { $0["value"] != nil }), let v = ident["value"]?.stringValue else { return nil }
        return (ident["system"]?.stringValue ?? "") + "|" + v
    }

    struct Context {
        var index: BundleIndex
        var origin: String
        var skipped: [String: Int] = [:]
        /// See ``ImportPlanner/strict``.
        var strict = false
        /// The entry being mapped.
        var current = Entry(fullUrl: nil, resource: .null, path: "")
        /// The patient and code of the record being mapped, once known (for a set-aside issue).
        var currentPatient: TwinID?
        var currentCode: Concept?

        init(index: BundleIndex, origin: String, strict: Bool = false) {
            self.index = index
            self.origin = origin
            self.strict = strict
        }

        /// The value of `r` (an Observation or one of its components), or, when the import is not strict and the
        /// value is not sound, nil with the value set aside in `unit`: its unit cannot be read or does not fit
        /// `code`, it is a bound (`comparator`), absent (`dataAbsentReason`, or no value for a code measured as a
        /// quantity), or sampled data with E/L/U points.
        func soundValue(of r: JSONValue, code: Concept, twin: TwinID, i: Int, path: String, into unit: inout ImportPlan.Unit) throws(FHIRError) -> (value: Value?, setAside: Bool) {
            do throws(FHIRError) {
                let v = try value(of: r, code: code, i: i, path: path)
                if v == nil, CodeUnits.expectedDimensions(for: code.key) != nil {
                    throw fail(i, .notImportable, "no value: \(code.key) is measured as a quantity, and the \(path.hasSuffix("]") ? "component" : "Observation") has none", path: path + ".value[x]")
                }
                return (v, false)
            } catch let error where !strict && (error.code == .unitNotConvertible || error.code == .notImportable) {
                unit.setAside.append(ImportIssue(disposition: .setAside, patient: twin.rawValue, entry: current.label,
                                                 path: error.location ?? path, code: code.key.description, reason: error.message, value: error.value))
                return (nil, true)
            }
        }

        /// An error about the entry being mapped (`i` is its index).
        func fail(_ i: Int, _ code: FHIRError.Code, _ message: String, path: String, value: String? = nil, rule: String? = nil) -> FHIRError {
            FHIRError(code, message, location: path, value: value, rule: rule, fullUrl: current.fullUrl)
        }

        /// What a reference points at: an entry of this bundle, a contained resource, or something outside.
        enum Target { case entry(Int), contained(JSONValue), external(type: String?, id: String?) }

        func resolve(_ ref: String, from i: Int, path: String) throws(FHIRError) -> Target {
            if ref.hasPrefix("#") {
                let id = String(ref.dropFirst())
                if let c = current.resource["contained"]?.list.first(where: { $0["id"]?.stringValue == id }) { return .contained(c) }
                throw fail(i, .danglingReference, "reference '\(ref)' names no contained resource", path: path, value: ref, rule: "ref-1")
            }
            if let j = index.entry(fullUrl: ref) { return .entry(j) }
            if ref.hasPrefix("urn:uuid:") || ref.hasPrefix("urn:oid:") {
                throw fail(i, .danglingReference, "reference '\(ref)' resolves to no entry of the bundle", path: path, value: ref)
            }
            if let q = ref.firstIndex(of: "?") {
                // a conditional reference (Synthea 3.x, transaction bundles): a Patient of the bundle is found by
                // identifier; other types are resolved by the server they come from
                let t = String(ref[..<q])
                if t == "Patient", let j = index.patient(identifierSearch: String(ref[ref.index(after: q)...])) {
                    guard j >= 0 else {
                        throw fail(i, .danglingReference, "the conditional reference '\(ref)' matches more than one Patient of the bundle", path: path, value: ref)
                    }
                    return .entry(j)
                }
                return .external(type: t, id: nil)
            }
            var parts = ref.split(separator: "/").map(String.init)
            if parts.count >= 4 && parts[parts.count - 2] == "_history" { parts.removeLast(2) }
            guard parts.count >= 2 else { return .external(type: nil, id: nil) }
            let key = parts[parts.count - 2] + "/" + parts[parts.count - 1]
            if let j = index.entry(typeAndID: key) { return .entry(j) }
            return .external(type: parts[parts.count - 2], id: parts[parts.count - 1])
        }

        /// Checks every reference in an entry resolves (bundle-internal and contained ones). Walks without
        /// building paths; only when a reference fails does it walk again to name the location.
        func checkReferences(_ v: JSONValue, from i: Int, path: String) throws(FHIRError) {
            if allReferencesResolve(v, from: i) { return }
            try checkReferencesNamingPath(v, from: i, path: path)
        }

        func allReferencesResolve(_ v: JSONValue, from i: Int) -> Bool {
            switch v {
            case .object(let o):
                for m in o.members {
                    if m.key == "reference", case .string(let r) = m.value {
                        do { _ = try resolve(r, from: i, path: "") } catch { return false }
                    } else if m.key != "contained", !allReferencesResolve(m.value, from: i) {
                        return false
                    }
                }
                return true
            case .array(let a):
                return a.allSatisfy { allReferencesResolve($0, from: i) }
            default:
                return true
            }
        }

        func checkReferencesNamingPath(_ v: JSONValue, from i: Int, path: String) throws(FHIRError) {
            switch v {
            case .object(let o):
                for m in o.members {
                    if m.key == "reference", case .string(let r) = m.value {
                        _ = try resolve(r, from: i, path: path + ".reference")
                    } else if m.key != "contained" {
                        try checkReferencesNamingPath(m.value, from: i, path: path + "." + m.key)
                    }
                }
            case .array(let a):
                for (k, x) in a.enumerated() { try checkReferencesNamingPath(x, from: i, path: "\(path)[\(k)]") }
            default: break
            }
        }

        func patientTwinID(of j: Int) -> String? {
            index.infos[j].patientID
        }

        /// The person twin a resource is about (its subject or patient), and whether it must already exist.
        func subject(of i: Int, _ r: JSONValue, path: String) throws(FHIRError) -> (TwinID, external: Bool) {
            let rt = r["resourceType"]?.stringValue
            let key = r["subject"] != nil ? "subject" : (r["patient"] != nil || rt == "AllergyIntolerance" || rt == "Immunization" ? "patient" : "subject")
            guard let ref = r[key]?["reference"]?.stringValue else {
                throw fail(i, .notImportable, "the resource has no \(key) reference, so it belongs to no patient", path: "\(path).\(key)")
            }
            var idText: String?
            var external = false
            switch try resolve(ref, from: i, path: "\(path).\(key).reference") {
            case .entry(let j):
                guard index.infos[j].resourceType == "Patient" else {
                    throw fail(i, .notImportable, "the \(key) is a \(index.infos[j].resourceType ?? "resource"), not a Patient; only patients' records become thread events", path: "\(path).\(key)", value: ref)
                }
                idText = patientTwinID(of: j)
            case .external(let t, let id):
                if let t, t != "Patient", t.first?.isUppercase == true {
                    throw fail(i, .notImportable, "the \(key) is a \(t), not a Patient; only patients' records become thread events", path: "\(path).\(key)", value: ref)
                }
                guard t == "Patient", let id else {
                    throw fail(i, .danglingReference, "the \(key) reference '\(ref)' resolves to no Patient of the bundle", path: "\(path).\(key).reference", value: ref)
                }
                idText = id
                external = true
            case .contained:
                throw fail(i, .notImportable, "a contained Patient as \(key) is not imported", path: "\(path).\(key)", value: ref)
            }
            guard let idText, let tid = try? TwinID(idText) else {
                throw fail(i, .invalidResource, "the Patient id '\(idText ?? "")' cannot be a twin id", path: "\(path).\(key)", value: idText)
            }
            return (tid, external)
        }

        func time(_ r: JSONValue, _ names: [String], i: Int, path: String) throws(FHIRError) -> EffectiveTime? {
            for n in names {
                guard let v = r[n] else { continue }
                if let s = v.stringValue {
                    guard let t = FHIRTime.instant(s) else {
                        throw fail(i, .invalidResource, "'\(s)' is not a dateTime", path: "\(path).\(n)", value: s, rule: "format dateTime")
                    }
                    return EffectiveTime(t)
                }
                if case .object = v, let s = v["start"]?.stringValue ?? v["end"]?.stringValue, let start = FHIRTime.instant(s) {
                    var end = v["end"]?.stringValue.flatMap(FHIRTime.instant)
                    if let e = end, e < start { end = nil }
                    return EffectiveTime(start, end: end)
                }
            }
            return nil
        }

        func quantity(_ q: JSONValue, code: Concept, i: Int, path: String) throws(FHIRError) -> Quantity {
            guard let value = q["value"]?.doubleValue else {
                throw fail(i, .notImportable, "the quantity has no value", path: path + ".value")
            }
            if let c = q["comparator"]?.stringValue {
                // "<5" is a bound, not a measurement: reading it as 5 would be a guess
                throw fail(i, .notImportable, "the value is a bound ('\(c)\(q["value"]?.numberText ?? "")'), not a measurement", path: path + ".comparator",
                           value: c + (q["value"]?.numberText ?? ""))
            }
            let rawUnit: String
            if q["system"]?.stringValue == FHIRValues.ucum, let c = q["code"]?.stringValue { rawUnit = c }
            else if let c = q["code"]?.stringValue, q["system"] == nil { rawUnit = c }
            else if let u = q["unit"]?.stringValue { rawUnit = u }
            else if let system = q["system"]?.stringValue, let c = q["code"]?.stringValue {
                throw fail(i, .unitNotConvertible, "the unit '\(c)' is coded in \(system), not UCUM, and has no unit text", path: path + ".system", value: c)
            }
            else { rawUnit = "1" }
            let unitText = UnitSynonyms.ucum(for: rawUnit)
            let unit: UCUMUnit
            do { unit = try UCUMUnit(parsing: unitText) } catch {
                throw fail(i, .unitNotConvertible, "unit '\(unitText)' is not a UCUM unit the bank can convert", path: path + ".code", value: unitText, rule: "UCUM")
            }
            do { try CodeUnits.check(unit, for: code.key) } catch {
                throw fail(i, .unitNotConvertible, "\(error)", path: path + ".code", value: unitText)
            }
            return Quantity(value, unitText)
        }

        func value(of r: JSONValue, code: Concept, i: Int, path: String) throws(FHIRError) -> Value? {
            if let q = r["valueQuantity"] { return .quantity(try quantity(q, code: code, i: i, path: path + ".valueQuantity")) }
            if let c = r["valueCodeableConcept"] { return FHIRValues.concept(c).map { .concept($0) } }
            if let s = r["valueString"]?.stringValue { return .text(s) }
            if let b = r["valueBoolean"]?.boolValue { return .boolean(b) }
            if let n = r["valueInteger"]?.doubleValue { return .quantity(Quantity(n, "1")) }
            if let s = r["valueDateTime"]?.stringValue { return FHIRTime.instant(s).map { .date($0) } }
            if let s = r["valueTime"]?.stringValue { return .text(s) }
            if let sd = r["valueSampledData"] { return try sampled(sd, i: i, path: path + ".valueSampledData") }
            if let range = r["valueRange"] {
                let lo = range["low"].map { FHIRValues.describe($0) } ?? ""
                let hi = range["high"].map { FHIRValues.describe($0) } ?? ""
                return .text("\(lo)..\(hi)")
            }
            if let ratio = r["valueRatio"] {
                return .text("\(ratio["numerator"].map { FHIRValues.describe($0) } ?? "")/\(ratio["denominator"].map { FHIRValues.describe($0) } ?? "")")
            }
            if let p = r["valuePeriod"] {
                return .text("\(p["start"]?.stringValue ?? "")/\(p["end"]?.stringValue ?? "")")
            }
            if let why = r["dataAbsentReason"] {
                let reason = FHIRValues.concept(why).map { $0.code } ?? "given"
                throw fail(i, .notImportable, "no value: the source says it is absent (dataAbsentReason '\(reason)')", path: path + ".dataAbsentReason", value: reason)
            }
            return nil
        }

        /// valueSampledData -> a vector in the origin's unit: origin + factor * data point. Points E, L and U
        /// (error, below and above the detection limits) have no number and are rejected.
        func sampled(_ sd: JSONValue, i: Int, path: String) throws(FHIRError) -> Value {
            let originQ = sd["origin"] ?? .null
            let origin = originQ["value"]?.doubleValue ?? 0
            let factor = sd["factor"]?.doubleValue ?? 1
            let unit = UnitSynonyms.ucum(for: originQ["code"]?.stringValue ?? originQ["unit"]?.stringValue ?? "1")
            do { _ = try UCUMUnit(parsing: unit) } catch {
                throw fail(i, .unitNotConvertible, "unit '\(unit)' of the sampled data origin is not UCUM", path: path + ".origin.code", value: unit, rule: "UCUM")
            }
            var values: [Double] = []
            for tok in (sd["data"]?.stringValue ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
                guard let x = Double(tok) else {
                    throw fail(i, .notImportable, "sampled data point '\(tok)' is not a number (E/L/U markers are not imported)", path: path + ".data", value: String(tok))
                }
                values.append(origin + factor * x)
            }
            return .vector(Vector(values, unit: unit))
        }

        /// Where sampled data keeps its sampling period: the event spans its samples, from the effective instant to
        /// `n x period` after it (`SampledData.period` is in ms), so the rate travels with the thread (n samples over
        /// the span). An Observation with an effective period keeps it; without a positive period the time stays.
        static func sampledSpan(_ element: JSONValue, _ value: Value?, _ time: EffectiveTime) -> EffectiveTime {
            guard time.end == nil, case .vector(let vector)? = value, !vector.values.isEmpty,
                  let period = element["valueSampledData"]?["period"]?.doubleValue, period > 0, period.isFinite else { return time }
            let span = (period * 1000 * Double(vector.values.count)).rounded()
            guard span < 8.64e10 else { return time }  // over a day of samples is not a waveform strip
            return EffectiveTime(time.start, end: Instant(microseconds: time.start.microseconds + Int64(span)))
        }

        func source(_ r: JSONValue, i: Int) -> Source {
            let t = r["resourceType"]?.stringValue ?? "Resource"
            let id = r["id"]?.stringValue ?? current.fullUrl.map { $0.hasPrefix("urn:uuid:") ? String($0.dropFirst(9)) : $0 } ?? "entry\(i)"
            return Source(.record, "fhir/\(t)/\(id)")
        }

        func originText(_ r: JSONValue) -> String { r["meta"]?["source"]?.stringValue ?? origin }

        mutating func map(_ i: Int, _ e: Entry, into unit: inout ImportPlan.Unit) throws(FHIRError) {
            current = e
            currentPatient = nil
            currentCode = nil
            let r = e.resource
            let path = e.path
            guard let rt = r["resourceType"]?.stringValue else {
                throw fail(i, .unknownResourceType, "the entry has no resource", path: path)
            }
            unit.entries.append(e.label)
            try checkReferences(r, from: i, path: path)
            switch rt {
            case "Patient":
                guard let idText = patientTwinID(of: i), let tid = try? TwinID(idText) else {
                    throw fail(i, .invalidResource, "the Patient has no id usable as a twin id", path: path + ".id", value: r["id"]?.stringValue)
                }
                unit.twins.append(PatientMapping.twin(r, id: tid))
            case "Organization":
                guard let tid = ImportPlanner.organisationTwinID(r, fullUrl: e.fullUrl) else {
                    throw fail(i, .invalidResource, "the Organization has neither identifier, id nor fullUrl", path: path)
                }
                unit.twins.append(PatientMapping.organisation(r, id: tid))
            case "Practitioner", "PractitionerRole", "Location", "Device", "Medication":
                let key = ImportPlanner.identifierKey(r) ?? ("id|" + (r["id"]?.stringValue ?? e.label))
                unit.records.append(ImportPlan.Record(resourceType: rt, key: "\(rt)|\(key)", json: r))
            case "Observation", "Condition", "AllergyIntolerance", "Procedure", "Immunization", "Encounter",
                 "MedicationRequest", "MedicationAdministration", "MedicationStatement", "DiagnosticReport":
                // Valid FHIR that cannot become sound thread data is set aside (refused under strict); invalid
                // FHIR (a broken reference) refuses the bundle either way.
                do throws(FHIRError) {
                    if rt == "Observation" { try mapObservation(i, e, into: &unit) } else { try mapRecord(i, e, rt, into: &unit) }
                } catch where error.code == .notImportable && !strict {
                    unit.setAside.append(ImportIssue(disposition: .setAside, patient: currentPatient?.rawValue ?? "", entry: e.label,
                                                     path: error.location ?? path, code: currentCode?.key.description ?? "",
                                                     reason: error.message, value: error.value))
                }
            default:
                skipped[rt, default: 0] += 1
            }
        }

        /// The patient a record is about (its subject), noted for a set-aside issue; an external subject must
        /// be a twin of the bank when the unit is written.
        mutating func patient(_ i: Int, _ r: JSONValue, path: String, into unit: inout ImportPlan.Unit) throws(FHIRError) -> TwinID {
            let (twin, ext) = try subject(of: i, r, path: path)
            currentPatient = twin
            if ext { unit.requiredTwins.append((twin, current.fullUrl, path + ".subject")) }
            return twin
        }

        /// A record its source withdrew (`entered-in-error`; an Observation or DiagnosticReport `cancelled`) or
        /// an intervention that did not happen (`not-done`) is not sound data.
        func checkNotWithdrawn(_ i: Int, _ r: JSONValue, _ rt: String, path: String) throws(FHIRError) {
            let status = r["status"]?.stringValue
            let verification = r["verificationStatus"].flatMap { FHIRValues.concept($0)?.code }
            if status == "entered-in-error" || verification == "entered-in-error" {
                throw fail(i, .notImportable, "the source marks the \(rt) entered-in-error (withdrawn)",
                           path: path + (status == "entered-in-error" ? ".status" : ".verificationStatus"), value: "entered-in-error")
            }
            if status == "cancelled", rt == "Observation" || rt == "DiagnosticReport" {
                throw fail(i, .notImportable, "the \(rt) was cancelled: it has no result", path: path + ".status", value: status)
            }
            if status == "not-done", rt == "Procedure" || rt == "Immunization" || rt == "MedicationAdministration" {
                throw fail(i, .notImportable, "the \(rt) was not done", path: path + ".status", value: status)
            }
        }

        mutating func mapObservation(_ i: Int, _ e: Entry, into unit: inout ImportPlan.Unit) throws(FHIRError) {
            let r = e.resource
            let path = e.path
            let twin = try patient(i, r, path: path, into: &unit)
            currentCode = FHIRValues.concept(r["code"])
            try checkNotWithdrawn(i, r, "Observation", path: path)
            guard let time = try time(r, ["effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued"], i: i, path: path) else {
                throw fail(i, .notImportable, "the Observation has no effective time or issued instant, so it cannot be placed in the thread", path: path + ".effective[x]")
            }
            guard let code = currentCode else {
                throw fail(i, .notImportable, "the Observation code has no coding with a system and code, nor text", path: path + ".code")
            }
            let status = r["status"]?.stringValue
            let category = r["category"]
            let src = source(r, i: i)
            let recorded = sourceRecorded(r, "Observation")
            let components = r["component"]?.list ?? []
            let hasValue = r.objectValue?.members.contains { $0.key.hasPrefix("value") } ?? false
            if hasValue || components.isEmpty {
                let (v, vSetAside) = try soundValue(of: r, code: code, twin: twin, i: i, path: path, into: &unit)
                if !vSetAside {
                    let notes = EventNotes(origin: originText(r), status: status, category: category)
                    unit.addEvent(e.label, path: path, EventDraft(twin: twin, effective: Self.sampledSpan(r, v, time), category: .observation, code: code,
                                                                 value: v, source: src, provenance: Provenance(notes: notes.text, sourceRecorded: recorded)))
                }
            }
            for (k, c) in components.enumerated() {
                let cpath = "\(path).component[\(k)]"
                guard let ccode = FHIRValues.concept(c["code"]) else {
                    if strict { throw fail(i, .notImportable, "the component code has no coding with a system and code, nor text", path: cpath + ".code") }
                    unit.setAside.append(ImportIssue(disposition: .setAside, patient: twin.rawValue, entry: e.label, path: cpath + ".code", code: "",
                                                     reason: "the component code has no coding with a system and code, nor text"))
                    continue
                }
                let (cv, cSetAside) = try soundValue(of: c, code: ccode, twin: twin, i: i, path: cpath, into: &unit)
                if cSetAside { continue }
                let notes = EventNotes(origin: originText(r), status: status, panel: FHIRValues.codeableConcept(code), category: category)
                unit.addEvent(e.label, path: cpath, EventDraft(twin: twin, effective: Self.sampledSpan(c, cv, time), category: .observation, code: ccode,
                                                              value: cv, source: src, provenance: Provenance(notes: notes.text, sourceRecorded: recorded)))
            }
        }

        mutating func mapRecord(_ i: Int, _ e: Entry, _ rt: String, into unit: inout ImportPlan.Unit) throws(FHIRError) {
            let r = e.resource
            let path = e.path
            let twin = try patient(i, r, path: path, into: &unit)
            let spec = RecordSpec.of(rt)
            let codeValue: JSONValue?
            if rt.hasPrefix("Medication"), let ref = r["medicationReference"]?["reference"]?.stringValue {
                switch try resolve(ref, from: i, path: path + ".medicationReference.reference") {
                case .entry(let j): codeValue = index.infos[j].medicationCode
                case .contained(let c): codeValue = c["code"]
                case .external: codeValue = r["medicationReference"].map { ["text": .string($0["display"]?.stringValue ?? ref)] }
                }
            } else {
                codeValue = spec.codes.lazy.compactMap { r[$0] }.first.map { $0.list.first ?? $0 }
            }
            currentCode = FHIRValues.concept(codeValue)
            try checkNotWithdrawn(i, r, rt, path: path)
            guard var time = try time(r, spec.times, i: i, path: path) else {
                throw fail(i, .notImportable, "the \(rt) has none of \(spec.times.joined(separator: ", ")), so it cannot be placed in the thread", path: path + "." + spec.times[0])
            }
            if let endName = spec.end, let endText = r[endName]?.stringValue, let end = FHIRTime.instant(endText), end >= time.start {
                time.end = end
            }
            guard let code = currentCode else {
                throw fail(i, .notImportable, "the \(rt) has no code (\(spec.codes.joined(separator: ", "))) with a coding or text", path: path + "." + spec.codes[0])
            }
            var v: Value?
            if let vk = spec.value, let c = FHIRValues.concept(r[vk]) { v = .concept(c) }
            let notes = EventNotes(origin: originText(r), status: r["status"]?.stringValue ?? r["clinicalStatus"].flatMap { FHIRValues.concept($0)?.code })
            unit.addEvent(e.label, path: path, EventDraft(twin: twin, effective: time, category: spec.category, code: code, value: v, source: source(r, i: i),
                                                         provenance: Provenance(notes: notes.text, sourceRecorded: sourceRecorded(r, rt))))
        }

        /// When the source recorded a resource (see ``RecordSpec/recordedElement(of:)``), else `meta.lastUpdated`.
        func sourceRecorded(_ r: JSONValue, _ rt: String) -> Instant? {
            if let n = RecordSpec.recordedElement(of: rt), let t = r[n]?.stringValue.flatMap(FHIRTime.instant) { return t }
            return r["meta"]?["lastUpdated"]?.stringValue.flatMap(FHIRTime.instant)
        }
    }
}

/// How each clinical record type becomes an event: where its time and code are, its category, and which
/// element (if any) becomes the value.
struct RecordSpec {
    var times: [String]
    var end: String? = nil
    var codes: [String]
    var category: Event.Category
    var value: String?

    /// The element in which a resource type says when its source recorded it (kept as
    /// `Provenance.sourceRecorded`; `meta.lastUpdated` stands in for types without one, and when it is absent).
    static func recordedElement(of type: String) -> String? {
        switch type {
        case "Observation", "DiagnosticReport": "issued"
        case "Condition", "AllergyIntolerance": "recordedDate"
        case "Immunization": "recorded"
        case "MedicationRequest": "authoredOn"
        case "MedicationStatement": "dateAsserted"
        default: nil
        }
    }

    static func of(_ type: String) -> RecordSpec {
        switch type {
        case "Condition": RecordSpec(times: ["onsetDateTime", "onsetPeriod", "recordedDate"], end: "abatementDateTime", codes: ["code"], category: .observation, value: "verificationStatus")
        case "AllergyIntolerance": RecordSpec(times: ["onsetDateTime", "onsetPeriod", "recordedDate"], codes: ["code"], category: .observation, value: "verificationStatus")
        case "Procedure": RecordSpec(times: ["performedDateTime", "performedPeriod"], codes: ["code"], category: .intervention, value: nil)
        case "Immunization": RecordSpec(times: ["occurrenceDateTime", "recorded"], codes: ["vaccineCode"], category: .intervention, value: nil)
        case "Encounter": RecordSpec(times: ["period"], codes: ["type", "class"], category: .annotation, value: "class")
        case "MedicationRequest": RecordSpec(times: ["authoredOn"], codes: ["medicationCodeableConcept"], category: .intervention, value: nil)
        case "MedicationAdministration": RecordSpec(times: ["effectiveDateTime", "effectivePeriod"], codes: ["medicationCodeableConcept"], category: .intervention, value: nil)
        case "MedicationStatement": RecordSpec(times: ["effectiveDateTime", "effectivePeriod", "dateAsserted"], codes: ["medicationCodeableConcept"], category: .intervention, value: nil)
        case "DiagnosticReport": RecordSpec(times: ["effectiveDateTime", "effectivePeriod", "issued"], codes: ["code"], category: .observation, value: nil)
        default: RecordSpec(times: [], codes: ["code"], category: .annotation, value: nil)
        }
    }
}

extension FHIRValues {
    /// `5 mg` for a Quantity, for text renderings of ranges and ratios.
    static func describe(_ q: JSONValue) -> String {
        let v = q["value"]?.numberText ?? ""
        let u = q["code"]?.stringValue ?? q["unit"]?.stringValue
        return u.map { "\(v) \($0)" } ?? v
    }
}

extension ImportPlan.Unit {
    mutating func addEvent(_ entry: String, path: String, _ d: EventDraft) {
        events.append(d)
        eventEntries.append(entry)
        eventPaths.append(path)
    }
}
