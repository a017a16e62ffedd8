import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// Aggregates made, shown and deleted over HTTP, as `twinbank aggregate create | show --json | delete` make them:
/// ``TwinBank/Bank/createAggregate(_:members:description:replace:)`` or
/// ``TwinBank/Bank/createAggregate(_:where:description:includeForks:replace:)``, ``TwinBank/Bank/members(of:at:asOf:)``
/// and ``TwinBank/Bank/deleteAggregate(_:)``, each asked of the bank's gate (bank-wide `write` or `read`). Like every
/// definition change, a creation or deletion is in the working state at once and recorded by the next commit.
extension TwinAPI {
    func createAggregate(_ input: Operations.CreateAggregate.Input) async throws -> Operations.CreateAggregate.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Group"))
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let id: AggregateID
        do { id = try AggregateID(body.id) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "id", value: e.value) }
        let members = body.members ?? []
        let query = body._where
        // as the command's validation: one of the two ways, forks only for a query
        if members.isEmpty == (query == nil) {
            throw ServerError(.badRequest, "give either `members` (twin ids) or `where` (a query), not both or neither; nothing was written",
                              field: query == nil ? "members" : "where")
        }
        let includeForks = body.includeForks ?? false
        if includeForks && query == nil {
            throw ServerError(.badRequest, "`includeForks` applies to `where` (`members` names its twins, forks too); nothing was written", field: "includeForks")
        }
        let memberIDs = try members.enumerated().map { i, m in try Self.twinID(m, field: "members[\(i)]") }
        if let query, query.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "the query `where` is empty: give an expression such as `kind = person and age > 40`", field: "where")
        }
        let replace = body.replace ?? false
        let description = body.description
        let (existed, membership): (Bool, AggregateMembership)
        do {
            (existed, membership) = try await served.run(call) { bank in
                let existed = try bank.aggregateIDs().contains(id)
                if let query {
                    try bank.createAggregate(id, where: query, description: description, includeForks: includeForks, replace: replace)
                } else {
                    try bank.createAggregate(id, members: memberIDs, description: description, replace: replace)
                }
                return (existed, try bank.members(of: id))
            }
        } catch let e as BankError where e.code == .invalidQuery {
            throw ServerError(ServerError.Code("invalidQuery", .badRequest), e.message + "; nothing was written", field: "where", value: e.value)
        } catch let e as BankError where e.code == .unknownTwin {
            throw ServerError(.badRequest, e.message + "; nothing was written", field: "members", value: e.value)
        } catch let e as BankError where e.code == .duplicateAggregate {
            throw ErrorMapping.bank(e, field: "id")
        }
        let answer = Self.membership(membership)
        if existed && replace { return .ok(.init(body: .json(answer))) }
        return .created(.init(headers: .init(location: "/api/v1/aggregates/\(id.rawValue)"), body: .json(answer)))
    }

    func getAggregate(_ input: Operations.GetAggregate.Input) async throws -> Operations.GetAggregate.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Group"))
        let id = try Self.aggregateID(input.path.id)
        let at = input.query.at
        if let at, at.isEmpty { throw ServerError(.badRequest, "`at` names a commit (an id or prefix, a branch, a tag); leave it out for now", field: "at") }
        let membership: AggregateMembership
        do {
            membership = try await served.run(call) { bank in
                if let at { do { _ = try bank.resolveCommit(at) } catch let e as BankError { throw ErrorMapping.bank(e, field: "at") } }
                return try bank.members(of: id, at: at)
            }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        return .ok(.init(body: .json(Self.membership(membership))))
    }

    func deleteAggregate(_ input: Operations.DeleteAggregate.Input) async throws -> Operations.DeleteAggregate.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .delete, .type("Group"))
        let id = try Self.aggregateID(input.path.id)
        let deleted: AggregateDefinition
        do {
            deleted = try await served.run(call) { bank in try bank.deleteAggregate(id) }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        return .ok(.init(body: .json(Self.aggregate(deleted))))
    }

    static func membership(_ m: AggregateMembership) -> S.AggregateMembership {
        .init(definition: aggregate(m.definition), includeForks: m.definition.includeForks == true ? true : nil,
              members: m.members.map(\.rawValue), asOf: m.asOf.iso8601, commit: m.commit?.hex,
              unknown: m.unknown.map { .init(twin: $0.twin.rawValue, missing: $0.missing) }, forksExcluded: m.forksExcluded)
    }
}
