import Foundation
import PostgresNIO
import TwinBank
import TwinCore

/// A ``BankStorage`` on a PostgreSQL server, through postgres-nio: the bank of many users and processes.
///
/// - Opening runs the schema's migrations on first use (``PostgresSchema``); a database with a newer schema, or with
///   tables that are not a bank's, is refused (``BankError`` `newerSchema`, `notABank`), as are a malformed URL, a
///   refused connection or a missing database (errors naming the URL without its password).
/// - `read` and `write` keep synchronous bodies and **block the calling thread** on I/O, like SQLite's: each query
///   waits for its future (`EventLoopFuture.wait()`), never on the driver's event loop, which only moves bytes.
///   Asynchronous callers hop onto the storage's own threads with ``runBlocking(_:)``.
/// - Every transaction leases one connection of a small pool. A read is one `REPEATABLE READ READ ONLY`
///   transaction, so all it reads is one snapshot. A write is one transaction that first takes
///   `pg_advisory_xact_lock(`` writeLock ``)`: the bank's write transactions are serialised across every process
///   and connection on the database (sequence numbers come from the bank as `lastSequence() + 1`, so two writers must
///   not interleave), and the lock is released by the commit or rollback. Finer locking (per twin) is a later step.
/// - Ingest (``StorageWriter/append(_:batch:)``) sends a batch of 64 events or more with `COPY ... FROM STDIN` (text
///   format), a smaller one with a multi-row `INSERT`, inside the write's transaction.
/// - A lease never waits: with no idle connection a new one opens (so a read nested in a write cannot deadlock), so a
///   process holds as many connections as it runs transactions at once; `poolSize` of them are kept idle.
public final class PostgresStorage: BankStorage, @unchecked Sendable {
    /// The advisory lock key every write transaction takes (`TWNB`).
    public static let writeLock: Int64 = 0x5457_4E42
    /// The default number of idle connections kept, and of threads ``runBlocking(_:)`` runs bodies on.
    public static let defaultPoolSize = 4

    /// Where the bank is (its description never shows the password).
    public let location: PostgresLocation
    let pool: ConnectionPool
    let dictionary = PostgresDictionary()
    private let threadLock = NSLock()
    private var threadPool: NIOThreadPool?
    private var isClosed = false
    /// The listeners of ``changes()`` running now, cancelled by ``close()``.
    private var feeds: [Int: Task<Void, Never>] = [:]
    private var nextFeed = 0

    /// Opens the bank at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`), applying any migration it lacks,
    /// and with `create`, creating the bank's schema in an empty database.
    /// - Parameters:
    ///   - create: whether an empty database becomes a bank (false: it is refused, `notABank`).
    ///   - poolSize: idle connections kept, and threads of ``runBlocking(_:)``.
    ///   - connectTimeout: how long connecting may take before it fails.
    /// - Throws: ``BankError``: `notABank` for a malformed URL, a missing database or a database that is not a bank;
    ///   `newerSchema`; `storageFailure` for a server that cannot be reached or refuses the login.
    public convenience init(url: String, create: Bool = true, poolSize: Int = PostgresStorage.defaultPoolSize, connectTimeout: TimeAmount = .seconds(10)) throws {
        try self.init(location: PostgresLocation(url: url), create: create, poolSize: poolSize, connectTimeout: connectTimeout)
    }

    /// Opens the bank at `location` (see ``init(url:create:poolSize:connectTimeout:)``).
    public init(location: PostgresLocation, create: Bool = true, poolSize: Int = PostgresStorage.defaultPoolSize, connectTimeout: TimeAmount = .seconds(10)) throws {
        self.location = location
        self.pool = ConnectionPool(location: location, size: poolSize, connectTimeout: connectTimeout)
        let c = try pool.lease()
        do {
            _ = try PostgresSchema.migrate(c, create: create)
            try dictionary.reload(c)
            pool.release(c, reusable: true)
        } catch {
            pool.release(c, reusable: false)
            pool.close(wait: false)
            throw error
        }
    }

