import TwinBank
import TwinCore

/// The answer of the ``DecisionPoint``.
public enum Decision: Sendable, Hashable, CustomStringConvertible {
    /// Permitted, seeing only what the filter admits (``DataFilter/unrestricted``: everything).
    case permit(DataFilter)
    /// Refused; the reason names the rule or the missing permission.
    case deny(String)

    /// Permitted without restriction.
    public static let permitAll = Decision.permit(.unrestricted)

    public var isPermitted: Bool { if case .permit = self { true } else { false } }
    /// The filter of a permit; nil for a deny.
    public var filter: DataFilter? { if case .permit(let f) = self { f } else { nil } }
    /// The reason of a deny; nil for a permit.
    public var reason: String? { if case .deny(let r) = self { r } else { nil } }

    public var description: String {
        switch self {
        case .permit(let f): f.isUnrestricted ? "permit" : "permit (\(f))"
        case .deny(let r): "deny: \(r)"
        }
    }
}

/// What a decision needs besides the request: the bank's policy, the person's consent (nil: none recorded, or a
/// bank-wide request) and the time of the request.
public struct DecisionContext: Sendable {
    public var policy: Policy
    public var consent: Consent?
    public var now: Instant
    public init(policy: Policy, consent: Consent?, now: Instant) { self.policy = policy; self.consent = consent; self.now = now }
}

/// The one decision point: combines the caller (role, scopes, organisation, linked twins), the declared
/// purpose, the bank's policy and the person's consent into permit, deny or permit with a filter.
///
/// The rules, in order:
/// 1. The purpose must be one the bank knows (``Purpose/init(parsing:)``), and the actor must be one the policy
///    assigns a role; otherwise deny. A request whose credential claims a role
///    (``TwinBank/AccessRequest/claimedRole``) other than the one the policy assigns is denied.
/// 2. The caller's scopes, when it has any, must include the action.
/// 3. Policy: a deny grant covering the request denies; otherwise a permit grant must cover it (role, action,
///    purpose, twin); otherwise deny, naming role, action and purpose.
/// 4. Consent applies to the uses of a person's data (``TwinBank/AccessRequest/Action/uses``) on one twin, except
///    a patient acting on their own twin. Only rules in force at ``DecisionContext/now`` (valid, not expired,
///    not revoked) that concern the request (purpose, actor, organisation, action) apply. **Deny overrides
///    permit**: a deny rule on all the data denies; a deny rule on part of the data excludes that part. For an
///    opt-in purpose (``Policy/optIn``, research and commercial by default) only what permit rules cover may be
///    seen, and no permit rule means deny; for an opt-out purpose everything not denied may be seen.
///
/// A bank-wide request (no twin) is decided by the policy alone; the caller asks again per twin (with the twin
/// named) to apply each person's consent, as aggregates and matches over many people must.
public struct DecisionPoint: Sendable {
    public init() {}

    /// The reason of a deny for a credential that claims a role the policy does not give its actor (rule 1).
    public static func roleClaimRefusal(claimed: String, actor: String, role: Role) -> String {
        "\(roleClaimPrefix)\(claimed) but the bank's policy gives '\(actor)' the role \(role); use a token issued for the role \(role)"
    }
    /// How ``roleClaimRefusal(claimed:actor:role:)`` begins (a server names the token's role as the field at fault).
    public static let roleClaimPrefix = "the token claims the role "

    public func decide(_ request: AccessRequest, _ context: DecisionContext) -> Decision {
        let action = request.action.name
        guard let purpose = try? Purpose(parsing: request.purpose) else {
            return .deny("unknown purpose '\(request.purpose)'")
        }
        guard let caller = context.policy.caller(request.actor) else {
            return .deny("actor '\(request.actor)' has no role in this bank's policy")
        }
        if let claimed = request.claimedRole, claimed != caller.role.rawValue {
            return .deny(Self.roleClaimRefusal(claimed: claimed, actor: caller.id, role: caller.role))
        }
        if !caller.scopes.isEmpty, !caller.scopes.contains(action), !caller.scopes.contains("*") {
            return .deny("actor '\(caller.id)' is not authorised to \(action) (its scopes are \(caller.scopes.sorted().joined(separator: ", ")))")
        }
        let grants = context.policy.grants.filter { $0.covers(caller: caller, action: action, purpose: purpose, twin: request.twin) }
        if let denial = grants.first(where: { $0.effect == .deny }) {
            return .deny("the bank's policy denies it (\(denial))")
        }
        guard grants.contains(where: { $0.effect == .permit }) else {
            let on = request.twin.map { " on twin \($0)" } ?? ""
            return .deny("role \(caller.role) ('\(caller.id)') may not \(action) for \(purpose)\(on) under the bank's policy")
        }
        guard let twin = request.twin, AccessRequest.Action.uses.contains(action),
              !(caller.role == .patient && caller.twins.contains(twin)) else {
            return .permitAll
        }
        return consentDecision(twin: twin, purpose: purpose, caller: caller, action: action, context)
    }

    func consentDecision(twin: TwinID, purpose: Purpose, caller: Caller, action: String, _ context: DecisionContext) -> Decision {
        let rules = (context.consent?.rules(inForceAt: context.now) ?? []).filter { $0.concerns(purpose: purpose, caller: caller, action: action) }
        let denies = rules.filter { $0.effect == .deny }
        if let total = denies.first(where: { $0.data.isEverything }) {
            return .deny("consent rule \(total.id) of twin \(twin) denies \(purpose) use (\(total.summary))")
        }
        let permits = rules.filter { $0.effect == .permit }
        var include: [DataScope]? = nil
        if context.policy.optIn.contains(purpose) && !permits.contains(where: { $0.data.isEverything }) {
            guard !permits.isEmpty else {
                return .deny("\(purpose) use of twin \(twin) needs the person's consent (opt-in) and no consent rule in force permits it")
            }
            include = permits.map(\.data)
        }
        return .permit(DataFilter(include: include, exclude: denies.map(\.data)))
    }
}
