import ArgumentParser
import TwinBank
import TwinCore

struct TwinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twin", abstract: "Create and show twins.",
        subcommands: [Create.self, Show.self, List.self, Bind.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a twin (or, with --template-version, a reference twin).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var id: String
        @Option(help: "What the twin stands for.") var kind: Twin.Kind
        @Option(help: "Instantiate from a reference twin version: ID@VERSION.") var template: String?
        @Option(name: .customLong("part"), help: "A part of a composite twin: ROLE=ID (repeatable).") var parts: [String] = []
        @Option(name: .customLong("attr"), help: "An attribute KEY=VALUE, e.g. sex=female, weight=72 kg (repeatable).") var attributes: [String] = []
        @Flag(help: "Create a reference twin (template); its version is 1 the first time, then increases.") var asTemplate = false
        @Option(parsing: .unconditional, help: "When the real entity began (ISO 8601, ...); default: the birthDate attribute.") var origin: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            var twin = Twin(id: try TwinID(id), kind: kind,
                            attributes: try Twin.parseAttributes(attributes),
                            parts: try parts.map { try Twin.Part(parsing: $0) })
            if let template { twin.template = try Twin.TemplateReference(parsing: template) }
            if let origin { twin.origin = try parseInstant(origin, option: "--origin", bound: .instant) }
            let record = asTemplate ? try bank.createTemplate(twin) : try bank.createTwin(twin)
            if output.json { try printJSON(record); return }
            if let v = record.twin.templateVersion {
                print("created reference twin \(record.id)@\(v) (\(record.twin.kind))")
            } else {
                print("created twin \(record.id) (\(record.twin.kind))")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a twin's definition, now or as of a commit.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var id: String
        @Option(help: "A commit id (or unique prefix), branch or tag.") var at: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let record = try bank.twin(try TwinID(id), at: at)
            if output.json { try printJSON(record); return }
            let t = record.twin
            print("twin \(t.id)  kind: \(t.kind)")
            if let v = t.templateVersion { print("reference twin, version \(v)") }
            if let tp = t.template { print("from template \(tp)") }
            if let f = record.fork { print("fork of \(f.parent) at \(f.forkPoint) (parent's thread up to sequence \(f.parentSequence))") }
            for key in t.sortedAttributeKeys { print("  \(key) = \(t.attributes[key]!)") }
            for p in t.parts { print("  part \(p.role): \(p.twin)") }
            print("created \(record.created)")
            if let erased = record.erased { print("erased \(erased): this is the tombstone of an erased twin (its data is gone)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the twins in the bank (or at a commit), with their names where they have one.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "A commit id (or unique prefix), branch or tag.") var at: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let ids = try bank.twinIDs(at: at)
            if output.json { try printJSON(ids); return }
            for id in ids { print(labelled(id, name: try bank.twin(id, at: at).twin.name)) }
        }
    }
}
