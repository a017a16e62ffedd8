import Foundation
import Synchronization
import Testing
import TwinBank
import TwinBankSQLite
import TwinCore
import TwinTesting

/// The storage seam's promise to async code: blocking storage work runs where the storage allows it, never on a
/// thread of Swift's cooperative pool; under `BlockingWork.forbiddingOnTasks` a debug build refuses a storage call
/// made on a task's thread without a hop (the check every async entry point of the libraries runs under).
@Suite struct BlockingWorkTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite
        var testDescription: String { rawValue }
        func storage() throws -> any BankStorage {
            switch self {
            case .memory: MemoryStorage()
            case .sqlite: try SQLiteStorage.createNew(path: try TemporaryFiles.path("bank.sqlite", label: "blocking"))
            }
        }
    }

    static func bank(_ kind: Kind) throws -> Bank {
        let bank = Bank(storage: try kind.storage(), clock: ManualClock(try Instant(parsing: "2024-01-01T00:00:00Z"), stepMicroseconds: 1000))
        try bank.createTwin(Twin(id: "p1", kind: .person))
        return bank
    }

    #if DEBUG
    @Test(arguments: Kind.allCases)
    func aStorageCallOnATaskIsRefusedWhereForbidden(_ kind: Kind) async throws {
        let bank = try Self.bank(kind)
        // allowed outside the forbidding scope (a command's or a test's own blocking call)
        #expect(try bank.twinIDs() == ["p1"])
        await BlockingWork.forbiddingOnTasks {
            do {
                _ = try bank.lastSequence()
                Issue.record("a blocking \(kind) read on a task's thread was let through")
            } catch let e as BankError {
                #expect(e.code == .blockingOnTask)
                #expect(e.message.contains("Bank.run"), "\(e.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
    #endif

    @Test(arguments: Kind.allCases)
    func bankRunReachesTheStorageWithoutBlockingATask(_ kind: Kind) async throws {
        let bank = try Self.bank(kind)
        let (last, onTask) = try await BlockingWork.forbiddingOnTasks {
            try await bank.run { bank in
                (try bank.twinIDs().count, withUnsafeCurrentTask { $0 != nil })
            }
        }
        #expect(last == 1)
        // SQLite's work runs on NIO's blocking pool (no task there); memory's inline, on the task, marked as hopped
        #expect(onTask == (kind == .memory))
        // a write through the hop commits, and what it throws comes back unchanged
        let written = try await bank.run { bank in
            try bank.append([EventDraft(twin: "p1", effective: EffectiveTime(try Instant(parsing: "2023-12-31T00:00:00Z")),
                                        code: .loinc("2339-0"), value: .quantity(Quantity(90, "mg/dL")), source: Source(.device, "cgm"))])
        }
        #expect(written.count == 1)
        await #expect(throws: BankError.self) {
            try await bank.run { try $0.twin("nobody") }
        }
    }

    @Test func aCancelledTaskDoesNotRunTheWork() async throws {
        let bank = try Self.bank(.sqlite)
        let ran = Mutex(false)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await bank.run { _ in ran.withLock { $0 = true } }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ran.withLock { $0 } == false)
    }
}
