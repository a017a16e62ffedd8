import Foundation
import TwinBank
import TwinCore

/// A privacy budget: at most ``epsilon`` spent per requester per aggregate over any rolling ``window``
/// (by default epsilon 1 per 30 days, the bank policy's setting).
public struct PrivacyBudget: Sendable, Hashable, Codable {
    public var epsilon: Double
    /// The rolling window, in seconds.
    public var windowSeconds: Double
    public static let standard = PrivacyBudget(epsilon: 1, windowSeconds: 30 * 86_400)
    public init(epsilon: Double, windowSeconds: Double) { self.epsilon = epsilon; self.windowSeconds = windowSeconds }
}

/// One spend recorded in the ledger.
public struct PrivacySpend: Sendable, Hashable, Codable {
    public var time: Instant
    /// Epsilon in millionths (rounded up from what was asked), so sums are exact.
    public var microEpsilon: Int64
    /// What was asked (`count`, `sum loinc:...`, `histogram sex`), for the requester's own account.
    public var query: String
    public var epsilon: Double { Double(microEpsilon) / 1_000_000 }
}

/// Where a requester stands for an aggregate.
public struct BudgetState: Sendable, Hashable, Codable {
    public var requester: String
    public var aggregate: String
    public var limit: Double
    /// Spent within the window ending now.
    public var spent: Double
    public var remaining: Double
}

/// The durable privacy-budget ledger of a bank.
///
/// Storage choice: content-addressed objects behind one ref per requester and aggregate
/// (`privacy/REQUESTER/AGGREGATE` -> the hash of a ``Ledger`` object holding every spend and the hash of the ledger it
/// replaced). That needs no new table or migration, works the same on every ``BankStorage`` (memory and SQLite), is
/// written in the same transaction that checks it, and keeps the history tamper-evident (a chain of hashes). The ref is
/// outside `twin/` and `aggregate/`, so commits, forks and exports do not carry it.
///
/// Promises of ``spend(requester:aggregate:epsilon:query:)``:
/// - In one storage transaction it sums the spends within the window ending now and either records the new spend
///   (durably, before the caller draws any noise) or refuses with ``GovernanceError/Code/budgetExhausted`` naming the
///   requester, the aggregate, the epsilon spent and what remains; a refusal records nothing.
/// - Epsilon is charged rounded up to a millionth, so the ledger never undercounts.
public struct PrivacyLedger: Sendable {
    public let storage: any BankStorage
    public let budget: PrivacyBudget
    public let clock: any Clock

    public init(storage: any BankStorage, budget: PrivacyBudget = .standard, clock: any Clock = SystemClock()) {
        self.storage = storage; self.budget = budget; self.clock = clock
    }

    /// The stored form: every spend, and the ledger object this one replaced.
    public struct Ledger: Sendable, Hashable, Codable {
        public var previous: String?
        public var spends: [PrivacySpend]
    }

