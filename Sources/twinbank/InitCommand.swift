import ArgumentParser
import TwinBank
import TwinBankSQLite
import TwinGovernance

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new, empty bank (an existing bank or file at the path is refused and left as it is); the acting actor (--actor) is its admin.")
    @OptionGroup var bankOptions: BankOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable { var bank: String; var created: Bool }

    func run() throws {
        let storage = try SQLiteStorage.createNew(path: bankOptions.path)
        // the creator is the bank's admin: the owner of the default policy, recorded outside version control (so
        // the new bank has no uncommitted change); the first policy change stores the policy itself
        let owner = bankOptions.actor
        try storage.write { try $0.setRef(BankGovernanceStore.ownerRef, owner) }
        if output.json { try printJSON(Result(bank: bankOptions.path, created: true)); return }
        print("initialised bank \(bankOptions.path)")
    }
}
