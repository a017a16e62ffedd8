import ArgumentParser
import TwinBank
import TwinCore
import TwinGovernance

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "The bank's access policy: roles of actors, what each role may do for which purposes.",
        discussion: """
        A bank without a stored policy uses the default, with the acting user as its admin; the first change stores
        it in the bank (recorded by the next `commit`). Only an admin may change it.
        """,
        subcommands: [Show.self, SetRole.self, Allow.self, Deny.self, Configure.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the policy: actors and roles, the table of grants, opt-in purposes, privacy settings.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let g = try bankOptions.governance()
            let p = try g.policy()
            if output.json { try printJSON(p); return }
            if try !g.hasStoredPolicy() { print("(the bank stores no policy yet: the default, with \(try g.effectiveOwner()) as admin)") }
            print("actors:")
            for c in p.callers.values.sorted(by: { $0.id < $1.id }) {
                var line = "  \(c.id): \(c.role)"
                if let o = c.organisation { line += ", organisation \(o)" }
                if !c.scopes.isEmpty { line += ", scopes \(c.scopes.sorted().joined(separator: ","))" }
                if !c.twins.isEmpty { line += ", twins \(c.twins.map(\.rawValue).sorted().joined(separator: ","))" }
                print(line)
            }
            print("grants:")
            for gr in p.grants { print("  \(gr)") }
            print("opt-in purposes (need a permit in the person's consent): \(p.optIn.sorted().map(\.rawValue).joined(separator: ", "))")
            print("privacy budget: epsilon \(p.privacy.epsilonPerAggregate) per requester per aggregate per \(p.privacy.budgetWindowDays) days")
        }
    }

    struct SetRole: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Give an actor a role (replacing an earlier one).")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Argument(help: "The actor id.") var actorID: String
        @Argument(help: "The role: patient, clinician, researcher, public-health-officer, device, admin.") var role: String
        @Option(help: "The organisation the actor acts for.") var organisation: String?
        @Option(help: "Limit the actor to these actions (repeatable).") var scope: [String] = []
        @Option(name: .customLong("twin"), help: "A twin linked to the actor (a patient's own twin; repeatable).") var twins: [String] = []
        @OptionGroup var output: OutputOptions

        func run() throws {
            let scopes = try Set(scope.map { try AccessRequest.Action.parsing($0).name })
            let caller = Caller(id: actorID, role: try Role(parsing: role), organisation: organisation, scopes: scopes,
                                twins: Set(try twins.map { try TwinID($0) }))
            let policy = try bankOptions.governance().assign(caller)
            if output.json { try printJSON(policy.caller(actorID)); return }
            print("\(actorID) is now \(caller.role)" + (organisation.map { " of \($0)" } ?? ""))
        }
    }

    struct Configure: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "configure", abstract: "Make purposes opt-in or opt-out, and set the privacy budget.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Option(help: "A purpose that needs the person's permit (repeatable).") var optIn: [String] = []
        @Option(help: "A purpose permitted unless the person denies it (repeatable).") var optOut: [String] = []
        @Option(help: "The privacy budget: epsilon per requester per aggregate per window.") var epsilon: Double?
        @Option(help: "The window of the privacy budget, in days.") var budgetDays: Int?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if optIn.isEmpty, optOut.isEmpty, epsilon == nil, budgetDays == nil {
                throw ValidationError("nothing to configure: give --opt-in, --opt-out, --epsilon or --budget-days")
            }
        }

        func run() throws {
            let p = try bankOptions.governance().configure(
                optIn: Set(try optIn.map { try Purpose(parsing: $0) }), optOut: Set(try optOut.map { try Purpose(parsing: $0) }),
                epsilon: epsilon, budgetWindowDays: budgetDays)
            if output.json { try printJSON(p); return }
            print("opt-in purposes: \(p.optIn.sorted().map(\.rawValue).joined(separator: ", ")); privacy budget: epsilon \(p.privacy.epsilonPerAggregate) per \(p.privacy.budgetWindowDays) days")
        }
    }

    struct GrantOptions: ParsableArguments {
        @Option(help: "The role.") var role: String
        @Option(help: "The action (repeatable; '*' for every action).") var action: [String] = []
        @Option(help: "The purpose (repeatable; none: every purpose).") var purpose: [String] = []
        @Flag(help: "Only on the twins linked to the actor.") var ownTwins = false

        func grant(_ effect: Effect) throws -> TwinGovernance.Grant {
            guard !action.isEmpty else { throw ValidationError("name the actions with --action (or '*')") }
            let actions = try Set(action.map { $0 == "*" ? "*" : try AccessRequest.Action.parsing($0).name })
            return TwinGovernance.Grant(try Role(parsing: role), effect, actions: actions, purposes: Set(try purpose.map { try Purpose(parsing: $0) }),
                                        subject: ownTwins ? .linked : .any)
        }
    }

    struct Allow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "allow", abstract: "Let a role do actions for purposes.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @OptionGroup var options: GrantOptions
        func run() throws {
            let g = try options.grant(.permit)
            try bankOptions.governance().add(g)
            print("policy: \(g)")
        }
    }

    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deny", abstract: "Forbid a role actions for purposes (deny overrides permit).")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @OptionGroup var options: GrantOptions
        func run() throws {
            let g = try options.grant(.deny)
            try bankOptions.governance().add(g)
            print("policy: \(g)")
        }
    }
}
