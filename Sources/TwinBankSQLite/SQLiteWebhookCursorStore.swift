import Foundation
import GRDB
import TwinBank

/// The ``TwinBank/WebhookCursorStore`` of a SQLite bank: the table `webhook_cursors` (url, sequence) in the bank file
/// itself, through the bank's own connection pool (migration `v6-webhook-cursors`). Each call is one transaction,
/// durable when it returns.
public final class SQLiteWebhookCursorStore: WebhookCursorStore, @unchecked Sendable {
    public let storage: SQLiteStorage

    /// The webhook cursors of an open bank.
    public init(_ storage: SQLiteStorage) { self.storage = storage }

    private func failing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as BankError { throw e } catch {
            throw BankError(.storageFailure, "webhook cursors storage error in '\(storage.path)': \(SQLiteStorage.describe(error))", value: storage.path)
        }
    }

    public func cursors() throws -> [String: Int64] {
        try BlockingWork.check("SQLite read of the webhook cursors of '\(storage.path)'")
        return try failing {
            try storage.pool.read { db in
                var out: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT url, sequence FROM webhook_cursors") { out[row["url"]] = row["sequence"] }
                return out
            }
        }
    }

    public func advance(_ url: String, to sequence: Int64) throws {
        try BlockingWork.check("SQLite write of the webhook cursors of '\(storage.path)'")
        try failing {
            try storage.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO webhook_cursors(url, sequence) VALUES (?, ?)
                    ON CONFLICT(url) DO UPDATE SET sequence = max(sequence, excluded.sequence)
                    """, arguments: [url, sequence])
            }
        }
    }
}
