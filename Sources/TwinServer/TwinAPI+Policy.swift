import Foundation
import TwinBank
import TwinCore
import TwinGovernance
import TwinServerAPI

/// The `policy` commands as routes (`show`, `set-role`, `allow`/`deny`, `configure`), for a token the gate lets
/// `administer` the bank. Each asks the served gate first with the token's claimed role (so a token claiming a role
/// the policy does not give is refused, naming `role`), then ``TwinGovernance/Governance`` changes the policy, which
/// decides again as the library always does.
extension TwinAPI {
    func getPolicy(_ input: Operations.GetPolicy.Input) async throws -> Operations.GetPolicy.Output {
        let call = try caller(purpose: nil, write: false)
        let owner = served.gate.owner
        let policy = try await served.run(call) { bank in
            try bank.authorize(.administer, nil)
            let g = Governance(bank: bank, actor: call.identity.subject, owner: owner)
            return (try g.policy(), try g.hasStoredPolicy(), try g.effectiveOwner())
        }
        return .ok(.init(body: .json(Self.policy(policy.0, stored: policy.1, owner: policy.2))))
    }

    func assignPolicyRole(_ input: Operations.AssignPolicyRole.Input) async throws -> Operations.AssignPolicyRole.Output {
        let call = try caller(purpose: nil, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let actor = input.path.actor
        guard !actor.isEmpty, !actor.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ServerError(.badRequest, "actor: an actor id (a token's subject) without spaces", field: "actor", value: actor)
        }
        let role = try Self.role(body.role, "role")
        let scopes = try Self.actions(body.scopes ?? [], "scopes", wildcard: false)
        let twins = try Set((body.twins ?? []).enumerated().map { i, t throws -> TwinID in
            do { return try TwinID(t) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "twins[\(i)]", value: t) }
        })
        if let o = body.organisation, o.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "organisation: give the organisation's name, or leave the field out", field: "organisation", value: o)
        }
        let assigned = Caller(id: actor, role: role, organisation: body.organisation, scopes: scopes, twins: twins)
        let owner = served.gate.owner
        let policy: Policy
        do {
            policy = try await served.run(call) { bank in
                try bank.authorize(.administer, nil)
                return try Governance(bank: bank, actor: call.identity.subject, owner: owner).assign(assigned)
            }
        } catch let e as GovernanceError where e.code == .invalidPolicy {
            throw ServerError(ServerError.Code("noAdminLeft", .conflict), e.message, field: "role", value: e.value)
        }
        return .ok(.init(body: .json(Self.policyCaller(policy.caller(actor) ?? assigned))))
    }

    func addPolicyRule(_ input: Operations.AddPolicyRule.Input) async throws -> Operations.AddPolicyRule.Output {
        let call = try caller(purpose: nil, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let role = try Self.role(body.role, "role")
        guard !body.actions.isEmpty else {
            throw ServerError(.badRequest, "actions: name at least one action (or \"*\" for every action)", field: "actions")
        }
        let actions = try Self.actions(body.actions, "actions", wildcard: true)
        let purposes = try Self.purposes(body.purposes, "purposes")
        let grant = Grant(role, body.effect == .permit ? .permit : .deny, actions: actions, purposes: purposes,
                          subject: body.ownTwins == true ? .linked : .any)
        let owner = served.gate.owner
        let (policy, owner2) = try await served.run(call) { bank in
            try bank.authorize(.administer, nil)
            let g = Governance(bank: bank, actor: call.identity.subject, owner: owner)
            return (try g.add(grant), try g.effectiveOwner())
        }
        return .created(.init(body: .json(Self.policy(policy, stored: true, owner: owner2))))
    }

    func configurePolicy(_ input: Operations.ConfigurePolicy.Input) async throws -> Operations.ConfigurePolicy.Output {
        let call = try caller(purpose: nil, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let optIn = try Self.purposes(body.optIn, "optIn")
        let optOut = try Self.purposes(body.optOut, "optOut")
        if optIn.isEmpty, optOut.isEmpty, body.epsilon == nil, body.budgetWindowDays == nil {
            throw ServerError(.badRequest, "nothing to configure: give optIn, optOut, epsilon or budgetWindowDays", field: "body")
        }
        if let both = optIn.intersection(optOut).sorted().first {
            throw ServerError(.badRequest, "purpose \(both) cannot be both opt-in and opt-out", field: "optOut", value: both.rawValue)
        }
        if let e = body.epsilon, !(e.isFinite && e > 0) {
            throw ServerError(.badRequest, "epsilon: the privacy budget must be a positive number, not \(e)", field: "epsilon", value: "\(e)")
        }
        if let d = body.budgetWindowDays, d < 1 {
            throw ServerError(.badRequest, "budgetWindowDays: the privacy budget's window is at least one day, not \(d)", field: "budgetWindowDays", value: "\(d)")
        }
        let owner = served.gate.owner
        let (policy, owner2) = try await served.run(call) { bank in
            try bank.authorize(.administer, nil)
            let g = Governance(bank: bank, actor: call.identity.subject, owner: owner)
            return (try g.configure(optIn: optIn, optOut: optOut, epsilon: body.epsilon, budgetWindowDays: body.budgetWindowDays), try g.effectiveOwner())
        }
        return .ok(.init(body: .json(Self.policy(policy, stored: true, owner: owner2))))
    }

    /// Action names as the policy keeps them (`*` too, with `wildcard`); a name the bank does not know is a 400 naming
    /// `field[i]`.
    static func actions(_ texts: [String], _ field: String, wildcard: Bool) throws -> Set<String> {
        var out: Set<String> = []
        for (i, a) in texts.enumerated() {
            if wildcard, a == "*" { out.insert(a); continue }
            do { out.insert(try AccessRequest.Action.parsing(a).name) } catch let e as GovernanceError {
                throw ServerError(.badRequest, e.message, field: "\(field)[\(i)]", value: a)
            }
        }
        return out
    }

    static func role(_ text: String, _ field: String) throws -> Role {
        do { return try Role(parsing: text) } catch let e as GovernanceError { throw ServerError(.badRequest, e.message, field: field, value: text) }
    }

    static func purposes(_ texts: [String]?, _ field: String) throws -> Set<Purpose> {
        var out: Set<Purpose> = []
        for (i, p) in (texts ?? []).enumerated() {
            do { out.insert(try Purpose(parsing: p)) } catch let e as GovernanceError {
                throw ServerError(.badRequest, e.message, field: "\(field)[\(i)]", value: p)
            }
        }
        return out
    }

    static func policyCaller(_ c: Caller) -> S.PolicyCaller {
        .init(id: c.id, role: c.role.rawValue, organisation: c.organisation, scopes: c.scopes.isEmpty ? nil : c.scopes.sorted(),
              twins: c.twins.isEmpty ? nil : c.twins.map(\.rawValue).sorted())
    }

    static func policy(_ p: Policy, stored: Bool, owner: String) -> S.Policy {
        .init(stored: stored, owner: owner, callers: .init(additionalProperties: p.callers.mapValues(policyCaller)),
              grants: p.grants.map { g in
                  .init(role: g.role.rawValue, effect: g.effect == .permit ? .permit : .deny, actions: g.actions.sorted(),
                        purposes: g.purposes.map(\.rawValue).sorted(), subject: g.subject == .linked ? .linked : .any, summary: g.description)
              },
              optIn: p.optIn.map(\.rawValue).sorted(),
              privacy: .init(epsilonPerAggregate: p.privacy.epsilonPerAggregate, budgetWindowDays: p.privacy.budgetWindowDays))
    }
}
