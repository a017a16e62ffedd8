import Foundation
import TwinModels

/// A glucose twin's belief as a **bank of priors**: one unscented Kalman filter per candidate prior (for
/// example the other virtual patients of the person's age group), run side by side on the same readings, each
/// weighted by how well it predicted them (Bayesian model averaging with forgetting, so the weights can move
/// when the person's behaviour changes); optionally re-calibrated from the readings it has seen
/// (``GlucoseRecalibration``). The twin's estimate and forecast are the weighted mixture.
///
/// Used by ``GlucoseSyncExperiment`` and by ``GlucoseSynchroniser`` (prior ``GlucoseSynchroniser/Prior/cohort``).
///
/// Guarantees:
/// - Deterministic: the same priors, inputs, settings and readings give the same weights and forecasts.
/// - A candidate whose filter fails (non-finite state, a covariance that cannot be repaired) or whose belief
///   leaves the physiological range (glucose outside ``Settings/plausibleGlucose``, or an estimated parameter
///   more than e^``Settings/parameterLimit`` times its prior value) is **retired** from the bank and recorded in
///   ``retirements`` with the reason. The last candidate is not retired but **restarted** from its prior at the
///   latest reading (its estimate discarded; recorded in ``retirements`` as a restart), at most
///   ``Settings/maximumRestarts`` times; after that the error is thrown (``SyncError`` `diverged`, or the
///   filter's own), so the bank never reports a silently wrong state.
/// - Only readings already assimilated are used by re-calibration.
public struct GlucoseFilterBank: Sendable {
    /// How the filters are set up, weighted and re-calibrated.
    public struct Settings: Sendable, Hashable {
        /// CGM noise standard deviation (mg/dL).
        public var noiseStandardDeviation = 8.0
        /// Parameters estimated by state augmentation (log-multipliers of each prior's value).
        public var estimated = ["Vmx", "kp3", "kabs"]
        /// Per-minute random-walk sd of each model state, as a fraction of its basal value (model error).
        public var stateNoise = 0.004
        /// Per-minute random-walk sd of each estimated log-parameter.
        public var parameterNoise = 0.01
        /// Prior sd of each estimated log-parameter.
        public var parameterPriorSD = 0.3
        /// Exponent applied to the previous log-weights at each reading (1: no forgetting).
        public var candidateForgetting = 0.95
        /// When set, ``recalibrate(at:)`` refits the bank's most probable filter (or every filter with a
        /// weight of at least 1 % when ``recalibrationAddsCandidate`` is false).
        public var recalibration: GlucoseRecalibration?
        /// Prior sd of the augmented log-parameters of a filter restarted on refit parameters.
        public var recalibratedParameterSD = 0.1
        /// Whether a restarted filter takes the state simulated with the refit parameters (true) or keeps its
        /// own filtered state (false).
        public var recalibratedState = true
        /// A refit is taken only when it lowers the window's penalised sum of squared standardised residuals
        /// by at least this much; 0 takes every refit.
        public var recalibrationMinimumGain = 0.0
        /// When true, only the most probable filter is re-calibrated and the refit **joins** the bank as a new
        /// candidate (with its parent's weight) instead of replacing it, so a refit that predicts worse loses
        /// weight instead of harming the forecast (over the 90-run survey with a cohort bank, refits that join
        /// were never more than 0.5 mg/dL worse than no re-calibration; refits that replace were up to 3.7 mg/dL
        /// worse on some runs).
        public var recalibrationAddsCandidate = true
        /// Glucose (mg/dL) a candidate's mean may take; outside it the candidate is retired.
        public var plausibleGlucose = 5.0...1500.0
        /// Largest |log-multiplier| of an estimated parameter before the candidate is retired.
        public var parameterLimit = 4.0
        /// Largest |log-multiplier| with which an estimated parameter takes effect in the model
        /// (``GlucoseTwinProcess/logMultiplierBound``); infinite (no bound) by default, the synchroniser bounds it.
        public var parameterBound = Double.infinity
        /// When the bank's last candidate diverges, it is restarted from its prior at the latest reading (a
        /// recorded reset), at most this many times in all; after that the error is thrown.
        public var maximumRestarts = 3
        /// Relative sd of an announced meal's size (``GlucoseTwinProcess/carbohydrateUncertainty``): 0 takes the
        /// announced amount as exact.
        public var carbohydrateUncertainty = 0.0
        /// Per-minute random-walk sd (mg) of the three gut compartments (`qss`, `qsl`, `qint`): model error where
        /// meals eaten differ from the announced ones; 0: only ``stateNoise`` (basal gut content is 0, so that is
        /// next to nothing). The default, 200, did best on the tuning people of issue 26 (`twinbank-bench
        /// glucose-departures --split tune`) and on simglucose's own people it moves the 30-minute forecast little
        /// (the in-model survey: 17 of 30 within 10 mg/dL either way, the worst 37.7 instead of 44.5 mg/dL).
        public var gutNoise = 200.0
        /// When set, the CGM error is not white: this part of its variance (``sensorErrorFraction``) is an AR(1)
        /// state of this correlation time (minutes; ``GlucoseTwinProcess/SensorError``), the rest white.
        public var sensorErrorCorrelationTime: Double?
        /// The share of the CGM noise variance (``noiseStandardDeviation``²) that is correlated, with
        /// ``sensorErrorCorrelationTime``; in (0, 1).
        public var sensorErrorFraction = 0.7
        /// When set, each filter's model-state process noise is scaled by an innovation-based estimate
        /// (``AdaptiveNoise``).
        public var adaptiveNoise: AdaptiveNoise?
        public init() {}

