import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinRun

/// `twinbank cardiac`: the cardiac twin's data. Wiring only: `TwinRun.ECGDerivation`, `TwinRun.ArterialPressureDerivation`.
struct CardiacCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cardiac",
        abstract: "The cardiac twin's data: heart rate and its variability from ECG strips, beat-by-beat blood pressure from arterial pressure waveforms.",
        subcommands: [Derive.self])

    struct Derive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "derive",
            abstract: "Derive heart rate, SDNN and RMSSD from a twin's ECG strips, and blood pressure from its arterial pressure waveforms, into its thread.",
            discussion: """
            A strip is an observation whose value is a vector of samples spanning its effective period (FHIR \
            valueSampledData imports so: n samples over n x period); its sampling rate is n over the span. Strips of \
            --code are read, else every vector observation in a voltage unit. R peaks are found with NeuroKit2's \
            detector; heart rate (LOINC 8867-4), SDNN (LOINC 80404-7) and RMSSD (urn:twinbank:hrv|rmssd) are appended \
            at the strip's span, derived from it. A strip already derived is not derived again.
            An arterial pressure waveform (a vector in a pressure unit, mm[Hg]) gives its beats (Zong et al. 2003's onsets, \
            Sun et al. 2006's plausibility): the mean systolic (LOINC 8480-6), diastolic (8462-4) and mean arterial \
            pressure (8478-0) and the heart rate of its plausible beats at the waveform's span; with --per-beat also each \
            beat's systolic, diastolic and mean pressure at its onset.
            Example: twinbank cardiac derive --bank b.sqlite --twin p1 --code urn:oid:2.16.840.1.113883.6.24|131329
            """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "The strips' code, SYSTEM|CODE or loinc:CODE (default: every vector observation in a voltage or a pressure unit).") var code: String?
        @Option(parsing: .unconditional, help: "Strips effective from this time.") var from: String?
        @Option(parsing: .unconditional, help: "Strips effective up to this time.") var to: String?
        @Flag(name: .customLong("per-beat"), help: "Also append each plausible beat's systolic, diastolic and mean pressure of an arterial pressure waveform.") var perBeat = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let id = try TwinID(twin)
            let key = try code.map { try CodeKey(parsing: $0) }
            let start = try from.map { try parseInstant($0, option: "--from", bound: .instant) }
            let end = try to.map { try parseInstant($0, option: "--to", bound: .instant) }
            let bank = try await bankOptions.open()
            let perBeat = self.perBeat
            let (report, pressure) = try await bank.run { bank in
                (try ECGDerivation.derive(id, in: bank, code: key, from: start, to: end),
                 try ArterialPressureDerivation.derive(id, in: bank, code: key, from: start, to: end, perBeat: perBeat))
            }
            if output.json {
                struct Out: Encodable { var ecg: ECGDerivation.Report; var arterialPressure: ArterialPressureDerivation.Report }
                try printJSON(Out(ecg: report, arterialPressure: pressure))
                return
            }
            for d in report.derived {
                print(String(format: "%@ %@ (%.1f s at %.4g Hz): %d beats, heart rate %.1f /min, SDNN %.1f ms, RMSSD %.1f ms%@",
                             d.code, d.start.iso8601, d.seconds, d.samplingRate, d.beats, d.variability.heartRate, d.variability.sdnn,
                             d.variability.rmssd, d.appended.isEmpty ? " (derived before: nothing appended)" : ""))
            }
            for d in pressure.derived {
                print(String(format: "%@ %@ (%.1f s at %.4g Hz): %d beats (%d plausible), %.0f/%.0f mmHg, mean %.0f mmHg, heart rate %.1f /min%@",
                             d.code, d.start.iso8601, d.seconds, d.samplingRate, d.beats, d.plausibleBeats, d.systolic, d.diastolic, d.mean, d.heartRate,
                             d.appended.isEmpty ? " (derived before: nothing appended)" : (d.appended.count > 4 ? ", \(d.appended.count - 4) per-beat readings" : "")))
            }
            for s in report.skipped + pressure.skipped { print("skipped \(s.code) strip \(s.strip.description.prefix(12)): \(s.reason)") }
            if report.derived.isEmpty && report.skipped.isEmpty && pressure.derived.isEmpty && pressure.skipped.isEmpty {
                print("no ECG strips or arterial pressure waveforms in \(twin)'s thread\(code.map { " with code \($0)" } ?? "")")
            }
        }
    }
}
