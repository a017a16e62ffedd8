import TwinSimulation
import Foundation
import TwinCore
import TwinModels

/// The closed-loop experiment of issue 5: a simglucose trace plays the real person; its BG, with CGM
/// noise, is assimilated every sampling period into a UVA/Padova twin whose parameters start at population
/// values (the trace's meals and insulin are given to the twin as interventions); after each update the twin
/// forecasts `horizon` minutes ahead and the forecast is scored against the noise-free truth.
public enum GlucoseSyncExperiment {
    /// A simglucose trace: one row per minute.
    ///
    /// What the twin may see and what only scores it are kept apart: the twin gets ``carbohydrate`` (the
    /// **announced** meals when the trace has `CHO_announced`), ``insulin`` and, with ``Options/readings``, one of
    /// the ``readings`` columns; ``bg`` (the noise-free truth) only scores its forecasts, and ``eatenCarbohydrate``
    /// is handed over only to the oracle (``Options/eatenMeals``). Other columns (e.g. `Vmx_factor`) are not read.
    public struct Trace: Sendable {
        /// The noise-free truth (simglucose's `BG`): what forecasts are scored against, never shown to the twin.
        public let bg: [Double]
        /// The carbohydrate the twin is told of (g/min): the trace's `CHO_announced` when it has one, else `CHO`.
        public let carbohydrate: [Double]
        public let insulin: [Double]
        /// The carbohydrate actually eaten (`CHO`) when the trace also announces meals (`CHO_announced`), else `nil`:
        /// for the oracle only.
        public let eatenCarbohydrate: [Double]?
        /// The trace's sensor columns by name (`CGM`, `CGM_Dexcom`, ...; NaN where a cell is empty or not a number).
        public let readings: [String: [Double]]

        /// Reads simglucose's CSV (`Time, BG, CGM, CHO, insulin, ...`, one row per minute) through TwinCore's
        /// ``CSVTable`` (RFC 4180: quoted fields, LF or CRLF line ends). With a `CHO_announced` column (a
        /// departing person's trace, `Scripts/glucose/departing_people.py`) the twin's meals are the announced
        /// ones and `CHO` is kept as ``eatenCarbohydrate``; columns named `CGM` or `CGM_...` are ``readings``.
        public init(csv text: String, name: String = "trace") throws {
            let table: CSVTable
            do { table = try CSVTable(text: text, name: name, separator: UInt8(ascii: ",")) } catch let e as TwinError {
                throw SyncError(.invalidArgument, e.message, value: name)
            }
            let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
            guard !header.isEmpty else { throw SyncError(.invalidArgument, "\(name) is empty.", value: name) }
            func column(_ c: String) throws -> Int {
                guard let i = header.firstIndex(of: c) else {
                    throw SyncError(.invalidArgument, "\(name) has no '\(c)' column (it has \(header.joined(separator: ", "))).", value: c)
                }
                return i
            }
            let bgi = try column("BG"), choi = try column("CHO"), insi = try column("insulin")
            let announcedi = header.firstIndex(of: "CHO_announced")
            let sensorColumns = header.indices.filter { header[$0] == "CGM" || header[$0].hasPrefix("CGM_") }
            var bg: [Double] = [], cho: [Double] = [], ins: [Double] = [], announced: [Double] = []
            var sensors = [[Double]](repeating: [], count: sensorColumns.count)
            let rows = table.records
            for (r, record) in rows.enumerated() {
                var cells = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                // simglucose leaves the inputs of the final row (the end point) empty
                if r == rows.count - 1, cells.count == header.count {
                    for i in [choi, insi] + (announcedi.map { [$0] } ?? []) where cells[i].isEmpty { cells[i] = "0" }
                }
                guard cells.count == header.count, let b = Double(cells[bgi]), let c = Double(cells[choi]), let i = Double(cells[insi]),
                      b.isFinite, c.isFinite, i.isFinite, b > 0, c >= 0, i >= 0 else {
                    throw SyncError(.invalidArgument, "row \(r + 2) of \(name) does not have a positive BG and non-negative CHO and insulin.",
                                    value: record.fields.joined(separator: ","))
                }
                if let a = announcedi {
                    guard let v = Double(cells[a]), v.isFinite, v >= 0 else {
                        throw SyncError(.invalidArgument, "row \(r + 2) of \(name) does not have a non-negative CHO_announced.", value: cells[a])
                    }
                    announced.append(v)
                }
                for (j, c) in sensorColumns.enumerated() { sensors[j].append(Double(cells[c]) ?? .nan) }
                bg.append(b); cho.append(c); ins.append(i)
            }
            guard bg.count >= 60 else { throw SyncError(.invalidArgument, "\(name) has \(bg.count) minutes; the experiment needs at least an hour.", value: String(bg.count)) }
            self.bg = bg; self.insulin = ins
            if announcedi != nil {
                carbohydrate = announced; eatenCarbohydrate = cho
            } else {
                carbohydrate = cho; eatenCarbohydrate = nil
            }
            var readings: [String: [Double]] = [:]
            for (j, c) in sensorColumns.enumerated() { readings[header[c]] = sensors[j] }
            self.readings = readings
        }

