import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinFHIR

/// `twinbank match`: clinical-trial matching over the bank.
struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Match twins to a trial's eligibility criteria (JSON criteria, or a FHIR ResearchStudy + Group): met, not met or unknown per criterion, with the events that decided it.",
        discussion: "Each criterion is echoed as understood before the results (in --json: the `criteria` array).\n\n" + Criteria.schema)
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The criteria file (JSON criteria, a ResearchStudy with its Group, or a Group).") var criteria: String
    @Option(help: "Only the members of this aggregate.") var aggregate: String?
    @Option(parsing: .unconditional, help: "Judge eligibility at this time (ISO 8601, today, -30d, ...; default: the criteria's asOf, else now).") var asOf: String?
    @Option(help: "Save the eligible twins as an aggregate with this id.") var saveAggregate: String?
    @Flag(help: "Also save possibly eligible twins (some criteria unknown) in the aggregate.") var includePossible = false
    @Flag(help: "With --save-aggregate: redefine the aggregate if one with this id exists (otherwise an existing id is refused).") var replace = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard let data = FileManager.default.contents(atPath: criteria) else { throw ValidationError("cannot read \(criteria)") }
        var c = try Criteria(json: try JSONReader().read([UInt8](data)))
        if let asOf { c.asOf = try parseInstant(asOf, option: "--as-of", bound: .instant) }
        let bank = try bankOptions.open()
        let saveID = try saveAggregate.map { try AggregateID($0) }
        if let saveID, !replace, try bank.aggregateIDs().contains(saveID) {
            throw ValidationError("--save-aggregate: an aggregate '\(saveID)' exists; choose another id or add --replace to redefine it")
        }
        let twins = try aggregate.map { try bank.members(of: try AggregateID($0)).members }
        let asOfTime = c.asOf ?? bank.clock.now()
        c.asOf = asOfTime
        let matcher = Matcher(criteria: c)
        let results = try matcher.evaluate(bank: bank, twins: twins)
        if let saveID {
            let members = results.filter { $0.eligible == true || (includePossible && $0.eligible == nil) }.map(\.twin)
            _ = try bank.createAggregate(saveID, members: members,
                                         description: "candidates for trial \(c.id)\(c.title.map { " (\($0))" } ?? "") as of \(asOfTime)",
                                         replace: replace)
        }
        if output.json {
            FileHandle.standardOutput.write(Data(JSONWriter(indent: 2).write(matcher.report(results, asOf: asOfTime))))
            return
        }
        print("trial \(c.id)\(c.title.map { ": \($0)" } ?? "") as of \(asOfTime)")
        print("criteria as understood:")
        for (criterion, text) in zip(matcher.criteria.criteria, matcher.descriptions) { print("  \(criterion.id): \(text)") }
        for r in results {
            let verdict = r.eligible.map { $0 ? "ELIGIBLE" : "not eligible" } ?? "possibly eligible"
            print("\(labelled(r.twin, name: try? bank.twin(r.twin).twin.name)): \(verdict)")
            for x in r.results {
                print("  [\(x.outcome.rawValue)] \(x.criterion.description): \(x.reason)")
                for e in x.evidence.prefix(3) { print("      \(describe(e))") }
            }
        }
        let n = results.filter { $0.eligible == true }.count
        print("\(n) eligible, \(results.filter { $0.eligible == nil }.count) possibly eligible, of \(results.count) twin(s)")
        if let saveAggregate { print("saved aggregate \(saveAggregate)") }
    }
}
