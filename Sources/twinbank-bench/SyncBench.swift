import TwinCalibration
import ArgumentParser
import Foundation
import TwinModels
import TwinSimulation
import TwinSync

/// `twinbank-bench sync`: the data-assimilation and calibration benchmarks of issue 5, side by side with
/// `../shared/anchors/da_bench.py` (filterpy UKF/EnKF, numpy particle filter) and `calib_perelson.py`
/// (scipy least_squares + libRoadRunner).
///
/// The filters track the anchor's 3-state Bergman glucose model (meals at 7, 12, 18 h; Heun's method with
/// 10 sub-steps per 5-minute interval; the same Q, R, x0, P0) over 24 h of synthetic CGM data (sd 8 mg/dL)
/// drawn with our own seeded generator (numpy's stream cannot be reproduced, so RMSEs are comparable in
/// distribution, not digit for digit). The per-step time is predict + update, median over the 288 steps.
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Filter and calibration benchmarks: UKF / EnKF / particle filter steps (vs filterpy, numpy), Perelson calibration (vs scipy + libRoadRunner)."
    )

    @Option(help: "Repetitions of each 288-step run (the median step of all runs is reported).")
    var repetitions = 5

    @Flag(help: "Run the anchors (da_bench.py, calib_perelson.py) right after, in the same session.")
    var anchor = false

    @Option(help: "Python of the anchors' venv.")
    var python = NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "Folder of the anchor scripts.")
    var anchors = "../shared/anchors"

    @Option(help: "The Perelson PEtab problem file.")
    var perelson = "../shared/data/petab/Perelson_Science1996/Perelson_Science1996.yaml"

    @Option(name: .customLong("glucose-survey"), parsing: .upToNextOption,
            help: "Instead of the benchmarks: run the closed-loop glucose experiment (twinbank experiment glucose-sync) on every simglucose patient for each of these meal plans (HOUR:GRAMS,...), truth from TwinModels' simglucose model, and print the 30-minute forecast RMSE table.")
    var glucoseSurvey: [String] = []

    @Flag(name: .customLong("adult-prior"), help: "With --glucose-survey: start every twin from the adult population mean instead of its age group's.")
    var adultPrior = false

    @Flag(name: .customLong("cohort"), help: "With --glucose-survey: a bank of priors, one per other patient of the age group (leave-one-out), mixed by how well each predicts the readings.")
    var cohort = false

    @Option(name: .customLong("estimate"), help: "With --glucose-survey: the parameters the filters estimate by augmentation (comma-separated; default Vmx,kp3,kabs).")
    var estimate: String?
    @Option(name: .customLong("refit"), help: "With --glucose-survey: the parameters re-calibration fits (comma-separated; default GlucoseRecalibration's).")
    var refit: String?
    @Flag(name: .customLong("known-weight"), help: "With --glucose-survey: the twin knows the person's body weight (every prior takes it).")
    var knownWeight = false
    @Flag(name: .customLong("by-quarter"), help: "With --glucose-survey: add the forecast RMSE of each 6-hour quarter of the day (after the burn-in) to each row.")
    var byQuarter = false
    @Option(help: "With --glucose-survey: only the patients whose name starts with this (child, adolescent#00, ...).")
    var only: String?

    @Flag(name: .customLong("oracle"), help: "With --glucose-survey: ORACLE (not a twin): start every twin from its own patient's exact parameters (a diagnostic: what the filter reaches when identification is perfect).")
    var oracle = false

    @Flag(name: .customLong("cohort-all"), help: "With --glucose-survey: the bank of priors holds every other patient, of all age groups (leave-one-out).")
    var cohortAll = false

    @Flag(name: .customLong("forecast-errors"),
          help: "With --glucose-survey: after each row, one line per forecast: 'E PATIENT MINUTE ERROR TRUTH CHO INSULIN' (origin minute, forecast minus truth and the truth at the target in mg/dL, the carbohydrate (g/min) and insulin (U/min) at the origin): where in the day the error is.")
    var forecastErrors = false

    @Option(name: .customLong("particles"), help: "With --glucose-survey and --cohort: the twin's belief is a sequential Monte Carlo posterior over its parameters with this many particles (GlucoseParameterPosterior), the cohort as its prior, instead of the filter bank.")
    var particles: Int?
    @Option(name: .customLong("moves"), help: "With --particles: Metropolis-Hastings steps per particle at each resampling.")
    var moves: Int?
    @Option(name: .customLong("spread"), help: "With --particles: sd (log scale) added in every direction to the cohort's covariance.")
    var spread: Double?
    @Option(name: .customLong("shrinkage"), help: "With --particles: shrink the prior's covariance toward its diagonal by this fraction (0 to 1; default 0.3).")
    var shrinkage: Double?
    @Option(name: .customLong("prior-dof"), help: "With --particles: the prior's degrees of freedom (> 2; default 4, a multivariate Student t; inf for a Gaussian).")
    var priorDegreesOfFreedom: Double?
    @Option(name: .customLong("model-error"), help: "With --particles: model error sd (mg/dL) added to the CGM noise in the likelihood.")
    var modelError: Double?
    @Flag(name: .customLong("pooled-covariance"), help: "With --particles: the prior's covariance pooled within the three age groups (leaving the patient out) instead of the cohort's own.")
    var pooled = false

    @Option(name: .customLong("gut-noise"), help: "With --glucose-survey: the filters' per-minute random-walk sd (mg) of the three gut compartments (GlucoseFilterBank.Settings.gutNoise).")
    var gutNoise: Double?

    @Option(name: .customLong("recalibrate"), help: "With --glucose-survey: re-calibrate each twin from its thread window every this many minutes (GlucoseRecalibration) and restart its filter on the refit parameters.")
    var recalibrate: Int?

    @Option(name: .customLong("posterior-diagnosis"), help: "With --glucose-survey (its first plan) and --particles: for this patient, print at every reading the log prior and log likelihood of the patient's own parameters next to the particles' best, and the 30-minute forecast error (is the truth out of the sample's reach, or out of the prior's favour?).")
    var posteriorDiagnosis: String?

    @Option(name: .customLong("departures"), parsing: .upToNextOption,
            help: "Instead of the benchmarks: the glucose twin on people who depart from its model (GlucoseDepartures: eaten = announced × (1 + 25 % error), two unannounced snacks, Vmx varying over the day, AR(1) CGM error of sd 7 and 20 min plus white sd 4), for each of these robustness configurations (comma-separated: carb=RELSD, gut=MG, tau=MIN, fraction=F, adapt, blend (inverse-MSE weights), sharpblend (minimum-MSE weights), state=SD, param=SD; 'base' for the defaults); the meal plan from --departure-plan; prints per patient the 30-min forecast RMSE, its ratio to the last-reading forecast's and the 90 % interval's coverage, then the summary per configuration.")
    var departures: [String] = []
    @Option(name: .customLong("departure-plan"), help: "With --departures: the announced meals (HOUR:GRAMS,...; default 7:45,12:70,18:80).")
    var departurePlan = "7:45,12:70,18:80"
    @Option(name: .customLong("departure-seed"), help: "With --departures: the seed of the departures (meal errors, snacks, CGM error); default 1.")
    var departureSeed: UInt64 = 1

    /// `--departures`: each configuration on every patient (or those of --only), the twin from the patient's age group mean.
    func departuresSurvey() throws {
        let configurations = try departures.map { ($0, try Self.robustness($0)) }
        let meals = try MealPlan(parsing: departurePlan)
        let patients = VirtualPatient.all.filter { p in only.map { p.name.hasPrefix($0) } ?? true }
        let people = try patients.enumerated().map { try GlucoseDepartures.person($1, meals: meals, seed: departureSeed &+ UInt64($0)) }
        print("departures: plan \(departurePlan), seed \(departureSeed), \(people.count) people; prior: the age group's mean; 30-min horizon, 1 h burn-in, 90 % intervals")
        print("config\tpatient\tRMSE30\tlastReading\tratio\tcoverage90\tnoiseScale")
        var summary: [String] = []
        for (config, (settings, blend)) in configurations {
            var ratios: [Double] = [], coverages: [Double] = [], rmses: [Double] = []
            for person in people {
                let prior = GlucoseSyncExperiment.Population(group: person.name)
                let s = try GlucoseDepartures.score(person, priors: [prior], settings: settings, blend: blend)
                ratios.append(s.ratio); coverages.append(s.coverage); rmses.append(s.rmse)
                print("\(config)\t\(person.name)\t\(f2(s.rmse))\t\(f2(s.lastReadingRMSE))\t\(f2(s.ratio))\t\(f2(s.coverage))\t\(f2(s.noiseScale))")
            }
            let n = Double(max(ratios.count, 1))
            summary.append("\(config)\tmean RMSE \(f2(rmses.reduce(0, +) / n))\tmean ratio \(f2(ratios.reduce(0, +) / n))\tworst ratio \(f2(ratios.max() ?? .nan))\tratio<=0.6: \(ratios.count { $0 <= 0.6 })/\(ratios.count)\tmean coverage \(f2(coverages.reduce(0, +) / n))")
        }
        print("summary")
        for line in summary { print(line) }
    }

    /// A `--departures` configuration: comma-separated robustness settings (see its help).
    static func robustness(_ config: String) throws -> (GlucoseFilterBank.Settings, ForecastBlend.Settings?) {
        var settings = GlucoseFilterBank.Settings()
        var blend: ForecastBlend.Settings?
        for word in config.split(separator: ",").map(String.init) where word != "base" {
            let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
            let value = kv.count == 2 ? Double(kv[1]) : nil
            if kv.count == 2, value == nil { throw ValidationError("'\(word)' in --departures: '\(kv[1])' is not a number.") }
            switch kv[0] {
            case "carb": settings.carbohydrateUncertainty = value ?? 0.25
            case "gut": settings.gutNoise = value ?? 500
            case "tau": settings.sensorErrorCorrelationTime = value ?? 20
            case "fraction": settings.sensorErrorFraction = value ?? 0.7
            case "adapt": settings.adaptiveNoise = GlucoseFilterBank.AdaptiveNoise()
            case "blend": blend = ForecastBlend.Settings()
            case "sharpblend": blend = ForecastBlend.Settings(); blend?.weighting = .minimumMeanSquare
            case "state": settings.stateNoise = value ?? settings.stateNoise
            case "param": settings.parameterNoise = value ?? settings.parameterNoise
            default: throw ValidationError("unknown robustness setting '\(word)' in --departures (carb=, gut=, tau=, fraction=, adapt, blend, sharpblend, state=, param=, base).")
            }
        }
        return (settings, blend)
    }

    private func f2(_ x: Double) -> String { String(format: "%.2f", x) }

    func run() async throws {
        if !departures.isEmpty { return try departuresSurvey() }
        if let name = posteriorDiagnosis { return try diagnose(name) }
        if !glucoseSurvey.isEmpty { return try await survey() }
        let data = Self.syntheticDay(seed: 1)
        print("twinbank-bench sync  (Bergman minimal model of da_bench.py, \(data.observations.count) steps of 5 min, CGM sd 8 mg/dL; raw-obs RMSE G \(String(format: "%.2f", data.rawRMSE)))")
        let x0 = [120.0, 0, 12], p0 = [400.0, 0, 0, 0, 1e-6, 0, 0, 0, 25], q = [0.25, 0, 0, 0, 1e-10, 0, 0, 0, 0.04]
        let sensor = try LinearObservation.component(0, of: 3, standardDeviation: 8, name: "CGM")
        let generic = try ODEProcess(system: BergmanSystem(), scheme: .heun(substeps: 10), noise: .perInterval(q))
        let vectorised = BergmanProcess(noise: q)
        var figures: [String: Double] = [:]

        // UKF
        for (label, process) in [("generic ODEProcess", AnyProcess(generic)), ("vectorised process", AnyProcess(vectorised))] {
            var times: [Double] = []
            var rmse = 0.0
            for _ in 0..<repetitions {
                var ukf = try UnscentedKalmanFilter(process: process, time: 0, mean: x0, covariance: p0, alpha: 0.1, beta: 2, kappa: 0)
                var se = 0.0
                for (k, z) in data.observations.enumerated() {
                    let t = Double(k + 1) * 5
                    let start = ContinuousClock.now
                    try ukf.predict(to: t)
                    try ukf.update(with: Observation(time: t, values: [z]), model: sensor)
                    times.append(Measure.seconds(ContinuousClock.now - start))
                    se += pow(ukf.mean[0] - data.truth[k][0], 2)
                }
                rmse = (se / Double(data.observations.count)).squareRoot()
            }
            let median = Measure.median(times)
            figures["ukf-" + label] = median
            print(String(format: "UKF (7 sigma points, %@): predict+update median %.2f us/step (p90 %.2f us), RMSE G %.2f mg/dL",
                         label, median * 1e6, Measure.percentile(times, 0.9) * 1e6, rmse))
        }

        // EnKF, 100 members
        do {
            var times: [Double] = []
            var rmse = 0.0
            for r in 0..<repetitions {
                var enkf = try EnsembleKalmanFilter(process: vectorised, time: 0, mean: x0, covariance: p0, count: 100, seed: UInt64(r + 1), concurrency: 1)
                var se = 0.0
                for (k, z) in data.observations.enumerated() {
                    let t = Double(k + 1) * 5
                    let start = ContinuousClock.now
                    try await enkf.predict(to: t)
                    try enkf.update(with: Observation(time: t, values: [z]), model: sensor)
                    times.append(Measure.seconds(ContinuousClock.now - start))
                    se += pow(enkf.mean[0] - data.truth[k][0], 2)
                }
                rmse = (se / Double(data.observations.count)).squareRoot()
            }
            figures["enkf"] = Measure.median(times)
            print(String(format: "EnKF (100 members, serial): predict+update median %.1f us/step (p90 %.1f us), RMSE G %.2f mg/dL",
                         Measure.median(times) * 1e6, Measure.percentile(times, 0.9) * 1e6, rmse))
        }

        // Bootstrap particle filter, 1000 particles
        for (label, process) in [("vectorised process", AnyProcess(vectorised)), ("generic ODEProcess", AnyProcess(generic))] {
            var times: [Double] = []
            var rmse = 0.0
            for r in 0..<repetitions {
                var pf = try ParticleFilter(process: process, time: 0, mean: x0, covariance: p0, count: 1000, seed: UInt64(r + 1), resamplingThreshold: 0.5)
                var se = 0.0
                for (k, z) in data.observations.enumerated() {
                    let t = Double(k + 1) * 5
                    let start = ContinuousClock.now
                    try pf.predict(to: t)
                    try pf.update(with: Observation(time: t, values: [z]), model: sensor)
                    times.append(Measure.seconds(ContinuousClock.now - start))
                    se += pow(pf.mean[0] - data.truth[k][0], 2)
                }
                rmse = (se / Double(data.observations.count)).squareRoot()
            }
            figures["pf-" + label] = Measure.median(times)
            print(String(format: "bootstrap PF (1000 particles, %@): predict+update median %.1f us/step (p90 %.1f us), RMSE G %.2f mg/dL",
                         label, Measure.median(times) * 1e6, Measure.percentile(times, 0.9) * 1e6, rmse))
        }

        // UKF overhead with an identity process
        for d in [3, 12] {
            let s = try LinearObservation.component(0, of: d, standardDeviation: 1)
            var ukf = try UnscentedKalmanFilter(process: IdentityProcess(d), time: 0, mean: [Double](repeating: 0, count: d), covariance: Self.identity(d),
                                                alpha: 0.1, beta: 2, kappa: 0)
            var times: [Double] = []
            for k in 1...2000 {
                let start = ContinuousClock.now
                try ukf.predict(to: Double(k))
                try ukf.update(with: Observation(time: Double(k), values: [0.1]), model: s)
                times.append(Measure.seconds(ContinuousClock.now - start))
            }
            print(String(format: "UKF filter overhead only (identity fx, dim_x=%d, %d sigma pts): median %.2f us/step", d, 2 * d + 1, Measure.median(times) * 1e6))
        }

        // Perelson calibration
        var calibrationMs: Double? = nil
        let url = URL(fileURLWithPath: perelson)
        if FileManager.default.fileExists(atPath: url.path) {
            print("")
            let calibration = try PEtabCalibration.load(yaml: url)
            for start in [["c": 1.0, "delta": 1.0], ["c": 0.1, "delta": 10.0]] {
                var options = PEtabCalibration.Options()
                options.starts = 0
                options.includeNominalStart = false
                options.additionalStarts = [try calibration.start(from: start)]
                var times: [Double] = []
                var result: PEtabCalibration.Result? = nil
                for _ in 0..<max(repetitions, 3) {
                    let t0 = ContinuousClock.now
                    result = try calibration.fit(options: options)
                    times.append(Measure.seconds(ContinuousClock.now - t0))
                }
                guard let r = result else { continue }
                let v = Dictionary(uniqueKeysWithValues: r.parameters.map { ($0.id, $0.value) })
                let ms = Measure.median(times) * 1e3
                calibrationMs = max(calibrationMs ?? 0, ms)
                print(String(format: "Perelson calibration, start c=%g delta=%g: fitted c=%.4f delta=%.4f SSR(log10)=%.5f evaluations=%d, median wall %.2f ms",
                             start["c"]!, start["delta"]!, v["c"] ?? .nan, v["delta"] ?? .nan, r.sumOfSquares, r.evaluations, ms))
            }
            let t0 = ContinuousClock.now
            let full = try calibration.fit()
            print(String(format: "Perelson multi-start calibration (nominal + 10 Latin-hypercube starts, seed 1): SSR %.5f, %d/%d converged, %d failed, %.1f ms",
                         full.sumOfSquares, full.startsConverged, full.startsRun, full.startsFailed, Measure.seconds(ContinuousClock.now - t0) * 1e3))
        }

        if anchor {
            print("")
            print("anchors (same session, after ours):")
            let da = try Measure.run(python, [anchors + "/da_bench.py"]).output
            var anchorUKF: Double? = nil, anchorPF: Double? = nil
            for line in da.split(separator: "\n") {
                print("    " + line)
                if line.hasPrefix("UKF (filterpy") { anchorUKF = Self.number(after: "median ", in: String(line)) }
                if line.hasPrefix("bootstrap PF") { anchorPF = Self.number(after: "median ", in: String(line)) }
            }
            let problemDir = url.deletingLastPathComponent().path
            let calib = try Measure.run(python, [anchors + "/calib_perelson.py", problemDir]).output
            var anchorCalib: [Double] = []
            for line in calib.split(separator: "\n") {
                print("    " + line)
                if let w = Self.number(after: "wall ", in: String(line)) { anchorCalib.append(w) }
            }
            if let a = anchorUKF, let ours = figures["ukf-generic ODEProcess"] {
                print(String(format: "ratio UKF step (filterpy / ours, generic process): %.0f us / %.2f us = %.0fx", a, ours * 1e6, a / (ours * 1e6)))
            }
            if let a = anchorPF, let ours = figures["pf-vectorised process"] {
                print(String(format: "ratio PF step (numpy / ours, vectorised process): %.0f us / %.1f us = %.1fx", a, ours * 1e6, a / (ours * 1e6)))
            }
            if let a = anchorPF, let ours = figures["pf-generic ODEProcess"] {
                print(String(format: "ratio PF step (numpy / ours, generic process): %.0f us / %.1f us = %.1fx", a, ours * 1e6, a / (ours * 1e6)))
            }
            if let ours = calibrationMs, !anchorCalib.isEmpty {
                print(String(format: "ratio Perelson calibration (scipy+libRoadRunner / ours, slowest start): %.0f ms / %.2f ms = %.1fx",
                             anchorCalib.max()!, ours, anchorCalib.max()! / ours))
            }
        }
    }

    struct Day { let truth: [[Double]]; let observations: [Double]; let rawRMSE: Double }

    /// The anchor's synthetic day: x ← fx(x) + N(0, diag(0.5, 1e-5, 0.2)²), z = G + N(0, 8²).
    static func syntheticDay(seed: UInt64) -> Day {
        var rng = Xoshiro256StarStar(seed: seed)
        let process = BergmanProcess(noise: [Double](repeating: 0, count: 9))
        var x = [140.0, 0, 10]
        var truth: [[Double]] = [], obs: [Double] = []
        var se = 0.0
        for k in 0..<288 {
            x.withUnsafeMutableBufferPointer { try? process.propagate($0, from: Double(k) * 5, over: 5) }
            x[0] += 0.5 * rng.normal(); x[1] += 1e-5 * rng.normal(); x[2] += 0.2 * rng.normal()
            truth.append(x)
            let z = x[0] + 8 * rng.normal()
            obs.append(z)
            se += (z - x[0]) * (z - x[0])
        }
        return Day(truth: truth, observations: obs, rawRMSE: (se / 288).squareRoot())
    }

    static func identity(_ d: Int) -> [Double] {
        var m = [Double](repeating: 0, count: d * d)
        for i in 0..<d { m[i * d + i] = 1 }
        return m
    }


    static func number(after marker: String, in line: String) -> Double? {
        guard let r = line.range(of: marker) else { return nil }
        return Double(line[r.upperBound...].prefix { $0 == "." || $0.isNumber })
    }


    /// The SMC posterior's settings from the command's options (one place for the survey and the diagnosis).
    func posteriorSettings(particles: Int) -> GlucoseParameterPosterior.Settings {
        var settings = GlucoseParameterPosterior.Settings()
        settings.particles = particles
        if let moves { settings.moves = moves }
        if let spread { settings.priorSpread = spread }
        if let priorDegreesOfFreedom { settings.priorDegreesOfFreedom = priorDegreesOfFreedom }
        if let shrinkage { settings.covarianceShrinkage = shrinkage }
        if let modelError { settings.modelErrorSD = modelError }
        return settings
    }

    func diagnose(_ name: String) throws {
        let patient = try VirtualPatient.named(name)
        let meals = try MealPlan(parsing: glucoseSurvey.first ?? "7:45,12:70,18:80")
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: meals, hours: 24))
        let settings = posteriorSettings(particles: particles ?? 512)
        // the readings the survey's experiment sees (CGM sd 8 mg/dL every 5 min, seed 1)
        let cgm = try GlucoseSyncExperiment.sensorReadings(GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin))
        let cohort = GlucoseSyncExperiment.Population.cohort(around: name).map(\.parameters)
        let groups = pooled ? GlucoseSyncExperiment.Population.ageGroups(without: name).map { $0.map(\.parameters) } : nil
        var posterior = try GlucoseParameterPosterior(cohort: cohort, covarianceGroups: groups, bodyWeight: knownWeight ? patient.parameters.BW : nil,
                                                      carbohydrate: truth.carbohydrate, insulin: truth.insulin, firstReading: cgm[0], settings: settings, seed: 1)
        do {
            let process = try GlucoseTwinProcess(population: patient.parameters, carbohydrate: truth.carbohydrate, insulin: truth.insulin, estimated: [],
                                                 noiseRate: [Double](repeating: 0, count: 14))
            var x = patient.initialState + [0]
            var worst = (0.0, 0)
            var ss = 0.0
            for m in 0..<(truth.bg.count - 1) {
                try x.withUnsafeMutableBufferPointer { try process.propagate($0, from: Double(m), over: 1) }
                let e = x[12] / patient.parameters.Vg - truth.bg[m + 1]
                ss += e * e
                if abs(e) > abs(worst.0) { worst = (e, m + 1) }
            }
            print(String(format: "twin process with the patient's own parameters vs the truth: RMS %.3f mg/dL, worst %.2f at minute %d", (ss / Double(truth.bg.count)).squareRoot(), worst.0, worst.1))
            print("CHO minutes:", truth.carbohydrate.indices.filter { truth.carbohydrate[$0] > 0 }.prefix(12).map { "\($0):\(truth.carbohydrate[$0])" })
        }
        print("minute\tBG\ttruthPrior\ttruthLik\tbestPrior\tbestLik\tmeanLik\terror30")
        for k in stride(from: 0, to: truth.bg.count - 30, by: 5) {
            try posterior.assimilate(minute: k, reading: cgm[k])
            let f = try posterior.forecast(at: [k + 30])[0].mean[0] - truth.bg[k + 30]
            let t = posterior.logDensity(of: patient.parameters, basalGlucose: patient.parameters.Gb)
            let d = posterior.particleLogDensities, w = posterior.weights
            let best = d.indices.max { d[$0].prior + d[$0].likelihood < d[$1].prior + d[$1].likelihood }!
            // Zero-weight particles (no steady state: log likelihood −∞) do not enter the mean (0 · −∞ would be NaN).
            let meanLik = d.indices.reduce(0.0) { w[$1] > 0 ? $0 + w[$1] * d[$1].likelihood : $0 }
            print(String(format: "%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f", k, truth.bg[k], t?.prior ?? .nan, t?.likelihood ?? .nan,
                         d[best].prior, d[best].likelihood, meanLik, f))
        }
    }

    /// The glucose-sync experiment (CGM sd 8, seed 1, 30-min horizon, 1 h burn-in) on all 30 patients per meal plan.
    func survey() async throws {
        print("patient\tmeals\tRMSE30\tpersistence\tcgm\tBGmin\tBGmax\talerts\tcorrect\tmissed")
        var worst = (0.0, ""), within = 0, total = 0
        var byGroup: [String: (within: Int, total: Int)] = [:]
        for plan in glucoseSurvey {
            let meals = try MealPlan(parsing: plan)
            // the runs are independent: two at a time (one per core)
            let rows = try await withThrowingTaskGroup(of: (Int, String, Double).self) { group in
                var rows: [(Int, String, Double)] = []
                var started = 0
                for (index, patient) in VirtualPatient.all.enumerated() where only.map({ patient.name.hasPrefix($0) }) ?? true {
                    if started >= 2, let row = try await group.next() { rows.append(row) }
                    started += 1
                    group.addTask { [self] in
                        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: meals, hours: 24))
                        let trace = GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
                        var o = GlucoseSyncExperiment.Options()
                        // the twin knows its age group, not who it is: the group's mean without the person (no leakage)
                        o.population = adultPrior ? .adult : try .group(without: patient.name)
                        if oracle { o.population = GlucoseSyncExperiment.Population(members: [patient], name: patient.name) }
                        if let gutNoise { o.filterBank.gutNoise = gutNoise }
                        if cohort || cohortAll { o.candidates = GlucoseSyncExperiment.Population.cohort(around: patient.name, acrossGroups: cohortAll) }
                        o.recalibrationInterval = recalibrate
                        if let estimate { o.estimated = estimate.split(separator: ",").map(String.init) }
                        if let refit { o.recalibration.parameters = refit.split(separator: ",").map(String.init) }
                        if knownWeight { o.bodyWeight = patient.parameters.BW }
                        if let particles {
                            if pooled {
                                o.covarianceGroups = GlucoseSyncExperiment.Population.ageGroups(without: patient.name)
                            }
                            o.posterior = posteriorSettings(particles: particles)
                        }
                        let r = try await GlucoseSyncExperiment.run(trace, options: o)
                        var line = String(format: "%@\t%@\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%d\t%d\t%d", patient.name, plan, r.forecastRMSE, r.persistenceRMSE, r.cgmRMSE,
                                          truth.bg.min() ?? 0, truth.bg.max() ?? 0, r.hypoglycaemiaAlerts, r.hypoglycaemiaAlertsCorrect, r.hypoglycaemiaEpisodesMissed)
                        if byQuarter {
                            for q in 0..<4 {
                                let e = r.forecastErrors.filter { $0.minute >= max(60, q * 360) && $0.minute < (q + 1) * 360 }.map(\.error)
                                line += String(format: "\t%.1f", (e.reduce(0) { $0 + $1 * $1 } / Double(max(e.count, 1))).squareRoot())
                            }
                        }
                        if forecastErrors {
                            for (m, e) in r.forecastErrors {
                                line += String(format: "\nE %@ %d %.1f %.1f %.2f %.4f", patient.name, m, e, truth.bg[m + o.horizon], truth.carbohydrate[m], truth.insulin[m])
                            }
                        }
                        return (index, line, r.forecastRMSE)
                    }
                }
                for try await row in group { rows.append(row) }
                return rows.sorted { $0.0 < $1.0 }
            }
            for (index, line, rmse) in rows {
                let patient = VirtualPatient.all[index].name
                let g = String(patient.prefix { $0 != "#" })
                total += 1
                byGroup[g, default: (0, 0)].total += 1
                if rmse <= 10 { within += 1; byGroup[g, default: (0, 0)].within += 1 }
                if rmse > worst.0 { worst = (rmse, "\(patient) \(plan)") }
                print(line)
            }
        }
        let groups = byGroup.keys.sorted().map { "\($0) \(byGroup[$0]!.within)/\(byGroup[$0]!.total)" }.joined(separator: ", ")
        print(String(format: "%d of %d runs within 10 mg/dL (%@); worst %.2f mg/dL (%@)", within, total, groups, worst.0, worst.1))
    }
}

