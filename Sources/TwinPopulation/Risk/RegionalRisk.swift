import TwinCore

/// A region's risk level, in the four tiers of the CDC's community transmission indicator.
public enum RiskLevel: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case low, moderate, substantial, high

    var rank: Int { RiskLevel.allCases.firstIndex(of: self)! }
    public static func < (a: RiskLevel, b: RiskLevel) -> Bool { a.rank < b.rank }
    /// One tier up (high stays high).
    public var raised: RiskLevel { RiskLevel.allCases[min(rank + 1, 3)] }

    /// Parses `low`, `moderate`, `substantial` or `high`.
    public init(parsing text: String) throws(PopulationError) {
        guard let l = RiskLevel(rawValue: text.lowercased()) else {
            throw PopulationError(.invalidArgument, "unknown risk level '\(text)': use low, moderate, substantial or high", value: text)
        }
        self = l
    }
}

/// The thresholds that turn a region's 7-day figures into a ``RiskLevel``.
///
/// The defaults are published ones:
/// - incidence, new cases per 100,000 residents in 7 days: moderate from 10, substantial from 50, high from 100;
/// - test positivity, positive NAATs / NAATs in 7 days: moderate from 5 %, substantial from 8 %, high from 10 %
///   (both from the CDC's county "level of community transmission", 2021: the higher of the two levels counts);
/// - hospital load, new admissions per 100,000 in 7 days: substantial from 10, high from 20 (the CDC's COVID-19
///   community levels of February 2022, whose medium and high tiers begin there).
///
/// Two rules are Twinbank's own, stated here because they are not from those sources: positivity is read only
/// from at least ``minimumTests`` tests in the week (one positive of two tests is not 50 % positivity), and a
/// region whose cases grew by ``growthFactor`` or more week over week (from at least ``minimumCasesForGrowth``
/// cases the week before) is raised one tier, since a fast rise reaches the next tier within days.
public struct RiskThresholds: Sendable, Hashable {
    /// 7-day cases per 100,000 at which moderate, substantial and high begin.
    public var incidence: [Double] = [10, 50, 100]
    /// 7-day test positivity (0...1) at which moderate, substantial and high begin.
    public var positivity: [Double] = [0.05, 0.08, 0.10]
    /// 7-day admissions per 100,000 at which substantial and high begin.
    public var admissions: [Double] = [10, 20]
    /// The fewest tests in 7 days from which positivity is read.
    public var minimumTests = 20
    /// Cases this week over cases the week before at or above which the level is raised one tier.
    public var growthFactor = 1.5
    /// The fewest cases the week before for growth to count.
    public var minimumCasesForGrowth = 10

    public init() {}

    /// The CDC-based defaults described on the type.
    public static let standard = RiskThresholds()

    /// Checks the thresholds are finite, non-negative and increasing.
    public func validate() throws(PopulationError) {
        for (name, list, count) in [("incidence", incidence, 3), ("positivity", positivity, 3), ("admissions", admissions, 2)] {
            guard list.count == count, list.allSatisfy({ $0.isFinite && $0 >= 0 }), zip(list, list.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw PopulationError(.invalidArgument, "the \(name) thresholds \(list) are not \(count) increasing numbers of at least 0", value: "\(list)")
            }
        }
        guard growthFactor.isFinite, growthFactor > 1, minimumTests >= 1, minimumCasesForGrowth >= 1 else {
            throw PopulationError(.invalidArgument, "growth factor \(growthFactor) must be above 1, minimum tests \(minimumTests) and minimum cases \(minimumCasesForGrowth) at least 1", value: "\(growthFactor)")
        }
    }
}

