import Foundation
import HTTPTypes
import Hummingbird
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance

/// FHIR's `_history` and `vread` over ``TwinFHIR/FHIRHistory``: a record's versions from the bank's bitemporal thread
/// (its first recording, each later event of the same record, its retraction as a deletion), a Patient's from its
/// definition in the commits of the current branch. Everything is read through the gate as the token's subject.
extension FHIRFacade {
    /// The types whose history (and read) the facade answers: a twin's own resource (Patient, Organization, Group)
    /// and the types the export writes from a thread (``recordTypes``).
    static func hasHistory(_ type: String) -> Bool { definitionTypes.contains(type) || recordTypes.contains(type) }

    /// The parameters of a history interaction: `_since` (versions recorded at or after it), `_count` (a page,
    /// 1-1000, default 100), `_offset` (the page's first version, newest first; the `next` link carries it), and
    /// `patient` (Twinbank's: read one twin's thread instead of the bank's).
    struct HistoryParameters: Sendable {
        var since: Instant?
        var page = Page(count: 100, offset: 0)
        var count: Int { page.count }
        var offset: Int { page.offset }
        var patient: TwinID?

        init(_ request: Request, now: Instant, patientAllowed: Bool) throws {
            for (key, value) in request.uri.queryParameters.map({ (String($0.key), String($0.value)) }) {
                switch key {
                case "_since":
                    do { since = try Instant(parsing: value, relativeTo: now, bound: .lower) } catch let e as TwinError {
                        throw ServerError(.badRequest, "_since: \(e.message); give an instant (2026-01-01T08:00:00Z) or a date", field: "_since", value: value)
                    }
                case "_count", "_offset": _ = try page.read(key, value)
                case "patient" where patientAllowed:
                    let text = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : value
                    patient = try FHIRFacade.patientID(text, field: "patient")
                case "_format": try FHIRFacade.checkFormat(value)
                default:
                    throw ServerError(.badRequest, "a history is not read with '\(key)' here: the parameters are _since, _count, _offset\(patientAllowed ? ", patient" : "")", field: key, value: key)
                }
            }
        }
    }

