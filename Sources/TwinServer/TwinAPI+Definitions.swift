import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// Twin definitions (create, update under `If-Match`, forks), the commit log and aggregates: each a thin mapping to
/// the bank calls the command makes (`twin create`, `fork`, `log`, `aggregate list`/`show`).
extension TwinAPI {
    typealias S = Components.Schemas

    // MARK: - Create and update

    func createTwin(_ input: Operations.CreateTwin.Input) async throws -> Operations.CreateTwin.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Patient"))
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let id = try Self.twinID(body.id, field: "id")
        let twin = try Self.definition(id: id, kind: body.kind, attributes: body.attributes?.additionalProperties, parts: body.parts,
                                       origin: body.origin, now: served.base.clock.now())
        let record: TwinRecord
        do {
            record = try await served.run(call) { bank in try bank.createTwin(twin) }
        } catch let e as BankError where e.code == .unknownTwin || e.code == .unknownTemplate {
            // the twin is new: an unknown twin is a part it names
            throw ServerError(.badRequest, e.message, field: "parts", value: e.value)
        }
        let created = APIMapping.twin(record)
        return .created(.init(headers: .init(eTag: try Self.etag(of: created), location: "/api/v1/twins/\(id.rawValue)"), body: .json(created)))
    }

    func updateTwin(_ input: Operations.UpdateTwin.Input) async throws -> Operations.UpdateTwin.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Patient"))
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let change = try Self.definition(id: id, kind: body.kind, attributes: body.attributes?.additionalProperties, parts: body.parts,
                                         origin: body.origin, now: served.base.clock.now())
        let ifMatch = input.headers.ifMatch
        let record: TwinRecord
        do {
            record = try await Self.update(served, call, id, ifMatch: ifMatch, change: change)
        } catch let e as BankError where e.code == .unknownTwin && e.value != id.rawValue {
            throw ServerError(.badRequest, e.message, field: "parts", value: e.value)
        }
        let updated = APIMapping.twin(record)
        return .ok(.init(headers: .init(eTag: try Self.etag(of: updated)), body: .json(updated)))
    }

    static func update(_ served: ServedBank, _ call: ServedBank.Call, _ id: TwinID, ifMatch: String?, change: Twin) async throws -> TwinRecord {
        try await served.run(call) { bank in
            // the ETag check and the write under one lock: two updates from the same ETag cannot both pass (in this process)
            try served.definitionLock.withLock { _ throws -> TwinRecord in
                let current = try bank.twin(id)
                guard let ifMatch else {
                    throw ServerError(.preconditionRequired, "updating a twin needs `If-Match: ETAG` with the ETag of the definition you changed (GET the twin for it); nothing was written", field: "If-Match")
                }
                let etag = try Self.etag(of: APIMapping.twin(current))
                guard Self.matchesStrongly(ifMatch, etag) else {
                    throw ServerError(.preconditionFailed, "the twin changed since that ETag was read (it is now \(etag)): read it again and reapply the change; nothing was written", field: "If-Match", value: ifMatch)
                }
                var twin = current.twin
                twin.kind = change.kind; twin.attributes = change.attributes; twin.parts = change.parts; twin.origin = change.origin
                return try bank.updateTwin(twin)
            }
        }
    }

    /// Whether an `If-Match` value (a list of ETags, or `*`) names `etag` by the strong comparison RFC 9110 asks of
    /// `If-Match`: a weak ETag (`W/"..."`) never matches.
    static func matchesStrongly(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            let t = item.trimmingCharacters(in: .whitespaces)
            return t == "*" || t == etag
        }
    }

    /// A twin definition from the contract's fields; errors name the body field.
    static func definition(id: TwinID, kind: S.TwinKind, attributes: [String: S.Value]?, parts: [S.TwinPart]?, origin: String?, now: Instant) throws -> Twin {
        guard let kind = Twin.Kind(rawValue: kind.rawValue) else {
            throw ServerError(.badRequest, "unknown twin kind '\(kind.rawValue)'", field: "kind", value: kind.rawValue)
        }
        var values: [String: Value] = [:]
        for (key, v) in attributes ?? [:] {
            guard !key.isEmpty, !key.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw ServerError(.badRequest, "attribute names are words without spaces, not '\(key)'", field: "attributes", value: key)
            }
            do { values[key] = try APIMapping.value(v, field: "attributes.\(key)", now: now) } catch let e as TwinError {
                throw ServerError(.badRequest, "attributes.\(key): \(e.message)", field: "attributes.\(key)", value: e.value)
            }
        }
        let parts = try (parts ?? []).enumerated().map { i, p in
            Twin.Part(role: p.role, twin: try twinID(p.twin, field: "parts[\(i)].twin"))
        }
        var twin = Twin(id: id, kind: kind, attributes: values, parts: parts)
        if let origin { twin.origin = try instant(origin, "origin", now, .instant) }
        return twin
    }

    static func twinID(_ text: String, field: String) throws -> TwinID {
        do { return try TwinID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: field, value: e.value) }
    }

    // MARK: - Forks

    func listForks(_ input: Operations.ListForks.Input) async throws -> Operations.ListForks.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Patient"))
        let id = try Self.twinID(input.path.id)
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { try Self.twinCursor($0) }
        let forks = try await served.run(call) { bank in try bank.forks(of: id) }
        let (page, next) = Self.page(forks, key: \.rawValue, after: after, limit: limit)
        return .ok(.init(body: .json(.init(items: page.map { .init(id: $0.rawValue) }, nextCursor: next))))
    }

    func createFork(_ input: Operations.CreateFork.Input) async throws -> Operations.CreateFork.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let newID = try Self.twinID(body.id, field: "id")
        guard let at = try Self.instant(body.at, "at", served.base.clock.now(), .instant) else { throw ServerError(.badRequest, "the fork point is missing", field: "at") }
        let record: TwinRecord
        do {
            record = try await served.run(call) { bank in try bank.fork(id, at: at, as: newID) }
        } catch let e as BankError where e.code == .invalidFork || e.code == .beforeTwinExisted {
            throw ErrorMapping.bank(e, field: "at")
        }
        return .created(.init(headers: .init(location: "/api/v1/twins/\(newID.rawValue)"), body: .json(APIMapping.twin(record))))
    }

    // MARK: - Commits

    func listCommits(_ input: Operations.ListCommits.Input) async throws -> Operations.ListCommits.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let limit = try Self.pageSize(input.query.limit)
        let from = input.query.from
        let skip = try input.query.cursor.map { c -> Int in
            guard let text = Self.decodeCursor(c), let n = Int(text), n > 0 else { throw Self.badCursor(c) }
            return n
        } ?? 0
        let commits: [CommitInfo]
        do {
            commits = try await served.run(call) { bank in try bank.log(from) }
        } catch let e as BankError where e.code == .unknownCommit || e.code == .ambiguousCommit {
            throw ErrorMapping.bank(e, field: "from")
        }
        // newest first; the cursor is the count already served (a log only grows at its newest end, so a page of
        // an older position stays the same unless the log is read from another head)
        let page = Array(commits.dropFirst(skip).prefix(limit))
        let next = commits.count > skip + limit ? Self.encodeCursor(String(skip + limit)) : nil
        return .ok(.init(body: .json(.init(items: page.map(Self.commitSummary), nextCursor: next))))
    }

    func getDiff(_ input: Operations.GetDiff.Input) async throws -> Operations.GetDiff.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard let from = input.query.from, !from.isEmpty else {
            throw ServerError(.badRequest, "name the commit to compare from: ?from=COMMIT (an id or prefix, a branch, a tag, HEAD~1)", field: "from")
        }
        let to = input.query.to ?? "HEAD"
        // each side resolved first, so the error names the one that does not resolve
        let d = try await served.run(call) { bank in
            do { _ = try bank.resolveCommit(from) } catch let e as BankError { throw ErrorMapping.bank(e, field: "from") }
            do { _ = try bank.resolveCommit(to) } catch let e as BankError { throw ErrorMapping.bank(e, field: "to") }
            return try bank.diff(from, to)
        }
        let changed = d.changed.map { c in
            S.DiffChange(path: c.path, fields: c.fields,
                         attributes: c.attributes.map { .init(key: $0.key, old: $0.old.map(APIMapping.value), new: $0.new.map(APIMapping.value)) })
        }
        return .ok(.init(body: .json(.init(from: d.from.hex, to: d.to.hex, fromPin: d.fromPin, toPin: d.toPin, added: d.added, removed: d.removed,
                                           changed: changed, eventsPerTwin: .init(additionalProperties: d.eventsPerTwin)))))
    }

    // MARK: - Aggregates

    static func aggregate(_ a: AggregateDefinition) -> S.Aggregate {
        .init(id: a.id.rawValue, query: a.query, members: a.members?.map(\.rawValue), description: a.description)
    }

    func listAggregates(_ input: Operations.ListAggregates.Input) async throws -> Operations.ListAggregates.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Group"))
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { c -> String in
            guard let text = Self.decodeCursor(c), (try? AggregateID(text)) != nil else { throw Self.badCursor(c) }
            return text
        }
        let all = try await served.run(call) { bank in try bank.aggregates() }
        let (page, next) = Self.page(all, key: \.id.rawValue, after: after, limit: limit)
        return .ok(.init(body: .json(.init(items: page.map(Self.aggregate), nextCursor: next))))
    }

    func listAggregateMembers(_ input: Operations.ListAggregateMembers.Input) async throws -> Operations.ListAggregateMembers.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Group"))
        let id = try Self.aggregateID(input.path.id)
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { try Self.twinCursor($0) }
        let m = try await served.run(call) { bank in try bank.members(of: id) }
        let (page, next) = Self.page(m.members, key: \.rawValue, after: after, limit: limit)
        return .ok(.init(body: .json(.init(aggregate: Self.aggregate(m.definition), total: m.members.count, unknown: m.unknown.count,
                                           items: page.map { .init(id: $0.rawValue) }, nextCursor: next))))
    }

    static func aggregateID(_ text: String) throws -> AggregateID {
        do { return try AggregateID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "id", value: e.value) }
    }
}
