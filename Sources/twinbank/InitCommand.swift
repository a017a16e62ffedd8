import ArgumentParser
import TwinBank
import TwinBankSQLite

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new, empty bank (an existing bank or file at the path is refused and left as it is).")
    @OptionGroup var bankOptions: BankOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable { var bank: String; var created: Bool }

    func run() throws {
        _ = try SQLiteStorage.createNew(path: bankOptions.path)
        if output.json { try printJSON(Result(bank: bankOptions.path, created: true)); return }
        print("initialised bank \(bankOptions.path)")
    }
}
