import Testing
import TwinBank
import TwinBankSQLite
import TwinGovernance
import TwinStorageTesting
import TwinTesting

/// The shared conformance suite (TwinStorageTesting) on the SQLite storage: a new bank file per storage, reopened
/// by path for the durability cases, and the audit log in the bank file (SQLiteAuditStore).
@Suite struct SQLiteStorageConformanceTests {
    static let subject = StorageSubject(
        make: { try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "conformance")) },
        reopen: { storage in try SQLiteStorage(path: (storage as! SQLiteStorage).path, create: false) },
        auditStore: { storage in SQLiteAuditStore(storage as! SQLiteStorage) })

    @Test(arguments: StorageConformance.cases(for: [.reopen, .auditStore]))
    func conforms(_ c: StorageConformanceCase) throws {
        try StorageConformance.run(c, Self.subject)
    }

    /// Every case of the suite applies to SQLite.
    @Test func everyCaseRuns() {
        #expect(StorageConformance.cases(for: [.reopen, .auditStore]).count == StorageConformance.all.count)
    }
}
