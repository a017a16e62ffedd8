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