    /// Applies the migrations the bank at `url` lacks (creating the schema in an empty database) and returns their
    /// names, in order; empty when it was current. For `twinbank migrate`.
    /// - Throws: the errors of ``init(url:create:poolSize:connectTimeout:)``.
    public static func migrate(url: String, connectTimeout: TimeAmount = .seconds(10)) throws -> [String] {
        try migrate(location: PostgresLocation(url: url), create: true, connectTimeout: connectTimeout)
    }

    /// Applies the migrations the bank at `location` lacks and returns their names, in order (empty when it was
    /// current); with `create`, an empty database gets the whole schema (the first name is then the first
    /// migration's), without it an empty database is refused (`notABank`).
    /// - Throws: the errors of ``init(url:create:poolSize:connectTimeout:)``.
    public static func migrate(location: PostgresLocation, create: Bool, connectTimeout: TimeAmount = .seconds(10)) throws -> [String] {
        let pool = ConnectionPool(location: location, size: 1, connectTimeout: connectTimeout)
        defer { pool.close(wait: true) }
        let c = try pool.lease()
        defer { pool.release(c, reusable: false) }
        return try PostgresSchema.migrate(c, create: create)
    }

    /// The schema version recorded in the bank (the highest applied migration's).
    public func schemaVersion() throws -> Int {
        try withConnection { c in try c.one(Int.self, "SELECT coalesce(max(version), 0) FROM twinbank_schema") ?? 0 }
    }

    deinit {
        for task in threadLock.withLock({ feeds.values }) { task.cancel() }
        pool.close(wait: false)
        threadLock.withLock { threadPool }?.shutdownGracefully { _ in }
    }

    /// Closes the storage: waits for the idle connections to close, stops the threads of ``runBlocking(_:)`` and ends
    /// the streams of ``changes()``.
    /// Transactions running now finish and close their connection; later ones throw ``BankError`` `storageFailure`.
    /// Do not call it from a body run by ``runBlocking(_:)``.
    public func close() {
        pool.close(wait: true)
        let (threads, listeners): (NIOThreadPool?, [Task<Void, Never>]) = threadLock.withLock {
            isClosed = true
            defer { threadPool = nil; feeds = [:] }
            return (threadPool, Array(feeds.values))
        }
        // each listener closes its connection and finishes its stream
        for task in listeners { task.cancel() }
        try? threads?.syncShutdownGracefully()
    }

