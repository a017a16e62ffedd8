import ArgumentParser
import Foundation
import TwinCore
import TwinPopulation

/// `twinbank population synthesize`: draws a synthetic population and records it as a population twin.
/// Wiring only: parsing, then `TwinPopulation.PopulationTwin`.
struct PopulationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "Population twins: synthetic populations drawn from marginal distributions.",
        subcommands: [Synthesize.self]
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
            var m = PopulationMarginals.covasimHybrid
            if let marginals {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: marginals)) } catch {
                    throw ValidationError("cannot read the marginals file '\(marginals)': \(error.localizedDescription)")
                }
                m = try PopulationMarginals.parse(data)
            }
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
}