        /// The correlated sensor error these settings give, or `nil`.
        public var sensorError: GlucoseTwinProcess.SensorError? {
            sensorErrorCorrelationTime.map { .init(correlationTime: $0, standardDeviation: noiseStandardDeviation * sensorErrorFraction.squareRoot()) }
        }
        /// The sd of the white part of the CGM noise.
        public var whiteNoiseStandardDeviation: Double {
            sensorErrorCorrelationTime == nil ? noiseStandardDeviation : noiseStandardDeviation * (1 - sensorErrorFraction).squareRoot()
        }
    }

    /// Model error estimated from the innovations (covariance matching): after each reading, the mean of the
    /// last ``window`` normalised squared innovations `ν²/S` of a filter is compared with 1, and the filter's
    /// model-state process noise variance is multiplied by it (`scale ← clamp(scale × mean, bounds)`), so a person
    /// the model explains poorly gets more process noise (wider intervals, faster correction), and one it explains
    /// well keeps the configured noise or less.
    public struct AdaptiveNoise: Sendable, Hashable {
        /// Readings in the window (12: an hour of 5-minute readings).
        public var window = 12
        /// The range the scale stays in.
        public var bounds = 0.5...20.0
        /// How far one step moves the scale toward the estimate (0-1: the exponent on the ratio).
        public var gain = 0.5
        public init() {}
    }

    /// A candidate that left the bank, and why.
    public struct Retirement: Sendable, Hashable {
        public let candidate: String
        public let minute: Int
        public let reason: String
        /// True when the candidate was the bank's last and was restarted from its prior at the reading of
        /// `minute` instead (its earlier estimate discarded), false when it left the bank.
        public var restarted = false
    }

