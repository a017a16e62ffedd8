import TwinCore

/// A person's features at an index time (nil where a value is missing) and the events they were computed from.
public struct FeatureSnapshot: Sendable, Hashable {
    public var index: Instant
    public var values: [Double?]
    public var events: [ContentHash]
}

/// A training example: the features at an index time and the outcome observed about a horizon later.
public struct PrognosticExample: Sendable, Hashable {
    public var twin: TwinID
    public var features: FeatureSnapshot
    public var target: Double
    public var targetTime: Instant
}

/// Computes the features of ``PrognosticSpec`` from a ``PersonHistory``.
public struct FeatureExtractor: Sendable {
    public let spec: PrognosticSpec
    static let year = 365.25 * 86_400

    public init(spec: PrognosticSpec) { self.spec = spec }

    /// The features at `index` (which must not be before the person's first outcome value) for a target `gap`
    /// seconds later; nil when the person has no outcome value at or before `index`. Binary searches: the cost is
    /// that of the two years of outcome values before the index.
    public func snapshot(_ p: PersonHistory, at index: Instant, gap: Double) -> FeatureSnapshot? {
        let outcome = p.series[spec.outcome] ?? []
        let end = Self.firstIndex(in: outcome, after: index)
        guard end > 0 else { return nil }
        let last = outcome[end - 1]
        var used = [last.event]
        // slope per year over the two years up to the index (ordinary least squares; 0 with fewer than two times)
        let recent = outcome[Self.firstIndex(in: outcome, atOrAfter: index.advanced(bySeconds: -2 * Self.year))..<end]
        var slope = 0.0
        if recent.count >= 2 {
            let ts = recent.map { ($0.time.seconds - index.seconds) / Self.year }, vs = recent.map(\.value)
            let mt = ts.reduce(0, +) / Double(ts.count), mv = vs.reduce(0, +) / Double(vs.count)
            var sxy = 0.0, sxx = 0.0
            for i in ts.indices { sxy += (ts[i] - mt) * (vs[i] - mv); sxx += (ts[i] - mt) * (ts[i] - mt) }
            if sxx > 1e-6 { slope = sxy / sxx; used = recent.map(\.event) }
        }
        var covariateValues: [Double?] = [], missing: [Double?] = []
        for c in spec.covariates {
            let series = p.series[c] ?? []
            let k = Self.firstIndex(in: series, after: index)
            if k > 0 {
                let v = series[k - 1]
                covariateValues.append(v.value); missing.append(0); used.append(v.event)
            } else {
                covariateValues.append(nil); missing.append(1)
            }
        }
        let age = p.birthDate.map { (index.seconds - $0.seconds) / Self.year }
        let values: [Double?] = [last.value, slope] + covariateValues + missing + [age, p.male, gap / Self.year]
        return FeatureSnapshot(index: index, values: values, events: used)
    }

    /// At most this many examples per person (evenly spaced over their index times when they have more), so that a
    /// densely sampled person (a CGM's readings) neither dominates the fit nor makes it quadratic.
    public static let maxExamplesPerPerson = 50

    /// The person's examples: each outcome value (the index) paired with the outcome value nearest to index +
    /// horizon within ± window (the earliest of equally near ones), if any; at most ``maxExamplesPerPerson``.
    public func examples(_ p: PersonHistory) -> [PrognosticExample] {
        let outcome = p.series[spec.outcome] ?? []
        var pairs: [(Int, Int)] = []
        for i in outcome.indices {
            let target = outcome[i].time.advanced(bySeconds: spec.horizonSeconds)
            let after = Self.firstIndex(in: outcome, atOrAfter: target)
            var candidates: [Int] = []
            if after > 0 {
                // the earliest of the values at the latest time before the target
                var before = after - 1
                while before > 0 && outcome[before - 1].time == outcome[before].time { before -= 1 }
                candidates.append(before)
            }
            if after < outcome.count { candidates.append(after) }
            var best: Int?
            for j in candidates where j > i {
                let d = abs(outcome[j].time.seconds - target.seconds)
                if d <= spec.windowSeconds, best.map({ d < abs(outcome[$0].time.seconds - target.seconds) }) ?? true { best = j }
            }
            if let best { pairs.append((i, best)) }
        }
        if pairs.count > Self.maxExamplesPerPerson {
            let n = pairs.count, m = Self.maxExamplesPerPerson
            pairs = (0..<m).map { pairs[$0 * n / m] }
        }
        return pairs.compactMap { i, j in
            let gap = outcome[j].time.seconds - outcome[i].time.seconds
            guard let s = snapshot(p, at: outcome[i].time, gap: gap) else { return nil }
            return PrognosticExample(twin: p.twin, features: s, target: outcome[j].value, targetTime: outcome[j].time)
        }
    }

    /// The first position whose time is after `time` (the count of points at or before it).
    static func firstIndex(in points: [PersonHistory.Point], after time: Instant) -> Int {
        var lo = 0, hi = points.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if points[mid].time <= time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first position whose time is at or after `time`.
    static func firstIndex(in points: [PersonHistory.Point], atOrAfter time: Instant) -> Int {
        var lo = 0, hi = points.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if points[mid].time < time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
