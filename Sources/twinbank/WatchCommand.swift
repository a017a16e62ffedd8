import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinSync

/// `twinbank watch`: follows twins' threads and runs the glucose and/or NEWS2 watcher on each update, printing
/// each alert and recommendation as it is written. Wiring only: parsing, then `TwinSync.WatchService`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a twin's thread: on each update, forecast glucose or score NEWS2, write alerts and recommendations back, and print them as they happen.",
        discussion: """
        Sees writes by other processes (e.g. `twinbank thread append`): on a PostgreSQL bank (--bank postgres://...) it
        wakes on each committed write by any process (LISTEN/NOTIFY), with a look every --interval as a safety net; on a
        bank file it polls the bank every --interval seconds.
        Each update (append batch) with a glucose reading, meal or insulin is assimilated (UKF); the 30-minute forecast is
        written to the thread and, when hypoglycaemia is predicted, an alert and a recommendation, each derived from the
        readings and forecast behind it. A latest reading below 70 mg/dL (54: level 2) alerts on itself, whatever the model
        says, once per reading (also across `sync`). When the twin's model no longer explains the readings, its forecast is
        withheld and a `model-unreliable` alert says why. With --watcher news2, each update with a vital sign (LOINC 9279-1, 59408-5, 2708-6,
        8480-6, 8867-4, 8310-5, 8331-1, 67775-7, 3151-8, 3150-0) is scored from the latest signs within --news2-window minutes;
        a score of --news2-threshold or more, or a single red 3, writes an alert naming the score and each component and the
        RCP clinical response. With --watcher contact, each update with a close contact found by `twinbank trace --bank`
        (local:close-contact) writes an alert naming the index cases and a recommendation to quarantine for --contact-quarantine
        days after the last contact and to take a test, at most once per --contact-quiet hours for the person. After an alert, the same watcher stays quiet for --quiet minutes for that twin unless the
        alert escalates (0: alert on every update). An update is never alerted on twice, also after a restart (the watch
        resumes from what the thread holds). SIGINT/SIGTERM stop it gracefully. --once processes what is there and exits.
        With --json, each alert or recommendation is one JSON line.
        """
    )

    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin (repeat to watch several).") var twin: [String]
    @Option(help: "Time between polls of the bank (PostgreSQL: the longest wait between looks, as writes wake the watch): a duration (5s, 1min) or seconds.") var interval = DurationOption<BareSeconds>(5)
    @Flag(help: "Process what the thread holds now and exit.") var once = false
    @OptionGroup var watching: WatcherOptions
    @OptionGroup var output: OutputOptions

    struct Line: Encodable {
        var twin: String
        var watcher: String
        var update: Int64
        var category: String?
        var code: String?
        var effective: String?
        var text: String?
        var id: String?
        var sequence: Int64?
        var recorded: Instant?
        var derivedFrom: [String]?
        var error: String?
    }

    func validate() throws {
        guard !twin.isEmpty else { throw ValidationError("--twin: give the twin to watch.") }
        guard interval.span.microseconds > 0 else { throw ValidationError("--interval: must be a positive time (got \(interval.span)).") }
        try watching.validate(twins: twin)
    }

    func run() async throws {
        let bank = try await bankOptions.open()
        let command = self
        let service = try await bank.run { bank in
            try WatchService(bank: bank, twins: try command.twin.map { try TwinID($0) }, watchers: try command.watching.watchers(bank: bank, twins: command.twin),
                             interval: .milliseconds(Int64((command.interval.value * 1000).rounded())))
        }
        let json = output.json
        if once {
            let notices = try await service.runOnce()
            for n in notices { try Self.emit(n, json: json) }
            if !json && notices.isEmpty { print("no new alerts or recommendations") }
            return
        }
        if !json { print("watching \(twin.joined(separator: ", ")) every \(interval.span) (Ctrl-C to stop)") }
        try await service.serve { n in try Self.emit(n, json: json) }
    }

    static func text(_ e: Event) -> String? {
        if case .text(let t)? = e.value { return t }
        return e.value.map { "\($0)" }
    }

    static func emit(_ n: WatchNotice, json: Bool) throws {
        let e = n.event
        if json {
            let line = Line(twin: n.twin.rawValue, watcher: n.watcher, update: n.update, category: e?.category.rawValue, code: e?.code.key.description,
                            effective: e?.effective.description, text: e.flatMap(Self.text), id: e?.id.description, sequence: e?.sequence,
                            recorded: e?.recorded, derivedFrom: e?.provenance.derivedFrom.map(\.description), error: n.error)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(line) + Data("\n".utf8))
        } else if let e {
            print("\(e.effective)  \(e.category.rawValue.uppercased())  \(n.twin)  [\(n.watcher), update \(n.update)]  \(Self.text(e) ?? "")")
        } else if let error = n.error {
            print("ERROR  \(n.twin)  [\(n.watcher), update \(n.update)]  \(error)")
        }
    }
}
