import Foundation
import HTTPTypes
import Hummingbird
import TwinBank
import TwinCore
import TwinFHIR

/// Versions on reads and writes: `read` answers the current version with `ETag: W/"versionId"` (and `304 Not
/// Modified` for a matching `If-None-Match`), and a transaction entry's `request.ifMatch` is checked against the
/// resource's current version inside the import's own bank transaction (412, nothing written, when it is not the
/// current one). Versions are ``TwinFHIR/FHIRHistory``'s: computed from the thread and the commits, as `_history` gives them.
extension FHIRFacade {
    /// The types that are a twin's own definition: a person's Patient, an organisation's Organization, a population's Group.
    static let definitionTypes = ["Patient", "Organization", "Group"]

    /// The types the export writes from a twin's thread: the types the facade searches, and the model's outputs
    /// (RiskAssessment, Provenance).
    static let recordTypes = searchable.map(\.type) + ["RiskAssessment", "Provenance"]

    /// The types a transaction entry may name in `request.ifMatch`: those the importer writes and the facade versions.
    static let conditionallyWritten = ["Patient"] + searchable.map(\.type)

    /// The version number of an entity tag `W/"N"` (also `"N"` or `N`), nil when it is not one.
    static func versionNumber(_ tag: String) -> Int? {
        var t = Substring(tag.trimmingCharacters(in: .whitespaces))
        if t.hasPrefix("W/") { t = t.dropFirst(2) }
        if t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = t.dropFirst().dropLast() }
        guard let n = Int(t), n >= 1 else { return nil }
        return n
    }

    /// Whether an `If-None-Match` header names version `v` (or is `*`).
    static func noneMatchHolds(_ header: String, _ v: Int) -> Bool {
        header.split(separator: ",").contains { tag in
            let t = tag.trimmingCharacters(in: .whitespaces)
            return t == "*" || versionNumber(t) == v
        }
    }

    /// The answer for one version of a resource: 200 with it, or 304 without a body when the request's
    /// `If-None-Match` names it; either way `ETag: W/"versionId"` and `Last-Modified` when the version has a time.
    static func versioned(_ request: Request, _ resource: JSONValue, _ v: FHIRVersion) -> Response {
        var response: Response
        if let header = request.headers[.ifNoneMatch], noneMatchHolds(header, v.versionId) {
            response = Response(status: .notModified)
        } else {
            response = Self.response(.ok, resource)
        }
        response.headers[.eTag] = "W/\"\(v.versionId)\""
        if let t = v.lastUpdated { response.headers[.lastModified] = Self.httpDate(t) }
        return response
    }

    // MARK: - Read

    /// `GET /fhir/{type}/{id}`: the resource's current version (the newest of its `_history`) with its `ETag`; a
    /// resource whose current version is a deletion answers 410. For a thread's record type, `patient=ID`
    /// (Twinbank's) reads one twin's thread instead of finding the record among the bank's.
    func read(_ request: Request, type: String, id: String) async throws -> Response {
        guard Self.hasHistory(type) else { throw Self.unknownType(type) }
        var patient: TwinID?
        for (key, value) in request.uri.queryParameters.map({ (String($0.key), String($0.value)) }) {
            switch key {
            case "_format": try Self.checkFormat(value)
            case "patient" where !Self.definitionTypes.contains(type):
                let text = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : value
                patient = try Self.patientID(text, field: "patient")
            default:
                throw ServerError(.badRequest, "a read takes no '\(key)': the parameters are _format\(Self.definitionTypes.contains(type) ? "" : ", patient")", field: key, value: key)
            }
        }
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .read, .type(type))
        let versions = try await self.versions(call, type: type, id: id, patient: patient)
        guard let current = versions.max(by: { $0.versionId < $1.versionId }) else {
            throw ServerError(ServerError.Code("unknownResource", .notFound), "no \(type)/\(id)", field: "id", value: id)
        }
        guard let resource = current.resource else {
            throw ServerError(ServerError.Code("deleted", .gone),
                              "\(type)/\(id) was deleted (retracted\(current.lastUpdated.map { " at \($0.iso8601)" } ?? "")): GET /fhir/\(type)/\(id)/_history gives its versions",
                              field: "id", value: id)
        }
        return Self.versioned(request, resource, current)
    }

    /// Every version of `type/id` the caller may read (404 when there is none): a definition's from the twin's
    /// commits, a record's from the thread of `patient` or, without it, of the first twin of the bank that holds it.
    func versions(_ call: ServedBank.Call, type: String, id: String, patient: TwinID?) async throws -> [FHIRVersion] {
        if Self.definitionTypes.contains(type) {
            let twin = try Self.patientID(id, field: "id")
            let versions = try await served.run(call) { bank in
                try Self.definitionVersions(bank, twin, log: nil).filter { $0.type == type }
            }
            guard !versions.isEmpty else {
                let kind = type == "Patient" ? "a person" : type == "Organization" ? "an organisation" : "a population"
                throw ServerError(.unknownTwin, "twin '\(id)' is not \(kind), so it has no \(type)", field: "id", value: id)
            }
            return versions
        }
        let versions = try await served.run(call) { bank in
            let twins = try patient.map { [$0] } ?? bank.twinIDs()
            for twin in twins {
                guard let all = try Self.recordVersions(bank, twin, skipRefused: patient == nil) else { continue }
                let mine = all.filter { $0.type == type && $0.id == id }
                if !mine.isEmpty { return mine }
            }
            return []
        }
        guard !versions.isEmpty else {
            throw ServerError(ServerError.Code("unknownResource", .notFound),
                              "no \(type)/\(id) in \(patient.map { "the thread of twin '\($0)'" } ?? "the bank's threads you may read")",
                              field: "id", value: id)
        }
        return versions
    }

    // MARK: - Update

    /// `PUT /fhir/{type}/{id}`: the resource (a Patient or a type the facade searches) imported as a one-entry
    /// transaction, so exactly as `POST /fhir` would write it; `If-Match: W/"N"` makes it conditional (checked in the
    /// import's own bank transaction: 412 naming the expected and current versions, nothing written). Answers the
    /// resource's new current version: 201 when it had none (created), else 200, with `ETag`, `Location`
    /// (`…/{type}/{id}/_history/N`) and `Last-Modified` when the version has a time.
    func update(_ request: Request, type: String, id: String) async throws -> Response {
        guard Self.conditionallyWritten.contains(type) else {
            if Self.hasHistory(type) {
                throw ServerError(ServerError.Code("unsupportedInteraction", .methodNotAllowed),
                                  "the facade does not update \(type): PUT takes \(Self.conditionallyWritten.joined(separator: ", "))", field: "type", value: type)
            }
            throw Self.unknownType(type)
        }
        let contentType = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard contentType == "application/fhir+json" || contentType == "application/json" else {
            throw ServerError(ServerError.Code("unsupportedMediaType", .unsupportedMediaType), "PUT /fhir/\(type)/\(id) takes the resource as application/fhir+json, not \(contentType ?? "a body without Content-Type")", field: "Content-Type", value: contentType)
        }
        var tag: String?
        if let header = request.headers[.ifMatch] {
            guard Self.versionNumber(header) != nil else {
                throw ServerError(.badRequest, "If-Match '\(header)' is not a version's ETag: give W/\"N\", N the meta.versionId read", field: "If-Match", value: header)
            }
            tag = header
        }
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .write, .type(type))
        let bytes = [UInt8](buffer: try await request.body.collect(upTo: bodyLimit))
        let resource: JSONValue
        do { resource = try JSONReader().read(bytes) } catch { throw ServerError(.badRequest, "the body is not JSON: \(error.description)", field: "body") }
        guard resource["resourceType"]?.stringValue == type else {
            throw ServerError(.badRequest, "the body is \(resource["resourceType"]?.stringValue.map { "a \($0)" } ?? "not a resource"), not the \(type) of the URL", field: "resourceType", value: resource["resourceType"]?.stringValue)
        }
        guard resource["id"]?.stringValue == id else {
            throw ServerError(.badRequest, "the resource's id \(resource["id"]?.stringValue.map { "'\($0)'" } ?? "is missing"): it must be the URL's '\(id)'", field: "id", value: resource["id"]?.stringValue)
        }
        var entryRequest: JSONObject = ["method": "PUT", "url": .string("\(type)/\(id)")]
        if let tag { entryRequest["ifMatch"] = .string(tag) }
        let bundle: JSONValue = ["resourceType": "Bundle", "type": "transaction",
                                 "entry": [["fullUrl": .string("\(Self.base(request))/\(type)/\(id)"), "resource": resource, "request": .object(entryRequest)]]]
        let targets = try Self.versionedEntries(bundle)
        let origin = "put:\(type)/\(id):" + String(EventHasher.sha256(bytes).hex.prefix(32))
        let imported: Imported
        do {
            imported = try await served.run(call) { bank in try Self.importVersioned(bank, bundle, kind: "transaction", origin: origin, targets: targets) }
        } catch let e as FHIRError where e.code == .versionConflict {
            throw ServerError(.preconditionFailed, e.message, field: "If-Match", value: e.value)
        } catch let e as FHIRError {
            var located = e
            if let location = located.location, location.hasPrefix("Bundle.entry[0].resource") {
                located.location = type + location.dropFirst("Bundle.entry[0].resource".count)
            }
            throw Self.serverError(located)
        }
        guard let after = imported.after[0] ?? nil, let current = after.resource else {
            throw ServerError(.unprocessable, "the \(type) was not written: the importer set it aside (no time, no usable code, a withdrawn status, no patient) or keeps nothing of it; POST it in a transaction Bundle to read the import's data-quality outcome", field: "body")
        }
        let created = (imported.before[0] ?? nil).map { $0.isDeletion } ?? true
        var response = Self.response(created ? .created : .ok, current)
        response.headers[.eTag] = "W/\"\(after.versionId)\""
        response.headers[.location] = "\(Self.base(request))/\(type)/\(id)/_history/\(after.versionId)"
        if let t = after.lastUpdated { response.headers[.lastModified] = Self.httpDate(t) }
        return response
    }

    // MARK: - Conditional writes

    /// An entry of a posted Bundle whose resource the facade versions: where it is, what it is, the twin whose export
    /// holds it (when the Bundle says), and the version its `request.ifMatch` names.
    struct VersionedEntry: Sendable {
        let index: Int
        let fullUrl: String?
        let type: String
        let id: String
        var twin: TwinID?
        let ifMatch: Int?
        var isDefinition: Bool { FHIRFacade.definitionTypes.contains(type) }
        var path: String { "Bundle.entry[\(index)].request.ifMatch" }
    }

    /// The entries of `bundle` whose type the facade versions, with their `If-Match`; a malformed `ifMatch`, or one on
    /// a type the facade does not version, is a 400 naming the entry.
    static func versionedEntries(_ bundle: JSONValue) throws -> [VersionedEntry] {
        let entries = bundle["entry"]?.arrayValue ?? []
        var out: [VersionedEntry] = []
        for (i, entry) in entries.enumerated() {
            let resource = entry["resource"]
            let type = resource?["resourceType"]?.stringValue ?? ""
            let fullUrl = entry["fullUrl"]?.stringValue
            var ifMatch: Int?
            if let tag = entry["request"]?["ifMatch"]?.stringValue {
                guard conditionallyWritten.contains(type) else {
                    throw ServerError(.badRequest, "If-Match is checked on \(conditionallyWritten.joined(separator: ", ")), not on \(type.isEmpty ? "an entry without a resource" : type)",
                                      field: "Bundle.entry[\(i)].request.ifMatch", value: tag)
                }
                guard let v = versionNumber(tag) else {
                    throw ServerError(.badRequest, "ifMatch '\(tag)' is not a version's ETag: give W/\"N\", N the meta.versionId read", field: "Bundle.entry[\(i)].request.ifMatch", value: tag)
                }
                ifMatch = v
            }
            guard hasHistory(type) else { continue }
            let uuid = fullUrl.flatMap { $0.hasPrefix("urn:uuid:") ? String($0.dropFirst("urn:uuid:".count)) : nil }
            guard let id = resource?["id"]?.stringValue ?? uuid else {
                if ifMatch != nil {
                    throw ServerError(.badRequest, "an entry with If-Match needs the resource's id", field: "Bundle.entry[\(i)].resource.id")
                }
                continue
            }
            let twin: TwinID?
            if definitionTypes.contains(type) {
                twin = try? TwinID(id)
            } else {
                twin = subjectTwin(resource, entries)
            }
            out.append(VersionedEntry(index: i, fullUrl: fullUrl, type: type, id: id, twin: twin, ifMatch: ifMatch))
        }
        return out
    }

    /// The twin a record's `subject` (or `patient`) names: `Patient/ID`, a full URL ending so, or the `urn:uuid:` of
    /// a Patient entry of the same Bundle (its id, else the UUID, as the importer names its twin).
    static func subjectTwin(_ resource: JSONValue?, _ entries: [JSONValue]) -> TwinID? {
        guard let reference = (resource?["subject"] ?? resource?["patient"])?["reference"]?.stringValue else { return nil }
        if reference.hasPrefix("urn:uuid:") {
            guard let target = entries.first(where: { $0["fullUrl"]?.stringValue == reference })?["resource"],
                  target["resourceType"]?.stringValue == "Patient" else { return nil }
            return try? TwinID(target["id"]?.stringValue ?? String(reference.dropFirst("urn:uuid:".count)))
        }
        let parts = reference.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "Patient" else { return nil }
        return try? TwinID(String(parts[parts.count - 1]))
    }

    /// A twin's definition in each commit of `log` (oldest first), nil where the commit does not hold it.
    static func committedDefinitions(_ bank: Bank, _ twin: TwinID, log: [CommitInfo]) throws -> [(twin: Twin?, time: Instant?)] {
        try log.reversed().map { c in
            do { return (try bank.twin(twin, at: c.id.hex).twin, c.commit.time) } catch let e as BankError where e.code == .unknownTwin || e.code == .erasedTwin {
                return (nil, c.commit.time)
            }
        }
    }

    /// Where the current versions of a Bundle's versioned entries are read from: the bank before the import, or
    /// the import's own writer (so an `If-Match` holds for the writes).
    struct VersionReader {
        let twin: (TwinID) throws -> Twin?
        let events: (TwinID) throws -> [Event]
    }

    /// The current version of each entry (by its index; nil: none, the resource does not exist), leaving out the
    /// entries whose twin the gate refuses to read or that name no twin, when `orRefused` (then they are unknown).
    static func currentVersions(_ entries: [VersionedEntry], committed: [TwinID: [(twin: Twin?, time: Instant?)]],
                                _ reader: VersionReader, orRefused: Bool) throws -> [Int: FHIRVersion?] {
        var records: [TwinID: [FHIRVersion]] = [:]
        var out: [Int: FHIRVersion?] = [:]
        for e in entries {
            guard let twinID = e.twin else { continue }
            do {
                if e.isDefinition {
                    let now = try reader.twin(twinID)
                    let versions = FHIRHistory.definitionVersions((committed[twinID] ?? []) + [(now, nil)], id: twinID).filter { $0.type == e.type }
                    out[e.index] = .some(versions.last)
                } else {
                    if records[twinID] == nil {
                        if let t = try reader.twin(twinID) {
                            records[twinID] = FHIRHistory.recordVersions(twin: t, events: try reader.events(twinID))
                        } else {
                            records[twinID] = []
                        }
                    }
                    out[e.index] = .some(records[twinID]!.filter { $0.type == e.type && $0.id == e.id }.max { $0.versionId < $1.versionId })
                }
            } catch where orRefused && isRefusal(error) {
                continue
            }
        }
        return out
    }

    /// Each entry's `If-Match` against its current version: the first that is not the current one (or names a
    /// resource that does not exist, or whose current version is a deletion) is a ``TwinFHIR/FHIRError`` `versionConflict`
    /// naming the version asked for and the current one.
    static func checkIfMatch(_ entries: [VersionedEntry], _ current: [Int: FHIRVersion?]) throws(FHIRError) {
        for e in entries {
            guard let wanted = e.ifMatch else { continue }
            if let error = ifMatchFailure(e, wanted, current[e.index] ?? nil) { throw error }
        }
    }

    /// Why `wanted` is not `e`'s current version, or nil when it is.
    static func ifMatchFailure(_ e: VersionedEntry, _ wanted: Int, _ current: FHIRVersion?) -> FHIRError? {
        let now: String
        switch current {
        case let v? where !v.isDeletion && v.versionId == wanted: return nil
        case let v? where v.isDeletion: now = "its current version is \(v.versionId), a deletion"
        case let v?: now = "its current version is \(v.versionId)"
        case nil: now = "it has no version here (no such \(e.type)\(e.twin.map { " in twin '\($0)'" } ?? ""))"
        }
        return FHIRError(.versionConflict, "If-Match expects version \(wanted) of \(e.type)/\(e.id), but \(now): nothing was written; read it again (GET /fhir/\(e.type)/\(e.id)) and retry with its ETag",
                         location: e.path, value: "W/\"\(wanted)\"", fullUrl: e.fullUrl)
    }

    /// Finds the twin holding each record entry that has an `If-Match` but names no twin the Bundle resolves
    /// (a twin the gate refuses is passed over).
    static func locate(_ entries: inout [VersionedEntry], _ bank: Bank) throws {
        let missing = entries.indices.filter { entries[$0].twin == nil && entries[$0].ifMatch != nil && !entries[$0].isDefinition }
        guard !missing.isEmpty else { return }
        for twin in try bank.twinIDs() {
            guard let all = try recordVersions(bank, twin, skipRefused: true) else { continue }
            for k in missing where entries[k].twin == nil && all.contains(where: { $0.type == entries[k].type && $0.id == entries[k].id }) {
                entries[k].twin = twin
            }
        }
    }
}
