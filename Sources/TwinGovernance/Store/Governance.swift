import TwinBank
import TwinCore

/// The governance operations on one bank, for one acting actor: changing a person's consent and the bank's
/// policy, each authorised by the ``DecisionPoint`` first (changing a twin's consent is the action `consent` on
/// that twin, which the default policy gives the patient on their own twins and the admin; changing the
/// policy is `administer`, the admin's). A refused change throws ``GovernanceError`` `accessDenied` naming the
/// reason and changes nothing.
///
/// While a bank has no stored policy, ``Policy/default(owner:)`` stands for it, with the owner the store recorded
/// when a policy was first stored, else ``owner`` (the bank's creator is its admin); the first policy change
/// stores it.
public struct Governance: Sendable {
    public let bank: Bank
    public let store: any GovernanceStore
    /// Who acts (the ``TwinBank/AccessRequest`` actor).
    public let actor: String
    /// Whom the default policy makes admin while the bank has none stored.
    public let owner: String
    public let clock: any Clock

    /// - Parameters:
    ///   - store: where the policy and consents are (default: in the bank itself, ``BankGovernanceStore``).
    public init(bank: Bank, actor: String, owner: String? = nil, store: (any GovernanceStore)? = nil, clock: (any Clock)? = nil) {
        self.bank = bank
        self.actor = actor
        self.owner = owner ?? actor
        self.store = store ?? BankGovernanceStore(storage: bank.storage)
        self.clock = clock ?? bank.clock
    }

    /// The bank's policy (the default for ``effectiveOwner()`` when none is stored).
    public func policy() throws -> Policy { try store.policy(orDefaultFor: owner) }

    /// The owner the default policy uses: the recorded one, else ``owner``.
    public func effectiveOwner() throws -> String { try store.recordedOwner() ?? owner }

    /// Whether the bank has stored a policy (rather than using the default).
    public func hasStoredPolicy() throws -> Bool { try store.policy() != nil }

    /// Decides a request of ``actor`` now.
    public func decide(_ action: AccessRequest.Action, twin: TwinID?, purpose: String) throws -> Decision {
        try store.decide(AccessRequest(actor: actor, action: action, twin: twin, purpose: purpose), owner: owner, now: clock.now())
    }

    /// Throws ``GovernanceError`` `accessDenied` unless ``actor`` may do `action` (for the bank's operations).
    /// When the bank is governed by a ``GovernedGate``, the request goes through it (decided and audited; a deny
    /// is then ``TwinBank/BankError`` `accessDenied`).
    public func authorize(_ action: AccessRequest.Action, twin: TwinID?) throws {
        if bank.gate is GovernedGate {
            try bank.acting(as: actor, purpose: Purpose.operations.rawValue).authorize(action, twin)
            return
        }
        let d = try decide(action, twin: twin, purpose: Purpose.operations.rawValue)
        if let reason = d.reason {
            throw GovernanceError(.accessDenied, "access denied: \(reason)", value: actor)
        }
    }

    // MARK: Consent

    /// A twin's current consent (an empty one, version 0, when none was recorded).
    /// - Throws: ``TwinBank/BankError`` `unknownTwin`; ``GovernanceError`` `accessDenied` unless the actor may manage
    ///   the twin's consent (action `consent`: the patient on their own twin, the admin).
    public func consent(of twin: TwinID) throws -> Consent {
        _ = try bank.twin(twin)
        try authorize(.consent, twin: twin)
        return try store.consent(for: twin) ?? Consent(twin: twin)
    }

    /// Every version of a twin's consent, oldest first.
    public func consentHistory(of twin: TwinID) throws -> [Consent] {
        _ = try bank.twin(twin)
        try authorize(.consent, twin: twin)
        return try store.consentHistory(for: twin)
    }

    /// Records rules in a twin's consent (one new version), numbering them. `granted` of each rule is set to now
    /// unless the rules come with their own (an import keeps the `dateTime` of the FHIR Consent).
    /// - Returns: the new version and the ids given.
    /// - Throws: ``TwinBank/BankError`` `unknownTwin`; ``GovernanceError`` `accessDenied`, `invalidConsent` (a rule
    ///   that expires before it starts, a data period that ends before it starts, no rules).
    @discardableResult
    public func record(_ rules: [ConsentRule], twin: TwinID, keepGrantedTimes: Bool = false) throws -> (consent: Consent, ids: [String]) {
        _ = try bank.twin(twin)
        try authorize(.consent, twin: twin)
        guard !rules.isEmpty else { throw GovernanceError(.invalidConsent, "no consent rule to record for twin \(twin)", value: twin.rawValue) }
        for r in rules { try Self.check(r) }
        let now = clock.now()
        var ids: [String] = []
        let c = try store.updateConsent(for: twin, by: actor, at: now) { c in
            for var r in rules {
                if !keepGrantedTimes { r.granted = now }
                ids.append(c.add(r))
            }
        }
        return (c, ids)
    }

