import TwinSimulation
import Foundation
import TwinBank
import TwinCore
import TwinModels

/// Keeps a glucose twin in step with its thread and writes its forecast back: one pass of the two-way link.
///
/// One ``synchronise(_:in:options:)`` call
/// 1. reads, as the thread knew them at ``Options/knownAt`` (bitemporal: a late-arriving reading is used at its
///    effective time, and a past run can be replayed exactly by giving the same `knownAt`), the twin's CGM
///    glucose observations (LOINC 2339-0, any source, not retracted; mg/dL, or mmol/L converted with glucose's
///    molar mass 180.156 g/mol) in `[from, to]`, its meals (`intervention` events coded LOINC 9059-7, in grams)
///    and its insulin (`intervention` events coded ``insulin``: an amount in `[IU]` given at an instant or spread
///    evenly over the event's period, or a rate such as `[IU]/h` over a period) from `from` to the end of the
///    forecast (planned events included);
/// 2. assimilates the readings in effective-time order with the unscented Kalman filter set-up of
///    ``GlucoseSyncExperiment`` (UVA/Padova model starting from the adult population, augmented with the
///    log-multipliers of ``Options/estimated``; CGM noise sd ``Options/cgmNoiseStandardDeviation``);
/// 3. forecasts glucose every ``Options/step`` minutes up to ``Options/horizon`` minutes after `to` by
///    sigma-point propagation, with a central prediction interval at ``Options/level``;
/// 4. checks the twin's health (``ModelHealth``: parameters and glucose within their plausible range,
///    innovations consistent with the filter's own uncertainty, glucose now near the latest reading, a low
///    reading seen by the model; a filter that fails is a finding too, not an error);
/// 5. when the twin is reliable, runs the ``HypoglycaemiaWatcher`` on the forecast;
/// 6. writes, as **one** append batch: for the readings in the window below 70 mg/dL that no alert covers yet
///    (not only the latest: a dip that has recovered since alerts too; one per low episode and its escalations,
///    ``LowGlucoseReading/alerting(_:)``), an alert on the reading itself
///    (``LowGlucoseReading``, whatever the model says; once per reading, whether a sync or a watch wrote it); when the twin is reliable, a `prediction` event
///    per forecast point and code (mean as LOINC 2339-0, interval ends as ``lowerBound`` / ``upperBound``, all
///    mg/dL) and, if the watcher fired, an `alert` event whose text gives the numbers; when it is not, **no
///    prediction event** but a ``modelUnreliable`` alert naming each finding with its numbers (a clinician
///    reading the thread sees no forecast to mistake for a normal one). Every event's provenance names the
///    model and version, the filter, the window, `knownAt`, the seed, `inputs=KEY` (a hash of the events used
///    and the settings, without `knownAt`) and (derivedFrom) the observation and input events used; the
///    predicted alert is also derived from the forecast's mean events.
///
/// Guarantees: the computation is deterministic, so the same thread state, options and seed give identical
/// drafts; ``synchronise(_:in:options:)`` writes only what the thread does not hold yet (``HeldEvents``), so a
/// second run over the same window and data, read at any later time, writes nothing. Minutes are counted from `from`;
/// reading times are rounded to the nearest minute (the model moves in whole minutes). Insulin is only what
/// the thread records, except that in the forecast horizon, minutes no insulin event covers continue the basal
/// rate (a period event) in force at `to`. Nothing is written when reading the thread or its input fails.
public enum GlucoseSynchroniser {
    /// LOINC 2339-0, glucose [mass/volume] in blood (mg/dL).
    public static let glucose = Concept.bloodGlucose
    /// LOINC 9059-7, carbohydrate intake (estimated), in g.
    public static let carbohydrate = Concept.carbohydrateIntake
    /// Insulin given (SNOMED CT 67866001 |Insulin (substance)|), as an `intervention` in `[IU]` or `[IU]/h`.
    public static let insulin = Concept.snomed("67866001", "Insulin")
    /// Lower end of the glucose forecast's prediction interval (mg/dL).
    public static let lowerBound = Concept(system: "urn:twinbank:forecast", code: "glucose-lower", display: "Glucose forecast, lower end of prediction interval")
    /// Upper end of the glucose forecast's prediction interval (mg/dL).
    public static let upperBound = Concept(system: "urn:twinbank:forecast", code: "glucose-upper", display: "Glucose forecast, upper end of prediction interval")
    /// Code of the alert written instead of the forecast when the twin's model fails its ``ModelHealth`` check.
    public static let modelUnreliable = Concept(system: "urn:twinbank:alert", code: "model-unreliable", display: "Glucose twin unreliable: forecast withheld")
    /// Code of the alert raised when hypoglycaemia is predicted.
    public static let hypoglycaemiaAlert = Concept(system: "urn:twinbank:alert", code: "hypoglycaemia-predicted", display: "Hypoglycaemia predicted")
    public static let modelID = "uva-padova-t1d"
    public static let modelVersion = "simglucose-0.2.11"
    /// The source of everything the synchroniser writes.
    public static let source = Source(.model, "twinsync-glucose-ukf@1")
    /// mg/dL per mmol/L of glucose (molar mass 180.156 g/mol).
    public static let milligramsPerDecilitrePerMillimolePerLitre = 18.0156

