import Foundation

/// Where a server keeps, per webhook URL, how far its deliveries have gone, so an alert still queued or being retried
/// when the server stopped is delivered after a restart: the bank sequence of the last alert delivered (a 2xx) or
/// abandoned (its attempts exhausted) for that URL. In the bank's own storage (SQLite: the table `webhook_cursors`,
/// migration `v6-webhook-cursors`; PostgreSQL: the same table, migration `v5-webhook-cursors`), or in memory
/// (``MemoryWebhookCursorStore``) for a memory bank and tests.
///
/// The cursors are not the bank's data: they are not in its thread, its commits or its bundles. A backup carries them
/// (``WebhookCursorBackup``, the attachment `webhooks`), so a server on the restored bank owes each URL the alerts
/// after its cursor, as the backed-up server did.
///
/// Calls are **blocking** like the storage's: async callers go through the storage's ``BankStorage/runBlocking(_:)``.
/// Each call is one transaction: when it returns, what it did is durable.
public protocol WebhookCursorStore: Sendable {
    /// Every URL's cursor (the bank sequence of its last alert delivered or abandoned), by URL.
    func cursors() throws -> [String: Int64]
    /// Moves `url`'s cursor to `sequence`, or creates it there; a cursor never moves back (a lower `sequence` than
    /// the stored one leaves it as it is).
    func advance(_ url: String, to sequence: Int64) throws
}

/// A ``WebhookCursorStore`` in this process's memory: what a memory bank keeps, and the tests' store.
public final class MemoryWebhookCursorStore: WebhookCursorStore, @unchecked Sendable {
    private let lock = NSLock()
    private var byURL: [String: Int64] = [:]

    public init() {}

    public func cursors() throws -> [String: Int64] { lock.withLock { byURL } }

    public func advance(_ url: String, to sequence: Int64) throws {
        lock.withLock { byURL[url] = max(byURL[url] ?? sequence, sequence) }
    }
}
