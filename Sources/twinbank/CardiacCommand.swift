import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinRun

/// `twinbank cardiac`: the cardiac twin's data. Wiring only: `TwinRun.ECGDerivation`.
struct CardiacCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cardiac",
        abstract: "The cardiac twin's data: heart rate and its variability derived from ECG strips.",
        subcommands: [Derive.self])

    struct Derive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "derive",
            abstract: "Derive heart rate, SDNN and RMSSD from a twin's ECG strips into its thread.",
            discussion: """
            A strip is an observation whose value is a vector of samples spanning its effective period (FHIR \
            valueSampledData imports so: n samples over n x period); its sampling rate is n over the span. Strips of \
            --code are read, else every vector observation in a voltage unit. R peaks are found with NeuroKit2's \
            detector; heart rate (LOINC 8867-4), SDNN (LOINC 80404-7) and RMSSD (urn:twinbank:hrv|rmssd) are appended \
            at the strip's span, derived from it. A strip already derived is not derived again.
            Example: twinbank cardiac derive --bank b.sqlite --twin p1 --code urn:oid:2.16.840.1.113883.6.24|131329
            """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "The strips' code, SYSTEM|CODE or loinc:CODE (default: every vector observation in a voltage unit).") var code: String?
        @Option(parsing: .unconditional, help: "Strips effective from this time.") var from: String?
        @Option(parsing: .unconditional, help: "Strips effective up to this time.") var to: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let id = try TwinID(twin)
            let key = try code.map { try CodeKey(parsing: $0) }
            let start = try from.map { try parseInstant($0, option: "--from", bound: .instant) }
            let end = try to.map { try parseInstant($0, option: "--to", bound: .instant) }
            let bank = try await bankOptions.open()
            let report = try await bank.run { try ECGDerivation.derive(id, in: $0, code: key, from: start, to: end) }
            if output.json { try printJSON(report); return }
            for d in report.derived {
                print(String(format: "%@ %@ (%.1f s at %.4g Hz): %d beats, heart rate %.1f /min, SDNN %.1f ms, RMSSD %.1f ms%@",
                             d.code, d.start.iso8601, d.seconds, d.samplingRate, d.beats, d.variability.heartRate, d.variability.sdnn,
                             d.variability.rmssd, d.appended.isEmpty ? " (derived before: nothing appended)" : ""))
            }
            for s in report.skipped { print("skipped \(s.code) strip \(s.strip.description.prefix(12)): \(s.reason)") }
            if report.derived.isEmpty && report.skipped.isEmpty { print("no ECG strips in \(twin)'s thread\(code.map { " with code \($0)" } ?? "")") }
        }
    }
}
