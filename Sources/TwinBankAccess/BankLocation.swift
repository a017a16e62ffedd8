import Foundation
import TwinBank
import TwinBankPostgres
import TwinBankSQLite
import TwinGovernance

/// Where a bank is, as a person names it: a file path (the embedded SQLite bank) or a PostgreSQL URL
/// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, also `postgresql://`). The one place that turns that name into
/// a storage, the audit store kept with it, its key files and its schema migrations, for the command, the server and
/// any library that takes a bank by name.
///
/// Its ``description`` never shows a password.
public enum BankLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite bank file.
    case sqlite(path: String)
    /// A bank in a PostgreSQL database.
    case postgres(PostgresLocation)

    /// Reads a bank name: a PostgreSQL URL, else a file path.
    /// - Throws: ``TwinBank/BankError`` `notABank` for an empty name or a malformed PostgreSQL URL (naming it without
    ///   its password).
    public init(_ text: String) throws {
        if PostgresLocation.isPostgresURL(text) {
            self = .postgres(try PostgresLocation(url: text))
        } else {
            guard !text.isEmpty else { throw BankError(.notABank, "the bank is named by an empty path: give a file path or a postgres:// URL", value: text) }
            self = .sqlite(path: text)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }

    /// A storage and the audit store kept with it (in the same file or database).
    public struct Opened: Sendable {
        public let storage: any BankStorage
        public let auditStore: any AuditStore
        public init(storage: any BankStorage, auditStore: any AuditStore) {
            self.storage = storage; self.auditStore = auditStore
        }
    }

    /// Opens the bank, applying the schema migrations it lacks; with `create`, a missing file (SQLite) or an empty
    /// database (PostgreSQL) becomes a new, empty bank.
    /// - Throws: ``TwinBank/BankError`` `notABank` (no bank there, not a bank, a malformed URL), `newerSchema` (a
    ///   bank written by a newer version, left as it is), `storageFailure` (a server that cannot be reached or refuses
    ///   the login).
    public func open(create: Bool = false) throws -> Opened {
        switch self {
        case .sqlite(let path):
            let storage = try SQLiteStorage(path: path, create: create)
            return Opened(storage: storage, auditStore: SQLiteAuditStore(storage))
        case .postgres(let location):
            let storage = try PostgresStorage(location: location, create: create)
            return Opened(storage: storage, auditStore: PostgresAuditStore(storage))
        }
    }

    /// The audit store kept with an open storage (in its file or database), or nil for a storage that keeps none
    /// (memory).
    public static func auditStore(of storage: any BankStorage) -> (any AuditStore)? {
        switch storage {
        case let s as SQLiteStorage: SQLiteAuditStore(s)
        case let s as PostgresStorage: PostgresAuditStore(s)
        default: nil
        }
    }

    /// Where a server keeps its jobs' records beside an open storage (in its file or database: the table
    /// `server_jobs`), or nil for a storage that keeps none (memory).
    public static func jobRecordStore(of storage: any BankStorage) -> (any JobRecordStore)? {
        switch storage {
        case let s as SQLiteStorage: SQLiteJobRecordStore(s)
        case let s as PostgresStorage: PostgresJobRecordStore(s)
        default: nil
        }
    }

    /// Where a server keeps its webhooks' cursors beside an open storage (in its file or database: the table
    /// `webhook_cursors`), or nil for a storage that keeps none (memory).
    public static func webhookCursorStore(of storage: any BankStorage) -> (any WebhookCursorStore)? {
        switch storage {
        case let s as SQLiteStorage: SQLiteWebhookCursorStore(s)
        case let s as PostgresStorage: PostgresWebhookCursorStore(s)
        default: nil
        }
    }

    /// Creates a new, empty bank, refusing one that exists: a file or folder at the path (SQLite), a database that
    /// already holds a bank's schema (PostgreSQL).
    /// - Throws: ``TwinBank/BankError`` `bankExists` naming the place (nothing changed), and the errors of ``open(create:)``.
    public func createNew() throws -> Opened {
        switch self {
        case .sqlite(let path):
            let storage = try SQLiteStorage.createNew(path: path)
            return Opened(storage: storage, auditStore: SQLiteAuditStore(storage))
        case .postgres(let location):
            let applied = try PostgresStorage.migrate(location: location, create: true)
            guard applied.first == PostgresSchema.migrations.first?.name else {
                throw BankError(.bankExists, "the database \(location) already holds a bank: nothing changed; give a new, empty database to create a bank, or use this one with --bank", value: location.description)
            }
            return try open(create: false)
        }
    }

    /// Applies the schema migrations the bank lacks and returns their names, in order (empty: it was current), without
    /// creating a bank where there is none: what `twinbank migrate` does (opening a bank does it too).
    /// - Throws: the errors of ``open(create:)``.
    public func migrate() throws -> [String] {
        switch self {
        case .sqlite(let path): try SQLiteStorage.migrate(path: path)
        case .postgres(let location): try PostgresStorage.migrate(location: location, create: false)
        }
    }

    /// Where the bank's key files live, as a path their names are appended to (``TwinGovernance/KeyFile/besideBank(_:name:byteCount:)``):
    /// beside a SQLite bank (`BANK.keys/`); for PostgreSQL, in `$TWINBANK_KEYS` (else `~/.twinbank/postgres`) under
    /// `HOST-PORT-DATABASE.keys/`. Every process that writes one PostgreSQL bank should use the same keys (copy the
    /// folder, or point `TWINBANK_KEYS` at a shared one), so its audit heads verify with one public key.
    public func keyBase(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        switch self {
        case .sqlite(let path):
            return path
        case .postgres(let l):
            let folder = environment["TWINBANK_KEYS"].flatMap { $0.isEmpty ? nil : $0 }
                ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.twinbank/postgres")
            let safe = "\(l.host)-\(l.port)-\(l.database)".map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" ? $0 : "_" }
            return folder + "/" + String(safe)
        }
    }

    /// The audit log's signing key: ``TwinGovernance/AuditSigner/defaultKeyFile(bank:)`` at ``keyBase(environment:)``.
    public func auditKeyFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyFile {
        AuditSigner.defaultKeyFile(bank: keyBase(environment: environment))
    }
}