    /// The ref of a requester's ledger for an aggregate.
    /// - Throws: ``GovernanceError`` `invalidRelease` when the requester is empty or has characters other than
    ///   letters, digits and `. _ @ -`.
    public static func ref(requester: String, aggregate: String) throws -> String {
        let ok = !requester.isEmpty && requester.count <= 200 && requester.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || "._@-".unicodeScalars.contains($0)
        }
        guard ok else {
            throw GovernanceError(.invalidRelease, "the requester '\(requester)' must be letters, digits and . _ @ - only", value: requester)
        }
        return "privacy/\(requester)/\(aggregate)"
    }

    /// Where the requester stands now.
    public func state(requester: String, aggregate: String) throws -> BudgetState {
        let ref = try Self.ref(requester: requester, aggregate: aggregate)
        return try storage.read { tx in
            try self.state(requester: requester, aggregate: aggregate, ledger: self.load(ref, tx))
        }
    }

    /// Records a spend of `epsilon`, or refuses it (see the type's promises). Returns the state after the spend.
    @discardableResult
    public func spend(requester: String, aggregate: String, epsilon: Double, query: String) throws -> BudgetState {
        guard epsilon.isFinite, epsilon > 0, epsilon <= 1000 else {
            throw GovernanceError(.invalidRelease, "epsilon must be a positive number up to 1000, not \(epsilon)", value: String(epsilon))
        }
        let ref = try Self.ref(requester: requester, aggregate: aggregate)
        let micro = Self.micro(epsilon, rounding: .up)
        let now = clock.now()
        return try storage.write { tx in
            var ledger = try self.load(ref, tx)
            let before = self.state(requester: requester, aggregate: aggregate, ledger: ledger, now: now)
            let spentMicro = self.spentMicro(ledger, now: now)
            guard spentMicro + micro <= Self.micro(budget.epsilon, rounding: .down) else {
                throw GovernanceError(
                    .budgetExhausted,
                    "the privacy budget of '\(requester)' for aggregate '\(aggregate)' is exhausted: epsilon \(Self.format(before.spent)) of \(Self.format(budget.epsilon)) spent in the last \(Self.days(budget.windowSeconds)), \(Self.format(before.remaining)) remains, \(Self.format(epsilon)) asked (nothing was computed)",
                    value: requester)
            }
            let previous = try tx.ref(ref)
            ledger.previous = previous
            ledger.spends.append(PrivacySpend(time: now, microEpsilon: micro, query: query))
            let (hash, bytes) = try ObjectCodec.hashed(ledger)
            try tx.putObject(hash, kind: "privacy-ledger", bytes: bytes)
            try tx.setRef(ref, hash.hex)
            return self.state(requester: requester, aggregate: aggregate, ledger: ledger, now: now)
        }
    }

    private func load(_ ref: String, _ tx: any StorageReader) throws -> Ledger {
        guard let hex = try tx.ref(ref) else { return Ledger(previous: nil, spends: []) }
        guard let hash = ContentHash(hex: hex), let bytes = try tx.object(hash) else {
            throw GovernanceError(.storageFailure, "the privacy ledger '\(ref)' points at a missing object \(hex)", value: ref)
        }
        guard EventHasher.sha256(bytes) == hash else {
            throw GovernanceError(.storageFailure, "the privacy ledger '\(ref)' does not match its hash \(hex)", value: ref)
        }
        return try ObjectCodec.decode(Ledger.self, from: bytes)
    }

    private func spentMicro(_ ledger: Ledger, now: Instant) -> Int64 {
        let start = now.advanced(bySeconds: -budget.windowSeconds)
        return ledger.spends.filter { $0.time > start }.reduce(0) { $0 + $1.microEpsilon }
    }

    private func state(requester: String, aggregate: String, ledger: Ledger, now: Instant? = nil) -> BudgetState {
        let spent = Double(spentMicro(ledger, now: now ?? clock.now())) / 1_000_000
        return BudgetState(requester: requester, aggregate: aggregate, limit: budget.epsilon, spent: spent,
                           remaining: max(0, Double(Self.micro(budget.epsilon, rounding: .down)) / 1_000_000 - spent))
    }

    /// Epsilon in millionths: the nearest whole number when within 10^-6 of one (0.3 x 10^6 is 299999.99999999994 in
    /// binary), else rounded as asked (up for a charge, down for a limit).
    static func micro(_ epsilon: Double, rounding: FloatingPointRoundingRule) -> Int64 {
        let x = epsilon * 1_000_000
        let nearest = x.rounded()
        return Int64(abs(x - nearest) < 1e-6 ? nearest : x.rounded(rounding))
    }

    static func format(_ x: Double) -> String {
        let r = (x * 1_000_000).rounded() / 1_000_000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
    static func days(_ s: Double) -> String { s.truncatingRemainder(dividingBy: 86_400) == 0 ? "\(Int(s / 86_400)) days" : "\(s) s" }
}
