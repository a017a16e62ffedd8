import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinSync

/// The watchers' options, shared by `twinbank watch` and `twinbank serve --watch`: which watchers run and their
/// settings; ``watchers(bank:twins:)`` makes them.
struct WatcherOptions: ParsableArguments {
    @Option(name: .customLong("noise-sd"), help: "CGM noise standard deviation, mg/dL.") var noiseSD: Double = 8
    @Option(help: "Seed of the ensemble filter's draws (recorded in the provenance).") var seed: UInt64 = 1
    @Option(help: "Prior: twin (the twin's virtualPatient, else the adult population; the default), population (its age group's mean) or cohort (a bank of priors: the other simglucose patients of its age group, weighted by how well each predicts the readings).") var prior: GlucoseSynchroniser.Prior?
    @Option(help: "Re-calibrate the glucose twin from its readings this often (a duration, 1h, or minutes); each refit joins the bank of priors (UKF only).") var recalibrate: DurationArgument?
    @Option(name: .customLong("gut-noise"), help: "Glucose twin: model error of the gut, the per-minute random-walk sd (mg) of its carbohydrate compartments (default 200; 0: the bare model).") var gutNoise: Double?
    @Option(help: "Assimilate with an ensemble Kalman filter of this many members (seeded) instead of the UKF.") var ensemble: Int?
    @Option(help: "With --prior cohort: instead of the bank of filters, a sequential Monte Carlo posterior over the twin's parameters with this many particles (seeded by --seed; each update re-samples its window, so about a minute per update at 512 particles for a day's readings).") var particles: Int?
    @Option(help: "A watcher to run: glucose, news2, contact or binding (each watched twin's thread binding, see `twinbank twin bind`: its estimate and forecast on every update; repeatable; default glucose).") var watcher: [WatcherName] = []
    @Option(help: "With --watcher binding: the forecast horizon after each update's latest reading, a duration (12h, 30min; default none).") var horizon: DurationArgument?
    @Option(help: "Time after an alert in which a watcher raises no new alert for the twin unless it escalates: a duration (30min) or minutes (0: off).") var quiet = DurationOption<BareMinutes>(30)
    @Option(name: .customLong("news2-threshold"), help: "NEWS2 aggregate score that raises an alert (a single 3 always does).") var news2Threshold: Int = 5
    @Option(name: .customLong("news2-scale2"), help: "A watched twin whose SpO2 is scored on NEWS2 scale 2 (target 88-92 %, prescribed; repeatable).") var news2Scale2: [String] = []
    @Option(name: .customLong("news2-window"), help: "Time before the latest vital sign within which the others must lie to form a NEWS2 set: a duration (1h) or minutes.") var news2Window = DurationOption<BareMinutes>(60)
    @Option(name: .customLong("contact-quarantine"), help: "With --watcher contact: quarantine after the last contact: a duration (14d) or days.") var contactQuarantine = DurationOption<BareDays>(14)
    @Option(name: .customLong("contact-quiet"), help: "With --watcher contact: time after a close-contact alert in which the person is not alerted again: a duration (24h) or hours (0: off).") var contactQuiet = DurationOption<BareHours>(24)

    /// Checks the options for a watch of `twin` (the watched twins).
    func validate(twins twin: [String]) throws {
        try SyncOptionRules(prior: prior, recalibrate: try recalibrate?.minutes(option: "--recalibrate"), ensemble: ensemble, particles: particles).validate()
        guard (1...20).contains(news2Threshold) else { throw ValidationError("--news2-threshold: must be 1 to 20 (got \(news2Threshold)).") }
        for t in news2Scale2 where !twin.contains(t) {
            throw ValidationError("--news2-scale2: '\(t)' is not one of the watched twins (\(twin.joined(separator: ", "))).")
        }
        guard news2Window.span.microseconds > 0 else { throw ValidationError("--news2-window: must be a positive time (got \(news2Window.span)).") }
    }

    /// The watchers.
    enum WatcherName: String, ExpressibleByArgument, CaseIterable { case glucose, news2, contact, binding }

    /// The watchers asked for, in the order given, each once.
    func watchers(bank: Bank, twins twin: [String]) throws -> [any ThreadWatcher] {
        let quietPeriod = try QuietPeriod(minutes: quiet.value)
        var names: [WatcherName] = []
        for w in (watcher.isEmpty ? [.glucose] : watcher) where !names.contains(w) { names.append(w) }
        var out: [any ThreadWatcher] = []
        for name in names where name == .binding {
            // one watcher per distinct binding among the watched twins, each restricted to the twins that have it
            var byBinding: [ThreadBinding: Set<TwinID>] = [:]
            var order: [ThreadBinding] = []
            for t in twin {
                let id = try TwinID(t)
                let b = try ThreadBinding.binding(of: try bank.twin(id).twin)
                guard b.model.kind != .glucose else {
                    throw ValidationError("--watcher binding: twin '\(t)' is bound to the glucose model; watch it with --watcher glucose.")
                }
                var rules = SyncOptionRules(prior: prior, recalibrate: try recalibrate?.minutes(option: "--recalibrate"), ensemble: ensemble, particles: particles)
                rules.binding = b.model.kind
                try rules.validate()
                if byBinding[b] == nil { order.append(b) }
                byBinding[b, default: []].insert(id)
            }
            var options = BindingSynchroniser.Options()
            options.seed = seed
            for b in order {
                options.horizon = horizon?.value(in: b.timeUnit) ?? 0
                out.append(BindingWatcher(binding: b, options: options, twins: byBinding[b]))
            }
        }
        return try out + names.filter { $0 != .binding }.map { name -> any ThreadWatcher in
            if name == .contact {
                do {
                    return try CloseContactWatcher(quarantineDays: contactQuarantine.value, quietPeriod: try QuietPeriod(minutes: contactQuiet.value * 60))
                } catch let e as PopulationError { throw ValidationError("--contact-quarantine: \(e.message)") }
            }
            if name == .news2 {
                return try NEWS2ThreadWatcher(threshold: news2Threshold, windowMinutes: news2Window.value,
                                           scale2Twins: Set(try news2Scale2.map { try TwinID($0) }), quietPeriod: quietPeriod)
            }
            var options = GlucoseSynchroniser.Options()
            options.cgmNoiseStandardDeviation = noiseSD
            options.seed = seed
            options.prior = prior ?? .twin
            if let gutNoise {
                guard gutNoise >= 0, gutNoise.isFinite else { throw ValidationError("--gut-noise: must be a non-negative sd in mg per minute (got \(gutNoise)).") }
                options.gutNoise = gutNoise
            }
            options.recalibrationInterval = try recalibrate?.minutes(option: "--recalibrate")
            if let ensemble { options.filter = .ensemble(members: ensemble) }
            if let particles { options.filter = .particles(count: particles) }
            return GlucoseForecastWatcher(options: options, quietPeriod: quietPeriod)
        }
    }

}
