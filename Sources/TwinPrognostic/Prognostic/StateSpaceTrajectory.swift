import Foundation
import TwinCore

/// A probabilistic sequence model of one outcome over a person's whole history: a continuous-time linear Gaussian
/// state-space model whose hyperparameters are learned from a cohort by maximum marginal likelihood (the Kalman
/// filter's), and whose prediction for a person is the filter's forecast from that person's own sequence, with a
/// predictive standard deviation.
///
/// The person's outcome `y(t) = L(t) + D(t) + ε` (time `t` in years, values in the outcome's unit):
/// - a level `L` with a personal slope `S` (`dL = S dt + √qL dW`; `S` constant per person);
/// - a mean-reverting deviation `D` (an Ornstein-Uhlenbeck process: rate `κ` per year, stationary sd `σD`): the
///   visit-to-visit swings that revert;
/// - measurement noise `ε ~ N(0, σe²)`.
/// At a person's first value, `L ~ N(a + b (age − age₀)/10 + c (male − ½), sL²)` (age or sex missing: that term 0),
/// `S ~ N(μS, sS²)`, `D ~ N(0, σD²)`. The ten hyperparameters are shared by the cohort, so a person with one value is
/// predicted from the population, and a person with many from their own level and trend, shrunk as the data say
/// (the filter does the shrinking: no tuning per person).
///
/// Fitting: Nelder-Mead on the sum over people of the filter's negative log marginal likelihood (scales on log
/// scale), each person's most recent ``maxPointsPerPerson`` values. Exact Kalman recursion on a 3-state model, so
/// the cost is linear in the number of values.
public struct StateSpaceTrajectory: Sendable, Hashable, Codable {
    /// Population level at the first value (outcome unit), its change per 10 years of age at that value and for male sex.
    public var level: Double, levelPerDecade: Double, levelMale: Double
    /// Sd of the first value's level around the population's (between people), outcome unit.
    public var levelSD: Double
    /// Mean and sd (between people) of the personal slope, outcome unit per year.
    public var slopeMean: Double, slopeSD: Double
    /// Diffusion of the level, outcome unit² per year.
    public var levelDiffusion: Double
    /// Reversion rate of the deviation (per year) and its stationary sd (outcome unit).
    public var reversionRate: Double, deviationSD: Double
    /// Measurement noise sd, outcome unit.
    public var noiseSD: Double
    /// The age the level's age term is centred on (years): the fitting people's mean age at their first value.
    public var ageCentre: Double
    /// Negative log marginal likelihood at the fit, over `fittedValues` values of `fittedPeople` people.
    public var negativeLogLikelihood: Double
    public var fittedPeople: Int, fittedValues: Int

    /// At most this many of a person's most recent values enter the fit's likelihood (a dense sensor series would
    /// otherwise dominate the cohort and the cost).
    public static let maxPointsPerPerson = 1_000
    static let year = 365.25 * 86_400

    /// One person's sequence: times (years, any origin), values, and the person's age at the first value and sex.
    struct Sequence {
        var times: [Double]
        var values: [Double]
        var age: Double?
        var male: Double?
    }

    static func sequence(_ points: ArraySlice<PersonHistory.Point>, birthDate: Instant?, male: Double?) -> Sequence {
        let times = points.map { $0.time.seconds / year }
        let age = birthDate.flatMap { b in points.first.map { ($0.time.seconds - b.seconds) / year } }
        return Sequence(times: times, values: points.map(\.value), age: age, male: male)
    }

