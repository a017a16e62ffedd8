import Foundation

/// One durable record of a server's long job (`twinbank serve`'s jobs): its id, its order of submission and its
/// content, which the server encodes (JSON) and the storage keeps as opaque bytes.
public struct JobRecord: Sendable, Hashable {
    /// The job's id (unique in the bank).
    public var id: String
    /// The order of submission (higher is newer).
    public var ordinal: Int64
    /// The job as the server encoded it.
    public var bytes: [UInt8]

    public init(id: String, ordinal: Int64, bytes: [UInt8]) {
        self.id = id; self.ordinal = ordinal; self.bytes = bytes
    }
}

/// Where a server keeps its jobs' records so they outlive the process: in the bank's own storage (SQLite: the table
/// `server_jobs`, migration `v5-server-jobs`; PostgreSQL: the same table, migration `v4-server-jobs`), or in memory
/// (``MemoryJobRecordStore``) for a memory bank and tests.
///
/// The records are not the bank's data: they are not in its thread, its commits or its bundles; a backup carries them
/// (``JobRecordBackup``, the attachment `jobs`) so a restored bank lists the same jobs.
///
/// Calls are **blocking** like the storage's: async callers go through the storage's
/// ``BankStorage/runBlocking(_:)``. Each call is one transaction: when it returns, what it did is durable.
public protocol JobRecordStore: Sendable {
    /// Inserts the record, or replaces the one with its id.
    func save(_ records: [JobRecord]) throws
    /// Removes the records with these ids (those absent are ignored).
    func delete(_ ids: [String]) throws
    /// Every record, in increasing ordinal.
    func records() throws -> [JobRecord]
}

/// A ``JobRecordStore`` in this process's memory: what a memory bank keeps (it forgets its jobs with the process,
/// as it forgets itself), and the tests' store.
public final class MemoryJobRecordStore: JobRecordStore, @unchecked Sendable {
    private let lock = NSLock()
    private var byID: [String: JobRecord] = [:]

    public init() {}

    public func save(_ records: [JobRecord]) throws {
        lock.withLock { for r in records { byID[r.id] = r } }
    }

    public func delete(_ ids: [String]) throws {
        lock.withLock { for id in ids { byID[id] = nil } }
    }

    public func records() throws -> [JobRecord] {
        lock.withLock { byID.values.sorted { ($0.ordinal, $0.id) < ($1.ordinal, $1.id) } }
    }
}
