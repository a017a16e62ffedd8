import Foundation
import TwinCore
import TwinModels
import TwinSimulation

/// The glucose twin's estimator: the UVA/Padova model (simglucose's), fed by a ``ThreadBinding/glucose``
/// thread, with one of four filters (``GlucoseSynchroniser/Filter``, ``GlucoseSynchroniser/Prior``): an
/// unscented or ensemble Kalman filter from one prior, a bank of UKFs over a cohort of priors (optionally
/// re-calibrated as it goes), or a particle posterior over the cohort. The ``BindingSynchroniser`` runs it like any
/// other ``Estimator``; what makes it the glucose twin's is only this type and the binding.
///
/// Model time is minutes from the window's start (the thread's `from`); a reading is used at its nearest whole
/// minute (the model moves in whole minutes), the window's end is ``origin`` (whole minutes). The inputs are
/// the thread's doses of the binding's inputs `carbohydrate` (g) and `insulin` (`[IU]`), per minute from the
/// window's start to the end of the forecast: an amount given at an instant in its minute, one given over a
/// period spread evenly over its minutes; in the forecast horizon, minutes no insulin dose covers continue the
/// basal rate (an insulin dose with a period) in force at the origin.
///
/// The filter starts at the first reading (its glucose compartments scaled so that its sensor glucose is the
/// reading), so the estimator is built from the thread and the first reading is assimilated like the others.
/// Deterministic for the UKF and the bank; the EnKF and the particle posterior draw from `seed`.
public struct GlucoseEstimator: Estimator {
    /// How the glucose estimator runs (the synchroniser's options that are the estimator's).
    public struct Settings: Sendable, Hashable {
        public var prior: GlucoseSynchroniser.Prior = .twin
        public var filter: GlucoseSynchroniser.Filter = .unscented
        /// Re-calibrate the bank every this many minutes (UKF; see ``GlucoseSynchroniser/Options/recalibrationInterval``).
        public var recalibrationInterval: Int?
        public var recalibration = GlucoseRecalibration()
        /// The largest |log-multiplier| with which an estimated parameter takes effect (ln 10 by default).
        public var parameterBound = log(10.0)
        /// Model error of the gut (``GlucoseFilterBank/Settings/gutNoise``, mg per minute; not the particle posterior).
        public var gutNoise = GlucoseFilterBank.Settings().gutNoise
        public init() {}
    }

    enum Engine: Sendable {
        case pending
        case unscented(UnscentedKalmanFilter<GlucoseTwinProcess>, GlucoseTwinProcess)
        case ensemble(EnsembleKalmanFilter<GlucoseTwinProcess>, GlucoseTwinProcess)
        case bank(GlucoseFilterBank, nextRefit: Int)
        case particles(GlucoseParameterPosterior)
    }

    public let configuration: Settings
    /// Where the parameters start, in words (`adult#001 (virtualPatient)`, `cohort of 9 (...)`).
    public let priorName: String
    /// The estimated parameters (UVA/Padova names) and the CGM noise sd (mg/dL).
    public let estimated: [String]
    public let noiseStandardDeviation: Double
    /// The window's end in model minutes: the forecast origin.
    public let origin: Int
    /// The body weight the cohort prior takes (kg) and its event, if any.
    public let bodyWeight: (kg: Double, event: ContentHash)?
    public let seed: UInt64
    let priors: [GlucoseSyncExperiment.Population]
    let covarianceGroups: [[UVAPadovaParameters]]?
    let carbohydrate: [Double], insulin: [Double]
    var engine: Engine = .pending
    /// The minute the filter started at (the first reading's, not before 0).
    var startMinute = 0
    public private(set) var readings = 0
    /// Innovations of the UKF, EnKF and bank (none for the particle posterior).
    public private(set) var innovations: [ModelHealth.Innovation] = []
    /// Per reading of the UKF, EnKF and bank: the carbohydrate its update added (``InferredMeal/Correction``).
    public private(set) var corrections: [InferredMeal.Correction] = []
    /// How meals eaten but not announced are inferred (``inferences``).
    public var mealDetection = InferredMeal.Settings()
    let logPriorSD: [String: Double]