    public let settings: Settings
    public let priors: [GlucoseSyncExperiment.Population]
    public private(set) var filters: [UnscentedKalmanFilter<GlucoseTwinProcess>] = []
    /// Per filter: the index of the prior it descends from (a refit keeps its parent's prior).
    public private(set) var parent: [Int]
    public private(set) var weights: [Double]
    public private(set) var alive: [Bool]
    public private(set) var retirements: [Retirement] = []
    /// How many filters were re-calibrated and restarted.
    public private(set) var refits = 0
    /// How many times the last candidate was restarted from its prior after diverging.
    public private(set) var restarts = 0
    /// Covariance resets of filters that were replaced.
    private var earlierResets = 0
    private var logWeights: [Double]
    private var volumes: [Double]
    /// Per filter: its posterior model state and memory at every reading (the start of a re-calibration window).
    private var history: [[[Double]]]
    /// The readings assimilated, in order.
    public private(set) var readings: [(minute: Int, value: Double)] = []
    /// Per reading assimilated, the mixture's innovation: the reading minus the weighted mean of the live
    /// candidates' predictions, with the mixture's predictive variance (each candidate's predicted glucose
    /// variance plus the noise variance, plus the spread of their means), for ``ModelHealth``.
    public private(set) var innovations: [ModelHealth.Innovation] = []
    /// Per reading assimilated, how much the reading's update moved the carbohydrate the twin holds (in the gut,
    /// and as glucose in plasma and tissue over the fraction of carbohydrate that appears as glucose, mg),
    /// averaged over the live candidates by their weights: positive when the readings say more arrived than the
    /// announced meals give (``InferredMeal/detect(corrections:carbohydrate:settings:)``).
    public private(set) var gutCorrections: [InferredMeal.Correction] = []
    private let carbohydrate: [Double], insulin: [Double]

    /// Starts one filter per prior at `minute`, its glucose compartments scaled so that its sensor glucose is
    /// `firstReading`.
    /// - Parameters:
    ///   - carbohydrate, insulin: the inputs per minute (g/min, U/min) from minute 0 to the end of any forecast.
    /// - Throws: ``SyncError`` `invalidArgument` for an empty bank, a forgetting factor outside (0, 1], a
    ///   non-positive noise sd or first reading; the process's errors for unknown parameter names.
    public init(priors: [GlucoseSyncExperiment.Population], carbohydrate: [Double], insulin: [Double], minute: Int, firstReading: Double,
                settings: Settings = Settings()) throws {
        guard !priors.isEmpty else { throw SyncError(.invalidArgument, "the bank of priors is empty.", value: nil) }
        guard settings.candidateForgetting > 0, settings.candidateForgetting <= 1 else {
            throw SyncError(.invalidArgument, "the forgetting factor must be in (0, 1].", value: String(settings.candidateForgetting))
        }
        guard settings.noiseStandardDeviation > 0, settings.noiseStandardDeviation.isFinite else {
            throw SyncError(.invalidArgument, "the CGM noise sd must be positive.", value: String(settings.noiseStandardDeviation))
        }
        guard firstReading > 0, firstReading.isFinite else {
            throw SyncError(.invalidArgument, "the first glucose reading must be positive.", value: String(firstReading))
        }
        if let r = settings.recalibration, r.window < 1 {
            throw SyncError(.invalidArgument, "the re-calibration window must be at least a minute.", value: String(r.window))
        }
        try Self.validate(settings)
        for prior in priors {
            filters.append(try Self.filter(prior, carbohydrate: carbohydrate, insulin: insulin, minute: minute, reading: firstReading, settings: settings))
        }
        self.settings = settings
        self.priors = priors
        self.carbohydrate = carbohydrate
        self.insulin = insulin
        parent = Array(priors.indices)
        weights = [Double](repeating: 1 / Double(priors.count), count: priors.count)
        logWeights = [Double](repeating: 0, count: priors.count)
        alive = [Bool](repeating: true, count: priors.count)
        volumes = priors.map(\.parameters.Vg)
        history = [[[Double]]](repeating: [], count: priors.count)
    }

    /// Covariance resets of all filters so far.
    public var resets: Int { earlierResets + filters.reduce(0) { $0 + $1.resets.count } }

