import ArgumentParser
import TwinBank
import TwinBankAccess

/// `twinbank migrate`: brings a bank's schema to this version's (opening a bank does it too; this runs it on its own,
/// e.g. before starting several processes on one PostgreSQL bank).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations a bank lacks (a file or a postgres:// database; none is created) and list them; a bank written by a newer version is refused and left as it is.")
    @Option(name: .long, help: "The bank: a file or a postgres:// URL (default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?
    @OptionGroup var output: OutputOptions

    struct Result: Encodable { var bank: String; var applied: [String] }

    func run() throws {
        let location = try BankLocation(bank ?? BankOptions.defaultPath)
        let applied = try location.migrate()
        if output.json { try printJSON(Result(bank: location.description, applied: applied)); return }
        if applied.isEmpty { print("\(location): the schema is current") } else {
            print("\(location): applied \(applied.joined(separator: ", "))")
        }
    }
}