/// The anchor's Bergman minimal model as an `ODESystem` (for the generic `ODEProcess` path).
private struct BergmanSystem: ODESystem, Sendable {
    var dimension: Int { 3 }
    var variableNames: [String] { ["G", "X", "I"] }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let ra = bergmanMeal(t)
        dy[0] = -(0.03 + y[1]) * y[0] + 0.03 * 90 + ra
        dy[1] = -0.02 * y[1] + 1.3e-5 * (y[2] - 10)
        dy[2] = -0.3 * (y[2] - 10) + 0.5 * ra
    }
}

@inline(__always) private func bergmanMeal(_ t: Double) -> Double {
    var s = 0.0
    if t >= 420 { s += 4 * exp(-(t - 420) / 40) }
    if t >= 720 { s += 4 * exp(-(t - 720) / 40) }
    if t >= 1080 { s += 4 * exp(-(t - 1080) / 40) }
    return s
}

/// The same model and Heun scheme, with the meal input (a function of time only) computed once per
/// sub-step for a whole ensemble, as the numpy anchor's vectorised step does.
private struct BergmanProcess: ProcessModel {
    let noise: [Double]
    var dimension: Int { 3 }
    var stateNames: [String] { ["G", "X", "I"] }

    func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {
        try propagate(ensemble: state, count: 1, from: time, over: interval)
    }

