import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinGovernance

/// `twinbank dp count|sum|histogram`: differentially private answers over an aggregate, charged to the requester's
/// privacy budget (logic in TwinGovernance's `PrivateQueries` and `PrivacyLedger`).
struct DPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract: "Differentially private counts, sums and histograms over an aggregate, within a privacy budget.",
        discussion: """
            Each answer adds exact discrete Laplace noise for --epsilon and charges it to --actor's budget for the \
            aggregate (the bank policy's budget: epsilon 1 per rolling 30 days), recorded in the bank before any \
            noise is drawn; a query that would exceed the budget is refused.
            """,
        subcommands: [Count.self, Sum.self, Histogram.self])

    struct Common: ParsableArguments {
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The aggregate queried.") var aggregate: String
        @Option(name: .customLong("where"), help: "Only the members that also satisfy this aggregate query (the aggregate's budget is spent).") var expression: String?
        @Option(help: "The privacy loss of this answer.") var epsilon: Double
        /// Who asks (`--actor`; the budget is per actor and aggregate).
        var actor: String { bankOptions.actor }
        @OptionGroup var output: OutputOptions

        func queries() throws -> (PrivateQueries, AggregateID) {
            let bank = try bankOptions.open()
            // The budget is the bank's, not the requester's to choose: the policy's setting (default epsilon 1 per 30 days).
            let privacy = try BankGovernanceStore(storage: bank.storage).policy(orDefaultFor: actor).privacy
            let budget = PrivacyBudget(epsilon: privacy.epsilonPerAggregate, windowSeconds: Double(privacy.budgetWindowDays) * 86_400)
            let ledger = PrivacyLedger(storage: bank.storage, budget: budget, clock: bank.clock)
            return (PrivateQueries(bank: bank, ledger: ledger), try AggregateID(aggregate))
        }

        func show(_ a: PrivateAnswer) throws {
            if output.json { try printJSON(a); return }
            if let v = a.value { print("\(a.query): \(v)") }
            for b in a.bins ?? [] { print("\(b.value): \(b.count)") }
            print("epsilon spent: \(a.epsilon) (sensitivity \(a.sensitivity)); budget of \(a.budget.requester) for \(a.budget.aggregate): \(a.budget.spent) of \(a.budget.limit) spent, \(a.budget.remaining) remains")
        }
    }

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A noisy count of the aggregate's members.")
        @OptionGroup var common: Common
        func run() throws {
            let (q, id) = try common.queries()
            var g = SystemRandomNumberGenerator()
            try common.show(try q.count(aggregate: id, where: common.expression, requester: common.actor, epsilon: common.epsilon, using: &g))
        }
    }

    struct Sum: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A noisy sum of a value clamped to [lower, upper] (sensitivity max(|lower|, |upper|)).")
        @OptionGroup var common: Common
        @Option(help: "A code (loinc:...) read from each member's thread, or an attribute (age, birthYear, ...).") var value: String
        @Option(help: "The lower clamp (a whole number).") var lower: Int
        @Option(help: "The upper clamp (a whole number).") var upper: Int
        func run() throws {
            let (q, id) = try common.queries()
            var g = SystemRandomNumberGenerator()
            try common.show(try q.sum(aggregate: id, where: common.expression, value: value, lower: lower, upper: upper, requester: common.actor, epsilon: common.epsilon, using: &g))
        }
    }

    struct Histogram: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Noisy counts per bin of an attribute (sex, ageBand, state, zip3 or any attribute).")
        @OptionGroup var common: Common
        @Option(help: "The attribute.") var by: String
        @Option(help: "The bins, comma-separated (default for sex: the gender values; for ageBand: 0-9 ... 90+); members in none count as '(other)'.") var bins: String?
        func run() throws {
            let list: [String]
            if let bins { list = bins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            else if QueryVocabulary.isGender(by) { list = QueryVocabulary.genderValues }
            else if by == "ageBand" { list = (0..<10).map { Representativeness.ageBand($0 * 10) } }
            else { throw ValidationError("--bins is needed for '\(by)': bins must not come from the data (a value seen only in the data would disclose someone)") }
            let (q, id) = try common.queries()
            var g = SystemRandomNumberGenerator()
            try common.show(try q.histogram(aggregate: id, where: common.expression, by: QueryVocabulary.isGender(by) ? "sex" : by, bins: list, requester: common.actor, epsilon: common.epsilon, using: &g))
        }
    }
}