    /// Moves every live filter to `minute`, weighs it by the reading's predictive likelihood and updates it.
    /// - Throws: ``SyncError`` `invalidTime` when `minute` is before the last reading; the last candidate's
    ///   error when it fails again after ``Settings/maximumRestarts`` restarts.
    public mutating func assimilate(minute: Int, reading: Double) throws {
        if let last = readings.last, minute < last.minute {
            throw SyncError(.invalidTime, "reading at minute \(minute) is before the last one assimilated (\(last.minute)).", value: String(minute))
        }
        let r2 = settings.noiseStandardDeviation * settings.noiseStandardDeviation
        let white = settings.whiteNoiseStandardDeviation
        var predictions: [(weight: Double, mean: Double, variance: Double)] = []
        var gutMoves: [(filter: Int, milligrams: Double)] = []
        for i in filters.indices where alive[i] {
            do {
                try filters[i].predict(to: Double(minute))
                let gutBefore = Self.carbohydrateEquivalent(filters[i].mean, filters[i].process.population)
                let (predicted, variance) = Self.predictedReading(filters[i], volume: volumes[i], white: white)
                predictions.append((weights[i], predicted, variance))
                logWeights[i] = settings.candidateForgetting * logWeights[i] - 0.5 * (log(2 * Double.pi * variance) + pow(reading - predicted, 2) / variance)
                try adapt(i, normalisedSquare: pow(reading - predicted, 2) / variance)
                try filters[i].update(with: Observation(time: Double(minute), values: [reading]),
                                      model: GlucoseSensor(volume: volumes[i], standardDeviation: white, errorIndex: filters[i].process.sensorErrorIndex))
                try checkPlausible(i, minute: minute)
                gutMoves.append((i, Self.carbohydrateEquivalent(filters[i].mean, filters[i].process.population) - gutBefore))
            } catch {
                try retire(i, minute: minute, reading: reading, error)
            }
        }
        let total = predictions.reduce(0) { $0 + $1.weight }
        if total > 0 {
            let m = predictions.reduce(0) { $0 + $1.weight / total * $1.mean }
            let second = predictions.reduce(0) { $0 + $1.weight / total * ($1.variance + $1.mean * $1.mean) }
            innovations.append(ModelHealth.Innovation(time: Double(minute), residual: reading - m, variance: max(second - m * m, r2)))
        }
        normaliseWeights()
        let moved = gutMoves.filter { alive[$0.filter] && $0.milligrams.isFinite }
        let movedWeight = moved.reduce(0) { $0 + weights[$1.filter] }
        gutCorrections.append(InferredMeal.Correction(minute: minute,
                                                      milligrams: movedWeight > 0 ? moved.reduce(0) { $0 + weights[$1.filter] * $1.milligrams } / movedWeight : 0))
        readings.append((minute, reading))
        for i in filters.indices { history[i].append(Array(filters[i].mean[0..<14])) }
    }

    /// The carbohydrate a filter's state holds in the gut and as glucose in plasma and tissue, mg of
    /// carbohydrate: the gut compartments (mg) plus the glucose masses (mg/kg × body weight) over the fraction of
    /// carbohydrate that appears as glucose. What an update adds to it is carbohydrate the readings say arrived
    /// (or a model error that looks like it).
    static func carbohydrateEquivalent(_ x: [Double], _ p: UVAPadovaParameters) -> Double {
        x[0] + x[1] + x[2] + (x[3] + x[4]) * p.BW / max(p.f, 0.1)
    }

    /// Checks the robustness settings: a non-negative finite carbohydrate uncertainty and gut noise, a correlated
    /// share of the sensor noise in (0, 1) with a positive correlation time, an adaptive window of at least one
    /// reading and positive bounds.
    /// - Throws: ``SyncError`` `invalidArgument` naming the setting and its value.
    public static func validate(_ settings: Settings) throws {
        guard settings.carbohydrateUncertainty >= 0, settings.carbohydrateUncertainty.isFinite else {
            throw SyncError(.invalidArgument, "the carbohydrate uncertainty must be a non-negative relative sd (got \(settings.carbohydrateUncertainty)).", value: String(settings.carbohydrateUncertainty))
        }
        guard settings.gutNoise >= 0, settings.gutNoise.isFinite else {
            throw SyncError(.invalidArgument, "the gut noise must be a non-negative sd in mg per minute (got \(settings.gutNoise)).", value: String(settings.gutNoise))
        }
        if let tau = settings.sensorErrorCorrelationTime {
            guard tau > 0, tau.isFinite else {
                throw SyncError(.invalidArgument, "the sensor error's correlation time must be a positive number of minutes (got \(tau)).", value: String(tau))
            }
            guard settings.sensorErrorFraction > 0, settings.sensorErrorFraction < 1 else {
                throw SyncError(.invalidArgument, "the correlated share of the sensor noise must be in (0, 1) (got \(settings.sensorErrorFraction)).", value: String(settings.sensorErrorFraction))
            }
        }
        if let a = settings.adaptiveNoise {
            guard a.window >= 1, a.bounds.lowerBound > 0, a.bounds.upperBound.isFinite, a.gain > 0, a.gain <= 1 else {
                throw SyncError(.invalidArgument, "adaptive noise needs a window of at least one reading, positive finite bounds and a gain in (0, 1] (got window \(a.window), bounds \(a.bounds), gain \(a.gain)).", value: String(a.window))
            }
        }
    }

