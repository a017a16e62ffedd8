import ArgumentParser

extension Bench {
    /// Every benchmark subcommand. Add one line per new benchmark type.
    static let allSubcommands: [any ParsableCommand.Type] = [
        BankBench.self,
        SimulationBench.self,
        ModelsBench.self,
        SBMLBench.self,
    ]
}
