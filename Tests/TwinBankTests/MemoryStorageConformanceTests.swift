import Testing
import TwinBank
import TwinGovernance
import TwinStorageTesting

/// The shared conformance suite (TwinStorageTesting) on the in-memory storage and its audit store. The memory
/// storage keeps nothing beyond its handle, so the durability cases do not apply.
@Suite struct MemoryStorageConformanceTests {
    static let subject = StorageSubject(make: { MemoryStorage() }, auditStore: { _ in MemoryAuditStore() })

    @Test(arguments: StorageConformance.cases(for: [.auditStore]))
    func conforms(_ c: StorageConformanceCase) throws {
        try StorageConformance.run(c, Self.subject)
    }
}
