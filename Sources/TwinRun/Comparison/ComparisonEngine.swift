import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// An option of a comparison: a named candidate treatment. Names hold letters, digits, `-` and `_` and name the
/// option's fork.
public protocol ComparisonOption: Sendable {
    var name: String { get }
}

/// A model whose treatments ``ComparisonEngine`` can compare for a twin: it binds to the twin, says where its
/// ensemble starts, turns an option into a plan, simulates members under plans, measures each simulation, and
/// says what an option's fork records. The engine owns everything the comparisons share: checking the options
/// and the horizon, the seeded ensemble, running every simulation before anything is written, the outcome
/// spreads, the ranking, the forks and the recorded recommendation with its provenance.
public protocol ComparisonModel: Sendable {
    associatedtype Option: ComparisonOption
    /// An option checked against the twin and ready to simulate.
    associatedtype Plan: Sendable
    /// One plausible patient.
    associatedtype Member: Sendable
    /// One member simulated under one plan.
    associatedtype Simulation: Sendable

    /// The longest horizon (hours) the model compares over.
    static var horizonLimit: Double { get }
    /// The largest ensemble; larger requests are cut to it.
    static var ensembleLimit: Int { get }
    /// What failed when a simulation throws something other than a ``RunError`` (`PK model`): the engine reports
    /// `modelFailed` as "<this> for '<twin>': <error>".
    static var failureContext: String { get }

    /// Binds the model to `twin` as the bank knows it, for a comparison from `settings.start` over `settings.hours`.
    /// - Throws: ``RunError`` `missingBinding` or `invalidBinding` naming what the twin lacks or holds wrongly.
    init(twin: TwinID, in bank: Bank, settings: ComparisonEngine.Settings) throws

    /// The measures computed for every simulation, in the order results list them.
    var measures: [OutcomeMeasure] { get }
    /// How options are ranked.
    var ranking: [RankingCriterion] { get }
    /// The estimate the ensemble starts from: `given` if there is one (checked against the model), else the
    /// model's default from the twin, with `variation` (a log-normal sd) where the model varies parameters.
    mutating func start(from given: ComparisonStart?, variation: Double) throws -> ComparisonStart
    /// The member with these parameter values (the start's names; others keep the twin's values).
    /// - Throws: ``RunError`` `invalidBinding` for a name the model does not know, naming it.
    func member(_ values: [String: Double]) throws -> Member
    /// Checks an option against the twin.
    /// - Throws: ``RunError`` `invalidBinding` naming the option and the offending value.
    func plan(_ option: Option) throws -> Plan
    /// Simulates every run, results in the runs' order (in parallel where the model can).
    func simulate(_ runs: [(member: Member, plan: Plan)]) async throws -> [Simulation]
    /// The value of every measure of ``measures`` for one simulation.
    func outcomes(of simulation: Simulation) -> [OutcomeMeasure: Double]
    /// What an option's fork records as its interventions (may be empty).
    func interventions(for option: Option, plan: Plan, in fork: TwinID) -> [EventDraft]
    /// The predictions an option's fork records: those of member 0 (the start's centre) under the option.
    func predictions(of simulation: Simulation) -> [PredictionWriter.Series]
    /// The run's provenance (model, version, parameters hash, solver, the events read), with `seed`.
    func provenance(seed: UInt64) -> RunProvenance
    /// One option's line of the recorded ranking (`1. usual: time in range ...`).
    func summary(of option: ComparisonEngine.OptionResult) -> String
    /// The recorded provenance notes around the engine's `common` part (ensemble, variation, horizon).
    func notes(around common: String) -> String
}

extension ComparisonModel {
    public func notes(around common: String) -> String { common }
}

/// The one comparison engine: forks of a twin, one per option, simulated over the same seeded ensemble of
/// plausible patients, ranked with their spread, and the comparison recorded in the twin's thread. See
/// ``compare(_:twin:in:options:settings:startingFrom:)``.
public enum ComparisonEngine {
    /// When and how a comparison runs.
    public struct Settings: Sendable, Hashable {
        public var start: Instant
        /// Horizon in hours.
        public var hours: Double
        /// Number of plausible patients (1 = the start's centre only); cut to the model's ``ComparisonModel/ensembleLimit``.
        public var ensemble: Int
        /// Log-normal sd of the parameters the model's default start varies.
        public var variation: Double
        public var seed: UInt64
        public init(start: Instant, hours: Double, ensemble: Int, variation: Double, seed: UInt64) {
            self.start = start; self.hours = hours; self.ensemble = ensemble; self.variation = variation; self.seed = seed
        }
    }

