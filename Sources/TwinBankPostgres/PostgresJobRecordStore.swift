import Foundation
import PostgresNIO
import TwinBank

/// The ``TwinBank/JobRecordStore`` of a PostgreSQL bank: the table `server_jobs` (id, ordinal, the record's bytes)
/// in the bank's database (migration `v4-server-jobs`), through the storage's connections. Each call is one
/// transaction, durable when it returns (PostgreSQL's commit).
public final class PostgresJobRecordStore: JobRecordStore, @unchecked Sendable {
    public let storage: PostgresStorage

    /// The job records of an open bank.
    public init(_ storage: PostgresStorage) { self.storage = storage }

    public func save(_ records: [JobRecord]) throws {
        guard !records.isEmpty else { return }
        try BlockingWork.check("PostgreSQL write of the job records of \(storage.location)")
        try storage.transaction("BEGIN", prepare: { _ in }) { c in
            for r in records {
                try c.execute("""
                    INSERT INTO server_jobs (id, ordinal, record) VALUES (\(r.id), \(r.ordinal), \(ByteBuffer(bytes: r.bytes)))
                    ON CONFLICT (id) DO UPDATE SET ordinal = excluded.ordinal, record = excluded.record
                    """)
            }
        }
    }

    public func delete(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try BlockingWork.check("PostgreSQL write of the job records of \(storage.location)")
        try storage.transaction("BEGIN", prepare: { _ in }) { c in
            _ = try c.execute("DELETE FROM server_jobs WHERE id = ANY(\(ids))")
        }
    }

    public func records() throws -> [JobRecord] {
        try BlockingWork.check("PostgreSQL read of the job records of \(storage.location)")
        return try storage.withConnection { c in
            try c.query("SELECT id, ordinal, record FROM server_jobs ORDER BY ordinal, id").rows.map { row in
                let (id, ordinal, record) = try PostgresFailure.decoding(storage.location) { try row.decode((String, Int64, ByteBuffer).self) }
                return JobRecord(id: id, ordinal: ordinal, bytes: Array(record.readableBytesView))
            }
        }
    }
}
