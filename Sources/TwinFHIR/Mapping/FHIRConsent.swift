import TwinBank
import TwinCore
import TwinGovernance

/// FHIR R4 `Consent` to and from TwinGovernance ``TwinGovernance/ConsentRule``s.
///
/// Reading (``read(_:recordedAt:)``) follows the R4 element definitions (not the narrative):
/// - Only an `active` consent with a `provision` is read; a consent given only as a document (`sourceAttachment`,
///   `sourceReference`) or with a `policyRule` and no provision has nothing computable and is refused.
/// - Each provision with a `type` gives a rule of that effect; a provision without `type` and without nested
///   provisions gives a rule whose effect is the consent's base (`policyRule` `OPTIN`: permit, `OPTOUT`: deny);
///   a provision without `type` that has nested provisions is only their context. Nested provisions inherit
///   their parent's constraints (period, actors, purposes, actions, data) unless they state their own.
/// - `period` is the rule's validity (its expiry); `dataPeriod` the period of the data; `purpose` v3 `ActReason`
///   codes (specialisations included: `ETREAT` is treatment); `actor` with a recipient role (`PRCP`, `IRCP`,
///   ...): `Organization/ID` references are organisations, other references actor ids (the id after the
///   type); `action` `access` is read, query and export, `use` is query, aggregate, simulate, sync and match,
///   `disclose` is export and release, `correct` and `collect` are writes; `class` FHIR resource types of
///   medications and conditions become those data categories (a MIME type `urn:ietf:bcp:13` class is a
///   document format, which events do not have: ignored); `code` codings are exact codes.
/// - Refused, naming the construct: `securityLabel` (the bank keeps no security labels), `data` (references to
///   single resources), actor roles other than recipients (`CST` custodian and `AUT` author restrict by who
///   holds or wrote the data, which the bank does not record), unknown purposes, actions, classes.
///
/// Writing (``resource(for:at:)``) gives one `Consent` whose root provision holds one nested provision per rule
/// not revoked, each with the rule's id as element id and the bank's own codes (`urn:twinbank:...`) where FHIR
/// has none (data categories, code systems, actions, the granted time and the source as extensions), so it
/// passes the ``Validator`` and reads back to the same rules.
public enum FHIRConsent {
    /// What a FHIR Consent says.
    public struct Imported: Sendable, Hashable {
        /// The resource's id.
        public var id: String?
        /// The patient reference (or identifier value).
        public var patient: String?
        /// The rules, in document order, ids from the provisions' element ids when they have them (else empty:
        /// ``TwinGovernance/Consent/add(_:)`` numbers them).
        public var rules: [ConsentRule]
    }

    static let actReason = Purpose.v3ActReason
    static let actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    static let participation = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
    static let consentAction = "http://terminology.hl7.org/CodeSystem/consentaction"
    static let resourceTypes = "http://hl7.org/fhir/resource-types"
    static let mimeTypes = "urn:ietf:bcp:13"
    static let categorySystem = "urn:twinbank:data-category"
    static let codeSystemSystem = "urn:twinbank:code-system"
    static let codeBelowSystem = "urn:twinbank:code-and-descendants"
    static let actionSystem = "urn:twinbank:action"
    static let actorSystem = "urn:twinbank:actor"
    static let organisationSystem = "urn:twinbank:organisation"
    static let twinSystem = "urn:twinbank:twin"
    static let grantedURL = "urn:twinbank:fhir:consent-rule-granted"
    static let sourceURL = "urn:twinbank:fhir:consent-rule-source"

    /// Participation types that name who receives the data (what the bank's actors are).
    static let recipientRoles: Set<String> = ["PRCP", "IRCP", "RCV", "REFT", "CALLBCK", "DELEGATEE", "GRANTEE", "INF"]

    static let fhirActions: [String: Set<String>] = [
        "access": ["read", "query", "export"],
        "use": ["query", "aggregate", "simulate", "sync", "match"],
        "disclose": ["export", "release"],
        "correct": ["write"],
        "collect": ["write", "import"],
    ]

    static let resourceCategories: [String: DataCategory] = [
        "MedicationRequest": .medications, "MedicationStatement": .medications, "MedicationAdministration": .medications,
        "MedicationDispense": .medications, "Medication": .medications, "Immunization": .medications,
        "Condition": .conditions, "Observation": .clinical, "DiagnosticReport": .laboratory,
    ]

    struct Context {
        var validity = Validity()
        var actors: Set<String> = []
        var organisations: Set<String> = []
        var purposes: Set<Purpose> = []
        var actions: Set<String> = []
        var selectors: [DataSelector] = []
        var dataPeriod: DataPeriod?
    }

    static func unsupported(_ what: String, at location: String, value: String? = nil) -> FHIRError {
        FHIRError(.unsupported, "Consent: \(what) is not supported", location: location, value: value)
    }

