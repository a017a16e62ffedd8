import ArgumentParser
import TwinBank
import TwinCore

struct AggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate", abstract: "Cohorts and populations: versioned sets of twins, explicit or by query.",
        subcommands: [Create.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an aggregate from members or a query (e.g. \"kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d\").")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @Option(name: .customLong("member"), parsing: .upToNextOption, help: "Member twin ids.") var members: [String] = []
        @Option(name: .customLong("where"), help: "A query over attributes and thread values.") var query: String?
        @Option(help: "A description.") var description: String?

        func validate() throws {
            if members.isEmpty == (query == nil) { throw ValidationError("give either --member ID... or --where EXPR") }
        }

        func run() throws {
            let bank = try bankOptions.open()
            let aid = try AggregateID(id)
            if let query {
                _ = try bank.createAggregate(aid, where: query, description: description)
            } else {
                _ = try bank.createAggregate(aid, members: try members.map { try TwinID($0) }, description: description)
            }
            let m = try bank.members(of: aid)
            print("created aggregate \(id) with \(m.members.count) member(s)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an aggregate's definition and members, now or at a commit.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @Option(help: "A commit id (or unique prefix), branch or tag.") var at: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let m = try bank.members(of: try AggregateID(id), at: at)
            if output.json { try printJSON(m); return }
            if let q = m.definition.query { print("aggregate \(id): where \(q)") } else { print("aggregate \(id): explicit members") }
            print("\(m.members.count) member(s)")
            for t in m.members { print("  \(t)") }
        }
    }
}
