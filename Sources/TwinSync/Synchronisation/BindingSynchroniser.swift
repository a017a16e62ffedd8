import Foundation
import TwinBank
import TwinCore

/// The two-way loop for any ``ThreadBinding``: reads the twin's thread through the binding as known at
/// ``Options/knownAt`` (a replay with the same `knownAt` reads the same events), assimilates the readings with
/// the binding's ``Estimator``, forecasts the outputs over ``Options/horizon`` and writes back, as **one**
/// append batch, the estimate (``EstimateEvents``: one `prediction` event per parameter) and the forecast
/// (one `prediction` event per output and time, coded as the output's observations, the interval in its notes).
///
/// Every written event's provenance names the model and version, the estimator and its settings, the window,
/// `knownAt`, the seed, `inputs=KEY` (a hash of the events used and the settings, without `knownAt`) and
/// (derivedFrom) the events used. Guarantees: deterministic (the same thread state, binding, options and seed
/// give identical drafts); ``synchronise(_:in:binding:options:)`` writes only what the thread does not hold yet
/// (``HeldEvents``), so a second run over the same data writes nothing; nothing is written when reading or
/// estimating fails.
///
/// A glucose binding (``ThreadBinding/glucose``) runs ``GlucoseSynchroniser`` (its UKF, prior and safety
/// behaviour: ``ModelHealth``, ``LowGlucoseReading``, alerts) with the binding's CGM noise and estimated parameters,
/// writing its estimate back too; the result carries its forecast, estimate and drafts. For it the window ends at
/// `knownAt` unless `to` is given, and the horizon is whole minutes (30 when 0).
public enum BindingSynchroniser {
    public struct Options: Sendable, Hashable {
        /// Start of the data window (default: the earliest bound event, the whole history).
        public var from: Instant?
        /// End of the data window and forecast origin (default: the latest reading known at `knownAt`).
        public var to: Instant?
        /// Read the thread as known at this recorded time (default: the bank clock's now).
        public var knownAt: Instant?
        /// Forecast horizon after `to`, in the binding's time unit (0: no forecast).
        public var horizon: Double = 0
        /// Forecast points over the horizon (evenly spaced, the last at the horizon).
        public var points = 12
        /// Central prediction interval level.
        public var level = 0.95
        /// Seeds the estimator's draws; recorded in provenance.
        public var seed: UInt64 = 1
        /// Appended to every event's provenance notes when set (e.g. which watch update ran this).
        public var context: String?
        public init() {}
    }

    /// A forecast value at an instant.
    public struct Point: Sendable, Hashable, Codable {
        public var time: Instant
        public var output: String
        public var unit: String
        public var mean: Double
        public var standardDeviation: Double
        public var lower: Double
        public var upper: Double
    }

    /// What a synchronisation computed (and, after ``synchronise(_:in:binding:options:)``, wrote).
    public struct Result: Sendable, Codable {
        public var twin: TwinID
        public var binding: String
        public var model: String
        public var from: Instant
        public var to: Instant
        public var knownAt: Instant
        public var readingsUsed: Int
        public var inputsUsed: Int
        public var estimator: String
        public var seed: UInt64
        public var estimate: ParameterEstimate
        public var level: Double
        public var forecast: [Point]
        /// The events to append (estimates, then forecast points), in order.
        public var drafts: [EventDraft]
        /// Set once written (nil when nothing new was written).
        public var written: AppendResult?
        /// Drafts not written because the thread already holds them (``HeldEvents``).
        public var alreadyHeld = 0
    }

    /// Computes, then appends as one batch the result's events the thread does not hold yet.
    /// - Throws: what ``compute(_:in:binding:options:)`` throws; bank errors.
    @discardableResult
    public static func synchronise(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options = Options()) async throws -> Result {
        var result = try await compute(twin, in: bank, binding: binding, options: options)
        let fresh = try HeldEvents.unheld(result.drafts, twin: twin, in: bank)
        result.alreadyHeld = result.drafts.count - fresh.count
        if !fresh.isEmpty { result.written = try bank.append(fresh.map { result.drafts[$0] }) }
        return result
    }