    /// Runs the filter over `s`; returns the negative log likelihood and, when `ahead` is given, the predictive
    /// mean and sd of a new value `ahead` years after the last.
    func filter(_ s: Sequence, ahead: Double? = nil) -> (nll: Double, mean: Double, sd: Double) {
        let n = s.values.count
        guard n > 0 else { return (0, .nan, .nan) }
        let ageTerm = s.age.map { levelPerDecade * ($0 - ageCentre) / 10 } ?? 0
        let sexTerm = s.male.map { levelMale * ($0 - 0.5) } ?? 0
        var l = level + ageTerm + sexTerm, sl = slopeMean, d = 0.0
        var p11 = levelSD * levelSD, p12 = 0.0, p13 = 0.0, p22 = slopeSD * slopeSD, p23 = 0.0, p33 = deviationSD * deviationSD
        let r = noiseSD * noiseSD, q = levelDiffusion, v33 = deviationSD * deviationSD
        var nll = 0.0
        var last = s.times[0]
        func propagate(_ dt: Double) {
            let phi = exp(-reversionRate * dt)
            l += sl * dt; d *= phi
            let n11 = p11 + 2 * dt * p12 + dt * dt * p22 + q * dt
            let n12 = p12 + dt * p22
            let n13 = phi * (p13 + dt * p23)
            let n23 = phi * p23
            let n33 = phi * phi * p33 + v33 * (1 - phi * phi)
            p11 = n11; p12 = n12; p13 = n13; p23 = n23; p33 = n33
        }
        for i in 0..<n {
            let dt = max(0, s.times[i] - last)
            if dt > 0 { propagate(dt) }
            last = s.times[i]
            let a1 = p11 + p13, a2 = p12 + p23, a3 = p13 + p33
            let sv = a1 + a3 + r
            let innovation = s.values[i] - (l + d)
            nll += 0.5 * (log(2 * Double.pi * sv) + innovation * innovation / sv)
            let k1 = a1 / sv, k2 = a2 / sv, k3 = a3 / sv
            l += k1 * innovation; sl += k2 * innovation; d += k3 * innovation
            p11 -= a1 * k1; p12 -= a1 * k2; p13 -= a1 * k3
            p22 -= a2 * k2; p23 -= a2 * k3; p33 -= a3 * k3
        }
        guard let ahead else { return (nll, .nan, .nan) }
        propagate(max(0, ahead))
        let variance = p11 + 2 * p13 + p33 + r
        return (nll, l + d, max(variance, 0).squareRoot())
    }

    /// The predictive mean and sd of the outcome `ahead` seconds after the last of `points` (the person's values up to
    /// the index time, in time order); nil without points.
    public func predict(_ points: ArraySlice<PersonHistory.Point>, birthDate: Instant?, male: Double?, aheadSeconds: Double) -> (mean: Double, sd: Double)? {
        guard !points.isEmpty else { return nil }
        let s = Self.sequence(points.suffix(Self.maxPointsPerPerson), birthDate: birthDate, male: male)
        let f = filter(s, ahead: aheadSeconds / Self.year)
        return (f.mean, f.sd)
    }

    /// Fits the hyperparameters to the people's outcome series.
    /// - Throws: ``PrognosticError`` `tooFewData` with fewer than two people or fewer than ten values in all.
    public static func fit(_ people: [(points: [PersonHistory.Point], birthDate: Instant?, male: Double?)]) throws -> StateSpaceTrajectory {
        let sequences = people.filter { !$0.points.isEmpty }.map { sequence($0.points.suffix(maxPointsPerPerson), birthDate: $0.birthDate, male: $0.male) }
        let values = sequences.reduce(0) { $0 + $1.values.count }
        guard sequences.count >= 2, values >= 10 else {
            throw PrognosticError(.tooFewData, "a sequence model needs at least 2 people and 10 values; it has \(sequences.count) and \(values)", value: "\(values)")
        }
        let firsts = sequences.map { $0.values[0] }
        let mean = firsts.reduce(0, +) / Double(firsts.count)
        let all = sequences.flatMap(\.values)
        let allMean = all.reduce(0, +) / Double(all.count)
        let sd = max((all.reduce(0) { $0 + ($1 - allMean) * ($1 - allMean) } / Double(max(all.count - 1, 1))).squareRoot(), 1e-6)
        let ages = sequences.compactMap(\.age)
        let ageCentre = ages.isEmpty ? 0 : ages.reduce(0, +) / Double(ages.count)
        func model(_ t: [Double]) -> StateSpaceTrajectory {
            func positive(_ x: Double) -> Double { exp(min(max(x, -30), 30)) }
            return StateSpaceTrajectory(level: t[0], levelPerDecade: t[1], levelMale: t[2], levelSD: positive(t[3]), slopeMean: t[4], slopeSD: positive(t[5]),
                                        levelDiffusion: positive(t[6]), reversionRate: positive(t[7]), deviationSD: positive(t[8]), noiseSD: positive(t[9]),
                                        ageCentre: ageCentre, negativeLogLikelihood: 0, fittedPeople: sequences.count, fittedValues: values)
        }
        func objective(_ t: [Double]) -> Double {
            let m = model(t)
            var total = 0.0
            for s in sequences { total += m.filter(s).nll }
            return total
        }
        let start = [mean, 0, 0, log(sd), 0, log(sd / 10), log(sd * sd / 100), log(1.0), log(sd / 2), log(sd / 3)]
        let step = [sd / 2, sd / 4, sd / 4, 0.5, sd / 10, 0.5, 1, 0.7, 0.5, 0.5]
        let result = NelderMead.minimise(objective, start: start, step: step, tolerance: 1e-6, maxEvaluations: 6_000)
        var fitted = model(result.x)
        fitted.negativeLogLikelihood = result.value
        return fitted
    }
}
