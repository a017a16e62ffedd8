import ArgumentParser
import Foundation
import TwinModels
import TwinSync

/// `twinbank experiment glucose-sync --truth TRACE.csv`: the closed-loop experiment of the two-way link.
/// Wiring only: parsing, then `TwinSync.GlucoseSyncExperiment`.
struct ExperimentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Closed-loop experiments: a twin kept in sync with a simulated person, scored against the truth.",
        discussion: """
        Experiments:
          glucose-sync  a simglucose trace is the person; its BG plus CGM noise is assimilated (UKF) into a UVA/Padova twin
                        that starts at adult population parameters; reports the forecast RMSE against the noise-free truth,
                        the recovered parameters and how often hypoglycaemia alerts were right. With --particles, the twin's
                        belief is a sequential Monte Carlo posterior over its parameters instead (GlucoseParameterPosterior).
        No leakage: when the truth is a simglucose patient, name it with --truth-patient; it is then left out of the prior
        (its age group's mean without it) and of every candidate bank. --oracle hands the twin what a real twin never has
        (the patient's own parameters and the meals actually eaten) and is reported as an ORACLE.
        A trace with CHO_announced (Scripts/glucose/departing_people.py) gives the twin the announced meals, never the eaten
        ones; --readings CGM_Dexcom makes the twin read that column instead of BG plus white noise.
        Example:
          twinbank experiment glucose-sync --truth ../shared/data/simglucose/simglucose-adult001-24h.csv --noise-sd 8 --seed 1 --horizon 30 --json
        """
    )

    /// The simglucose age groups of the population prior.
    enum AgeGroup: String, ExpressibleByArgument, CaseIterable {
        case adult, adolescent, child
        var population: GlucoseSyncExperiment.Population {
            switch self { case .adult: .adult; case .adolescent: .adolescent; case .child: .child }
        }
    }

    /// The experiments.
    enum Experiment: String, ExpressibleByArgument, CaseIterable { case glucoseSync = "glucose-sync" }

    @Argument(help: "The experiment: glucose-sync.")
    var experiment: Experiment

    @Option(help: "simglucose trace CSV (Time, BG, CHO, insulin; one row per minute).")
    var truth: String

    @Option(help: "CGM noise standard deviation, mg/dL.")
    var noiseSd: Double = 8

    @Option(help: "Seed of the CGM noise.")
    var seed: UInt64 = 1

    @Option(help: "Forecast horizon: a duration (30min) or minutes.")
    var horizon = DurationArgument(minutes: 30)

    @Option(help: "CGM sampling period: a duration (5min) or minutes.")
    var period = DurationArgument(minutes: 5)

    @Option(help: "Age group of the population prior: adult, adolescent or child (default: the --truth-patient's group, else adult).")
    var group: AgeGroup?

    @Option(name: .customLong("truth-patient"), help: "The simglucose patient the truth trace is (e.g. adult#004): left out of the prior (its group's mean without it) and of every candidate bank. A name that is not a cohort patient is an error.")
    var truthPatient: String?

    /// Where the twin's parameters start.
    enum PriorChoice: String, ExpressibleByArgument, CaseIterable { case cohort, mean }

    @Option(help: "The twin's prior: cohort (the default, best on the tuning people of issue 26: a bank of priors, one per simglucose patient of the group except the --truth-patient, mixed by how well each predicts the readings) or mean (one UKF from the group's mean without the --truth-patient).")
    var prior: PriorChoice = .cohort

    @Flag(help: "The same as --prior cohort (the default).")
    var cohort = false

    /// How the model's forecast is combined with the last reading.
    enum BlendChoice: String, ExpressibleByArgument, CaseIterable { case inverse, minimum, none }

    @Option(help: "Combine the model's forecast with the last-reading forecast by their recent errors (scored against the readings only): inverse (the default, best on the tuning people: inverse-MSE weights), minimum (the weight minimising the combination's recent MSE) or none (the model's forecast alone).")
    var blend: BlendChoice = .inverse

    @Option(name: .customLong("gut-noise"), help: "Model error of the gut: per-minute random-walk sd (mg) of the three gut compartments, so the filters take in meals eaten but not announced (default 200, best on the tuning people; 0: none).")
    var gutNoise: Double?

    @Option(name: .customLong("cohort-without"), help: "Alias of --truth-patient PATIENT --cohort.")
    var cohortWithout: String?

    @Flag(help: "ORACLE (a ceiling, not a twin): start from the --truth-patient's own parameters and, when the trace announces meals, give the twin the meals actually eaten.")
    var oracle = false

    @Option(help: "The twin reads this sensor column of the trace (CGM, CGM_Dexcom, CGM_GuardianRT, CGM_Navigator) instead of BG plus --noise-sd white noise.")
    var readings: String?

    @Option(help: "Level of the forecast's prediction interval whose coverage of the truth is reported (0 to 1).")
    var level: Double = 0.95

    @Option(help: "Re-calibrate the twin from its last 8 h of readings this often: a duration (1h) or minutes (a multiple of the sampling period).")
    var recalibrate: DurationArgument?

    @Option(help: "Instead of the filter bank: a sequential Monte Carlo posterior over the twin's parameters with this many particles; its prior has the --cohort-without cohort's mean and the covariance pooled within simglucose's three age groups (all without that patient). Slower: about a minute a day with 512 particles and 10 moves, release build.")
    var particles: Int?

    @Option(help: "With --particles: Metropolis-Hastings moves per particle at each resampling.")
    var moves: Int = 10

    @Option(name: .customLong("body-weight"), help: "The person's measured body weight, kg (e.g. from the record): the priors take it; with --particles the prior is conditioned on it.")
    var bodyWeight: Double?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        var rules = SyncOptionRules(recalibrate: try recalibrate?.minutes(option: "--recalibrate"), particles: particles, moves: particles != nil ? moves : nil)
        if cohort, prior == .mean { throw ValidationError("--cohort and --prior mean contradict each other; give one.") }
        rules.prior = oracle ? nil : (prior == .cohort || cohortWithout != nil || cohort ? .cohort : .population)
        rules.cohortOption = "--prior cohort (the default)"
        try rules.validate()
        if let cohortWithout, let truthPatient, cohortWithout != truthPatient {
            throw ValidationError("--cohort-without '\(cohortWithout)' and --truth-patient '\(truthPatient)' name different people; give one.")
        }
        if oracle, truthPatient == nil, cohortWithout == nil { throw ValidationError("--oracle: needs --truth-patient PATIENT (whose parameters the oracle is given).") }
        if oracle, cohort || cohortWithout != nil || particles != nil { throw ValidationError("--oracle: starts one UKF at the patient's own parameters; leave --cohort, --cohort-without and --particles out.") }
        if let gutNoise, !(gutNoise >= 0 && gutNoise.isFinite) { throw ValidationError("--gut-noise: must be a non-negative sd in mg per minute (got \(gutNoise)).") }
        guard level > 0, level < 1 else { throw ValidationError("--level: must be between 0 and 1 (got \(level)).") }
        guard let h = horizon.wholeMinutes, h > 0 else { throw ValidationError("--horizon: must be a positive whole number of minutes (got \(horizon.span)).") }
        guard let p = period.wholeMinutes, p > 0 else { throw ValidationError("--period: must be a positive whole number of minutes (got \(period.span)).") }
    }

    func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: truth, encoding: .utf8) } catch {
            throw ValidationError("cannot read the truth trace '\(truth)'")
        }
        let trace = try GlucoseSyncExperiment.Trace(csv: text, name: truth)
        var options = GlucoseSyncExperiment.Options()
        options.noiseStandardDeviation = noiseSd
        options.seed = seed
        options.horizon = horizon.wholeMinutes ?? 30
        options.samplingPeriod = period.wholeMinutes ?? 5
        options.level = level
        options.readings = readings
        let person = truthPatient ?? cohortWithout
        let option = truthPatient != nil ? "--truth-patient" : "--cohort-without"
        if let person { try GlucoseSyncExperiment.Population.checkPatient(person) }
        let personGroup = person.flatMap { p in AgeGroup.allCases.first { p.hasPrefix($0.rawValue + "#") } }
        if let group, let person, group != personGroup {
            throw ValidationError("\(option) '\(person)' is not a patient of the \(group.rawValue) group (adult#001 ... adult#010, adolescent#001 ..., child#001 ...)")
        }
        let group = group ?? personGroup ?? .adult
        options.population = try person.map { try GlucoseSyncExperiment.Population.group(without: $0) } ?? group.population
        if oracle, let person {
            options.population = try GlucoseSyncExperiment.Population.oracle(person)
            options.eatenMeals = trace.eatenCarbohydrate != nil
        }
        if let gutNoise { options.filterBank.gutNoise = gutNoise }
        switch blend {
        case .none: options.blend = nil
        case .inverse: options.blend = ForecastBlend.Settings()
        case .minimum: options.blend = ForecastBlend.Settings(); options.blend?.weighting = .minimumMeanSquare
        }
        if !oracle, prior == .cohort || cohort || cohortWithout != nil {
            let cohort = person.map { GlucoseSyncExperiment.Population.cohort(around: $0) }
                ?? VirtualPatient.all.filter { $0.name.hasPrefix(group.rawValue + "#") }.map { GlucoseSyncExperiment.Population(members: [$0], name: $0.name) }
            guard cohort.count >= 2 else { throw ValidationError("\(option) '\(person ?? "")' leaves fewer than two patients of the \(group.rawValue) group") }
            options.candidates = cohort
        }
        options.recalibrationInterval = try recalibrate?.minutes(option: "--recalibrate")
        if let bodyWeight {
            guard bodyWeight > 0, bodyWeight < 400 else { throw ValidationError("--body-weight must be a weight in kg between 0 and 400 (got \(bodyWeight))") }
            options.bodyWeight = bodyWeight
        }
        if let particles {
            var settings = GlucoseParameterPosterior.Settings()
            settings.particles = particles
            settings.moves = moves
            options.posterior = settings
            if let person { options.covarianceGroups = GlucoseSyncExperiment.Population.ageGroups(without: person) }
        }
        let report = try await GlucoseSyncExperiment.run(trace, options: options)
        if json {
            guard oracle, let data = report.json().data(using: .utf8), var doc = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                print(report.json()); return
            }
            doc["oracle"] = "ORACLE: the twin was given \(person ?? "")'s own parameters" + (options.eatenMeals ? " and the meals actually eaten" : "")
            print(String(decoding: try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
        } else {
            if oracle { print("ORACLE: the twin was given \(person ?? "")'s own parameters" + (options.eatenMeals ? " and the meals actually eaten" : "") + " (a ceiling, not a twin)") }
            print("prior: \(options.candidates.map { "bank of \($0.count) candidates (\($0.map(\.name).joined(separator: ", ")))" } ?? options.population.name)")
            print(String(format: "%d-min forecast RMSE %.2f mg/dL (after %d min burn-in; whole run %.2f), %d forecasts", options.horizon, report.forecastRMSE,
                         options.burnIn, report.forecastRMSEWholeRun, report.forecasts))
            print(String(format: "filtered RMSE %.2f, raw CGM RMSE %.2f, last-reading forecast RMSE %.2f (after the burn-in %.2f; ratio %.3f)",
                         report.filteredRMSE, report.cgmRMSE, report.persistenceRMSE, report.lastReadingRMSE, report.ratio))
            print(String(format: "%.0f%% prediction interval coverage of the truth %.3f", options.level * 100, report.coverage))
            for p in report.parameters { print(String(format: "%@: population %.5g -> estimated %.5g", p.name, p.population, p.estimated)) }
            print("hypoglycaemia alerts \(report.hypoglycaemiaAlerts) (\(report.hypoglycaemiaAlertsCorrect) right), episodes missed \(report.hypoglycaemiaEpisodesMissed)")
            let h = report.health
            let kinds = h.findings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("model health: the model did not explain the readings at \(h.unreliable) of \(h.origins) forecast origins" + (h.unreliable > 0 ? " (\(kinds); first at minute \(h.firstUnreliableMinute ?? 0)); \(h.withheldAlerts) alerts withheld" : ""))
        }
    }
}
