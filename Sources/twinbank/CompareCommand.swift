import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinRun

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare candidate treatments on forks of a twin over an ensemble, rank them, and record the comparison.",
        discussion: """
        --model glucose (default): a glucose twin bound to a virtual patient (virtualPatient=...); SPEC is basal=SCALE, \
        bolus=SCALE, target=MG_DL, meal=HOURS:GRAMS; ranked by time below 70 mg/dL (within 4 %), time in range, low BG index.

        --model pk: a twin with a pharmacokinetic model in its attributes (pk.clearance L/h, pk.volume L, optional \
        pk.intercompartmentalClearance, pk.peripheralVolume, pk.absorptionRate /h, pk.bioavailability; the window \
        pk.targetLow, pk.targetHigh mg/L; the drug pk.code SYSTEM:CODE whose mg doses in the thread were given by \
        pk.route iv|oral|infusion:HOURS; optional pk.levelCode SYSTEM:CODE whose measured levels calibrate clearance and \
        volume first); SPEC is dose=MG, every=HOURS, count=N, first=HOURS, route=iv|oral|infusion:HOURS \
        (empty: no further dose); ranked by time in the window minus time above it.
        """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin.") var twin: String
    @Option(help: "What the options are simulated with.") var model: ComparedModel = .glucose
    @Option(name: .customLong("option"), help: "NAME=SPEC (repeatable); SPEC depends on --model (see below).")
    var options: [String] = []
    @Option(help: "Horizon: a duration (24h, 90min, 2d; a bare number is hours).") var horizon = DurationOption<BareHours>(24)
    @Option(parsing: .unconditional, help: "Start of the comparison, in the time grammar (ISO 8601, now, -2h, ...; default: the time of the twin's latest event, to the hour).") var start: String?
    @Option(name: .customLong("known-at"), parsing: .unconditional, help: "Start from the latest estimate a synchronisation wrote as the thread knew it at this recorded time (default: now; none then: the twin's own parameters); the default --start is then the latest event known then.") var knownAt: String?
    @Option(help: "Ensemble size (plausible patients).") var ensemble: Int = 20
    @Option(help: "Seed of the ensemble.") var seed: UInt64 = 1
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let hours = horizon.value
        guard hours > 0 else { throw ValidationError(String(format: "--horizon: %gh is not a positive duration", hours)) }
        let known = try knownAt.map { try parseInstant($0, option: "--known-at", bound: .instant) }
        let bank = try await bankOptions.open()
        let id = try TwinID(twin)
        guard !options.isEmpty else { throw ValidationError("give at least one --option NAME=SPEC") }
        let from: Instant
        if let start { from = try parseInstant(start, option: "--start", bound: .instant) } else {
            guard let last = try await bank.run({ try $0.events(ThreadQuery(twin: id, knownAt: known)) }).last else {
                throw ValidationError("twin '\(twin)' has no events; give --start")
            }
            from = Instant(microseconds: last.effective.start.microseconds / 3_600_000_000 * 3_600_000_000)
        }
        if model == .pk {
            let parsed = try options.map { try DoseComparison.Option(parsing: $0) }
            let result = try await DoseComparison.compare(id, in: bank, options: parsed, start: from, hours: hours, ensemble: ensemble,
                                                       seed: seed, knownAt: known)
            if output.json { try printJSON(result); return }
            print(String(format: "dose comparison for %@ from %@ over %g h, window %g-%g mg/L, %d doses already given, %d plausible patients (seed %llu):",
                         twin, "\(from)", hours, result.window.lowerBound, result.window.upperBound, result.dosesGiven, result.ensemble, seed))
            print("started from \(result.startedFrom?.source ?? "the twin's pk.* attributes" + (result.calibration == nil ? "" : ", calibrated to its measured levels"))")
            if let c = result.calibration {
                print(String(format: "calibrated to %d measured levels: clearance %.3g -> %.3g L/h (±%.0f %%), volume %.3g -> %.3g L (±%.0f %%)",
                             c.levels, c.priorClearance, c.clearance, c.clearanceSD * 100, c.priorVolume, c.volume, c.volumeSD * 100))
            }
            for r in result.options.sorted(by: { $0.rank < $1.rank }) {
                let w = r.outcomes[.timeInWindow]!, a = r.outcomes[.timeAboveWindow]!, p = r.outcomes[.peak]!, f = r.outcomes[.final]!
                print(String(format: "  %d. %@  in window %.1f %% [%.1f-%.1f]  above %.1f %%  peak %.1f mg/L  at the end %.1f mg/L  (fork %@)",
                             r.rank, r.name, w.mean * 100, w.p05 * 100, w.p95 * 100, a.mean * 100, p.mean, f.mean, r.fork.rawValue))
            }
            print("recorded as event \(result.recordedEvent.abbreviated()) in \(twin)'s thread")
            return
        }
        let parsed = try options.map { try InSilicoComparison.Option(parsing: $0) }
        let result = try await InSilicoComparison.compare(id, in: bank, options: parsed, start: from, hours: hours,
                                                          ensemble: ensemble, seed: seed, knownAt: known)
        if output.json { try printJSON(result); return }
        print("in-silico comparison for \(twin) from \(from) over \(hours) h, \(result.ensemble) plausible patients (seed \(seed)):")
        print("started from \(result.startedFrom?.source ?? "the twin's virtualPatient")")
        for r in result.options.sorted(by: { $0.rank < $1.rank }) {
            let t = r.outcomes[.timeInRange]!, b = r.outcomes[.timeBelowRange]!, m = r.outcomes[.meanBG]!
            print(String(format: "  %d. %@  time in range %.1f %% [%.1f-%.1f]  below 70 %.1f %%  mean BG %.0f mg/dL  (fork %@)",
                         r.rank, r.name, t.mean * 100, t.p05 * 100, t.p95 * 100, b.mean * 100, m.mean, r.fork.rawValue))
        }
        print("recorded as event \(result.recordedEvent.abbreviated()) in \(twin)'s thread")
    }
}

/// The models `compare --model` simulates the options with.
enum ComparedModel: String, CaseIterable, ExpressibleByArgument {
    case glucose, pk
}
