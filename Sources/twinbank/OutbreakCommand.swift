import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

/// `twinbank outbreak`: runs the agent-based outbreak model on a synthetic population and prints the daily
/// counts per state. Wiring only: parsing, then `TwinPopulation.OutbreakEnsemble` and `OutbreakReport`.
struct OutbreakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbreak",
        abstract: "Simulate an outbreak with the agent-based model (households, schools, work, community; testing, tracing, quarantine, vaccination, distancing).",
        discussion: """
        Without --scenario it runs the workload of ../shared/anchors/bench_covasim.py --full (Covasim's hybrid population and disease defaults, symptomatic testing 10 %/day with a 1-day delay, contact tracing and quarantine). The scenario and marginals formats are in README.md ("### outbreak").

        On a population twin made of members (population from-aggregate), the close contacts in the members' location pings replace the random community contacts on the days they cover (for transmission and tracing; stderr says how many were used), and the members' recorded conditions and sex change their risk of severe disease.

        Examples:
          twinbank outbreak --agents 100000 --days 180 --seed 1
          twinbank outbreak --agents 20000 --days 120 --seed 7 --runs 20 --json --plot curve.svg
          twinbank outbreak --agents 100000 --days 180 --seed 1 --runs 100 --shard 3/10 --json
          twinbank population synthesize --bank bank.sqlite --id town --size 50000 --seed 7
          twinbank outbreak --days 120 --runs 10 --bank bank.sqlite --population town --start 2026-01-01
        """
    )

    @Option(help: "Number of agents (people); default 100000, or the population of --population's twin.")
    var agents: Int?

    @Option(help: "Number of days (days 0...D are reported).")
    var days: Int = 180

    @Option(help: "Seed of the population and of the runs.")
    var seed: UInt64 = 1

    @Option(help: "Scenario file (JSON); the default scenario if omitted.")
    var scenario: String?

    @Option(help: "Marginals file (JSON: age pyramid, household, school and workplace sizes); replaces the scenario's population.")
    var marginals: String?

    @Option(help: "Number of runs (all cores); the daily counts are medians with a 5-95 % band.")
    var runs: Int = 1

    @Option(help: "Run only the K-th of M slices of the runs (K from 1), e.g. 2/8.")
    var shard: String?

    @Option(help: "Write the epidemic curve as SVG to this new file.")
    var plot: String?

    @Flag(help: "Replace an existing --plot file.")
    var force = false

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Calibrate beta first to reported daily counts: a CSV with columns day and count (days 0, 1, ...).")
    var calibrate: String?

    @Option(help: "What the --calibrate counts are: new_diagnoses (reported cases) or new_infections.")
    var calibrateSeries: CalibratedSeries = .newDiagnoses

    @OptionGroup var bankOptions: BankOptions

    @Option(help: "A population twin in --bank whose thread gets the run (daily medians of every series as predictions, with the scenario and seed).")
    var population: String?

    @Option(help: "The date of day 0 (of the predictions written with --population, and of the observed contacts' days; default: the scenario's observedContacts.start, else the first ping's UTC day when the members have pings, else today).")
    var start: String?

    func run() throws {
        if let agents, agents < 1 { throw ValidationError("--agents must be at least 1; got \(agents).") }
        guard runs >= 1, runs <= 100_000 else { throw ValidationError("--runs must be in 1...100000; got \(runs).") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be in 1...3650; got \(days).") }
        let shard = try shard.map { text throws(PopulationError) in try OutbreakShard(parsing: text) }
        if let plot { try OutputFile.checkWritable(plot, overwrite: force) }
        guard population != nil || (bankOptions.bank == nil && start == nil) else {
            throw ValidationError("--bank and --start go with --population ID (the population twin whose thread gets the run).")
        }
        // Check the bank and the twin before the long computation.
        let target: (bank: Bank, twin: TwinID, start: Instant?)?
        if let population {
            let bank = try bankOptions.open()
            let id = try TwinID(population)
            let kind = try bank.twin(id).twin.kind
            guard kind == .population else {
                throw ValidationError("--population \(population) is a \(kind) twin; give a population twin (twinbank twin create --id ID --kind population).")
            }
            target = (bank, id, try start.map { try parseInstant($0, option: "--start", bound: .instant) })
        } else {
            target = nil
        }
        var chosen = OutbreakScenario.covasimFull
        if let scenario {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: scenario)) } catch {
                throw ValidationError("cannot read the scenario file '\(scenario)': \(error.localizedDescription)")
            }
            chosen = try OutbreakScenario.parse(data)
        }
        if let marginals { chosen.marginals = try PopulationMarginals.read(file: marginals) }
        let population: SyntheticPopulation
        var pinged: ObservedCommunity?
        var dayZero = target?.start
        if let target, PopulationTwin.holdsPopulation(try target.bank.twin(target.twin).twin) {
            guard agents == nil, marginals == nil else {
                throw ValidationError("population twin \(target.twin) records its population (size, seed, marginals): drop --agents and --marginals.")
            }
            if let members = try PopulationTwin.memberPopulation(of: target.twin, in: target.bank) {
                population = members.population
                // The members' pings: their close contacts become the community layer of the days they cover.
                let contacts = try ObservedContacts.read(members, in: target.bank, criteria: try chosen.observedContacts.criteria())
                if let first = contacts.days.first {
                    dayZero = dayZero ?? chosen.observedContacts.start ?? Instant(microseconds: Int64(first) * 86_400_000_000)
                    pinged = ObservedCommunity(contacts: contacts, startDay: ObservedContacts.day(of: dayZero!))
                }
            } else {
                population = try PopulationTwin.population(of: target.twin, in: target.bank)
            }
            chosen.marginals = population.marginals
        } else {
            population = try SyntheticPopulation.generate(size: agents ?? 100_000, seed: seed, marginals: chosen.marginals)
        }
        let agentCount = population.count
        var calibration: (file: String, series: OutbreakSeries, fit: OutbreakCalibration.Fit)?
        if let calibrate {
            let series = calibrateSeries.series
            let text: String
            do { text = try String(contentsOfFile: calibrate, encoding: .utf8) } catch {
                throw ValidationError("cannot read the counts file '\(calibrate)': \(error.localizedDescription)")
            }
            let observed = try OutbreakCalibration.readDailyCounts(csv: text, name: calibrate)
            let fit = try OutbreakCalibration.fitBeta(observed: observed, series: series, population: population, scenario: chosen,
                                                      seed: seed, runs: max(runs, 4), contacts: pinged)
            chosen.disease.beta = fit.beta
            calibration = (calibrate, series, fit)
        }
        let indices = shard?.runs(of: runs) ?? 0..<runs
        let ensemble = try OutbreakEnsemble.simulate(population: population, scenario: chosen, days: days, seed: seed, runs: indices,
                                                     observed: pinged)
        let seir = try? CompartmentalOutbreak(estimating: chosen, on: population)
        let s0 = 1 - Double(min(chosen.disease.initialInfections, agentCount)) / Double(agentCount)
        var report = OutbreakReport(ensemble: ensemble, population: population, seed: seed, days: days, scenarioFile: scenario,
                                    shard: shard, totalRuns: runs,
                                    seir: seir.map { ($0.r0, CompartmentalOutbreak.finalSize(r0: $0.r0, initialSusceptibleFraction: s0)) })
        report.calibration = calibration
        if let pinged {
            report.observed = OutbreakReport.Observed(pinged, days: days)
            FileHandle.standardError.write(Data("observed contacts: \(report.observed!.summary)\n".utf8))
        }
        if let target {
            let scenarioJSON = scenario.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            let result = try OutbreakThread.write(ensemble, agents: agentCount, seed: seed, scenarioName: (scenario ?? "default") + (marginals.map { " with marginals \($0)" } ?? ""),
                                                  scenarioJSON: scenarioJSON, to: target.twin, start: dayZero ?? chosen.observedContacts.start ?? (try parseInstant("today", option: "--start", bound: .instant)), in: target.bank)
            report.written = (target.twin.rawValue, result.count)
        }
        if let plot { try OutputFile.write(report.svg, to: plot, overwrite: force) }
        print(json ? report.json : report.text)
    }
}

/// The outbreak series `outbreak --calibrate-series` fits beta to.
enum CalibratedSeries: String, CaseIterable, ExpressibleByArgument {
    case newDiagnoses = "new_diagnoses", newInfections = "new_infections"
    var series: OutbreakSeries { self == .newDiagnoses ? .newDiagnoses : .newInfections }
}