    /// Runs `body` on a thread the storage owns (an `NIOThreadPool` of `poolSize` threads, started on first use), so
    /// an asynchronous caller waits without blocking a thread of Swift's cooperative pool or an event loop.
    /// - Throws: what `body` throws; ``BankError`` `storageFailure` after ``close()``.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let threads: NIOThreadPool = try threadLock.withLock {
            if isClosed { throw BankError(.storageFailure, "the PostgreSQL bank \(location) was closed", value: location.description) }
            if let t = threadPool { return t }
            let t = NIOThreadPool(numberOfThreads: pool.size)
            t.start()
            threadPool = t
            return t
        }
        return try await threads.runIfActive(body)
    }

    /// Starts a listener of ``changes()`` under an id (so ``close()`` cancels it), or returns false after ``close()``.
    func startFeed(_ start: (_ id: Int) -> Task<Void, Never>) -> Bool {
        threadLock.withLock {
            guard !isClosed else { return false }
            defer { nextFeed += 1 }
            feeds[nextFeed] = start(nextFeed)
            return true
        }
    }

    /// Forgets a listener that has ended.
    func feedEnded(_ id: Int) {
        threadLock.withLock { _ = feeds.removeValue(forKey: id) }
    }

    /// Leases a connection for `body` outside any transaction (each statement its own).
    func withConnection<T>(_ body: (BlockingConnection) throws -> T) throws -> T {
        let c = try pool.lease()
        do {
            let r = try body(c)
            pool.release(c, reusable: true)
            return r
        } catch {
            pool.release(c, reusable: false)
            throw error
        }
    }

    /// Runs `body` in a transaction begun with `begin` (and `prepare`, run inside it first): commits if it returns,
    /// rolls back if it throws. The connection is reused only after a clean commit or rollback.
    func transaction<T>(_ begin: PostgresQuery, prepare: (BlockingConnection) throws -> Void, _ body: (BlockingConnection) throws -> T) throws -> T {
        var c = try pool.lease()
        do {
            try c.execute(begin)
        } catch {
            // an idle connection the server closed meanwhile (a restart, an idle timeout): nothing ran yet, so once,
            // on a new connection
            pool.release(c, reusable: false)
            c = try pool.connect()
            do { try c.execute(begin) } catch {
                pool.release(c, reusable: false)
                throw error
            }
        }
        let result: T
        do {
            try prepare(c)
            result = try body(c)
        } catch {
            let clean = (try? c.execute("ROLLBACK")) != nil
            pool.release(c, reusable: clean)
            throw error
        }
        do {
            try c.execute("COMMIT")
        } catch {
            pool.release(c, reusable: false)
            throw error
        }
        pool.release(c, reusable: true)
        return result
    }

    /// After an erasure has committed: `VACUUM`s the tables an erasure changes, so the superseded row versions that
    /// held the purged values are removed from the tables and their indexes (no query, and no page inspection of
    /// live rows, reaches them). PostgreSQL does not zero the space they leave, and its write-ahead log, streaming
    /// replicas, WAL archives and base backups keep them until recycled or expired: the result's advice says so.
    public func eraseFreedSpace() throws -> PhysicalErasure {
        _ = try withConnection { c in
            try c.execute("VACUUM events, objects, refs, sources, codes, units, code_units, twin_codes, twin_sources")
        }
        return PhysicalErasure(applies: true, rebuilt: false, walTruncated: nil, advice: """
            PostgreSQL vacuumed the bank's tables at \(location), removing the superseded row versions that held the erased \
            values; the space they leave is not zeroed, and the write-ahead log, streaming replicas, WAL archives and base \
            backups keep those bytes until they are recycled or expired: to rewrite the tables run `VACUUM FULL events, objects` \
            in a maintenance window, and expire backups under your retention policy
            """)
    }

    public func read<T>(_ body: (any StorageReader) throws -> T) throws -> T {
        try BlockingWork.check("PostgreSQL read of \(location)")
        // no dictionary generation check: see PostgresTransaction.writable
        var pending: PostgresTransaction?
        let result = try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", prepare: { _ in }) { c in
            let tx = PostgresTransaction(c, shared: dictionary, writable: false)
            pending = tx
            return try body(tx)
        }
        if let pending { dictionary.mergePermanent(pending.local) }
        return result
    }

    public func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        try BlockingWork.check("PostgreSQL write of \(location)")
        var pending: PostgresTransaction?
        var generation: Int64 = 0
        let result = try transaction("BEGIN", prepare: { c in
            // first, in a statement of its own: the reads after it then see every write committed before the lock
            try c.execute("SELECT pg_advisory_xact_lock(\(PostgresStorage.writeLock))")
            generation = try dictionary.refreshIfStale(c)
        }) { c in
            let tx = PostgresTransaction(c, shared: dictionary, writable: true)
            pending = tx
            let result = try body(tx)
            if tx.changedEvents {
                // inside the transaction: delivered to the listeners at commit, dropped on rollback; NOTIFY is scoped
                // to the database, so one channel name serves every bank on the server
                try c.execute("SELECT pg_notify(\(PostgresStorage.changeChannel), value::text) FROM meta WHERE key = 'last_seq'")
            }
            return result
        }
        if let pending {
            if pending.droppedDictionaryEntries {
                try withConnection { c in try dictionary.reload(c) }
            } else {
                dictionary.merge(pending.local, loadedAt: generation)
            }
        }
        return result
    }
}
