import ArgumentParser
import TwinBank
import TwinCore

struct ForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Fork a twin at a point of its history into an instance (copy-on-write; hypothetical events go to the fork only).")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin to fork.") var twin: String
    @Option(help: "The fork point: an effective time (ISO 8601).") var at: String
    @Option(help: "The new instance's id.") var name: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let record = try bank.fork(try TwinID(twin), at: try parseInstant(at, option: "--at"), as: try TwinID(name))
        if output.json { try printJSON(record); return }
        print("forked \(twin) at \(record.fork!.forkPoint) as \(record.id)")
    }
}

struct RetractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Retract a data source across the bank: its events leave every current view; with --erase, payloads are purged.")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The source, KIND:ID (device:cgm-7, import:labs.csv).") var source: String
    @Option(help: "Why (recorded in each affected twin's thread).") var reason: String
    @Flag(help: "Purge the payloads for privacy, keeping only tombstones with the reason.") var erase = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let r = try bank.retract(source: try Source(parsing: source), reason: reason, erase: erase)
        if output.json { try printJSON(r); return }
        print("retracted \(r.eventsRetracted) events from \(r.source) in \(r.twins.count) twin(s)\(r.erased ? ", payloads erased" : "")")
    }
}