    /// A filter's predicted reading (model glucose plus the correlated sensor error, if any) and its variance
    /// (with the white noise of sd `white`).
    static func predictedReading(_ f: UnscentedKalmanFilter<GlucoseTwinProcess>, volume: Double, white: Double) -> (mean: Double, variance: Double) {
        let n = f.mean.count, p = f.covariance
        var mean = f.mean[12] / volume, variance = p[12 * n + 12] / (volume * volume) + white * white
        if let e = f.process.sensorErrorIndex {
            mean += f.mean[e]
            variance += 2 * p[12 * n + e] / volume + p[e * n + e]
        }
        return (mean, variance)
    }

    /// Per filter: its recent normalised squared innovations (``Settings/adaptiveNoise``).
    private var recentInnovations: [[Double]] = []

    /// Covariance matching (``AdaptiveNoise``): records filter `i`'s normalised squared innovation and, once its
    /// window is full, rescales its model-state process noise (the filter is rebuilt with the new scale, its mean
    /// and covariance kept).
    private mutating func adapt(_ i: Int, normalisedSquare: Double) throws {
        guard let a = settings.adaptiveNoise, normalisedSquare.isFinite else { return }
        while recentInnovations.count < filters.count { recentInnovations.append([]) }
        recentInnovations[i].append(normalisedSquare)
        if recentInnovations[i].count > a.window { recentInnovations[i].removeFirst() }
        guard recentInnovations[i].count == a.window else { return }
        let ratio = recentInnovations[i].reduce(0, +) / Double(a.window)
        let old = filters[i]
        var process = old.process
        let scale = min(max(process.modelNoiseScale * pow(ratio, a.gain), a.bounds.lowerBound), a.bounds.upperBound)
        guard abs(scale - process.modelNoiseScale) > 1e-12 else { return }
        process.modelNoiseScale = scale
        earlierResets += old.resets.count
        filters[i] = try UnscentedKalmanFilter(process: process, time: old.time, mean: old.mean, covariance: old.covariance, alpha: old.alpha, beta: old.beta, kappa: old.kappa)
    }

    /// The model-error scale of each filter (1 without ``Settings/adaptiveNoise``).
    public var noiseScales: [Double] { filters.map(\.process.modelNoiseScale) }

