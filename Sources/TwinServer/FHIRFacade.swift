import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance

/// The FHIR R4 facade under `/fhir`: the CapabilityStatement at `/fhir/metadata` (no token), reads and searches of
/// what TwinFHIR maps a twin to, and transaction or batch Bundles POSTed to `/fhir` into the FHIR importer.
///
/// Thin, like the API: a twin and its thread are read through `Bank.run` as the token's subject for the declared
/// purpose (``ServedBank/run(_:_:_:_:)``, so the gate decides and audits each read) and written as FHIR by the
/// exporter's one mapping (`FHIRExporter.resources(twin:events:)`); a Bundle goes to `FHIRImporter` unchanged (all
/// or nothing for a transaction, entry by entry for a batch). Bodies are `application/fhir+json`; every error is an
/// `OperationOutcome` (``FHIROutcome``) with its status. Not in openapi.yaml: FHIR's contract is the
/// CapabilityStatement.
struct FHIRFacade: Sendable {
    let served: ServedBank
    /// The largest body read (the server's body limit).
    let bodyLimit: Int
    /// The most twins a search without `patient` scans (``TwinServer/Configuration/fhirSearchTwinLimit``).
    var searchTwinLimit: Int = Bank.defaultScanLimit

    static let mediaType = "application/fhir+json; charset=utf-8"

    /// A type the facade searches by patient, with the search parameter for its code and the element prefix
    /// (`effective` for `effective[x]`) its `date` parameter reads, when it has them.
    struct SearchableType: Sendable {
        let type: String
        let codeParameter: String?
        let codeElement: String?
        let dateElement: String?
    }

    /// What the facade searches by `patient` (the records the exporter writes for a person twin), in the
    /// CapabilityStatement's order.
    static let searchable: [SearchableType] = [
        .init(type: "Observation", codeParameter: "code", codeElement: "code", dateElement: "effective"),
        .init(type: "Condition", codeParameter: "code", codeElement: "code", dateElement: nil),
        .init(type: "MedicationAdministration", codeParameter: "code", codeElement: "medicationCodeableConcept", dateElement: nil),
        .init(type: "MedicationRequest", codeParameter: "code", codeElement: "medicationCodeableConcept", dateElement: nil),
        .init(type: "MedicationStatement", codeParameter: "code", codeElement: "medicationCodeableConcept", dateElement: nil),
        .init(type: "AllergyIntolerance", codeParameter: "code", codeElement: "code", dateElement: nil),
        .init(type: "Procedure", codeParameter: "code", codeElement: "code", dateElement: "performed"),
        .init(type: "Immunization", codeParameter: "vaccine-code", codeElement: "vaccineCode", dateElement: "occurrence"),
        .init(type: "DiagnosticReport", codeParameter: "code", codeElement: "code", dateElement: "effective"),
        .init(type: "Encounter", codeParameter: nil, codeElement: nil, dateElement: nil),
    ]

    /// Registers the facade's routes on `router`.
    func register(on router: Router<BasicRequestContext>) {
        router.get("/fhir/metadata") { request, _ -> Response in
            Self.response(.ok, Self.capabilityStatement(base: Self.base(request), now: served.base.clock.now()))
        }
        router.get("/fhir/_history") { request, _ -> Response in try await systemHistory(request) }
        router.get("/fhir/:type/:id") { request, context -> Response in
            let type = context.parameters.get("type") ?? "", id = context.parameters.get("id") ?? ""
            if id == "_history" { return try await typeHistory(request, type: type) }
            return try await read(request, type: type, id: id)
        }
        router.get("/fhir/:type/:id/_history") { request, context -> Response in
            try await instanceHistory(request, type: context.parameters.get("type") ?? "", id: context.parameters.get("id") ?? "", version: nil)
        }
        router.get("/fhir/:type/:id/_history/:vid") { request, context -> Response in
            try await instanceHistory(request, type: context.parameters.get("type") ?? "", id: context.parameters.get("id") ?? "",
                                      version: context.parameters.get("vid") ?? "")
        }
        router.get("/fhir/:type") { request, context -> Response in
            try await search(request, type: context.parameters.get("type") ?? "")
        }
        router.post("/fhir") { request, _ -> Response in try await transaction(request) }
        router.put("/fhir/:type/:id") { request, context -> Response in
            try await update(request, type: context.parameters.get("type") ?? "", id: context.parameters.get("id") ?? "")
        }
        router.delete("/fhir/:type/:id") { request, context -> Response in
            try await delete(request, type: context.parameters.get("type") ?? "", id: context.parameters.get("id") ?? "")
        }
    }

