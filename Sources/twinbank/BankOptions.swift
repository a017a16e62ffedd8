import ArgumentParser
import Foundation
import TwinBank
import TwinBankAccess
import TwinBankSQLite
import TwinCore
import TwinGovernance
import NIOPosix
import Synchronization

/// `--bank PATH`, `--actor NAME` and `--purpose P`, shared by every command that reads or writes a bank.
/// `TWINBANK_BANK` stands for `--bank` (default `./twinbank.sqlite`), `TWINBANK_ACTOR` for `--actor` (default: the
/// operating-system user), `TWINBANK_PURPOSE` for `--purpose` (default `care`, which the policy reads as treatment).
struct BankOptions: ParsableArguments {
    @Option(name: .long, help: "The bank: a file, or a PostgreSQL database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?
    @Option(name: .customLong("actor"), help: "Who acts (default: $TWINBANK_ACTOR, else the operating-system user); the bank's policy decides what they may do.")
    var actorName: String?
    @Option(name: .customLong("purpose"), help: "Why (default: $TWINBANK_PURPOSE, else care): treatment, research, public-health, ... or a v3 ActReason code.")
    var purposeName: String?

    var path: String { bank ?? Self.defaultPath }
    var actor: String { BankAccess.actor(actorName) }
    var purpose: String { BankAccess.purpose(purposeName) }

    /// `$TWINBANK_BANK`, else `./twinbank.sqlite`.
    static var defaultPath: String {
        if let env = ProcessInfo.processInfo.environment["TWINBANK_BANK"], !env.isEmpty { return env }
        return "./twinbank.sqlite"
    }

    /// Opens the bank under governance (see ``BankAccess/open(path:actor:purpose:create:)``); it must exist unless
    /// `create` is set.
    func open(create: Bool = false) throws -> Bank {
        try BankAccess.open(path: path, actor: actor, purpose: purpose, create: create)
    }

    /// ``open(create:)`` for an async command: opened on a blocking thread (`NIOThreadPool.singleton`), not on the
    /// command's task; the command then reaches the bank through `Bank.run`.
    func open(create: Bool = false) async throws -> Bank {
        let (path, actor, purpose) = (path, actor, purpose)
        return try await NIOThreadPool.singleton.runIfActive { try BankAccess.open(path: path, actor: actor, purpose: purpose, create: create) }
    }
}

/// `--bank PATH` and `--actor NAME` for the governance commands (`consent`, `policy`), whose own `--purpose` says
/// what a rule or grant is about; the purpose of the access itself comes from `TWINBANK_PURPOSE`, else `care`.
struct GovernanceBankOptions: ParsableArguments {
    @Option(name: .long, help: "The bank: a file or a postgres:// URL (default: $TWINBANK_BANK, else ./twinbank.sqlite).")
    var bank: String?
    @Option(name: .customLong("actor"), help: "Who acts (default: $TWINBANK_ACTOR, else the operating-system user).")
    var actorName: String?

    var path: String { bank ?? BankOptions.defaultPath }
    var actor: String { BankAccess.actor(actorName) }

    func open() throws -> Bank {
        try BankAccess.open(path: path, actor: actor, purpose: BankAccess.purpose(nil), create: false)
    }

    /// The governance of the bank for the acting actor.
    func governance() throws -> Governance { Governance(bank: try open(), actor: actor) }
}

/// How the command opens a bank: the one place that puts the decision point and the audit log in front of it.
enum BankAccess {
    static func actor(_ given: String?) -> String {
        if let given, !given.isEmpty { return given }
        if let env = ProcessInfo.processInfo.environment["TWINBANK_ACTOR"], !env.isEmpty { return env }
        return NSUserName()
    }

    static func purpose(_ given: String?) -> String {
        if let given, !given.isEmpty { return given }
        if let env = ProcessInfo.processInfo.environment["TWINBANK_PURPOSE"], !env.isEmpty { return env }
        return "care"
    }

    /// The gates of the banks this process opened, by location: one ``AuditLog`` writes a bank's log (a second one
    /// would make the first one's appends fail), so a command that opens its bank twice shares the gate.
    private static let opened = Mutex<[BankLocation: (storage: any BankStorage, gate: GovernedGate)]>([:])

    /// Opens the bank named `path` (a file, or a `postgres://` URL: ``TwinBankAccess/BankLocation``) with the
    /// ``GovernedGate`` over the bank's ``BankGovernanceStore`` and its audit log (signed with the bank's key,
    /// ``TwinBankAccess/BankLocation/auditKeyFile(environment:)``, made on first use), acting as `actor` for
    /// `purpose`. A bank without a stored policy is governed by the default policy with its recorded owner, else the
    /// acting actor, as admin (banks made before governance keep working for their users).
    static func open(path: String, actor: String, purpose: String, create: Bool = false) throws -> Bank {
        let location = try BankLocation(path)
        let (storage, gate) = try opened.withLock { opened -> (any BankStorage, GovernedGate) in
            if let o = opened[location] { return o }
            let bank = try location.open(create: create)
            let log = try AuditLog(store: bank.auditStore, signer: AuditSigner(keyFile: location.auditKeyFile()))
            let g = GovernedGate(store: BankGovernanceStore(storage: bank.storage), log: log, owner: actor)
            opened[location] = (bank.storage, g)
            return (bank.storage, g)
        }
        return Bank(storage: storage, gate: gate, actor: actor, purpose: purpose)
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