    public struct Options: Sendable, Hashable {
        /// Start of the data window (default: 24 h before `to`).
        public var from: Instant?
        /// End of the data window and origin of the forecast (default: `knownAt`). Must not be after `knownAt`.
        public var to: Instant?
        /// Read the thread as known at this recorded time (default: the bank clock's now). Must not be in the future.
        public var knownAt: Instant?
        /// Forecast horizon in minutes (a positive multiple of `step`).
        public var horizon = 30
        /// Minutes between forecast points.
        public var step = 5
        /// Seeds the ensemble filter's draws (the same seed gives the same forecast); recorded in provenance.
        /// The UKF is deterministic, so with it the seed changes nothing but the record.
        public var seed: UInt64 = 1
        /// Where the twin's parameters start (see ``Prior``).
        public var prior: Prior = .twin
        /// The assimilation filter (see ``Filter``).
        public var filter: Filter = .unscented
        public var cgmNoiseStandardDeviation = 8.0
        public var estimated = ["Vmx", "kp3", "kabs"]
        public var level = 0.95
        public var hypoglycaemiaThreshold = 70.0
        /// The watcher looks this many minutes ahead.
        public var alertHorizon = 30.0
        /// Probability of glucose below the threshold at which the watcher alerts.
        public var alertProbability = 0.5
        /// When set, the filter is re-calibrated (``GlucoseRecalibration``, from the readings of its window) at
        /// the first reading this many minutes after the previous re-calibration (or the first reading), and the
        /// refit joins the twin's ``GlucoseFilterBank`` as a candidate. UKF only.
        public var recalibrationInterval: Int?
        /// The re-calibration's settings (used with ``recalibrationInterval``).
        public var recalibration = GlucoseRecalibration()
        /// Appended to every written event's provenance notes when set (e.g. which watch update ran this);
        /// part of the events' content, so the same context gives the same events.
        public var context: String?
        /// The largest |log-multiplier| with which an estimated parameter takes effect (UKF, EnKF and bank of
        /// UKFs): ln 10, so no parameter moves more than a factor of 10 from its prior
        /// (``GlucoseTwinProcess/logMultiplierBound``; the model health check warns from 4 prior SDs, a factor of
        /// about 3.3).
        public var parameterBound = log(10.0)
        /// The thresholds of the model health check (``ModelHealth``).
        public var health = ModelHealth.Settings()
        /// When set (a twin bound with ``ThreadBinding/glucose``), the estimate reached is written back too, as
        /// estimate events under this binding's name (``EstimateEvents``), when the twin is reliable.
        public var estimateBinding: ThreadBinding?
        public init() {}
    }

    /// Where the twin's model parameters and basal state start before any reading is assimilated.
    public enum Prior: String, Sendable, Hashable, Codable, CaseIterable {
        /// The twin's `virtualPatient` attribute (a simglucose patient, e.g. `adult#001`): that patient's parameters
        /// and basal state; the adult population mean when the attribute is not set.
        case twin
        /// The population mean of the twin's group (children, adolescents or adults, from the `virtualPatient`
        /// name's prefix; adults when unset): what is known without knowing who the person is.
        case population
        /// A bank of priors (``GlucoseFilterBank``): one UKF per simglucose patient of the twin's age group
        /// (from the `virtualPatient` name's prefix; adults when unset), **leaving out the twin's own
        /// `virtualPatient`**, weighted by how well each predicts the readings. UKF only. When the thread records
        /// the person's body weight (LOINC 29463-7, the latest at or before the forecast origin), every candidate
        /// takes it (with ``Filter/particles(count:)``, the prior is conditioned on it).
        case cohort
    }

    /// The filter that assimilates the readings.
    public enum Filter: Sendable, Hashable {
        /// The unscented Kalman filter (alpha 0.5, beta 2, kappa 0); forecast by sigma-point propagation. Deterministic.
        case unscented
        /// An ensemble Kalman filter of `members` members drawn from ``Options/seed`` (members simulated in
        /// parallel); forecast by propagating every member, interval ends are empirical quantiles.
        case ensemble(members: Int)
        /// A sequential Monte Carlo posterior over the model's parameters (``GlucoseParameterPosterior``) of
        /// `count` particles drawn from ``Options/seed``, with the cohort prior (``Prior/cohort``: the cohort's
        /// mean, the covariance pooled within simglucose's three age groups, all without the twin's own
        /// `virtualPatient`); each particle's state is simulated from its basal steady state at the start of
        /// the window. Forecast: the particles' weighted mean and sd.
        case particles(count: Int)

        var label: String {
            switch self {
            case .unscented: "UKF"
            case .ensemble(let m): "EnKF(\(m))"
            case .particles(let n): "SMC(\(n))"
            }
        }
    }

    /// One forecast point in mg/dL.
    public struct Point: Sendable, Hashable, Codable {
        public var time: Instant
        public var mean: Double
        public var standardDeviation: Double
        public var lower: Double
        public var upper: Double
    }

    /// What a synchronisation computed (and, after ``synchronise(_:in:options:)``, wrote).
    public struct Result: Sendable, Codable {
        public var twin: TwinID
        public var from: Instant
        public var to: Instant
        public var knownAt: Instant
        public var observationsUsed: Int
        public var mealsUsed: Int
        public var insulinEventsUsed: Int
        /// Filtered glucose at `to` (mg/dL) and its standard deviation.
        public var glucoseNow: Double
        public var glucoseNowStandardDeviation: Double
        public var points: [Point]
        public var level: Double
        /// Estimated parameters: the prior's value (under the key `population`) and the current estimate.
        public var parameters: [String: [String: Double]]
        /// The text of the alert predicted by the ``HypoglycaemiaWatcher`` (nil when none, or when the twin is unreliable).
        public var alert: String?
        /// The text of the alert on the latest reading when it is below 70 mg/dL (``LowGlucoseReading``), whatever
        /// the model says.
        public var lowReadingAlert: String?
        /// The texts of the alerts on the window's low readings, one per low episode and its escalations
        /// (``LowGlucoseReading/alerting(_:)``), in time order: from ``compute(_:in:options:)`` all of them; after ``synchronise(_:in:options:)`` only those
        /// written by this run (the thread held none of them yet: neither a sync nor a watch had alerted on the reading).
        public var lowReadingAlerts: [String]
        /// Whether the model still explains the readings (``ModelHealth``); when it does not, the forecast is not
        /// written, a ``GlucoseSynchroniser/modelUnreliable`` alert is written instead.
        public var health: ModelHealth
        public var covarianceResets: Int
        /// Candidates of a bank of priors that left it (diverged or implausible), each with the minute (from
        /// `from`) and the reason; also in the written events' provenance notes.
        public var retiredCandidates: [String] = []
        /// The body weight (kg) the cohort prior took from the twin's latest LOINC 29463-7 observation, if any.
        public var bodyWeight: Double?
        /// What the parameters started from (`adult#001 (virtualPatient)`, `adult population mean`).
        public var prior: String
        /// The filter used (`UKF`, `EnKF(100)`) and its seed.
        public var filter: String
        public var seed: UInt64
        /// The events to append (forecast points, then the alert if any), in order.
        public var drafts: [EventDraft]
        /// Set once written (nil when nothing new was written).
        public var written: AppendResult?
        /// How many drafts ``synchronise(_:in:options:)`` did not write because the thread already holds them
        /// (the same events, or the same forecast computed from the same inputs: ``HeldEvents``).
        public var alreadyHeld = 0
    }