    /// The spread of a measure over the ensemble.
    public struct Spread: Sendable, Hashable, Codable {
        public var mean: Double
        public var p05: Double
        public var p95: Double

        /// The mean and the 5th and 95th percentiles (nearest rank) of `values` (at least one).
        init(_ values: [Double]) {
            let sorted = values.sorted()
            func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count - 1)).rounded())))] }
            self.init(mean: sorted.reduce(0, +) / Double(sorted.count), p05: q(0.05), p95: q(0.95))
        }

        public init(mean: Double, p05: Double, p95: Double) { self.mean = mean; self.p05 = p05; self.p95 = p95 }
    }

    /// One option's outcome: its fork, the spread of every measure (JSON: an object keyed by measure name) and its rank (1 = best).
    public struct OptionResult: Sendable, Hashable, Codable {
        public var name: String
        public var fork: TwinID
        public var outcomes: [OutcomeMeasure: Spread]
        public var rank: Int
        public init(name: String, fork: TwinID, outcomes: [OutcomeMeasure: Spread], rank: Int) {
            self.name = name; self.fork = fork; self.outcomes = outcomes; self.rank = rank
        }
    }

    /// What a comparison found and recorded.
    public struct Outcome: Sendable, Hashable {
        public var twin: TwinID
        public var start: Instant
        public var hours: Double
        /// Members simulated per option.
        public var ensemble: Int
        public var seed: UInt64
        /// The ranking's criteria in order (``RankingCriterion/description``).
        public var rankedBy: [String]
        /// In the order the options were given.
        public var options: [OptionResult]
        /// The recommendation event recorded in the twin's thread.
        public var recordedEvent: ContentHash
        /// The estimate the ensemble started from.
        public var startedFrom: ComparisonStart
        /// Whether ``startedFrom`` was given by the caller (not the model's default from the twin).
        public var startWasGiven: Bool
    }

    /// Code of the recorded comparison.
    public static let comparisonCode = Concept(system: "urn:twinbank", code: "in-silico-comparison", display: "in-silico treatment comparison")

    /// Compares `options` for `twin` with `model`: checks the options (at least one, distinct names) and the
    /// horizon, binds the model, draws the ensemble from `startingFrom` (or the model's default start) with
    /// `settings.seed` (the same members for every option), plans every option, runs every simulation, measures
    /// each, and ranks the options by the model's criteria on the ensemble means. Only then does it write: a fork
    /// of the twin at the start per option (`TWIN.cmpN.OPTION`, N the bank's last sequence number) holding the
    /// option's interventions and member 0's predictions, and a `recommendation` event in the twin's thread whose
    /// text is the ranking and whose provenance names the model, its version, the parameters hash, the seed, the
    /// events read (and the start's) and, in the notes, the ensemble, variation, horizon and forks.
    /// - Returns: the outcome and the bound model (for what only that model reports).
    /// - Throws: ``RunError`` `invalidBinding` for bad options, horizon, variation or start (nothing written),
    ///   the model's binding errors, `modelFailed`; bank errors.
    public static func compare<Model: ComparisonModel>(_ model: Model.Type, twin: TwinID, in bank: Bank, options: [Model.Option],
                                                       settings: Settings, startingFrom given: ComparisonStart? = nil) async throws -> (outcome: Outcome, model: Model) {
        try await BlockingWork.forbiddingOnTasks {
            try await compareOffTask(model, twin: twin, in: bank, options: options, settings: settings, startingFrom: given)
        }
    }

    /// ``compare(_:twin:in:options:settings:startingFrom:)``'s body: reads and writes the bank through ``TwinBank/Bank/run(_:)``.
    private static func compareOffTask<Model: ComparisonModel>(_ model: Model.Type, twin: TwinID, in bank: Bank, options: [Model.Option],
                                                               settings: Settings, startingFrom given: ComparisonStart?) async throws -> (outcome: Outcome, model: Model) {
        guard !options.isEmpty else { throw RunError(.invalidBinding, "give at least one option to compare", value: nil) }
        guard Set(options.map(\.name)).count == options.count else {
            throw RunError(.invalidBinding, "option names must differ", value: options.map(\.name).joined(separator: ","))
        }
        let hours = settings.hours
        guard hours.isFinite, hours > 0, hours <= Model.horizonLimit else {
            throw RunError(.invalidBinding, String(format: "horizon must be in (0, %g] hours", Model.horizonLimit), value: "\(hours)")
        }
        let variation = settings.variation
        guard variation.isFinite, variation >= 0, variation <= 2 else {
            throw RunError(.invalidBinding, "the ensemble's variation must be a log-normal sd in [0, 2]", value: "\(variation)")
        }
        if let given { try given.validate() }
        var model = try await bank.run { bank in
            try bank.authorize(.simulate, twin)
            return try Model(twin: twin, in: bank, settings: settings)
        }
        if let problem = model.ranking.lazy.compactMap(\.problem).first { throw RunError(.invalidBinding, problem, value: nil) }
        if let missing = model.ranking.flatMap(\.measures).first(where: { !model.measures.contains($0) }) {
            throw RunError(.invalidBinding, "the ranking reads '\(missing.name)', which the model does not measure", value: missing.name)
        }

        // The ensemble: the same plausible patients for every option (common random numbers).
        let start = try model.start(from: given, variation: variation)
        try start.validate()
        let size = max(1, min(settings.ensemble, Model.ensembleLimit))
        var rng = Xoshiro256StarStar(seed: settings.seed)
        let members = try start.ensemble(size, using: &rng).map { try model.member($0) }
        let plans = try options.map { try model.plan($0) }
        var runs: [(member: Model.Member, plan: Model.Plan)] = []
        for p in plans { for m in members { runs.append((m, p)) } }
        let simulations: [Model.Simulation]
        do { simulations = try await model.simulate(runs) } catch let error as RunError { throw error } catch {
            throw RunError(.modelFailed, "\(Model.failureContext) for '\(twin)': \(error)", value: twin.rawValue)
        }

        // Outcomes and ranking.
        var results: [OptionResult] = []
        for (k, o) in options.enumerated() {
            let values = (0..<size).map { model.outcomes(of: simulations[k * size + $0]) }
            var outcomes: [OutcomeMeasure: Spread] = [:]
            for m in model.measures { outcomes[m] = Spread(values.map { $0[m] ?? .nan }) }
            results.append(OptionResult(name: o.name, fork: twin, outcomes: outcomes, rank: 0))
        }
        let order = RankingCriterion.order(results.map { $0.outcomes.mapValues(\.mean) }, by: model.ranking)
        for (r, i) in order.enumerated() { results[i].rank = r + 1 }

        // Record: a fork per option with its interventions and member 0's predictions, then the comparison.
        var provenanceOfRun = model.provenance(seed: settings.seed)
        if let given { provenanceOfRun.derivedFrom += given.derivedFrom.filter { !provenanceOfRun.derivedFrom.contains($0) } }
        let run = provenanceOfRun
        let common = " ensemble=\(size) variation=\(variation) horizon=\(hours)h" + (given.map { " start=\($0.source)" } ?? "")
        let recorded = model, ranked = results, firstRuns = options.indices.map { simulations[$0 * size] }
        let (forks, appended) = try await bank.run { bank -> ([TwinID], AppendResult) in
            let tag = try bank.lastSequence()
            var forks: [TwinID] = []
            for (k, o) in options.enumerated() {
                let fork = try TwinID("\(twin.rawValue).cmp\(tag).\(o.name)")
                try bank.fork(twin, at: settings.start, as: fork)
                forks.append(fork)
                let drafts = recorded.interventions(for: o, plan: plans[k], in: fork)
                if !drafts.isEmpty { try bank.append(drafts) }
                try PredictionWriter.write(recorded.predictions(of: firstRuns[k]), to: fork, run: run, in: bank)
            }
            var provenance = run.provenance
            provenance.notes = (provenance.notes ?? "") + recorded.notes(around: common) + " forks=" + forks.map(\.rawValue).joined(separator: ",")
            var withForks = ranked
            for k in withForks.indices { withForks[k].fork = forks[k] }
            let ranking = order.map { recorded.summary(of: withForks[$0]) }.joined(separator: "; ")
            let appended = try bank.append([EventDraft(twin: twin, effective: EffectiveTime(settings.start), category: .recommendation, code: comparisonCode,
                                                       value: .text(ranking), source: run.source, provenance: provenance)])
            return (forks, appended)
        }
        for k in results.indices { results[k].fork = forks[k] }
        let outcome = Outcome(twin: twin, start: settings.start, hours: hours, ensemble: size, seed: settings.seed,
                              rankedBy: model.ranking.map(\.description), options: results, recordedEvent: appended.ids[0],
                              startedFrom: start, startWasGiven: given != nil)
        return (outcome, model)
    }
}