        /// A trace from per-minute arrays (e.g. a `TwinModels.GlucoseSimulator` run, which agrees with simglucose):
        /// the twin is told `carbohydrate`; `eatenCarbohydrate`, when given, is what was eaten (for the oracle).
        public init(bg: [Double], carbohydrate: [Double], insulin: [Double], eatenCarbohydrate: [Double]? = nil, readings: [String: [Double]] = [:]) {
            self.bg = bg; self.carbohydrate = carbohydrate; self.insulin = insulin
            self.eatenCarbohydrate = eatenCarbohydrate; self.readings = readings
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

        /// This prior with the person's measured body weight (kg) in place of its own; name and basal state are kept.
        public func weighing(_ kg: Double) -> Population {
            var p = parameters
            p.BW = kg
            return Population(parameters: p, initialState: initialState, name: name)
        }

        /// The group a patient name (`child#003`, `adolescent#010`, `adult#001`) belongs to; adults otherwise.
        public init(group patientName: String) {
            if patientName.hasPrefix("child#") { self = .child } else if patientName.hasPrefix("adolescent#") { self = .adolescent } else { self = .adult }
        }

        /// The mean of the named patient's age group **without that patient**: the prior of a twin whose truth is
        /// a cohort patient (it knows the person's age group, not who they are, and must not learn from them).
        /// - Throws: ``SyncError`` `invalidArgument` naming the value when it is not one of simglucose's patients.
        public static func group(without patientName: String) throws -> Population {
            try checkPatient(patientName)
            let prefix = String(patientName.prefix { $0 != "#" }) + "#"
            return Population(members: VirtualPatient.all.filter { $0.name.hasPrefix(prefix) && $0.name != patientName },
                              name: String(prefix.dropLast()) + " population mean without \(patientName)")
        }

        /// The named patient's own parameters and basal state: an **oracle** prior (a real twin never has them).
        /// - Throws: ``SyncError`` `invalidArgument` when the name is not one of simglucose's patients.
        public static func oracle(_ patientName: String) throws -> Population {
            try checkPatient(patientName)
            return Population(members: VirtualPatient.all.filter { $0.name == patientName }, name: "ORACLE \(patientName)")
        }

        /// Refuses a name that is not one of simglucose's thirty patients, naming it and the valid names.
        public static func checkPatient(_ patientName: String) throws {
            guard VirtualPatient.all.contains(where: { $0.name == patientName }) else {
                throw SyncError(.invalidArgument, "'\(patientName)' is not a patient of the simglucose cohort (adolescent#001...adolescent#010, adult#001...adult#010, child#001...child#010).",
                                value: patientName)
            }
        }

        init(prefix: String) {
            self.init(members: VirtualPatient.all.filter { $0.name.hasPrefix(prefix) }, name: String(prefix.dropLast()) + " population mean")
        }

        /// One prior per simglucose patient of the named patient's age group, **leaving that patient out** (as a
        /// real person is never among the patients their twin learns from): the candidates of
        /// ``Options/candidates``.
        /// With `acrossGroups`, every other patient of all three groups.
        public static func cohort(around patientName: String, acrossGroups: Bool = false) -> [Population] {
            let prefix = acrossGroups ? "" : String(patientName.prefix { $0 != "#" }) + "#"
            return VirtualPatient.all.filter { $0.name.hasPrefix(prefix) && $0.name != patientName }.map { Population(members: [$0], name: $0.name) }
        }

        /// simglucose's three age groups, each without the named patient: the groups whose pooled within-group
        /// covariance ``Options/covarianceGroups`` takes (29 people instead of a cohort's 9).
        public static func ageGroups(without patientName: String) -> [[Population]] {
            ["child#", "adolescent#", "adult#"].map { prefix in
                VirtualPatient.all.filter { $0.name.hasPrefix(prefix) && $0.name != patientName }.map { Population(members: [$0], name: $0.name) }
            }
        }

        /// A prior from given parameters and basal state (13 model states).
        public init(parameters: UVAPadovaParameters, initialState: [Double], name: String) {
            self.parameters = parameters; self.initialState = initialState; self.name = name
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
        /// The twin's prior (default: the adult population mean).
        public var population: Population = .adult
        /// When set, a bank of priors instead of ``population``: one UKF per candidate runs side by side and
        /// the twin's belief is their mixture, each weighted by how well it predicted the readings so far
        /// (Bayesian model averaging with forgetting, ``GlucoseFilterBank/Settings/candidateForgetting`` per
        /// reading, so the weights can move when the person's behaviour changes). Typically the other patients of
        /// the person's age group.
        public var candidates: [Population]?
        /// How the filters are set up, weighted, re-calibrated and retired (process noise, forgetting, what a
        /// refit does, plausibility); its CGM noise, estimated parameters and re-calibration come from these
        /// options (``bankSettings``).
        public var filterBank = GlucoseFilterBank.Settings()
        /// When set, every this many minutes (a multiple of the sampling period) the bank is re-calibrated from
        /// the thread window (``recalibration``; ``GlucoseFilterBank/recalibrate()``). Only readings up to now
        /// are used. `nil` (the default): no re-calibration.
        public var recalibrationInterval: Int?
        public var recalibration = GlucoseRecalibration()
        /// The person's body weight in kg, when known (it is routinely measured): every filter bank candidate takes
        /// it instead of its own (it scales the meal's glucose appearance and the insulin infusion per kg); the
        /// parameter posterior's prior is conditioned on it.
        public var bodyWeight: Double?
        /// When set (with ``candidates`` of at least two), the twin's belief is a sequential Monte Carlo posterior
        /// over the parameters with the candidates as its prior (``GlucoseParameterPosterior``) instead of the
        /// filter bank; ``filterBank`` and the re-calibration are then not used.
        public var posterior: GlucoseParameterPosterior.Settings?
        /// When set, the twin's readings are this column of the trace (``Trace/readings``: `CGM`, `CGM_Dexcom`, ...,
        /// taken every ``samplingPeriod`` minutes) instead of the truth plus white noise drawn from ``seed``; the
        /// filters still assume ``noiseStandardDeviation``.
        public var readings: String?
        /// The level of the forecast's prediction interval, whose coverage of the truth the report gives (0.9 for a
        /// 90 % interval).
        public var level = 0.95
        /// **Oracle**: the twin is given the carbohydrate actually eaten (``Trace/eatenCarbohydrate``) instead of the
        /// announced meals. A real twin never knows them; this measures the ceiling.
        public var eatenMeals = false
        /// When set (the default: it did best on the tuning people of issue 26), each forecast is combined with
        /// the last-reading forecast by their recent errors (``ForecastBlend``, scored against the readings only,
        /// never the truth); nil: the model's forecast.
        public var blend: ForecastBlend.Settings? = ForecastBlend.Settings()
        /// With ``posterior``: groups whose pooled within-group covariance is the prior's covariance (the
        /// candidates give its mean), for example the other patients of each age group.
        public var covarianceGroups: [[Population]]?
        /// The checks of whether the model still explains the readings (``ModelHealth``), run at every forecast
        /// origin on the estimator's now-cast, its recent innovations and its forecast; a forecast made while any
        /// check fires raises no hypoglycaemia alert (it is counted in ``Report/health`` instead), as the live
        /// loop writes a `model-unreliable` alert instead of such a forecast.
        public var health = ModelHealth.Settings()
        /// How meals eaten but not announced are found from the filters' gut corrections (``InferredMeal``).
        public var mealDetection = InferredMeal.Settings()
        public init() {}

        /// The filter-bank settings these options give.
        public var bankSettings: GlucoseFilterBank.Settings {
            var s = filterBank
            s.noiseStandardDeviation = noiseStandardDeviation
            s.estimated = estimated
            s.recalibration = recalibrationInterval == nil ? nil : recalibration
            return s
        }
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
        /// Candidates of the bank of priors that left it (diverged or implausible), or were restarted from their
        /// prior as the bank's last, and why.
        public let retirements: [GlucoseFilterBank.Retirement]
        /// RMSE of the last-reading forecast (the CGM reading at the origin held for `horizon` minutes) against
        /// the truth, over the same forecasts as ``forecastRMSE`` (after the burn-in).
        public var lastReadingRMSE = Double.nan
        /// ``forecastRMSE`` / ``lastReadingRMSE``: below 1 the twin beats repeating the last reading.
        public var ratio: Double { forecastRMSE / lastReadingRMSE }
        /// The fraction of the forecasts after the burn-in whose ``level`` prediction interval contains the truth.
        public var coverage = Double.nan
        /// The level of the scored prediction interval (``Options/level``).
        public var level = 0.95
        /// Every forecast's error (forecast minus truth at the target, mg/dL) by the minute it was made.
        public let forecastErrors: [(minute: Int, error: Double)]
        /// What held the twin's belief (the filter bank or the parameter posterior, as in the forecasts' provenance).
        public var estimator = ""
        /// How often the model failed to explain the readings (``Options/health``).
        public var health = HealthSummary()
        /// Meals the readings say were eaten but not (fully) announced (the filter bank only; ``InferredMeal``).
        public var inferredMeals: [InferredMeal] = []
        /// With a trace that gives the meals eaten: how the inferred unannounced meals match them (scoring only).
        public var mealDetection: MealDetection?
        /// With the parameter posterior: how many times its particles were resampled and moved, and the moves'
        /// acceptance rate.
        public var resamplings = 0
        public var acceptanceRate: Double?

        public func json() -> String {
            var params: [String: Any] = [:]
            for p in parameters { params[p.name] = ["population": p.population, "estimated": p.estimated] }
            let doc: [String: Any] = [
                "forecastRMSE": forecastRMSE, "forecastRMSEWholeRun": forecastRMSEWholeRun, "forecasts": forecasts,
                "filteredRMSE": filteredRMSE, "cgmRMSE": cgmRMSE, "persistenceRMSE": persistenceRMSE, "parameters": params,
                "hypoglycaemia": ["alerts": hypoglycaemiaAlerts, "alertsCorrect": hypoglycaemiaAlertsCorrect, "episodesMissed": hypoglycaemiaEpisodesMissed],
                "covarianceResets": resets, "recalibrations": recalibrations, "estimator": estimator, "resamplings": resamplings,
                "acceptanceRate": acceptanceRate ?? NSNull(),
                "lastReadingRMSE": lastReadingRMSE.isFinite ? lastReadingRMSE : NSNull(), "ratio": ratio.isFinite ? ratio : NSNull(),
                "coverage": coverage.isFinite ? coverage : NSNull(), "level": level,
                "modelHealth": health.jsonObject,
                "inferredMeals": inferredMeals.map { ["kind": $0.kind.rawValue, "firstMinute": $0.firstMinute, "lastMinute": $0.lastMinute,
                                                      "grams": ($0.grams * 10).rounded() / 10, "evidence": $0.evidence] as [String: Any] },
                "mealDetection": mealDetection.map { ["unannounced": $0.unannounced, "found": $0.found, "unannouncedAtLeast20g": $0.unannouncedLarge,
                                                      "foundAtLeast20g": $0.foundLarge, "inferred": $0.inferred, "correct": $0.correct] as [String: Any] } ?? NSNull(),
                "retiredCandidates": retirements.map { ["candidate": $0.candidate, "minute": $0.minute, "reason": $0.reason, "restarted": $0.restarted] as [String: Any] },
            ]
            guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]) else { return "{}" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// How often, over a run, the model failed to explain the readings: the ``ModelHealth`` checks at every
    /// forecast origin (all origins, including the burn-in).
    public struct HealthSummary: Sendable, Hashable {
        /// Forecast origins checked, and those at which at least one check fired.
        public var origins = 0
        public var unreliable = 0
        /// Origins at which each kind of finding fired (by ``ModelHealth/Finding/Kind`` raw value).
        public var findings: [String: Int] = [:]
        /// The first origin (minute) at which a check fired.
        public var firstUnreliableMinute: Int?
        /// Hypoglycaemia alerts the forecast would have raised at unreliable origins, withheld.
        public var withheldAlerts = 0
        public init() {}
        /// The fraction of origins at which the model did not explain the readings (NaN before any origin).
        public var unreliableFraction: Double { origins > 0 ? Double(unreliable) / Double(origins) : .nan }
        mutating func record(_ health: ModelHealth, minute: Int) {
            origins += 1
            guard !health.reliable else { return }
            unreliable += 1
            if firstUnreliableMinute == nil { firstUnreliableMinute = minute }
            for kind in Set(health.findings.map(\.kind)) { findings[kind.rawValue, default: 0] += 1 }
        }
        var jsonObject: [String: Any] {
            ["origins": origins, "unreliableOrigins": unreliable, "unreliableFraction": unreliableFraction.isFinite ? unreliableFraction : NSNull(),
             "findings": findings, "firstUnreliableMinute": firstUnreliableMinute ?? NSNull(), "withheldAlerts": withheldAlerts] as [String: Any]
        }
    }

    /// Inferred meals against the meals actually eaten (for scoring; the twin never sees them). A meal eaten is
    /// **unannounced** when no announced carbohydrate lies within 15 minutes of its start; it is **found** when a
    /// meal is inferred (its CUSUM fires, ``InferredMeal/lastMinute``) 0-``window`` minutes after its start. An
    /// inferred meal is **correct** when a meal was eaten 0-``window`` + 30 minutes before it fired of which at
    /// least 10 g were not announced.
    public struct MealDetection: Sendable, Hashable {
        public var unannounced = 0
        /// Of the unannounced meals, those of at least 20 g, and how many of those were found.
        public var unannouncedLarge = 0
        public var foundLarge = 0
        public var found = 0
        public var inferred = 0
        public var correct = 0
        public static let window = 60
        public init() {}

        public init(inferred meals: [InferredMeal], eaten: [Double], announced: [Double]) {
            var eatenMeals: [(start: Int, grams: Double, announced: Double)] = []
            var m = 0
            while m < eaten.count {
                guard eaten[m] > 0 else { m += 1; continue }
                var end = m, grams = 0.0
                while end < eaten.count, eaten[end] > 0 { grams += eaten[end]; end += 1 }
                let a = announced[max(m - 15, 0)..<min(end + 15, announced.count)].reduce(0, +)
                eatenMeals.append((m, grams, a))
                m = end
            }
            let unannouncedMeals = eatenMeals.filter { $0.announced == 0 }
            func isFound(_ e: (start: Int, grams: Double, announced: Double)) -> Bool { meals.contains { (0...Self.window).contains($0.lastMinute - e.start) } }
            unannounced = unannouncedMeals.count
            found = unannouncedMeals.filter(isFound).count
            unannouncedLarge = unannouncedMeals.filter { $0.grams >= 20 }.count
            foundLarge = unannouncedMeals.filter { $0.grams >= 20 && isFound($0) }.count
            inferred = meals.count
            correct = meals.filter { i in eatenMeals.contains { (0...(Self.window + 30)).contains(i.lastMinute - $0.start) && $0.grams - $0.announced >= 10 } }.count
        }

        public mutating func add(_ other: MealDetection) {
            unannounced += other.unannounced; unannouncedLarge += other.unannouncedLarge; foundLarge += other.foundLarge
            found += other.found; inferred += other.inferred; correct += other.correct
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
        var priors = options.candidates ?? [options.population]
        guard !priors.isEmpty else { throw SyncError(.invalidArgument, "the candidate priors are empty.", value: nil) }
        if let weight = options.bodyWeight {
            guard weight.isFinite, weight > 0, weight < 400 else {
                throw SyncError(.invalidArgument, "the body weight must be a positive number of kg (got \(weight)).", value: String(weight))
            }
            // the filter bank's candidates take the weight; the posterior conditions its prior on it (below)
            if options.posterior == nil { priors = priors.map { $0.weighing(weight) } }
        }
        if let interval = options.recalibrationInterval {
            guard interval > 0, interval % options.samplingPeriod == 0 else {
                throw SyncError(.invalidArgument, "the re-calibration interval must be a positive multiple of the sampling period (\(options.samplingPeriod) min).", value: String(interval))
            }
            guard options.recalibration.window >= options.samplingPeriod else {
                throw SyncError(.invalidArgument, "the re-calibration window must be at least one sampling period.", value: String(options.recalibration.window))
            }
        }
        guard options.level > 0, options.level < 1 else {
            throw SyncError(.invalidArgument, "the prediction interval's level must be between 0 and 1 (got \(options.level)).", value: String(options.level))
        }
        let minutes = trace.bg.count
        let cgm = try sensorReadings(trace, options: options)
        // what the twin is told of meals: the announced ones; the eaten ones only for the oracle
        var carbohydrate = trace.carbohydrate
        if options.eatenMeals {
            guard let eaten = trace.eatenCarbohydrate else {
                throw SyncError(.invalidArgument, "the oracle's eaten meals need a trace with both CHO (eaten) and CHO_announced columns.", value: nil)
            }
            carbohydrate = eaten
        }
        let z = inverseStandardNormal(0.5 + options.level / 2)
        var estimator = Estimator()
        if var settings = options.posterior {
            settings.noiseStandardDeviation = options.noiseStandardDeviation
            estimator.posterior = try GlucoseParameterPosterior(cohort: priors.map(\.parameters), covarianceGroups: options.covarianceGroups?.map { $0.map(\.parameters) },
                                                                bodyWeight: options.bodyWeight, carbohydrate: carbohydrate, insulin: trace.insulin, firstReading: cgm[0],
                                                                settings: settings, seed: options.seed)
        } else {
            estimator.bank = try GlucoseFilterBank(priors: priors, carbohydrate: carbohydrate, insulin: trace.insulin, minute: 0, firstReading: cgm[0],
                                                   settings: options.bankSettings)
        }
        var blender = options.blend.map { ForecastBlend(horizon: options.horizon, noiseStandardDeviation: options.noiseStandardDeviation, settings: $0) }
        var forecastErrors: [(minute: Int, error: Double)] = [], filteredErrors: [Double] = [], persistence: [Double] = []
        var scoredForecasts: [ScoredForecast] = []
        var alerts = 0, correct = 0
        var alertedAt: [Int] = []
        let watcher = HypoglycaemiaWatcher(glucose: "Gs", threshold: options.hypoglycaemiaThreshold, horizon: Double(options.horizon), probability: 0.5)
        var health = HealthSummary()
        var innovations: [ModelHealth.Innovation] = []
        let r2 = options.noiseStandardDeviation * options.noiseStandardDeviation
        for k in stride(from: 0, to: minutes, by: options.samplingPeriod) {
            if estimator.bank == nil, k > 0, let predicted = try estimator.forecast(at: [k], z: 1).first {
                // the posterior's innovation: the reading against its one-step prediction
                let sd = predicted.standardDeviation[estimator.glucoseIndex]
                innovations.append(ModelHealth.Innovation(time: Double(k), residual: cgm[k] - predicted.mean[estimator.glucoseIndex], variance: sd * sd + r2))
            }
            try estimator.assimilate(minute: k, reading: cgm[k])
            if let interval = options.recalibrationInterval, k > 0, k % interval == 0 { try estimator.recalibrate() }
            filteredErrors.append(estimator.glucose.mean - trace.bg[k])
            let target = k + options.horizon
            guard target < minutes else { continue }
            let points = try estimator.forecast(at: Array(stride(from: k + options.samplingPeriod, through: target, by: options.samplingPeriod)), z: z)
            guard let final = points.last else { continue }
            let check = ModelHealth.check(.init(output: "glucose", unit: "mg/dL", nowcast: estimator.glucose.mean, nowcastSD: estimator.glucose.sd,
                                                latestReading: cgm[k], latestReadingAge: 0, noiseSD: options.noiseStandardDeviation,
                                                innovations: Array((estimator.bank?.innovations ?? innovations).suffix(options.health.innovationWindow)),
                                                forecast: points.map { $0.mean[estimator.glucoseIndex] }), settings: options.health)
            health.record(check, minute: k)
            var mean = final.mean[estimator.glucoseIndex], lower = final.lower[estimator.glucoseIndex], upper = final.upper[estimator.glucoseIndex]
            if blender != nil {
                let c = blender!.combine(origin: k, reading: cgm[k], model: (mean, final.standardDeviation[estimator.glucoseIndex]))
                (mean, lower, upper) = (c.mean, c.mean - z * c.sd, c.mean + z * c.sd)
            }
            forecastErrors.append((k, mean - trace.bg[target]))
            persistence.append(cgm[k] - trace.bg[target])
            scoredForecasts.append(ScoredForecast(origin: k, mean: mean, lower: lower, upper: upper))
            let forecast = Forecast(origin: Double(k), stateNames: estimator.stateNames, level: options.level, points: points, method: estimator.method,
                                    provenance: .init(filter: estimator.name,
                                                      model: "uva-padova-t1d-simglucose \(priors.count > 1 ? "candidate priors" : priors[0].name)", dataWindow: 0...Double(k),
                                                      observationCount: k / options.samplingPeriod + 1, seed: options.seed))
            if try watcher.evaluate(forecast) != nil {
                guard check.reliable else { health.withheldAlerts += 1; continue }
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
        var report = Report(forecastRMSE: rms(scored), forecastRMSEWholeRun: rms(forecastErrors.map(\.error)), forecasts: scored.count,
                            filteredRMSE: rms(filteredErrors), cgmRMSE: rms(cgmErrors), persistenceRMSE: rms(persistence),
                            parameters: estimator.parameters(options.estimated),
                            hypoglycaemiaAlerts: alerts, hypoglycaemiaAlertsCorrect: correct, hypoglycaemiaEpisodesMissed: missed, resets: estimator.resets,
                            recalibrations: estimator.bank?.refits ?? 0, retirements: estimator.retirements, forecastErrors: forecastErrors)
        report.estimator = estimator.name
        report.health = health
        if let bank = estimator.bank {
            report.inferredMeals = InferredMeal.detect(innovations: bank.innovations, corrections: bank.gutCorrections, carbohydrate: carbohydrate, settings: options.mealDetection)
            if let eaten = trace.eatenCarbohydrate, !options.eatenMeals {
                report.mealDetection = MealDetection(inferred: report.inferredMeals, eaten: eaten, announced: trace.carbohydrate)
            }
        }
        let scores = score(scoredForecasts, readings: cgm, truth: trace.bg, horizon: options.horizon, burnIn: options.burnIn)
        report.lastReadingRMSE = scores.lastReadingRMSE
        report.coverage = scores.coverage
        report.level = options.level
        if let p = estimator.posterior {
            report.resamplings = p.resamplings
            report.acceptanceRate = p.proposed > 0 ? Double(p.accepted) / Double(p.proposed) : nil
        }
        return report
    }

    /// A glucose forecast made at `origin` for `origin + horizon`: its mean and prediction interval (mg/dL).
    public struct ScoredForecast: Sendable, Hashable {
        public var origin: Int
        public var mean: Double
        public var lower: Double
        public var upper: Double
        public init(origin: Int, mean: Double, lower: Double, upper: Double) {
            self.origin = origin; self.mean = mean; self.lower = lower; self.upper = upper
        }
    }

    /// How forecasts did against the truth, over those made at or after the burn-in: the forecast's RMSE, the
    /// last-reading forecast's (the reading at the origin held for the horizon), and the fraction whose interval
    /// contains the truth at the target.
    public struct Scores: Sendable, Hashable {
        public let forecastRMSE: Double
        public let lastReadingRMSE: Double
        public let coverage: Double
        public let count: Int
    }

    /// Scores `forecasts` (origins whose target `origin + horizon` is within `truth`; others are skipped) against
    /// `truth` (per minute), with `readings[origin]` as the last-reading forecast. NaN figures when none is scored.
    public static func score(_ forecasts: [ScoredForecast], readings: [Double], truth: [Double], horizon: Int, burnIn: Int) -> Scores {
        var se = 0.0, seLast = 0.0, covered = 0, n = 0
        for f in forecasts where f.origin >= burnIn && f.origin + horizon < truth.count && f.origin < readings.count {
            let t = truth[f.origin + horizon]
            se += (f.mean - t) * (f.mean - t)
            seLast += (readings[f.origin] - t) * (readings[f.origin] - t)
            if f.lower <= t, t <= f.upper { covered += 1 }
            n += 1
        }
        guard n > 0 else { return Scores(forecastRMSE: .nan, lastReadingRMSE: .nan, coverage: .nan, count: 0) }
        return Scores(forecastRMSE: (se / Double(n)).squareRoot(), lastReadingRMSE: (seLast / Double(n)).squareRoot(), coverage: Double(covered) / Double(n), count: n)
    }

    /// The CGM the twin sees every ``Options/samplingPeriod`` minutes (NaN between readings): the trace's
    /// ``Options/readings`` column when set, else the trace's BG plus Gaussian noise of
    /// ``Options/noiseStandardDeviation`` drawn from ``Options/seed``, the same for a given trace and options.
    /// - Throws: `SyncError` when the sampling period is not positive, or the readings column is missing or has
    ///   a reading that is not a positive number.
    public static func sensorReadings(_ trace: Trace, options: Options = Options()) throws -> [Double] {
        guard options.samplingPeriod > 0 else {
            throw SyncError(.invalidArgument, "the CGM sampling period must be a positive number of minutes.", value: String(options.samplingPeriod))
        }
        var cgm = [Double](repeating: .nan, count: trace.bg.count)
        if let name = options.readings {
            guard let column = trace.readings[name] else {
                throw SyncError(.invalidArgument, "the trace has no '\(name)' readings column (it has \(trace.readings.keys.sorted().joined(separator: ", "))).", value: name)
            }
            for k in stride(from: 0, to: trace.bg.count, by: options.samplingPeriod) {
                guard column[k].isFinite, column[k] > 0 else {
                    throw SyncError(.invalidArgument, "the trace's '\(name)' reading at minute \(k) is not a positive number.", value: String(column[k]))
                }
                cgm[k] = column[k]
            }
            return cgm
        }
        var rng = Xoshiro256StarStar(seed: options.seed)
        for k in stride(from: 0, to: trace.bg.count, by: options.samplingPeriod) { cgm[k] = trace.bg[k] + options.noiseStandardDeviation * rng.normal() }
        return cgm
    }

    /// The twin's belief in the experiment: a bank of filters or a parameter posterior (one of the two is set;
    /// optional chaining mutates it in place).
    struct Estimator {
        var bank: GlucoseFilterBank?
        var posterior: GlucoseParameterPosterior?

        mutating func assimilate(minute: Int, reading: Double) throws {
            try bank?.assimilate(minute: minute, reading: reading)
            try posterior?.assimilate(minute: minute, reading: reading)
        }
        mutating func recalibrate() throws { try bank?.recalibrate() }
        mutating func forecast(at minutes: [Int], z: Double) throws -> [Forecast.Point] {
            try bank?.forecast(at: minutes, z: z) ?? posterior?.forecast(at: minutes, z: z) ?? []
        }
        var glucose: (mean: Double, sd: Double) { bank?.glucose ?? posterior?.glucose ?? (.nan, .nan) }
        var glucoseIndex: Int { bank == nil ? 0 : 12 }
        var stateNames: [String] { bank?.filters[0].stateNames ?? GlucoseParameterPosterior.stateNames }
        var method: String { bank == nil ? "particles" : "unscented" }
        var name: String {
            if let b = bank { return b.filters.count > 1 ? "UKF bank of \(b.filters.count)" : "UKF" }
            return "SMC parameter posterior of \(posterior?.settings.particles ?? 0) particles (IBIS)"
        }
        func parameters(_ names: [String]) -> [(name: String, population: Double, estimated: Double)] {
            if let b = bank { return b.parameters.map { ($0.name, $0.prior, $0.estimated) } }
            return posterior?.parameters(names).map { ($0.name, $0.prior, $0.estimated) } ?? []
        }
        var resets: Int { bank?.resets ?? 0 }
        var retirements: [GlucoseFilterBank.Retirement] { bank?.retirements ?? [] }
    }
}
