import Foundation
import TwinModels
import TwinSimulation

/// People who depart from the glucose twin's model, made in Swift (issue 26), to tune and measure the twin's
/// robustness before the simglucose set lands: a ``TwinModels/VirtualPatient`` simulated with
///
/// - meals eaten larger or smaller than announced (`eaten = announced × (b + ε)`, `ε ~ N(0, mealError²)` per meal, `b` = ``Settings/mealBias``,
///   at least 10 % of the announced amount), the bolus given for the announced amount (the insulin is that of
///   simglucose's basal-bolus controller on the announced meals);
/// - unannounced snacks (``Settings/snacks`` of ``Settings/snackGrams`` at random minutes);
/// - insulin sensitivity varying over the day: `Vmx × exp(a sin(2π t / 24 h))`, `a` = ``Settings/sensitivityAmplitude``;
/// - a CGM error that is not white: an AR(1) error of sd ``Settings/sensorSD`` and correlation time
///   ``Settings/sensorCorrelationTime`` plus white noise of ``Settings/whiteSD``.
///
/// The twin is given the **announced** meals and the insulin, never the eaten meals. The truth is integrated by
/// ``GlucoseTwinProcess`` (the twin's own RK4 of simglucose's model) with the patient's exact parameters.
/// Deterministic for a given patient, plan, settings and seed.
public enum GlucoseDepartures {
    public struct Settings: Sendable, Hashable {
        /// Eaten over announced on average (1: announced right on average).
        public var mealBias = 1.0
        /// Relative sd of each meal's eaten amount around `mealBias × announced`.
        public var mealError = 0.25
        public var snacks = 2
        public var snackGrams = 10.0...30.0
        public var sensitivityAmplitude = 0.25
        public var sensorSD = 7.0
        public var sensorCorrelationTime = 20.0
        public var whiteSD = 4.0
        /// Minutes between CGM readings.
        public var samplingPeriod = 5
        public init() {}
    }

    /// One departing person: per minute the noise-free BG, the announced and eaten carbohydrate (g at the minute
    /// announced or eaten), the insulin (U/min) and the CGM reading (NaN between readings).
    public struct Person: Sendable {
        public let name: String
        public let bg: [Double]
        public let announced: [Double]
        public let eaten: [Double]
        public let insulin: [Double]
        public let readings: [Double]
        public let samplingPeriod: Int
    }

