import TwinSimulation
import Foundation

/// A forecast of a twin's state with prediction intervals, and what it was made from.
///
/// Every forecast carries its ``Provenance`` (filter, model, data window, seed) so that it can be
/// recorded in the thread and reproduced exactly later.
public struct Forecast: Sendable, Hashable {
    public struct Point: Sendable, Hashable {
        public let time: Double
        public let mean: [Double]
        public let standardDeviation: [Double]
        /// Lower and upper ends of the central prediction interval at ``Forecast/level``.
        public let lower: [Double]
        public let upper: [Double]
    }

    public struct Provenance: Sendable, Hashable {
        /// The filter whose belief the forecast starts from (e.g. "UKF", "EnKF(100)").
        public var filter: String
        /// The model and its version.
        public var model: String
        /// Effective times of the first and last observation assimilated.
        public var dataWindow: ClosedRange<Double>?
        public var observationCount: Int
        /// The seed of any random draws (ensemble forecasts).
        public var seed: UInt64?
        public init(filter: String, model: String, dataWindow: ClosedRange<Double>? = nil, observationCount: Int = 0, seed: UInt64? = nil) {
            self.filter = filter; self.model = model; self.dataWindow = dataWindow; self.observationCount = observationCount; self.seed = seed
        }
    }

    /// When the forecast was made (the filter's time).
    public let origin: Double
    public let stateNames: [String]
    public let level: Double
    public let points: [Point]
    public let method: String
    public let provenance: Provenance

    /// The forecast point at `time`, if one was computed.
    public func point(at time: Double) -> Point? { points.first { $0.time == time } }

    /// The first point after the origin, within `horizon` of it, where the state `name` is below `threshold` with at
    /// least `probability`, from the point's normal approximation `Φ((threshold − mean) / sd)` (a point with sd 0 is
    /// below with probability 1 when its mean is below the threshold, else 0). Nil when no such point exists.
    ///
    /// The scan every "predicted low" watcher makes (hypoglycaemia, hypotension), in one place.
    /// - Throws: ``SyncError`` `invalidArgument` when the forecast has no state `name` (naming the states it has) or
    ///   `probability` is not in (0, 1].
    public func firstLikelyBelow(_ threshold: Double, state name: String, within horizon: Double, probability: Double) throws
        -> (point: Point, index: Int, probability: Double)? {
        guard let k = stateNames.firstIndex(of: name) else {
            throw SyncError(.invalidArgument, "the forecast has no state named '\(name)' (it has \(stateNames.joined(separator: ", "))).", value: name)
        }
        guard probability > 0, probability <= 1 else { throw SyncError(.invalidArgument, "alert probability must be in (0, 1].", value: String(probability)) }
        for p in points where p.time > origin && p.time <= origin + horizon {
            let m = p.mean[k], sd = p.standardDeviation[k]
            let below = sd > 0 ? 0.5 * erfc(-(threshold - m) / (sd * 2.0.squareRoot())) : (m < threshold ? 1 : 0)
            if below >= probability { return (p, k, below) }
        }
        return nil
    }
}

extension SequentialFilter {
    /// Forecasts by propagating the filter's belief without observations (for the Gaussian filters, the
    /// filter's own predict: sigma-point propagation for the UKF, linearisation for the EKF, exact for the
    /// KF); intervals are `mean ± z σ` with `z = Φ⁻¹((1 + level) / 2)`.
    ///
    /// The filter itself is not changed. Times must be ascending and not before the filter's time.
    public func forecast(at times: [Double], level: Double = 0.95, provenance: Forecast.Provenance) async throws -> Forecast {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        guard zip(times, times.dropFirst()).allSatisfy({ $0 <= $1 }), (times.first ?? time) >= time else {
            throw SyncError(.invalidTime, "forecast times must be ascending and not before the filter's time \(time).", value: times.map { String($0) }.joined(separator: ","))
        }
        let z = inverseStandardNormal(0.5 + level / 2)
        var copy = self
        var points: [Forecast.Point] = []
        for t in times {
            try await copy.predict(to: t)
            let m = copy.mean, sd = copy.standardDeviations
            points.append(Forecast.Point(time: t, mean: m, standardDeviation: sd,
                                         lower: zip(m, sd).map { $0 - z * $1 }, upper: zip(m, sd).map { $0 + z * $1 }))
        }
        return Forecast(origin: time, stateNames: stateNames, level: level, points: points, method: "gaussian-propagation", provenance: provenance)
    }
}

extension EnsembleKalmanFilter {
    /// Forecasts by propagating every member (with process noise drawn from the filter's own seeded
    /// generator): the mean and standard deviation are sample statistics and the interval ends are
    /// empirical quantiles, so skewed forecasts keep their shape.
    public func ensembleForecast(at times: [Double], level: Double = 0.95, provenance: Forecast.Provenance) async throws -> Forecast {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        var copy = self
        var points: [Forecast.Point] = []
        let n = process.dimension
        for t in times {
            try await copy.predict(to: t)
            let members = copy.members
            let weights = [Double](repeating: 1 / Double(count), count: count)
            points.append(weightedPoint(time: t, members: members, weights: weights, count: count, dimension: n, level: level))
        }
        return Forecast(origin: time, stateNames: stateNames, level: level, points: points, method: "ensemble", provenance: provenance)
    }
}

extension ParticleFilter {
    /// Forecasts by propagating the weighted particles; interval ends are weighted empirical quantiles.
    public func ensembleForecast(at times: [Double], level: Double = 0.95, provenance: Forecast.Provenance) async throws -> Forecast {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        var copy = self
        var points: [Forecast.Point] = []
        for t in times {
            try copy.predict(to: t)
            points.append(weightedPoint(time: t, members: copy.particles, weights: copy.weights, count: count, dimension: process.dimension, level: level))
        }
        return Forecast(origin: time, stateNames: stateNames, level: level, points: points, method: "particles", provenance: provenance)
    }
}

func weightedPoint(time: Double, members: [Double], weights: [Double], count: Int, dimension n: Int, level: Double) -> Forecast.Point {
    var mean = [Double](repeating: 0, count: n), sd = mean, lower = mean, upper = mean
    for j in 0..<n {
        var m = 0.0
        for i in 0..<count { m += weights[i] * members[i * n + j] }
        var v = 0.0
        for i in 0..<count { let d = members[i * n + j] - m; v += weights[i] * d * d }
        if count > 1 { v *= Double(count) / Double(count - 1) }
        mean[j] = m; sd[j] = v.squareRoot()
        let order = (0..<count).sorted { members[$0 * n + j] < members[$1 * n + j] }
        let lo = (1 - level) / 2, hi = 1 - lo
        var cum = 0.0
        var gotLower = false
        for i in order {
            cum += weights[i]
            if !gotLower && cum >= lo { lower[j] = members[i * n + j]; gotLower = true }
            if cum >= hi { upper[j] = members[i * n + j]; break }
        }
        if cum < hi, let last = order.last { upper[j] = members[last * n + j] }
    }
    return Forecast.Point(time: time, mean: mean, standardDeviation: sd, lower: lower, upper: upper)
}
