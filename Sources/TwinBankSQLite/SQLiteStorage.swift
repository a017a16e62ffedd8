import Foundation
import GRDB
import NIOPosix
import TwinBank
import TwinCore

/// The embedded default ``BankStorage``: one SQLite file through GRDB, in WAL mode.
///
/// - A bank file this type creates is owner-only (mode 0600), and so are its `-wal` and `-shm` files.
///
/// - Every `write` is one SQLite transaction: all or nothing, also across a crash or `kill -9`.
/// - Events are stored compactly: integer times, dictionary ids for twins, codes, sources and units,
///   quantities as REAL, no per-row JSON (provenance only when present). One index serves every thread query:
///   `(twin, code, effective)`, so the latest value of a code as of a time is one index seek; the latest values
///   of a code for every twin (``StorageReader/latestValues(code:category:atOrBefore:from:maxSequence:visibility:plausibleOnly:)``)
///   are one query: one such seek per twin that has the code, found by `twin_codes(code, twin)`.
/// - Files are marked with `PRAGMA application_id` (`TWNB`); opening a file that is not SQLite, or SQLite
///   without the bank's schema, or a corrupted file, throws ``BankError`` with code `notABank`.
public final class SQLiteStorage: BankStorage, @unchecked Sendable {
    /// `TWNB` as a 32-bit integer.
    public static let applicationID: Int32 = 0x54574E42
    /// The most bytes of the file SQLite maps into memory per connection (1 GiB).
    static let mmapSize = 1 << 30

    public let path: String
    let pool: DatabasePool
    let dictionary = SharedDictionary()