    /// - Parameters:
    ///   - thread: the twin's thread read through a glucose binding (minutes from `from`).
    ///   - virtualPatient: the twin's `virtualPatient` attribute (a simglucose patient), if set.
    ///   - bodyWeight: the latest recorded body weight (kg) and its event, taken by the cohort prior.
    /// - Throws: ``SyncError`` `invalidBinding` when the binding lacks the glucose output or the `carbohydrate`/
    ///   `insulin` inputs, `invalidArgument` for a patient name that is not simglucose's or settings out of
    ///   range, `unsupported` for filter and prior combinations that do not exist.
    public init(binding: ThreadBinding, thread: BoundThread, horizon: Int, virtualPatient: String?, bodyWeight: (kg: Double, event: ContentHash)?,
                settings: Settings = Settings(), seed: UInt64 = 1) throws {
        guard binding.timeUnit == .min, binding.outputs.count == 1 else {
            throw SyncError(.invalidBinding, "binding '\(binding.name)': the glucose twin reads one output (glucose, mg/dL) on a minute time axis.", value: binding.name)
        }
        guard thread.origin == thread.from else {
            throw SyncError(.invalidBinding, "binding '\(binding.name)': the glucose twin's time starts at its window (no fixed origin).", value: thread.origin.iso8601)
        }
        let sd = binding.outputs[0].noise?.additive ?? 8
        guard sd > 0, sd.isFinite else { throw SyncError(.invalidArgument, "the CGM noise sd must be positive.", value: String(sd)) }
        guard horizon >= 0 else { throw SyncError(.invalidArgument, "the horizon must be a non-negative number of minutes.", value: String(horizon)) }
        let carbohydrateInput = binding.inputs.firstIndex { $0.input == "carbohydrate" }, insulinInput = binding.inputs.firstIndex { $0.input == "insulin" }
        guard carbohydrateInput != nil, insulinInput != nil else {
            throw SyncError(.invalidBinding, "binding '\(binding.name)': the glucose twin needs the inputs 'carbohydrate' (g) and 'insulin' ([IU]).", value: binding.inputs.map(\.input).joined(separator: ","))
        }
        self.configuration = settings
        self.estimated = binding.estimated.isEmpty ? ["Vmx", "kp3", "kabs"] : binding.estimated.map(\.parameter)
        self.noiseStandardDeviation = sd
        self.seed = seed
        self.bodyWeight = bodyWeight
        let windowMinutes = Int((Double(thread.to.microseconds - thread.from.microseconds) / 60e6).rounded(.down))
        self.origin = windowMinutes

        // inputs per minute over window and horizon
        let minutes = windowMinutes + horizon + 1
        var cho = [Double](repeating: 0, count: minutes), ins = cho
        var covered = [Bool](repeating: false, count: minutes)
        var basalAtOrigin: Double?
        for d in thread.doses where d.input == carbohydrateInput || d.input == insulinInput {
            let first = Int(d.time.rounded(.down))
            let last = d.duration > 0 ? max(first, Int((d.time + d.duration).rounded(.up)) - 1) : first
            let rate = d.amount / Double(last - first + 1)
            let isInsulin = d.input == insulinInput
            for m in max(first, 0)..<max(min(last + 1, minutes), max(first, 0)) {
                if isInsulin { ins[m] += rate; covered[m] = true } else { cho[m] += rate }
            }
            if isInsulin, d.duration > 0, first <= windowMinutes, last >= windowMinutes { basalAtOrigin = (basalAtOrigin ?? 0) + rate }
        }
        if let basal = basalAtOrigin, windowMinutes + 1 < minutes {
            for m in (windowMinutes + 1)..<minutes where !covered[m] { ins[m] += basal }
        }
        self.carbohydrate = cho
        self.insulin = ins

        // the prior(s)
        var sds: [String: Double] = [:]
        let bankSettings = GlucoseFilterBank.Settings()
        switch settings.filter {
        case .particles(let count):
            guard settings.prior == .cohort else {
                throw SyncError(.unsupported, "the particle posterior draws its particles from a cohort; choose the cohort prior (not \(settings.prior.rawValue)).", value: settings.prior.rawValue)
            }
            guard settings.recalibrationInterval == nil else {
                throw SyncError(.unsupported, "re-calibration refits a bank of filters; the particle posterior moves its own parameters (leave re-calibration out).", value: String(settings.recalibrationInterval ?? 0))
            }
            guard count >= 10, count <= 100_000 else { throw SyncError(.invalidArgument, "the particle posterior needs 10 to 100000 particles.", value: String(count)) }
            let cohort = GlucoseSyncExperiment.Population.cohort(around: virtualPatient ?? "adult#")
            priors = cohort
            covarianceGroups = GlucoseSyncExperiment.Population.ageGroups(without: virtualPatient ?? "").map { $0.map(\.parameters) }
            priorName = "cohort of \(cohort.count) (\(cohort.map(\.name).joined(separator: ","))), covariance pooled within age groups"
            for name in estimated {
                let logs = cohort.map { log(GlucoseTwinProcess.value(name, in: $0.parameters)) }.filter(\.isFinite)
                let mean = logs.reduce(0, +) / Double(max(logs.count, 1))
                let s = (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(logs.count - 1, 1))).squareRoot()
                if s > 0 { sds[name] = s }
            }
        case .unscented, .ensemble:
            covarianceGroups = nil
            if settings.prior == .cohort || settings.recalibrationInterval != nil {
                guard settings.filter == .unscented else {
                    throw SyncError(.unsupported, "a bank of priors and re-calibration run unscented Kalman filters; choose the UKF (not \(settings.filter.label)).", value: settings.filter.label)
                }
                if let interval = settings.recalibrationInterval, interval < 1 {
                    throw SyncError(.invalidArgument, "the re-calibration interval must be a positive number of minutes.", value: String(interval))
                }
            }
            if case .ensemble(let members) = settings.filter, !(2...10_000).contains(members) {
                throw SyncError(.invalidArgument, "an ensemble needs 2 to 10000 members.", value: String(members))
            }
            if settings.prior == .cohort {
                var cohort = GlucoseSyncExperiment.Population.cohort(around: virtualPatient ?? "adult#")
                if let kg = bodyWeight?.kg { cohort = cohort.map { $0.weighing(kg) } }
                priors = cohort
                priorName = "cohort of \(cohort.count) (\(cohort.map(\.name).joined(separator: ",")))"
            } else {
                let p = try Self.prior(virtualPatient: virtualPatient, settings.prior)
                priors = [p]
                priorName = p.name
            }
            for name in estimated { sds[name] = bankSettings.parameterPriorSD }
        }
        logPriorSD = sds
    }

    /// The single prior of ``GlucoseSynchroniser/Prior/twin`` or ``GlucoseSynchroniser/Prior/population``.
    static func prior(virtualPatient name: String?, _ kind: GlucoseSynchroniser.Prior) throws -> GlucoseSyncExperiment.Population {
        switch kind {
        case .twin:
            guard let name else { return GlucoseSyncExperiment.Population.adult }
            do {
                let patient = try VirtualPatient.named(name)
                return GlucoseSyncExperiment.Population(parameters: patient.parameters, initialState: patient.initialState, name: "\(patient.name) (virtualPatient)")
            } catch {
                throw SyncError(.invalidArgument, "the twin's virtualPatient '\(name)' is not a simglucose patient (adolescent#001-010, adult#001-010, child#001-010).", value: name)
            }
        case .population, .cohort:
            // the group's mean without the person when the twin plays one of simglucose's patients (it knows the
            // person's age group, not who they are, and must not learn from them)
            if let name, let p = try? GlucoseSyncExperiment.Population.group(without: name) { return p }
            return GlucoseSyncExperiment.Population(group: name ?? "adult#")
        }
    }

    // MARK: - Estimator

    public var label: String {
        switch engine {
        case .bank(let b, _) where b.filters.count > 1: "UKF bank of \(b.filters.count)"
        case .bank: "UKF"
        default: configuration.filter.label
        }
    }

    public var settings: [String] {
        var filterNote = configuration.filter == .unscented ? "UKF(alpha=0.5,beta=2,kappa=0)" : configuration.filter.label + " seed=\(seed) generator=\(Xoshiro256StarStar.streamLabel)"
        if label != configuration.filter.label { filterNote = label + " of UKF(alpha=0.5,beta=2,kappa=0)" }
        if case .particles(let p) = engine {
            let s = p.settings
            filterNote += " moves=\(s.moves) resampleThreshold=\(s.resampleThreshold) priorSpread=\(s.priorSpread)"
            filterNote += " priorDegreesOfFreedom=\(s.priorDegreesOfFreedom) covarianceShrinkage=\(s.covarianceShrinkage)"
        }
        if let interval = configuration.recalibrationInterval {
            filterNote += " recalibration=every \(interval)min window=\(configuration.recalibration.window)min parameters=\(configuration.recalibration.parameters.joined(separator: ","))"
        }
        var words = ["filter=\(filterNote)", "prior=\(priorName)", "estimated=\(estimated.joined(separator: ","))", "cgmNoiseSD=\(noiseStandardDeviation)"]
        if !isParticles, configuration.parameterBound.isFinite { words.append("parameterBound=\(Value.format(configuration.parameterBound))") }
        if !isParticles { words.append("gutNoise=\(Value.format(configuration.gutNoise))") }
        if let bodyWeight { words.append("bodyWeight=\(Value.format(bodyWeight.kg))kg") }
        if !retired.isEmpty { words.append("retired=" + retired.joined(separator: "; ")) }
        return words
    }

    var isParticles: Bool { if case .particles = configuration.filter { return true } else { return false } }

    /// Candidates of a bank of priors that left it, with the minute and the reason.
    public var retired: [String] {
        guard case .bank(let b, _) = engine else { return [] }
        return b.retirements.map { "\($0.candidate) \($0.restarted ? "restarted from its prior" : "retired") at minute \($0.minute): \($0.reason)" }
    }

    /// Covariance resets of the filter(s) so far.
    public var covarianceResets: Int {
        switch engine {
        case .pending, .particles: 0
        case .unscented(let f, _): f.resets.count
        case .ensemble(let f, _): f.resets.count
        case .bank(let b, _): b.resets
        }
    }

    public var usedEvents: [ContentHash] { bodyWeight.map { [$0.event] } ?? [] }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        let minute = Int(reading.time.rounded())
        try await start(at: minute, reading: reading.value)
        switch engine {
        case .pending: break
        case .unscented(var f, let process):
            try await Self.step(&f, minute: minute, value: reading.value, process: process, noise: noiseStandardDeviation, innovations: &innovations, corrections: &corrections)
            engine = .unscented(f, process)
        case .ensemble(var f, let process):
            try await Self.step(&f, minute: minute, value: reading.value, process: process, noise: noiseStandardDeviation, innovations: &innovations, corrections: &corrections)
            engine = .ensemble(f, process)
        case .bank(var b, var nextRefit):
            try b.assimilate(minute: max(minute, startMinute), reading: reading.value)
            if let interval = configuration.recalibrationInterval, minute >= nextRefit {
                try b.recalibrate()
                while nextRefit <= minute { nextRefit += interval }
            }
            innovations = b.innovations
            corrections = b.gutCorrections
            engine = .bank(b, nextRefit: nextRefit)
        case .particles(var p):
            try p.assimilate(minute: max(minute, startMinute), reading: reading.value)
            engine = .particles(p)
        }
        readings += 1
    }

    /// One reading through a single Kalman filter, recording the innovation before the update.
    static func step<F: SequentialFilter>(_ f: inout F, minute: Int, value: Double, process: GlucoseTwinProcess, noise: Double,
                                          innovations: inout [ModelHealth.Innovation], corrections: inout [InferredMeal.Correction]) async throws {
        try await f.predict(to: Double(max(minute, Int(f.time))))
        let n = f.mean.count, vg = process.population.Vg
        innovations.append(ModelHealth.Innovation(time: Double(minute), residual: value - f.mean[12] / vg,
                                                  variance: f.covariance[12 * n + 12] / (vg * vg) + noise * noise))
        let before = GlucoseFilterBank.carbohydrateEquivalent(f.mean, process.population)
        try f.update(with: Observation(time: f.time, values: [value]), model: GlucoseSensor(volume: vg, standardDeviation: noise))
        corrections.append(InferredMeal.Correction(minute: minute, milligrams: GlucoseFilterBank.carbohydrateEquivalent(f.mean, process.population) - before))
    }

    /// Meals the readings say were eaten but not announced (``InferredMeal``; the UKF, EnKF and bank), as
    /// annotations of code ``GlucoseSynchroniser/inferredMeal`` in grams, at the first reading that saw them.
    public var inferences: [Inference] {
        InferredMeal.detect(innovations: innovations, corrections: corrections, carbohydrate: carbohydrate, settings: mealDetection).map { meal in
            Inference(code: GlucoseSynchroniser.inferredMeal, time: Double(meal.firstMinute), value: Quantity((meal.grams * 10).rounded() / 10, "g"),
                      evidence: meal.evidence,
                      notes: "inferred=\(meal.kind.rawValue) firstMinute=\(meal.firstMinute) lastMinute=\(meal.lastMinute) readings=\(meal.readings) cusum=\(Value.format((meal.cusum * 100).rounded() / 100)) drift=\(Value.format(mealDetection.drift)) threshold=\(Value.format(mealDetection.threshold))")
        }
    }

    /// Starts the filter at the first reading.
    mutating func start(at minute: Int, reading: Double) async throws {
        guard case .pending = engine else { return }
        let t0 = max(0, minute)
        startMinute = t0
        var bankSettings = GlucoseFilterBank.Settings()
        bankSettings.noiseStandardDeviation = noiseStandardDeviation
        bankSettings.estimated = estimated
        bankSettings.parameterBound = configuration.parameterBound
        bankSettings.gutNoise = configuration.gutNoise
        switch configuration.filter {
        case .particles(let count):
            var s = GlucoseParameterPosterior.Settings()
            s.particles = count
            s.noiseStandardDeviation = noiseStandardDeviation
            engine = .particles(try GlucoseParameterPosterior(cohort: priors.map(\.parameters), covarianceGroups: covarianceGroups, bodyWeight: bodyWeight?.kg,
                                                             carbohydrate: carbohydrate, insulin: insulin, firstReading: reading, settings: s, seed: seed))
        case .unscented where configuration.prior == .cohort || configuration.recalibrationInterval != nil:
            bankSettings.recalibration = configuration.recalibrationInterval == nil ? nil : configuration.recalibration
            let b = try GlucoseFilterBank(priors: priors, carbohydrate: carbohydrate, insulin: insulin, minute: t0, firstReading: reading, settings: bankSettings)
            engine = .bank(b, nextRefit: t0 + (configuration.recalibrationInterval ?? 0))
        case .unscented, .ensemble:
            let (process, start, p0) = try GlucoseFilterBank.start(priors[0], carbohydrate: carbohydrate, insulin: insulin, reading: reading, settings: bankSettings)
            if case .ensemble(let members) = configuration.filter {
                engine = .ensemble(try EnsembleKalmanFilter(process: process, time: Double(t0), mean: start, covariance: p0, count: members, seed: seed), process)
            } else {
                engine = .unscented(try UnscentedKalmanFilter(process: process, time: Double(t0), mean: start, covariance: p0, alpha: 0.5, beta: 2, kappa: 0), process)
            }
        }
    }

    public var estimate: ParameterEstimate {
        var out: [ParameterEstimate.Parameter] = []
        func add(_ name: String, prior: Double, value: Double, sd: Double?) {
            guard value.isFinite else { return }
            out.append(ParameterEstimate.Parameter(id: name, value: value, unit: "1", scale: .log, standardDeviation: sd, prior: prior,
                                                   priorStandardDeviation: logPriorSD[name]))
        }
        switch engine {
        case .pending:
            for name in estimated { let v = GlucoseTwinProcess.value(name, in: priors[0].parameters); add(name, prior: v, value: v, sd: logPriorSD[name]) }
        case .unscented(let f, let process):
            for p in Self.parameters(of: f, process: process, estimated) { add(p.name, prior: p.prior, value: p.value, sd: p.sd) }
        case .ensemble(let f, let process):
            for p in Self.parameters(of: f, process: process, estimated) { add(p.name, prior: p.prior, value: p.value, sd: p.sd) }
        case .bank(let b, _):
            // the mixture's sd of the log-multiplier: within-candidate variance plus the spread of the candidates' means
            for (j, p) in b.parameters.enumerated() {
                let pairs = zip(b.weights, b.filters).map { (w: $0.0, m: $0.1.mean[14 + j], v: $0.1.covariance[(14 + j) * $0.1.mean.count + 14 + j]) }
                let mean = pairs.reduce(0) { $0 + $1.w * $1.m }
                let variance = pairs.reduce(0) { $0 + $1.w * ($1.v + ($1.m - mean) * ($1.m - mean)) }
                add(p.name, prior: p.prior, value: p.estimated, sd: variance.isFinite && variance >= 0 ? variance.squareRoot() : nil)
            }
        case .particles(let p):
            let sds = p.logStandardDeviations(estimated)
            for (q, sd) in zip(p.parameters(estimated), sds) { add(q.name, prior: q.prior, value: q.estimated, sd: sd.isFinite ? sd : nil) }
        }
        return ParameterEstimate(parameters: out, readings: readings)
    }

    /// A single filter's estimate of each estimated parameter: the prior's value, the estimate (the prior times
    /// the multiplier the state's log-multiplier takes effect with) and the log-multiplier's sd.
    static func parameters<F: SequentialFilter>(of f: F, process: GlucoseTwinProcess, _ estimated: [String])
        -> [(name: String, prior: Double, value: Double, sd: Double)] {
        let sd = f.standardDeviations
        return estimated.enumerated().map { i, name in
            let pop = GlucoseTwinProcess.value(name, in: process.population)
            return (name, pop, pop * process.multiplier(f.mean[14 + i]), sd[14 + i])
        }
    }

    /// A single filter's sensor glucose (mg/dL: the subcutaneous mass over the volume) now, at `origin`, and along
    /// its state forecast.
    static func sensorGlucose<F: SequentialFilter>(of f: F, process: GlucoseTwinProcess, at origin: Int, forecast: Forecast?)
        -> (now: [ForecastPoint], forecast: [ForecastPoint]) {
        let vg = process.population.Vg
        let now = ForecastPoint(time: Double(origin), output: 0, mean: f.mean[12] / vg, standardDeviation: f.standardDeviations[12] / vg, lower: .nan, upper: .nan)
        return ([now], (forecast?.points ?? []).map {
            ForecastPoint(time: $0.time, output: 0, mean: $0.mean[12] / vg, standardDeviation: $0.standardDeviation[12] / vg,
                          lower: $0.lower[12] / vg, upper: $0.upper[12] / vg)
        })
    }

    /// Sensor glucose (mg/dL) at `times` (model minutes after the origin, rounded to whole minutes), the filter
    /// first moved to the origin.
    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        var copy = self
        return try await copy.outputs(now: nil, forecastAt: times, level: level).forecast
    }

    public mutating func outputs(now: Double?, forecastAt times: [Double], level: Double) async throws -> (now: [ForecastPoint], forecast: [ForecastPoint]) {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        let minutes = times.map { Int($0.rounded()) }
        let z = inverseStandardNormal(0.5 + level / 2)
        func point(_ t: Double, _ m: Double, _ s: Double, _ lo: Double, _ hi: Double) -> ForecastPoint {
            ForecastPoint(time: t, output: 0, mean: m, standardDeviation: s, lower: lo, upper: hi)
        }
        let provenance = Forecast.Provenance(filter: label, model: GlucoseSynchroniser.modelID)
        switch engine {
        case .pending:
            throw SyncError(.invalidArgument, "the glucose estimator has assimilated no reading.", value: nil)
        case .unscented(var f, let process):
            try await f.predict(to: Double(origin))
            engine = .unscented(f, process)
            let full = minutes.isEmpty ? nil : try await f.forecast(at: minutes.map(Double.init), level: level, provenance: provenance)
            return Self.sensorGlucose(of: f, process: process, at: origin, forecast: full)
        case .ensemble(var f, let process):
            try await f.predict(to: Double(origin))
            engine = .ensemble(f, process)
            let full = minutes.isEmpty ? nil : try await f.ensembleForecast(at: minutes.map(Double.init), level: level, provenance: provenance)
            return Self.sensorGlucose(of: f, process: process, at: origin, forecast: full)
        case .bank(var b, let next):
            let points = try b.forecast(at: [origin] + minutes, z: z)
            engine = .bank(b, nextRefit: next)
            let all = points.map { point($0.time, $0.mean[12], $0.standardDeviation[12], $0.lower[12], $0.upper[12]) }
            return ([all[0]], Array(all.dropFirst()))
        case .particles(var p):
            let points = try p.forecast(at: [origin] + minutes, z: z)
            engine = .particles(p)
            let all = points.map { point($0.time, $0.mean[0], $0.standardDeviation[0], $0.lower[0], $0.upper[0]) }
            return ([all[0]], Array(all.dropFirst()))
        }
    }
}
