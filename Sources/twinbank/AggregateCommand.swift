import ArgumentParser
import TwinBank
import TwinCore

struct AggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate", abstract: "Cohorts and populations: versioned sets of twins, explicit or by query.",
        subcommands: [Create.self, Show.self, List.self, Delete.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an aggregate from members or a query (e.g. \"kind = person and sex = female and age > 40 and loinc:4548-4 > 6.5 % within 365d\").",
            discussion: """
                A query names attributes the bank's twins have (`sex` and `gender` are one attribute), the derived \
                attributes `age` (whole years now, from birthDate) and `birthYear`, and codes with a value in some \
                thread; a number compared with values that have a unit needs its unit. A query that names anything \
                else is refused, naming it. Twins whose value is missing are neither members nor left out: the \
                command says how many. Forks and comparison instances are members only with --include-forks.
                """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate's id.") var id: String
        @Option(name: .customLong("member"), parsing: .upToNextOption, help: "Member twin ids.") var members: [String] = []
        @Option(name: .customLong("where"), help: "A query over attributes and thread values.") var query: String?
        @Option(help: "A description.") var description: String?
        @Flag(help: "Redefine the aggregate if one with this id exists (otherwise an existing id is refused).") var replace = false
        @Flag(help: "Let forks and comparison instances (twins made by fork or compare) be members of the query.") var includeForks = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if members.isEmpty == (query == nil) { throw ValidationError("give either --member ID... or --where EXPR") }
            if includeForks && query == nil { throw ValidationError("--include-forks applies to --where EXPR (--member names its twins, forks too)") }
        }

        func run() throws {
            let bank = try bankOptions.open()
            let aid = try AggregateID(id)
            let existed = try bank.aggregateIDs().contains(aid)
            if let query {
                _ = try bank.createAggregate(aid, where: query, description: description, includeForks: includeForks, replace: replace)
            } else {
                _ = try bank.createAggregate(aid, members: try members.map { try TwinID($0) }, description: description, replace: replace)
            }
            let m = try bank.members(of: aid)
            if output.json { try printJSON(m); return }
            print("\(existed ? "replaced" : "created") aggregate \(id) with \(m.members.count) member(s)")
            if !m.unknown.isEmpty {
                let why = m.unknownByOperand.map { "\($0.operand) (\($0.twins))" }.joined(separator: ", ")
                print("\(m.unknown.count) twin(s) unknown, not members: no value for \(why)")
            }
            if m.forksExcluded > 0 {
                print("\(m.forksExcluded) fork(s) or comparison instance(s) not counted (--include-forks to count them)")
            }
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
