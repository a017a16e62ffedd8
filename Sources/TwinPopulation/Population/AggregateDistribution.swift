import Foundation
import TwinBank
import TwinCore

/// How an aggregate's members are distributed now: the latest value of one observation code over the members (a
/// histogram), their age and other numeric attributes (histograms) and their sex and other categorical attributes
/// (counts), for a dashboard's aggregate page. Only counts leave it, never a member's own value.
///
/// A computation over the aggregate: the bank is asked for `aggregate` (bank-wide, then per member, as
/// ``TwinBank/Bank/cohort(of:where:for:)`` does); a member whose consent or the policy refuses that use is left out
/// (``refused``), one permitted in part is read through its filter.
public struct AggregateDistribution: Sendable, Hashable {
    /// One bar of a histogram: the values in `[lower, upper)` (the last bar also holds `upper`).
    public struct Bin: Sendable, Hashable {
        public var lower: Double
        public var upper: Double
        public var count: Int
    }

    /// The distribution of one number over the members (one value per member).
    public struct Histogram: Sendable, Hashable {
        /// What is counted: a code (``key(_:)``: `http://loinc.org|2339-0`) or an attribute name (`age`).
        public var name: String
        /// The unit of the values (UCUM; `a` for an age in years).
        public var unit: String
        /// Members counted (those with a value in ``unit``).
        public var count: Int
        public var mean: Double, minimum: Double, maximum: Double
        /// Members whose value is in another unit (not counted).
        public var otherUnits: Int
        /// Equal bars of a round width from at or below ``minimum`` to at or above ``maximum``.
        public var bins: [Bin]
    }

    /// How many members hold each value of a categorical attribute.
    public struct Categories: Sendable, Hashable {
        /// The attribute (`sex`).
        public var name: String
        /// Members with a value.
        public var count: Int
        /// Each value with how many members hold it, most held first (ties by value).
        public var counts: [Count]
    }

    /// One value of a categorical attribute and how many members hold it.
    public struct Count: Sendable, Hashable {
        public var value: String
        public var count: Int
    }

    /// A code with numeric values that the members hold, and how many members hold it.
    public struct CodeChoice: Sendable, Hashable {
        public var code: CodeKey
        public var members: Int
    }

    public var aggregate: AggregateID
    /// Members the computation used.
    public var members: Int
    /// Members left out because their consent or the policy refuses this use.
    public var refused: Int
    /// The codes with numeric latest values (at most ``codeLimit`` of the most held), most held first (ties by code).
    public var codes: [CodeChoice]
    /// The code whose latest values are counted (the one asked for, else the first of ``codes``); nil when none.
    public var code: CodeKey?
    /// The latest value of ``code`` of each member that has one (a quantity); nil when no member has one.
    public var values: Histogram?
    /// Numeric attributes: `age` (whole years, from `birthDate`) and every attribute whose values are quantities.
    public var attributes: [Histogram]
    /// Categorical attributes: `sex` (`sex` or `gender`) and every attribute of text, concept or true/false values
    /// with at most ``categoryLimit`` distinct values and fewer distinct values than members holding one (an attribute
    /// whose every value is another member's, such as a name, identifies; it does not group).
    public var categories: [Categories]

    /// The most codes offered in ``codes``; the most distinct values of a categorical attribute; the most bars.
    public static let codeLimit = 12, categoryLimit = 20, binLimit = 100
    /// Attributes never summarised: where a person lives (a map shows that) and what ``age`` is made from.
    public static let leftOut: Set<String> = ["home_lat", "home_lon", "birthDate", "deceased", "sex", "gender"]

    /// The distribution of `aggregate`'s members in `bank` now: the latest values of `code` (default: the numeric
    /// code most members hold), in `bins` bars (default: Sturges' rule, at most ``binLimit``), and the members'
    /// attributes.
    /// - Throws: ``PopulationError/Code/invalidArgument`` for `bins` outside 1 to ``binLimit``; the bank's errors
    ///   (``TwinBank/BankError`` `unknownAggregate`, `accessDenied` when the actor may not compute over the bank).
    public static func compute(of aggregate: AggregateID, in bank: Bank, code: CodeKey? = nil, bins: Int? = nil) throws -> AggregateDistribution {
        if let bins, !(1...binLimit).contains(bins) {
            throw PopulationError(.invalidArgument, "bins must be 1 to \(binLimit), not \(bins)", value: String(bins))
        }
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        let held = try bank.memberCounts(ofCodesIn: cohort).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.description < $1.key.description }
        var choices: [CodeChoice] = []
        var latest: [CodeKey: [Quantity]] = [:]
        for (c, n) in held where choices.count < codeLimit {
            let quantities = try bank.latestValues(code: c, in: cohort).values.compactMap { v -> Quantity? in
                if case .quantity(let q)? = v.value, q.value.isFinite { return q } else { return nil }
            }
            guard !quantities.isEmpty else { continue }
            choices.append(CodeChoice(code: c, members: n))
            latest[c] = quantities
        }
        let chosen = code ?? choices.first?.code
        var values: Histogram?
        if let chosen {
            let quantities = try latest[chosen] ?? bank.latestValues(code: chosen, in: cohort).values.compactMap { v -> Quantity? in
                if case .quantity(let q)? = v.value, q.value.isFinite { return q } else { return nil }
            }
            values = histogram(Self.key(chosen), quantities, bins: bins)
        }