    static func check(_ r: ConsentRule) throws {
        if let s = r.validity.start, let e = r.validity.end, e <= s {
            throw GovernanceError(.invalidConsent, "a consent rule valid from \(s.iso8601) must expire after it, not at \(e.iso8601)", value: e.iso8601)
        }
        if let p = r.data.period, let f = p.from, let t = p.to, t <= f {
            throw GovernanceError(.invalidConsent, "the data period of a consent rule must end after it starts (\(f.iso8601) to \(t.iso8601))", value: t.iso8601)
        }
    }

    /// Revokes one rule (`rule` given) or every rule in force (nil) of a twin's consent, as a new version: the
    /// rules stay in the history and stop applying from now.
    /// - Returns: the new version and the ids revoked.
    /// - Throws: ``GovernanceError`` `invalidConsent` naming an unknown or already revoked rule, or when there is
    ///   nothing to revoke; `accessDenied`.
    @discardableResult
    public func revoke(twin: TwinID, rule: String?) throws -> (consent: Consent, ids: [String]) {
        _ = try bank.twin(twin)
        try authorize(.consent, twin: twin)
        let now = clock.now()
        var ids: [String] = []
        let c = try store.updateConsent(for: twin, by: actor, at: now) { c in
            if let rule {
                try c.revoke(rule: rule, at: now)
                ids = [rule]
            } else {
                ids = c.revokeAll(at: now)
                guard !ids.isEmpty else {
                    throw GovernanceError(.invalidConsent, "twin \(twin) has no consent rule left to revoke", value: twin.rawValue)
                }
            }
        }
        return (c, ids)
    }

    // MARK: Policy

    /// Assigns a role to an actor (replacing an earlier assignment), storing the policy.
    /// - Throws: ``GovernanceError`` `accessDenied` unless the actor may `administer`; `invalidPolicy` when no admin would be left.
    @discardableResult
    public func assign(_ caller: Caller) throws -> Policy {
        try authorize(.administer, twin: nil)
        return try store.updatePolicy(initial: .default(owner: try effectiveOwner())) { try $0.assign(caller) }
    }

    /// Changes the policy's settings: purposes made opt-in (a person's permit needed) or opt-out (permitted
    /// unless denied), and the privacy budget (epsilon per requester per aggregate, window in days).
    /// - Throws: ``GovernanceError`` `accessDenied` unless the actor may `administer`; `invalidPolicy` naming a
    ///   purpose given both ways, an epsilon that is not a positive finite number or a window under one day.
    @discardableResult
    public func configure(optIn: Set<Purpose> = [], optOut: Set<Purpose> = [], epsilon: Double? = nil, budgetWindowDays: Int? = nil) throws -> Policy {
        if let both = optIn.intersection(optOut).sorted().first {
            throw GovernanceError(.invalidPolicy, "purpose \(both) cannot be both opt-in and opt-out", value: both.rawValue)
        }
        if let epsilon, !(epsilon.isFinite && epsilon > 0) {
            throw GovernanceError(.invalidPolicy, "the privacy budget epsilon must be a positive number, not \(epsilon)", value: "\(epsilon)")
        }
        if let budgetWindowDays, budgetWindowDays < 1 {
            throw GovernanceError(.invalidPolicy, "the privacy budget window must be at least one day, not \(budgetWindowDays)", value: "\(budgetWindowDays)")
        }
        try authorize(.administer, twin: nil)
        return try store.updatePolicy(initial: .default(owner: try effectiveOwner())) { p in
            p.optIn.formUnion(optIn)
            p.optIn.subtract(optOut)
            if let epsilon { p.privacy.epsilonPerAggregate = epsilon }
            if let budgetWindowDays { p.privacy.budgetWindowDays = budgetWindowDays }
        }
    }

    /// Adds a line to the policy table (a permit with `allow`, a deny with `deny`), storing the policy.
    /// - Throws: ``GovernanceError`` `accessDenied` unless the actor may `administer`.
    @discardableResult
    public func add(_ grant: Grant) throws -> Policy {
        try authorize(.administer, twin: nil)
        return try store.updatePolicy(initial: .default(owner: try effectiveOwner())) { $0.add(grant) }
    }
}
