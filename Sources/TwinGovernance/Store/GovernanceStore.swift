import Foundation
import Synchronization
import TwinBank
import TwinCore

/// Where a bank's policy and its people's consents are kept. Implementations: ``MemoryGovernanceStore`` (tests)
/// and ``BankGovernanceStore`` (in the bank itself, over any ``TwinBank/BankStorage``: memory or SQLite).
///
/// Guarantees every implementation gives:
/// - ``updatePolicy(_:)`` and ``updateConsent(for:by:at:_:)`` are all-or-nothing: if the body throws, nothing
///   changed; the new version is durable when they return.
/// - Every change of a consent is a new version (version + 1, linking to the previous one by content hash):
///   ``consentHistory(for:)`` lists them all, oldest first; a revocation never removes a rule.
public protocol GovernanceStore: Sendable {
    /// The bank's current policy, or nil when none was stored.
    func policy() throws -> Policy?
    /// The owner recorded when a policy was first stored (the first admin of the `initial` policy), kept outside
    /// version control: when a branch switch takes the policy out of the working state, the default policy
    /// falls back to this owner, not to whoever acts next.
    func recordedOwner() throws -> String?
    /// The stored policy, else the default for the recorded owner, else for `owner` (one read where the store can).
    func policy(orDefaultFor owner: String) throws -> Policy
    /// Applies `body` to the current policy (or to `initial` when there is none) and stores the result; the first
    /// time, also records the owner (see ``recordedOwner()``).
    @discardableResult
    func updatePolicy(initial: Policy, _ body: (inout Policy) throws -> Void) throws -> Policy
    /// A twin's current consent, or nil when none was recorded.
    func consent(for twin: TwinID) throws -> Consent?
    /// Every version of a twin's consent, oldest first.
    func consentHistory(for twin: TwinID) throws -> [Consent]
    /// Applies `body` to the twin's current consent (an empty one if none) and stores it as the next version,
    /// recorded at `time` by `actor`.
    @discardableResult
    func updateConsent(for twin: TwinID, by actor: String, at time: Instant, _ body: (inout Consent) throws -> Void) throws -> Consent
    /// The current consents of many twins at once (those without one are absent): what a decision per member of
    /// an aggregate needs. ``BankGovernanceStore`` answers in a number of storage queries that does not grow with
    /// the number of twins.
    func consents(for twins: [TwinID]) throws -> [TwinID: Consent]
}

extension GovernanceStore {
    /// By default, one ``consent(for:)`` per twin.
    public func consents(for twins: [TwinID]) throws -> [TwinID: Consent] {
        var out: [TwinID: Consent] = [:]
        for t in twins { if let c = try consent(for: t) { out[t] = c } }
        return out
    }

    /// The decision for one request per twin (the request with each twin in turn): how an aggregate, a match or
    /// an export over many people applies each person's consent. Reads the policy once and the consents in bulk.
    public func decide(_ request: AccessRequest, twins: [TwinID], owner: String, now: Instant, point: DecisionPoint = DecisionPoint()) throws -> [TwinID: Decision] {
        let policy = try policy(orDefaultFor: owner)
        let all = try consents(for: twins)
        var out: [TwinID: Decision] = [:]
        for t in twins {
            var r = request
            r.twin = t
            out[t] = point.decide(r, DecisionContext(policy: policy, consent: all[t], now: now))
        }
        return out
    }

    /// The stored policy, or `Policy.default(owner:)` when the bank has none: with the ``recordedOwner()`` if one was
    /// recorded, else with `owner`.
    public func policy(orDefaultFor owner: String) throws -> Policy {
        if let p = try policy() { return p }
        return .default(owner: try recordedOwner() ?? owner)
    }

    /// The decision for a request: the stored policy (or the default for `owner`), the twin's consent, at `now`.
    public func decide(_ request: AccessRequest, owner: String, now: Instant, point: DecisionPoint = DecisionPoint()) throws -> Decision {
        var personal: Consent? = nil
        if let twin = request.twin { personal = try self.consent(for: twin) }
        return point.decide(request, DecisionContext(policy: try policy(orDefaultFor: owner), consent: personal, now: now))
    }
}

