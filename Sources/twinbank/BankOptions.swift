import ArgumentParser
import Foundation
import TwinBank
import TwinBankSQLite
import TwinCore

/// `--bank PATH`, shared by every command that reads or writes a bank. `TWINBANK_BANK` stands for it;
/// the default is `./twinbank.sqlite`.
struct BankOptions: ParsableArguments {
    @Option(name: .long, help: "The bank file (default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?

    var path: String { bank ?? Self.defaultPath }

    /// `$TWINBANK_BANK`, else `./twinbank.sqlite`.
    static var defaultPath: String {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_BANK"], !env.isEmpty { return env }
        return "./twinbank.sqlite"
    }

    /// Opens the bank; it must exist unless `create` is set.
    func open(create: Bool = false) throws -> Bank {
        Bank(storage: try SQLiteStorage(path: path, create: create))
    }
}

/// `--json`: reading commands print their result, writing commands what they wrote, as JSON on standard output
/// (and no progress on standard error).
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

/// Prints a value as stable, pretty JSON (sorted keys) on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// A twin id with its human-readable name beside it when it has one (`alice  (Alice Smith)`).
func labelled(_ id: TwinID, name: String?) -> String {
    guard let name else { return id.rawValue }
    return "\(id)  (\(name))"
}

/// Parses a time option in the one time grammar (``TwinCore/TimeExpression``: ISO 8601 instants and dates,
/// `now`, `today`, `yesterday`, offsets such as `-1d`), naming the option in the error. `bound` says whether
/// the option is a single instant, a lower bound or an (inclusive) upper bound: a date as an upper bound
/// means the end of that day.
func parseInstant(_ text: String, option: String, bound: TimeExpression.Bound, clock: any Clock = SystemClock()) throws -> Instant {
    do { return try Instant(parsing: text, relativeTo: clock.now(), bound: bound) } catch let e as TwinError {
        throw ValidationError("\(option): \(e.message)")
    }
}

/// One line of text for an event (used by `thread query` and `demo`).
func describe(_ e: Event) -> String {
    var line = "\(e.effective)  \(e.category.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(e.code.key)"
    if let d = e.code.display { line += " (\(d))" }
    if e.isErased { line += " = <erased: \(e.erasure ?? "")>" } else if let v = e.value { line += " = \(v)" }
    line += "  [\(e.source)]"
    if e.retractedAtSequence != nil { line += " (retracted)" }
    return line
}
