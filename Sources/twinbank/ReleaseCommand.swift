import ArgumentParser
import Foundation
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
import TwinGovernance

/// `twinbank release`: a de-identified, k-anonymous release of an aggregate's members (logic in TwinGovernance's
/// `Release`, `SafeHarbor`, `KAnonymity`).
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Write a de-identified (Safe Harbor), k-anonymous release of an aggregate's members (CSV or FHIR Bundle JSON).",
        discussion: """
            Each member is released under a keyed pseudonym (HMAC-SHA256 with the key in --key-file, default \
            BANK.keys/pseudonym.key, created owner-only on first use), with only the quasi-identifiers and the \
            sensitive attribute, generalised (birth year -> 5-year band -> 10-year band -> *, zip3 -> zip2 -> *, \
            others -> *) and suppressed (at most --max-suppression of the records) until every class has --k \
            members (and --l distinct values of --sensitive). The output format follows the extension: .csv, else \
            a FHIR Bundle (.json). An existing file is replaced only with --force, atomically.
            """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The aggregate to release.") var aggregate: String
    @Option(help: "Every class must have at least k members.") var k: Int
    @Option(help: "Every class must have at least l distinct values of --sensitive.") var l: Int?
    @Option(help: "The sensitive attribute for l-diversity (released unchanged).") var sensitive: String?
    @Option(help: "Quasi-identifiers, comma-separated (birthYear, sex, zip3, state or any attribute).") var quasi: String = "birthYear,sex,zip3"
    @Option(help: "The largest fraction of records that may be suppressed.") var maxSuppression: Double = 0.05
    @Option(help: "The release file (.csv, or .json for a FHIR Bundle).") var out: String
    @Option(help: "The pseudonym key file (default: BANK.keys/pseudonym.key).") var keyFile: String?
    @Flag(help: "Also release each member's clinical records, de-identified (FHIR Bundle .json only).") var records = false
    @Flag(help: "Replace an existing output file.") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        if records && out.lowercased().hasSuffix(".csv") {
            throw ValidationError("--records writes a FHIR Bundle: give --out a .json path, not '\(out)'")
        }
        try OutputFile.checkWritable(out, overwrite: force)
        let quasiIdentifiers = quasi.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let anonymity = try KAnonymity(k: k, quasiIdentifiers: quasiIdentifiers, l: l, sensitive: sensitive, maxSuppression: maxSuppression)
        let bank = try bankOptions.open()
        let key = try PseudonymKey.loadOrCreate(at: keyFile ?? PseudonymKey.defaultPath(forBank: try BankLocation(bankOptions.path).keyBase()))
        let result: KAnonymityResult
        var resources: Int? = nil
        if records {
            let r = try FHIRRelease.bundle(bank: bank, aggregate: try AggregateID(aggregate), key: key, anonymity: anonymity)
            try OutputFile.write(r.bundle, to: out, overwrite: force)
            result = r.result
            resources = r.resources
        } else {
            result = try Release.make(bank: bank, aggregate: try AggregateID(aggregate), key: key, anonymity: anonymity)
            let columns = quasiIdentifiers + [sensitive].compactMap { $0 }
            if out.lowercased().hasSuffix(".csv") {
                try OutputFile.write(Release.csv(result.records, columns: columns), to: out, overwrite: force)
            } else {
                try OutputFile.write(try Release.fhirBundle(result.records), to: out, overwrite: force)
            }
        }
        if output.json { try printJSON(result.report); return }
        let r = result.report
        func line(_ s: ClassStatistics) -> String {
            "\(s.records) records, \(s.classes) classes, smallest \(s.smallestClass), \(s.unique) unique"
        }
        print("released \(r.after.records) of \(r.before.records) members of \(aggregate) to \(out)" + (resources.map { " (\($0) FHIR resources with their clinical records)" } ?? ""))
        if result.refused > 0 { print("left out: \(result.refused) member\(result.refused == 1 ? "" : "s") whose consent or the policy refuses this release") }
        print("quasi-identifiers: \(r.quasiIdentifiers.joined(separator: ", "))" + (r.sensitive.map { "; sensitive: \($0) (l = \(r.l ?? 1))" } ?? ""))
        print("before: \(line(r.before))")
        print("after:  \(line(r.after)) (k = \(r.k))")
        print("levels: " + r.levels.map { "\($0.attribute) \($0.name)" }.joined(separator: ", "))
        print("suppressed: \(r.suppressed) (at most \(r.maxSuppressed)); information loss \(String(format: "%.3f", r.informationLoss))")
    }
}