    /// Re-calibrates (``Settings/recalibration``) from the readings of the window ending at the last reading and
    /// restarts filters on the refit parameters; returns how many were refit. A fit that fails or gains too
    /// little leaves the bank as it was. Does nothing without ``Settings/recalibration`` or readings.
    @discardableResult
    public mutating func recalibrate() throws -> Int {
        guard let fitter = settings.recalibration, let now = readings.last?.minute else { return 0 }
        guard let first = readings.firstIndex(where: { $0.minute >= now - fitter.window }) else { return 0 }
        let start = readings[first].minute
        let window = readings[(first + 1)...].filter { $0.minute > start }
        guard !window.isEmpty else { return 0 }
        let times = window.map(\.minute), values = window.map(\.value)
        let q = settings.estimated.count
        let best = filters.indices.filter { alive[$0] }.max { weights[$0] < weights[$1] }
        var count = 0
        for i in filters.indices where alive[i] && weights[i] >= 0.01 && (!settings.recalibrationAddsCandidate || i == best) {
            let old = filters[i]
            var base = old.process.population
            for (j, name) in settings.estimated.enumerated() {
                GlucoseTwinProcess.set(name, GlucoseTwinProcess.value(name, in: base) * old.process.multiplier(old.mean[14 + j]), in: &base)
            }
            guard let result = try? fitter.fit(base: base, state: history[i][first], start: start, times: times, readings: values,
                                               noiseSD: settings.noiseStandardDeviation, carbohydrate: carbohydrate, insulin: insulin),
                  result.startCost - result.cost >= settings.recalibrationMinimumGain else { continue }
            var process = try GlucoseTwinProcess(population: result.parameters, carbohydrate: carbohydrate, insulin: insulin,
                                                 estimated: settings.estimated, noiseRate: old.process.noiseRate, sensorError: old.process.sensorError)
            process.logMultiplierBound = settings.parameterBound
            process.carbohydrateUncertainty = old.process.carbohydrateUncertainty
            process.modelNoiseScale = old.process.modelNoiseScale
            let m = process.dimension
            var p0 = [Double](repeating: 0, count: m * m)
            let on = old.mean.count
            for r in 0..<14 { for c in 0..<14 { p0[r * m + c] = old.covariance[r * on + c] } }
            for j in 0..<q { p0[(14 + j) * m + 14 + j] = settings.recalibratedParameterSD * settings.recalibratedParameterSD }
            var mean = (settings.recalibratedState ? result.end : Array(old.mean[0..<14])) + [Double](repeating: 0, count: q)
            if let e = process.sensorErrorIndex { mean.append(old.mean[e]); p0[e * m + e] = old.covariance[e * on + e] }
            guard let restarted = try? UnscentedKalmanFilter(process: process, time: old.time, mean: mean, covariance: p0, alpha: 0.5, beta: 2, kappa: 0)
            else { continue }
            count += 1
            if settings.recalibrationAddsCandidate {
                filters.append(restarted)
                volumes.append(volumes[i]); parent.append(parent[i]); alive.append(true)
                history.append(history[i]); logWeights.append(logWeights[i]); weights.append(0)
            } else {
                earlierResets += old.resets.count
                filters[i] = restarted
            }
        }
        refits += count
        if count > 0 { normaliseWeights() }
        return count
    }

    /// The bank's current belief: per state, the weighted mixture's mean and sd, with the model states in
    /// concentration units (each filter's state divided by its prior's glucose volume, so sensor glucose is
    /// entry 12, mg/dL).
    public var belief: (mean: [Double], sd: [Double]) {
        mixture(filters.indices.map { alive[$0] ? (filters[$0].mean, filters[$0].standardDeviations) : nil })
    }

    /// The sensor glucose now (mg/dL) and its sd.
    public var glucose: (mean: Double, sd: Double) {
        let b = belief
        return (b.mean[12], b.sd[12])
    }

    /// The estimated parameters: per name, the weighted prior value and the weighted estimate.
    public var parameters: [(name: String, prior: Double, estimated: Double)] {
        settings.estimated.enumerated().map { (j, name) in
            (name, zip(parent, weights).reduce(0) { $0 + $1.1 * GlucoseTwinProcess.value(name, in: priors[$1.0].parameters) },
             zip(weights, filters).reduce(0) { $0 + $1.0 * GlucoseTwinProcess.value(name, in: $1.1.process.population) * $1.1.process.multiplier($1.1.mean[14 + j]) })
        }
    }

