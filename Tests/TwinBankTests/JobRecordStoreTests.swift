import Testing
import TwinBank
import TwinBankSQLite
import TwinStorageTesting
import TwinTesting

/// A server's job records (`JobRecordStore`) in memory and in a SQLite bank (the table `server_jobs`, reopened by path),
/// and carried by a backup (the attachment `jobs`) into the restored bank.
@Suite struct JobRecordStoreTests {
    @Test func inMemory() throws {
        try JobRecordStoreCases.run(MemoryJobRecordStore())
    }

    @Test func aBackupCarriesThemInMemory() throws {
        try JobRecordStoreCases.backupRoundTrip(MemoryStorage(), MemoryJobRecordStore(), into: MemoryStorage(), MemoryJobRecordStore(), orphan: MemoryStorage())
    }

    @Test func aBackupCarriesThemInASQLiteBank() throws {
        let source = try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "jobs-source"))
        let target = try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "jobs-target"))
        try JobRecordStoreCases.backupRoundTrip(source, SQLiteJobRecordStore(source), into: target, SQLiteJobRecordStore(target), orphan: MemoryStorage())
        // the restore to a new bank file (`twinbank restore`) carries them too
        let file = try TemporaryFiles.path("backup.jsonl", label: "jobs-file")
        _ = try BankBackup.write(from: source, to: file, attachments: [JobRecordBackup(store: SQLiteJobRecordStore(source))])
        let path = try TemporaryFiles.path("restored.sqlite", label: "jobs-restored")
        try SQLiteStorage.restoreBackup(from: file, toNewBank: path)
        #expect(try SQLiteJobRecordStore(try SQLiteStorage(path: path, create: false)).records().map(\.id) == ["job-b", "job-a", "job-c"])
    }

    @Test func inASQLiteBank() throws {
        let path = try TemporaryFiles.path("bank.sqlite", label: "jobs")
        let storage = try SQLiteStorage.createNew(path: path)
        try JobRecordStoreCases.run(SQLiteJobRecordStore(storage), reopen: { SQLiteJobRecordStore(try SQLiteStorage(path: path, create: false)) })
    }
}