    /// Simulates `patient` on the announced `meals` for `hours` with the departures of `settings`.
    /// - Throws: the simulator's or the process's errors.
    public static func person(_ patient: VirtualPatient, meals: MealPlan, hours: Double = 24, settings: Settings = Settings(), seed: UInt64 = 1) throws -> Person {
        guard settings.samplingPeriod > 0 else {
            throw SyncError(.invalidArgument, "the CGM sampling period must be a positive number of minutes.", value: String(settings.samplingPeriod))
        }
        let announcedRun = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: meals, hours: hours))
        let announced = announcedRun.carbohydrate, insulin = announcedRun.insulin
        let minutes = announced.count
        var rng = Xoshiro256StarStar(seed: seed)
        var eaten = announced
        for m in eaten.indices where eaten[m] > 0 { eaten[m] *= max(0.1, settings.mealBias + settings.mealError * rng.normal()) }
        if minutes > 240 {
            for _ in 0..<settings.snacks {
                let m = 60 + Int(rng.uniform() * Double(minutes - 180))
                eaten[m] += settings.snackGrams.lowerBound + rng.uniform() * (settings.snackGrams.upperBound - settings.snackGrams.lowerBound)
            }
        }
        let p = patient.parameters
        let process = try GlucoseTwinProcess(population: p, carbohydrate: eaten, insulin: insulin, estimated: ["Vmx"],
                                             noiseRate: [Double](repeating: 0, count: 15))
        var state = patient.initialState + [patient.initialState[0] + patient.initialState[1], 0]
        var bg = [Double](repeating: 0, count: minutes + 1)
        bg[0] = state[12] / p.Vg
        for m in 0..<minutes {
            state[14] = settings.sensitivityAmplitude * sin(2 * Double.pi * Double(m) / 1440)
            try state.withUnsafeMutableBufferPointer { try process.propagate($0, from: Double(m), over: 1) }
            bg[m + 1] = state[12] / p.Vg
        }
        bg.removeLast()   // one BG per input minute, as a trace's rows
        let phi = exp(-Double(settings.samplingPeriod) / settings.sensorCorrelationTime)
        var e = settings.sensorSD * rng.normal()
        var readings = [Double](repeating: .nan, count: minutes)
        for k in stride(from: 0, to: minutes, by: settings.samplingPeriod) {
            if k > 0 { e = phi * e + (1 - phi * phi).squareRoot() * settings.sensorSD * rng.normal() }
            readings[k] = max(bg[k] + e + settings.whiteSD * rng.normal(), 1)
        }
        return Person(name: patient.name, bg: bg, announced: announced, eaten: eaten, insulin: insulin, readings: readings, samplingPeriod: settings.samplingPeriod)
    }

    /// How a twin forecast a departing person: RMSE of the `horizon`-minute forecast against the noise-free BG
    /// after the burn-in, the same for the last-reading forecast, and the share of the truths inside the
    /// forecast's central interval of `level`.
    public struct Score: Sendable {
        public let rmse: Double
        public let lastReadingRMSE: Double
        public let coverage: Double
        public let forecasts: Int
        /// The mean model-error scale of the filter at the end (``GlucoseFilterBank/noiseScales``).
        public let noiseScale: Double
        public var ratio: Double { rmse / lastReadingRMSE }
    }

    /// Runs a bank of filters from `priors` (announced meals only) over the person's readings, forecasting
    /// `horizon` minutes ahead after every reading, optionally combined with the last reading (`blend`).
    public static func score(_ person: Person, priors: [GlucoseSyncExperiment.Population], settings: GlucoseFilterBank.Settings,
                             blend: ForecastBlend.Settings? = nil, horizon: Int = 30, burnIn: Int = 60, level: Double = 0.9) throws -> Score {
        let period = person.samplingPeriod
        guard horizon > 0, horizon % period == 0 else {
            throw SyncError(.invalidArgument, "the horizon must be a positive multiple of the sampling period (\(period) min).", value: String(horizon))
        }
        let z = inverseStandardNormal(0.5 + level / 2)
        var bank = try GlucoseFilterBank(priors: priors, carbohydrate: person.announced, insulin: person.insulin, minute: 0,
                                         firstReading: person.readings[0], settings: settings)
        var combiner = blend.map { ForecastBlend(horizon: horizon, noiseStandardDeviation: settings.noiseStandardDeviation, settings: $0) }
        var errors: [Double] = [], persistence: [Double] = []
        var inside = 0
        let minutes = person.bg.count
        for k in stride(from: 0, to: minutes, by: period) {
            try bank.assimilate(minute: k, reading: person.readings[k])
            let target = k + horizon
            guard target < minutes else { continue }
            let points = try bank.forecast(at: Array(stride(from: k + period, through: target, by: period)), z: z)
            guard let final = points.last else { continue }
            var mean = final.mean[12], sd = final.standardDeviation[12]
            if combiner != nil { (mean, sd) = combiner!.combine(origin: k, reading: person.readings[k], model: (mean, sd)) }
            guard k >= burnIn else { continue }
            errors.append(mean - person.bg[target])
            persistence.append(person.readings[k] - person.bg[target])
            if abs(mean - person.bg[target]) <= z * sd { inside += 1 }
        }
        func rms(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : (xs.reduce(0) { $0 + $1 * $1 } / Double(xs.count)).squareRoot() }
        let scales = bank.noiseScales
        return Score(rmse: rms(errors), lastReadingRMSE: rms(persistence), coverage: errors.isEmpty ? .nan : Double(inside) / Double(errors.count),
                     forecasts: errors.count, noiseScale: scales.reduce(0, +) / Double(max(scales.count, 1)))
    }
}

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