    /// Creates a new, empty bank file at `path`, refusing any existing file or folder there (a bank is never
    /// reinitialised, and nothing else is overwritten).
    /// - Throws: ``BankError`` `bankExists` naming the path (nothing changed), and the errors of ``init(path:create:)``.
    public static func createNew(path: String) throws -> SQLiteStorage {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            let what = isDir.boolValue ? "a folder" : (try? SQLiteStorage(path: path, create: false)) != nil ? "a bank" : "a file that is not a bank"
            throw BankError(.bankExists, "'\(path)' exists (\(what)): nothing changed; give a new path to create a bank, or use the existing bank with --bank \(path)", value: path)
        }
        return try SQLiteStorage(path: path, create: true)
    }

    /// Opens (and with `create`, creates) a bank file.
    /// - Throws: ``BankError`` `notABank` for a missing file (without `create`), a file that is not a
    ///   SQLite database, a SQLite database that is not a bank, or a corrupted file.
    public init(path: String, create: Bool = true) throws {
        self.path = path
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if isDir.boolValue {
            throw BankError(.notABank, "'\(path)' is a directory, not a bank file", value: path)
        }
        if !exists && !create {
            throw BankError(.notABank, "no bank at '\(path)': create one with `twinbank init --bank \(path)`", value: path)
        }
        var nonEmpty = false
        if exists, let attrs = try? fm.attributesOfItem(atPath: path), let size = attrs[.size] as? NSNumber, size.intValue > 0 {
            nonEmpty = true
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw BankError(.notABank, "cannot read '\(path)'", value: path)
            }
            let header = h.readData(ofLength: 16)
            try? h.close()
            guard header == Data("SQLite format 3\0".utf8) else {
                throw BankError(.notABank, "'\(path)' is not a Twinbank bank: it is not a SQLite database", value: path)
            }
        }
        if !exists {
            // owner-only from the first byte: SQLite gives the -wal and -shm files the mode of the bank file
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                throw BankError(.notABank, "cannot create the bank file '\(path)': \(String(cString: strerror(errno)))", value: path)
            }
            fchmod(fd, 0o600)
            close(fd)
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // what a write deletes or shrinks is overwritten with zeros, not left in free space (an erasure's purpose;
            // see eraseFreedSpace for what this alone does not reach)
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // read pages in place, not copied into each connection's small page cache: a query over all twins
            // (an aggregate) reads most of the file (address space only; a no-op where SQLite has no mmap)
            try db.execute(sql: "PRAGMA mmap_size = \(SQLiteStorage.mmapSize)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw BankError(.notABank, "cannot open '\(path)' as a bank: \(SQLiteStorage.describe(error))", value: path)
        }
        do {
            if nonEmpty {
                let (appID, tables) = try pool.read { db in
                    (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                     try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0)
                }
                if appID != SQLiteStorage.applicationID && tables > 0 {
                    throw BankError(.notABank, "'\(path)' is a SQLite database but not a Twinbank bank (application_id \(appID), \(tables) tables)", value: path)
                }
            }
            if nonEmpty, try pool.read({ db in try SQLiteStorage.migrator.hasBeenSuperseded(db) }) {
                throw BankError(.newerSchema, "'\(path)' was written by a newer version of Twinbank (its schema has migrations this version does not know): it is left as it is; use a version at least as new as the bank's", value: path)
            }
            try SQLiteStorage.migrator.migrate(pool)
            if !exists { for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) } }
            try pool.read { db in try dictionary.reload(db) }
        } catch let e as BankError {
            throw e
        } catch {
            throw BankError(.notABank, "'\(path)' cannot be used as a bank: \(SQLiteStorage.describe(error))", value: path)
        }
    }

    /// Applies the schema migrations the bank file at `path` lacks and returns their names, in order (empty when it
    /// was current): what `twinbank migrate` reports. Opening a bank applies them too.
    /// - Throws: the errors of ``init(path:create:)`` (without creating a file).
    public static func migrate(path: String) throws -> [String] {
        let before = try applied(path: path)
        _ = try SQLiteStorage(path: path, create: false)
        let after = try applied(path: path)
        return after.filter { !before.contains($0) }
    }

    /// The names of the migrations applied to the bank file at `path`, in the migrator's order (none for an empty file).
    static func applied(path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BankError(.notABank, "no bank at '\(path)': create one with `twinbank init --bank \(path)`", value: path)
        }
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            let done = try queue.read { db in try migrator.appliedIdentifiers(db) }
            return migrator.migrations.filter(done.contains)
        } catch {
            throw BankError(.notABank, "'\(path)' cannot be used as a bank: \(SQLiteStorage.describe(error))", value: path)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the file is corrupted (\(e.message ?? "\(e.resultCode)"))"
            default: return e.message ?? "\(e.resultCode)"
            }
        }
        return "\(error)"
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-schema") { db in
            try db.execute(sql: "PRAGMA application_id = \(SQLiteStorage.applicationID)")
            try db.execute(sql: """
                CREATE TABLE twins (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE codes (id INTEGER PRIMARY KEY, system TEXT NOT NULL, code TEXT NOT NULL, display TEXT NOT NULL DEFAULT '',
                                    has_display INTEGER NOT NULL DEFAULT 0, UNIQUE(system, code, display, has_display));
                CREATE TABLE sources (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
                CREATE TABLE units (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    twin INTEGER NOT NULL,
                    code INTEGER NOT NULL,
                    eff INTEGER NOT NULL,
                    eff_end INTEGER,
                    recorded INTEGER NOT NULL,
                    category INTEGER NOT NULL,
                    vkind INTEGER NOT NULL,
                    num REAL,
                    unit INTEGER,
                    txt TEXT,
                    bin BLOB,
                    source INTEGER NOT NULL,
                    prov BLOB,
                    h0 INTEGER NOT NULL,
                    h1 INTEGER NOT NULL,
                    h2 INTEGER NOT NULL,
                    h3 INTEGER NOT NULL,
                    retracted INTEGER,
                    erasure TEXT
                );
                CREATE INDEX events_twin_code_eff ON events(twin, code, eff);
                CREATE TABLE twin_codes (twin INTEGER NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (twin, code)) WITHOUT ROWID;
                CREATE TABLE twin_sources (source INTEGER NOT NULL, twin INTEGER NOT NULL, PRIMARY KEY (source, twin)) WITHOUT ROWID;
                CREATE TABLE batches (last_seq INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, recorded INTEGER NOT NULL);
                CREATE INDEX batches_recorded ON batches(recorded);
                CREATE TABLE refs (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE objects (hash BLOB PRIMARY KEY, kind TEXT NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
                CREATE TABLE code_units (system TEXT NOT NULL, code TEXT NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (system, code)) WITHOUT ROWID;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO meta(key, value) VALUES ('last_seq', 0);
                """)
        }
        // bulk reads over all twins (aggregates): the twins that have a code, without scanning every twin's codes
        m.registerMigration("v2-twin-codes-by-code") { db in
            try db.execute(sql: "CREATE INDEX twin_codes_code ON twin_codes(code, twin)")
        }
        // the tamper-evident audit log (TwinGovernance's AuditLog through SQLiteAuditStore): entries as columns (their
        // canonical bytes are recomputed from them) with their stored leaf hash, the inner Merkle nodes by (level,
        // index), signed heads
        m.registerMigration("v3-audit-log") { db in
            try db.execute(sql: """
                CREATE TABLE audit_entry (
                    seq INTEGER PRIMARY KEY,
                    time INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    role TEXT,
                    organisation TEXT,
                    action TEXT NOT NULL,
                    twin TEXT,
                    purpose TEXT NOT NULL,
                    decision TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    leaf BLOB NOT NULL
                );
                CREATE INDEX audit_entry_twin ON audit_entry(twin, seq) WHERE twin IS NOT NULL;
                CREATE TABLE audit_node (level INTEGER NOT NULL CHECK (level > 0), idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
                CREATE TABLE audit_head (size INTEGER PRIMARY KEY, root BLOB NOT NULL, time INTEGER NOT NULL, signature BLOB NOT NULL);
                """)
        }
        // idempotency keys of append batches (Bank.append(_:idempotencyKey:)): unique in the bank
        m.registerMigration("v4-idempotency-keys") { db in
            try db.execute(sql: """
                ALTER TABLE batches ADD COLUMN idem_key TEXT;
                ALTER TABLE batches ADD COLUMN idem_digest BLOB;
                CREATE UNIQUE INDEX batches_idem ON batches(idem_key) WHERE idem_key IS NOT NULL;
                """)
        }
        // the records of a server's long jobs (SQLiteJobRecordStore), so they outlive the process: not the bank's data
        m.registerMigration("v5-server-jobs") { db in
            try db.execute(sql: "CREATE TABLE server_jobs (id TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, record BLOB NOT NULL) WITHOUT ROWID")
        }
        // per webhook URL, the sequence of the last alert delivered or abandoned (SQLiteWebhookCursorStore): not the bank's data
        m.registerMigration("v6-webhook-cursors") { db in
            try db.execute(sql: "CREATE TABLE webhook_cursors (url TEXT PRIMARY KEY, sequence INTEGER NOT NULL) WITHOUT ROWID")
        }
        // a twin's thread in its order (effective start, then sequence: the rowid) without a sort, and a page after a
        // cursor (ThreadQuery.after) as one index range: the thread read whole or paged with no code named
        m.registerMigration("v7-events-by-time") { db in
            try db.execute(sql: "CREATE INDEX events_twin_eff ON events(twin, eff)")
        }
        return m
    }

    /// Runs blocking work on NIO's shared blocking thread pool (`NIOThreadPool.singleton`), never on the calling
    /// task's thread: the task suspends while SQLite reads and writes.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    public func read<T>(_ body: (any StorageReader) throws -> T) throws -> T {
        try BlockingWork.check("SQLite read of '\(path)'")
        do {
            return try pool.read { db in
                try dictionary.refreshIfStale(db)
                let tx = SQLiteTransaction(db: db, shared: dictionary)
                return try body(tx)
            }
        } catch let e as BankError { throw e } catch let e as TwinError { throw e } catch let e as DatabaseError {
            throw BankError(.storageFailure, "bank storage error in '\(path)': \(SQLiteStorage.describe(e))", value: path)
        }
    }

    public func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        try BlockingWork.check("SQLite write of '\(path)'")
        var pending: SQLiteTransaction?
        do {
            let result = try pool.write { db in
                try dictionary.refreshIfStale(db)
                let tx = SQLiteTransaction(db: db, shared: dictionary)
                pending = tx
                return try body(tx)
            }
            if let pending {
                if pending.droppedDictionaryEntries { try pool.read { db in try dictionary.reload(db) } } else { dictionary.merge(pending.local) }
            }
            return result
        } catch let e as BankError { throw e } catch let e as TwinError { throw e } catch let e as DatabaseError {
            throw BankError(.storageFailure, "bank storage error in '\(path)': \(SQLiteStorage.describe(e))", value: path)
        }
    }
}

