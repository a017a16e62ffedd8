import Foundation

/// Raises an alert when a forecast of mean arterial pressure predicts hypotension within a horizon: at each forecast
/// point up to `horizon` after the origin, the probability that the pressure is below `threshold` (65 mmHg by
/// default, ``LowPressureReading/level1``) from the forecast's normal approximation, `Φ((threshold − mean) / sd)`;
/// the watcher alerts at the first point where it reaches `probability`. Severity is high when the predicted mean
/// itself is below the threshold, medium otherwise. Times are in the forecast's unit, named by `timeUnit` in the
/// message.
public struct HypotensionWatcher: Sendable, Hashable {
    public var threshold: Double
    public var horizon: Double
    public var probability: Double
    /// The forecast state holding the mean arterial pressure (its name).
    public var pressure: String
    /// The forecast's time unit as words show it (`min`, `h`).
    public var timeUnit: String

    public init(pressure: String = "MAP", threshold: Double = LowPressureReading.level1, horizon: Double = 30, probability: Double = 0.5, timeUnit: String = "min") {
        self.pressure = pressure; self.threshold = threshold; self.horizon = horizon; self.probability = probability; self.timeUnit = timeUnit
    }

    /// The alert, or nil when no point within the horizon reaches the probability.
    /// - Throws: ``SyncError`` `invalidArgument` when the forecast has no state ``pressure`` or the probability is
    ///   outside (0, 1].
    public func evaluate(_ forecast: Forecast) throws -> Alert? {
        guard let hit = try forecast.firstLikelyBelow(threshold, state: pressure, within: horizon, probability: probability) else { return nil }
        let (p, k, below) = hit
        let m = p.mean[k], sd = p.standardDeviation[k]
        let ahead = p.time - forecast.origin
        return Alert(kind: "hypotension-predicted", severity: m < threshold ? .high : .medium, time: forecast.origin,
                     message: String(format: "Hypotension predicted in %g %@: mean arterial pressure %.0f mmHg (%.0f%% chance below %.0f).",
                                     (ahead * 10).rounded() / 10, timeUnit, m, below * 100, threshold),
                     reasons: [String(format: "forecast at +%g %@: mean %.1f, sd %.1f, %.0f%% interval %.1f-%.1f", (ahead * 10).rounded() / 10, timeUnit, m, sd,
                                      forecast.level * 100, p.lower[k], p.upper[k]),
                               "forecast by \(forecast.provenance.filter) on \(forecast.provenance.model) from \(forecast.provenance.observationCount) observations"],
                     forecast: forecast.provenance,
                     measures: ["timeToLow": ahead, "predictedPressure": (m * 10).rounded() / 10, "probabilityBelow": (below * 1000).rounded() / 1000])
    }
}
