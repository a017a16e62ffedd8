import TwinBank
import TwinCore

/// The answer of a differentially private query: the noisy value(s), the epsilon spent and where the budget stands.
public struct PrivateAnswer: Sendable, Hashable, Codable {
    public var query: String
    /// The noisy answer (a count or a sum); for a histogram, nil.
    public var value: Int?
    /// For a histogram: bin -> noisy count, in bin order.
    public var bins: [Bin]?
    public var epsilon: Double
    public var sensitivity: Int
    public var budget: BudgetState

    /// The histogram bin of members in none of the bins asked for (a missing value included).
    public static let otherBin = "(other)"

    public struct Bin: Sendable, Hashable, Codable {
        public var value: String
        public var count: Int
    }
}

/// Differentially private counts, sums and histograms over an aggregate's members (optionally only those that also
/// satisfy a `where` expression of the aggregate query language), charged to a ``PrivacyLedger``.
///
/// Promises:
/// - The spend is recorded (or refused with `budgetExhausted`) before any noise is drawn, so nothing noisy leaves
///   without being charged; a query that fails before (unknown aggregate, bad expression, bad bounds) costs nothing.
/// - Counts have sensitivity 1; sums clamp each member's value into `[lower, upper]` (whole numbers) and have
///   sensitivity max(|lower|, |upper|) (one person added or removed); histograms add noise of sensitivity 1 to each bin
///   (one person changes one bin), over bins given by the caller, never by the data (a bin seen only in the data would
///   itself disclose someone); members outside the bins count under ``PrivateAnswer/otherBin`` `(other)`.
/// - Noise is ``DiscreteLaplace`` drawn with the generator given (the system's secure one by default).
/// - The budget is per aggregate: a `where` restriction spends the aggregate's budget.
public struct PrivateQueries: Sendable {
    public let bank: Bank
    public let ledger: PrivacyLedger

    public init(bank: Bank, ledger: PrivacyLedger) { self.bank = bank; self.ledger = ledger }

    /// The members the gate lets this query use, asked with `aggregate` (bank-wide, then per member: a member
    /// whose consent refuses the purpose is left out).
    private func cohort(_ aggregate: AggregateID, _ expression: String?) throws -> Cohort {
        try bank.cohort(of: aggregate, where: expression, for: .aggregate)
    }

    private static func describe(_ what: String, _ expression: String?) -> String {
        expression.map { "\(what) where \($0)" } ?? what
    }

    /// A noisy count of the aggregate's members (that satisfy `expression`).
    public func count<G: RandomNumberGenerator>(aggregate: AggregateID, where expression: String? = nil, requester: String, epsilon: Double,
                                                using g: inout G) throws -> PrivateAnswer {
        let mechanism = try DiscreteLaplace(epsilon: epsilon, sensitivity: 1)
        let n = try cohort(aggregate, expression).records.count
        let query = Self.describe("count", expression)
        let state = try ledger.spend(requester: requester, aggregate: aggregate.rawValue, epsilon: epsilon, query: query)
        return PrivateAnswer(query: query, value: mechanism.release(n, using: &g), bins: nil, epsilon: epsilon, sensitivity: 1, budget: state)
    }

    /// A noisy sum of a value over the members, each clamped into `lower...upper`. `value` is a code (`loinc:...`:
    /// the latest current, plausible value of the thread, its number in the unit recorded) or an attribute (`age`,
    /// `birthYear`, or a numeric attribute); members without it add 0.
    public func sum<G: RandomNumberGenerator>(aggregate: AggregateID, where expression: String? = nil, value: String, lower: Int, upper: Int,
                                              requester: String, epsilon: Double, using g: inout G) throws -> PrivateAnswer {
        guard lower <= upper else {
            throw GovernanceError(.invalidRelease, "the lower bound \(lower) is above the upper bound \(upper)", value: String(lower))
        }
        let sensitivity = max(abs(lower), abs(upper), 1)
        let mechanism = try DiscreteLaplace(epsilon: epsilon, sensitivity: sensitivity)
        let code: CodeKey? = value.contains(":") || value.contains("|") ? try MemberRecords.code(value) : nil
        let cohort = try cohort(aggregate, expression)
        let members = cohort.members
        let now = bank.clock.now()
        var numbers: [TwinID: Double] = [:]
        if let code {
            for (id, l) in try bank.latestValues(code: code, in: cohort) { if case .quantity(let q)? = l.value { numbers[id] = q.value } }
        } else {
            for twin in cohort.records.map(\.twin) {
                let v = QueryVocabulary.Derived(word: value).flatMap { $0.value(of: twin, at: now) } ?? QueryVocabulary.attribute(value, of: twin)
                if case .quantity(let q)? = v { numbers[twin.id] = q.value }
            }
        }
        var total = 0
        for id in members {
            guard let x = numbers[id], x.isFinite else { continue }
            total += Int(min(max(x.rounded(), Double(lower)), Double(upper)))
        }
        let query = Self.describe("sum \(value) [\(lower), \(upper)]", expression)
        let state = try ledger.spend(requester: requester, aggregate: aggregate.rawValue, epsilon: epsilon, query: query)
        return PrivateAnswer(query: query, value: mechanism.release(total, using: &g), bins: nil, epsilon: epsilon, sensitivity: sensitivity, budget: state)
    }

    /// A noisy histogram of an attribute (`sex`, `ageBand`, `state`, `zip3`, or any text/coded attribute) over the
    /// given bins, plus `(other)` for members in none of them (a missing value included).
    public func histogram<G: RandomNumberGenerator>(aggregate: AggregateID, where expression: String? = nil, by attribute: String, bins: [String],
                                                    requester: String, epsilon: Double, using g: inout G) throws -> PrivateAnswer {
        guard !bins.isEmpty, Set(bins).count == bins.count, !bins.contains(PrivateAnswer.otherBin) else {
            throw GovernanceError(.invalidRelease, "the bins '\(bins.joined(separator: ","))' must be distinct, not empty, and not '\(PrivateAnswer.otherBin)'", value: bins.joined(separator: ","))
        }
        let mechanism = try DiscreteLaplace(epsilon: epsilon, sensitivity: 1)
        let twins = try cohort(aggregate, expression).records.map(\.twin)
        let profile = Representativeness.profile(of: twins, at: bank.clock.now())
        var counts: [String: Int]
        if let c = profile.counts[attribute] { counts = c } else {
            counts = [:]
            for t in twins {
                let v: String? = switch QueryVocabulary.attribute(attribute, of: t) {
                case .text(let s)?: s
                case .concept(let c)?: "\(c.system):\(c.code)"
                case .boolean(let b)?: String(b)
                default: nil
                }
                counts[v ?? "unknown", default: 0] += 1
            }
        }
        let query = Self.describe("histogram \(attribute)", expression)
        let state = try ledger.spend(requester: requester, aggregate: aggregate.rawValue, epsilon: epsilon, query: query)
        var out: [PrivateAnswer.Bin] = []
        var inBins = 0
        for b in bins {
            let n = counts[b] ?? 0
            inBins += n
            out.append(.init(value: b, count: mechanism.release(n, using: &g)))
        }
        out.append(.init(value: PrivateAnswer.otherBin, count: mechanism.release(twins.count - inBins, using: &g)))
        return PrivateAnswer(query: query, value: nil, bins: out, epsilon: epsilon, sensitivity: 1, budget: state)
    }
}
