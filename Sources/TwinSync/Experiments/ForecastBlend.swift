import Foundation
import TwinModels
import TwinSimulation

/// Graceful degradation: the model's forecast combined with the **last-reading forecast** (the reading at the
/// origin held for the horizon), weighted by their recent errors, so the twin's forecast is never much worse
/// than repeating the last reading for long.
///
/// Both forecasts are scored at the origin without the truth: the forecasts made `horizon` minutes ago target
/// now, and the reading now scores them. Over the last ``Settings/window`` such pairs, with the errors' mean
/// squares `Mm` (model), `Ml` (last reading) and mean product `C`, the model's weight `w` is (``Settings/weighting``)
/// the inverse-MSE weight `Ml / (Mm + Ml)` (the default: it did best on the tuning departures) or the weight that
/// minimises the combination's mean squared error, `(Ml − C) / (Mm + Ml − 2C)` clamped to [0, 1] (sharper: it
/// follows the last reading more closely when the model has lost the person); 1 until ``Settings/minimumPairs``
/// pairs are scored. The combined forecast is `w m + (1 − w) r`. Its sd is the larger of the model's sd and the
/// combination's own recent root-mean-square error against the readings less the reading noise
/// (`√max(Mc − σ², 0)`), so the interval widens when the forecasts have lost the person.
public struct ForecastBlend: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Scored pairs remembered (24: two hours of 5-minute readings).
        public var window = 24
        /// Pairs needed before the last reading gets any weight.
        public var minimumPairs = 6
        public var weighting = Weighting.inverseMeanSquare
        public init() {}
    }

    /// How the model's weight follows from the scored errors.
    public enum Weighting: String, Sendable, Hashable, CaseIterable {
        /// `Ml / (Mm + Ml)`.
        case inverseMeanSquare
        /// `(Ml − C) / (Mm + Ml − 2C)`, clamped to [0, 1].
        case minimumMeanSquare
    }

    public let horizon: Int
    public let noiseStandardDeviation: Double
    public let settings: Settings
    /// Per origin minute: (model forecast, last reading, combined forecast) for the horizon's end.
    private var pending: [Int: (model: Double, last: Double, combined: Double)] = [:]
    /// The scored errors (forecast minus reading) of the model, the last reading and the combination.
    private var scored: [(model: Double, last: Double, combined: Double)] = []
    /// The model's weight in the last combination.
    public private(set) var modelWeight = 1.0

    public init(horizon: Int, noiseStandardDeviation: Double, settings: Settings = Settings()) {
        self.horizon = horizon; self.noiseStandardDeviation = noiseStandardDeviation; self.settings = settings
    }

    /// Scores the forecasts that targeted `origin` against `reading`, then combines the model's forecast
    /// `(mean, sd)` made now with `reading`; returns the combined mean and sd and remembers both for scoring.
    public mutating func combine(origin: Int, reading: Double, model: (mean: Double, sd: Double)) -> (mean: Double, sd: Double) {
        if let past = pending.removeValue(forKey: origin - horizon), reading.isFinite {
            scored.append((past.model - reading, past.last - reading, past.combined - reading))
            if scored.count > settings.window { scored.removeFirst(scored.count - settings.window) }
        }
        var w = 1.0
        var sd = model.sd
        if scored.count >= settings.minimumPairs {
            let n = Double(scored.count)
            let mm = scored.reduce(0) { $0 + $1.model * $1.model } / n, ml = scored.reduce(0) { $0 + $1.last * $1.last } / n
            let c = scored.reduce(0) { $0 + $1.model * $1.last } / n, mc = scored.reduce(0) { $0 + $1.combined * $1.combined } / n
            switch settings.weighting {
            case .inverseMeanSquare:
                w = mm + ml > 0 ? ml / (mm + ml) : 1
            case .minimumMeanSquare:
                let d = mm + ml - 2 * c
                w = d > 1e-12 ? min(max((ml - c) / d, 0), 1) : (mm <= ml ? 1 : 0)
            }
            sd = max(model.sd, max(mc - noiseStandardDeviation * noiseStandardDeviation, 0).squareRoot())
        }
        modelWeight = w
        let combined = reading.isFinite ? w * model.mean + (1 - w) * reading : model.mean
        if reading.isFinite { pending[origin] = (model.mean, reading, combined) }
        return (combined, sd)
    }
}
