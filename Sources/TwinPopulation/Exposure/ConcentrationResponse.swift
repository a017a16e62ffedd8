import Foundation

/// A log-linear concentration-response function, as WHO's AirQ+ uses them: the relative risk of an outcome per
/// `increment` of a pollutant (with its 95 % confidence interval), above a counterfactual concentration below
/// which no effect is counted.
///
/// AirQ+'s log-linear arithmetic, which ``attributable(concentration:incidencePer100k:population:)`` follows:
/// `beta = ln(RR) / increment`; for a concentration `c`, `delta = max(0, c - counterfactual)`,
/// `RR(delta) = exp(beta x delta)`, the attributable fraction `AF = (RR(delta) - 1) / RR(delta)`, and the
/// attributable cases `AF x incidence x population` (incidence per person, here given per 100,000). The lower and
/// upper estimates use the confidence interval's RRs the same way.
public struct ConcentrationResponse: Sendable, Hashable {
    /// What the outcome is (`all-cause mortality, adults 30+`).
    public var outcome: String
    /// The exposure: `pm25`, `no2`, `heat`, `noise` or any layer name of the scenario.
    public var pollutant: String
    /// The relative risk per `increment`, and its 95 % confidence interval.
    public var rr: Double, rrLower: Double, rrUpper: Double
    /// The concentration step the RR is given for (10 µg/m³ for PM2.5 and NO2).
    public var increment: Double
    /// Below this concentration no effect is counted (the WHO 2021 guideline level for the defaults).
    public var counterfactual: Double
    /// Where the figures come from.
    public var source: String

    public init(outcome: String, pollutant: String, rr: Double, rrLower: Double, rrUpper: Double, increment: Double = 10,
                counterfactual: Double = 0, source: String = "") {
        self.outcome = outcome; self.pollutant = pollutant; self.rr = rr; self.rrLower = rrLower; self.rrUpper = rrUpper
        self.increment = increment; self.counterfactual = counterfactual; self.source = source
    }

    /// Long-term PM2.5 and natural-cause (all-cause) mortality of adults: RR 1.08 (1.06-1.09) per 10 µg/m³ (Chen &
    /// Hoek 2020, Environment International 143:105974, the systematic review behind the WHO 2021 global air
    /// quality guidelines), counted above 5 µg/m³ (the WHO 2021 annual PM2.5 guideline level).
    public static let pm25Mortality = ConcentrationResponse(
        outcome: "all-cause mortality, adults", pollutant: "pm25", rr: 1.08, rrLower: 1.06, rrUpper: 1.09, increment: 10, counterfactual: 5,
        source: "Chen & Hoek 2020 (WHO 2021 AQG review): RR 1.08 (1.06-1.09) per 10 ug/m3; counterfactual 5 ug/m3 (WHO 2021 AQG)")

    /// Long-term NO2 and all-cause mortality: RR 1.02 (1.01-1.04) per 10 µg/m³ (Huangfu & Atkinson 2020,
    /// Environment International 144:105998, the WHO 2021 guidelines' review), counted above 10 µg/m³ (the WHO 2021
    /// annual NO2 guideline level).
    public static let no2Mortality = ConcentrationResponse(
        outcome: "all-cause mortality", pollutant: "no2", rr: 1.02, rrLower: 1.01, rrUpper: 1.04, increment: 10, counterfactual: 10,
        source: "Huangfu & Atkinson 2020 (WHO 2021 AQG review): RR 1.02 (1.01-1.04) per 10 ug/m3; counterfactual 10 ug/m3 (WHO 2021 AQG)")

    /// The built-in functions by the name a scenario uses: `pm25-mortality`, `no2-mortality`.
    public static let builtIn: [String: ConcentrationResponse] = ["pm25-mortality": pm25Mortality, "no2-mortality": no2Mortality]

    /// Checks the RRs are finite, at least 1 is not required (a protective factor is allowed) but positive, with
    /// lower <= rr <= upper, and the increment positive.
    public func validate(_ name: String) throws(PopulationError) {
        guard [rr, rrLower, rrUpper].allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw PopulationError(.invalidScenario, "\(name): the relative risks \(rr) (\(rrLower)-\(rrUpper)) must be positive numbers", value: "\(rr)")
        }
        guard rrLower <= rr, rr <= rrUpper else {
            throw PopulationError(.invalidScenario, "\(name): the relative risk \(rr) is not inside its confidence interval \(rrLower)-\(rrUpper)", value: "\(rr)")
        }
        guard increment.isFinite, increment > 0 else {
            throw PopulationError(.invalidScenario, "\(name): the increment \(increment) must be a positive number", value: "\(increment)")
        }
        guard counterfactual.isFinite else {
            throw PopulationError(.invalidScenario, "\(name): the counterfactual \(counterfactual) is not a number", value: "\(counterfactual)")
        }
    }

    /// The relative risk at a concentration `delta` above the counterfactual, for the RR per increment `rr`.
    public func relativeRisk(delta: Double, rr: Double) -> Double { exp(log(rr) / increment * max(0, delta)) }

    /// Attributable cases at `concentration` in a population of `population` with a baseline incidence of
    /// `incidencePer100k` cases per 100,000 per period: central (RR), lower (RR's lower limit), upper (upper limit).
    public func attributable(concentration: Double, incidencePer100k: Double, population: Double) -> Estimate {
        let delta = concentration - counterfactual
        func cases(_ r: Double) -> Double {
            let rrc = relativeRisk(delta: delta, rr: r)
            return (rrc - 1) / rrc * incidencePer100k / 100_000 * population
        }
        return Estimate(central: cases(rr), lower: cases(rrLower), upper: cases(rrUpper))
    }

    /// A central estimate and its range from the RR's confidence interval.
    public struct Estimate: Sendable, Hashable, Codable {
        public var central: Double, lower: Double, upper: Double
        public init(central: Double, lower: Double, upper: Double) { self.central = central; self.lower = lower; self.upper = upper }
        public static func - (a: Estimate, b: Estimate) -> Estimate { Estimate(central: a.central - b.central, lower: a.lower - b.lower, upper: a.upper - b.upper) }
        public static func + (a: Estimate, b: Estimate) -> Estimate { Estimate(central: a.central + b.central, lower: a.lower + b.lower, upper: a.upper + b.upper) }
        public static let zero = Estimate(central: 0, lower: 0, upper: 0)
    }
}
