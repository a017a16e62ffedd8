import ArgumentParser

/// The `twinbank` command. Wiring only: each subcommand parses its arguments and calls a library.
/// Subcommands live one type per file in this folder (`<Name>Command.swift`).
@main
struct Twinbank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twinbank",
        abstract: "A bank of human digital twins: threads, versions, forks, simulation and the two-way link.",
        subcommands: Twinbank.allSubcommands
    )
}
