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
    /// seconds later; nil when the person has no outcome value at or before `index`.
    public func snapshot(_ p: PersonHistory, at index: Instant, gap: Double) -> FeatureSnapshot? {
        let outcome = (p.series[spec.outcome] ?? []).filter { $0.time <= index }
        guard let last = outcome.last else { return nil }
        var used = [last.event]
        // slope per year over the two years up to the index (ordinary least squares; 0 with fewer than two times)
        let recent = outcome.filter { $0.time.seconds >= index.seconds - 2 * Self.year }
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
            if let v = (p.series[c] ?? []).last(where: { $0.time <= index }) {
                covariateValues.append(v.value); missing.append(0); used.append(v.event)
            } else {
                covariateValues.append(nil); missing.append(1)
            }
        }
        let age = p.birthDate.map { (index.seconds - $0.seconds) / Self.year }
        let values: [Double?] = [last.value, slope] + covariateValues + missing + [age, p.male, gap / Self.year]
        return FeatureSnapshot(index: index, values: values, events: used)
    }

    /// The person's examples: each outcome value (the index) paired with the outcome value nearest to index +
    /// horizon within ± window, if any.
    public func examples(_ p: PersonHistory) -> [PrognosticExample] {
        let outcome = p.series[spec.outcome] ?? []
        var out: [PrognosticExample] = []
        for i in outcome.indices {
            let t = outcome[i].time.seconds
            var best: Int?
            for j in (i + 1)..<max(outcome.count, i + 1) {
                let d = outcome[j].time.seconds - t - spec.horizonSeconds
                if abs(d) <= spec.windowSeconds, best.map({ abs(d) < abs(outcome[$0].time.seconds - t - spec.horizonSeconds) }) ?? true { best = j }
            }
            guard let j = best else { continue }
            let gap = outcome[j].time.seconds - t
            guard let s = snapshot(p, at: outcome[i].time, gap: gap) else { continue }
            out.append(PrognosticExample(twin: p.twin, features: s, target: outcome[j].value, targetTime: outcome[j].time))
        }
        return out
    }
}
