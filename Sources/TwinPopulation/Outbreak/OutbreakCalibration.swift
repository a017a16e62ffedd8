import Foundation

/// Calibration of the transmission rate to reported daily counts.
public enum OutbreakCalibration {
    /// The result of ``fitBeta(observed:series:population:scenario:days:seed:runs:range:tolerance:)``.
    public struct Fit: Sendable, Hashable {
        /// The fitted `disease.beta`.
        public var beta: Double
        /// Sum of squared differences between the observed counts and the mean simulated counts at `beta`.
        public var sumOfSquares: Double
        /// Simulations run.
        public var simulations: Int
    }

    /// Fits `scenario.disease.beta` so that the mean over `runs` runs of the daily `series` (by default the
    /// new diagnoses, what is reported; `.newInfections` when infections are known) is closest, in least
    /// squares over days `0 ..< observed.count`, to `observed`.
    ///
    /// Every candidate beta is run with the same run seeds (common random numbers), which makes the
    /// objective nearly smooth in beta; it is minimised by golden-section search on log(beta) over `range`
    /// until the bracket is narrower than `tolerance` (relative). The population and everything else in the
    /// scenario stay fixed.
    ///
    /// - Throws: `PopulationError.invalidArgument` for no observations, a negative or non-finite count, or a
    ///   bad range; the scenario's own validation errors.
    public static func fitBeta(observed: [Double], series: OutbreakSeries = .newDiagnoses, population: SyntheticPopulation,
                               scenario: OutbreakScenario, seed: UInt64, runs: Int = 8, range: ClosedRange<Double> = 0.001...0.2,
                               tolerance: Double = 1e-3) throws(PopulationError) -> Fit {
        guard !observed.isEmpty else { throw PopulationError(.invalidArgument, "calibration: no observed counts", value: "0") }
        if let bad = observed.first(where: { !($0.isFinite && $0 >= 0) }) {
            throw PopulationError(.invalidArgument, "calibration: observed count \(bad) is not a count >= 0", value: "\(bad)")
        }
        guard range.lowerBound > 0, range.upperBound.isFinite, range.upperBound > range.lowerBound else {
            throw PopulationError(.invalidArgument, "calibration: beta range \(range) must be positive and not empty", value: "\(range)")
        }
        guard runs >= 1 else { throw PopulationError(.invalidArgument, "calibration: runs \(runs) must be at least 1", value: "\(runs)") }
        let days = observed.count - 1
        var simulations = 0
        func objective(_ logBeta: Double) throws(PopulationError) -> Double {
            var s = scenario
            s.disease.beta = Foundation.exp(logBeta)
            let e = try OutbreakEnsemble.simulate(population: population, scenario: s, days: days, seed: seed, runs: 0..<runs)
            simulations += runs
            var sse = 0.0
            for d in 0...days {
                let mean = e.runs.reduce(0.0) { $0 + Double($1.counts[series.rawValue][d]) } / Double(runs)
                sse += (mean - observed[d]) * (mean - observed[d])
            }
            return sse
        }
        let phi = (5.0.squareRoot() - 1) / 2
        var a = Foundation.log(range.lowerBound), b = Foundation.log(range.upperBound)
        var c = b - phi * (b - a), d = a + phi * (b - a)
        var fc = try objective(c), fd = try objective(d)
        while b - a > tolerance {
            if fc <= fd { b = d; d = c; fd = fc; c = b - phi * (b - a); fc = try objective(c) }
            else { a = c; c = d; fc = fd; d = a + phi * (b - a); fd = try objective(d) }
        }
        let best = fc <= fd ? c : d
        return Fit(beta: Foundation.exp(best), sumOfSquares: min(fc, fd), simulations: simulations)
    }
}
