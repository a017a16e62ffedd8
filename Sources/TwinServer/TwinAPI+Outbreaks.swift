import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Outbreak simulations as jobs (`twinbank outbreak --json` without a bank): the settings are bounded and the scenario
/// parsed before the job is queued (400 naming the field), the gate asked `aggregate` bank-wide (a population-level
/// computation); the job runs the runs one after another (each over every core, off the cooperative pool through
/// `Bank.run`), its progress the runs done, and keeps the command's JSON report.
extension TwinAPI {
    /// The most an outbreak job may ask for.
    static let outbreakCaps = (agents: 100_000, days: 365, runs: 20)

    /// An outbreak's settings, parsed before the job is queued (and kept in the job's record).
    struct OutbreakSettings: Sendable, Codable, Hashable {
        var agents = 10_000
        var days = 90
        var runs = 1
        var seed: UInt64 = 1
        /// The scenario as given (JSON), nil for the default.
        var scenario: String?
    }

    static func outbreakSettings(_ body: S.OutbreakRequest?) throws -> OutbreakSettings {
        var s = OutbreakSettings()
        guard let body else { return s }
        func bounded(_ value: Int?, _ field: String, _ cap: Int, _ what: String) throws -> Int? {
            guard let value else { return nil }
            guard value >= 1, value <= cap else {
                throw ServerError(.badRequest, "\(field) is \(what), 1 to \(cap) on this server, not \(value)", field: field, value: String(value))
            }
            return value
        }
        s.agents = try bounded(body.agents, "agents", outbreakCaps.agents, "the number of people") ?? s.agents
        s.days = try bounded(body.days, "days", outbreakCaps.days, "the number of days") ?? s.days
        s.runs = try bounded(body.runs, "runs", outbreakCaps.runs, "the number of runs") ?? s.runs
        if let seed = body.seed {
            guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
            s.seed = UInt64(seed)
        }
        if let scenario = body.scenario {
            let data = try JSONEncoder().encode(scenario)
            do { _ = try OutbreakScenario.parse(data) } catch {
                throw ServerError(.badRequest, "scenario: \(error.message)", field: "scenario", value: error.value)
            }
            s.scenario = String(decoding: data, as: UTF8.self)
        }
        return s
    }

    func startOutbreak(_ input: Operations.StartOutbreak.Input) async throws -> Operations.StartOutbreak.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let body: S.OutbreakRequest? = if case .json(let b)? = input.body { b } else { nil }
        let settings = try Self.outbreakSettings(body)
        // the gate (and the token's role) decide now, so a refusal is a 403 rather than a failed job
        try await served.run(call) { bank in try bank.authorize(.aggregate, nil) }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, outbreak: settings)
        let job = try await served.jobs.submit(kind: .outbreak, target: "synthetic-population", owner: call.identity.subject, spec: spec,
                                               work: Self.outbreakWork(bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// An outbreak as a job's work: the population, then each run in turn (progress: runs done / runs; cancelled, it
    /// stops between runs), then the command's report.
    static func outbreakWork(bank: Bank, settings s: OutbreakSettings) -> JobQueue.Work {
        { context in
            try Task.checkCancellation()  // cancelled while queued behind others
            let scenario = try s.scenario.map { try OutbreakScenario.parse(Data($0.utf8)) } ?? OutbreakScenario.covasimFull
            let population = try await bank.run { _ in try SyntheticPopulation.generate(size: s.agents, seed: s.seed, marginals: scenario.marginals) }
            var runs: [OutbreakRun] = []
            for i in 0..<s.runs {
                try Task.checkCancellation()
                let one = try await bank.run { _ in
                    try OutbreakEnsemble.simulate(population: population, scenario: scenario, days: s.days, seed: s.seed, runs: i..<(i + 1))
                }
                runs.append(contentsOf: one.runs)
                await context(Double(i + 1) / Double(s.runs))
            }
            let seir = try? CompartmentalOutbreak(estimating: scenario, on: population)
            let s0 = 1 - Double(min(scenario.disease.initialInfections, population.count)) / Double(population.count)
            let report = OutbreakReport(ensemble: OutbreakEnsemble(runs: runs), population: population, seed: s.seed, days: s.days,
                                        scenarioFile: s.scenario == nil ? nil : "request", shard: nil, totalRuns: s.runs,
                                        seir: seir.map { ($0.r0, CompartmentalOutbreak.finalSize(r0: $0.r0, initialSusceptibleFraction: s0)) })
            await context.reported(try JSONDecoder().decode(S.OutbreakReport.self, from: Data(report.json.utf8)))
            return []
        }
    }
}
