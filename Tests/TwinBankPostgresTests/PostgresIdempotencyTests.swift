import Foundation
import Synchronization
import Testing
@testable import TwinBankPostgres
import TwinBank
import TwinCore
import TwinTesting

/// Idempotency keys on a real server: a retry after a lost answer or a killed connection appends once, and
/// concurrent retries from several connections (as several processes would) append once.
@Suite struct PostgresIdempotencyTests {
    static let enabled = PostgresTestServer.isAvailable
    static let skip = Comment(rawValue: PostgresTestServer.skipMessage)

    /// Forwards to a PostgreSQL storage; the next write fails as planned: its connection killed after the body ran
    /// (before the commit), or an error thrown after the commit (the answer lost on the way back).
    final class FaultyStorage: BankStorage, @unchecked Sendable {
        enum Fault { case none, killBeforeCommit, loseAnswerAfterCommit }
        let base: PostgresStorage
        let scratch: ScratchDatabases
        let fault = Mutex(Fault.none)
        init(_ base: PostgresStorage, _ scratch: ScratchDatabases) { self.base = base; self.scratch = scratch }
        func read<T>(_ body: (any StorageReader) throws -> T) throws -> T { try base.read(body) }
        func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
            let planned = fault.withLock { f in defer { f = .none }; return f }
            let result = try base.write { w in
                let r = try body(w)
                if planned == .killBeforeCommit {
                    let pid = try #require(try (w as! PostgresTransaction).c.one(Int.self, "SELECT pg_backend_pid()::int8"))
                    try scratch.admin(base.location.database) { c in try c.execute("SELECT pg_terminate_backend(\(pid))") }
                }
                return r
            }
            if planned == .loseAnswerAfterCommit { throw BankError(.storageFailure, "the connection closed before the answer arrived") }
            return result
        }
        func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T { try await base.runBlocking(body) }
    }

    static func drafts(_ n: Int, twin: TwinID = "p1") throws -> [EventDraft] {
        let start = try Instant(parsing: "2025-01-01T00:00:00Z")
        return (0..<n).map { i in
            EventDraft(twin: twin, effective: EffectiveTime(start.advanced(bySeconds: Double(i * 60))), code: .loinc("2339-0"),
                       value: .quantity(Quantity(Double(80 + i % 50), "mg/dL")), source: Source(.device, "cgm"))
        }
    }

    @Test(.enabled(if: enabled, skip)) func aRetryAfterAKilledConnectionOrALostAnswerAppendsOnce() throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let storage = try PostgresStorage(location: try scratch.create())
        defer { storage.close() }
        let faulty = FaultyStorage(storage, scratch)
        let bank = Bank(storage: faulty)
        try bank.createTwin(Twin(id: "p1", kind: .person))
        // killed before the commit: the write fails and leaves nothing; the retry appends
        let batch = try Self.drafts(100)
        faulty.fault.withLock { $0 = .killBeforeCommit }
        #expect(throws: BankError.self) { try bank.append(batch, idempotencyKey: "upload-1") }
        #expect(try bank.lastSequence() == 0)
        let first = try bank.append(batch, idempotencyKey: "upload-1")
        #expect(first.count == 100)
        // committed but the answer lost: the retry appends nothing and answers as the first time
        let second = Array(try Self.drafts(200).suffix(100))
        faulty.fault.withLock { $0 = .loseAnswerAfterCommit }
        #expect(throws: BankError.self) { try bank.append(second, idempotencyKey: "upload-2") }
        let retried = try bank.append(second, idempotencyKey: "upload-2")
        #expect(retried.firstSequence == first.lastSequence + 1 && retried.count == 100)
        #expect(try bank.append(second, idempotencyKey: "upload-2") == retried)
        #expect(try bank.lastSequence() == 200)
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 200)
    }

    @Test(.enabled(if: enabled, skip)) func concurrentRetriesFromManyConnectionsAppendOnce() async throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let location = try scratch.create()
        let storages = try (0..<2).map { _ in try PostgresStorage(location: location) }
        defer { storages.forEach { $0.close() } }
        try Bank(storage: storages[0]).createTwin(Twin(id: "p1", kind: .person))
        let batch = try Self.drafts(500)
        // 8 clients on two storages (separate connections, as two processes) send the same keyed batch at once
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for i in 0..<8 {
                let bank = Bank(storage: storages[i % 2])
                group.addTask { try await bank.run { try $0.append(batch, idempotencyKey: "shared-upload") } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8 && Set(results).count == 1)
        let bank = Bank(storage: storages[1])
        #expect(try bank.lastSequence() == 500)
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 500)
    }
}