    /// The mixture forecast at each of `minutes` (ascending, after the last reading), by sigma-point propagation
    /// of every live filter; interval ends at mean ± `z` sd (1.96 for a 95 % interval). A candidate whose
    /// forecast fails or leaves the plausible range is retired (left out of this forecast and later ones); when
    /// it is the last one, it is restarted from its prior at the latest reading and the forecast is made again.
    /// - Throws: ``SyncError`` `diverged` when no candidate can forecast after ``Settings/maximumRestarts`` restarts.
    public mutating func forecast(at minutes: [Int], z: Double = 1.96) throws -> [Forecast.Point] {
        var copies = filters
        var usable = alive
        var points: [Forecast.Point] = []
        let retiredBefore = retirements.count
        for t in minutes {
            for i in copies.indices where usable[i] {
                do {
                    try copies[i].predict(to: Double(t))
                    let g = copies[i].mean[12] / volumes[i]
                    guard settings.plausibleGlucose.contains(g) else {
                        throw SyncError(.diverged, "candidate \(name(i))'s forecast glucose \(g) mg/dL at minute \(t) is outside \(settings.plausibleGlucose).", value: String(g))
                    }
                } catch {
                    usable[i] = false
                    guard usable.contains(true) else {
                        // the last candidate that could forecast: restart it from its prior at the latest reading
                        // (recorded) and forecast again, or fail naming why
                        guard let last = readings.last, restarts < settings.maximumRestarts else {
                            throw SyncError(.diverged, "no candidate of the bank can forecast minute \(t): \(error)", value: String(t))
                        }
                        alive[i] = false
                        if !alive.contains(true) {
                            try restart(i, minute: last.minute, reading: last.value, because: error)
                        } else {
                            retirements.append(Retirement(candidate: name(i), minute: t, reason: "\(error)"))
                        }
                        normaliseWeights()
                        return try forecast(at: minutes, z: z)
                    }
                    alive[i] = false
                    retirements.append(Retirement(candidate: name(i), minute: t, reason: "\(error)"))
                }
            }
            let (m, sd) = mixture(copies.indices.map { usable[$0] ? (copies[$0].mean, copies[$0].standardDeviations) : nil })
            points.append(Forecast.Point(time: Double(t), mean: m, standardDeviation: sd,
                                         lower: zip(m, sd).map { $0 - z * $1 }, upper: zip(m, sd).map { $0 + z * $1 }))
        }
        if retirements.count > retiredBefore { normaliseWeights() }
        return points
    }

    /// A filter's name: its prior's, with `+refit` for a re-calibrated descendant.
    public func name(_ i: Int) -> String { priors[parent[i]].name + (i >= priors.count ? " +refit" : "") }

    private func checkPlausible(_ i: Int, minute: Int) throws {
        let g = filters[i].mean[12] / volumes[i]
        guard settings.plausibleGlucose.contains(g) else {
            throw SyncError(.diverged, "candidate \(name(i))'s glucose \(g) mg/dL at minute \(minute) is outside \(settings.plausibleGlucose).", value: String(g))
        }
        for (j, p) in settings.estimated.enumerated() where abs(filters[i].mean[14 + j]) > settings.parameterLimit {
            throw SyncError(.diverged, "candidate \(name(i))'s \(p) moved to e^\(filters[i].mean[14 + j]) times its prior value at minute \(minute).", value: String(filters[i].mean[14 + j]))
        }
    }

    /// A filter started from `prior`'s parameters and basal state at `minute`, its glucose compartments scaled
    /// so that its sensor glucose is `reading`.
    static func filter(_ prior: GlucoseSyncExperiment.Population, carbohydrate: [Double], insulin: [Double], minute: Int, reading: Double,
                       settings: Settings) throws -> UnscentedKalmanFilter<GlucoseTwinProcess> {
        let s = try start(prior, carbohydrate: carbohydrate, insulin: insulin, reading: reading, settings: settings)
        return try UnscentedKalmanFilter(process: s.process, time: Double(minute), mean: s.mean, covariance: s.covariance, alpha: 0.5, beta: 2, kappa: 0)
    }