    /// The largest Consent document ``read(bytes:recordedAt:)`` accepts: 1 MiB (the official examples are under 10 KiB).
    public static let maximumBytes = 1 << 20

    /// Parses and reads a FHIR R4 `Consent` from JSON bytes, refusing a document over ``maximumBytes`` before parsing.
    /// - Throws: ``FHIRError`` `unsupported` for a document too large, `malformedJSON`, and what ``read(_:recordedAt:)`` throws.
    public static func read(bytes: [UInt8], recordedAt: Instant) throws(FHIRError) -> Imported {
        guard bytes.count <= maximumBytes else {
            throw FHIRError(.unsupported, "Consent: a document of \(bytes.count) bytes is larger than the \(maximumBytes) bytes a consent may have", value: "\(bytes.count)")
        }
        return try read(try JSONReader().read(bytes), recordedAt: recordedAt)
    }

    /// Reads a FHIR R4 `Consent` (see the type's documentation for the mapping).
    /// - Parameter recordedAt: the granted time of rules that carry none (used when the consent has no `dateTime`).
    /// - Throws: ``FHIRError`` `invalidResource` for a resource that is not a well-formed Consent, `unsupported`
    ///   naming the construct (location and value) the bank cannot represent.
    public static func read(_ json: JSONValue, recordedAt: Instant) throws(FHIRError) -> Imported {
        guard json["resourceType"]?.stringValue == "Consent" else {
            throw FHIRError(.invalidResource, "expected a Consent resource, found '\(json["resourceType"]?.stringValue ?? json.kindName)'", location: "resourceType")
        }
        let status = json["status"]?.stringValue ?? ""
        guard status == "active" else {
            throw unsupported("a consent with status '\(status)' (only an active consent is in force)", at: "Consent.status", value: status)
        }
        guard let root = json["provision"] else {
            if json["sourceAttachment"] != nil || json["sourceReference"] != nil {
                throw unsupported("a consent given only as a document (sourceAttachment/sourceReference, without provision)", at: "Consent.sourceAttachment")
            }
            throw unsupported("a consent without provision (a policyRule alone says nothing computable)", at: "Consent.provision")
        }
        let id = json["id"]?.stringValue
        var base: Effect?
        for c in json["policyRule"]?["coding"]?.list ?? [] where c["system"]?.stringValue == actCode {
            switch c["code"]?.stringValue {
            case "OPTIN": base = .permit
            case "OPTOUT": base = .deny
            default: break
            }
        }
        let granted = json["dateTime"]?.stringValue.flatMap(FHIRTime.instant) ?? recordedAt
        let patient = json["patient"]?["reference"]?.stringValue ?? json["patient"]?["identifier"]?["value"]?.stringValue
        var rules: [ConsentRule] = []
        try provision(root, at: "Consent.provision", Context(), base: base, granted: granted, source: id.map { "Consent/\($0)" }, into: &rules)
        return Imported(id: id, patient: patient, rules: rules)
    }

