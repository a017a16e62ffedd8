import Foundation
import GRDB
import GRDBSQLite
import TwinCore

/// Binds and steps a prepared GRDB statement through the SQLite C API, for the hot paths (ingest, and the bulk
/// reads of aggregates): GRDB's `StatementArguments` builds each row through generic key paths, and its SQL
/// interpolation of a list of thousands of values costs more than SQLite itself. The statement stays owned by
/// GRDB (its statement cache, or this value when not cached); this only binds, steps, reads columns and resets
/// it inside the surrounding GRDB transaction.
struct RawStatement {
    let db: Database
    let statement: Statement
    var handle: SQLiteStatement { statement.sqliteStatement }

    /// - Parameter cached: from GRDB's statement cache (false: prepared for this use only, for SQL text that
    ///   is not used again, such as an `IN` list of a particular length).
    init(_ db: Database, sql: String, cached: Bool = true) throws {
        self.db = db
        self.statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @inline(__always) func reset() { sqlite3_reset(handle) }
    @inline(__always) func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }
    @inline(__always) func bind(_ i: Int32, _ v: Int64?) {
        if let v { sqlite3_bind_int64(handle, i, v) } else { sqlite3_bind_null(handle, i) }
    }
    @inline(__always) func bind(_ i: Int32, _ v: Double) { sqlite3_bind_double(handle, i, v) }
    @inline(__always) func bindNull(_ i: Int32) { sqlite3_bind_null(handle, i) }
    @inline(__always) func bind(_ i: Int32, _ s: String?) {
        guard var s else { sqlite3_bind_null(handle, i); return }
        s.withUTF8 { u in
            guard u.count > 0 else { sqlite3_bind_text(handle, i, "", 0, RawStatement.transient); return }
            _ = u.withMemoryRebound(to: CChar.self) { c in
                sqlite3_bind_text(handle, i, c.baseAddress, Int32(u.count), RawStatement.transient)
            }
        }
    }
    @inline(__always) func bind(_ i: Int32, _ d: Data?) {
        guard let d else { sqlite3_bind_null(handle, i); return }
        d.withUnsafeBytes { b in _ = sqlite3_bind_blob(handle, i, b.baseAddress, Int32(b.count), RawStatement.transient) }
    }

    /// Binds bytes as a BLOB (copied by SQLite).
    @inline(__always) func bindBlob(_ i: Int32, _ b: UnsafeRawBufferPointer) {
        _ = sqlite3_bind_blob(handle, i, b.baseAddress, Int32(b.count), RawStatement.transient)
    }

    /// Binds a content hash as its 32 bytes (a BLOB, as the objects table stores it).
    @inline(__always) func bind(_ i: Int32, _ h: ContentHash) {
        var words = (h.w0.bigEndian, h.w1.bigEndian, h.w2.bigEndian, h.w3.bigEndian)
        withUnsafeBytes(of: &words) { b in _ = sqlite3_bind_blob(handle, i, b.baseAddress, 32, RawStatement.transient) }
    }

    /// Steps once: true when a row is ready to read, false when done (reset then). Throws on an error, reset.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { sqlite3_reset(handle); return false }
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(handle)
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }

    /// The current row's column (0-based) as text (empty for NULL).
    @inline(__always) func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }

    /// The current row's column (0-based) as bytes, valid until the next step or reset (empty for NULL).
    @inline(__always) func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        let p = sqlite3_column_blob(handle, column)
        return UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : Int(sqlite3_column_bytes(handle, column)))
    }

    /// Steps the statement to completion and resets it.
    func run() throws {
        let code = sqlite3_step(handle)
        if code != SQLITE_DONE && code != SQLITE_ROW {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        sqlite3_reset(handle)
    }
}
