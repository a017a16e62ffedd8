import Foundation
import TwinModels

/// The closed-loop experiment of issue 5: a simglucose trace plays the real person; its BG, with CGM
/// noise, is assimilated every sampling period into a UVA/Padova twin whose parameters start at population
/// values (the trace's meals and insulin are given to the twin as interventions); after each update the twin
/// forecasts `horizon` minutes ahead and the forecast is scored against the noise-free truth.
public enum GlucoseSyncExperiment {
    /// A simglucose trace: one row per minute.
    public struct Trace: Sendable {
        public let bg: [Double]
        public let carbohydrate: [Double]
        public let insulin: [Double]

        /// Reads simglucose's CSV (`Time, BG, CGM, CHO, insulin, ...`, one row per minute).
        public init(csv text: String, name: String = "trace") throws {
            let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) else {
                throw SyncError(.invalidArgument, "\(name) is empty.", value: name)
            }
            func column(_ c: String) throws -> Int {
                guard let i = header.firstIndex(of: c) else {
                    throw SyncError(.invalidArgument, "\(name) has no '\(c)' column (it has \(header.joined(separator: ", "))).", value: c)
                }
                return i
            }
            let bgi = try column("BG"), choi = try column("CHO"), insi = try column("insulin")
            var bg: [Double] = [], cho: [Double] = [], ins: [Double] = []
            let rows = lines.dropFirst()
            for (r, line) in rows.enumerated() {
                var cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                // simglucose leaves the inputs of the final row (the end point) empty
                if r == rows.count - 1, cells.count == header.count {
                    if cells[choi].isEmpty { cells[choi] = "0" }
                    if cells[insi].isEmpty { cells[insi] = "0" }
                }
                guard cells.count == header.count, let b = Double(cells[bgi]), let c = Double(cells[choi]), let i = Double(cells[insi]),
                      b.isFinite, c.isFinite, i.isFinite, b > 0, c >= 0, i >= 0 else {
                    throw SyncError(.invalidArgument, "row \(r + 2) of \(name) does not have a positive BG and non-negative CHO and insulin.", value: line)
                }
                bg.append(b); cho.append(c); ins.append(i)
            }
            guard bg.count >= 60 else { throw SyncError(.invalidArgument, "\(name) has \(bg.count) minutes; the experiment needs at least an hour.", value: String(bg.count)) }
            self.bg = bg; self.carbohydrate = cho; self.insulin = ins
        }