extension SQLiteStorage {
    /// How long ``eraseFreedSpace()`` waits for readers to let the write-ahead log be emptied: this many attempts,
    /// ``checkpointPause`` apart.
    static let checkpointAttempts = 50
    static let checkpointPause: UInt32 = 100_000

    /// After an erasure: rebuilds the file (`VACUUM`, its temporary copy in memory, not in a temporary file) and
    /// empties the write-ahead log (`PRAGMA wal_checkpoint(TRUNCATE)`, retried while readers finish), so neither
    /// the bank file nor its `-wal` keeps a byte of what was purged.
    ///
    /// `secure_delete` alone is not enough: it zeroes what a delete or update frees, but when SQLite rebalances a
    /// page it rewrites the cells and can leave old copies in the unallocated gap between the cell pointers and the
    /// cells, which no later delete touches (checked on a file written by SQLite 3.40: a purged REAL value survived
    /// there). `VACUUM` writes every page anew. It costs a rewrite of the whole file, once per erasure.
    public func eraseFreedSpace() throws -> PhysicalErasure {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                try db.execute(sql: "VACUUM")
            }
            for attempt in 1...SQLiteStorage.checkpointAttempts {
                let busy = try pool.writeWithoutTransaction { db -> Bool in
                    let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    return (row?[0] as Int64? ?? 1) != 0
                }
                let attributes = try? FileManager.default.attributesOfItem(atPath: path + "-wal")
                let walSize = (attributes?[.size] as? NSNumber)?.intValue ?? 0
                if !busy && walSize == 0 { return PhysicalErasure(applies: true, rebuilt: true, walTruncated: true) }
                if attempt < SQLiteStorage.checkpointAttempts { usleep(SQLiteStorage.checkpointPause) }
            }
            return PhysicalErasure(applies: true, rebuilt: true, walTruncated: false, advice: """
                the write-ahead log '\(path)-wal' could not be emptied because another connection was reading the bank: \
                it may still hold erased bytes until the next checkpoint; close the other processes using the bank and run \
                `sqlite3 \(path) 'PRAGMA wal_checkpoint(TRUNCATE)'` (or any erase again)
                """)
        } catch let e as DatabaseError {
            throw BankError(.storageFailure, "the erasure committed, but rebuilding '\(path)' to remove the freed bytes failed: \(SQLiteStorage.describe(e)); run `sqlite3 \(path) VACUUM`", value: path)
        }
    }
}

