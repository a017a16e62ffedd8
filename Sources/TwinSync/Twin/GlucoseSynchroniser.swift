import TwinSimulation
import Foundation
import TwinBank
import TwinCore
import TwinModels

/// The glucose twin's face on the one two-way loop: its options (prior, filter, CGM noise, alert thresholds)
/// and its summary (glucose now, the forecast in mg/dL, the alerts), over the ``BindingSynchroniser`` running
/// the glucose binding (``binding(for:)``, ``ThreadBinding/glucose``) with the ``GlucoseEstimator``. It is not a
/// synchroniser of its own: the window, the known-at replay, the provenance, the safety steps and the writing
/// back are the binding synchroniser's, the same for every model.
///
/// One ``synchronise(_:in:options:)`` call
/// 1. reads through the binding, as the thread knew them at ``Options/knownAt`` (bitemporal: a late-arriving
///    reading is used at its effective time, and a past run can be replayed exactly by giving the same
///    `knownAt`), the twin's CGM glucose observations (LOINC 2339-0, any source, not retracted nor flagged
///    implausible; mg/dL, or mmol/L converted with glucose's molar mass 180.156 g/mol) in `[from, to]`, its meals
///    (`intervention` events coded LOINC 9059-7, in grams) and its insulin (`intervention` events coded
///    ``insulin``: an amount in `[IU]` given at an instant or spread evenly over the event's period, or a rate
///    such as `[IU]/h` over a period) from `from` to the end of the forecast (planned events included);
/// 2. assimilates the readings in effective-time order with the ``GlucoseEstimator`` (by default the unscented
///    Kalman filter set-up of ``GlucoseSyncExperiment``: UVA/Padova model from the twin's prior, augmented with
///    the log-multipliers of ``Options/estimated``; CGM noise sd ``Options/cgmNoiseStandardDeviation``);
/// 3. forecasts glucose every ``Options/step`` minutes up to ``Options/horizon`` minutes after `to`, with a
///    central prediction interval at ``Options/level``;
/// 4. runs the binding's safety steps (``ThreadBinding/Safety``): an alert on each low reading episode in the
///    window (``LowGlucoseReading``, whatever the model says; once per reading, whether a sync or a watch wrote
///    it), the model health check (``ModelHealth``; a filter that fails is a finding, not an error) and, when
///    the twin is reliable, the ``HypoglycaemiaWatcher`` on the forecast;
/// 5. writes, as **one** append batch: the reading alerts; when the twin is reliable, the estimate reached
///    (``EstimateEvents``, under the binding's name), a `prediction` event per forecast point and code (mean as
///    LOINC 2339-0, interval ends as ``lowerBound`` / ``upperBound``, all mg/dL) and, if the watcher fired, an
///    `alert` event whose text gives the numbers; when it is not, **no prediction event** but a
///    ``modelUnreliable`` alert naming each finding with its numbers (a clinician reading the thread sees no
///    forecast to mistake for a normal one). Every event's provenance names the model and version, the
///    filter and its settings, the window, `knownAt`, the seed, `inputs=KEY` (a hash of the events used and the
///    settings, without `knownAt`) and (derivedFrom) the events used; the predicted alert is also derived from
///    the forecast's mean events.
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
    public static let modelUnreliable = ModelHealth.unreliableAlert
    /// Code of the alert raised when hypoglycaemia is predicted.
    public static let hypoglycaemiaAlert = Concept(system: "urn:twinbank:alert", code: "hypoglycaemia-predicted", display: "Hypoglycaemia predicted")
    /// An annotation: carbohydrate the readings say was eaten but not announced (``InferredMeal``), in grams.
    public static let inferredMeal = Concept(system: "urn:twinbank:inference", code: "unannounced-meal", display: "Meal inferred from the readings (not announced)")
    public static let modelID = "uva-padova-t1d"
    public static let modelVersion = "simglucose-0.2.11"
    /// The source of everything the synchroniser writes (the binding synchroniser's).
    public static let source = EstimateEvents.source
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
        /// Model error of the gut (``GlucoseFilterBank/Settings/gutNoise``, mg per minute; UKF, EnKF and bank): 200
        /// by default, the setting that did best on the tuning people of issue 26; 0: none.
        public var gutNoise = GlucoseFilterBank.Settings().gutNoise
        /// The thresholds of the model health check (``ModelHealth``).
        public var health = ModelHealth.Settings()
        /// The twin's glucose binding (its name names the estimate events, ``EstimateEvents``); nil:
        /// ``ThreadBinding/glucose``. Its noise, estimated parameters and safety section are these options'
        /// (``binding(for:)``).
        public var binding: ThreadBinding?
        public init() {}

        /// The options a twin's glucose binding states: its CGM noise (the first output's additive noise), the
        /// parameters it estimates, and the binding itself. What the caller sets afterwards overrides them.
        public init(binding: ThreadBinding) {
            if let sd = binding.outputs.first?.noise?.additive { cgmNoiseStandardDeviation = sd }
            if !binding.estimated.isEmpty { estimated = binding.estimated.map(\.parameter) }
            self.binding = binding
        }
    }

    /// Where the twin's model parameters and basal state start before any reading is assimilated.
    public enum Prior: String, Sendable, Hashable, Codable, CaseIterable {
        /// The twin's `virtualPatient` attribute (a simglucose patient, e.g. `adult#001`): that patient's parameters
        /// and basal state; the adult population mean when the attribute is not set.
        case twin
        /// The population mean of the twin's group (children, adolescents or adults, from the `virtualPatient`
        /// name's prefix; adults when unset), leaving out the twin's own `virtualPatient`: what is known without knowing who the person is.
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
        let drafts = result.drafts
        let (fresh, written) = try await BlockingWork.forbiddingOnTasks {
            try await bank.run { bank in
                let fresh = try HeldEvents.unheld(drafts, twin: twin, in: bank)
                return (fresh, fresh.isEmpty ? nil : try bank.append(fresh.map { drafts[$0] }))
            }
        }
        result.alreadyHeld = result.drafts.count - fresh.count
        result.lowReadingAlerts = fresh.compactMap { i in
            let d = result.drafts[i]
            guard d.category == .alert, d.code.key == LowGlucoseReading.alertCode.key, case .text(let t)? = d.value else { return nil }
            return t
        }
        if let written { result.written = written }
        return result
    }

    /// The glucose binding these options run: `options.binding` (else ``ThreadBinding/glucose``) with the CGM
    /// noise, the estimated parameters and the safety section (``ThreadBinding/Safety``: the hypoglycaemia rule
    /// with ``Options/hypoglycaemiaThreshold``, ``Options/alertHorizon``, ``Options/alertProbability`` and the
    /// health thresholds ``Options/health``) the options give.
    public static func binding(for options: Options) -> ThreadBinding {
        var b = options.binding ?? ThreadBinding.glucose
        if !b.outputs.isEmpty { b.outputs[0].noise = ThreadBinding.NoiseModel(additive: options.cgmNoiseStandardDeviation) }
        b.estimated = options.estimated.map { name in b.estimated.first { $0.parameter == name } ?? ThreadBinding.EstimatedParameter(parameter: name, scale: .log) }
        b.safety = ThreadBinding.Safety(output: b.outputs.first?.output ?? "glucose", health: options.health, rule: .hypoglycaemia,
                                        threshold: options.hypoglycaemiaThreshold, horizon: options.alertHorizon, probability: options.alertProbability)
        return b
    }

    /// Reads the thread, assimilates and forecasts, and returns the events it would write, without writing:
    /// the ``BindingSynchroniser`` on ``binding(for:)`` with a ``GlucoseEstimator``, over the window `from`..`to`
    /// (whole minutes from `from`), its result as this type's.
    public static func compute(_ twin: TwinID, in bank: Bank, options: Options = Options()) async throws -> Result {
        try await bank.run { try $0.authorize(.sync, twin) }
        guard options.step > 0, options.horizon > 0, options.horizon % options.step == 0, options.horizon / options.step <= 1000 else {
            throw SyncError(.invalidArgument, "the horizon (\(options.horizon) min) must be a positive multiple of the step (\(options.step) min), at most 1000 steps.", value: String(options.horizon))
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
        let binding = binding(for: options)
        var o = BindingSynchroniser.Options()
        o.from = from
        o.to = from.advanced(byMicroseconds: Int64(windowMinutes) * 60_000_000)
        o.knownAt = knownAt
        o.horizon = Double(options.horizon)
        o.points = options.horizon / options.step
        o.level = options.level
        o.seed = options.seed
        o.context = options.context
        var settings = GlucoseEstimator.Settings()
        settings.prior = options.prior
        settings.filter = options.filter
        settings.recalibrationInterval = options.recalibrationInterval
        settings.recalibration = options.recalibration
        settings.parameterBound = options.parameterBound
        settings.gutNoise = options.gutNoise
        let estimatorSettings = settings
        let r = try await BindingSynchroniser.compute(twin, in: bank, binding: binding, options: o) { thread in
            let weight = estimatorSettings.prior == .cohort ? try bodyWeight(of: twin, in: bank, at: thread.to, knownAt: thread.knownAt) : nil
            return try GlucoseEstimator(binding: binding, thread: thread, horizon: options.horizon, virtualPatient: try virtualPatient(of: twin, in: bank),
                                        bodyWeight: weight.map { ($0.kg, $0.event.id) }, settings: estimatorSettings, seed: options.seed)
        }
        let estimator = r.finalEstimator as? GlucoseEstimator
        func text(_ d: EventDraft) -> String? { if case .text(let t)? = d.value { t } else { nil } }
        let lows = r.drafts.filter { $0.category == .alert && $0.code.key == LowGlucoseReading.alertCode.key }
        var parameters: [String: [String: Double]] = [:]
        for p in r.estimate.parameters { parameters[p.id] = ["population": p.prior ?? .nan, "estimated": p.value] }
        return Result(twin: twin, from: r.from, to: r.to, knownAt: r.knownAt, observationsUsed: r.readingsUsed,
                      mealsUsed: r.inputCounts["carbohydrate"] ?? 0, insulinEventsUsed: r.inputCounts["insulin"] ?? 0,
                      glucoseNow: r.nowcast.first?.mean ?? .nan, glucoseNowStandardDeviation: r.nowcast.first?.standardDeviation ?? .nan,
                      points: r.forecast.map { Point(time: $0.time, mean: $0.mean, standardDeviation: $0.standardDeviation, lower: $0.lower, upper: $0.upper) },
                      level: r.level, parameters: parameters,
                      alert: r.drafts.first { $0.category == .alert && $0.code.key == hypoglycaemiaAlert.key }.flatMap(text),
                      lowReadingAlert: lows.last.flatMap { $0.effective.start == r.lastReading ? text($0) : nil },
                      lowReadingAlerts: lows.compactMap(text), health: r.health ?? ModelHealth(), covarianceResets: estimator?.covarianceResets ?? 0,
                      retiredCandidates: estimator?.retired ?? [], bodyWeight: estimator?.bodyWeight?.kg, prior: estimator?.priorName ?? "",
                      filter: r.estimator, seed: r.seed, drafts: r.drafts, written: nil)
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

    /// The twin's `virtualPatient` attribute, if set.
    /// - Throws: ``SyncError`` `invalidArgument` when it is set but is not text.
    static func virtualPatient(of twin: TwinID, in bank: Bank) throws -> String? {
        guard let attribute = try bank.twin(twin).twin.attributes["virtualPatient"] else { return nil }
        guard case .text(let text) = attribute else {
            throw SyncError(.invalidArgument, "twin '\(twin)' has a virtualPatient attribute that is not a patient name (\(attribute)).", value: "\(attribute)")
        }
        return text
    }
}
