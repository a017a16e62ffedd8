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
    @Option(help: "The bundle file to write.") var out: String
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (twin == nil) == (aggregate == nil) { throw ValidationError("give exactly one of --twin ID or --aggregate ID") }
    }

    func run() throws {
        let bank = try bankOptions.open()
        let (data, result) = try twin != nil
            ? bank.exportBundle(twin: try TwinID(twin!))
            : bank.exportBundle(aggregate: try AggregateID(aggregate!))
        // Write to a temporary file beside the target, then rename: a failed export leaves no half file.
        let url = URL(fileURLWithPath: out)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        do {
            try data.write(to: tmp)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: tmp, to: url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw ValidationError("--out: cannot write '\(out)': \(error.localizedDescription)")
        }
        if output.json { try printJSON(result); return }
        print("exported \(result.subject): \(result.twins.count) twin(s), \(result.events) event(s), \(result.objects) object(s) to \(out)")
        print("root \(result.root.hex)")
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a bundle from another bank: every hash is checked, all or nothing; importing twice changes nothing.")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The bundle file.") var file: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read bundle '\(file)'")
        }
        let r = try bank.importBundle(data)
        if output.json { try printJSON(r); return }
        print("imported \(r.subject) (root \(r.root.abbreviated())): \(r.twinsCreated.count) twin(s) created, \(r.twinsUnchanged.count) unchanged, \(r.eventsAdded) event(s) added, \(r.eventsAlreadyPresent) already present")
    }
}