/// A ``GovernanceStore`` in memory, for tests.
public final class MemoryGovernanceStore: GovernanceStore {
    private struct State { var policy: Policy?; var owner: String?; var consents: [TwinID: [Consent]] = [:] }
    private let state = Mutex(State())

    public init(policy: Policy? = nil) { state.withLock { $0.policy = policy } }

    public func policy() throws -> Policy? { state.withLock { $0.policy } }
    public func recordedOwner() throws -> String? { state.withLock { $0.owner } }

    @discardableResult
    public func updatePolicy(initial: Policy, _ body: (inout Policy) throws -> Void) throws -> Policy {
        try state.withLock { s in
            var p = s.policy ?? initial
            try body(&p)
            s.policy = p
            if s.owner == nil { s.owner = initial.firstAdmin }
            return p
        }
    }

    public func consent(for twin: TwinID) throws -> Consent? { state.withLock { $0.consents[twin]?.last } }
    public func consentHistory(for twin: TwinID) throws -> [Consent] { state.withLock { $0.consents[twin] ?? [] } }

    @discardableResult
    public func updateConsent(for twin: TwinID, by actor: String, at time: Instant, _ body: (inout Consent) throws -> Void) throws -> Consent {
        try state.withLock { s in
            let previous = s.consents[twin]?.last
            var c = try ConsentVersioning.next(after: previous, twin: twin, by: actor, at: time, body)
            c.previous = try previous.map { try ObjectCodec.hashed($0).hash.hex }
            s.consents[twin, default: []].append(c)
            return c
        }
    }
}

enum ConsentVersioning {
    /// The next version of a consent: `body` applied to the previous version (or an empty consent).
    static func next(after previous: Consent?, twin: TwinID, by actor: String, at time: Instant, _ body: (inout Consent) throws -> Void) throws -> Consent {
        var c = previous ?? Consent(twin: twin)
        try body(&c)
        guard c.twin == twin else {
            throw GovernanceError(.invalidConsent, "a consent of twin \(c.twin) cannot be stored as twin \(twin)'s", value: c.twin.rawValue)
        }
        c.version = (previous?.version ?? 0) + 1
        c.updated = time
        c.updatedBy = actor
        return c
    }
}

/// The ``GovernanceStore`` of a bank, in the bank's own storage (memory or SQLite) and under its version control:
/// the policy is a content-addressed object (kind `policy`) behind the reference `policy`, each twin's consent one
/// (kind `consent`) behind `consent/TWIN`. A commit records both in its tree, so `log`, `diff` and branches see
/// them; each consent version links to the previous by hash, so its history survives without a commit.
///
/// Decoded objects are cached by content hash (they never change under their hash), so a decision per request
/// costs two reference lookups once the policy and the consent were read.
public struct BankGovernanceStore: GovernanceStore {
    public let storage: any BankStorage
    private let cache = ObjectCache()
    public init(storage: any BankStorage) { self.storage = storage }

    /// The reference of the policy.
    public static let policyRef = "policy"
    /// The reference of a twin's consent.
    public static func consentRef(_ twin: TwinID) -> String { "consent/\(twin.rawValue)" }

    public func policy() throws -> Policy? {
        try storage.read { tx in try load(Policy.self, ref: Self.policyRef, tx) }
    }

    /// The reference of the recorded owner (outside version control: commits do not record it).
    public static let ownerRef = "governance/owner"

    public func recordedOwner() throws -> String? { try storage.read { tx in try tx.ref(Self.ownerRef) } }

    /// The stored policy or the default for the recorded owner (else `owner`), in one read transaction.
    public func policy(orDefaultFor owner: String) throws -> Policy {
        try storage.read { tx in try self.policy(orDefaultFor: owner, tx) }
    }

    /// ``policy(orDefaultFor:)`` within a read transaction of the bank.
    func policy(orDefaultFor owner: String, _ tx: any StorageReader) throws -> Policy {
        try load(Policy.self, ref: Self.policyRef, tx) ?? .default(owner: try tx.ref(Self.ownerRef) ?? owner)
    }