    func propagate(ensemble s: UnsafeMutableBufferPointer<Double>, count: Int, from time: Double, over interval: Double) throws {
        let h = interval / 10
        for k in 0..<10 {
            let t = time + Double(k) * h
            let ra0 = bergmanMeal(t), ra1 = bergmanMeal(t + h)
            for m in 0..<count {
                let g = s[3 * m], x = s[3 * m + 1], i = s[3 * m + 2]
                let k1g = -(0.03 + x) * g + 2.7 + ra0, k1x = -0.02 * x + 1.3e-5 * (i - 10), k1i = -0.3 * (i - 10) + 0.5 * ra0
                let g2 = g + h * k1g, x2 = x + h * k1x, i2 = i + h * k1i
                let k2g = -(0.03 + x2) * g2 + 2.7 + ra1, k2x = -0.02 * x2 + 1.3e-5 * (i2 - 10), k2i = -0.3 * (i2 - 10) + 0.5 * ra1
                s[3 * m] = g + 0.5 * h * (k1g + k2g)
                s[3 * m + 1] = x + 0.5 * h * (k1x + k2x)
                s[3 * m + 2] = i + 0.5 * h * (k1i + k2i)
            }
        }
    }

    func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<9 { q[i] = noise[i] }
    }
}

/// x(t + Δ) = x with Q = 1e-3 I: the filter's own cost.
private struct IdentityProcess: ProcessModel {
    let dimension: Int
    init(_ d: Int) { dimension = d }
    func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {}
    func propagate(ensemble states: UnsafeMutableBufferPointer<Double>, count: Int, from time: Double, over interval: Double) throws {}
    func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<(dimension * dimension) { q[i] = i % (dimension + 1) == 0 ? 1e-3 : 0 }
    }
}

/// Type erasure so one loop can time both process implementations.
private struct AnyProcess: ProcessModel {
    let base: any ProcessModel
    init(_ base: any ProcessModel) { self.base = base }
    var dimension: Int { base.dimension }
    var stateNames: [String] { base.stateNames }
    func propagate(_ state: UnsafeMutableBufferPointer<Double>, from time: Double, over interval: Double) throws {
        try base.propagate(state, from: time, over: interval)
    }
    func propagate(ensemble states: UnsafeMutableBufferPointer<Double>, count: Int, from time: Double, over interval: Double) throws {
        try base.propagate(ensemble: states, count: count, from: time, over: interval)
    }
    func noiseCovariance(over interval: Double, into q: UnsafeMutableBufferPointer<Double>) { base.noiseCovariance(over: interval, into: q) }
}
