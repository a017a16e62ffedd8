import Testing
import TwinBank
@testable import TwinBankPostgres
import TwinStorageTesting
import TwinTesting

/// A server's job records (`JobRecordStore`) in a PostgreSQL bank (the table `server_jobs`, migration
/// `v4-server-jobs`), read again through a second storage on the same database.
@Suite struct PostgresJobRecordStoreTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func inAPostgresBank() throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let storage = try PostgresStorage(location: try scratch.create())
        defer { storage.close() }
        var reopened: PostgresStorage?
        defer { reopened?.close() }
        try JobRecordStoreCases.run(PostgresJobRecordStore(storage), reopen: {
            let again = try PostgresStorage(location: storage.location, create: false)
            reopened = again
            return PostgresJobRecordStore(again)
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
        try JobRecordStoreCases.backupRoundTrip(source, PostgresJobRecordStore(source), into: target, PostgresJobRecordStore(target), orphan: MemoryStorage())
    }
}
