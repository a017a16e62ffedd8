import Testing
import TwinBank
@testable import TwinBankPostgres
import TwinStorageTesting
import TwinTesting

/// A server's webhook cursors (`WebhookCursorStore`) in a PostgreSQL bank (the table `webhook_cursors`, migration
/// `v5-webhook-cursors`), read again through a second storage on the same database, and carried by a backup into
/// another PostgreSQL bank.
@Suite struct PostgresWebhookCursorStoreTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func inAPostgresBank() throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let storage = try PostgresStorage(location: try scratch.create())
        defer { storage.close() }
        var reopened: PostgresStorage?
        defer { reopened?.close() }
        try WebhookCursorStoreCases.run(PostgresWebhookCursorStore(storage), reopen: {
            let again = try PostgresStorage(location: storage.location, create: false)
            reopened = again
            return PostgresWebhookCursorStore(again)
        })
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func aBackupCarriesThemIntoAnotherPostgresBank() throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let source = try PostgresStorage(location: try scratch.create())
        defer { source.close() }
        let target = try PostgresStorage(location: try scratch.create())
        defer { target.close() }
        try WebhookCursorStoreCases.backupRoundTrip(source, PostgresWebhookCursorStore(source), into: target, PostgresWebhookCursorStore(target), orphan: MemoryStorage())
    }
}
