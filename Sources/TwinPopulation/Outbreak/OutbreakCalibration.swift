import Foundation
import TwinCore

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
    /// scenario stay fixed (the `contacts` observed in pings too, when given).
    ///
    /// - Throws: `PopulationError.invalidArgument` for no observations, a negative or non-finite count, or a
    ///   bad range; the scenario's own validation errors.
    public static func fitBeta(observed: [Double], series: OutbreakSeries = .newDiagnoses, population: SyntheticPopulation,
                               scenario: OutbreakScenario, seed: UInt64, runs: Int = 8, range: ClosedRange<Double> = 0.001...0.2,
                               tolerance: Double = 1e-3, contacts: ObservedCommunity? = nil) throws(PopulationError) -> Fit {
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
            let e = try OutbreakEnsemble.simulate(population: population, scenario: s, days: days, seed: seed, runs: 0..<runs,
                                                  observed: contacts)
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

    /// Reads reported daily counts from CSV text with a header holding `day` and `count` (other columns are
    /// ignored): days 0, 1, ... each exactly once (in any order), counts numbers >= 0.
    /// - Throws: `PopulationError.invalidArgument` naming the line and the value (a missing column, a day
    ///   given twice or missing, a negative count).
    public static func readDailyCounts(csv text: String, name: String) throws(PopulationError) -> [Double] {
        let reader = CSVReader(text: text, name: name)
        func fail(_ message: String, _ value: String) -> PopulationError {
            PopulationError(.invalidArgument, "\(name): \(message)", value: value)
        }
        var header: [String]?
        var dayColumn = 0, countColumn = 0
        var byDay: [Int: Double] = [:]
        while true {
            let record: CSVReader.Record?
            do { record = try reader.next() } catch { throw fail("\(error)", name) }
            guard let record else { break }
            if record.isBlank { continue }
            let fields = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            guard header != nil else {
                header = fields.map { $0.lowercased() }
                guard let d = header!.firstIndex(of: "day"), let c = header!.firstIndex(of: "count") else {
                    throw fail("the header needs the columns day and count; it has \(fields.joined(separator: ", "))", fields.joined(separator: ","))
                }
                dayColumn = d; countColumn = c
                continue
            }
            guard fields.count > max(dayColumn, countColumn) else { throw fail("line \(record.line) has \(fields.count) fields", fields.joined(separator: ",")) }
            guard let day = Int(fields[dayColumn]), day >= 0, day <= 3650 else {
                throw fail("line \(record.line): day '\(fields[dayColumn])' is not a whole number in 0...3650", fields[dayColumn])
            }
            guard let count = Double(fields[countColumn]), count.isFinite, count >= 0 else {
                throw fail("line \(record.line): count '\(fields[countColumn])' is not a number >= 0", fields[countColumn])
            }
            guard byDay[day] == nil else { throw fail("line \(record.line): day \(day) is given twice", String(day)) }
            byDay[day] = count
        }
        guard !byDay.isEmpty else { throw fail("no daily counts", name) }
        let last = byDay.keys.max()!
        if let missing = (0...last).first(where: { byDay[$0] == nil }) {
            throw fail("day \(missing) is missing (give every day from 0 to \(last))", String(missing))
        }
        return (0...last).map { byDay[$0]! }
    }
}