    /// Computes, then appends as one batch the result's events the thread does not hold yet (``HeldEvents``):
    /// running it again over the same window and data writes nothing new (``Result/alreadyHeld`` counts them).
    /// - Throws: ``SyncError`` (`invalidArgument`, `invalidTime`, `unsupported` naming the value), any bank error.
    @discardableResult
    public static func synchronise(_ twin: TwinID, in bank: Bank, options: Options = Options()) async throws -> Result {
        var result = try await compute(twin, in: bank, options: options)
        let fresh = try HeldEvents.unheld(result.drafts, twin: twin, in: bank)
        result.alreadyHeld = result.drafts.count - fresh.count
        result.lowReadingAlerts = fresh.compactMap { i in
            let d = result.drafts[i]
            guard d.category == .alert, d.code.key == LowGlucoseReading.alertCode.key, case .text(let t)? = d.value else { return nil }
            return t
        }
        if !fresh.isEmpty { result.written = try bank.append(fresh.map { result.drafts[$0] }) }
        return result
    }

    /// Reads the thread, assimilates and forecasts, and returns the events it would write, without writing.
    public static func compute(_ twin: TwinID, in bank: Bank, options: Options = Options()) async throws -> Result {
        guard options.step > 0, options.horizon > 0, options.horizon % options.step == 0 else {
            throw SyncError(.invalidArgument, "the horizon (\(options.horizon) min) must be a positive multiple of the step (\(options.step) min).", value: String(options.horizon))
        }
        guard options.cgmNoiseStandardDeviation > 0, options.cgmNoiseStandardDeviation.isFinite else {
            throw SyncError(.invalidArgument, "the CGM noise sd must be positive.", value: String(options.cgmNoiseStandardDeviation))
        }
        let now = bank.clock.now()
        let knownAt = options.knownAt ?? now
        guard knownAt <= now else {
            throw SyncError(.invalidTime, "knownAt \(knownAt) is in the future of the bank clock (\(now)).", value: knownAt.iso8601)
        }
        let to = options.to ?? knownAt
        guard to <= knownAt else {
            throw SyncError(.invalidTime, "the window end \(to) is after what the thread can know (\(knownAt)); a forecast origin cannot be in the future.", value: to.iso8601)
        }
        let from = options.from ?? to.advanced(bySeconds: -86_400)
        let windowMinutes = Int((to.microseconds - from.microseconds) / 60_000_000)
        guard windowMinutes >= 1 else {
            throw SyncError(.invalidTime, "the window from \(from) to \(to) is shorter than a minute.", value: from.iso8601)
        }
        let origin = from.advanced(byMicroseconds: Int64(windowMinutes) * 60_000_000)
        let end = origin.advanced(byMicroseconds: Int64(options.horizon) * 60_000_000)
        func minute(_ t: Instant) -> Int { Int((Double(t.microseconds - from.microseconds) / 60e6).rounded()) }

        // glucose observations
        let future = try bank.events(ThreadQuery(twin: twin, code: glucose.key, category: .observation, from: now.advanced(byMicroseconds: 1), knownAt: knownAt))
        if let f = future.first {
            throw SyncError(.invalidTime, "glucose observation \(f.id.abbreviated()) from \(f.source) is dated \(f.effective.start), in the future of the bank clock (\(now)).", value: f.effective.start.iso8601)
        }
        let readings = try bank.events(ThreadQuery(twin: twin, code: glucose.key, category: .observation, from: from, to: origin, knownAt: knownAt))
        var observations: [(minute: Int, value: Double, event: Event)] = []
        for e in readings {
            observations.append((minute(e.effective.start), try milligramsPerDecilitre(e), e))
        }
        guard !observations.isEmpty else {
            // readings in the window that the bank flagged implausible at its door are not model inputs: say so
            let flagged = try bank.events(ThreadQuery(twin: twin, code: glucose.key, category: .observation, from: from, to: origin, knownAt: knownAt,
                                                      includeImplausible: true)).filter(\.isFlaggedImplausible)
            if let first = flagged.first {
                let value = first.value.map { "\($0)" } ?? "none"
                throw SyncError(.invalidArgument, "twin '\(twin)' has no plausible glucose observations (LOINC 2339-0) from \(from) to \(origin) as known at \(knownAt): "
                                + "all \(flagged.count) of its glucose readings in the window are flagged implausible (the first: \(value) at \(first.effective.start), "
                                + "event \(first.id.abbreviated())) and are not model inputs; correct or retract them.", value: value)
            }
            // say where the data is, so a window over historical data can be moved onto it (--from/--to)
            let whereData: String
            if let range = try bank.effectiveRange(of: twin, code: glucose.key, category: .observation) {
                whereData = range.lowerBound == range.upperBound ? " Its glucose data is at \(range.lowerBound): choose a window that holds it (--to \(range.upperBound))."
                    : " Its glucose data runs from \(range.lowerBound) to \(range.upperBound): choose a window within it (--to \(range.upperBound))."
            } else {
                whereData = " It has no plausible glucose observations at all."
            }
            throw SyncError(.invalidArgument, "twin '\(twin)' has no glucose observations (LOINC 2339-0) from \(from) to \(origin) as known at \(knownAt).\(whereData)", value: twin.rawValue)
        }
        observations.sort { ($0.minute, $0.event.sequence) < ($1.minute, $1.event.sequence) }

        // inputs per minute over window and horizon
        let minutes = windowMinutes + options.horizon + 1
        var cho = [Double](repeating: 0, count: minutes), ins = cho
        var covered = [Bool](repeating: false, count: minutes)
        var basalAtOrigin: Double?
        let mealEvents = try overlapping(twin, carbohydrate, bank, from: from, to: end, knownAt: knownAt)
        for e in mealEvents {
            let r = try perMinute(e, amount: try amount(e, unit: "g", what: "meal"), rateUnit: nil, from: from)
            for m in max(r.first, 0)..<max(min(r.last + 1, minutes), max(r.first, 0)) { cho[m] += r.rate }
        }
        let insulinEvents = try overlapping(twin, insulin, bank, from: from, to: end, knownAt: knownAt)
        for e in insulinEvents {
            let r = try perMinute(e, amount: nil, rateUnit: "[IU]/min", from: from)
            for m in max(r.first, 0)..<max(min(r.last + 1, minutes), max(r.first, 0)) { ins[m] += r.rate; covered[m] = true }
            if e.effective.end != nil, r.first <= windowMinutes, r.last >= windowMinutes { basalAtOrigin = (basalAtOrigin ?? 0) + r.rate }
        }
        if let basal = basalAtOrigin {
            for m in (windowMinutes + 1)..<minutes where !covered[m] { ins[m] += basal }
        }

        // the person's latest recorded body weight (the cohort prior takes it)
        let weight = options.prior == .cohort ? try bodyWeight(of: twin, in: bank, at: origin, knownAt: knownAt) : nil

        // the prior, then the experiment's filter set-up
        let t0 = Double(max(0, observations[0].minute))
        let window = Double(observations[0].minute)...Double(observations[observations.count - 1].minute)
        let times = stride(from: windowMinutes + options.step, through: windowMinutes + options.horizon, by: options.step).map(Double.init)
        var glucosePoints: [Forecast.Point] = []
        var nowMean = Double.nan, nowSD = Double.nan, resets = 0, priorName = "", filterLabel = options.filter.label
        var retired: [String] = []
        // what the model health check reads: innovations (UKF, EnKF, bank of UKFs) and each estimated
        // parameter's prior sd on the log scale
        var innovations: [ModelHealth.Innovation] = []
        var logPriorSD: [String: Double] = [:]
        // a filter that fails (diverges, loses positive definiteness, goes non-finite) makes the twin
        // unreliable; it does not silence the reading-based alert
        var failure: SyncError?
        // the particle posterior's settings as used, for the provenance notes
        var posteriorSettings: GlucoseParameterPosterior.Settings?
        var parameters: [String: [String: Double]] = [:]
        do {
        if case .particles(let count) = options.filter {
            guard options.prior == .cohort else {
                throw SyncError(.unsupported, "the particle posterior draws its particles from a cohort; choose the cohort prior (not \(options.prior.rawValue)).", value: options.prior.rawValue)
            }
            guard options.recalibrationInterval == nil else {
                throw SyncError(.unsupported, "re-calibration refits a bank of filters; the particle posterior moves its own parameters (leave re-calibration out).", value: String(options.recalibrationInterval ?? 0))
            }
            guard count >= 10, count <= 100_000 else { throw SyncError(.invalidArgument, "the particle posterior needs 10 to 100000 particles.", value: String(count)) }
            let priors = try cohort(for: twin, in: bank)
            let person = try virtualPatient(of: twin, in: bank) ?? ""
            priorName = "cohort of \(priors.count) (\(priors.map(\.name).joined(separator: ","))), covariance pooled within age groups"
            var settings = GlucoseParameterPosterior.Settings()
            settings.particles = count
            settings.noiseStandardDeviation = options.cgmNoiseStandardDeviation
            var posterior = try GlucoseParameterPosterior(cohort: priors.map(\.parameters),
                                                          covarianceGroups: GlucoseSyncExperiment.Population.ageGroups(without: person).map { $0.map(\.parameters) },
                                                          bodyWeight: weight?.kg, carbohydrate: cho, insulin: ins, firstReading: observations[0].value, settings: settings, seed: options.seed)
            posteriorSettings = posterior.settings
            for name in options.estimated {
                let logs = priors.map { log(GlucoseTwinProcess.value(name, in: $0.parameters)) }.filter(\.isFinite)
                let mean = logs.reduce(0, +) / Double(max(logs.count, 1))
                let sd = (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(logs.count - 1, 1))).squareRoot()
                logPriorSD[name] = sd > 0 ? sd : nil
            }
            for o in observations { try posterior.assimilate(minute: max(o.minute, Int(t0)), reading: o.value) }
            let z = inverseStandardNormal(0.5 + options.level / 2)
            let points = try posterior.forecast(at: [windowMinutes] + times.map { Int($0) }, z: z)
            nowMean = points[0].mean[0]; nowSD = points[0].standardDeviation[0]
            glucosePoints = Array(points.dropFirst())
            resets = 0
            filterLabel = options.filter.label
            for p in posterior.parameters(options.estimated) { parameters[p.name] = ["population": p.prior, "estimated": p.estimated] }
        } else if options.prior == .cohort || options.recalibrationInterval != nil {
            guard options.filter == .unscented else {
                throw SyncError(.unsupported, "a bank of priors and re-calibration run unscented Kalman filters; choose the UKF (not \(options.filter.label)).", value: options.filter.label)
            }
            if let interval = options.recalibrationInterval, interval < 1 {
                throw SyncError(.invalidArgument, "the re-calibration interval must be a positive number of minutes.", value: String(interval))
            }
            var priors: [GlucoseSyncExperiment.Population]
            if options.prior == .cohort {
                priors = try cohort(for: twin, in: bank)
                if let kg = weight?.kg {
                    priors = priors.map { $0.weighing(kg) }
                }
                priorName = "cohort of \(priors.count) (\(priors.map(\.name).joined(separator: ",")))"
            } else {
                let (population, x0, name) = try prior(for: twin, in: bank, options.prior)
                priors = [GlucoseSyncExperiment.Population(parameters: population, initialState: x0, name: name)]
                priorName = name
            }
            var settings = GlucoseFilterBank.Settings()
            settings.noiseStandardDeviation = options.cgmNoiseStandardDeviation
            settings.estimated = options.estimated
            settings.recalibration = options.recalibrationInterval == nil ? nil : options.recalibration
            settings.parameterBound = options.parameterBound
            var filters = try GlucoseFilterBank(priors: priors, carbohydrate: cho, insulin: ins, minute: Int(t0), firstReading: observations[0].value, settings: settings)
            var nextRefit = Int(t0) + (options.recalibrationInterval ?? 0)
            for name in options.estimated { logPriorSD[name] = settings.parameterPriorSD }
            for o in observations {
                try filters.assimilate(minute: max(o.minute, Int(t0)), reading: o.value)
                if let interval = options.recalibrationInterval, o.minute >= nextRefit {
                    try filters.recalibrate()
                    while nextRefit <= o.minute { nextRefit += interval }
                }
            }
            let z = inverseStandardNormal(0.5 + options.level / 2)
            let points = try filters.forecast(at: [windowMinutes] + times.map { Int($0) }, z: z)
            nowMean = points[0].mean[12]; nowSD = points[0].standardDeviation[12]
            glucosePoints = points.dropFirst().map {
                Forecast.Point(time: $0.time, mean: [$0.mean[12]], standardDeviation: [$0.standardDeviation[12]], lower: [$0.lower[12]], upper: [$0.upper[12]])
            }
            resets = filters.resets
            innovations = filters.innovations
            retired = filters.retirements.map { "\($0.candidate) \($0.restarted ? "restarted from its prior" : "retired") at minute \($0.minute): \($0.reason)" }
            filterLabel = filters.filters.count > 1 ? "UKF bank of \(filters.filters.count)" : "UKF"
            for p in filters.parameters { parameters[p.name] = ["population": p.prior, "estimated": p.estimated] }
        } else {
            let (population, x0, name) = try prior(for: twin, in: bank, options.prior)
            priorName = name
            filterLabel = options.filter.label
            var settings = GlucoseFilterBank.Settings()
            settings.estimated = options.estimated
            settings.parameterBound = options.parameterBound
            let (process, start, p0) = try GlucoseFilterBank.start(GlucoseSyncExperiment.Population(parameters: population, initialState: x0, name: name),
                                                                   carbohydrate: cho, insulin: ins, reading: observations[0].value, settings: settings)
            for name in options.estimated { logPriorSD[name] = settings.parameterPriorSD }
            let sensor = GlucoseSensor(volume: population.Vg, standardDeviation: options.cgmNoiseStandardDeviation)
            let r2 = options.cgmNoiseStandardDeviation * options.cgmNoiseStandardDeviation
            func assimilate<F: SequentialFilter>(_ f: inout F) async throws {
                for o in observations {
                    try await f.predict(to: Double(max(o.minute, Int(f.time))))
                    let n = f.mean.count, vg = population.Vg
                    innovations.append(ModelHealth.Innovation(minute: o.minute, residual: o.value - f.mean[12] / vg,
                                                              variance: f.covariance[12 * n + 12] / (vg * vg) + r2))
                    try f.update(with: Observation(time: f.time, values: [o.value]), model: sensor)
                }
                try await f.predict(to: Double(windowMinutes))
            }
            let provenance = Forecast.Provenance(filter: filterLabel, model: "\(modelID)@\(modelVersion) \(priorName)", dataWindow: window,
                                                 observationCount: observations.count, seed: options.seed)
            let full: Forecast
            let filtered: (mean: [Double], sd: [Double], resets: Int)
            switch options.filter {
            case .unscented:
                var ukf = try UnscentedKalmanFilter(process: process, time: t0, mean: start, covariance: p0, alpha: 0.5, beta: 2, kappa: 0)
                try await assimilate(&ukf)
                filtered = (ukf.mean, ukf.standardDeviations, ukf.resets.count)
                full = try await ukf.forecast(at: times, level: options.level, provenance: provenance)
            case .ensemble(let members):
                guard members >= 2, members <= 10_000 else {
                    throw SyncError(.invalidArgument, "an ensemble needs 2 to 10000 members.", value: String(members))
                }
                var enkf = try EnsembleKalmanFilter(process: process, time: t0, mean: start, covariance: p0, count: members, seed: options.seed)
                try await assimilate(&enkf)
                filtered = (enkf.mean, enkf.standardDeviations, enkf.resets.count)
                full = try await enkf.ensembleForecast(at: times, level: options.level, provenance: provenance)
            case .particles:
                throw SyncError(.unsupported, "the particle posterior needs the cohort prior.", value: options.filter.label)
            }
            nowMean = filtered.mean[12] / population.Vg; nowSD = filtered.sd[12] / population.Vg
            resets = filtered.resets
            glucosePoints = full.points.map {
                Forecast.Point(time: $0.time, mean: [$0.mean[12] / population.Vg], standardDeviation: [$0.standardDeviation[12] / population.Vg],
                               lower: [$0.lower[12] / population.Vg], upper: [$0.upper[12] / population.Vg])
            }
            for (i, name) in options.estimated.enumerated() {
                let pop = GlucoseTwinProcess.value(name, in: population)
                parameters[name] = ["population": pop, "estimated": pop * process.multiplier(filtered.mean[14 + i])]
            }
        }
        } catch let e as SyncError where ModelHealth.filterFailureCodes.contains(e.code) {
            failure = e
            glucosePoints = []
        }
        let provenanceForecast = Forecast.Provenance(filter: filterLabel, model: "\(modelID)@\(modelVersion) \(priorName)", dataWindow: window,
                                                     observationCount: observations.count, seed: options.seed)
        let forecast = Forecast(origin: Double(windowMinutes), stateNames: ["glucose"], level: options.level, points: glucosePoints,
                                method: options.filter == .unscented ? "gaussian-propagation" : (filterLabel.hasPrefix("SMC") ? "particles" : "ensemble"),
                                provenance: provenanceForecast)
        // the twin's health: is the model still plausible and does it explain the readings?
        let latest = observations[observations.count - 1]
        let health: ModelHealth
        if let failure {
            health = ModelHealth(findings: [ModelHealth.Finding(kind: .filterFailed, message: "the \(filterLabel) failed: \(failure.message)", measures: [:])])
        } else {
            let estimatedParameters = options.estimated.compactMap { name -> ModelHealth.Parameter? in
                guard let p = parameters[name], let prior = p["population"], let estimate = p["estimated"], let sd = logPriorSD[name] else { return nil }
                return ModelHealth.Parameter(name: name, prior: prior, estimated: estimate, logPriorSD: sd)
            }
            health = ModelHealth.check(ModelHealth.Input(glucoseNow: nowMean, glucoseNowSD: nowSD, latestReading: latest.value,
                                                         latestReadingAge: Double(windowMinutes - latest.minute), noiseSD: options.cgmNoiseStandardDeviation,
                                                         innovations: innovations, parameters: estimatedParameters, forecast: glucosePoints.map { $0.mean[0] }),
                                       settings: options.health)
        }
        // the low readings in the window that alert (once: ``HeldEvents`` holds those a sync or watch alerted already)
        let lowReadings = LowGlucoseReading.alerting(observations.map { ($0.value, $0.event) })

