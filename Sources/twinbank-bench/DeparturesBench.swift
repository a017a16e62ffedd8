import ArgumentParser
import Foundation
import TwinCore
import TwinSync

/// `twinbank-bench glucose-departures --departures DIR`: the honest evaluation of issue 26. Runs the closed-loop
/// glucose experiment on every person of a split of the departing-people set (`Scripts/glucose/departing_people.py`)
/// and prints, per person, the 30-minute forecast RMSE against the noise-free BG, the last-reading forecast's
/// RMSE, their ratio and the 90 % interval's coverage, then the split's summary. Wiring only:
/// `TwinSync.GlucoseDepartureSet` does the work.
struct DeparturesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glucose-departures",
        abstract: "The glucose twin's 30-minute forecast on simglucose people who depart from its model (issue 26), by split.",
        discussion: """
        The twin is told the announced meals and the insulin, sees one sensor column, and starts from its age group's mean
        without the person; the noise-free BG only scores it. The set: Scripts/glucose/departing_people.py (tune: patients
        #001-#005 of each group on meal plans A, B; test: #006-#010 on plans C, D).
        Example:
          twinbank-bench glucose-departures --departures ~/.cache/twinbank-glucose-departures --split test --sensor white
        """
    )

    @Option(help: "The set's folder (its manifest.json and one CSV per person).")
    var departures = NSHomeDirectory() + "/.cache/twinbank-glucose-departures"

    @Option(help: "The split: tune or test (default: every person).")
    var split: String?

    @Option(help: "The readings the twin sees: white (BG + white noise of 8 mg/dL), dexcom, guardianrt or navigator (simglucose's sensor models).")
    var sensor: String = "white"

    @Flag(help: "ORACLE (the ceiling, not a twin): start from the person's own patient parameters and give it the meals actually eaten (not the varying Vmx).")
    var oracle = false

    @Flag(name: .customLong("known-weight"), help: "The twin knows the person's body weight (as from a record).")
    var knownWeight = false

    @Option(help: "Only the people whose name starts with this (adult, child#006-C, ...).")
    var only: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Option(name: .customLong("gut-noise"), help: "Robustness: per-minute random-walk sd (mg) of the gut compartments, so the filter infers unannounced meals (GlucoseFilterBank.Settings.gutNoise; default 200, chosen on the tune split; 0: none).")
    var gutNoise: Double?
    @Option(name: .customLong("carb-uncertainty"), help: "Robustness: relative sd of an announced meal's size (default 0).")
    var carbUncertainty: Double?
    @Option(name: .customLong("sensor-tau"), help: "Robustness: correlation time (min) of an AR(1) sensor-error state (default: white noise only).")
    var sensorTau: Double?
    @Flag(name: .customLong("adaptive-noise"), help: "Robustness: process noise scaled by covariance matching on the innovations.")
    var adaptiveNoise = false
    @Flag(help: "The same as --prior cohort (the default).")
    var cohort = false
    @Option(help: "The twin's prior: cohort (the default, chosen on the tune split: a bank of priors, one UKF per other patient of the person's age group, mixed by how well each predicts the readings) or mean (one UKF from the group's mean without the person).")
    var prior: String = "cohort"
    @Option(help: "Combine each forecast with the last reading by their recent errors (ForecastBlend): inverse (inverse mean squares; the default, chosen on the tune split), minimum (minimum mean square) or none.")
    var blend: String = "inverse"

    func run() async throws {
        guard let sensor = GlucoseDepartureSet.Sensor(rawValue: sensor.lowercased()) else {
            throw ValidationError("--sensor: '\(sensor)' is not one of \(GlucoseDepartureSet.Sensor.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if let split, !["tune", "test"].contains(split) { throw ValidationError("--split: '\(split)' is not tune or test.") }
        let set = try GlucoseDepartureSet(folder: (departures as NSString).expandingTildeInPath)
        let people = try set.people(in: split).filter { p in only.map { p.name.hasPrefix($0) } ?? true }
        guard !people.isEmpty else { throw ValidationError("--only: no person's name starts with '\(only ?? "")'.") }
        var settings = GlucoseDepartureSet.Settings()
        settings.sensor = sensor
        settings.oracle = oracle
        settings.knownWeight = knownWeight
        guard ["cohort", "mean"].contains(prior) else { throw ValidationError("--prior: '\(prior)' is not cohort or mean.") }
        if cohort, prior == "mean" { throw ValidationError("--cohort and --prior mean contradict each other; give one.") }
        let useCohort = (cohort || prior == "cohort") && !oracle
        if useCohort { settings.options.candidates = [] }  // the person's cohort, per person (GlucoseDepartureSet.options(for:settings:))
        if let gutNoise { settings.options.filterBank.gutNoise = gutNoise }
        if let carbUncertainty { settings.options.filterBank.carbohydrateUncertainty = carbUncertainty }
        if let sensorTau { settings.options.filterBank.sensorErrorCorrelationTime = sensorTau }
        if adaptiveNoise { settings.options.filterBank.adaptiveNoise = GlucoseFilterBank.AdaptiveNoise() }
        var b = ForecastBlend.Settings()
        switch blend {
        case "inverse": b.weighting = .inverseMeanSquare; settings.options.blend = b
        case "minimum": b.weighting = .minimumMeanSquare; settings.options.blend = b
        case "none": settings.options.blend = nil
        default: throw ValidationError("--blend: '\(blend)' is not inverse, minimum or none.")
        }
        try GlucoseFilterBank.validate(settings.options.bankSettings)
        let progress = isatty(STDERR_FILENO) == 1 && !json
        let chosen = settings
        // the runs are independent: two at a time (one per core)
        let rows = try await withThrowingTaskGroup(of: (Int, GlucoseDepartureSet.Row).self) { group in
            var rows: [(Int, GlucoseDepartureSet.Row)] = []
            for (i, person) in people.enumerated() {
                if i >= 2, let row = try await group.next() {
                    rows.append(row)
                    if progress { FileHandle.standardError.write(Data("\rglucose-departures: \(rows.count) of \(people.count) people".utf8)) }
                }
                group.addTask { (i, try await set.run(person, settings: chosen)) }
            }
            for try await row in group {
                rows.append(row)
                if progress { FileHandle.standardError.write(Data("\rglucose-departures: \(rows.count) of \(people.count) people".utf8)) }
            }
            if progress { FileHandle.standardError.write(Data("\n".utf8)) }
            return rows.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let summary = GlucoseDepartureSet.Summary(rows)
        var meals = GlucoseSyncExperiment.MealDetection()
        for d in rows.compactMap(\.mealDetection) { meals.add(d) }
        let unreliable = rows.map(\.health.unreliableFraction).filter(\.isFinite)
        let meanUnreliable = unreliable.isEmpty ? Double.nan : unreliable.reduce(0, +) / Double(unreliable.count)
        var estimator = oracle ? "ORACLE: own patient parameters, eaten meals" : (useCohort ? "bank of UKFs over the age group without the person" : "UKF from the age group's mean without the person") + (knownWeight ? ", known weight" : "")
        let robustness = ["gut noise \(Value.format(settings.options.filterBank.gutNoise)) mg/min", carbUncertainty.map { "carbohydrate sd \(Value.format($0))" },
                          sensorTau.map { "AR(1) sensor error \(Value.format($0)) min" }, adaptiveNoise ? "adaptive noise" : nil, "blend \(blend)"].compactMap { $0 }
        if !robustness.isEmpty { estimator += "; " + robustness.joined(separator: ", ") }
        if json {
            let doc: [String: Any] = [
                "split": split ?? "all", "sensor": sensor.rawValue, "estimator": estimator, "oracle": oracle, "level": settings.options.level,
                "people": rows.map { r in
                    ["person": r.person.name, "split": r.person.split, "forecastRMSE": r.forecastRMSE, "lastReadingRMSE": r.lastReadingRMSE,
                     "ratio": r.ratio, "coverage": r.coverage, "forecasts": r.forecasts,
                     "unreliableFraction": r.health.unreliableFraction.isFinite ? r.health.unreliableFraction : NSNull(),
                     "modelHealthFindings": r.health.findings, "withheldAlerts": r.health.withheldAlerts] as [String: Any]
                },
                "summary": ["people": summary.people, "worstRatio": summary.worstRatio, "worstPerson": summary.worstPerson, "medianRatio": summary.medianRatio,
                            "meanCoverage": summary.meanCoverage, "meanForecastRMSE": summary.meanForecastRMSE,
                            "meanLastReadingRMSE": summary.meanLastReadingRMSE, "withinTarget": summary.withinTarget, "target": summary.target,
                            "meanUnreliableFraction": meanUnreliable.isFinite ? meanUnreliable : NSNull(),
                            "unannouncedMeals": ["eaten": meals.unannounced, "found": meals.found, "eatenAtLeast20g": meals.unannouncedLarge, "foundAtLeast20g": meals.foundLarge,
                                                 "inferred": meals.inferred, "correct": meals.correct]] as [String: Any],
            ]
            let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("glucose-departures  split \(split ?? "all"), sensor \(sensor.rawValue), \(estimator); 30-min forecast vs noise-free BG after 1 h")
        print("person\tsplit\tRMSE30\tlastReading\tratio\tcoverage90\tunreliable")
        for r in rows {
            print(String(format: "%@\t%@\t%.2f\t%.2f\t%.3f\t%.3f\t%.2f", r.person.name, r.person.split, r.forecastRMSE, r.lastReadingRMSE, r.ratio, r.coverage,
                         r.health.unreliableFraction))
        }
        print(String(format: "%d people: worst ratio %.3f (%@), median ratio %.3f, %d at most %.1f; mean RMSE %.2f vs last reading %.2f mg/dL; mean 90%% coverage %.3f",
                     summary.people, summary.worstRatio, summary.worstPerson, summary.medianRatio, summary.withinTarget, summary.target,
                     summary.meanForecastRMSE, summary.meanLastReadingRMSE, summary.meanCoverage))
        print(String(format: "model health: the model did not explain the readings at %.1f %% of forecast origins (mean over people)", meanUnreliable * 100))
        if meals.unannounced + meals.inferred > 0 {
            print("unannounced meals: \(meals.found) of \(meals.unannounced) eaten (\(meals.foundLarge) of the \(meals.unannouncedLarge) of 20 g or more) were inferred within \(GlucoseSyncExperiment.MealDetection.window) min; \(meals.correct) of \(meals.inferred) meals inferred had at least 10 g eaten unannounced")
        }
    }
}