    /// The set-up every glucose twin filter starts from (also the synchroniser's single UKF or EnKF): the process
    /// with per-minute random-walk noise (``Settings/stateNoise`` of each basal state, ``Settings/parameterNoise``
    /// per log-parameter), the prior's basal state with its glucose compartments scaled to `reading`, and a
    /// diagonal covariance (sd 30 % of each state, 1 for the stomach memory, ``Settings/parameterPriorSD`` per
    /// log-parameter).
    static func start(_ prior: GlucoseSyncExperiment.Population, carbohydrate: [Double], insulin: [Double], reading: Double,
                      settings: Settings) throws -> (process: GlucoseTwinProcess, mean: [Double], covariance: [Double]) {
        let q = settings.estimated.count
        let population = prior.parameters, x0 = prior.initialState
        var noise = [Double](repeating: 0, count: 14 + q)
        for i in 0..<13 { noise[i] = settings.stateNoise * max(abs(x0[i]), 1) }
        for i in 0..<q { noise[14 + i] = settings.parameterNoise }
        for i in 0..<3 { noise[i] = max(noise[i], settings.gutNoise) }
        var process = try GlucoseTwinProcess(population: population, carbohydrate: carbohydrate, insulin: insulin,
                                             estimated: settings.estimated, noiseRate: noise, sensorError: settings.sensorError)
        process.logMultiplierBound = settings.parameterBound
        process.carbohydrateUncertainty = settings.carbohydrateUncertainty
        let m = process.dimension
        var mean = x0 + [0] + [Double](repeating: 0, count: m - 14)
        let scale = reading / (x0[12] / population.Vg)
        for i in [3, 4, 12] { mean[i] *= scale }
        var p0 = [Double](repeating: 0, count: m * m)
        for i in 0..<13 { p0[i * m + i] = pow(0.3 * max(abs(mean[i]), 1), 2) }
        p0[13 * m + 13] = 1
        for i in 0..<q { p0[(14 + i) * m + 14 + i] = settings.parameterPriorSD * settings.parameterPriorSD }
        if let e = process.sensorErrorIndex, let s = process.sensorError { p0[e * m + e] = s.standardDeviation * s.standardDeviation }
        return (process, mean, p0)
    }

    /// Retires candidate `i`; when it was the last one, restarts it from its prior at `reading` instead (at most
    /// ``Settings/maximumRestarts`` times), else throws `error`.
    private mutating func retire(_ i: Int, minute: Int, reading: Double?, _ error: any Error) throws {
        alive[i] = false
        if !alive.contains(true) {
            guard let reading, restarts < settings.maximumRestarts else { throw error }
            try restart(i, minute: minute, reading: reading, because: error)
            return
        }
        retirements.append(Retirement(candidate: name(i), minute: minute, reason: "\(error)"))
    }

    /// Restarts candidate `i` from its prior's parameters and basal state at `reading` (weights and filter
    /// history of the others unchanged), recorded in ``retirements`` as a restart.
    private mutating func restart(_ i: Int, minute: Int, reading: Double, because error: any Error) throws {
        let fresh = try Self.filter(priors[parent[i]], carbohydrate: carbohydrate, insulin: insulin, minute: minute, reading: reading, settings: settings)
        earlierResets += filters[i].resets.count
        filters[i] = fresh
        alive[i] = true
        restarts += 1
        if i < recentInnovations.count { recentInnovations[i] = [] }
        retirements.append(Retirement(candidate: name(i), minute: minute, reason: "\(error)", restarted: true))
    }

    private mutating func normaliseWeights() {
        guard filters.count > 1 else { return }
        let top = zip(logWeights, alive).filter(\.1).map(\.0).max() ?? 0
        let e = zip(logWeights, alive).map { $1 ? exp($0 - top) : 0 }
        let total = e.reduce(0, +)
        weights = total > 0 ? e.map { $0 / total } : e
    }

    private func mixture(_ beliefs: [(mean: [Double], sd: [Double])?]) -> (mean: [Double], sd: [Double]) {
        let dim = filters[0].mean.count
        var m = [Double](repeating: 0, count: dim), second = m
        let total = zip(beliefs, weights).reduce(0) { $0 + ($1.0 == nil ? 0 : $1.1) }
        for (i, b) in beliefs.enumerated() {
            guard let b, total > 0 else { continue }
            for j in 0..<dim {
                let mj = b.mean[j] / volumes[i], sj = b.sd[j] / volumes[i]
                m[j] += weights[i] / total * mj
                second[j] += weights[i] / total * (sj * sj + mj * mj)
            }
        }
        return (m, zip(second, m).map { max($0 - $1 * $1, 0).squareRoot() })
    }
}