/// One region's risk on one day, from the 7 days ending that day.
public struct RegionRisk: Sendable, Hashable {
    public var region: Int
    public var day: Int
    public var population: Int
    /// Sums over the 7 days ending on `day`.
    public var cases7: Int, contacts7: Int, tests7: Int, positives7: Int, admissions7: Int
    /// Cases in the 7 days before those.
    public var previousCases7: Int
    /// Cases per 100,000 residents in 7 days; nil without residents.
    public var incidence: Double?
    /// Cases this week over the week before; nil when the week before had none.
    public var growth: Double?
    /// Positives over tests in 7 days; nil below ``RiskThresholds/minimumTests``.
    public var positivity: Double?
    /// Admissions per 100,000 in 7 days; nil without residents.
    public var admissionRate: Double?
    /// The level; nil when nothing could be read (no residents and too few tests).
    public var level: RiskLevel?
    /// Why: each indicator that set or raised the level, in words.
    public var reasons: [String]
}

/// Risk levels per region and day from ``RegionalCounts``, by ``RiskThresholds``.
public enum RegionalRisk {
    /// Every region's risk on `day` (default: the last day counted).
    public static func assess(_ counts: RegionalCounts, day: Int? = nil, thresholds: RiskThresholds = .standard) -> [RegionRisk] {
        let d = day ?? counts.days - 1
        return counts.regions.indices.map { assess(counts, region: $0, day: d, thresholds: thresholds) }
    }

    /// One region's risk on `day`: the highest of the incidence, positivity and hospital-load levels, raised one
    /// tier by fast growth (see ``RiskThresholds``).
    public static func assess(_ counts: RegionalCounts, region r: Int, day d: Int, thresholds t: RiskThresholds = .standard) -> RegionRisk {
        let pop = counts.population[r]
        let cases = counts.sum(.cases, region: r, from: d - 6, to: d)
        let previous = counts.sum(.cases, region: r, from: d - 13, to: d - 7)
        let tests = counts.sum(.tests, region: r, from: d - 6, to: d)
        let positives = counts.sum(.positives, region: r, from: d - 6, to: d)
        let admissions = counts.sum(.admissions, region: r, from: d - 6, to: d)
        var risk = RegionRisk(region: r, day: d, population: pop, cases7: cases, contacts7: counts.sum(.contacts, region: r, from: d - 6, to: d),
                              tests7: tests, positives7: positives, admissions7: admissions, previousCases7: previous,
                              incidence: nil, growth: nil, positivity: nil, admissionRate: nil, level: nil, reasons: [])
        var level: RiskLevel?
        func consider(_ l: RiskLevel, _ why: String) {
            if level == nil || l > level! { level = l; risk.reasons = [why] } else if l == level! && l > .low { risk.reasons.append(why) }
        }
        func tier(_ v: Double, _ cuts: [Double], _ levels: [RiskLevel]) -> RiskLevel {
            var l = RiskLevel.low
            for (c, lv) in zip(cuts, levels) where v >= c { l = lv }
            return l
        }
        if pop > 0 {
            let inc = Double(cases) * 100_000 / Double(pop)
            risk.incidence = inc
            consider(tier(inc, t.incidence, [.moderate, .substantial, .high]), "\(fmt(inc)) cases per 100,000 in 7 days")
            let adm = Double(admissions) * 100_000 / Double(pop)
            risk.admissionRate = adm
            consider(tier(adm, t.admissions, [.substantial, .high]), "\(fmt(adm)) hospital admissions per 100,000 in 7 days")
        }
        if tests >= t.minimumTests {
            let p = Double(positives) / Double(tests)
            risk.positivity = p
            consider(tier(p, t.positivity, [.moderate, .substantial, .high]), "test positivity \(fmt(p * 100)) % (\(positives) of \(tests))")
        }
        if previous > 0 { risk.growth = Double(cases) / Double(previous) }
        if var l = level, let g = risk.growth, previous >= t.minimumCasesForGrowth, g >= t.growthFactor, l < .high {
            l = l.raised
            level = l
            risk.reasons.append("cases grew x\(fmt(g)) week over week (\(previous) to \(cases)): raised to \(l.rawValue)")
        }
        risk.level = level
        return risk
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
