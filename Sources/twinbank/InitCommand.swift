import ArgumentParser
import TwinBank

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a new, empty bank.")
    @OptionGroup var bankOptions: BankOptions

    func run() throws {
        _ = try bankOptions.open(create: true)
        print("initialised bank \(bankOptions.path)")
    }
}