    static func provision(_ p: JSONValue, at path: String, _ inherited: Context, base: Effect?, granted: Instant, source: String?,
                          into rules: inout [ConsentRule]) throws(FHIRError) {
        if p["securityLabel"] != nil {
            let labels = (p["securityLabel"]?.list ?? []).compactMap { $0["code"]?.stringValue }.joined(separator: ",")
            throw unsupported("a provision by security label (the bank keeps no security labels on its data)", at: "\(path).securityLabel", value: labels)
        }
        if p["data"] != nil {
            let refs = (p["data"]?.list ?? []).compactMap { $0["reference"]?["reference"]?.stringValue }.joined(separator: ",")
            throw unsupported("a provision on single resources (data.reference)", at: "\(path).data", value: refs)
        }
        var ctx = inherited
        if let period = p["period"] {
            // Within the parent's: the later start, the earlier end.
            let start = try time(period["start"], at: "\(path).period.start"), end = try time(period["end"], at: "\(path).period.end")
            ctx.validity = Validity(start: [start, ctx.validity.start].compactMap { $0 }.max(), end: [end, ctx.validity.end].compactMap { $0 }.min())
        }
        if let actors = p["actor"]?.list, !actors.isEmpty {
            ctx.actors = []; ctx.organisations = []
            for (i, a) in actors.enumerated() {
                let at = "\(path).actor[\(i)]"
                let roles = FHIRValues.codeKeys(a["role"])
                guard roles.contains(where: { $0.system == participation && recipientRoles.contains($0.code) }) else {
                    let role = roles.first.map(\.code) ?? "none"
                    let why = role == "CST" ? " (custodian: restricts by who holds the data, which the bank does not record)"
                        : role == "AUT" ? " (author: restricts by who wrote the data, which the bank does not record)" : ""
                    throw unsupported("an actor with role '\(role)'\(why); only recipient roles (\(recipientRoles.sorted().joined(separator: ", "))) are", at: "\(at).role", value: role)
                }
                let ref = a["reference"]
                if let ident = ref?["identifier"], let v = ident["value"]?.stringValue {
                    if ident["system"]?.stringValue == organisationSystem { ctx.organisations.insert(v) } else { ctx.actors.insert(v) }
                } else if let r = ref?["reference"]?.stringValue, let slash = r.lastIndex(of: "/") {
                    let type = r[..<slash].split(separator: "/").last.map(String.init) ?? ""
                    let value = String(r[r.index(after: slash)...])
                    if type == "Organization" { ctx.organisations.insert(value) } else { ctx.actors.insert(value) }
                } else {
                    throw unsupported("an actor without a reference the bank can match", at: "\(at).reference")
                }
            }
        }
        if let purposes = p["purpose"]?.list, !purposes.isEmpty {
            ctx.purposes = []
            for (i, c) in purposes.enumerated() {
                let code = c["code"]?.stringValue ?? ""
                guard c["system"]?.stringValue == actReason, let purpose = Purpose(v3Code: code) else {
                    throw unsupported("the purpose '\(c["system"]?.stringValue ?? "")|\(code)' (known: v3 ActReason \(Purpose.allCases.map(\.v3Code).joined(separator: ", ")) and their specialisations)", at: "\(path).purpose[\(i)]", value: code)
                }
                ctx.purposes.insert(purpose)
            }
        }
        if let actions = p["action"]?.list, !actions.isEmpty {
            ctx.actions = []
            for (i, a) in actions.enumerated() {
                for k in FHIRValues.codeKeys(a) {
                    if k.system == consentAction, let mapped = fhirActions[k.code] { ctx.actions.formUnion(mapped) }
                    else if k.system == actionSystem, AccessRequest.Action.all.contains(where: { $0.name == k.code }) { ctx.actions.insert(k.code) }
                    else { throw unsupported("the action '\(k.system)|\(k.code)'", at: "\(path).action[\(i)]", value: k.code) }
                }
            }
        }
        var selectors: [DataSelector] = []
        for (i, c) in (p["class"]?.list ?? []).enumerated() {
            let system = c["system"]?.stringValue ?? "", code = c["code"]?.stringValue ?? ""
            switch system {
            case categorySystem:
                guard let category = try? DataCategory(parsing: code) else {
                    throw unsupported("the data category '\(code)'", at: "\(path).class[\(i)]", value: code)
                }
                selectors.append(.category(category))
            case codeSystemSystem: selectors.append(.system(code))
            case codeBelowSystem:
                guard let key = try? CodeKey(parsing: code) else {
                    throw unsupported("the code '\(code)' (expected SYSTEM|CODE)", at: "\(path).class[\(i)]", value: code)
                }
                selectors.append(.descendants(key))
            case resourceTypes:
                guard let category = resourceCategories[code] else {
                    throw unsupported("the class of resources '\(code)' (known: \(resourceCategories.keys.sorted().joined(separator: ", ")))", at: "\(path).class[\(i)]", value: code)
                }
                selectors.append(.category(category))
            case mimeTypes: break
            default: throw unsupported("the class '\(system)|\(code)'", at: "\(path).class[\(i)]", value: code)
            }
        }
        for c in p["code"]?.list ?? [] { selectors += FHIRValues.codeKeys(c).map { DataSelector.code($0) } }
        if !selectors.isEmpty { ctx.selectors = selectors }
        if let dp = p["dataPeriod"] {
            let from = try time(dp["start"], at: "\(path).dataPeriod.start"), to = try time(dp["end"], at: "\(path).dataPeriod.end")
            ctx.dataPeriod = DataPeriod(from: [from, ctx.dataPeriod?.from].compactMap { $0 }.max(), to: [to, ctx.dataPeriod?.to].compactMap { $0 }.min())
        }
        let nested = p["provision"]?.list ?? []
        let type = p["type"]?.stringValue
        if type != nil || nested.isEmpty {
            guard let effect = type.flatMap(Effect.init(rawValue:)) ?? (type == nil ? base : nil) else {
                if let type { throw FHIRError(.invalidResource, "Consent: provision type '\(type)' is neither permit nor deny", location: "\(path).type", value: type) }
                throw unsupported("a provision without type under a policyRule that is neither OPTIN nor OPTOUT (its effect is unknown)", at: "Consent.policyRule")
            }
            var ruleGranted = granted
            var ruleSource = source
            for e in p["extension"]?.list ?? [] {
                if e["url"]?.stringValue == grantedURL, let t = e["valueDateTime"]?.stringValue.flatMap(FHIRTime.instant) { ruleGranted = t }
                if e["url"]?.stringValue == sourceURL, let s = e["valueString"]?.stringValue { ruleSource = s }
            }
            rules.append(ConsentRule(id: p["id"]?.stringValue ?? "", effect: effect, purposes: ctx.purposes, actors: ctx.actors,
                                     organisations: ctx.organisations, actions: ctx.actions,
                                     data: DataScope(selectors: ctx.selectors, period: ctx.dataPeriod), validity: ctx.validity,
                                     granted: ruleGranted, source: ruleSource))
        }
        for (i, n) in nested.enumerated() {
            try provision(n, at: "\(path).provision[\(i)]", ctx, base: base, granted: granted, source: source, into: &rules)
        }
    }

