import ArgumentParser

extension Twinbank {
    /// Every subcommand, in the order `--help` lists them. Add one line per new command type.
    static let allSubcommands: [any ParsableCommand.Type] = [
        SimulateCommand.self,
        SBMLCommand.self,
    ]
}
