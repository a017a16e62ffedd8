import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinSync

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Synchronise a twin with its thread once through its binding (glucose: UKF on CGM readings, meals, insulin; pk, petab: see `twin bind`) and write its estimate, forecast and any alert back.",
        discussion: """
        A reading below 70 mg/dL (level 1; below 54 mg/dL level 2) is alerted on itself, whatever the model says, and written
        once per reading: the latest, and any earlier one in the window no sync or watch has alerted on yet. When the twin's model no longer explains the readings (a parameter or the glucose out of its
        plausible range, innovations far above their chi-square expectation, glucose now more than 4 SD from the latest reading,
        a low reading the model does not see, or a failed filter), the output says so (--json: `reliability`) and the forecast is
        withheld: a `model-unreliable` alert with the reasons is written instead of the prediction events. Running sync again over
        the same window and data writes nothing new.
        """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin.") var twin: String
    @Option(parsing: .unconditional, help: "Start of the data window, in the time grammar (ISO 8601, today, -1d, ...; default: 24 h before --to).") var from: String?
    @Option(parsing: .unconditional, help: "End of the data window and forecast origin, in the time grammar (a date means its end; default: now).") var to: String?
    @Option(name: .customLong("known-at"), parsing: .unconditional, help: "Replay the thread as known at this recorded time (default: now).") var knownAt: String?
    @Option(help: "Forecast horizon: a duration (30min, 12h) or minutes; the glucose twin's is a multiple of 5 min (default 30min; a bound model: none).") var horizon: DurationArgument?
    @Option(help: "Seed recorded in the provenance.") var seed: UInt64 = 1
    @Option(name: .customLong("noise-sd"), help: "Glucose twin: CGM noise standard deviation, mg/dL (default 8).") var noiseSD: Double?
    @Option(name: .customLong("estimate"), help: "Glucose twin: parameters estimated by augmentation (comma-separated; default Vmx,kp3,kabs, or its binding's).") var estimate: String?
    @Option(help: "Glucose twin: prior: twin (the twin's virtualPatient's own parameters, else the adult population; the default. An ORACLE when the twin plays a simulated simglucose patient: it is handed the true parameters), population (its age group's mean) or cohort (a bank of priors: the other simglucose patients of its age group, weighted by how well each predicts the readings).") var prior: GlucoseSynchroniser.Prior?
    @Option(help: "Glucose twin: re-calibrate from the window's readings this often (a duration, 1h, or minutes); each refit joins the bank of priors.") var recalibrate: DurationArgument?
    @Option(name: .customLong("gut-noise"), help: "Glucose twin: model error of the gut, the per-minute random-walk sd (mg) of its carbohydrate compartments, so the filter follows meals eaten but not announced (default 200, chosen on issue 26's tuning people; 0: the bare model).") var gutNoise: Double?
    @Option(help: "Glucose twin, with --prior cohort: instead of the bank of filters, a sequential Monte Carlo posterior over the twin's parameters with this many particles (seeded by --seed).") var particles: Int?
    @Option(help: "The twin's thread binding to synchronise (its name, see `twinbank twin bind`); default: its only binding, or the glucose twin when it has none.") var binding: String?
    @Flag(name: .customLong("dry-run"), help: "Compute and print without writing (e.g. to replay a past forecast with --known-at).") var dryRun = false
    @OptionGroup var output: OutputOptions

    struct Summary: Encodable {
        var twin: String
        var from: Instant, to: Instant, knownAt: Instant
        var observationsUsed: Int, mealsUsed: Int, insulinEventsUsed: Int
        var glucoseNow: Double?, glucoseNowStandardDeviation: Double?
        var level: Double
        var forecast: [GlucoseSynchroniser.Point]
        var parameters: [String: [String: Double]]
        var alert: String?
        /// The alert on the latest reading when it is low, whatever the model says.
        var lowGlucoseAlert: String?
        /// The alerts on low readings of the window (the latest's and earlier ones) written by this run: those no sync
        /// or watch had alerted on yet.
        var lowGlucoseAlertsWritten: [String]
        var reliability: Reliability
        var covarianceResets: Int
        var prior: String
        var filter: String
        var retiredCandidates: [String]
        var bodyWeight: Double?
        var written: AppendResult?
        /// Events not written because the thread already holds them (an earlier sync over the same window and data).
        var alreadyInThread: Int
    }

    /// Whether the twin's model still explains the readings; when not, the forecast was withheld (not written).
    struct Reliability: Encodable {
        var reliable: Bool
        var forecastWritten: Bool
        var warnings: [String]
        var findings: [ModelHealth.Finding]
    }

    /// The option rules (``SyncOptionRules``); a bound model's are checked again once its binding is known.
    var rules: SyncOptionRules {
        get throws { SyncOptionRules(prior: prior, recalibrate: try recalibrate?.minutes(option: "--recalibrate"), particles: particles, noiseStandardDeviation: noiseSD) }
    }

    func validate() throws {
        try rules.validate()
    }

    func run() async throws {
        let bank = try await bankOptions.open()
        let id = try TwinID(twin)
        let definition = try await bank.run { try $0.twin(id).twin }
        let bindings = try ThreadBinding.bindings(of: definition)
        var glucoseBinding: ThreadBinding?
        if binding != nil || !bindings.isEmpty {
            let chosen = try ThreadBinding.binding(of: definition, named: binding)
            if chosen.model.kind != .glucose { return try await runBinding(chosen, bank: bank, id: id) }
            glucoseBinding = chosen
        }
        // a glucose binding states the CGM noise and the estimated parameters (the command line overrides them)
        var options = glucoseBinding.map(GlucoseSynchroniser.Options.init(binding:)) ?? GlucoseSynchroniser.Options()
        if let from { options.from = try parseInstant(from, option: "--from", bound: .lower) }
        if let to { options.to = try parseInstant(to, option: "--to", bound: .upper) }
        if let knownAt { options.knownAt = try parseInstant(knownAt, option: "--known-at", bound: .instant) }
        if let horizon {
            guard let minutes = horizon.wholeMinutes, minutes > 0 else { throw ValidationError("--horizon: the glucose twin forecasts in whole minutes (got \(horizon.span)).") }
            options.horizon = minutes
        }
        options.seed = seed
        if let noiseSD { options.cgmNoiseStandardDeviation = noiseSD }
        if let gutNoise {
            guard gutNoise >= 0, gutNoise.isFinite else { throw ValidationError("--gut-noise: must be a non-negative sd in mg per minute (got \(gutNoise)).") }
            options.gutNoise = gutNoise
        }
        options.prior = prior ?? .twin
        options.recalibrationInterval = try recalibrate?.minutes(option: "--recalibrate")
        if let particles { options.filter = .particles(count: particles) }
        if let estimate { options.estimated = estimate.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let r = dryRun ? try await GlucoseSynchroniser.compute(id, in: bank, options: options)
                       : try await GlucoseSynchroniser.synchronise(id, in: bank, options: options)
        if output.json {
            let finite = { (x: Double) in x.isFinite ? x : nil }
            let reliability = Reliability(reliable: r.health.reliable, forecastWritten: r.health.reliable && !dryRun, warnings: r.health.warnings,
                                          findings: r.health.findings)
            try printJSON(Summary(twin: twin, from: r.from, to: r.to, knownAt: r.knownAt, observationsUsed: r.observationsUsed, mealsUsed: r.mealsUsed,
                                  insulinEventsUsed: r.insulinEventsUsed, glucoseNow: finite(r.glucoseNow), glucoseNowStandardDeviation: finite(r.glucoseNowStandardDeviation),
                                  level: r.level, forecast: r.points, parameters: r.parameters.mapValues { $0.filter { $0.value.isFinite } }, alert: r.alert,
                                  lowGlucoseAlert: r.lowReadingAlert, lowGlucoseAlertsWritten: dryRun ? [] : r.lowReadingAlerts, reliability: reliability, covarianceResets: r.covarianceResets,
                                  prior: r.prior, filter: r.filter, retiredCandidates: r.retiredCandidates, bodyWeight: r.bodyWeight, written: r.written,
                                  alreadyInThread: r.alreadyHeld))
            return
        }
        if let low = r.lowReadingAlert { print("ALERT (reading): \(low)") }
        // the window's earlier low readings that no sync or watch had alerted on yet: alerted (written) now
        if !dryRun { for low in r.lowReadingAlerts where low != r.lowReadingAlert { print("ALERT (earlier reading): \(low)") } }
        print("synchronised \(twin) on \(r.observationsUsed) glucose readings, \(r.mealsUsed) meals, \(r.insulinEventsUsed) insulin events from \(r.from) to \(r.to) (known at \(r.knownAt))")
        print(String(format: "  glucose now %.1f ± %.1f mg/dL", r.glucoseNow, r.glucoseNowStandardDeviation))
        print("  prior \(r.prior), filter \(r.filter)")
        if let kg = r.bodyWeight { print("  body weight \(Value.format(kg)) kg (the thread's latest, taken by the prior)") }
        for c in r.retiredCandidates { print("  retired candidate: \(c)") }
        for name in r.parameters.keys.sorted() {
            let p = r.parameters[name]!
            print(String(format: "  %@: population %.4g, estimated %.4g", name, p["population"] ?? .nan, p["estimated"] ?? .nan))
        }
        if !r.health.reliable {
            print("  WARNING: the twin is unreliable; its forecast is withheld (not written as a forecast, a model-unreliable alert instead):")
            for w in r.health.warnings { print("    - \(w)") }
        }
        for p in r.points {
            print(String(format: "  %@  %.1f mg/dL  [%.1f, %.1f] (%.0f %%)%@", p.time.iso8601, p.mean, p.lower, p.upper, r.level * 100,
                         r.health.reliable ? "" : "  UNRELIABLE, not written"))
        }
        if let a = r.alert { print("  ALERT: \(a)") }
        if dryRun { print("dry run: \(r.drafts.count) events not written") }
        if r.alreadyHeld > 0 { print("\(r.alreadyHeld) events already in the thread (computed before from the same readings and settings): not written again") }
        if let w = r.written { print("wrote \(w.count) events (sequences \(w.firstSequence)-\(w.lastSequence)) to \(twin)'s thread at \(w.recorded)") }
    }

    /// A twin with a (non-glucose) thread binding: the one synchroniser (``BindingSynchroniser``).
    func runBinding(_ chosen: ThreadBinding, bank: Bank, id: TwinID) async throws {
        var rules = try self.rules
        rules.binding = chosen.model.kind
        try rules.validate()
        if estimate != nil { throw ValidationError("--estimate: the glucose twin's option; a \(chosen.model.kind.rawValue) binding names its estimated parameters (twinbank twin bind).") }
        var options = BindingSynchroniser.Options()
        if let from { options.from = try parseInstant(from, option: "--from", bound: .lower) }
        if let to { options.to = try parseInstant(to, option: "--to", bound: .upper) }
        if let knownAt { options.knownAt = try parseInstant(knownAt, option: "--known-at", bound: .instant) }
        options.horizon = horizon?.value(in: chosen.timeUnit) ?? 0
        options.seed = seed
        let r = dryRun ? try await BindingSynchroniser.compute(id, in: bank, binding: chosen, options: options)
                       : try await BindingSynchroniser.synchronise(id, in: bank, binding: chosen, options: options)
        if output.json { try printJSON(BindingSummary(result: r, dryRun: dryRun)); return }
        print("synchronised \(twin) through binding \(r.binding) (\(r.model)) on \(r.readingsUsed) readings and \(r.inputsUsed) inputs from \(r.from) to \(r.to) (known at \(r.knownAt))")
        print("  estimator \(r.estimator), seed \(r.seed)")
        for p in r.estimate.parameters {
            let sd = p.standardDeviation.map { " (sd \(Value.format($0)) on its \(p.scale.rawValue) scale)" } ?? ""
            let prior = p.prior.map { ", from \(Value.format($0))" } ?? ""
            print("  \(p.id): \(Value.format(p.value)) \(p.unit)\(sd)\(prior)")
        }
        for p in r.forecast {
            print(String(format: "  %@  %@ %.4g %@  [%.4g, %.4g] (%.0f %%)", p.time.iso8601, p.output, p.mean, p.unit, p.lower, p.upper, r.level * 100))
        }
        if dryRun { print("dry run: \(r.drafts.count) events not written") }
        if r.alreadyHeld > 0 { print("\(r.alreadyHeld) events already in the thread (computed before from the same readings and settings): not written again") }
        if let w = r.written { print("wrote \(w.count) events (sequences \(w.firstSequence)-\(w.lastSequence)) to \(twin)'s thread at \(w.recorded)") }
    }

    struct BindingSummary: Encodable {
        var twin: TwinID, binding: String, model: String
        var from: Instant, to: Instant, knownAt: Instant
        var readingsUsed: Int, inputsUsed: Int
        var estimator: String, seed: UInt64
        var estimate: ParameterEstimate
        var level: Double
        var forecast: [BindingSynchroniser.Point]
        var written: AppendResult?
        var alreadyInThread: Int
        init(result r: BindingSynchroniser.Result, dryRun: Bool) {
            twin = r.twin; binding = r.binding; model = r.model; from = r.from; to = r.to; knownAt = r.knownAt
            readingsUsed = r.readingsUsed; inputsUsed = r.inputsUsed; estimator = r.estimator; seed = r.seed
            estimate = r.estimate; level = r.level; forecast = r.forecast; written = r.written; alreadyInThread = r.alreadyHeld
        }
    }
}