    /// The estimator a binding runs (``PKEstimator`` for pk, ``PEtabEstimator`` for petab, ``SBMLEstimator`` for sbml).
    /// - Throws: ``SyncError`` `unsupported` for a glucose binding (run ``GlucoseSynchroniser``); the estimators' errors.
    public static func estimator(for binding: ThreadBinding, thread: BoundThread, seed: UInt64) throws -> any Estimator {
        switch binding.model.kind {
        case .pk: return try PKEstimator(binding: binding, thread: thread)
        case .petab: return try PEtabEstimator(binding: binding, seed: seed)
        case .sbml: return try SBMLEstimator(binding: binding, thread: thread)
        case .glucose:
            throw SyncError(.unsupported, "binding '\(binding.name)' is the glucose twin's; it is synchronised by GlucoseSynchroniser (twinbank sync runs it).", value: binding.name)
        }
    }

    /// Reads, estimates and forecasts, and returns the events it would write, without writing.
    /// - Throws: ``SyncError`` (`invalidTime`, `invalidArgument` naming the event or value, `invalidBinding`,
    ///   `calibrationFailed`, `unsupported`); bank errors.
    public static func compute(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options = Options()) async throws -> Result {
        guard options.horizon >= 0, options.horizon.isFinite else {
            throw SyncError(.invalidArgument, "the horizon must be a non-negative number of \(binding.timeUnit.rawValue).", value: String(options.horizon))
        }
        guard (1...1000).contains(options.points) else { throw SyncError(.invalidArgument, "forecast points must be 1 to 1000.", value: String(options.points)) }
        if binding.model.kind == .glucose { return try await glucose(twin, in: bank, binding: binding, options: options) }
        guard options.level > 0, options.level < 1 else { throw SyncError(.invalidArgument, "the prediction level must be in (0, 1).", value: String(options.level)) }
        var thread = try binding.read(twin, in: bank, window: BoundThread.Window(from: options.from, to: options.to, knownAt: options.knownAt, horizon: options.horizon))
        guard let latest = thread.readings.map(\.effective).max() else {
            throw SyncError(.invalidArgument, "twin '\(twin)' has no readings of \(binding.outputs.map { $0.code.key.description }.joined(separator: ", ")) from \(thread.from) to \(thread.to) as known at \(thread.knownAt).",
                            value: twin.rawValue)
        }
        // without an explicit end, the window ends at the latest reading: the estimate rests on the data up to it,
        // and a later run over the same data is the same synchronisation (written once)
        if options.to == nil { thread.to = latest }
        var estimator = try estimator(for: binding, thread: thread, seed: options.seed)
        try await estimator.assimilate(contentsOf: thread.readings)
        let estimate = estimator.estimate
        let now = binding.timeUnit.time(of: thread.to, from: thread.origin)
        let times = options.horizon > 0 ? (1...options.points).map { now + options.horizon * Double($0) / Double(options.points) } : []
        let forecast = try await estimator.forecast(at: times, level: options.level)

        // provenance: what it was computed from, without the time the thread was read
        var settings = estimator.settings
        settings.append("level=\(Value.format(options.level))")
        if options.horizon > 0 { settings.append("horizon=\(Value.format(options.horizon))\(binding.timeUnit.rawValue)") }
        var keyHasher = EventHasher()
        let inputsText = (["binding=" + ((try? binding.canonicalJSON()) ?? binding.name), "estimator=\(estimator.label)", "seed=\(options.seed)",
                           "window=\(thread.from.iso8601)..\(thread.to.iso8601)"] + settings + (options.context.map { [$0] } ?? [])).joined(separator: " ")
        let inputs = keyHasher.hash(EventDraft(twin: twin, effective: EffectiveTime(thread.to), category: .prediction, code: EstimateEvents.code(binding: binding.name, parameter: "*"),
                                               value: .text(inputsText), source: EstimateEvents.source, provenance: Provenance(derivedFrom: thread.used))).abbreviated(16)
        var drafts = EstimateEvents.drafts(twin: twin, binding: binding, estimate: estimate, estimator: estimator.label, settings: settings, seed: options.seed,
                                           from: thread.from, to: thread.to, knownAt: thread.knownAt, used: thread.used, inputs: inputs, context: options.context)
        var points: [Point] = []
        for f in forecast {
            let output = binding.outputs[f.output]
            let at = binding.timeUnit.instant(f.time, from: thread.origin)
            points.append(Point(time: at, output: output.output, unit: output.unit, mean: f.mean, standardDeviation: f.standardDeviation, lower: f.lower, upper: f.upper))
            var notes = "forecast binding=\(binding.name) output=\(output.output) sd=\(Value.format(f.standardDeviation)) lower=\(Value.format(f.lower)) upper=\(Value.format(f.upper))"
            notes += " estimator=\(estimator.label) window=\(thread.from.iso8601)..\(thread.to.iso8601) knownAt=\(thread.knownAt.iso8601) " + settings.joined(separator: " ")
            if let context = options.context { notes += " " + context }
            notes += " inputs=\(inputs)"
            drafts.append(EventDraft(twin: twin, effective: EffectiveTime(at), category: .prediction, code: output.code, value: .quantity(Quantity(f.mean, output.unit)),
                                     source: EstimateEvents.source,
                                     provenance: Provenance(derivedFrom: thread.used, model: binding.model.id, modelVersion: binding.model.version, seed: options.seed, notes: notes)))
        }
        return Result(twin: twin, binding: binding.name, model: binding.model.id, from: thread.from, to: thread.to, knownAt: thread.knownAt,
                      readingsUsed: thread.readings.count, inputsUsed: thread.doses.count, estimator: estimator.label, seed: options.seed,
                      estimate: estimate, level: options.level, forecast: points, drafts: drafts)
    }

