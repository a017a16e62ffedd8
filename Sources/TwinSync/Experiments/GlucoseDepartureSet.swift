import Foundation
import TwinCore
import TwinModels

/// The honest evaluation of issue 26: the closed-loop experiment (``GlucoseSyncExperiment``) run on a set of
/// simglucose people who depart from the twin's model (`Scripts/glucose/departing_people.py`: meals eaten
/// differ from the announced ones, unannounced snacks, insulin sensitivity varying over the day, correlated
/// sensor noise), split into a **tune** part and a held-out **test** part by patient and meal plan.
///
/// The twin of each person is told the announced meals and the insulin and sees one sensor column; it knows the
/// person's age group (its prior is the group's mean **without** the person) and, when asked, the body weight.
/// The truth's BG only scores the forecasts. The ``Settings/oracle`` is the ceiling: the patient's own
/// parameters and the meals actually eaten (not the varying Vmx, which the twin's model holds constant).
public struct GlucoseDepartureSet: Sendable {
    /// One person of the set, as the manifest lists them.
    public struct Person: Sendable, Hashable {
        /// `adult#004-C`: patient and meal plan.
        public let name: String
        /// The simglucose patient (`adult#004`).
        public let patient: String
        public let plan: String
        /// `tune` or `test`.
        public let split: String
        /// The trace's file name inside the set's folder.
        public let file: String
        /// The patient's body weight, kg (what a twin may know of its person).
        public let bodyWeight: Double?
    }

    /// The sensors of a person's trace: the experiment's white 8 mg/dL noise and simglucose's three CGM models.
    public enum Sensor: String, Sendable, CaseIterable {
        case white, dexcom, guardianrt, navigator
        /// The trace column it reads.
        public var column: String {
            switch self {
            case .white: "CGM"
            case .dexcom: "CGM_Dexcom"
            case .guardianrt: "CGM_GuardianRT"
            case .navigator: "CGM_Navigator"
            }
        }
    }

    /// How each person's experiment is run.
    public struct Settings: Sendable {
        public var sensor: Sensor = .white
        /// **Oracle** (the ceiling): the twin starts at the person's own patient parameters and is given the meals
        /// actually eaten. A real twin has neither.
        public var oracle = false
        /// The twin knows the person's body weight (from the manifest, as from a record).
        public var knownWeight = false
        /// The experiment's options; the prior, readings column, meals and level are set per person from the
        /// settings above (level 0.9: the coverage of 90 % intervals).
        public var options = GlucoseSyncExperiment.Options()
        public init() { options.level = 0.9 }
    }

    /// One person's scores.
    public struct Row: Sendable {
        public let person: Person
        public let forecastRMSE: Double
        public let lastReadingRMSE: Double
        public let coverage: Double
        public let forecasts: Int
        /// How often the model did not explain the person's readings (the experiment's ``GlucoseSyncExperiment/HealthSummary``).
        public var health = GlucoseSyncExperiment.HealthSummary()
        /// The inferred unannounced meals against the meals eaten (nil for the oracle, which is given them).
        public var mealDetection: GlucoseSyncExperiment.MealDetection?
        public var ratio: Double { forecastRMSE / lastReadingRMSE }
    }

    /// The summary of a split: the worst and median ratio of the model's to the last reading's RMSE, and the mean
    /// coverage of the prediction intervals.
    public struct Summary: Sendable {
        public let people: Int
        public let worstRatio: Double
        public let worstPerson: String
        public let medianRatio: Double
        public let meanCoverage: Double
        public let meanForecastRMSE: Double
        public let meanLastReadingRMSE: Double
        /// People whose ratio is at most `target` (issue 26: 0.6).
        public let withinTarget: Int
        public let target: Double

