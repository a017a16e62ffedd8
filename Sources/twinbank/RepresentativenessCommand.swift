import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinGovernance

/// `twinbank representativeness`: an aggregate's groups against a reference (logic in TwinGovernance's
/// `Representativeness`).
struct RepresentativenessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "representativeness",
        abstract: "Compare an aggregate's age bands, sex, race, ethnicity, region and conditions with a reference aggregate or a table of marginals.",
        discussion: """
            Per group: its share in the aggregate and in the reference, their ratio, and a flag: 'absent' (no member \
            while the reference has 1 % or more) or 'under' (the upper end of the 95 % Wilson interval of the share \
            is below --threshold times the reference share). The marginals file has lines attribute,value,share.
            """)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The aggregate assessed.") var aggregate: String
    @Option(help: "A reference aggregate.") var reference: String?
    @Option(help: "A CSV of reference marginals (attribute,value,share).") var marginals: String?
    @Option(help: "Condition codes to compare, comma-separated (e.g. snomed:44054006).") var conditions: String?
    @Option(help: "Under-represented below this ratio.") var threshold: Double = 0.5
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (reference == nil) == (marginals == nil) { throw ValidationError("give either --reference ID or --marginals FILE") }
        if !(threshold > 0 && threshold <= 1) { throw ValidationError("--threshold must be in (0, 1], not \(threshold)") }
    }

    func run() throws {
        let bank = try bankOptions.open()
        let codes = conditions.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        let refShares: Representativeness.Marginals
        if let marginals {
            let text: String
            do { text = try String(contentsOfFile: marginals, encoding: .utf8) } catch {
                throw ValidationError("--marginals: cannot read '\(marginals)': \(error.localizedDescription)")
            }
            refShares = try Representativeness.Marginals(csv: text)
        } else {
            refShares = try Representativeness.profile(bank: bank, aggregate: try AggregateID(reference!), conditions: codes).marginals
        }
        let sample = try Representativeness.profile(bank: bank, aggregate: try AggregateID(aggregate), conditions: codes)
        let report = Representativeness(threshold: threshold).compare(sample, with: refShares)
        if output.json { try printJSON(report); return }
        print("\(aggregate): \(report.people) people against \(reference ?? marginals!)")
        print("attribute    value                share  reference  ratio  flag")
        for g in report.groups {
            let ratio = g.ratio.map { String(format: "%.2f", $0) } ?? "-"
            print("\(g.attribute.padding(toLength: 12, withPad: " ", startingAt: 0)) \(g.value.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%5.1f%%", g.share * 100))  \(String(format: "%8.1f%%", g.referenceShare * 100))  \(ratio.padding(toLength: 5, withPad: " ", startingAt: 0))  \(g.flag == .ok ? "" : g.flag.rawValue)")
        }
        print("\(report.flagged.count) group(s) flagged")
    }
}
