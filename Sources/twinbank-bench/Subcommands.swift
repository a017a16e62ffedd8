import ArgumentParser

extension Bench {
    /// Every benchmark subcommand. Add one line per new benchmark type.
    static let allSubcommands: [any ParsableCommand.Type] = [
        FHIRBench.self,
        BankBench.self,
        SimulationBench.self,
        ModelsBench.self,
        SBMLBench.self,
        SyncBench.self,
        CSVImportBench.self,
    ]
}
