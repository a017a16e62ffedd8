import Foundation
import GRDB
import TwinBank

/// The ``TwinBank/JobRecordStore`` of a SQLite bank: the table `server_jobs` (id, ordinal, the record's bytes) in
/// the bank file itself, through the bank's own connection pool (migration `v5-server-jobs`). Each call is one
/// transaction, durable when it returns.
public final class SQLiteJobRecordStore: JobRecordStore, @unchecked Sendable {
    public let storage: SQLiteStorage

    /// The job records of an open bank.
    public init(_ storage: SQLiteStorage) { self.storage = storage }

    private func failing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as BankError { throw e } catch {
            throw BankError(.storageFailure, "job records storage error in '\(storage.path)': \(SQLiteStorage.describe(error))", value: storage.path)
        }
    }

    public func save(_ records: [JobRecord]) throws {
        guard !records.isEmpty else { return }
        try BlockingWork.check("SQLite write of the job records of '\(storage.path)'")
        try failing {
            try storage.pool.write { db in
                for r in records {
                    try db.execute(sql: "INSERT OR REPLACE INTO server_jobs(id, ordinal, record) VALUES (?, ?, ?)", arguments: [r.id, r.ordinal, Data(r.bytes)])
                }
            }
        }
    }

    public func delete(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try BlockingWork.check("SQLite write of the job records of '\(storage.path)'")
        try failing {
            try storage.pool.write { db in
                for id in ids { try db.execute(sql: "DELETE FROM server_jobs WHERE id = ?", arguments: [id]) }
            }
        }
    }

    public func records() throws -> [JobRecord] {
        try BlockingWork.check("SQLite read of the job records of '\(storage.path)'")
        return try failing {
            try storage.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, ordinal, record FROM server_jobs ORDER BY ordinal, id").map { row in
                    JobRecord(id: row["id"], ordinal: row["ordinal"], bytes: [UInt8](row["record"] as Data))
                }
            }
        }
    }
}
