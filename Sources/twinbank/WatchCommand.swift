import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinSync

/// `twinbank watch`: follows twins' threads and runs the glucose and/or NEWS2 watcher on each update, printing
/// each alert and recommendation as it is written. Wiring only: parsing, then `TwinSync.WatchService`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a twin's thread: on each update, forecast glucose or score NEWS2, write alerts and recommendations back, and print them as they happen.",
        discussion: """
        Sees writes by other processes (e.g. `twinbank thread append`): on a PostgreSQL bank (--bank postgres://...) it
        wakes on each committed write by any process (LISTEN/NOTIFY), with a look every --interval as a safety net; on a
        bank file it polls the bank every --interval seconds.
        Each update (append batch) with a glucose reading, meal or insulin is assimilated (UKF); the 30-minute forecast is
        written to the thread and, when hypoglycaemia is predicted, an alert and a recommendation, each derived from the
        readings and forecast behind it. A latest reading below 70 mg/dL (54: level 2) alerts on itself, whatever the model
        says, once per reading (also across `sync`). When the twin's model no longer explains the readings, its forecast is
        withheld and a `model-unreliable` alert says why. With --watcher news2, each update with a vital sign (LOINC 9279-1, 59408-5, 2708-6,
        8480-6, 8867-4, 8310-5, 8331-1, 67775-7, 3151-8, 3150-0) is scored from the latest signs within --news2-window minutes;
        a score of --news2-threshold or more, or a single red 3, writes an alert naming the score and each component and the
        RCP clinical response. With --watcher contact, each update with a close contact found by `twinbank trace --bank`
        (local:close-contact) writes an alert naming the index cases and a recommendation to quarantine for --contact-quarantine
        days after the last contact and to take a test, at most once per --contact-quiet hours for the person. After an alert, the same watcher stays quiet for --quiet minutes for that twin unless the
        alert escalates (0: alert on every update). An update is never alerted on twice, also after a restart (the watch
        resumes from what the thread holds). SIGINT/SIGTERM stop it gracefully. --once processes what is there and exits.
        With --json, each alert or recommendation is one JSON line.
        """
    )

    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin (repeat to watch several).") var twin: [String]
    @Option(help: "Time between polls of the bank (PostgreSQL: the longest wait between looks, as writes wake the watch): a duration (5s, 1min) or seconds.") var interval = DurationOption<BareSeconds>(5)
    @Flag(help: "Process what the thread holds now and exit.") var once = false
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
    @OptionGroup var output: OutputOptions

    struct Line: Encodable {
        var twin: String
        var watcher: String
        var update: Int64
        var category: String?
        var code: String?
        var effective: String?
        var text: String?
        var id: String?
        var sequence: Int64?
        var recorded: Instant?
        var derivedFrom: [String]?
        var error: String?
    }

    func validate() throws {
        guard !twin.isEmpty else { throw ValidationError("--twin: give the twin to watch.") }
        guard interval.span.microseconds > 0 else { throw ValidationError("--interval: must be a positive time (got \(interval.span)).") }
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
    func watchers(bank: Bank) throws -> [any ThreadWatcher] {
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

    func run() async throws {
        let bank = try await bankOptions.open()
        let command = self
        let service = try await bank.run { bank in
            try WatchService(bank: bank, twins: try command.twin.map { try TwinID($0) }, watchers: try command.watchers(bank: bank),
                             interval: .milliseconds(Int64((command.interval.value * 1000).rounded())))
        }
        let json = output.json
        if once {
            let notices = try await service.runOnce()
            for n in notices { try Self.emit(n, json: json) }
            if !json && notices.isEmpty { print("no new alerts or recommendations") }
            return
        }
        if !json { print("watching \(twin.joined(separator: ", ")) every \(interval.span) (Ctrl-C to stop)") }
        try await service.serve { n in try Self.emit(n, json: json) }
    }

    static func text(_ e: Event) -> String? {
        if case .text(let t)? = e.value { return t }
        return e.value.map { "\($0)" }
    }

    static func emit(_ n: WatchNotice, json: Bool) throws {
        let e = n.event
        if json {
            let line = Line(twin: n.twin.rawValue, watcher: n.watcher, update: n.update, category: e?.category.rawValue, code: e?.code.key.description,
                            effective: e?.effective.description, text: e.flatMap(Self.text), id: e?.id.description, sequence: e?.sequence,
                            recorded: e?.recorded, derivedFrom: e?.provenance.derivedFrom.map(\.description), error: n.error)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(line) + Data("\n".utf8))
        } else if let e {
            print("\(e.effective)  \(e.category.rawValue.uppercased())  \(n.twin)  [\(n.watcher), update \(n.update)]  \(Self.text(e) ?? "")")
        } else if let error = n.error {
            print("ERROR  \(n.twin)  [\(n.watcher), update \(n.update)]  \(error)")
        }
    }
}
