import TwinBank
import TwinCore

/// One line of a bank's policy table: a role may (or, with ``effect`` deny, may not) do some actions for some
/// purposes, on any twin or only on the twins linked to the actor.
public struct Grant: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which twins a grant covers.
    public enum Subject: String, Sendable, Hashable, Codable {
        /// Any twin (and bank-wide requests).
        case any
        /// Only the twins linked to the actor (``Caller/twins``: a patient's own twins).
        case linked
    }
    public var role: Role
    public var effect: Effect
    /// Action names; `*` means every action.
    public var actions: Set<String>
    /// Purposes; empty means every purpose.
    public var purposes: Set<Purpose>
    public var subject: Subject

    public init(_ role: Role, _ effect: Effect = .permit, actions: Set<String>, purposes: Set<Purpose> = [], subject: Subject = .any) {
        self.role = role; self.effect = effect; self.actions = actions; self.purposes = purposes; self.subject = subject
    }

    /// Whether the grant covers the request (role, action, purpose and twin).
    public func covers(caller: Caller, action: String, purpose: Purpose, twin: TwinID?) -> Bool {
        guard role == caller.role, actions.contains("*") || actions.contains(action) else { return false }
        if !purposes.isEmpty, !purposes.contains(purpose) { return false }
        switch subject {
        case .any: return true
        case .linked: return twin.map(caller.twins.contains) ?? false
        }
    }

    public var description: String {
        let a = actions.contains("*") ? "every action" : actions.sorted().joined(separator: ",")
        let p = purposes.isEmpty ? "any purpose" : purposes.sorted().map(\.rawValue).joined(separator: ",")
        return "\(role) \(effect) \(a) for \(p)" + (subject == .linked ? " on own twins" : "")
    }
}

/// The bank's privacy settings (carried for the release code: the budget of differentially private queries).
public struct PrivacySettings: Sendable, Hashable, Codable {
    /// The privacy budget (epsilon) each requester has per aggregate per window.
    public var epsilonPerAggregate: Double
    /// The window of the budget, in days.
    public var budgetWindowDays: Int
    public init(epsilonPerAggregate: Double = 1, budgetWindowDays: Int = 30) {
        self.epsilonPerAggregate = epsilonPerAggregate; self.budgetWindowDays = budgetWindowDays
    }
}

/// A bank's access policy: who may do what for which purposes (``grants``), who is who (``callers``), which
/// purposes need the person's explicit permission (``optIn``), and the privacy settings.
///
/// Stored in the bank as a content-addressed object behind the reference `policy` and versioned with the rest:
/// a commit records it, a branch may hold its own (see ``BankGovernanceStore``).
public struct Policy: Sendable, Hashable, Codable {
    public var grants: [Grant]
    /// The actors the bank knows, by id.
    public var callers: [String: Caller]
    /// The purposes for which a person's data may be used only with a consent rule permitting it (opt-in); for the
    /// others, use is permitted unless a rule denies it (opt-out).
    public var optIn: Set<Purpose>
    public var privacy: PrivacySettings

    public init(grants: [Grant], callers: [String: Caller] = [:], optIn: Set<Purpose> = [.research, .commercial],
                privacy: PrivacySettings = .init()) {
        self.grants = grants; self.callers = callers; self.optIn = optIn; self.privacy = privacy
    }

    /// The default table:
    /// - patient: read, export, query, simulate, consent and erase (the right to erasure is the person's) on their own
    ///   twins, for any purpose;
    /// - clinician: read, write, simulate, sync and query, for treatment;
    /// - researcher: read, query, aggregate and release (de-identified), for research (and the person's opt-in);
    /// - public-health officer: aggregate, query and release (de-identified), for public health;
    /// - device: write (append observations), for any purpose;
    /// - admin: every action (the policy and erasure included), for any purpose.
    public static let defaultGrants: [Grant] = [
        Grant(.patient, actions: ["read", "export", "query", "simulate", "consent", "erase"], subject: .linked),
        Grant(.clinician, actions: ["read", "write", "simulate", "sync", "query"], purposes: [.treatment]),
        Grant(.researcher, actions: ["read", "query", "aggregate", "release"], purposes: [.research]),
        Grant(.publicHealthOfficer, actions: ["aggregate", "query", "release"], purposes: [.publicHealth]),
        Grant(.device, actions: ["write"]),
        Grant(.admin, actions: ["*"]),
    ]

    /// The policy of a new bank: the default grants, with `owner` as its admin (so whoever made the bank keeps
    /// every command working), research and commercial use opt-in, treatment, public health and the rest
    /// opt-out, epsilon 1 per requester per aggregate per 30 days.
    public static func `default`(owner: String) -> Policy {
        Policy(grants: defaultGrants, callers: [owner: Caller(id: owner, role: .admin)])
    }

    /// The admin with the smallest id, if any (the owner of a default policy).
    public var firstAdmin: String? { callers.values.filter { $0.role == .admin }.map(\.id).min() }

    /// The caller the policy knows by this id, or nil.
    public func caller(_ id: String) -> Caller? { callers[id] }

    /// Assigns a role (and organisation, scopes, linked twins) to an actor, replacing any earlier assignment.
    /// - Throws: ``GovernanceError`` `invalidPolicy` when this would leave the bank without an admin.
    public mutating func assign(_ caller: Caller) throws {
        var next = callers
        next[caller.id] = caller
        guard next.values.contains(where: { $0.role == .admin }) else {
            throw GovernanceError(.invalidPolicy, "cannot make '\(caller.id)' a \(caller.role): the bank would have no admin left", value: caller.id)
        }
        callers = next
    }

    /// Adds a grant (a permit or a deny line of the table) unless the same one is there.
    public mutating func add(_ grant: Grant) {
        if !grants.contains(grant) { grants.append(grant) }
    }
}

// Stored objects are content-addressed: equal values must give equal bytes, so sets are written as sorted arrays.
extension Grant {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(effect, forKey: .effect)
        try c.encode(actions.sorted(), forKey: .actions)
        try c.encode(purposes.sorted(), forKey: .purposes)
        try c.encode(subject, forKey: .subject)
    }
}

extension Policy {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(grants, forKey: .grants)
        try c.encode(callers, forKey: .callers)
        try c.encode(optIn.sorted(), forKey: .optIn)
        try c.encode(privacy, forKey: .privacy)
    }
}
