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
            let members = VirtualPatient.all.filter { $0.name.hasPrefix(prefix) }
            var p = members[0].parameters
            let paths: [WritableKeyPath<UVAPadovaParameters, Double>] = [
                \.BW, \.EGPb, \.Gb, \.Ib, \.kabs, \.kmax, \.kmin, \.b, \.d, \.Vg, \.Vi, \.Ipb, \.Vmx, \.Km0, \.k2, \.k1, \.p2u, \.m1, \.m5, \.CL, \.HEb,
                \.m2, \.m4, \.m30, \.Ilb, \.ki, \.kp2, \.kp3, \.f, \.Gpb, \.ke1, \.ke2, \.Fsnc, \.Gtb, \.Vm0, \.Rdb, \.PCRb, \.kd, \.ksc, \.ka1, \.ka2,
                \.dosekempt, \.u2ss, \.isc1ss, \.isc2ss, \.kp1,
            ]
            for kp in paths { p[keyPath: kp] = members.map { $0.parameters[keyPath: kp] }.reduce(0, +) / Double(members.count) }
            var x0 = [Double](repeating: 0, count: 13)
            for a in members { for i in 0..<13 { x0[i] += a.initialState[i] / Double(members.count) } }
            name = String(prefix.dropLast()) + " population mean"
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

        public func json() -> String {
            var params: [String: Any] = [:]
            for p in parameters { params[p.name] = ["population": p.population, "estimated": p.estimated] }
            let doc: [String: Any] = [
                "forecastRMSE": forecastRMSE, "forecastRMSEWholeRun": forecastRMSEWholeRun, "forecasts": forecasts,
                "filteredRMSE": filteredRMSE, "cgmRMSE": cgmRMSE, "persistenceRMSE": persistenceRMSE, "parameters": params,
                "hypoglycaemia": ["alerts": hypoglycaemiaAlerts, "alertsCorrect": hypoglycaemiaAlertsCorrect, "episodesMissed": hypoglycaemiaEpisodesMissed],
                "covarianceResets": resets,
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
        let population = options.population.parameters, x0 = options.population.initialState
        let q = options.estimated.count
        var noise = [Double](repeating: 0, count: 14 + q)
        // per-minute random-walk sd: glucose compartments and insulin compartments a few % per hour
        for i in 0..<13 { noise[i] = options.stateNoise * max(abs(x0[i]), 1) }
        for i in 0..<q { noise[14 + i] = options.parameterNoise }
        let process = try GlucoseTwinProcess(population: population, carbohydrate: trace.carbohydrate, insulin: trace.insulin,
                                             estimated: options.estimated, noiseRate: noise)
        let sensor = GlucoseSensor(volume: population.Vg, standardDeviation: options.noiseStandardDeviation)
        var rng = SplitMixXoshiro(seed: options.seed)
        let minutes = trace.bg.count
        var cgm = [Double](repeating: .nan, count: minutes)
        for k in stride(from: 0, to: minutes, by: options.samplingPeriod) { cgm[k] = trace.bg[k] + options.noiseStandardDeviation * rng.normal() }
        // initial state: population basal state, glucose compartments scaled to the first reading
        var start = x0 + [0] + [Double](repeating: 0, count: q)
        let scale = cgm[0] / (x0[12] / population.Vg)
        for i in [3, 4, 12] { start[i] *= scale }
        var p0 = [Double](repeating: 0, count: (14 + q) * (14 + q))
        let n = 14 + q
        for i in 0..<13 { p0[i * n + i] = pow(0.3 * max(abs(start[i]), 1), 2) }
        p0[13 * n + 13] = 1
        for i in 0..<q { p0[(14 + i) * n + 14 + i] = options.parameterPriorSD * options.parameterPriorSD }
        var ukf = try UnscentedKalmanFilter(process: process, time: 0, mean: start, covariance: p0, alpha: 0.5, beta: 2, kappa: 0)
        var forecastErrors: [(minute: Int, error: Double)] = [], filteredErrors: [Double] = [], persistence: [Double] = []
        var alerts = 0, correct = 0
        var alertedAt: [Int] = []
        let watcher = HypoglycaemiaWatcher(glucose: "Gs", threshold: options.hypoglycaemiaThreshold, horizon: Double(options.horizon), probability: 0.5)
        for k in stride(from: 0, to: minutes, by: options.samplingPeriod) {
            try ukf.predict(to: Double(k))
            try ukf.update(with: Observation(time: Double(k), values: [cgm[k]]), model: sensor)
            filteredErrors.append(ukf.mean[12] / population.Vg - trace.bg[k])
            let target = k + options.horizon
            guard target < minutes else { continue }
            var copy = ukf
            var points: [Forecast.Point] = []
            for t in stride(from: k + options.samplingPeriod, through: target, by: options.samplingPeriod) {
                try copy.predict(to: Double(t))
                let m = copy.mean, sd = copy.standardDeviations
                points.append(Forecast.Point(time: Double(t), mean: m.map { $0 / population.Vg }, standardDeviation: sd.map { $0 / population.Vg },
                                             lower: zip(m, sd).map { ($0 - 1.96 * $1) / population.Vg }, upper: zip(m, sd).map { ($0 + 1.96 * $1) / population.Vg }))
            }
            forecastErrors.append((k, copy.mean[12] / population.Vg - trace.bg[target]))
            persistence.append(cgm[k] - trace.bg[target])
            let forecast = Forecast(origin: Double(k), stateNames: ukf.stateNames, level: 0.95, points: points, method: "unscented",
                                    provenance: .init(filter: "UKF", model: "uva-padova-t1d-simglucose population", dataWindow: 0...Double(k),
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
        let params = options.estimated.enumerated().map { (i, name) in
            (name, GlucoseTwinProcess.value(name, in: population), GlucoseTwinProcess.value(name, in: population) * exp(ukf.mean[14 + i]))
        }
        return Report(forecastRMSE: rms(scored), forecastRMSEWholeRun: rms(forecastErrors.map(\.error)), forecasts: scored.count,
                      filteredRMSE: rms(filteredErrors), cgmRMSE: rms(cgmErrors), persistenceRMSE: rms(persistence), parameters: params,
                      hypoglycaemiaAlerts: alerts, hypoglycaemiaAlertsCorrect: correct, hypoglycaemiaEpisodesMissed: missed, resets: ukf.resets.count)
    }
}
