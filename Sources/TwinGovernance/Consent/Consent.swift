import TwinCore

/// Permit or deny.
public enum Effect: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case permit, deny
    public var description: String { rawValue }
}

/// An interval of time in which something is in force: from `start` (inclusive, open if nil) until `end`
/// (exclusive, open if nil).
public struct Validity: Sendable, Hashable, Codable {
    public var start: Instant?
    public var end: Instant?
    public init(start: Instant? = nil, end: Instant? = nil) { self.start = start; self.end = end }
    public func contains(_ t: Instant) -> Bool {
        if let start, t < start { return false }
        if let end, t >= end { return false }
        return true
    }
}

/// One rule of a person's consent: permit or deny, for some purposes, to some actors or organisations, on some of
/// the data, while the rule is valid and not revoked. Empty lists mean "any".
public struct ConsentRule: Sendable, Hashable, Codable, Identifiable {
    /// The rule's id within the twin's consent (`r1`, `r2`, ... in the order granted).
    public var id: String
    public var effect: Effect
    /// The purposes the rule is about (empty: every purpose).
    public var purposes: Set<Purpose>
    /// The actor ids it is about (empty: any actor).
    public var actors: Set<String>
    /// The organisations it is about (empty: any organisation). An actor matches when the policy assigns them one of these.
    public var organisations: Set<String>
    /// The action names it is about (empty: every use; FHIR `access` reads as read, query, export...).
    public var actions: Set<String>
    /// Which data (everything by default).
    public var data: DataScope
    /// The rule's own validity: it does not apply before `start` nor from `end` (its expiry) on.
    public var validity: Validity
    /// When the rule was recorded.
    public var granted: Instant
    /// When it was revoked, if it was: it stops applying from then on (the rule stays in the history).
    public var revoked: Instant?
    /// Where the rule came from (a FHIR `Consent` id, a command), for the record.
    public var source: String?

    public init(id: String, effect: Effect, purposes: Set<Purpose> = [], actors: Set<String> = [], organisations: Set<String> = [],
                actions: Set<String> = [], data: DataScope = .everything, validity: Validity = .init(), granted: Instant,
                revoked: Instant? = nil, source: String? = nil) {
        self.id = id; self.effect = effect; self.purposes = purposes; self.actors = actors; self.organisations = organisations
        self.actions = actions; self.data = data; self.validity = validity; self.granted = granted; self.revoked = revoked
        self.source = source
    }

    /// Whether the rule is in force at `t`: within its validity, and not revoked at or before `t`.
    public func isInForce(at t: Instant) -> Bool {
        guard validity.contains(t) else { return false }
        if let revoked, revoked <= t { return false }
        return true
    }

    /// Whether the rule is about this request (purpose, actor, organisation, action): the data it covers aside.
    public func concerns(purpose: Purpose, caller: Caller, action: String) -> Bool {
        if !purposes.isEmpty, !purposes.contains(purpose) { return false }
        if !actors.isEmpty, !actors.contains(caller.id) { return false }
        if !organisations.isEmpty, !(caller.organisation.map(organisations.contains) ?? false) { return false }
        if !actions.isEmpty, !actions.contains(action) { return false }
        return true
    }

    /// A one-line account of the rule (`r2 deny research to org:acme on category genomics until 2027-01-01`).
    public var summary: String {
        var s = "\(id) \(effect)"
        s += purposes.isEmpty ? " any purpose" : " " + purposes.sorted().map(\.rawValue).joined(separator: ",")
        if !actors.isEmpty { s += " to " + actors.sorted().joined(separator: ",") }
        if !organisations.isEmpty { s += " to organisation " + organisations.sorted().joined(separator: ",") }
        if !actions.isEmpty { s += " for " + actions.sorted().joined(separator: ",") }
        s += " on " + data.description
        if let e = validity.end { s += " until \(e.iso8601)" }
        if let st = validity.start { s += " from \(st.iso8601)" }
        if let r = revoked { s += " (revoked \(r.iso8601))" }
        return s
    }
}

/// A person's consent: the rules for one twin, as a version. Every change (a grant, a denial, a revocation, an
/// import) makes a new version linking to the previous one, so the whole history is kept.
public struct Consent: Sendable, Hashable, Codable {
    public var twin: TwinID
    /// The rules in the order they were recorded (revoked ones included).
    public var rules: [ConsentRule]
    /// 1 for the first version, then increasing.
    public var version: Int
    /// When this version was recorded, and by whom.
    public var updated: Instant
    public var updatedBy: String
    /// The content hash (hex) of the previous version, nil for the first.
    public var previous: String?

    public init(twin: TwinID, rules: [ConsentRule] = [], version: Int = 0, updated: Instant = .epoch, updatedBy: String = "", previous: String? = nil) {
        self.twin = twin; self.rules = rules; self.version = version; self.updated = updated; self.updatedBy = updatedBy
        self.previous = previous
    }

    /// The rules in force at `t`.
    public func rules(inForceAt t: Instant) -> [ConsentRule] { rules.filter { $0.isInForce(at: t) } }

    /// The id the next rule gets (`r` followed by one more than the highest number used).
    public var nextRuleID: String {
        let n = rules.compactMap { $0.id.hasPrefix("r") ? Int($0.id.dropFirst()) : nil }.max() ?? 0
        return "r\(n + 1)"
    }

    /// Adds a rule, giving it the next id. Returns the id.
    @discardableResult
    public mutating func add(_ rule: ConsentRule) -> String {
        var r = rule
        r.id = nextRuleID
        rules.append(r)
        return r.id
    }

    /// Revokes the rule with this id at `time` (it stays in the history).
    /// - Throws: ``GovernanceError`` `invalidConsent` naming the id when there is no such rule or it is already revoked.
    public mutating func revoke(rule id: String, at time: Instant) throws {
        guard let i = rules.firstIndex(where: { $0.id == id }) else {
            let known = rules.filter { $0.revoked == nil }.map(\.id)
            throw GovernanceError(.invalidConsent, "twin \(twin) has no consent rule '\(id)'" + (known.isEmpty ? " (it has no rules in force)" : " (rules: \(known.joined(separator: ", ")))"), value: id)
        }
        if let r = rules[i].revoked {
            throw GovernanceError(.invalidConsent, "consent rule '\(id)' of twin \(twin) was already revoked at \(r.iso8601)", value: id)
        }
        rules[i].revoked = time
    }

    /// Revokes every rule not yet revoked at `time`. Returns the ids revoked.
    @discardableResult
    public mutating func revokeAll(at time: Instant) -> [String] {
        var ids: [String] = []
        for i in rules.indices where rules[i].revoked == nil { rules[i].revoked = time; ids.append(rules[i].id) }
        return ids
    }
}

// Stored objects are content-addressed: equal values must give equal bytes, so sets are written as sorted arrays.
extension ConsentRule {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(effect, forKey: .effect)
        try c.encode(purposes.sorted(), forKey: .purposes)
        try c.encode(actors.sorted(), forKey: .actors)
        try c.encode(organisations.sorted(), forKey: .organisations)
        try c.encode(actions.sorted(), forKey: .actions)
        try c.encode(data, forKey: .data)
        try c.encode(validity, forKey: .validity)
        try c.encode(granted, forKey: .granted)
        try c.encodeIfPresent(revoked, forKey: .revoked)
        try c.encodeIfPresent(source, forKey: .source)
    }
}