/// Dictionary tables (twins, codes, sources, units) cached in memory. Ids never change once committed;
/// entries created by a transaction are merged only after it commits.
///
/// Sources can be as many as events (every FHIR record is its own source), so at most ``sourceCacheLimit``
/// of them are cached; the others are looked up in the table when needed. Memory stays bounded however many
/// records a bank or a single import holds.
final class SharedDictionary: @unchecked Sendable {
    /// The most sources kept in memory, shared or per transaction.
    static let sourceCacheLimit = DictionaryMaps.sourceLimit

    typealias Maps = DictionaryMaps
    private let lock = NSLock()
    private var maps = Maps()
    /// The bank's dictionary generation the cache was loaded at (`meta.dictionary_generation`, 0 when absent): an
    /// erasure drops entries and increments it, so every connection, in any process, reloads before it uses an id.
    private var generation: Int64 = 0

    static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'dictionary_generation'")) ?? 0
    }

    /// Reloads the cache if another transaction (here or in another process) dropped dictionary entries since it
    /// was loaded: one primary-key lookup per transaction.
    func refreshIfStale(_ db: Database) throws {
        let current = try SharedDictionary.generation(db)
        lock.lock(); let loaded = generation; lock.unlock()
        if current != loaded { try reload(db) }
    }

    var snapshot: Maps { lock.lock(); defer { lock.unlock() }; return maps }

    func merge(_ local: Maps) {
        lock.lock(); defer { lock.unlock() }
        maps.merge(local)
    }

    func reload(_ db: Database) throws {
        let m = try SharedDictionary.load(db)
        let g = try SharedDictionary.generation(db)
        lock.lock(); defer { lock.unlock() }
        maps = m
        generation = g
    }

    static func load(_ db: Database) throws -> Maps {
        var m = Maps()
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM twins") {
            let id: Int64 = row[0]; let name: String = row[1]
            m.twinID[name] = id
            if let t = try? TwinID(name) { m.twinName[id] = t }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, system, code, display, has_display FROM codes") {
            let id: Int64 = row[0]
            let hasDisplay: Bool = row[4]
            let c = Concept(system: row[1], code: row[2], display: hasDisplay ? row[3] as String : nil)
            m.codeID[c] = id; m.codeByID[id] = c
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, text FROM sources ORDER BY id LIMIT ?", arguments: [SharedDictionary.sourceCacheLimit]) {
            let id: Int64 = row[0]
            if let s = try? Source(parsing: row[1]) { m.sourceID[s] = id; m.sourceByID[id] = s }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, text FROM units") {
            let id: Int64 = row[0]; let t: String = row[1]
            m.unitID[t] = id; m.unitByID[id] = t
        }
        return m
    }
}
