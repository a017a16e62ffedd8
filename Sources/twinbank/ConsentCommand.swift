import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance

struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "A person's consent: permit or deny uses of their twin's data by purpose, data, actor, organisation and period.",
        discussion: """
        Each change is a new version of the twin's consent (the history is kept; `show --history` lists it) and is
        recorded by the next `commit`. Deny overrides permit; research and commercial uses need a permit (opt-in),
        treatment and public health are permitted unless denied (opt-out). Only the patient (on their own twin) and
        the bank's admin may change a consent.
        """,
        subcommands: [Grant.self, Deny.self, Revoke.self, Show.self, Import.self, Export.self])

    /// The options shared by `grant` and `deny`: what the rule is about.
    struct RuleOptions: ParsableArguments {
        @Option(help: "The twin whose consent changes.") var twin: String
        @Option(help: ArgumentHelp("The purpose of use (repeatable): treatment, research, public-health, quality-improvement, commercial, operations, demo, a v3 ActReason code, or 'any'.", valueName: "purpose"))
        var purpose: [String] = []
        @Option(help: "Only this data category and those below it (repeatable): vital-signs, laboratory, chemistry, haematology, medications, conditions, mental-health, genomics, sensors, cgm, wearable, clinical.")
        var category: [String] = []
        @Option(help: "Only this code, SYSTEM|CODE or SYSTEM:CODE (repeatable).") var code: [String] = []
        @Option(help: "Only the codes of this code system, an alias (loinc, snomed, ...) or a URI (repeatable).") var codeSystem: [String] = []
        @Option(help: "Only this code and the codes below it (ICD-10 and ATC by prefix, SNOMED CT is-a), SYSTEM|CODE (repeatable).") var codeBelow: [String] = []
        @Option(help: "Only for this actor id (repeatable).") var actorRule: [String] = []
        @Option(help: "Only for this organisation (repeatable).") var organisation: [String] = []
        @Option(help: "Only for this action (repeatable): read, query, aggregate, export, simulate, sync, match, release, ...") var action: [String] = []
        @Option(parsing: .unconditional, help: "Only data with effective time from this time on.") var dataFrom: String?
        @Option(parsing: .unconditional, help: "Only data with effective time before this time.") var dataTo: String?
        @Option(name: .customLong("from"), parsing: .unconditional, help: "The rule applies from this time (default: now).") var validFrom: String?
        @Option(parsing: .unconditional, help: "The rule expires at this time (it no longer applies from then on).") var until: String?

        func validate() throws {
            if purpose.isEmpty { throw ValidationError("name the purpose with --purpose (treatment, research, public-health, quality-improvement, commercial, operations, demo, or 'any')") }
        }

        func rule(_ effect: Effect) throws -> ConsentRule {
            var purposes: Set<Purpose> = []
            if !purpose.contains(where: { $0.lowercased() == "any" }) {
                for p in purpose { purposes.insert(try Purpose(parsing: p)) }
            }
            var selectors: [DataSelector] = try category.map { .category(try DataCategory(parsing: $0)) }
            for s in codeSystem {
                if let uri = CodeKey.system(forAlias: s) { selectors.append(.system(uri)) }
                else if s.contains(":") { selectors.append(.system(s)) }
                else { throw ValidationError("--code-system: unknown code system '\(s)': give an alias (\(CodeKey.aliases.map(\.alias).joined(separator: ", "))) or a URI") }
            }
            for c in code {
                do { selectors.append(.code(try CodeKey(parsing: c))) } catch let e as TwinError { throw ValidationError("--code: \(e.message)") }
            }
            for c in codeBelow {
                do { selectors.append(.descendants(try CodeKey(parsing: c))) } catch let e as TwinError { throw ValidationError("--code-below: \(e.message)") }
            }
            let actions = try Set(action.map { try AccessRequest.Action.parsing($0).name })
            let dataPeriod = dataFrom == nil && dataTo == nil ? nil
                : DataPeriod(from: try dataFrom.map { try parseInstant($0, option: "--data-from", bound: .lower) },
                             to: try dataTo.map { try parseInstant($0, option: "--data-to", bound: .lower) })
            let validity = Validity(start: try validFrom.map { try parseInstant($0, option: "--from", bound: .lower) },
                                    end: try until.map { try parseInstant($0, option: "--until", bound: .lower) })
            return ConsentRule(id: "", effect: effect, purposes: purposes, actors: Set(actorRule), organisations: Set(organisation),
                               actions: actions, data: DataScope(selectors: selectors, period: dataPeriod), validity: validity,
                               granted: .epoch, source: "twinbank consent")
        }
    }

    struct Recorded: Encodable { var twin: String; var version: Int; var rules: [String] }

    static func record(_ effect: Effect, _ options: RuleOptions, bank: GovernanceBankOptions, json: Bool) throws {
        let twin = try TwinID(options.twin)
        let rule = try options.rule(effect)
        let (consent, ids) = try bank.governance().record([rule], twin: twin)
        if json { try printJSON(Recorded(twin: twin.rawValue, version: consent.version, rules: ids)); return }
        let recorded = consent.rules.first { $0.id == ids[0] }!
        print("recorded consent rule \(recorded.summary) for twin \(twin) (consent version \(consent.version))")
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Permit a use of a twin's data.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @OptionGroup var rule: RuleOptions
        @OptionGroup var output: OutputOptions
        func run() throws { try ConsentCommand.record(.permit, rule, bank: bankOptions, json: output.json) }
    }

    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deny", abstract: "Deny a use of a twin's data (deny overrides permit).")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @OptionGroup var rule: RuleOptions
        @OptionGroup var output: OutputOptions
        func run() throws { try ConsentCommand.record(.deny, rule, bank: bankOptions, json: output.json) }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke one consent rule, or all of them, from now on (the history keeps them).")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "The rule to revoke (consent show lists them: r1, r2, ...).") var rule: String?
        @Flag(help: "Revoke every rule in force.") var all = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if (rule == nil) == !all { throw ValidationError("name what to revoke: --rule ID, or --all") }
        }

        func run() throws {
            let twinID = try TwinID(twin)
            let (consent, ids) = try bankOptions.governance().revoke(twin: twinID, rule: rule)
            if output.json { try printJSON(Recorded(twin: twin, version: consent.version, rules: ids)); return }
            print("revoked consent rule(s) \(ids.joined(separator: ", ")) of twin \(twin) (consent version \(consent.version))")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a twin's consent rules (revoked and expired ones marked).")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Option(help: "The twin.") var twin: String
        @Flag(help: "Every version, oldest first.") var history = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let twinID = try TwinID(twin)
            let g = try bankOptions.governance()
            let versions = history ? try g.consentHistory(of: twinID) : [try g.consent(of: twinID)]
            if output.json { history ? try printJSON(versions) : try printJSON(versions[0]); return }
            let now = g.clock.now()
            for c in versions {
                guard c.version > 0 else { print("twin \(twin) has no consent rules (the bank's policy defaults apply)"); continue }
                print("consent of twin \(twin), version \(c.version) (\(c.updated.iso8601) by \(c.updatedBy))")
                for r in c.rules {
                    let state = r.revoked.map { $0 <= now ? "" : " (revocation pending)" } ?? (r.isInForce(at: now) ? "" : " (not in force)")
                    print("  \(r.summary)\(state)")
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Add the rules of a FHIR R4 Consent (JSON) to a twin's consent; unsupported constructs are refused, naming them.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Option(help: "The twin.") var twin: String
        @Argument(help: "The FHIR Consent JSON file.") var file: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let twinID = try TwinID(twin)
            let bytes: [UInt8]
            do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw ValidationError("cannot read '\(file)': \(error.localizedDescription)")
            }
            let g = try bankOptions.governance()
            let imported: FHIRConsent.Imported
            do { imported = try FHIRConsent.read(bytes: bytes, recordedAt: g.clock.now()) } catch {
                var e = error; e.file = file
                throw e
            }
            let (consent, ids) = try g.record(imported.rules, twin: twinID, keepGrantedTimes: true)
            if output.json { try printJSON(Recorded(twin: twin, version: consent.version, rules: ids)); return }
            print("imported \(ids.count) consent rule(s) from \(file) into twin \(twin) (consent version \(consent.version)):")
            for r in consent.rules where ids.contains(r.id) { print("  \(r.summary)") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a twin's consent (the rules not revoked) as a FHIR R4 Consent.")
        @OptionGroup var bankOptions: GovernanceBankOptions
        @Option(help: "The twin.") var twin: String
        @Option(help: "The output file (refused if it exists, unless --force).") var out: String
        @Flag(help: "Replace an existing file at --out.") var force = false

        func run() throws {
            try OutputFile.checkWritable(out, overwrite: force)
            let consent = try bankOptions.governance().consent(of: try TwinID(twin))
            let json = try FHIRConsent.resource(for: consent)
            try OutputFile.write(JSONWriter(indent: 2).write(json), to: out, overwrite: force)
            print("wrote the consent of twin \(twin) (version \(consent.version), \(consent.rules.filter { $0.revoked == nil }.count) rule(s)) to \(out)")
        }
    }
}
