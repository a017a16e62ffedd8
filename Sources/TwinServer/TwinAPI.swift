import Crypto
import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinServerAPI

/// The contract's operations (openapi.yaml, generated into TwinServerAPI's `APIProtocol`), each one group of bank
/// calls through `Bank.run` acting as the token's subject for the request's purpose. Errors are thrown
/// (``ServerError``, or the bank's own) and written as the one JSON error body by ``ErrorMiddleware``.
struct TwinAPI: APIProtocol {
    let served: ServedBank

    /// The most items a page may hold, and the default.
    static let pageLimit = 1000, defaultPageSize = 100
    /// The purpose when the request declares none.
    static let defaultPurpose = "treatment"

    // MARK: - Health

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok, version: TwinbankVersion.current))))
    }

    // MARK: - Twins

    func listTwins(_ input: Operations.ListTwins.Input) async throws -> Operations.ListTwins.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Patient"))
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { try Self.twinCursor($0) }
        let served = self.served
        let ids = try await served.run(call) { bank -> [TwinID] in
            guard let own = try served.ownTwins(call) else { return try bank.twinIDs() }
            // a patient's or a device's own twins: those the gate lets them read (each asked, and audited)
            return try own.sorted().filter { id in
                do { _ = try bank.twin(id); return true } catch let e as BankError where [.accessDenied, .unknownTwin, .erasedTwin].contains(e.code) { return false }
            }
        }
        let (page, next) = Self.page(ids, key: \.rawValue, after: after, limit: limit)
        return .ok(.init(body: .json(.init(items: page.map { .init(id: $0.rawValue) }, nextCursor: next))))
    }

    /// One page of `items` in the order of `key` (a string): those after the cursor's key, at most `limit`, and the
    /// cursor of the next page (nil on the last).
    static func page<T>(_ items: [T], key: (T) -> String, after: String?, limit: Int) -> (page: [T], next: String?) {
        let rest = items.sorted { key($0) < key($1) }.filter { item in after.map { key(item) > $0 } ?? true }
        let page = Array(rest.prefix(limit))
        return (page, rest.count > limit ? page.last.map { encodeCursor(key($0)) } : nil)
    }

    func getTwin(_ input: Operations.GetTwin.Input) async throws -> Operations.GetTwin.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Patient"))
        let id = try Self.twinID(input.path.id)
        let at = input.query.at
        let record: TwinRecord, hash: String
        do {
            (record, hash) = try await served.run(call) { bank in try bank.versionedTwin(id, at: at) }
        } catch let e as BankError where e.code == .unknownCommit || e.code == .ambiguousCommit {
            throw ErrorMapping.bank(e, field: "at")
        }
        let twin = APIMapping.twin(record)
        // the ETag is a function of the record: kept by the hash it is stored under, and reused only for the same
        // record (an erasure rewrites a record under its hash)
        let etag: String
        if let cached = served.etags.get(hash) as? ServedETag, cached.record == record { etag = cached.etag } else {
            etag = try Self.etag(of: twin)
            served.etags.put(hash, ServedETag(record: record, etag: etag))
        }
        if let match = input.headers.ifNoneMatch, Self.matches(match, etag) {
            return .notModified(.init(headers: .init(eTag: etag)))
        }
        return .ok(.init(headers: .init(eTag: etag), body: .json(twin)))
    }

    // MARK: - Thread

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .thread)
        let id = try Self.twinID(input.path.id)
        let q = input.query
        let limit = try Self.pageSize(q.limit)
        let after = try q.cursor.map { try Self.eventCursor($0) }
        var query = try threadQuery(id, code: q.code, category: q.category, from: q.from, to: q.to, asOf: q.asOf, knownAt: q.knownAt)
        // the thread's order is (effective start, sequence); the cursor is the last item's pair: the bank reads the page
        // after it (and one more event, which says whether there is a next page), not the whole thread
        query.after = after.map { EventPosition(effective: Instant(microseconds: $0.effective), sequence: $0.sequence) }
        query.limit = limit + 1
        let rest = try await served.run(call) { [query] bank in try bank.events(query) }
        let page = Array(rest.prefix(limit))
        let next = rest.count > limit ? page.last.map { Self.encodeCursor("\($0.effective.start.microseconds).\($0.sequence)") } : nil
        return .ok(.init(body: .json(.init(items: page.map(APIMapping.event), nextCursor: next))))
    }

    /// The thread query of the list's filters (and the CSV export's): `from`/`to` bound the effective start, `asOf`
    /// too (the earlier of `to` and `asOf` applies), `knownAt` replays a recorded time; each malformed one a 400 naming it.
    func threadQuery(_ id: TwinID, code: String?, category: Components.Schemas.Category?, from: String?, to: String?,
                     asOf: String?, knownAt: String?) throws -> ThreadQuery {
        let now = served.base.clock.now()
        var upper = try Self.instant(to, "to", now, .upper)
        if let asOf = try Self.instant(asOf, "asOf", now, .upper) { upper = min(upper ?? asOf, asOf) }
        return ThreadQuery(twin: id, code: try code.map { try Self.codeKey($0, "code") },
                           category: category.map(APIMapping.category),
                           from: try Self.instant(from, "from", now, .lower), to: upper,
                           knownAt: try Self.instant(knownAt, "knownAt", now, .instant))
    }

    func appendEvents(_ input: Operations.AppendEvents.Input) async throws -> Operations.AppendEvents.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .thread)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let now = served.base.clock.now()
        let drafts = try body.events.enumerated().map { i, e in try APIMapping.draft(e, twin: id, field: "events[\(i)]", now: now) }
        try Self.checkWrites(call.identity, drafts.lazy.map { ($0.category, $0.source) })
        let key = input.headers.idempotencyKey
        let result: AppendResult
        do {
            result = try await served.run(call) { bank in try bank.append(drafts, idempotencyKey: key) }
        } catch let e as BankError {
            throw ErrorMapping.bank(e, field: e.code == .invalidIdempotencyKey || e.code == .idempotencyConflict ? "Idempotency-Key" : e.code == .accessDenied || e.code == .unknownTwin ? nil : "events")
        }
        return .ok(.init(body: .json(APIMapping.appendResult(result))))
    }

    func getState(_ input: Operations.GetState.Input) async throws -> Operations.GetState.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .thread)
        let id = try Self.twinID(input.path.id)
        let q = input.query
        let now = served.base.clock.now()
        let asOf = try Self.instant(q.asOf, "asOf", now, .upper)
        let knownAt = try Self.instant(q.knownAt, "knownAt", now, .instant)
        let code = try q.code.map { try Self.codeKey($0, "code") }
        let category = q.category.map(APIMapping.category)
        let events = try await served.run(call) { bank in try bank.state(of: id, asOf: asOf, knownAt: knownAt, code: code, category: category) }
        return .ok(.init(body: .json(.init(twin: id.rawValue, asOf: asOf?.iso8601, knownAt: knownAt?.iso8601, events: events.map(APIMapping.event)))))
    }

    // MARK: - The caller

    /// What a route touches, as a token's SMART scopes name it (``SMARTScope/grants(_:on:)``).
    enum ScopedResource: Sendable, CustomStringConvertible {
        /// A twin's events: a scope of the access on any type will do, and the bank returns only the events of the
        /// types the token's read scopes name (``TokenIdentity/readRestriction``); a route that writes events checks
        /// each event's type (``checkWrites(_:_:)``).
        case thread
        /// One FHIR resource type: a twin's definition `Patient`, an aggregate `Group`, a consent `Consent`.
        case type(String)
        /// The bank as a whole (version control, jobs, analyses over populations, simulations, releases): a scope on
        /// every type (`*`).
        case bank

        var description: String {
            switch self {
            case .thread: "a twin's records"
            case .type(let t): t
            case .bank: "the bank's resources of every type (a scope on *)"
            }
        }
    }

    /// The request's token and declared purpose, once the token's scopes grant `access` on `resource`; the bank
    /// then acts as the token's subject for that purpose (``ServedBank/run(_:_:)``), narrowed to the event types the
    /// token may read, and its gate decides, and audits, each call. 401 without a token; 403 `insufficientScope`
    /// naming `scope` when no scope grants it; 400 naming `X-Purpose-Of-Use` for a purpose the bank does not know.
    func caller(purpose header: String?, _ access: SMARTScope.Access, _ resource: ScopedResource) throws -> ServedBank.Call {
        try Self.caller(purpose: header, access, resource)
    }

    /// ``caller(purpose:_:_:)`` for a route over the bank as a whole (``ScopedResource/bank``): reading or writing.
    func caller(purpose header: String?, write: Bool) throws -> ServedBank.Call {
        try Self.caller(purpose: header, write ? .write : .read, .bank)
    }

    /// ``caller(purpose:_:_:)`` for the routes outside the API (the FHIR facade, the live link).
    static func caller(purpose header: String?, _ access: SMARTScope.Access, _ resource: ScopedResource) throws -> ServedBank.Call {
        guard let identity = RequestIdentity.current else {
            throw ServerError(.unauthorized, "this route needs a bearer token", field: "Authorization")
        }
        let granted: Bool
        switch resource {
        case .thread: granted = identity.mayOnSomeType(access)
        case .type(let t): granted = identity.may(access, on: t)
        case .bank: granted = identity.may(access, on: "*")
        }
        guard granted else {
            let have = identity.scopes.map(\.description).joined(separator: " ")
            let letters = "cruds".filter { access.letters.contains($0) }
            let example: String
            switch resource {
            case .type(let t): example = "user/\(t).\(letters) or user/*.\(letters)"
            default: example = "user/*.\(letters)"
            }
            throw ServerError(.insufficientScope, "the token's scopes (\(have)) do not allow \(access) \(resource): a scope such as \(example) would", field: "scope")
        }
        let purpose = header.map { $0.trimmingCharacters(in: .whitespaces) } ?? Self.defaultPurpose
        do { _ = try Purpose(parsing: purpose) } catch let e as GovernanceError {
            throw ServerError(.badRequest, e.message, field: "X-Purpose-Of-Use", value: purpose)
        }
        return ServedBank.Call(identity: identity, purpose: purpose)
    }

    /// Refuses (403 `insufficientScope` naming `scope`) a write of events of a resource type no write scope of the
    /// token grants (each event's type as the facade maps it, ``TwinFHIR/FHIRExporter/resourceType(of:)``; a
    /// retraction needs a delete scope on every type); nothing is written.
    static func checkWrites(_ identity: TokenIdentity, _ events: some Sequence<(category: Event.Category, source: Source)>) throws {
        var checked = Set<String>()
        for e in events {
            let type = FHIRExporter.resourceType(category: e.category, source: e.source) ?? "*"
            guard checked.insert(type).inserted else { continue }
            let access: SMARTScope.Access = e.category == .retraction ? .delete : .write
            guard identity.may(access, on: type) else {
                let have = identity.scopes.map(\.description).joined(separator: " ")
                throw ServerError(.insufficientScope, "the token's scopes (\(have)) do not allow \(access) \(type) records, which this write holds: a scope such as user/\(type).c would (nothing was written)", field: "scope", value: type)
            }
        }
    }

    // MARK: - Parameters

    static func pageSize(_ limit: Int32?) throws -> Int {
        guard let limit else { return defaultPageSize }
        guard (1...Int32(pageLimit)).contains(limit) else {
            throw ServerError(.badRequest, "limit must be 1 to \(pageLimit), not \(limit)", field: "limit", value: String(limit))
        }
        return Int(limit)
    }

    static func twinID(_ text: String) throws -> TwinID {
        do { return try TwinID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "id", value: e.value) }
    }

    static func codeKey(_ text: String, _ field: String) throws -> CodeKey {
        do { return try CodeKey(parsing: text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: field, value: text) }
    }

    static func instant(_ text: String?, _ field: String, _ now: Instant, _ bound: TimeExpression.Bound) throws -> Instant? {
        guard let text else { return nil }
        do { return try Instant(parsing: text, relativeTo: now, bound: bound) } catch let e as TwinError {
            throw ServerError(.badRequest, "\(field): \(e.message)", field: field, value: text)
        }
    }

    /// Cursors are opaque to clients: base64url of the position they continue after.
    static func encodeCursor(_ position: String) -> String {
        Data(position.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) -> String? {
        var b = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b).flatMap { String(data: $0, encoding: .utf8) }
    }

    static func badCursor(_ cursor: String) -> ServerError {
        ServerError(.badRequest, "the cursor is not one this route gave: pass the nextCursor of the previous page unchanged", field: "cursor", value: String(cursor.prefix(200)))
    }

    static func twinCursor(_ cursor: String) throws -> String {
        guard let text = decodeCursor(cursor), (try? TwinID(text)) != nil else { throw badCursor(cursor) }
        return text
    }

    static func eventCursor(_ cursor: String) throws -> (effective: Int64, sequence: Int64) {
        guard let text = decodeCursor(cursor) else { throw badCursor(cursor) }
        let parts = text.split(separator: ".")
        guard parts.count == 2, let e = Int64(parts[0]), let s = Int64(parts[1]) else { throw badCursor(cursor) }
        return (e, s)
    }

    // MARK: - ETag

    /// A strong ETag: the first 128 bits of SHA-256 over the definition as served (JSON, sorted keys).
    static func etag(of twin: Components.Schemas.Twin) throws -> String {
        let data = try ErrorMapping.encoder.encode(twin)
        let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
        return "\"\(digest)\""
    }

    /// Whether an `If-None-Match` value (a list of ETags, or `*`) names `etag` (weak comparison, RFC 9110).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            let t = item.trimmingCharacters(in: .whitespaces)
            return t == "*" || (t.hasPrefix("W/") ? String(t.dropFirst(2)) : t) == etag
        }
    }
}
