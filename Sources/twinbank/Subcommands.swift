import ArgumentParser

extension Twinbank {
    /// Every subcommand, in the order `--help` lists them. Add one line per new command type.
    static let allSubcommands: [any ParsableCommand.Type] = [
        InitCommand.self,
        TwinCommand.self,
        ThreadCommand.self,
        ForkCommand.self,
        RetractCommand.self,
        AggregateCommand.self,
        CommitCommand.self,
        LogCommand.self,
        DiffCommand.self,
        TagCommand.self,
        BranchCommand.self,
        SwitchCommand.self,
        DemoCommand.self,
        CompareCommand.self,
        ExportCommand.self,
        ImportCommand.self,
        FHIRCommand.self,
        MatchCommand.self,
        SimulateCommand.self,
        CalibrateCommand.self,
        PEtabCommand.self,
        ExperimentCommand.self,
        SBMLCommand.self,
        SyncCommand.self,
        WatchCommand.self,
        AssignCommand.self,
        TraceCommand.self,
        OutbreakCommand.self,
        PopulationCommand.self,
        RiskCommand.self,
        ExposureCommand.self,
        ReportCommand.self,
    ]
}
