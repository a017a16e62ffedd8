import ArgumentParser
import TwinBank
import TwinCore

struct AggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate", abstract: "Cohorts and populations: versioned sets of twins, explicit or by query.",
        subcommands: [Create.self, Show.self, List.self, Delete.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an aggregate from members or a query (e.g. \"kind = person and sex = female and loinc:4548-4 > 6.5 % within 365d\").")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @Option(name: .customLong("member"), parsing: .upToNextOption, help: "Member twin ids.") var members: [String] = []
        @Option(name: .customLong("where"), help: "A query over attributes and thread values.") var query: String?
        @Option(help: "A description.") var description: String?
        @OptionGroup var output: OutputOptions

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
            if output.json { try printJSON(m); return }
            print("created aggregate \(id) with \(m.members.count) member(s)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an aggregate's definition and members (with their names), now or at a commit.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @Option(help: "A commit id (or unique prefix), branch or tag.") var at: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let m = try bank.members(of: try AggregateID(id), at: at)
            if output.json { try printJSON(m); return }
            if let q = m.definition.query { print("aggregate \(id): where \(q)") } else { print("aggregate \(id): explicit members") }
            if let d = m.definition.description { print(d) }
            print("\(m.members.count) member(s)")
            for t in m.members { print("  " + labelled(t, name: try? bank.twin(t, at: at).twin.name)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the aggregates of the bank (or at a commit) with their definitions.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "A commit id (or unique prefix), branch or tag.") var at: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let all = try bank.aggregates(at: at)
            if output.json { try printJSON(all); return }
            for a in all {
                let how = a.query.map { "where \($0)" } ?? "\(a.members?.count ?? 0) explicit member(s)"
                print("\(a.id)  \(how)" + (a.description.map { "  (\($0))" } ?? ""))
            }
            if all.isEmpty { print("(no aggregates)") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an aggregate: recorded by the next commit; earlier commits keep it (aggregate show --at COMMIT).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let deleted = try bank.deleteAggregate(try AggregateID(id))
            if output.json { try printJSON(deleted); return }
            print("deleted aggregate \(id) (commit to record it; earlier commits keep it)")
        }
    }
}