    static func time(_ v: JSONValue?, at location: String) throws(FHIRError) -> Instant? {
        guard let v else { return nil }
        guard let s = v.stringValue, let t = FHIRTime.instant(s) else {
            throw FHIRError(.invalidResource, "Consent: malformed dateTime", location: location, value: v.stringValue ?? v.kindName)
        }
        return t
    }

    /// A FHIR R4 `Consent` for a twin's consent: every rule not revoked, as nested provisions (see the type's
    /// documentation). Data selectors come back from ``read(_:recordedAt:)`` with the categories and code
    /// systems first, then the codes.
    /// - Throws: ``TwinGovernance/GovernanceError`` `invalidConsent` when no rule is left to export (FHIR has no
    ///   provision-less consent the bank could read back).
    public static func resource(for consent: Consent) throws -> JSONValue {
        let rules = consent.rules.filter { $0.revoked == nil }
        guard !rules.isEmpty else {
            throw GovernanceError(.invalidConsent, "twin \(consent.twin) has no consent rule that is not revoked: nothing to export", value: consent.twin.rawValue)
        }
        var root: JSONObject = [:]
        root["provision"] = .array(rules.map { .object(provision($0)) })
        var o: JSONObject = ["resourceType": "Consent"]
        o["status"] = "active"
        o["scope"] = ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"]]]
        o["category"] = [["coding": [["system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"]]]]
        o["patient"] = ["identifier": ["system": .string(twinSystem), "value": .string(consent.twin.rawValue)]]
        o["dateTime"] = .string(FHIRTime.text(consent.updated))
        o["policyRule"] = ["coding": [["system": .string(actCode), "code": "OPTIN"]]]
        o["provision"] = .object(root)
        return .object(o)
    }

    static func provision(_ r: ConsentRule) -> JSONObject {
        func coding(_ system: String, _ code: String) -> JSONValue { ["system": .string(system), "code": .string(code)] }
        func period(_ start: Instant?, _ end: Instant?) -> JSONValue {
            var p: JSONObject = [:]
            if let start { p["start"] = .string(FHIRTime.text(start)) }
            if let end { p["end"] = .string(FHIRTime.text(end)) }
            return .object(p)
        }
        var p: JSONObject = ["id": .string(r.id)]
        var ext: [JSONValue] = [["url": .string(grantedURL), "valueDateTime": .string(FHIRTime.text(r.granted))]]
        if let s = r.source { ext.append(["url": .string(sourceURL), "valueString": .string(s)]) }
        p["extension"] = .array(ext)
        p["type"] = .string(r.effect.rawValue)
        if r.validity.start != nil || r.validity.end != nil { p["period"] = period(r.validity.start, r.validity.end) }
        let recipient: JSONValue = ["coding": [coding(participation, "PRCP")]]
        let actors: [JSONValue] = r.organisations.sorted().map { o -> JSONValue in
            ["role": recipient, "reference": ["identifier": ["system": .string(organisationSystem), "value": .string(o)]]]
        } + r.actors.sorted().map { a -> JSONValue in
            ["role": recipient, "reference": ["identifier": ["system": .string(actorSystem), "value": .string(a)]]]
        }
        if !actors.isEmpty { p["actor"] = .array(actors) }
        if !r.actions.isEmpty { p["action"] = .array(r.actions.sorted().map { ["coding": [coding(actionSystem, $0)]] }) }
        if !r.purposes.isEmpty { p["purpose"] = .array(r.purposes.sorted().map { coding(actReason, $0.v3Code) }) }
        var classes: [JSONValue] = [], codes: [JSONValue] = []
        for s in r.data.selectors {
            switch s {
            case .category(let c): classes.append(coding(categorySystem, c.name))
            case .system(let u): classes.append(coding(codeSystemSystem, u))
            case .descendants(let k): classes.append(coding(codeBelowSystem, "\(k.system)|\(k.code)"))
            case .code(let k): codes.append(["coding": [coding(k.system, k.code)]])
            }
        }
        if !classes.isEmpty { p["class"] = .array(classes) }
        if !codes.isEmpty { p["code"] = .array(codes) }
        if let dp = r.data.period { p["dataPeriod"] = period(dp.from, dp.to) }
        return p
    }
}
