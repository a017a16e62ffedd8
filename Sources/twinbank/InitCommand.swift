import ArgumentParser
import TwinBank
import TwinBankAccess
import TwinGovernance

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new, empty bank: a file, or the schema in an empty PostgreSQL database (an existing bank, file or database with tables is refused and left as it is); the acting actor (--actor) is its admin.")
    @OptionGroup var bankOptions: BankOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable { var bank: String; var created: Bool }

    func run() throws {
        let location = try BankLocation(bankOptions.path)
        let storage = try location.createNew().storage
        // the creator is the bank's admin: the owner of the default policy, recorded outside version control (so
        // the new bank has no uncommitted change); the first policy change stores the policy itself
        let owner = bankOptions.actor
        try storage.write { try $0.setRef(BankGovernanceStore.ownerRef, owner) }
        if output.json { try printJSON(Result(bank: location.description, created: true)); return }
        print("initialised bank \(location)")
    }
}
