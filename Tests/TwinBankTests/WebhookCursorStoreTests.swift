import Testing
import TwinBank
import TwinBankSQLite
import TwinStorageTesting
import TwinTesting

/// A server's webhook cursors (`WebhookCursorStore`) in memory and in a SQLite bank (the table `webhook_cursors`,
/// reopened by path), and carried by a backup (the attachment `webhooks`) into the restored bank.
@Suite struct WebhookCursorStoreTests {
    @Test func inMemory() throws {
        try WebhookCursorStoreCases.run(MemoryWebhookCursorStore())
    }

    @Test func aBackupCarriesThemInMemory() throws {
        try WebhookCursorStoreCases.backupRoundTrip(MemoryStorage(), MemoryWebhookCursorStore(), into: MemoryStorage(), MemoryWebhookCursorStore(), orphan: MemoryStorage())
    }

    @Test func aBackupCarriesThemInASQLiteBank() throws {
        let source = try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "webhooks-source"))
        let target = try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "webhooks-target"))
        try WebhookCursorStoreCases.backupRoundTrip(source, SQLiteWebhookCursorStore(source), into: target, SQLiteWebhookCursorStore(target), orphan: MemoryStorage())
        // the restore to a new bank file (`twinbank restore`) carries them too, a cursor past the backup's end lowered to it
        let file = try TemporaryFiles.path("backup.jsonl", label: "webhooks-file")
        _ = try BankBackup.write(from: source, to: file, attachments: [WebhookCursorBackup(store: SQLiteWebhookCursorStore(source))])
        let path = try TemporaryFiles.path("restored.sqlite", label: "webhooks-restored")
        try SQLiteStorage.restoreBackup(from: file, toNewBank: path)
        let restored = try SQLiteStorage(path: path, create: false)
        let last = try restored.read { tx in try tx.lastSequence() }
        #expect(try SQLiteWebhookCursorStore(restored).cursors() == ["https://ward.example/alerts": last - 1, "http://127.0.0.1:9/hook?x=1": 0,
                                                                      "https://late.example/hook": last])
    }

    @Test func aMalformedCursorIsRefusedNamingIt() throws {
        let backup = WebhookCursorBackup(store: MemoryWebhookCursorStore())
        for line in [#"{"url":"","sequence":3}"#, #"{"url":"https://x.example","sequence":-1}"#, #"{"url":"https://x.example"}"#, "not json"] {
            let e = try #require(throws: BankError.self) { try backup.restoreRecord(line) }
            #expect(e.code == .invalidBackup && e.message.contains("webhooks"), "\(e)")
        }
        #expect(try backup.store.cursors().isEmpty)
    }

    @Test func inASQLiteBank() throws {
        let path = try TemporaryFiles.path("bank.sqlite", label: "webhook-cursors")
        let storage = try SQLiteStorage.createNew(path: path)
        try WebhookCursorStoreCases.run(SQLiteWebhookCursorStore(storage), reopen: { SQLiteWebhookCursorStore(try SQLiteStorage(path: path, create: false)) })
    }
}