        let now = bank.clock.now()
        var numbers: [String: [Quantity]] = [:]
        var words: [String: [String]] = [:]
        for record in cohort.records {
            let twin = record.twin
            if case .quantity(let q)? = QueryVocabulary.Derived.age.value(of: twin, at: now) { numbers["age", default: []].append(q) }
            switch QueryVocabulary.attribute("sex", of: twin) {
            case .text(let s)?: words["sex", default: []].append(s)
            case .concept(let c)?: words["sex", default: []].append(c.display ?? c.code)
            default: break
            }
            for (name, value) in twin.attributes where !leftOut.contains(name) {
                switch value {
                case .quantity(let q) where q.value.isFinite: numbers[name, default: []].append(q)
                case .text(let s): words[name, default: []].append(s)
                case .concept(let c): words[name, default: []].append(c.display ?? c.code)
                case .boolean(let b): words[name, default: []].append(b ? "true" : "false")
                default: break
                }
            }
        }
        let attributes = numbers.keys.sorted().compactMap { histogram($0, numbers[$0]!, bins: bins) }
        let categories: [Categories] = words.keys.sorted().compactMap { name in
            var counts: [String: Int] = [:]
            for w in words[name]! { counts[w, default: 0] += 1 }
            guard counts.count <= categoryLimit, name == "sex" || counts.count < words[name]!.count else { return nil }
            let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { Count(value: $0.key, count: $0.value) }
            return Categories(name: name, count: words[name]!.count, counts: sorted)
        }
        return AggregateDistribution(aggregate: aggregate, members: cohort.members.count, refused: cohort.refused.count, codes: choices,
                                     code: chosen, values: values, attributes: attributes, categories: categories)
    }

    /// A code as `SYSTEM|CODE` (the system's full URI, as the API writes concepts).
    public static func key(_ code: CodeKey) -> String { "\(code.system)|\(code.code)" }

    /// The histogram of the quantities in their most common unit (ties: the first in unit order), nil for none.
    static func histogram(_ name: String, _ quantities: [Quantity], bins wanted: Int?) -> Histogram? {
        var units: [String: Int] = [:]
        for q in quantities { units[q.unit, default: 0] += 1 }
        guard let unit = units.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).first?.key else { return nil }
        let xs = quantities.filter { $0.unit == unit }.map(\.value)
        let lo = xs.min()!, hi = xs.max()!
        let k = wanted ?? min(binLimit, Int((log2(Double(xs.count))).rounded(.up)) + 1)
        // each value divided first, so the mean of large finite values stays finite
        let mean = xs.reduce(0) { $0 + $1 / Double(xs.count) }
        return Histogram(name: name, unit: unit, count: xs.count, mean: mean, minimum: lo, maximum: hi,
                         otherUnits: quantities.count - xs.count, bins: bins(xs, lo, hi, k))
    }

    /// About `k` bars of a round width (1, 2 or 5 times a power of ten) covering `[lo, hi]`, each value counted once;
    /// one bar `[lo, hi]` when the values are all equal or too far apart for a round width (edges stay finite).
    static func bins(_ xs: [Double], _ lo: Double, _ hi: Double, _ k: Int) -> [Bin] {
        let one = [Bin(lower: lo, upper: hi, count: xs.count)]
        let span = hi - lo
        guard span.isFinite, span > 0 else { return one }
        let raw = span / Double(max(1, k))
        let power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        let start = (lo / step).rounded(.down) * step
        let count = ((hi - start) / step).rounded(.down) + 1
        guard step.isFinite, step > 0, start.isFinite, count.isFinite, count >= 1, (start + count * step).isFinite else { return one }
        let n = Int(min(count, Double(binLimit * 2)))
        var out = (0..<n).map { i in Bin(lower: start + Double(i) * step, upper: start + Double(i + 1) * step, count: 0) }
        for x in xs { out[Int(min(Double(n - 1), max(0, ((x - start) / step).rounded(.down))))].count += 1 }
        return out
    }
}
