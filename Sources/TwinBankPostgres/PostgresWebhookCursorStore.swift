import Foundation
import PostgresNIO
import TwinBank

/// The ``TwinBank/WebhookCursorStore`` of a PostgreSQL bank: the table `webhook_cursors` (url, sequence) in the bank's
/// database (migration `v5-webhook-cursors`), through the storage's connections. Each call is one transaction, durable
/// when it returns (PostgreSQL's commit).
public final class PostgresWebhookCursorStore: WebhookCursorStore, @unchecked Sendable {
    public let storage: PostgresStorage

    /// The webhook cursors of an open bank.
    public init(_ storage: PostgresStorage) { self.storage = storage }

    public func cursors() throws -> [String: Int64] {
        try BlockingWork.check("PostgreSQL read of the webhook cursors of \(storage.location)")
        return try storage.withConnection { c in
            var out: [String: Int64] = [:]
            for row in try c.query("SELECT url, sequence FROM webhook_cursors").rows {
                let (url, sequence) = try PostgresFailure.decoding(storage.location) { try row.decode((String, Int64).self) }
                out[url] = sequence
            }
            return out
        }
    }

    public func advance(_ url: String, to sequence: Int64) throws {
        try BlockingWork.check("PostgreSQL write of the webhook cursors of \(storage.location)")
        try storage.transaction("BEGIN", prepare: { _ in }) { c in
            try c.execute("""
                INSERT INTO webhook_cursors (url, sequence) VALUES (\(url), \(sequence))
                ON CONFLICT (url) DO UPDATE SET sequence = GREATEST(webhook_cursors.sequence, excluded.sequence)
                """)
        }
    }
}