        /// A trace from per-minute arrays (e.g. a `TwinModels.GlucoseSimulator` run, which agrees with simglucose).
        public init(bg: [Double], carbohydrate: [Double], insulin: [Double]) {
            self.bg = bg; self.carbohydrate = carbohydrate; self.insulin = insulin
        }
    }

    /// The prior a twin starts from: the mean parameters and initial state of a group of simglucose's virtual
    /// patients (knowing whether the person is a child, an adolescent or an adult, not who they are).
    public struct Population: Sendable {
        public let name: String
        public let parameters: UVAPadovaParameters
        public let initialState: [Double]

        /// The mean of simglucose's ten adults.
        public static var adult: Population { Population(prefix: "adult#") }
        /// The mean of the ten adolescents.
        public static var adolescent: Population { Population(prefix: "adolescent#") }
        /// The mean of the ten children.
        public static var child: Population { Population(prefix: "child#") }

        /// The group a patient name (`child#003`, `adolescent#010`, `adult#001`) belongs to; adults otherwise.
        public init(group patientName: String) {
            if patientName.hasPrefix("child#") { self = .child } else if patientName.hasPrefix("adolescent#") { self = .adolescent } else { self = .adult }
        }

        init(prefix: String) {
            self.init(members: VirtualPatient.all.filter { $0.name.hasPrefix(prefix) }, name: String(prefix.dropLast()) + " population mean")
        }

        /// One prior per simglucose patient of the named patient's age group, **leaving that patient out** (as a
        /// real person is never among the patients their twin learns from): the candidates of
        /// ``Options/candidates``.
        public static func cohort(around patientName: String) -> [Population] {
            let prefix = String(patientName.prefix { $0 != "#" }) + "#"
            return VirtualPatient.all.filter { $0.name.hasPrefix(prefix) && $0.name != patientName }.map { Population(members: [$0], name: $0.name) }
        }

        /// The mean of the given patients' parameters and basal states (at least one patient).
        public init(members: [VirtualPatient], name: String) {
            precondition(!members.isEmpty, "a population needs at least one patient")
            var p = members[0].parameters
            let paths: [WritableKeyPath<UVAPadovaParameters, Double>] = [
                \.BW, \.EGPb, \.Gb, \.Ib, \.kabs, \.kmax, \.kmin, \.b, \.d, \.Vg, \.Vi, \.Ipb, \.Vmx, \.Km0, \.k2, \.k1, \.p2u, \.m1, \.m5, \.CL, \.HEb,
                \.m2, \.m4, \.m30, \.Ilb, \.ki, \.kp2, \.kp3, \.f, \.Gpb, \.ke1, \.ke2, \.Fsnc, \.Gtb, \.Vm0, \.Rdb, \.PCRb, \.kd, \.ksc, \.ka1, \.ka2,
                \.dosekempt, \.u2ss, \.isc1ss, \.isc2ss, \.kp1,
            ]
            for kp in paths { p[keyPath: kp] = members.map { $0.parameters[keyPath: kp] }.reduce(0, +) / Double(members.count) }
            var x0 = [Double](repeating: 0, count: 13)
            for a in members { for i in 0..<13 { x0[i] += a.initialState[i] / Double(members.count) } }
            self.name = name
            parameters = p
            initialState = x0
        }
    }

    public struct Options: Sendable {
        public var noiseStandardDeviation = 8.0
        public var seed: UInt64 = 1
        public var horizon = 30
        public var samplingPeriod = 5
        public var estimated = ["Vmx", "kp3", "kabs"]
        /// Minutes at the start not scored (the twin is still learning); the report also gives the whole-day figure.
        public var burnIn = 60
        public var hypoglycaemiaThreshold = 70.0
        /// Per-minute random-walk sd of each model state, as a fraction of its basal value (model error).
        public var stateNoise = 0.004
        /// Per-minute random-walk sd of each estimated log-parameter.
        public var parameterNoise = 0.01
        /// Prior sd of each estimated log-parameter.
        public var parameterPriorSD = 0.3
        /// The twin's prior (default: the adult population mean).
        public var population: Population = .adult
        /// When set, a bank of priors instead of ``population``: one UKF per candidate runs side by side and
        /// the twin's belief is their mixture, each weighted by how well it predicted the readings so far
        /// (Bayesian model averaging with forgetting ``candidateForgetting`` per reading, so the weights can move
        /// when the person's behaviour changes). Typically the other patients of the person's age group.
        public var candidates: [Population]?
        /// Exponent applied to the previous log-weights at each reading (1: no forgetting).
        public var candidateForgetting = 0.95
        /// When set, every this many minutes (a multiple of the sampling period) each filter (each candidate
        /// of the bank with a weight of at least 1 %; only the most probable one with
        /// ``recalibrationAddsCandidate``) is re-calibrated from the thread window (``recalibration``, starting
        /// from the filter's current parameter estimate and its filtered state at the window's start) and a
        /// filter is started on the refit parameters: the model states and memory at the last reading simulated
        /// with them, the old filter's state covariance, and a fresh prior of sd ``recalibratedParameterSD``
        /// on the augmented log-parameters. A fit that fails leaves the filter as it was. Only readings up to
        /// now are used. `nil` (the default): no re-calibration.
        public var recalibrationInterval: Int?
        public var recalibration = GlucoseRecalibration()
        public var recalibratedParameterSD = 0.1
        /// Whether a restarted filter takes the state simulated with the refit parameters (true) or keeps its
        /// own filtered state (false).
        public var recalibratedState = true
        /// A refit is taken only when it lowers the window's penalised sum of squared standardised residuals
        /// by at least this much (e.g. 2 per fitted parameter: Akaike's criterion); 0 takes every refit.
        public var recalibrationMinimumGain = 0.0
        /// When true, only the bank's most probable filter is re-calibrated and the refit joins the bank as a
        /// new candidate (starting with its parent's weight) instead of replacing it, so a refit that
        /// predicts worse than the filters already there loses weight instead of harming the forecast (the
        /// default: over the 90-run survey with a cohort bank it is never more than 0.5 mg/dL worse than no
        /// re-calibration, while replacing was up to 3.7 mg/dL worse on some runs).
        public var recalibrationAddsCandidate = true
        public init() {}
    }

    public struct Report: Sendable {
        /// RMSE of the `horizon`-minute forecast against the noise-free truth, after the burn-in.
        public let forecastRMSE: Double
        public let forecastRMSEWholeRun: Double
        public let forecasts: Int
        /// RMSE of the filtered (now-cast) glucose and of the raw CGM readings against the truth.
        public let filteredRMSE: Double
        public let cgmRMSE: Double
        /// A naive baseline: the last CGM reading held for `horizon` minutes.
        public let persistenceRMSE: Double
        public let parameters: [(name: String, population: Double, estimated: Double)]
        public let hypoglycaemiaAlerts: Int
        public let hypoglycaemiaAlertsCorrect: Int
        public let hypoglycaemiaEpisodesMissed: Int
        public let resets: Int
        /// How many times a filter was re-calibrated and restarted (``Options/recalibrationInterval``).
        public let recalibrations: Int

        public func json() -> String {
            var params: [String: Any] = [:]
            for p in parameters { params[p.name] = ["population": p.population, "estimated": p.estimated] }
            let doc: [String: Any] = [
                "forecastRMSE": forecastRMSE, "forecastRMSEWholeRun": forecastRMSEWholeRun, "forecasts": forecasts,
                "filteredRMSE": filteredRMSE, "cgmRMSE": cgmRMSE, "persistenceRMSE": persistenceRMSE, "parameters": params,
                "hypoglycaemia": ["alerts": hypoglycaemiaAlerts, "alertsCorrect": hypoglycaemiaAlertsCorrect, "episodesMissed": hypoglycaemiaEpisodesMissed],
                "covarianceResets": resets, "recalibrations": recalibrations,
            ]
            guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]) else { return "{}" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Population values: the mean of simglucose's ten adult virtual patients.
    public static func adultPopulation() -> (parameters: UVAPadovaParameters, initialState: [Double]) {
        let a = Population.adult
        return (a.parameters, a.initialState)
    }

    public static func run(_ trace: Trace, options: Options = Options()) async throws -> Report {
        guard options.noiseStandardDeviation > 0, options.horizon > 0, options.samplingPeriod > 0 else {
            throw SyncError(.invalidArgument, "noise sd, horizon and sampling period must be positive.")
        }
        let priors = options.candidates ?? [options.population]
        guard !priors.isEmpty else { throw SyncError(.invalidArgument, "the candidate priors are empty.", value: nil) }
        guard options.candidateForgetting > 0, options.candidateForgetting <= 1 else {
            throw SyncError(.invalidArgument, "the forgetting factor must be in (0, 1].", value: String(options.candidateForgetting))
        }
        let q = options.estimated.count
        if let interval = options.recalibrationInterval {
            guard interval > 0, interval % options.samplingPeriod == 0 else {
                throw SyncError(.invalidArgument, "the re-calibration interval must be a positive multiple of the sampling period (\(options.samplingPeriod) min).", value: String(interval))
            }
            guard options.recalibration.window >= options.samplingPeriod else {
                throw SyncError(.invalidArgument, "the re-calibration window must be at least one sampling period.", value: String(options.recalibration.window))
            }
        }
        var rng = SplitMixXoshiro(seed: options.seed)
        let minutes = trace.bg.count
        var cgm = [Double](repeating: .nan, count: minutes)
        for k in stride(from: 0, to: minutes, by: options.samplingPeriod) { cgm[k] = trace.bg[k] + options.noiseStandardDeviation * rng.normal() }
        var filters: [UnscentedKalmanFilter<GlucoseTwinProcess>] = []
        for prior in priors {
            let population = prior.parameters, x0 = prior.initialState
            var noise = [Double](repeating: 0, count: 14 + q)
            // per-minute random-walk sd: glucose compartments and insulin compartments a few % per hour
            for i in 0..<13 { noise[i] = options.stateNoise * max(abs(x0[i]), 1) }
            for i in 0..<q { noise[14 + i] = options.parameterNoise }
            let process = try GlucoseTwinProcess(population: population, carbohydrate: trace.carbohydrate, insulin: trace.insulin,
                                                 estimated: options.estimated, noiseRate: noise)
            // initial state: the prior's basal state, glucose compartments scaled to the first reading
            var start = x0 + [0] + [Double](repeating: 0, count: q)
            let scale = cgm[0] / (x0[12] / population.Vg)
            for i in [3, 4, 12] { start[i] *= scale }
            let n = 14 + q
            var p0 = [Double](repeating: 0, count: n * n)
            for i in 0..<13 { p0[i * n + i] = pow(0.3 * max(abs(start[i]), 1), 2) }
            p0[13 * n + 13] = 1
            for i in 0..<q { p0[(14 + i) * n + 14 + i] = options.parameterPriorSD * options.parameterPriorSD }
            filters.append(try UnscentedKalmanFilter(process: process, time: 0, mean: start, covariance: p0, alpha: 0.5, beta: 2, kappa: 0))
        }
        var volumes = priors.map(\.parameters.Vg)
        var parent = Array(priors.indices)
        var logWeights = [Double](repeating: 0, count: priors.count)
        var weights = [Double](repeating: 1 / Double(priors.count), count: priors.count)
        let r2 = options.noiseStandardDeviation * options.noiseStandardDeviation
        var forecastErrors: [(minute: Int, error: Double)] = [], filteredErrors: [Double] = [], persistence: [Double] = []
        var alerts = 0, correct = 0
        var alertedAt: [Int] = []
        let watcher = HypoglycaemiaWatcher(glucose: "Gs", threshold: options.hypoglycaemiaThreshold, horizon: Double(options.horizon), probability: 0.5)
        // a candidate whose filter fails (a prior so wrong that the model diverges) leaves the bank; with a single
        // prior, or when the last candidate fails, the error is thrown
        var alive = [Bool](repeating: true, count: priors.count)
        // each filter's posterior model state and memory at every reading (the start of a re-calibration window)
        var history = [[[Double]]](repeating: [], count: priors.count)
        var refits = 0, earlierResets = 0
        /// The weighted mixture of the live filters' (mean, sd) per state, in mg/dL-scaled units (state / Vg).
        func mixture(_ beliefs: [(mean: [Double], sd: [Double])?], _ w: [Double]) -> (mean: [Double], sd: [Double]) {
            let dim = filters[0].mean.count
            var m = [Double](repeating: 0, count: dim), second = m
            let total = zip(beliefs, w).reduce(0) { $0 + ($1.0 == nil ? 0 : $1.1) }
            for (i, b) in beliefs.enumerated() {
                guard let b, total > 0 else { continue }
                for j in 0..<dim {
                    let mj = b.mean[j] / volumes[i], sj = b.sd[j] / volumes[i]
                    m[j] += w[i] / total * mj
                    second[j] += w[i] / total * (sj * sj + mj * mj)
                }
            }
            return (m, zip(second, m).map { max($0 - $1 * $1, 0).squareRoot() })
        }
        func retire(_ i: Int, _ error: any Error) throws {
            alive[i] = false
            if !alive.contains(true) { throw error }
        }
        for k in stride(from: 0, to: minutes, by: options.samplingPeriod) {
            for i in filters.indices where alive[i] {
              do {
                try filters[i].predict(to: Double(k))
                // predictive likelihood of the reading under this prior (the sensor is linear: y = Gs / Vg)
                let n = filters[i].mean.count
                let predicted = filters[i].mean[12] / volumes[i]
                let variance = filters[i].covariance[12 * n + 12] / (volumes[i] * volumes[i]) + r2
                logWeights[i] = options.candidateForgetting * logWeights[i] - 0.5 * (log(2 * Double.pi * variance) + pow(cgm[k] - predicted, 2) / variance)
                try filters[i].update(with: Observation(time: Double(k), values: [cgm[k]]), model: GlucoseSensor(volume: volumes[i], standardDeviation: options.noiseStandardDeviation))
              } catch {
                try retire(i, error)
              }
            }
            if filters.count > 1 {
                let top = zip(logWeights, alive).filter(\.1).map(\.0).max() ?? 0
                let e = zip(logWeights, alive).map { $1 ? exp($0 - top) : 0 }
                let total = e.reduce(0, +)
                weights = e.map { $0 / total }
            }
            for i in filters.indices { history[i].append(Array(filters[i].mean[0..<14])) }
            if let interval = options.recalibrationInterval, k > 0, k % interval == 0 {
                let start = max(0, k - options.recalibration.window) / options.samplingPeriod * options.samplingPeriod
                let times = Array(stride(from: start + options.samplingPeriod, through: k, by: options.samplingPeriod))
                let best = filters.indices.filter { alive[$0] }.max { weights[$0] < weights[$1] }
                for i in filters.indices where alive[i] && weights[i] >= 0.01 && (!options.recalibrationAddsCandidate || i == best) {
                    let old = filters[i]
                    var base = old.process.population
                    for (j, name) in options.estimated.enumerated() {
                        GlucoseTwinProcess.set(name, GlucoseTwinProcess.value(name, in: base) * exp(old.mean[14 + j]), in: &base)
                    }
                    guard let result = try? options.recalibration.fit(
                        base: base, state: history[i][start / options.samplingPeriod], start: start, times: times, readings: times.map { cgm[$0] },
                        noiseSD: options.noiseStandardDeviation, carbohydrate: trace.carbohydrate, insulin: trace.insulin),
                        result.startCost - result.cost >= options.recalibrationMinimumGain else { continue }
                    let process = try GlucoseTwinProcess(population: result.parameters, carbohydrate: trace.carbohydrate, insulin: trace.insulin,
                                                         estimated: options.estimated, noiseRate: old.process.noiseRate)
                    let n = 14 + q
                    var p0 = [Double](repeating: 0, count: n * n)
                    for r in 0..<14 { for c in 0..<14 { p0[r * n + c] = old.covariance[r * n + c] } }
                    for j in 0..<q { p0[(14 + j) * n + 14 + j] = options.recalibratedParameterSD * options.recalibratedParameterSD }
                    let mean = (options.recalibratedState ? result.end : Array(old.mean[0..<14])) + [Double](repeating: 0, count: q)
                    guard let restarted = try? UnscentedKalmanFilter(process: process, time: Double(k), mean: mean, covariance: p0, alpha: 0.5, beta: 2, kappa: 0)
                    else { continue }
                    refits += 1
                    if options.recalibrationAddsCandidate {
                        filters.append(restarted)
                        volumes.append(volumes[i]); parent.append(parent[i]); alive.append(true)
                        history.append(history[i]); logWeights.append(logWeights[i]); weights.append(0)
                    } else {
                        earlierResets += old.resets.count
                        filters[i] = restarted
                    }
                }
            }
            filteredErrors.append(mixture(filters.indices.map { alive[$0] ? (filters[$0].mean, filters[$0].standardDeviations) : nil }, weights).mean[12] - trace.bg[k])
            let target = k + options.horizon
            guard target < minutes else { continue }
            var copies = filters
            var usable = alive
            var points: [Forecast.Point] = []
            for t in stride(from: k + options.samplingPeriod, through: target, by: options.samplingPeriod) {
                for i in copies.indices where usable[i] {
                    do { try copies[i].predict(to: Double(t)) } catch {
                        usable[i] = false
                        if !usable.contains(true) { throw error }
                    }
                }
                let (m, sd) = mixture(copies.indices.map { usable[$0] ? (copies[$0].mean, copies[$0].standardDeviations) : nil }, weights)
                points.append(Forecast.Point(time: Double(t), mean: m, standardDeviation: sd,
                                             lower: zip(m, sd).map { $0 - 1.96 * $1 }, upper: zip(m, sd).map { $0 + 1.96 * $1 }))
            }
            guard let final = points.last else { continue }
            forecastErrors.append((k, final.mean[12] - trace.bg[target]))
            persistence.append(cgm[k] - trace.bg[target])
            let forecast = Forecast(origin: Double(k), stateNames: filters[0].stateNames, level: 0.95, points: points, method: "unscented",
                                    provenance: .init(filter: filters.count > 1 ? "UKF bank of \(filters.count)" : "UKF",
                                                      model: "uva-padova-t1d-simglucose \(priors.count > 1 ? "candidate priors" : priors[0].name)", dataWindow: 0...Double(k),
                                                      observationCount: k / options.samplingPeriod + 1, seed: options.seed))
            if try watcher.evaluate(forecast) != nil {
                alerts += 1
                alertedAt.append(k)
                if trace.bg[(k + 1)...target].contains(where: { $0 < options.hypoglycaemiaThreshold }) { correct += 1 }
            }
        }
        // hypoglycaemia episodes (entries below threshold) with no alert in the preceding horizon
        var missed = 0
        var previousLow = false
        for m in 0..<minutes {
            let low = trace.bg[m] < options.hypoglycaemiaThreshold
            if low && !previousLow, !alertedAt.contains(where: { $0 < m && $0 >= m - options.horizon }) { missed += 1 }
            previousLow = low
        }
        func rms(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : (xs.reduce(0) { $0 + $1 * $1 } / Double(xs.count)).squareRoot() }
        let scored = forecastErrors.filter { $0.minute >= options.burnIn }.map(\.error)
        let cgmErrors = stride(from: 0, to: minutes, by: options.samplingPeriod).map { cgm[$0] - trace.bg[$0] }
        // the estimate: the weighted mean over the priors of each one's estimate; the prior value likewise
        let params = options.estimated.enumerated().map { (i, name) in
            (name, zip(parent, weights).reduce(0) { $0 + $1.1 * GlucoseTwinProcess.value(name, in: priors[$1.0].parameters) },
             zip(weights, filters).reduce(0) { $0 + $1.0 * GlucoseTwinProcess.value(name, in: $1.1.process.population) * exp($1.1.mean[14 + i]) })
        }
        return Report(forecastRMSE: rms(scored), forecastRMSEWholeRun: rms(forecastErrors.map(\.error)), forecasts: scored.count,
                      filteredRMSE: rms(filteredErrors), cgmRMSE: rms(cgmErrors), persistenceRMSE: rms(persistence), parameters: params,
                      hypoglycaemiaAlerts: alerts, hypoglycaemiaAlertsCorrect: correct, hypoglycaemiaEpisodesMissed: missed, resets: earlierResets + filters.reduce(0) { $0 + $1.resets.count }, recalibrations: refits)
    }
}
