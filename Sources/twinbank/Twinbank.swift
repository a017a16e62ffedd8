import ArgumentParser
import Foundation
import TwinCore

/// The `twinbank` command. Wiring only: each subcommand parses its arguments and calls a library.
/// Subcommands live one type per file in this folder (`<Name>Command.swift`).
@main
struct Twinbank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twinbank",
        abstract: "A bank of human digital twins: threads, versions, forks, simulation and the two-way link.",
        version: TwinbankVersion.current,
        subcommands: Twinbank.allSubcommands
    )

    /// Names a mistyped subcommand as such before ArgumentParser parses (which would complain about the first
    /// option instead), then runs the command.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let problem = SubcommandSpelling.check(arguments, root: Twinbank.self) {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(arguments)
    }
}
