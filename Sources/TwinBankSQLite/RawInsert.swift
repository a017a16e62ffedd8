import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps a prepared GRDB statement through the SQLite C API, for the ingest hot path: GRDB's
/// `StatementArguments` builds each row through generic key paths, which costs more than SQLite itself.
/// The statement stays owned by GRDB (its statement cache); this only binds, steps and resets it inside
/// the surrounding GRDB transaction.
struct RawStatement {
    let db: Database
    let handle: SQLiteStatement

    init(_ db: Database, sql: String) throws {
        self.db = db
        self.handle = try db.cachedStatement(sql: sql).sqliteStatement
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
