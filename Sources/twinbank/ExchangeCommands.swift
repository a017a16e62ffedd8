import ArgumentParser
import Foundation
import TwinBank
import TwinCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a twin, an instance or an aggregate, with its thread and history, to a self-verifying bundle file.")
    @OptionGroup var bankOptions: BankOptions
    @Option(help: "The twin (or fork) to export.") var twin: String?
    @Option(help: "The aggregate to export.") var aggregate: String?
    @Option(help: "The bundle file to write (a new file; an existing folder is refused, an existing file too unless --force).") var out: String
    @Flag(help: "Replace an existing bundle file at --out (never a folder).") var force = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (twin == nil) == (aggregate == nil) { throw ValidationError("give exactly one of --twin ID or --aggregate ID") }
    }

    func run() throws {
        let bank = try bankOptions.open()
        Interruption.install(Interruption.nothingWritten)
        let url = URL(fileURLWithPath: out)
        let result = try twin != nil
            ? bank.exportBundle(twin: try TwinID(twin!), to: url, overwrite: force)
            : bank.exportBundle(aggregate: try AggregateID(aggregate!), to: url, overwrite: force)
        if output.json { try printJSON(result); return }
        print("exported \(result.subject): \(result.twins.count) twin(s), \(result.events) event(s), \(result.objects) object(s) to \(out)")
        print("root \(result.root.hex)")
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a bundle from another bank: every hash is checked, all or nothing; importing twice changes nothing.",
        discussion: "The exporting bank's commits are replayed as commits of this bank on the branch imported:SUBJECT; the current branch does not move.")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The bundle file.") var file: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        Interruption.install("nothing imported (a bundle is imported in one transaction, all or nothing)")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read bundle '\(file)'")
        }
        let r = try bank.importBundle(data)
        if output.json { try printJSON(r); return }
        print("imported \(r.subject) (root \(r.root.abbreviated())): \(r.twinsCreated.count) twin(s) created, \(r.twinsUnchanged.count) unchanged, \(r.eventsAdded) event(s) added, \(r.eventsAlreadyPresent) already present")
        if let branch = r.branch {
            print("history: \(r.commitsReplayed) commit(s) replayed, \(r.commitsAlreadyPresent) already present, on branch \(branch) ('twinbank log \(branch)')")
        }
    }
}
