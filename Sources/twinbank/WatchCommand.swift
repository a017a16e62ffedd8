import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinSync

/// `twinbank watch`: follows twins' threads and runs the glucose watcher on each update, printing each alert
/// and recommendation as it is written. Wiring only: parsing, then `TwinSync.WatchService`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a twin's thread: on each update, forecast glucose, write alerts and recommendations back, and print them as they happen.",
        discussion: """
        Polls the bank every --interval seconds, so writes by other processes (e.g. `twinbank thread append`) are seen.
        Each update (append batch) with a glucose reading, meal or insulin is assimilated (UKF); the 30-minute forecast is
        written to the thread and, when hypoglycaemia is predicted, an alert and a recommendation, each derived from the
        readings and forecast behind it. An update is never alerted on twice, also after a restart (the watch resumes from
        what the thread holds). SIGINT/SIGTERM stop it gracefully. --once processes what is there and exits.
        With --json, each alert or recommendation is one JSON line.
        """
    )

    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin (repeat to watch several).") var twin: [String]
    @Option(help: "Seconds between polls of the bank.") var interval: Double = 5
    @Flag(help: "Process what the thread holds now and exit.") var once = false
    @Option(name: .customLong("noise-sd"), help: "CGM noise standard deviation, mg/dL.") var noiseSD: Double = 8
    @Option(help: "Seed of the ensemble filter's draws (recorded in the provenance).") var seed: UInt64 = 1
    @Option(help: "Prior: twin (the twin's virtualPatient, else the adult population) or population (its age group's mean).") var prior: String = "twin"
    @Option(help: "Assimilate with an ensemble Kalman filter of this many members (seeded) instead of the UKF.") var ensemble: Int?
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
        guard interval > 0, interval.isFinite else { throw ValidationError("--interval: must be a positive number of seconds (got \(interval)).") }
        guard GlucoseSynchroniser.Prior(rawValue: prior) != nil else { throw ValidationError("--prior: must be twin or population (got '\(prior)').") }
        if let ensemble, ensemble < 2 || ensemble > 10_000 { throw ValidationError("--ensemble: needs 2 to 10000 members (got \(ensemble)).") }
    }

    func run() async throws {
        let bank = try bankOptions.open()
        var options = GlucoseSynchroniser.Options()
        options.cgmNoiseStandardDeviation = noiseSD
        options.seed = seed
        options.prior = GlucoseSynchroniser.Prior(rawValue: prior) ?? .twin
        if let ensemble { options.filter = .ensemble(members: ensemble) }
        let service = try WatchService(bank: bank, twins: try twin.map { try TwinID($0) }, watchers: [GlucoseForecastWatcher(options: options)],
                                       interval: .milliseconds(Int64((interval * 1000).rounded())))
        let json = output.json
        if once {
            let notices = try await service.runOnce()
            for n in notices { try Self.emit(n, json: json) }
            if !json && notices.isEmpty { print("no new alerts or recommendations") }
            return
        }
        if !json { print("watching \(twin.joined(separator: ", ")) every \(interval) s (Ctrl-C to stop)") }
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
