import ArgumentParser
import Foundation
import TwinBank
import TwinCore

struct ThreadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thread", abstract: "Append to, import into and query a twin's digital thread.",
        subcommands: [Append.self, Import.self, Query.self])

    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Append one event to a twin's thread.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "The code, SYSTEM:CODE (loinc:2339-0, snomed:44054006, http://loinc.org|2339-0).") var code: String
        @Option(help: "The value: a number (with --unit), a code, text, a date or [v1,v2,...].") var value: String
        @Option(help: "The UCUM unit of a numeric value.") var unit: String?
        @Option(help: "When it happened (ISO 8601 instant, or START/END period).") var at: String
        @Option(help: "Where it came from, KIND:ID (device:cgm-7, person:dr-x).") var source: String = "person:cli"
        @Option(help: "observation, intervention, annotation, prediction, recommendation or alert.") var category: String = "observation"

        func run() throws {
            let bank = try bankOptions.open()
            let effective: EffectiveTime
            do { effective = try EffectiveTime(parsing: at) } catch let e as TwinError { throw ValidationError("--at: \(e.message)") }
            let parsed: Value
            if let number = Double(value) {
                guard number.isFinite else { throw ValidationError("--value: '\(value)' is not a finite number") }
                parsed = .quantity(Quantity(number, unit ?? "1"))
            } else {
                parsed = try Value.parse(unit.map { "\(value) \($0)" } ?? value)
            }
            let draft = EventDraft(twin: try TwinID(twin), effective: effective, category: try Event.Category(parsing: category),
                                   code: try Concept(parsing: code), value: parsed, source: try Source(parsing: source))
            let result = try bank.append([draft])
            print("appended 1 event to \(twin) (sequence \(result.firstSequence), recorded \(result.recorded))")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV thread (columns time,code,value,unit,source) as one all-or-nothing batch.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "The CSV file.") var csv: String
        @Option(help: "Source for rows whose source column is empty (default: import:FILENAME).") var source: String?

        func run() throws {
            let bank = try bankOptions.open()
            guard let data = FileManager.default.contents(atPath: csv) else {
                throw ValidationError("--csv: cannot read '\(csv)'")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--csv: '\(csv)' is not UTF-8 text")
            }
            let defaultSource = try source.map { try Source(parsing: $0) }
                ?? Source(.import, URL(fileURLWithPath: csv).lastPathComponent.replacingOccurrences(of: " ", with: "_"))
            let result = try bank.importCSV(twin: try TwinID(twin), text: text, defaultSource: defaultSource)
            print("imported \(result.count) events into \(twin) (sequences \(result.firstSequence)-\(result.lastSequence))")
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query a twin's thread: events in a range, the state as of a time, or what was known at a time.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "Only this code (SYSTEM:CODE).") var code: String?
        @Option(help: "Only this category.") var category: String?
        @Option(help: "Effective time from (inclusive).") var from: String?
        @Option(help: "Effective time to (inclusive).") var to: String?
        @Option(name: .customLong("as-of"), help: "Return the state as of this effective time: the latest value per code.") var asOf: String?
        @Option(name: .customLong("known-at"), help: "Replay what the bank knew at this recorded time.") var knownAt: String?
        @Option(help: "Replay the thread as pinned by this commit (id prefix, branch or tag).") var commit: String?
        @Flag(name: .customLong("include-retracted"), help: "Also list retracted events (marked).") var includeRetracted = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let id = try TwinID(twin)
            let codeKey = try code.map { try Concept(parsing: $0).key }
            let cat = try category.map { try Event.Category(parsing: $0) }
            let known = try knownAt.map { try parseInstant($0, option: "--known-at") }
            let pin = try commit.map { try bank.resolveCommit($0).commit.threadPin }
            let events: [Event]
            if let asOf {
                events = try bank.state(of: id, asOf: try parseInstant(asOf, option: "--as-of"), knownAt: known,
                                        knownAtSequence: pin, code: codeKey, category: cat)
            } else {
                events = try bank.events(ThreadQuery(
                    twin: id, code: codeKey, category: cat,
                    from: try from.map { try parseInstant($0, option: "--from") },
                    to: try to.map { try parseInstant($0, option: "--to") },
                    knownAt: known, knownAtSequence: pin, includeRetracted: includeRetracted))
            }
            if output.json { try printJSON(events); return }
            for e in events { print(describe(e)) }
            if events.isEmpty { print("(no events)") }
        }
    }
}
