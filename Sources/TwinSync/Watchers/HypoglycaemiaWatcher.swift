import Foundation

/// Raises an alert when a glucose forecast predicts hypoglycaemia within a horizon.
///
/// At each forecast point up to `horizon` after the forecast's origin, the probability that glucose is
/// below `threshold` is computed from the forecast's normal approximation (`Φ((threshold − mean) / sd)`);
/// the watcher alerts at the first point where it reaches `probability`. Severity is high when the
/// predicted mean itself is below the threshold or below 54 mg/dL (level 2), medium otherwise.
public struct HypoglycaemiaWatcher: Sendable, Hashable {
    public var threshold: Double
    public var horizon: Double
    public var probability: Double
    /// Index of glucose in the forecast's state (or its name).
    public var glucose: String

    public init(glucose: String = "G", threshold: Double = 70, horizon: Double = 30, probability: Double = 0.5) {
        self.glucose = glucose
        self.threshold = threshold
        self.horizon = horizon
        self.probability = probability
    }

    public func evaluate(_ forecast: Forecast) throws -> Alert? {
        guard let hit = try forecast.firstLikelyBelow(threshold, state: glucose, within: horizon, probability: probability) else { return nil }
        let (p, g, pLow) = hit
        let m = p.mean[g], sd = p.standardDeviation[g]
        let minutes = p.time - forecast.origin
        let severity: Alert.Severity = (m < 54 || m < threshold) ? .high : .medium
        return Alert(kind: "hypoglycaemia-predicted", severity: severity, time: forecast.origin,
                     message: String(format: "Hypoglycaemia predicted in %.0f min: glucose %.0f mg/dL (%.0f%% chance below %.0f).", minutes, m, pLow * 100, threshold),
                     reasons: [String(format: "forecast at +%.0f min: mean %.1f, sd %.1f, %.0f%% interval %.1f-%.1f", minutes, m, sd, forecast.level * 100, p.lower[g], p.upper[g]),
                               "forecast by \(forecast.provenance.filter) on \(forecast.provenance.model) from \(forecast.provenance.observationCount) observations"],
                     forecast: forecast.provenance,
                     measures: ["minutesToLow": minutes, "predictedGlucose": (m * 10).rounded() / 10, "probabilityBelow": (pLow * 1000).rounded() / 1000])
    }
}
