import Testing
import TwinBank
import TwinBankSQLite
import TwinStorageTesting
import TwinTesting

/// A server's webhook cursors (`WebhookCursorStore`) in memory and in a SQLite bank (the table `webhook_cursors`,
/// reopened by path).
@Suite struct WebhookCursorStoreTests {
    @Test func inMemory() throws {
        try WebhookCursorStoreCases.run(MemoryWebhookCursorStore())
    }

    @Test func inASQLiteBank() throws {
        let path = try TemporaryFiles.path("bank.sqlite", label: "webhook-cursors")
        let storage = try SQLiteStorage.createNew(path: path)
        try WebhookCursorStoreCases.run(SQLiteWebhookCursorStore(storage), reopen: { SQLiteWebhookCursorStore(try SQLiteStorage(path: path, create: false)) })
    }
}
