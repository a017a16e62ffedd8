import ArgumentParser
import Foundation
import TwinBank
import TwinCore

struct ThreadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thread", abstract: "Append to, import into and query a twin's digital thread.",
        subcommands: [Append.self, Import.self, Query.self])

    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append one event to a twin's thread.",
            discussion: """
            A value with --unit must be a number (or [v1,v2,...]); a quantitative code takes a number with a unit.
            A number beyond 1e15 is refused; an observation outside its code's possible range is stored flagged.
            An observation may not lie more than 5 minutes beyond the bank's clock (predictions and planned
            interventions may lie in the future).
            """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "The code, SYSTEM:CODE (loinc:2339-0, snomed:44054006, http://loinc.org|2339-0).") var code: String
        @Option(parsing: .unconditional, help: "The value: a number (with --unit; negative numbers as --value -50 or --value=-50), a code, text, a date or [v1,v2,...].") var value: String
        @Option(help: "The UCUM unit of a numeric value.") var unit: String?
        @Option(parsing: .unconditional, help: "When it happened: a time (ISO 8601, now, -2h, ...) or a START/END period.") var at: String
        @Option(help: "Where it came from, KIND:ID (device:cgm-7, person:dr-x).") var source: String = "person:cli"
        @Option(help: "The event's category.") var category: Event.Category = .observation
        @Option(name: .customLong("idempotency-key"), help: "Append at most once under this key: run again with the same key and event (a retry after a lost answer), it appends nothing and prints what the first run wrote; the key with another event is refused. Give --at as a time, not `now`, so a retry asks the same.")
        var idempotencyKey: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let draft: EventDraft
            do {
                draft = try EventDraft.parse(twin: try TwinID(twin), code: code, value: value, unit: unit, at: at,
                                             source: source, category: category.rawValue, relativeTo: SystemClock().now())
            } catch let e as TwinError where e.code == .invalidTime {
                throw ValidationError("--at: \(e.message)")
            }
            let result = try bank.append([draft], idempotencyKey: idempotencyKey)
            if output.json { try printJSON(result); return }
            for f in result.flagged { printWarning("stored with the implausible flag (kept out of model inputs): \(f.reason); event \(f.id.hex)") }
            print("appended 1 event to \(twin) (sequence \(result.firstSequence), recorded \(result.recorded), id \(result.ids[0].hex))")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV thread as one all-or-nothing batch; rows already in the thread are skipped.",
            discussion: """
            The first line names the columns, in any order: time, code, value (required), unit, source, category
            (optional; category is observation, intervention for meals and insulin, ...). RFC 4180: quoted fields,
            CRLF line ends and a byte order mark are fine; the separator (',' ';' or tab) is detected or given
            with --separator. Importing a grown export again adds only its new rows.
            """)
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "The CSV file.") var csv: String
        @Option(help: "Source for rows whose source column is empty (default: import:FILENAME).") var source: String?
        @Option(help: "The separator: ',' (comma), ';' (semicolon) or tab (default: detected from the header).") var separator: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let sep = try separator.map { s -> UInt8 in
                do { return try CSVReader.separator(named: s) } catch let e as TwinError { throw ValidationError("--separator: \(e.message)") }
            }
            guard let handle = FileHandle(forReadingAtPath: csv) else {
                throw ValidationError("--csv: cannot read '\(csv)'")
            }
            defer { try? handle.close() }
            let name = URL(fileURLWithPath: csv).lastPathComponent
            let defaultSource = try source.map { try Source(parsing: $0) }
                ?? Source(.import, name.replacingOccurrences(of: " ", with: "_"))
            let result = try bank.importCSV(twin: try TwinID(twin), reader: CSVReader(fileHandle: handle, name: name, separator: sep),
                                            defaultSource: defaultSource)
            if output.json { try printJSON(result); return }
            for f in result.flagged {
                printWarning("line \(f.row): stored with the implausible flag (kept out of model inputs): \(f.reason)")
            }
            var line = "imported \(result.count) events into \(twin)"
            if let first = result.firstSequence, let last = result.lastSequence { line += " (sequences \(first)-\(last))" }
            if result.skipped > 0 { line += "; \(result.skipped) of \(result.rows) rows were already in the thread" }
            print(line)
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query a twin's thread: events in a range, the state as of a time, or what was known at a time.")
        @OptionGroup var bankOptions: BankOptions
        @Option(help: "The twin's id.") var twin: String
        @Option(help: "Only this code (SYSTEM:CODE).") var code: String?
        @Option(help: "Only this category.") var category: Event.Category?
        @Option(parsing: .unconditional, help: "Effective time from (inclusive; a date means its start; ISO 8601, today, -1d, ...).") var from: String?
        @Option(parsing: .unconditional, help: "Effective time to (inclusive; a date means its end, so --from D --to D is day D).") var to: String?
        @Option(name: .customLong("as-of"), parsing: .unconditional, help: "Return the state as of this effective time: the latest value per code.") var asOf: String?
        @Option(name: .customLong("known-at"), parsing: .unconditional, help: "Replay what the bank knew at this recorded time.") var knownAt: String?
        @Option(help: "Replay the thread as pinned by this commit (id prefix, branch or tag).") var commit: String?
        @Flag(name: .customLong("include-retracted"), help: "Also list retracted events (marked).") var includeRetracted = false
        @Flag(name: .customLong("hide-implausible"), help: "Leave out events flagged implausible (as models do); by default they are listed, marked.") var hideImplausible = false
        @Option(name: .customLong("source-recorded-from"), parsing: .unconditional,
                help: "Only events their source recorded at or after this time (an imported event's source time, else this bank's recorded time).") var sourceRecordedFrom: String?
        @Option(name: .customLong("source-recorded-to"), parsing: .unconditional,
                help: "Only events their source recorded at or before this time (a date means its end).") var sourceRecordedTo: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bank = try bankOptions.open()
            let id = try TwinID(twin)
            let codeKey = try code.map { try Concept(parsing: $0).key }
            let cat = category
            let known = try knownAt.map { try parseInstant($0, option: "--known-at", bound: .instant) }
            let pin = try commit.map { try bank.resolveCommit($0).commit.threadPin }
            let srFrom = try sourceRecordedFrom.map { try parseInstant($0, option: "--source-recorded-from", bound: .lower) }
            let srTo = try sourceRecordedTo.map { try parseInstant($0, option: "--source-recorded-to", bound: .upper) }
            let events: [Event]
            if asOf != nil, srFrom != nil || srTo != nil {
                throw ValidationError("--source-recorded-from/--source-recorded-to select events in a range; they do not apply with --as-of (the latest value per code)")
            }
            if let asOf {
                events = try bank.state(of: id, asOf: try parseInstant(asOf, option: "--as-of", bound: .instant), knownAt: known,
                                        knownAtSequence: pin, code: codeKey, category: cat)
            } else {
                events = try bank.events(ThreadQuery(
                    twin: id, code: codeKey, category: cat,
                    from: try from.map { try parseInstant($0, option: "--from", bound: .lower) },
                    to: try to.map { try parseInstant($0, option: "--to", bound: .upper) },
                    knownAt: known, knownAtSequence: pin, includeRetracted: includeRetracted, includeImplausible: !hideImplausible,
                    sourceRecordedFrom: srFrom, sourceRecordedTo: srTo))
            }
            if output.json { try printJSON(events); return }
            for e in events {
                let source = e.provenance.sourceRecorded.map { " (source recorded \($0.iso8601))" } ?? ""
                print(describe(e) + (e.isFlaggedImplausible ? " (implausible)" : "") + source + "  #\(e.sequence)")
            }
            if events.isEmpty { print("(no events)") }
        }
    }
}

/// Writes a line to standard error, prefixed `warning: `.
private func printWarning(_ text: String) {
    FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
}
