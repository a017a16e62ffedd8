import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinSync

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Synchronise a glucose twin with its thread once (UKF on CGM readings, meals, insulin) and write its forecast and any alert back.",
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
    @Option(help: "Forecast horizon in minutes (a multiple of 5).") var horizon: Int = 30
    @Option(help: "Seed recorded in the provenance.") var seed: UInt64 = 1
    @Option(name: .customLong("noise-sd"), help: "CGM noise standard deviation, mg/dL.") var noiseSD: Double = 8
    @Option(name: .customLong("estimate"), help: "Parameters estimated by augmentation (comma-separated).") var estimate: String = "Vmx,kp3,kabs"
    @Option(help: "Prior: twin (the twin's virtualPatient, else the adult population), population (its age group's mean) or cohort (a bank of priors: the other simglucose patients of its age group, weighted by how well each predicts the readings).") var prior: String = "twin"
    @Option(help: "Re-calibrate from the window's readings every this many minutes; each refit joins the bank of priors.") var recalibrate: Int?
    @Option(help: "With --prior cohort: instead of the bank of filters, a sequential Monte Carlo posterior over the twin's parameters with this many particles (seeded by --seed).") var particles: Int?
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

    func validate() throws {
        guard GlucoseSynchroniser.Prior(rawValue: prior) != nil else { throw ValidationError("--prior: must be twin, population or cohort (got '\(prior)').") }
        if let recalibrate, recalibrate < 5 || recalibrate > 10_080 { throw ValidationError("--recalibrate: must be 5 to 10080 minutes (got \(recalibrate)).") }
        if let particles {
            guard prior == "cohort" else { throw ValidationError("--particles: draws from the cohort prior; add --prior cohort (got --prior \(prior)).") }
            guard recalibrate == nil else { throw ValidationError("--particles: the particle posterior moves its own parameters; leave --recalibrate out.") }
            guard (10...100_000).contains(particles) else { throw ValidationError("--particles: must be 10 to 100000 (got \(particles)).") }
        }
    }

    func run() async throws {
        let bank = try bankOptions.open()
        var options = GlucoseSynchroniser.Options()
        if let from { options.from = try parseInstant(from, option: "--from", bound: .lower) }
        if let to { options.to = try parseInstant(to, option: "--to", bound: .upper) }
        if let knownAt { options.knownAt = try parseInstant(knownAt, option: "--known-at", bound: .instant) }
        options.horizon = horizon
        options.seed = seed
        options.cgmNoiseStandardDeviation = noiseSD
        options.prior = GlucoseSynchroniser.Prior(rawValue: prior) ?? .twin
        options.recalibrationInterval = recalibrate
        if let particles { options.filter = .particles(count: particles) }
        options.estimated = estimate.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let id = try TwinID(twin)
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
}
