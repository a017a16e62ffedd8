import ArgumentParser
import Foundation
import TwinBank
import TwinCore
import TwinFHIR

/// `twinbank fhir`: FHIR R4 in and out of the bank (import, export, validate).
struct FHIRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir", abstract: "FHIR R4: import bundles into twins and threads, export twins as FHIR, validate resources.",
        subcommands: [Import.self, Export.self, Validate.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import FHIR R4 JSON (transaction, batch or collection Bundles, or single resources); directories are read file by file.")
        @OptionGroup var bankOptions: BankOptions
        @Argument(help: "Files or directories of .json files.") var paths: [String]
        @Flag(help: "Reject a transaction that has records dated before the patient's birth (default: skip those records and list them).")
        var rejectBeforeBirth = false
        @Flag(help: "All or nothing: a value whose unit cannot be read or does not fit its code, a record that cannot be sound data (no time, no usable code, no patient, an absent or bounded value, withdrawn by its source), or an event the bank refuses, refuses its whole bundle (default: set it aside, import the rest and list it); and the first file refused stops the import (default: it is named, the other files are imported, the exit status is 1).")
        var strict = false
        @Option(help: "Write the import report to this new JSON file: per patient what was imported, flagged and set aside (entry fullUrl, FHIR path, reason), and the same as an OperationOutcome under \"operationOutcome\".")
        var report: String?
        @Flag(help: "Replace an existing --report file.") var force = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let report { try OutputFile.checkWritable(report, overwrite: force) }
            let bank = try bankOptions.open()
            var importer = FHIRImporter(bank: bank)
            if rejectBeforeBirth { importer.beforeBirth = .reject }
            importer.strict = strict
            // without --strict, a refused bundle (invalid FHIR) does not keep the other files' patients out
            importer.stopAtFirstRefusedFile = strict
            Interruption.install("the files imported before the interrupt are in the bank (each transaction whole, the one in progress rolled back); importing the same files again adds only what is missing")
            let r = try importer.importPaths(paths, progress: TerminalProgress.make("fhir import", json: output.json))
            if let report { try OutputFile.write(JSONWriter(indent: 2).write(r.reportJSON()), to: report, overwrite: force) }
            defer { for f in r.refusedFiles { FileHandle.standardError.write(Data("error: refused: \(f)\n".utf8)) } }
            if output.json {
                try printJSON(r)
                if !r.refusedFiles.isEmpty { throw ExitCode(1) }
                return
            }
            print("imported \(r.files) file(s): \(r.personsCreated) person twin(s) created, \(r.personsUpdated) updated, \(r.organisationsCreated) organisation twin(s) created, \(r.twinsUnchanged) unchanged")
            print("\(r.eventsAppended) event(s) appended, \(r.eventsAlreadyPresent) already present; \(r.recordsCreated) record(s) created, \(r.recordsAlreadyPresent) already present")
            if !r.skipped.isEmpty {
                print("not mapped to twins: " + r.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            for s in r.eventsSkipped { print("skipped: \(s)") }
            for f in r.failures { print("failed entry: \(f)") }
            print(r.dataQualitySummary + (r.issues.isEmpty || report != nil ? "" : "; --report FILE lists them"))
            if let report { print("report written to \(report)") }
            if !r.refusedFiles.isEmpty {
                print("\(r.refusedFiles.count) file(s) refused whole (nothing of them written), the others imported")
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a twin as a FHIR Bundle (--out), or a twin, an aggregate or the whole bank as NDJSON files per resource type (--ndjson).")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin to export.") var twin: String?
        @Option(help: "An aggregate whose members to export (NDJSON only).") var aggregate: String?
        @Flag(help: "Export every twin and the bank's FHIR records (NDJSON only).") var all = false
        @Option(help: "Write a Bundle to this new file (an existing folder is refused, an existing file too unless --force).") var out: String?
        @Option(help: "Write one NDJSON file per resource type into this new or empty folder (a non-empty one is refused unless --force).") var ndjson: String?
        @Flag(help: "Replace an existing --out file, or the NDJSON files of the same names in a non-empty --ndjson folder (other files there are left alone).") var force = false
        @OptionGroup var output: OutputOptions

        /// What `--json` prints: the file or folder written and the resources in each file.
        struct Written: Encodable {
            var twin: String?
            var out: String?
            var ndjson: String?
            var files: [String: Int]
        }

        func validate() throws {
            if (out == nil) == (ndjson == nil) { throw ValidationError("give either --out FILE or --ndjson DIR") }
            let chosen = [twin != nil, aggregate != nil, all].filter { $0 }.count
            if chosen != 1 { throw ValidationError("give one of --twin ID, --aggregate ID, --all") }
            if out != nil && twin == nil { throw ValidationError("--out writes one twin's Bundle: give --twin ID") }
        }

        func run() throws {
            let bank = try bankOptions.open()
            Interruption.install(Interruption.nothingWritten)
            let exporter = FHIRExporter(bank: bank)
            if let out, let twin {
                try OutputFile.checkWritable(out, overwrite: force)
                let bundle = try exporter.bundle(twin: try TwinID(twin))
                try OutputFile.write(JSONWriter(indent: 2).write(bundle), to: out, overwrite: force)
                let count = bundle["entry"]?.list.count ?? 0
                if output.json { try printJSON(Written(twin: twin, out: out, files: [out: count])); return }
                print("wrote \(count) resource(s) of twin \(twin) to \(out)")
                return
            }
            guard let ndjson else { return }
            try OutputFile.checkFolderWritable(ndjson, overwrite: force)
            let ids: [TwinID]
            if let twin { ids = [try TwinID(twin)] }
            else if let aggregate { ids = try bank.members(of: try AggregateID(aggregate)).members }
            else { ids = try bank.twinIDs().filter { (try? bank.twin($0).twin.isTemplate) == false } }
            let files = try exporter.writeNDJSON(twins: ids, to: ndjson, includeRecords: all, overwrite: force)
            if output.json { try printJSON(Written(twin: twin, ndjson: ndjson, files: files)); return }
            for (f, n) in files.sorted(by: { $0.key < $1.key }) { print("\(f): \(n) resource(s)") }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check FHIR R4 JSON files: well-formed JSON, required elements, required value sets, formats, choice types, reference targets.")
        @Argument(help: "Files to check.") var files: [String]

        func run() throws {
            var bad = 0
            for f in files {
                guard let data = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
                do {
                    let issues = Validator().validate(try JSONReader().read([UInt8](data)))
                    if issues.isEmpty { print("\(f): valid") } else {
                        bad += 1
                        for i in issues { print("\(f): \(i)") }
                    }
                } catch {
                    bad += 1
                    print("\(f): \(error)")
                }
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
