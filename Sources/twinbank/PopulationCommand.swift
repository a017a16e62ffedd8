import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation

/// `twinbank population synthesize`: draws a synthetic population and records it as a population twin.
/// Wiring only: parsing, then `TwinPopulation.PopulationTwin`.
struct PopulationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "Population twins: synthetic populations drawn from marginal distributions, or an aggregate's real members.",
        subcommands: [Synthesize.self, FromAggregate.self, Stats.self]
    )

    struct Synthesize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a synthetic population (seeded) and record it as a population twin: size, seed, marginals and summary statistics.",
            discussion: """
            The population is not stored person by person: the twin records what redraws it exactly. Then
            `twinbank outbreak --bank B --population ID` simulates on it and writes the run to its thread.
            Example:
              twinbank population synthesize --bank bank.sqlite --id town --size 50000 --seed 7 [--marginals marginals.json]
            """
        )
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The population twin's id.") var id: String
        @Option(help: "Number of people.") var size: Int
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(help: "Marginals file (JSON; the format in README.md, ### outbreak); Covasim's hybrid population if omitted.") var marginals: String?
        @Flag(help: "Replace the population of an existing population twin (its thread is kept).") var replace = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let m = try marginals.map(PopulationMarginals.read(file:)) ?? PopulationMarginals.covasimHybrid
            let bank = try bankOptions.open()
            let twin = try TwinID(id)
            let population = try PopulationTwin.synthesize(in: bank, id: twin, size: size, seed: seed, marginals: m, replace: replace)
            let summary = PopulationTwin.summary(population)
            if json {
                var fields = ["\"id\": \"\(twin.rawValue)\"", "\"size\": \(population.count)", "\"seed\": \(seed)"]
                fields += summary.map { "\"\($0.0)\": \($0.1)" }
                print("{" + fields.joined(separator: ", ") + "}")
            } else {
                print("population twin \(twin): \(population.count) people, seed \(seed)")
                print(summary.map { "\($0.0) \($0.1 == $0.1.rounded() ? String(Int($0.1)) : String($0.1))" }.joined(separator: ", "))
            }
        }
    }

    struct FromAggregate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-aggregate",
            abstract: "Make a population twin whose people are an aggregate's person twins, each with its own attributes.",
            discussion: """
            Each member keeps its age (from birthDate, at --as-of), sex, household, school and workplace (the
            attributes household, school, workplace: members with equal values share the place; a member
            without a household lives alone), home location (home_lat/home_lon) and conditions. Members that
            are not person twins or have no birthDate are left out and counted. The twin records the member ids,
            so `twinbank outbreak --bank B --population ID` runs on exactly these people (README: ### population).
            Example:
              twinbank population from-aggregate --bank bank.sqlite --aggregate ward-7 --id ward-7-people --seed 3
              twinbank outbreak --bank bank.sqlite --population ward-7-people --days 90 --runs 10
            """
        )
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate whose members become the population.") var aggregate: String
        @Option(help: "The population twin's id.") var id: String
        @Option(help: "Seed of the school, work and community contacts.") var seed: UInt64 = 1
        @Option(help: "When membership and ages are taken (default: now).") var asOf: String?
        @Option(help: "Marginals file (JSON) for the contact numbers of schools, workplaces and the community; Covasim's hybrid values if omitted.") var marginals: String?
        @Flag(help: "Replace the population of an existing population twin (its thread is kept).") var replace = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let m = try marginals.map(PopulationMarginals.read(file:)) ?? PopulationMarginals.covasimHybrid
            let bank = try bankOptions.open()
            let twin = try TwinID(id)
            let when = try asOf.map { try parseInstant($0, option: "--as-of", bound: .instant) }
            let built = try PopulationTwin.fromAggregate(try AggregateID(aggregate), in: bank, id: twin, seed: seed, asOf: when, marginals: m, replace: replace)
            let summary = PopulationTwin.summary(built.population)
            let located = built.home.filter { $0 != nil }.count
            let withConditions = built.conditions.filter { !$0.isEmpty }.count
            let skippedJSON = built.skipped.map { (id: TwinID) -> String in "\"" + id.rawValue + "\"" }.joined(separator: ", ")
            if json {
                var fields = ["\"id\": \"\(twin.rawValue)\"", "\"aggregate\": \"\(aggregate)\"", "\"size\": \(built.population.count)",
                              "\"seed\": \(seed)", "\"as_of\": \"\(built.asOf.iso8601)\"", "\"own_households\": \(built.ownHouseholds)",
                              "\"located\": \(located)", "\"with_conditions\": \(withConditions)",
                              "\"skipped\": [" + skippedJSON + "]"]
                fields += summary.map { "\"\($0.0)\": \($0.1)" }
                print("{" + fields.joined(separator: ", ") + "}")
            } else {
                print("population twin \(twin): \(built.population.count) members of aggregate \(aggregate) as of \(built.asOf.iso8601)")
                var line = "\(built.ownHouseholds) living alone (no household attribute), \(located) with a home location, \(withConditions) with conditions"
                if !built.skipped.isEmpty {
                    let names: [String] = built.skipped.prefix(10).map { (id: TwinID) -> String in id.rawValue }
                    line += "; \(built.skipped.count) left out (not persons or no birthDate): " + names.joined(separator: ", ")
                }
                print(line)
                print(summary.map { "\($0.0) \($0.1 == $0.1.rounded() ? String(Int($0.1)) : String($0.1))" }.joined(separator: ", "))
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summary statistics of an aggregate over time from its members' threads: per period, the members with a value of a code, the values, and their mean, minimum and maximum.",
            discussion: """
            Examples:
              twinbank population stats --bank bank.sqlite --aggregate women-a1c-over-7 --code loinc:2339-0 --every 1d
              twinbank population stats --bank bank.sqlite --aggregate ward-7 --code local:case.confirmed --every 7d --json
            """
        )
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate (its current members).") var aggregate: String
        @Option(help: "The code, SYSTEM:CODE (loinc:2339-0).") var code: String
        @Option(help: "The period: 7d, 1w, 12h, 30min or 1mo (calendar months).") var every: String = "7d"
        @Option(help: "From this time (default: the period of the first value).") var from: String?
        @Option(help: "Up to this time (default: the last value).") var to: String?
        @Flag(help: "Print JSON.") var json = false

        struct Report: Encodable {
            struct Row: Encodable { var start: String; var end: String; var members: Int; var values: Int; var mean: Double?; var min: Double?; var max: Double? }
            var aggregate: String; var code: String; var every: String; var members: Int; var unit: String?; var periods: [Row]
        }

        func run() throws {
            let period = try AggregateStatistics.Every(parsing: every)
            let key = try Concept(parsing: code).key
            let bank = try bankOptions.open()
            let result = try AggregateStatistics.series(of: try AggregateID(aggregate), in: bank, code: key, every: period,
                                                        from: try from.map { try parseInstant($0, option: "--from", bound: .instant) },
                                                        to: try to.map { try parseInstant($0, option: "--to", bound: .instant) })
            let rows = result.periods.map { p in
                Report.Row(start: p.start.iso8601, end: p.end.iso8601, members: p.members, values: p.values, mean: p.mean, min: p.minimum, max: p.maximum)
            }
            if json {
                try printJSON(Report(aggregate: aggregate, code: code, every: period.description, members: result.members, unit: result.unit, periods: rows))
                return
            }
            print("aggregate \(aggregate): \(result.members) members; \(code) per \(period)\(result.unit.map { " (\($0))" } ?? "")")
            if rows.isEmpty { print("no member has a value of \(code)"); return }
            print("start\tmembers\tvalues\tmean\tmin\tmax")
            for r in rows {
                let cells: [String] = [r.start, String(r.members), String(r.values)] + [r.mean, r.min, r.max].map { $0.map { Value.format($0) } ?? "-" }
                print(cells.joined(separator: "\t"))
            }
        }
    }
}

extension PopulationMarginals {
    /// The marginals file given on the command line (JSON, README ### outbreak); an unreadable file is a usage
    /// error naming it, a malformed one the library's error naming the key.
    static func read(file: String) throws -> PopulationMarginals {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw ValidationError("cannot read the marginals file '\(file)': \(error.localizedDescription)")
        }
        return try PopulationMarginals.parse(data)
    }
}
