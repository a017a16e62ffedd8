import ArgumentParser

extension Bench {
    /// Every benchmark subcommand. Add one line per new benchmark type.
    static let allSubcommands: [any ParsableCommand.Type] = [
        FHIRBench.self,
        BankBench.self,
        AggregateBench.self,
        SimulationBench.self,
        ModelsBench.self,
        SBMLBench.self,
        SyncBench.self,
        AssignBench.self,
        TraceBench.self,
        OutbreakBench.self,
        RiskBench.self,
        CSVImportBench.self,
        PEtabBench.self,
        DeparturesBench.self,
        AuditBench.self,
        GovernanceBench.self,
        PostgresBench.self,
        ServerBench.self,
        LiveBench.self,
        PagesBench.self,
    ]
}
