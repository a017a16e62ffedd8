import Foundation

/// One step of a comparison's ranking, applied to the options' ensemble means in order: the first criterion that
/// separates two options decides, and options no criterion separates keep the order they were given in.
public struct RankingCriterion: Sendable, Hashable, CustomStringConvertible {
    /// A term of a weighted score: `weight × mean(measure)`.
    public struct Term: Sendable, Hashable {
        public var measure: OutcomeMeasure
        public var weight: Double
        public init(_ measure: OutcomeMeasure, _ weight: Double) { self.measure = measure; self.weight = weight }
    }

    enum Kind: Sendable, Hashable {
        /// Options whose mean stays within `limit` (in the measure's direction) rank before the others.
        case within(OutcomeMeasure, limit: Double)
        /// By the mean, in the measure's direction.
        case measure(OutcomeMeasure, tolerance: Double)
        /// By the weighted sum of means, higher or lower first.
        case score([Term], direction: OutcomeMeasure.Direction, tolerance: Double)
    }

    let kind: Kind

    /// Options whose ensemble mean of `measure` stays within `limit` (at most `limit` when lower is better, at least
    /// when higher is better) rank before every option that does not.
    public static func within(_ measure: OutcomeMeasure, _ limit: Double) -> RankingCriterion {
        RankingCriterion(kind: .within(measure, limit: limit))
    }

    /// By the ensemble mean of `measure` in its direction (descending when higher is better, ascending when lower
    /// is better); means within `tolerance` of each other do not separate two options.
    public static func by(_ measure: OutcomeMeasure, tolerance: Double = 1e-9) -> RankingCriterion {
        RankingCriterion(kind: .measure(measure, tolerance: tolerance))
    }

    /// By a weighted sum of ensemble means (`[Term(.timeInWindow, 1), Term(.timeAboveWindow, -1)]` is the net time
    /// in the window), `direction` saying which sums are better.
    public static func score(_ terms: [Term], _ direction: OutcomeMeasure.Direction, tolerance: Double = 1e-9) -> RankingCriterion {
        RankingCriterion(kind: .score(terms, direction: direction, tolerance: tolerance))
    }

    /// The measures the criterion reads.
    public var measures: [OutcomeMeasure] {
        switch kind {
        case .within(let m, _), .measure(let m, _): [m]
        case .score(let terms, _, _): terms.map(\.measure)
        }
    }

    /// Why the criterion cannot rank, or nil: a measure or score with no better direction, a non-finite limit or weight.
    var problem: String? {
        switch kind {
        case .within(let m, let limit):
            if m.direction == .neither { return "cannot rank by a limit on '\(m.name)': neither way is better" }
            if !limit.isFinite { return "the limit on '\(m.name)' is not a number" }
        case .measure(let m, _):
            if m.direction == .neither { return "cannot rank by '\(m.name)': neither way is better" }
        case .score(let terms, let direction, _):
            if terms.isEmpty { return "a score needs at least one measure" }
            if direction == .neither { return "cannot rank by '\(description)': neither way is better" }
            if let t = terms.first(where: { !$0.weight.isFinite }) { return "the weight of '\(t.measure.name)' is not a number" }
        }
        return nil
    }

    /// The criterion as the result's `rankedBy` names it: `timeBelowRange <= 4 %`, `timeInRange`,
    /// `timeInWindow - timeAboveWindow`.
    public var description: String {
        switch kind {
        case .within(let m, let limit):
            let op = m.direction == .higherIsBetter ? ">=" : "<="
            let bound = m.unit == "1" ? String(format: "%g %%", limit * 100) : String(format: "%g %@", limit, m.unit)
            return "\(m.name) \(op) \(bound)"
        case .measure(let m, _):
            return m.name
        case .score(let terms, _, _):
            var text = ""
            for (i, t) in terms.enumerated() {
                let sign = t.weight < 0 ? "-" : "+"
                let magnitude = abs(t.weight) == 1 ? "" : String(format: "%g·", abs(t.weight))
                text += i == 0 ? (sign == "-" ? "-" : "") + magnitude + t.measure.name : " \(sign) \(magnitude)\(t.measure.name)"
            }
            return text
        }
    }

    /// Whether option `a` (its means by measure) ranks before `b` by this criterion alone; nil when it does not separate them.
    func orders(_ a: [OutcomeMeasure: Double], _ b: [OutcomeMeasure: Double]) -> Bool? {
        switch kind {
        case .within(let m, let limit):
            func inside(_ x: Double) -> Bool { m.direction == .higherIsBetter ? x >= limit : x <= limit }
            let ia = inside(a[m] ?? .nan), ib = inside(b[m] ?? .nan)
            return ia == ib ? nil : ia
        case .measure(let m, let tolerance):
            let x = a[m] ?? .nan, y = b[m] ?? .nan
            if m.prefers(x, over: y, tolerance: tolerance) { return true }
            if m.prefers(y, over: x, tolerance: tolerance) { return false }
            return nil
        case .score(let terms, let direction, let tolerance):
            func sum(_ means: [OutcomeMeasure: Double]) -> Double { terms.reduce(0) { $0 + $1.weight * (means[$1.measure] ?? .nan) } }
            let x = sum(a), y = sum(b)
            let scale = OutcomeMeasure(name: description, unit: "1", direction: direction, summary: description)
            if scale.prefers(x, over: y, tolerance: tolerance) { return true }
            if scale.prefers(y, over: x, tolerance: tolerance) { return false }
            return nil
        }
    }

    /// The ranking of options given their means: indices into `means`, best first. The first criterion that
    /// separates two options decides; options no criterion separates keep their given order.
    public static func order(_ means: [[OutcomeMeasure: Double]], by criteria: [RankingCriterion]) -> [Int] {
        means.indices.sorted { a, b in
            for c in criteria { if let before = c.orders(means[a], means[b]) { return before } }
            return a < b
        }
    }
}
