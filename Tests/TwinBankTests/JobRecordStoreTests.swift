import Testing
import TwinBank
import TwinBankSQLite
import TwinStorageTesting
import TwinTesting

/// A server's job records (`JobRecordStore`) in memory and in a SQLite bank (the table `server_jobs`, reopened by path).
@Suite struct JobRecordStoreTests {
    @Test func inMemory() throws {
        try JobRecordStoreCases.run(MemoryJobRecordStore())
    }

    @Test func inASQLiteBank() throws {
        let path = try TemporaryFiles.path("bank.sqlite", label: "jobs")
        let storage = try SQLiteStorage.createNew(path: path)
        try JobRecordStoreCases.run(SQLiteJobRecordStore(storage), reopen: { SQLiteJobRecordStore(try SQLiteStorage(path: path, create: false)) })
    }
}
