import ArgumentParser
import TwinBank
import TwinCore

struct ForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Fork a twin at a point of its history into an instance (copy-on-write; hypothetical events go to the fork only).")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin to fork.") var twin: String
    @Option(parsing: .unconditional, help: "The fork point: an effective time (ISO 8601, now, -1d, ...).") var at: String
    @Option(help: "The new instance's id.") var name: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let record = try bank.fork(try TwinID(twin), at: try parseInstant(at, option: "--at", bound: .instant), as: try TwinID(name))
        if output.json { try printJSON(record); return }
        print("forked \(twin) at \(record.fork!.forkPoint) as \(record.id)")
    }
}

struct RetractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Retract one event, a time range of a source, or a whole source: the events leave every current view; with --erase, payloads are purged.",
        discussion: """
        One of:
          --event SEQ|ID                       one event, by its sequence number or id (thread query --json shows both)
          --source SRC --from T --to T         the events of a source with effective time in [T, T] (--twin to limit)
          --source SRC                         every event of a source, across the bank
        Times take the time grammar of every command (ISO 8601, a date: --to 2024-01-07 is the end of that day, now, -1d, ...).
        """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "One event: its sequence number or id (at least 8 hex digits).") var event: String?
    @Option(help: "The source, KIND:ID (device:cgm-7, import:labs.csv).") var source: String?
    @Option(parsing: .unconditional, help: "With --source: only events with effective time from this time (inclusive).") var from: String?
    @Option(parsing: .unconditional, help: "With --source: only events with effective time up to this time (inclusive; a date means its end).") var to: String?
    @Option(help: "With --source and a range: only this twin.") var twin: String?
    @Option(help: "Why (recorded in each affected twin's thread).") var reason: String
    @Flag(help: "Purge the payloads for privacy, keeping only tombstones with the reason.") var erase = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if event != nil, source != nil || from != nil || to != nil || twin != nil {
            throw ValidationError("--event retracts one event: do not combine it with --source, --from, --to or --twin")
        }
        if event == nil, source == nil { throw ValidationError("name what to retract: --event SEQ|ID, or --source SRC (with --from and --to for a range)") }
        if (from == nil) != (to == nil) { throw ValidationError("a range needs both --from and --to") }
        if twin != nil, from == nil { throw ValidationError("--twin limits a range: give --from and --to too") }
    }

    func run() throws {
        let bank = try bankOptions.open()
        let r: RetractionResult
        if let event {
            r = try bank.retract(event: try EventReference(parsing: event), reason: reason, erase: erase)
        } else if let source, let from, let to {
            r = try bank.retract(source: try Source(parsing: source), from: try parseInstant(from, option: "--from", bound: .lower),
                                 to: try parseInstant(to, option: "--to", bound: .upper), twin: try twin.map { try TwinID($0) },
                                 reason: reason, erase: erase)
        } else {
            r = try bank.retract(source: try Source(parsing: source!), reason: reason, erase: erase)
        }
        if output.json { try printJSON(r); return }
        let what = event != nil ? "event \(r.events.first?.hex ?? event!) from \(r.source)" : "\(r.eventsRetracted) events from \(r.source)"
        print("retracted \(what) in \(r.twins.count) twin(s)\(r.erased ? ", payloads erased" : "") (retraction sequence \(r.sequence))")
    }
}