    /// `GET /fhir/{type}/{id}/_history` (the resource's versions, newest first) and
    /// `GET /fhir/{type}/{id}/_history/{vid}` (one version; a deletion answers 410 Gone).
    func instanceHistory(_ request: Request, type: String, id: String, version: String?) async throws -> Response {
        guard Self.hasHistory(type) else { throw Self.unknownType(type) }
        let now = served.base.clock.now()
        let parameters = try HistoryParameters(request, now: now, patientAllowed: !Self.definitionTypes.contains(type))
        var wanted: Int?
        if let version {
            guard let v = Int(version), v >= 1 else {
                throw ServerError(.badRequest, "a version id is a whole number from 1 (meta.versionId), not '\(version)'", field: "vid", value: version)
            }
            wanted = v
        }
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .read, .type(type))
        let versions = try await self.versions(call, type: type, id: id, patient: parameters.patient)
        if let wanted {
            guard let v = versions.first(where: { $0.versionId == wanted }) else {
                throw ServerError(ServerError.Code("unknownVersion", .notFound),
                                  "\(type)/\(id) has no version \(wanted): its versions are 1 to \(versions.map(\.versionId).max() ?? 0)", field: "vid", value: String(wanted))
            }
            guard let resource = v.resource else {
                throw ServerError(ServerError.Code("deleted", .gone),
                                  "version \(wanted) of \(type)/\(id) is its deletion (retracted\(v.lastUpdated.map { " at \($0.iso8601)" } ?? ""))", field: "vid", value: String(wanted))
            }
            return Self.versioned(request, resource, v)
        }
        return Self.response(.ok, Self.historyBundle(versions, parameters, base: Self.base(request), request: request))
    }

    /// `GET /fhir/{type}/_history`: the versions of every resource of the type in the twins' threads (or
    /// definitions, for Patient) the caller may read, newest first, a page at a time. The twins are the bank's
    /// (`twinIDs()`, a bank-wide read) or, with `patient`, one; a twin the gate refuses is left out (its refusal is audited).
    func typeHistory(_ request: Request, type: String) async throws -> Response {
        guard Self.hasHistory(type) else { throw Self.unknownType(type) }
        let parameters = try HistoryParameters(request, now: served.base.clock.now(), patientAllowed: true)
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .read, .type(type))
        let patient = parameters.patient
        let versions = try await served.run(call) { bank in
            let twins = try patient.map { [$0] } ?? bank.twinIDs()
            let definition = Self.definitionTypes.contains(type)
            let log = definition ? try bank.log() : []
            var out: [FHIRVersion] = []
            for twin in twins {
                if definition {
                    do { out += try Self.definitionVersions(bank, twin, log: log).filter { $0.type == type } } catch where patient == nil && Self.isRefusal(error) { continue }
                } else if let all = try Self.recordVersions(bank, twin, skipRefused: patient == nil) {
                    out += all.filter { $0.type == type }
                }
            }
            return out
        }
        return Self.response(.ok, Self.historyBundle(versions, parameters, base: Self.base(request), request: request))
    }

    /// `GET /fhir/_history`: the versions of every resource the facade versions (each twin's own Patient,
    /// Organization or Group and the resources of its thread) of the twins the caller may read, newest first, a page
    /// at a time; `patient=ID` (Twinbank's) reads one twin. A twin the gate refuses is left out (its refusal is audited).
    func systemHistory(_ request: Request) async throws -> Response {
        let parameters = try HistoryParameters(request, now: served.base.clock.now(), patientAllowed: true)
        let call = try TwinAPI.caller(purpose: request.headers[.purposeOfUse], .read, .bank)
        let patient = parameters.patient
        let versions = try await served.run(call) { bank in
            let twins = try patient.map { [$0] } ?? bank.twinIDs()
            let log = try bank.log()
            var out: [FHIRVersion] = []
            for twin in twins {
                do { out += try Self.definitionVersions(bank, twin, log: log) } catch where patient == nil && Self.isRefusal(error) { continue }
                out += try Self.recordVersions(bank, twin, skipRefused: patient == nil) ?? []
            }
            return out
        }
        return Self.response(.ok, Self.historyBundle(versions, parameters, base: Self.base(request), request: request))
    }

    /// The versions of the records of `twin`'s thread, read as the bank's actor; nil for a twin the gate refuses or
    /// that is gone when `skipRefused`.
    static func recordVersions(_ bank: Bank, _ twin: TwinID, skipRefused: Bool) throws -> [FHIRVersion]? {
        do {
            let t = try bank.twin(twin).twin
            let events = try bank.events(ThreadQuery(twin: twin, includeRetracted: true))
            return FHIRHistory.recordVersions(twin: t, events: events)
        } catch where skipRefused && isRefusal(error) {
            return nil
        }
    }

    /// The versions of `twin`'s own resource from its definition in each commit of `log` (newest first, as
    /// `Bank.log` gives it) and now; without `log`, the log is read after the twin (so the gate decides on the twin first).
    static func definitionVersions(_ bank: Bank, _ twin: TwinID, log: [CommitInfo]?) throws -> [FHIRVersion] {
        let current = try bank.twin(twin).twin
        var definitions: [(twin: Twin?, time: Instant?)] = []
        for c in try (log ?? bank.log()).reversed() {
            do { definitions.append((try bank.twin(twin, at: c.id.hex).twin, c.commit.time)) } catch let e as BankError where e.code == .unknownTwin {
                definitions.append((nil, c.commit.time))
            }
        }
        definitions.append((current, nil))
        return FHIRHistory.definitionVersions(definitions, id: twin)
    }

    /// Whether `error` is the gate's refusal, or a twin that is not there (any more).
    static func isRefusal(_ error: any Error) -> Bool {
        if let e = error as? BankError { return e.code == .accessDenied || e.code == .unknownTwin || e.code == .erasedTwin }
        if let e = error as? GovernanceError { return e.code == .accessDenied }
        return false
    }

    /// A `history` Bundle: the versions newest first (a version not committed yet first of all), `total`, the page
    /// asked for with `self`, `next` and `previous` links. Each entry has the resource's `fullUrl`, the resource (none
    /// for a deletion), `request` (POST for a first version, PUT for a later one, DELETE for a deletion) and
    /// `response` (status, `etag` `W/"versionId"`, `lastModified`), as FHIR R4 requires of a history (bdl-3, bdl-4).
    static func historyBundle(_ all: [FHIRVersion], _ p: HistoryParameters, base: String, request: Request) -> JSONValue {
        let versions = all.filter { v in p.since.map { s in v.lastUpdated.map { $0 >= s } ?? true } ?? true }.sorted { a, b in
            let ta = a.lastUpdated?.microseconds ?? .max, tb = b.lastUpdated?.microseconds ?? .max
            return ta != tb ? ta > tb : (a.type, a.id, b.versionId) < (b.type, b.id, a.versionId)
        }
        let page = Page(count: p.count, offset: p.offset)
        var b: JSONObject = ["resourceType": "Bundle", "type": "history", "total": .number(String(versions.count))]
        b["link"] = .array(page.links(total: versions.count, base: base, request: request))
        let entries: [JSONValue] = page.slice(versions).map { v in
            var e: JSONObject = ["fullUrl": .string("\(base)/\(v.type)/\(v.id)")]
            if let r = v.resource { e["resource"] = r }
            let method = v.isDeletion ? "DELETE" : v.versionId == 1 ? "POST" : "PUT"
            e["request"] = ["method": .string(method), "url": .string(method == "POST" ? v.type : "\(v.type)/\(v.id)")]
            var response: JSONObject = ["status": .string(v.isDeletion ? "204 No Content" : v.versionId == 1 ? "201 Created" : "200 OK"),
                                        "etag": .string("W/\"\(v.versionId)\"")]
            if let t = v.lastUpdated { response["lastModified"] = .string(FHIRTime.text(t)) }
            e["response"] = .object(response)
            return .object(e)
        }
        if !entries.isEmpty { b["entry"] = .array(entries) }
        return .object(b)
    }

    /// An HTTP date (RFC 9110 IMF-fixdate) for `Last-Modified`.
    static func httpDate(_ t: Instant) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: Date(timeIntervalSince1970: t.seconds))
    }
}