        // events
        let used = observations.map(\.event) + mealEvents + insulinEvents + (weight.map { [$0.event] } ?? [])
        var filterNote = options.filter == .unscented ? "UKF(alpha=0.5,beta=2,kappa=0)" : options.filter.label + " seed=\(options.seed) generator=\(Xoshiro256StarStar.streamLabel)"
        if filterLabel != options.filter.label { filterNote = filterLabel + " of UKF(alpha=0.5,beta=2,kappa=0)" }
        if let s = posteriorSettings {
            filterNote += " moves=\(s.moves) resampleThreshold=\(s.resampleThreshold) priorSpread=\(s.priorSpread)"
            filterNote += " priorDegreesOfFreedom=\(s.priorDegreesOfFreedom) covarianceShrinkage=\(s.covarianceShrinkage)"
        }
        if let interval = options.recalibrationInterval {
            filterNote += " recalibration=every \(interval)min window=\(options.recalibration.window)min parameters=\(options.recalibration.parameters.joined(separator: ","))"
        }
        var notes = "filter=\(filterNote) prior=\(priorName) estimated=\(options.estimated.joined(separator: ",")) cgmNoiseSD=\(options.cgmNoiseStandardDeviation) "
        notes += "window=\(from.iso8601)..\(origin.iso8601) knownAt=\(knownAt.iso8601) horizon=\(options.horizon)min level=\(options.level) "
        notes += "observations=\(observations.count) meals=\(mealEvents.count) insulin=\(insulinEvents.count)"
        if posteriorSettings == nil, options.parameterBound.isFinite { notes += " parameterBound=\(Value.format(options.parameterBound))" }
        if let weight { notes += " bodyWeight=\(Value.format(weight.kg))kg" }
        if !retired.isEmpty { notes += " retired=" + retired.joined(separator: "; ") }
        if let context = options.context { notes += " " + context }
        // what the forecast was computed from (the events used and every setting but the time the thread was
        // read): a forecast computed again from the same inputs is held already (``HeldEvents``)
        var keyHasher = EventHasher()
        let inputs = keyHasher.hash(EventDraft(twin: twin, effective: EffectiveTime(origin), category: .prediction, code: glucose,
                                               value: .text(notes.replacingOccurrences(of: "knownAt=\(knownAt.iso8601) ", with: "")), source: source,
                                               provenance: Provenance(derivedFrom: used.map(\.id)))).abbreviated(16)
        notes += " inputs=\(inputs)"
        let provenance = Provenance(derivedFrom: used.map(\.id), model: modelID, modelVersion: modelVersion, seed: options.seed, notes: notes)
        var drafts: [EventDraft] = []
        var lowReadingText: String?
        var lowReadingTexts: [String] = []
        for low in lowReadings {
            // the model's glucose now is compared with the latest reading only (an earlier one may have recovered since)
            let isLatest = low.event.id == latest.event.id
            let d = low.draft(twin: twin, source: source, nowcast: isLatest && nowMean.isFinite ? nowMean : nil, context: options.context)
            if case .text(let t)? = d.value {
                lowReadingTexts.append(t)
                if isLatest { lowReadingText = t }
            }
            drafts.append(d)
        }
        var points: [Point] = []
        var meanIDs: [ContentHash] = []
        var hasher = EventHasher()
        for p in glucosePoints {
            let at = origin.advanced(byMicroseconds: Int64(p.time - Double(windowMinutes)) * 60_000_000)
            points.append(Point(time: at, mean: p.mean[0], standardDeviation: p.standardDeviation[0], lower: p.lower[0], upper: p.upper[0]))
            let mean = EventDraft(twin: twin, effective: EffectiveTime(at), category: .prediction, code: glucose,
                                  value: .quantity(Quantity(p.mean[0], "mg/dL")), source: source, provenance: provenance)
            meanIDs.append(hasher.hash(mean))
            if health.reliable { drafts.append(mean) }
            for (code, v) in [(lowerBound, p.lower[0]), (upperBound, p.upper[0])] {
                guard health.reliable else { continue }
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .prediction, code: code,
                                         value: .quantity(Quantity(v, "mg/dL")), source: source, provenance: provenance))
            }
        }
        let watcher = HypoglycaemiaWatcher(glucose: "glucose", threshold: options.hypoglycaemiaThreshold, horizon: options.alertHorizon, probability: options.alertProbability)
        var alertText: String?
        if !health.reliable {
            // withheld: no prediction events, no alert predicted by this model; an alert says why, with the numbers
            let now = nowMean.isFinite ? "\(Value.format((nowMean * 10).rounded() / 10)) ± \(Value.format((nowSD * 10).rounded() / 10)) mg/dL" : "unknown"
            let text = (["Glucose twin unreliable: its forecast is withheld (not written as a forecast) and no hypoglycaemia is predicted from it; rely on the readings."]
                        + health.warnings
                        + ["twin's glucose now \(now); latest reading \(Value.format((latest.value * 10).rounded() / 10)) mg/dL at \(latest.event.effective.start.iso8601)"])
                .joined(separator: " | ")
            let kinds = health.findings.map(\.kind.rawValue).joined(separator: ",")
            let measures = health.findings.flatMap { $0.measures.map { ($0.key, $0.value) } }
            let words = Dictionary(measures, uniquingKeysWith: { a, _ in a }).sorted { $0.key < $1.key }.map { "\($0.key)=\(Value.format($0.value))" }
            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(origin), category: .alert, code: modelUnreliable, value: .text(text), source: source,
                                     provenance: Provenance(derivedFrom: used.map(\.id), model: modelID, modelVersion: modelVersion, seed: options.seed,
                                                            notes: "watcher=model-health reliable=false findings=\(kinds) \(words.joined(separator: " ")); " + notes)))
        } else if let alert = try watcher.evaluate(forecast) {
            let recent = observations.suffix(3).map { "\($0.event.effective.start.iso8601) \(Value.format(($0.value * 10).rounded() / 10)) mg/dL" }
            let text = ([alert.message] + alert.reasons + ["latest readings: " + recent.joined(separator: "; ")]).joined(separator: " | ")
            alertText = text
            let alertProvenance = Provenance(derivedFrom: meanIDs + observations.map(\.event.id), model: modelID, modelVersion: modelVersion,
                                             seed: options.seed, notes: "watcher=hypoglycaemia threshold=\(options.hypoglycaemiaThreshold) horizon=\(options.alertHorizon)min probability=\(options.alertProbability) severity=\(alert.severity.rawValue) \(alert.measureWords); " + notes)
            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(origin), category: .alert, code: hypoglycaemiaAlert,
                                     value: .text(text), source: source, provenance: alertProvenance))
        }
        if let binding = options.estimateBinding, health.reliable {
            // what the loop learnt, as thread events (simglucose's own units)
            let estimate = ParameterEstimate(parameters: options.estimated.compactMap { name in
                guard let p = parameters[name], let value = p["estimated"], value.isFinite else { return nil }
                return ParameterEstimate.Parameter(id: name, value: value, unit: "1", scale: .log, standardDeviation: nil, prior: p["population"])
            }, readings: observations.count)
            drafts += EstimateEvents.drafts(twin: twin, binding: binding, estimate: estimate, estimator: filterLabel, settings: [], seed: options.seed,
                                            from: from, to: origin, knownAt: knownAt, used: used.map(\.id), inputs: inputs, context: options.context)
        }
        return Result(twin: twin, from: from, to: origin, knownAt: knownAt, observationsUsed: observations.count, mealsUsed: mealEvents.count,
                      insulinEventsUsed: insulinEvents.count, glucoseNow: nowMean, glucoseNowStandardDeviation: nowSD, points: points,
                      level: options.level, parameters: parameters, alert: alertText, lowReadingAlert: lowReadingText, lowReadingAlerts: lowReadingTexts, health: health, covarianceResets: resets,
                      retiredCandidates: retired, bodyWeight: weight?.kg, prior: priorName, filter: filterLabel, seed: options.seed, drafts: drafts, written: nil)
    }

    /// The twin's latest body weight observation (LOINC 29463-7) effective at or before `origin`, as known at
    /// `knownAt`, in kg.
    /// - Throws: ``SyncError`` `invalidArgument` naming the event when its value is not a mass (kg, g, [lb_av])
    ///   or not a plausible weight (0-400 kg).
    static func bodyWeight(of twin: TwinID, in bank: Bank, at origin: Instant, knownAt: Instant) throws -> (kg: Double, event: Event)? {
        let events = try bank.events(ThreadQuery(twin: twin, code: Concept.bodyWeight.key, category: .observation, to: origin, knownAt: knownAt))
        guard let e = events.max(by: { ($0.effective.start, $0.sequence) < ($1.effective.start, $1.sequence) }) else { return nil }
        guard let q = e.value?.quantity, let kg = try? q.converted(to: "kg").value, kg.isFinite else {
            throw SyncError(.invalidArgument, "body weight observation \(e.id.abbreviated()) at \(e.effective.start) is not a mass in kg, g or [lb_av] (value: \(e.value.map { "\($0)" } ?? "none")).", value: e.value.map { "\($0)" })
        }
        guard kg > 0, kg < 400 else {
            throw SyncError(.invalidArgument, "body weight observation \(e.id.abbreviated()) at \(e.effective.start) is \(Value.format(kg)) kg, not a plausible weight (0-400 kg).", value: q.description)
        }
        return (kg, e)
    }

    /// The prior's parameters, basal state and name for the twin (for ``Prior/cohort``, the group's mean).
    /// - Throws: ``SyncError`` `invalidArgument` when `virtualPatient` is set but is not text naming a simglucose patient.
    static func prior(for twin: TwinID, in bank: Bank, _ kind: Prior) throws -> (UVAPadovaParameters, [Double], String) {
        let name = try virtualPatient(of: twin, in: bank)
        switch kind {
        case .twin:
            guard let name else {
                let p = GlucoseSyncExperiment.Population.adult
                return (p.parameters, p.initialState, p.name)
            }
            do {
                let patient = try VirtualPatient.named(name)
                return (patient.parameters, patient.initialState, "\(patient.name) (virtualPatient)")
            } catch {
                throw SyncError(.invalidArgument, "twin '\(twin)' has virtualPatient '\(name)', which is not a simglucose patient (adolescent#001-010, adult#001-010, child#001-010).", value: name)
            }
        case .population, .cohort:
            // (a cohort's members come from ``cohort(for:in:)``; its single-prior stand-in is the group's mean)
            let p = GlucoseSyncExperiment.Population(group: name ?? "adult#")
            return (p.parameters, p.initialState, p.name)
        }
    }

    /// The bank of priors of ``Prior/cohort``: the simglucose patients of the twin's age group except its own
    /// `virtualPatient`.
    static func cohort(for twin: TwinID, in bank: Bank) throws -> [GlucoseSyncExperiment.Population] {
        GlucoseSyncExperiment.Population.cohort(around: try virtualPatient(of: twin, in: bank) ?? "adult#")
    }

    /// The twin's `virtualPatient` attribute, if set.
    /// - Throws: ``SyncError`` `invalidArgument` when it is set but is not text.
    static func virtualPatient(of twin: TwinID, in bank: Bank) throws -> String? {
        guard let attribute = try bank.twin(twin).twin.attributes["virtualPatient"] else { return nil }
        guard case .text(let text) = attribute else {
            throw SyncError(.invalidArgument, "twin '\(twin)' has a virtualPatient attribute that is not a patient name (\(attribute)).", value: "\(attribute)")
        }
        return text
    }

    /// A glucose observation's value in mg/dL.
    static func milligramsPerDecilitre(_ e: Event) throws -> Double {
        guard let q = e.value?.quantity else {
            throw SyncError(.invalidArgument, "glucose observation \(e.id.abbreviated()) at \(e.effective.start) has no quantity (value: \(e.value.map { "\($0)" } ?? "none")).", value: e.value.map { "\($0)" })
        }
        if let v = try? q.converted(to: "mg/dL").value, v.isFinite { return v }
        if let v = try? q.converted(to: "mmol/L").value, v.isFinite { return v * milligramsPerDecilitrePerMillimolePerLitre }
        throw SyncError(.invalidArgument, "glucose observation \(e.id.abbreviated()) at \(e.effective.start) is in '\(q.unit)', which does not convert to mg/dL or mmol/L.", value: q.description)
    }

    /// Intervention events with the code whose effective period overlaps `[from, to]`, as known at `knownAt`.
    static func overlapping(_ twin: TwinID, _ code: Concept, _ bank: Bank, from: Instant, to: Instant, knownAt: Instant) throws -> [Event] {
        try bank.events(ThreadQuery(twin: twin, code: code.key, category: .intervention, to: to, knownAt: knownAt))
            .filter { ($0.effective.end ?? $0.effective.start) >= from }
    }

    static func amount(_ e: Event, unit: String, what: String) throws -> Double {
        guard let q = e.value?.quantity, let v = try? q.converted(to: unit).value, v.isFinite, v >= 0 else {
            throw SyncError(.invalidArgument, "\(what) event \(e.id.abbreviated()) at \(e.effective.start) is not a non-negative amount in \(unit) (value: \(e.value.map { "\($0)" } ?? "none")).", value: e.value.map { "\($0)" })
        }
        return v
    }

    /// An event's input per minute and the minutes it covers (counted from `from`): its start minute when
    /// instantaneous, the minutes of its period otherwise. An amount is spread evenly; a rate (`rateUnit`,
    /// for insulin) needs a period.
    static func perMinute(_ e: Event, amount fixedAmount: Double?, rateUnit: String?, from: Instant) throws -> (first: Int, last: Int, rate: Double) {
        let first = Int((Double(e.effective.start.microseconds - from.microseconds) / 60e6).rounded(.down))
        let last = e.effective.end.map { max(first, Int((Double($0.microseconds - from.microseconds) / 60e6).rounded(.up)) - 1) } ?? first
        let count = Double(last - first + 1)
        if let fixedAmount { return (first, last, fixedAmount / count) }
        if let q = e.value?.quantity, let a = try? q.converted(to: "[IU]").value, a.isFinite, a >= 0 { return (first, last, a / count) }
        if let rateUnit, let q = e.value?.quantity, let r = try? q.converted(to: rateUnit).value, r.isFinite, r >= 0 {
            guard e.effective.end != nil else {
                throw SyncError(.invalidArgument, "insulin rate event \(e.id.abbreviated()) at \(e.effective.start) needs an effective period (start/end).", value: q.description)
            }
            return (first, last, r)
        }
        throw SyncError(.invalidArgument, "insulin event \(e.id.abbreviated()) at \(e.effective.start) is not a non-negative amount in [IU] or rate in [IU]/h (value: \(e.value.map { "\($0)" } ?? "none")).", value: e.value.map { "\($0)" })
    }
}
