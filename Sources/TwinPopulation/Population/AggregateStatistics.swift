import Foundation
import TwinBank
import TwinCore

/// Summary statistics of an aggregate over time, from its members' threads: for each period, how many members
/// have a value of a code, how many values there are, and (for quantities) their mean, minimum and maximum.
public enum AggregateStatistics {
    /// How periods are cut: a fixed number of seconds, or calendar months (UTC).
    public enum Every: Sendable, Hashable, CustomStringConvertible {
        case seconds(Double)
        case months(Int)

        /// Reads `7d`, `1w`, `12h`, `30min`, `90s` (a ``TwinCore/TimeSpan``) or `1mo` (calendar months).
        /// - Throws: ``PopulationError/Code/invalidArgument`` naming the text.
        public init(parsing text: String) throws(PopulationError) {
            let t = text.trimmingCharacters(in: .whitespaces).lowercased()
            if t.hasSuffix("mo"), let n = Int(t.dropLast(2)), n > 0, n <= 1200 { self = .months(n); return }
            // everything else is TwinCore's time grammar (`TimeSpan`: s, min, h, d, w)
            if !t.hasSuffix("mo"), let span = try? TimeSpan(parsing: t), span.microseconds > 0 {
                self = .seconds(Double(span.microseconds) / 1e6); return
            }
            throw PopulationError(.invalidArgument, "'\(text)' is not a period: give a positive number with s, min, h, d, w or mo (calendar months), such as 7d or 1mo", value: text)
        }

        public var description: String {
            switch self {
            case .seconds(let s): return s.truncatingRemainder(dividingBy: 86_400) == 0 ? "\(Value.format(s / 86_400))d" : "\(Value.format(s))s"
            case .months(let m): return "\(m)mo"
            }
        }

        /// The start of the period after one starting at `start`.
        func next(_ start: Instant) -> Instant {
            switch self {
            case .seconds(let s): return start.advanced(bySeconds: s)
            case .months(let m):
                let d = start.utcDate
                let total = d.year * 12 + (d.month - 1) + m
                return (try? Instant(parsing: String(format: "%04d-%02d-01T00:00:00Z", total / 12, total % 12 + 1))) ?? start.advanced(bySeconds: Double(m) * 30 * 86_400)
            }
        }

        /// Where the first period starts for data from `first`: UTC midnight for whole days, the first of the
        /// month for months, `first` itself otherwise.
        func firstStart(_ first: Instant) -> Instant {
            switch self {
            case .seconds(let s) where s.truncatingRemainder(dividingBy: 86_400) == 0:
                let day: Int64 = 86_400_000_000
                let us = first.microseconds
                return Instant(microseconds: us >= 0 ? us / day * day : -((-us + day - 1) / day) * day)
            case .seconds: return first
            case .months:
                let d = first.utcDate
                return (try? Instant(parsing: String(format: "%04d-%02d-01T00:00:00Z", d.year, d.month))) ?? first
            }
        }
    }

    /// One period `[start, end)`.
    public struct Period: Sendable, Hashable {
        public var start: Instant
        public var end: Instant
        /// Members with at least one value of the code in the period.
        public var members: Int
        /// Values of the code in the period.
        public var values: Int
        /// Mean, minimum and maximum of the quantity values (nil when there is none).
        public var mean: Double?, minimum: Double?, maximum: Double?
    }

    /// The statistics of `code` over the members of `aggregate` (as of now), by periods of `every` from `from`
    /// (default: the period holding the first value) up to `to` (default: the last value). Retracted events do
    /// not count (the bank's current view). Quantity values must share one unit.
    ///
    /// - Returns: the number of members and the periods (empty when no member has a value).
    /// - Throws: ``PopulationError/Code/invalidArgument`` when quantities come in different units (naming both)
    ///   or `to` is before `from`, or there would be more than 100,000 periods; the bank's errors (unknown aggregate ...).
    public static func series(of aggregate: AggregateID, in bank: Bank, code: CodeKey, every: Every, from: Instant? = nil,
                              to: Instant? = nil) throws -> (members: Int, unit: String?, periods: [Period]) {
        // A computation over the aggregate: asked as `aggregate` (bank-wide, then per member); a member whose
        // consent or the policy refuses that use is left out, one permitted in part is read through its filter.
        let cohort = try bank.cohort(of: aggregate, for: .aggregate)
        let members = cohort.members
        var values: [(member: Int, time: Instant, value: Double?)] = []
        var unit: String?
        for (k, id) in members.enumerated() {
            for e in try bank.events(ThreadQuery(twin: id, code: code), in: cohort) {
                var x: Double?
                if case .quantity(let q)? = e.value {
                    if let u = unit, u != q.unit {
                        throw PopulationError(.invalidArgument, "\(code) comes in two units, '\(u)' and '\(q.unit)' (twin '\(id)'): statistics need one unit", value: q.unit)
                    }
                    unit = q.unit
                    x = q.value
                }
                values.append((k, e.effective.start, x))
            }
        }
        if let from, let to, to < from {
            throw PopulationError(.invalidArgument, "the period from \(from.iso8601) to \(to.iso8601) ends before it starts", value: to.iso8601)
        }
        guard let first = from ?? values.map(\.time).min(), let last = to ?? values.map(\.time).max() else { return (members.count, unit, []) }
        var starts: [Instant] = []
        var s = from ?? every.firstStart(first)
        while s <= last {
            starts.append(s)
            guard starts.count <= 100_000 else {
                throw PopulationError(.invalidArgument, "periods of \(every) from \(first.iso8601) to \(last.iso8601) are more than 100,000: give a longer period", value: every.description)
            }
            s = every.next(s)
        }
        var periods = starts.map { Period(start: $0, end: every.next($0), members: 0, values: 0, mean: nil, minimum: nil, maximum: nil) }
        var seen = [Set<Int>](repeating: [], count: periods.count)
        var sums = [Double](repeating: 0, count: periods.count), counts = [Int](repeating: 0, count: periods.count)
        for v in values {
            // The last period holding the time (periods are sorted and half-open).
            var lo = 0, hi = periods.count
            while lo < hi { let mid = (lo + hi) / 2; if periods[mid].start <= v.time { lo = mid + 1 } else { hi = mid } }
            let p = lo - 1
            guard p >= 0, v.time < periods[p].end, to.map({ v.time <= $0 }) ?? true else { continue }
            periods[p].values += 1
            seen[p].insert(v.member)
            if let x = v.value {
                sums[p] += x; counts[p] += 1
                periods[p].minimum = min(periods[p].minimum ?? x, x)
                periods[p].maximum = max(periods[p].maximum ?? x, x)
            }
        }
        for p in periods.indices {
            periods[p].members = seen[p].count
            if counts[p] > 0 { periods[p].mean = sums[p] / Double(counts[p]) }
        }
        return (members.count, unit, periods)
    }
}