        public init(_ rows: [Row], target: Double = 0.6) {
            people = rows.count
            let worst = rows.max { $0.ratio < $1.ratio }
            worstRatio = worst?.ratio ?? .nan
            worstPerson = worst?.person.name ?? ""
            let ratios = rows.map(\.ratio).sorted()
            medianRatio = ratios.isEmpty ? .nan : ratios.count % 2 == 1 ? ratios[ratios.count / 2] : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
            func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
            meanCoverage = mean(rows.map(\.coverage))
            meanForecastRMSE = mean(rows.map(\.forecastRMSE))
            meanLastReadingRMSE = mean(rows.map(\.lastReadingRMSE))
            withinTarget = rows.filter { $0.ratio <= target }.count
            self.target = target
        }
    }

    /// The set's folder.
    public let folder: URL
    /// Every person of the manifest, in its order.
    public let people: [Person]

    /// Reads `manifest.json` of a set written by `Scripts/glucose/departing_people.py`.
    /// - Throws: ``SyncError`` `invalidArgument` naming the folder or file when the manifest is missing or not a
    ///   set's manifest.
    public init(folder path: String) throws {
        folder = URL(fileURLWithPath: path)
        let url = folder.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SyncError(.invalidArgument, "\(path) has no manifest.json (write the set with Scripts/glucose/departing_people.py --out \(path)).", value: path)
        }
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let list = doc["people"] as? [[String: Any]] else {
            throw SyncError(.invalidArgument, "\(url.path) is not a departing-people manifest (no 'people' list).", value: url.path)
        }
        people = try list.enumerated().map { (i, p) in
            guard let name = p["name"] as? String, let patient = p["patient"] as? String, let plan = p["plan"] as? String,
                  let split = p["split"] as? String, let file = p["file"] as? String else {
                throw SyncError(.invalidArgument, "person \(i + 1) of \(url.path) lacks a name, patient, plan, split or file.", value: String(i + 1))
            }
            return Person(name: name, patient: patient, plan: plan, split: split, file: file, bodyWeight: p["body_weight"] as? Double)
        }
    }

    /// The people of a split (`tune` or `test`), or all of them for `nil`.
    /// - Throws: ``SyncError`` `invalidArgument` naming the split when no person is in it.
    public func people(in split: String?) throws -> [Person] {
        guard let split else { return people }
        let chosen = people.filter { $0.split == split }
        guard !chosen.isEmpty else {
            throw SyncError(.invalidArgument, "no person of the set is in split '\(split)' (it has \(Set(people.map(\.split)).sorted().joined(separator: ", "))).", value: split)
        }
        return chosen
    }

    /// A person's trace.
    public func trace(of person: Person) throws -> GlucoseSyncExperiment.Trace {
        let url = folder.appendingPathComponent(person.file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SyncError(.invalidArgument, "cannot read \(url.path) (person \(person.name) of the manifest).", value: url.path)
        }
        return try GlucoseSyncExperiment.Trace(csv: String(decoding: data, as: UTF8.self), name: url.path)
    }

    /// The options of one person's experiment: the age group's mean without the person (or the oracle), the
    /// sensor's column, the announced meals (or the eaten ones for the oracle), the weight when known.
    public func options(for person: Person, settings: Settings) throws -> GlucoseSyncExperiment.Options {
        var o = settings.options
        o.population = settings.oracle ? try .oracle(person.patient) : try .group(without: person.patient)
        o.candidates = o.candidates.map { _ in GlucoseSyncExperiment.Population.cohort(around: person.patient) }
        o.readings = settings.sensor.column
        o.eatenMeals = settings.oracle
        if settings.knownWeight {
            guard let w = person.bodyWeight else {
                throw SyncError(.invalidArgument, "the manifest gives no body weight for \(person.name).", value: person.name)
            }
            o.bodyWeight = w
        }
        return o
    }

    /// Runs the experiment on one person and scores it.
    public func run(_ person: Person, settings: Settings) async throws -> Row {
        let r = try await GlucoseSyncExperiment.run(trace(of: person), options: options(for: person, settings: settings))
        var row = Row(person: person, forecastRMSE: r.forecastRMSE, lastReadingRMSE: r.lastReadingRMSE, coverage: r.coverage, forecasts: r.forecasts)
        row.health = r.health
        row.mealDetection = r.mealDetection
        return row
    }
}