    /// A glucose binding: ``GlucoseSynchroniser`` with the binding's settings, its result as this one's.
    static func glucose(_ twin: TwinID, in bank: Bank, binding: ThreadBinding, options: Options) async throws -> Result {
        var o = GlucoseSynchroniser.Options()
        o.from = options.from
        o.to = options.to
        o.knownAt = options.knownAt
        o.horizon = options.horizon > 0 ? Int((options.horizon * binding.timeUnit.seconds / 60).rounded()) : 30
        o.level = options.level
        o.seed = options.seed
        o.context = options.context
        if let sd = binding.outputs.first?.noise?.additive { o.cgmNoiseStandardDeviation = sd }
        if !binding.estimated.isEmpty { o.estimated = binding.estimated.map(\.parameter) }
        o.estimateBinding = binding
        let r = try await GlucoseSynchroniser.compute(twin, in: bank, options: o)
        let estimate = ParameterEstimate(parameters: o.estimated.compactMap { name in
            guard let p = r.parameters[name], let value = p["estimated"] else { return nil }
            return ParameterEstimate.Parameter(id: name, value: value, unit: "1", scale: .log, standardDeviation: nil, prior: p["population"])
        }, readings: r.observationsUsed)
        let unit = binding.outputs.first?.unit ?? "mg/dL", output = binding.outputs.first?.output ?? "glucose"
        return Result(twin: twin, binding: binding.name, model: binding.model.id, from: r.from, to: r.to, knownAt: r.knownAt,
                      readingsUsed: r.observationsUsed, inputsUsed: r.mealsUsed + r.insulinEventsUsed, estimator: r.filter, seed: r.seed,
                      estimate: estimate, level: r.level,
                      forecast: r.health.reliable ? r.points.map { Point(time: $0.time, output: output, unit: unit, mean: $0.mean, standardDeviation: $0.standardDeviation,
                                                                          lower: $0.lower, upper: $0.upper) } : [],
                      drafts: r.drafts)
    }
}