    @discardableResult
    public func updatePolicy(initial: Policy, _ body: (inout Policy) throws -> Void) throws -> Policy {
        try storage.write { tx in
            var p = try load(Policy.self, ref: Self.policyRef, tx) ?? initial
            try body(&p)
            let (h, bytes) = try ObjectCodec.hashed(p)
            try tx.putObject(h, kind: "policy", bytes: bytes)
            try tx.setRef(Self.policyRef, h.hex)
            if try tx.ref(Self.ownerRef) == nil, let owner = initial.firstAdmin { try tx.setRef(Self.ownerRef, owner) }
            return p
        }
    }

    public func consent(for twin: TwinID) throws -> Consent? {
        try storage.read { tx in try load(Consent.self, ref: Self.consentRef(twin), tx) }
    }

    public func consentHistory(for twin: TwinID) throws -> [Consent] {
        try storage.read { tx in
            var out: [Consent] = []
            var next = try tx.ref(Self.consentRef(twin))
            while let hex = next {
                let c = try object(Consent.self, hex: hex, tx)
                out.append(c)
                next = c.previous
            }
            return out.reversed()
        }
    }

    @discardableResult
    public func updateConsent(for twin: TwinID, by actor: String, at time: Instant, _ body: (inout Consent) throws -> Void) throws -> Consent {
        try storage.write { tx in
            let ref = Self.consentRef(twin)
            let previousHex = try tx.ref(ref)
            let previous = try previousHex.map { try object(Consent.self, hex: $0, tx) }
            var c = try ConsentVersioning.next(after: previous, twin: twin, by: actor, at: time, body)
            c.previous = previousHex
            let (h, bytes) = try ObjectCodec.hashed(c)
            try tx.putObject(h, kind: "consent", bytes: bytes)
            try tx.setRef(ref, h.hex)
            return c
        }
    }

    public func consents(for twins: [TwinID]) throws -> [TwinID: Consent] {
        let wanted = Set(twins)
        return try storage.read { tx in
            var hexes: [TwinID: String] = [:]
            for r in try tx.refs(prefix: "consent/") {
                if let t = try? TwinID(String(r.name.dropFirst(8))), wanted.contains(t) { hexes[t] = r.value }
            }
            var out: [TwinID: Consent] = [:]
            var missing: [ContentHash] = []
            for (t, hex) in hexes {
                if let c = cache.get(hex) as? Consent { out[t] = c } else if let h = ContentHash(hex: hex) { missing.append(h) }
            }
            let bytes = try tx.objects(missing)
            for (t, hex) in hexes where out[t] == nil {
                guard let h = ContentHash(hex: hex), let b = bytes[h] else {
                    throw GovernanceError(.storageFailure, "governance object \(hex) is missing from the bank", value: hex)
                }
                let c: Consent
                do { c = try ObjectCodec.decode(Consent.self, from: b) } catch {
                    throw GovernanceError(.storageFailure, "governance object \(hex) cannot be read as a consent: \(error)", value: hex)
                }
                cache.put(hex, c)
                out[t] = c
            }
            return out
        }
    }

    func load<T: Decodable & Sendable>(_ type: T.Type, ref: String, _ tx: any StorageReader) throws -> T? {
        guard let hex = try tx.ref(ref) else { return nil }
        return try object(type, hex: hex, tx)
    }

    func object<T: Decodable & Sendable>(_ type: T.Type, hex: String, _ tx: any StorageReader) throws -> T {
        if let cached = cache.get(hex) as? T { return cached }
        guard let h = ContentHash(hex: hex), let bytes = try tx.object(h) else {
            throw GovernanceError(.storageFailure, "governance object \(hex) is missing from the bank", value: hex)
        }
        let value: T
        do { value = try ObjectCodec.decode(type, from: bytes) } catch {
            throw GovernanceError(.storageFailure, "governance object \(hex) cannot be read as \(T.self): \(error)", value: hex)
        }
        cache.put(hex, value)
        return value
    }
}
