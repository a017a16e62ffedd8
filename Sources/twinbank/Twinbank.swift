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
    /// option instead), then runs the command; a value a command rejects while running is reported as
    /// `Error: MESSAGE` (exit status 64) without the root command's usage.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let problem = SubcommandSpelling.check(arguments, root: Twinbank.self) {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        let command: any ParsableCommand
        do { command = try await asyncParseAsRoot(arguments) } catch { exit(withError: error) }
        do {
            var parsed = command
            if var asyncCommand = parsed as? AsyncParsableCommand { try await asyncCommand.run() } else { try parsed.run() }
        } catch let error as ValidationError {
            // A command rejected a value after its arguments parsed; its message names the option. ArgumentParser
            // would add the root's usage ("Usage: twinbank <subcommand>"), which points at the wrong command.
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}