    // MARK: - Read

    // read: FHIRFacade+Versions.swift

    // MARK: - Search

    func search(_ request: Request, type: String) async throws -> Response {
        let params = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .read, .type(type))
        let now = served.base.clock.now()
        var matches: [JSONValue]
        let page = try Page(params)
        if type == "Patient" {
            var ids: [String] = []
            for (name, value) in params {
                switch name {
                case "_id": ids.append(contentsOf: value.split(separator: ",").map(String.init))
                case "_format": try Self.checkFormat(value)
                case "_count", "_offset": break
                default: throw Self.badParameter(name, for: type, known: ["_id", "_count"])
                }
            }
            guard !ids.isEmpty else {
                throw ServerError(.badRequest, "search Patients by _id (GET /fhir/Patient?_id=ID): listing every patient is not offered", field: "_id")
            }
            let twins = try ids.map { try Self.patientID($0, field: "_id") }
            matches = try await served.run(call) { bank in
                try twins.compactMap { id -> JSONValue? in
                    let resources: [JSONValue]
                    do { resources = try Self.resources(bank, id) } catch let e as BankError where e.code == .unknownTwin || e.code == .erasedTwin { return nil }
                    return resources.first.flatMap { $0["resourceType"]?.stringValue == "Patient" ? $0 : nil }
                }
            }
        } else {
            guard let searchable = Self.searchable.first(where: { $0.type == type }) else { throw Self.unknownType(type) }
            var patient: TwinID?
            var codes: [Token]?
            var dates: [DateBound] = []
            var include = false
            for (name, value) in params {
                switch name {
                case "_include":
                    guard value == "\(type):patient" else {
                        throw ServerError(.badRequest, "_include '\(value)' is not offered: \(type) includes its Patient with _include=\(type):patient", field: "_include", value: value)
                    }
                    include = true
                case "patient", "subject":
                    guard patient == nil else { throw ServerError(.badRequest, "give one patient", field: name, value: value) }
                    let text = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : value
                    patient = try Self.patientID(text, field: name)
                case searchable.codeParameter:
                    codes = (codes ?? []) + (try value.split(separator: ",").map { try Self.token(String($0), field: name) })
                case "date" where searchable.dateElement != nil:
                    dates.append(try DateBound(value, now: now))
                case "_format": try Self.checkFormat(value)
                case "_count", "_offset": break
                default:
                    throw Self.badParameter(name, for: type, known: ["patient"] + [searchable.codeParameter, searchable.dateElement.map { _ in "date" }].compactMap { $0 } + ["_count", "_include"])
                }
            }
            let filter = SearchFilter(searchable: searchable, codes: codes, dates: dates)
            guard let patient else {
                let (total, items, patients) = try await searchAcrossTwins(call, filter, page: page)
                return Self.response(.ok, Self.searchset(page: items, total: total, page, included: include ? patients : [], base: Self.base(request), request: request))
            }
            let all = try await served.run(call) { bank in try Self.resources(bank, patient) }
            matches = all.filter(filter.admits)
            let items = Array(page.slice(matches))
            // the subject's Patient, once, when the page holds one of its records
            let patients = include && !items.isEmpty ? all.prefix(1).filter { $0["resourceType"]?.stringValue == "Patient" } : []
            return Self.response(.ok, Self.searchset(page: items, total: matches.count, page, included: patients, base: Self.base(request), request: request))
        }
        return Self.response(.ok, Self.searchset(matches, page, base: Self.base(request), request: request))
    }

    /// What a search of a type keeps: the type, one of the `code` tokens (when given) and every `date` bound.
    struct SearchFilter: Sendable {
        let searchable: SearchableType
        let codes: [Token]?
        let dates: [DateBound]

        func admits(_ r: JSONValue) -> Bool {
            guard r["resourceType"]?.stringValue == searchable.type else { return false }
            if let codes, let element = searchable.codeElement, !FHIRFacade.codings(r[element]).contains(where: { c in codes.contains { $0.matches(c) } }) {
                return false
            }
            if !dates.isEmpty {
                guard let element = searchable.dateElement, let (start, end) = FHIRFacade.time(of: r, element) else { return false }
                return dates.allSatisfy { $0.admits(start, end) }
            }
            return true
        }

        /// The codes the bank's bulk read can narrow the twins by: every token's `SYSTEM|CODE`; nil (every twin) when
        /// there is no `code` or a token has no system (`CODE`, `|CODE`).
        var codeKeys: Set<CodeKey>? {
            guard let codes, !codes.isEmpty, searchable.codeElement != nil else { return nil }
            var keys = Set<CodeKey>()
            for t in codes {
                guard let system = t.system, !system.isEmpty else { return nil }
                keys.insert(CodeKey(system: system, code: t.code))
            }
            return keys
        }
    }

    /// A search without `patient`: the matches in the threads of every twin the caller may read (``TwinBank/Bank/scanThreads(holding:among:limit:_:)``:
    /// only the twins holding the searched codes when every `code` token names its system; a twin the gate refuses is
    /// left out, its refusal audited), twin by twin in id order, each in thread order. Only the page's resources are
    /// kept, with the Patient of each twin that has a record on the page (for `_include`); `total` counts them all.
    /// Over ``searchTwinLimit`` twins to scan: 422 `searchTooBroad`, nothing read. A patient's or a device's token
    /// searches its own twins (``ServedBank/ownTwins(_:)``), not the bank.
    func searchAcrossTwins(_ call: ServedBank.Call, _ filter: SearchFilter, page: Page) async throws -> (total: Int, items: [JSONValue], patients: [JSONValue]) {
        let limit = searchTwinLimit
        let served = self.served
        return try await served.run(call) { bank in
            let own = try served.ownTwins(call)
            var total = 0
            var items: [JSONValue] = []
            var patients: [JSONValue] = []
            do {
                try bank.scanThreads(holding: filter.codeKeys, among: own, limit: limit) { record, reader in
                    let events = try reader.events(ThreadQuery(twin: record.id))
                    let resources = FHIRExporter.resources(twin: record.twin, events: events)
                    var onPage = false
                    for r in resources.dropFirst() where filter.admits(r) {
                        if total >= page.offset && items.count < page.count { items.append(r); onPage = true }
                        total += 1
                    }
                    if onPage, let own = resources.first, own["resourceType"]?.stringValue == "Patient" { patients.append(own) }
                }
            } catch let e as BankError where e.code == .invalidQuery {
                let scanned = e.value ?? "more"
                throw ServerError(ServerError.Code("searchTooBroad", .unprocessableContent),
                                  "this search of \(filter.searchable.type) would scan \(scanned) twins, over the server's limit of \(limit): search by patient (patient=ID)\(filter.searchable.codeParameter.map { " or narrow it with a \($0) that names its system (SYSTEM|CODE), which fewer twins hold" } ?? "")",
                                  field: "patient", value: scanned)
            }
            return (total, items, patients)
        }
    }

    /// A page of a search or history: `_count` (1-1000, default 100) results from `_offset` (0 first; the `next` link gives it).
    struct Page: Sendable {
        var count = 100
        var offset = 0

        init(_ params: [(String, String)]) throws {
            for (key, value) in params { _ = try read(key, value) }
        }

        /// Takes `_count` or `_offset` (a value out of range is a 400 naming it); false for any other parameter.
        mutating func read(_ key: String, _ value: String) throws -> Bool {
            switch key {
            case "_count":
                guard let n = Int(value), (1...1000).contains(n) else {
                    throw ServerError(.badRequest, "_count must be a whole number from 1 to 1000, not '\(value)'", field: "_count", value: value)
                }
                count = n
            case "_offset":
                guard let n = Int(value), n >= 0 else {
                    throw ServerError(.badRequest, "_offset must be a whole number from 0 (the next link gives it), not '\(value)'", field: "_offset", value: value)
                }
                offset = n
            default: return false
            }
            return true
        }

        init(count: Int, offset: Int) { self.count = count; self.offset = offset }

        /// The `self`, `next` (when more follow) and `previous` (when this is not the first page) links of this page
        /// of `total` results: the request's own URL with its parameters and the page's `_offset`.
        func links(total: Int, base: String, request: Request) -> [JSONValue] {
            let start = min(offset, total), end = min(start + count, total)
            let path = String(base.dropLast("/fhir".count)) + request.uri.path
            func link(_ relation: String, _ offset: Int) -> JSONValue {
                var query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }.filter { $0.0 != "_offset" }
                if offset > 0 { query.append(("_offset", String(offset))) }
                let text = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "+", "=", "|"])) ?? $0.1)" }.joined(separator: "&")
                return ["relation": .string(relation), "url": .string(path + (text.isEmpty ? "" : "?" + text))]
            }
            var links = [link("self", start)]
            if end < total { links.append(link("next", end)) }
            if start > 0 { links.append(link("previous", max(0, start - count))) }
            return links
        }

        /// The page's part of `all`.
        func slice<T>(_ all: [T]) -> ArraySlice<T> {
            let start = min(offset, all.count)
            return all[start..<min(start + count, all.count)]
        }
    }

    /// A `code` search token: `SYSTEM|CODE`, `CODE` (any system) or `|CODE` (no system).
    struct Token: Sendable {
        let system: String?
        let code: String
        func matches(_ coding: (system: String?, code: String?)) -> Bool {
            coding.code == code && (system.map { $0.isEmpty ? coding.system == nil : coding.system == $0 } ?? true)
        }
    }

    static func token(_ text: String, field: String) throws -> Token {
        let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let code = String(parts.last ?? "")
        guard !code.isEmpty else {
            throw ServerError(.badRequest, "the \(field) '\(text)' has no code: give SYSTEM|CODE, CODE or |CODE", field: field, value: text)
        }
        return Token(system: parts.count == 2 ? String(parts[0]) : nil, code: code)
    }

    static func codings(_ concept: JSONValue?) -> [(system: String?, code: String?)] {
        guard let concept else { return [] }
        let concepts = concept.arrayValue ?? [concept]
        return concepts.flatMap { c in (c["coding"]?.arrayValue ?? []).map { ($0["system"]?.stringValue, $0["code"]?.stringValue) } }
    }

    /// The start and end of a resource's `PREFIX[x]` (`PREFIXDateTime`, `PREFIXPeriod`, `PREFIXInstant`).
    static func time(of r: JSONValue, _ prefix: String) -> (Instant, Instant)? {
        if let t = (r[prefix + "DateTime"] ?? r[prefix + "Instant"])?.stringValue, let i = FHIRTime.instant(t) { return (i, i) }
        if let p = r[prefix + "Period"] {
            let s = p["start"]?.stringValue.flatMap(FHIRTime.instant), e = p["end"]?.stringValue.flatMap(FHIRTime.instant)
            if let s { return (s, e ?? s) }
            if let e { return (e, e) }
        }
        return nil
    }

    /// One `date` parameter: a prefix (`eq` when none, `ge`, `le`, `gt`, `lt`) and a date or instant.
    struct DateBound: Sendable {
        let prefix: String
        let lower: Instant, upper: Instant

        init(_ text: String, now: Instant) throws {
            let prefixes = ["eq", "ge", "le", "gt", "lt"]
            let p = String(text.prefix(2))
            let hasPrefix = prefixes.contains(p)
            let value = hasPrefix ? String(text.dropFirst(2)) : text
            if !hasPrefix, let first = text.first, first.isLetter {
                throw ServerError(.badRequest, "the date prefix '\(p)' is not one of \(prefixes.joined(separator: ", "))", field: "date", value: text)
            }
            do {
                lower = try Instant(parsing: value, relativeTo: now, bound: .lower)
                upper = try Instant(parsing: value, relativeTo: now, bound: .upper)
            } catch let e as TwinError {
                throw ServerError(.badRequest, "date: \(e.message); give a date (2026-01-01) or an instant, with a prefix ge, le, gt, lt or eq", field: "date", value: text)
            }
            prefix = hasPrefix ? p : "eq"
        }

        /// Whether a resource whose time runs from `start` to `end` matches (R4's range semantics).
        func admits(_ start: Instant, _ end: Instant) -> Bool {
            switch prefix {
            case "ge": return end >= lower
            case "le": return start <= upper
            case "gt": return end > upper
            case "lt": return start < lower
            default: return start >= lower && end <= upper
            }
        }
    }

    // MARK: - Transaction

    func transaction(_ request: Request) async throws -> Response {
        let contentType = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard contentType == "application/fhir+json" || contentType == "application/json" else {
            throw ServerError(ServerError.Code("unsupportedMediaType", .unsupportedMediaType), "POST /fhir takes a Bundle as application/fhir+json, not \(contentType ?? "a body without Content-Type")", field: "Content-Type", value: contentType)
        }
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .write, .thread)
        let buffer = try await request.body.collect(upTo: bodyLimit)
        let bytes = [UInt8](buffer: buffer)
        let tree: JSONValue
        do { tree = try JSONReader().read(bytes) } catch { throw ServerError(.badRequest, "the body is not JSON: \(error.description)", field: "body") }
        guard tree["resourceType"]?.stringValue == "Bundle", let kind = tree["type"]?.stringValue, kind == "transaction" || kind == "batch" else {
            throw ServerError(.badRequest, "POST /fhir takes a Bundle of type transaction or batch, not \(tree["resourceType"]?.stringValue.map { "a \($0)" } ?? "JSON without a resourceType")\(tree["type"]?.stringValue.map { " of type \($0)" } ?? "")", field: "Bundle.type", value: tree["type"]?.stringValue)
        }
        try Self.checkEntryScopes(tree, call.identity)
        let origin = "bundle:" + (tree["id"]?.stringValue ?? String(EventHasher.sha256(bytes).hex.prefix(32)))
        let targets = try Self.versionedEntries(tree)
        let imported: Imported
        do {
            imported = try await served.run(call) { bank in try Self.importVersioned(bank, tree, kind: kind, origin: origin, targets: targets) }
        } catch var e as FHIRError {
            // name the entry by its fullUrl too when the error only gives its index
            if e.fullUrl == nil, let location = e.location, location.hasPrefix("Bundle.entry["),
               let close = location.firstIndex(of: "]"), let i = Int(location[location.index(location.startIndex, offsetBy: 13)..<close]) {
                e.fullUrl = tree["entry"]?[i]?["fullUrl"]?.stringValue
            }
            throw Self.serverError(e)
        }
        return Self.response(.ok, Self.transactionResponse(tree, kind: kind, imported: imported))
    }

    /// Refuses (403 `insufficientScope`, nothing imported) a Bundle holding an entry of a resource type no write scope
    /// of the token grants (`c` or `u` on the type or on `*`): each entry is written as its own type (a Patient as a
    /// twin's definition, an Observation as the events of the record `record:fhir/Observation/ID`).
    static func checkEntryScopes(_ bundle: JSONValue, _ identity: TokenIdentity) throws {
        var checked = Set<String>()
        for (i, entry) in (bundle["entry"]?.arrayValue ?? []).enumerated() {
            guard let type = entry["resource"]?["resourceType"]?.stringValue, checked.insert(type).inserted else { continue }
            guard identity.may(.write, on: type) else {
                let have = identity.scopes.map(\.description).joined(separator: " ")
                throw ServerError(.insufficientScope, "the token's scopes (\(have)) do not allow writing (c or u) \(type), which Bundle.entry[\(i)] holds: a scope such as user/\(type).cu or user/*.cu would (nothing was imported)",
                                  field: "scope", value: type)
            }
        }
    }

    /// What an import did, entry by entry: the report, the versioned entries' current versions before and after
    /// it (by entry index; absent: not known, nil: none), and a batch's entries left out for their `If-Match`.
    struct Imported: Sendable {
        var report: ImportReport
        var before: [Int: FHIRVersion?] = [:]
        var after: [Int: FHIRVersion?] = [:]
        var preconditionFailures: [Int: FHIRError] = [:]
    }

    /// Imports `tree` as `bank`'s actor. A transaction's `If-Match`es are checked inside its own bank transaction
    /// (nothing is written when one fails); a batch entry's `If-Match` inside that entry's own transaction (an entry
    /// whose version is not the one named writes nothing and is answered 412; the others go on). The current versions
    /// before and after tell a created entry from an updated one.
    static func importVersioned(_ bank: Bank, _ tree: JSONValue, kind: String, origin: String, targets: [VersionedEntry]) throws -> Imported {
        var targets = targets
        try locate(&targets, bank)
        let log = targets.contains(where: \.isDefinition) ? try bank.log() : []
        var committed: [TwinID: [(twin: Twin?, time: Instant?)]] = [:]
        for t in Set(targets.filter(\.isDefinition).compactMap(\.twin)) { committed[t] = try committedDefinitions(bank, t, log: log) }
        let fromBank = VersionReader(twin: { id in
            do { return try bank.twin(id).twin } catch let e as BankError where e.code == .unknownTwin { return nil }
        }, events: { id in try bank.events(ThreadQuery(twin: id, includeRetracted: true)) })
        let before = try currentVersions(targets, committed: committed, fromBank, orRefused: true)
        let importer = FHIRImporter(bank: bank)
        var imported = Imported(report: ImportReport(), before: before)
        if kind == "batch" {
            // each conditional entry checked in its own transaction, by the label the importer gives its unit
            let entries = tree["entry"]?.arrayValue ?? []
            var byLabel: [String: VersionedEntry] = [:]
            for e in targets where e.ifMatch != nil {
                byLabel[entries[e.index]["fullUrl"]?.stringValue ?? "Bundle.entry[\(e.index)].resource"] = e
            }
            var failures: [Int: FHIRError] = [:]
            let committedNow = committed
            imported.report = try importer.importResource(tree, origin: origin, precondition: nil, entryPrecondition: byLabel.isEmpty ? nil : { labels, w in
                let mine = labels.compactMap { byLabel[$0] }
                guard !mine.isEmpty else { return }
                let reader = VersionReader(twin: { id in try w.twin(id)?.twin }, events: { id in try w.events(ThreadQuery(twin: id, includeRetracted: true)) })
                let current = try currentVersions(mine, committed: committedNow, reader, orRefused: false)
                for e in mine {
                    if let wanted = e.ifMatch, let failure = ifMatchFailure(e, wanted, current[e.index] ?? nil) {
                        failures[e.index] = failure
                        throw failure
                    }
                }
            })
            imported.preconditionFailures = failures
            targets.removeAll { failures[$0.index] != nil }
        } else {
            let conditional = targets.filter { $0.ifMatch != nil }
            imported.report = try importer.importResource(tree, origin: origin, precondition: conditional.isEmpty ? nil : { w in
                let reader = VersionReader(twin: { id in try w.twin(id)?.twin }, events: { id in try w.events(ThreadQuery(twin: id, includeRetracted: true)) })
                try checkIfMatch(conditional, try currentVersions(conditional, committed: committed, reader, orRefused: false))
            })
        }
        imported.after = (try? currentVersions(targets, committed: committed, fromBank, orRefused: true)) ?? [:]
        return imported
    }

    static func transactionResponse(_ bundle: JSONValue, kind: String, imported: Imported) -> JSONValue {
        let report = imported.report
        let entries = bundle["entry"]?.arrayValue ?? []
        var out: [JSONValue] = []
        for (i, entry) in entries.enumerated() {
            let fullUrl = entry["fullUrl"]?.stringValue
            let type = entry["resource"]?["resourceType"]?.stringValue ?? ""
            var response: JSONObject
            if let failure = imported.preconditionFailures[i] {
                response = ["status": "412 Precondition Failed",
                            "outcome": FHIROutcome.outcome(severity: "error", code: "conflict", text: failure.message, expression: failure.location,
                                                           errorCode: ServerError.Code.preconditionFailed.rawValue)]
            } else if kind == "batch", let fullUrl, let failure = report.failures.first(where: { $0.contains("entry \(fullUrl):") }) {
                response = ["status": "422 Unprocessable Entity",
                            "outcome": FHIROutcome.outcome(severity: "error", code: "processing", text: failure, expression: nil, errorCode: "unprocessable")]
            } else {
                response = ["status": "200 OK"]
                if let id = entry["resource"]?["id"]?.stringValue, !type.isEmpty { response["location"] = .string("\(type)/\(id)") }
                // a versioned resource: 201 when this import created it (no current version before), its version's location and ETag
                if let after = imported.after[i] ?? nil, let resource = after.resource, let known = imported.before[i] {
                    let created = known.map { $0.isDeletion } ?? true
                    response["status"] = .string(created ? "201 Created" : "200 OK")
                    response["location"] = .string("\(after.type)/\(after.id)/_history/\(after.versionId)")
                    response["etag"] = .string("W/\"\(after.versionId)\"")
                    if let t = resource["meta"]?["lastUpdated"]?.stringValue { response["lastModified"] = .string(t) }
                }
                var issues: [JSONValue] = []
                if i == 0 { issues += report.operationOutcome()["issue"]?.arrayValue?.prefix(1) ?? [] }
                if report.skipped[type] != nil {
                    issues.append(["severity": "information", "code": "informational",
                                   "diagnostics": .string("not kept: the bank maps no \(type) to a twin or its thread")])
                }
                if let fullUrl {
                    let mine = report.issues.filter { $0.entry == fullUrl }.map { $0.disposition == .flagged ? "flagged" : "set aside" }
                    if !mine.isEmpty {
                        issues.append(["severity": "warning", "code": "business-rule",
                                       "diagnostics": .string("\(mine.count) value(s) flagged or set aside; GET the patient's resources or import with `twinbank fhir import --report` for the details")])
                    }
                }
                if !issues.isEmpty { response["outcome"] = ["resourceType": "OperationOutcome", "issue": .array(issues)] }
            }
            var e: JSONObject = [:]
            if let fullUrl { e["fullUrl"] = .string(fullUrl) }
            e["response"] = .object(response)
            out.append(.object(e))
        }
        var b: JSONObject = ["resourceType": "Bundle", "type": .string(kind + "-response")]
        if !out.isEmpty { b["entry"] = .array(out) }
        return .object(b)
    }

    /// A TwinFHIR error as the server's error, with the status FHIR servers answer for it.
    static func serverError(_ e: FHIRError) -> ServerError {
        let code: ServerError.Code
        switch e.code {
        case .malformedJSON: code = .badRequest
        case .versionConflict: code = .preconditionFailed
        case .accessDenied: code = .accessDenied
        case .notFound: code = .unknownTwin
        case .bank: code = .conflict
        case .io: code = .internalError
        default: code = .unprocessable
        }
        return ServerError(code, e.description, field: e.location, value: e.value)
    }

    // MARK: - Helpers

    /// The twin's resources as the export writes them, read as the bank's actor (the gate decides each read).
    static func resources(_ bank: Bank, _ id: TwinID) throws -> [JSONValue] {
        let twin = try bank.twin(id).twin
        let events = try bank.events(ThreadQuery(twin: id))
        return FHIRExporter.resources(twin: twin, events: events)
    }

    static func patientID(_ text: String, field: String) throws -> TwinID {
        do { return try TwinID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: field, value: e.value) }
    }

    static func checkFormat(_ value: String) throws {
        guard ["json", "application/json", "application/fhir+json"].contains(value) else {
            throw ServerError(.badRequest, "this server answers JSON only (_format json or application/fhir+json), not '\(value)'", field: "_format", value: value)
        }
    }

    static func unknownType(_ type: String) -> ServerError {
        ServerError(.unknownResourceType, "the facade does not serve the resource type '\(type)': /fhir/metadata lists the types it answers", field: "type", value: type)
    }

    static func badParameter(_ name: String, for type: String, known: [String]) -> ServerError {
        ServerError(.badRequest, "\(type) is not searched by '\(name)' here: the parameters are \(known.joined(separator: ", "))", field: name, value: name)
    }

    /// The base URL of the facade as the client addressed it (for `fullUrl`s and links).
    static func base(_ request: Request) -> String {
        let host = request.head.authority ?? "localhost"
        return "http://\(host)/fhir"
    }

    /// A `searchset` Bundle: `total` the matches, the page asked for with its `self`, `next` and `previous` links.
    static func searchset(_ all: [JSONValue], _ page: Page, base: String, request: Request) -> JSONValue {
        searchset(page: Array(page.slice(all)), total: all.count, page, base: base, request: request)
    }

    /// A `searchset` Bundle of one page's `resources` out of `total` matches.
    static func searchset(page resources: [JSONValue], total: Int, _ page: Page, included: [JSONValue] = [], base: String, request: Request) -> JSONValue {
        var b: JSONObject = ["resourceType": "Bundle", "type": "searchset", "total": .number(String(total))]
        b["link"] = .array(page.links(total: total, base: base, request: request))
        func entry(_ r: JSONValue, _ mode: String) -> JSONValue {
            ["fullUrl": .string("\(base)/\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")"), "resource": r, "search": ["mode": .string(mode)]]
        }
        let entries = resources.map { entry($0, "match") } + included.map { entry($0, "include") }
        if !entries.isEmpty { b["entry"] = .array(entries) }
        return .object(b)
    }

    static func response(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = mediaType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter().write(value))))
    }

    // MARK: - CapabilityStatement

    /// The CapabilityStatement: R4 (4.0.1), JSON only, exactly the interactions and search parameters above.
    static func capabilityStatement(base: String, now: Instant) -> JSONValue {
        func param(_ name: String, _ type: String, _ doc: String) -> JSONValue {
            ["name": .string(name), "type": .string(type), "documentation": .string(doc)]
        }
        let history: [JSONValue] = [["code": "read"], ["code": "vread"], ["code": "history-instance"], ["code": "history-type"]]
        /// `versioned-update` where a transaction's `request.ifMatch` is checked (the types the importer writes),
        /// `versioned` where versions are read only; no conditional update, create or delete.
        func versioning(_ type: String) -> JSONValue { conditionallyWritten.contains(type) ? "versioned-update" : "versioned" }
        /// `update` (PUT, which creates a resource that is not there) where the importer writes the type.
        let update: [JSONValue] = [["code": "update"]]
        /// `delete` (a retraction of the record's events) where the export maps the type from a thread's records.
        let delete: [JSONValue] = [["code": "delete"]]
        var resources: [JSONValue] = [[
            "type": "Patient", "versioning": versioning("Patient"), "readHistory": true, "updateCreate": true,
            "interaction": .array([["code": "search-type"]] + history + update),
            "searchParam": [param("_id", "token", "the twin id")],
        ]]
        for s in searchable {
            var params = [param("patient", "reference", "the twin id (ID or Patient/ID); without it, the search runs across the twins the caller may read (the gate decides per twin; a twin refused is left out), over at most the server's limit of twins scanned (10,000 by default; only the twins holding the code when every code names its system), else 422")]
            if let c = s.codeParameter { params.append(param(c, "token", "SYSTEM|CODE, CODE or |CODE; a comma separates alternatives")) }
            if s.dateElement != nil { params.append(param("date", "date", "a date or instant with a prefix eq (default), ge, le, gt or lt; repeat for a range")) }
            resources.append(["type": .string(s.type), "versioning": versioning(s.type), "readHistory": true, "updateCreate": true,
                              "conditionalDelete": "not-supported", "searchInclude": [.string("\(s.type):patient")],
                              "interaction": .array([["code": "search-type"]] + history + update + delete), "searchParam": .array(params)])
        }
        for type in ["Organization", "Group", "RiskAssessment", "Provenance"] {
            resources.append(["type": .string(type), "versioning": versioning(type), "readHistory": true, "interaction": .array(history)])
        }
        return [
            "resourceType": "CapabilityStatement", "status": "active", "date": .string(FHIRTime.date(now)),
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
            "software": ["name": "Twinbank", "version": .string(TwinbankVersion.current)],
            "implementation": ["description": "Twinbank's FHIR facade over a bank of digital twins", "url": .string(base)],
            "rest": [[
                "mode": "server",
                "documentation": "Every interaction but metadata needs a bearer token (twinbank token issue); X-Purpose-Of-Use declares the purpose (default treatment). Reads are decided and audited by the bank's gate. Searchsets and histories are paged by _count (1-1000, default 100) with next links; a transaction entry's request.ifMatch is checked against the current version (412 when it is not). DELETE of a thread's record retracts its events (X-Reason gives the reason; the history keeps its versions).",
                "security": ["service": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"]]]]],
                "resource": .array(resources),
                "interaction": [["code": "transaction"], ["code": "batch"], ["code": "history-system"]],
            ]],
        ]
    }
}

extension HTTPField.Name {
    /// `X-Purpose-Of-Use`: the request's declared purpose (default treatment).
    static let purposeOfUse = HTTPField.Name("X-Purpose-Of-Use")!
}
