import Foundation
import PostgresNIO
import TwinBank

/// One connection to the server, used from one blocking thread at a time: every query waits for its result
/// (`EventLoopFuture.wait()`), which blocks the calling thread, never the connection's event loop.
final class BlockingConnection: @unchecked Sendable {
    let connection: PostgresConnection
    let location: PostgresLocation
    let logger: Logger

    init(_ connection: PostgresConnection, location: PostgresLocation, logger: Logger) {
        self.connection = connection; self.location = location; self.logger = logger
    }

    var isClosed: Bool { connection.isClosed }

    /// Runs a query and returns its rows. A server error becomes ``BankError`` `storageFailure` naming the
    /// location and the server's message.
    @discardableResult
    func query(_ q: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(q, logger: logger).wait()
        } catch {
            throw PostgresFailure.bankError(error, location: location)
        }
    }

    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    func execute(_ q: PostgresQuery) throws -> Int {
        try query(q).metadata.rows ?? 0
    }

    /// The first column of the first row, nil when there is none or it is NULL.
    func one<T: PostgresDecodable>(_ t: T.Type, _ q: PostgresQuery) throws -> T? where T._DecodableType == T {
        guard let row = try query(q).rows.first else { return nil }
        return try PostgresFailure.decoding(location) { try row.makeRandomAccess()[0].decode(T?.self) }
    }

    /// The first column of every row (NULLs skipped).
    func all<T: PostgresDecodable>(_ t: T.Type, _ q: PostgresQuery) throws -> [T] where T._DecodableType == T {
        try query(q).rows.compactMap { row in try PostgresFailure.decoding(location) { try row.makeRandomAccess()[0].decode(T?.self) } }
    }

    func closeAndWait() { try? (connection.close() as EventLoopFuture<Void>).wait() }
    /// Closes without waiting; the driver's connection is kept alive until it has closed (the driver requires it).
    func closeLater() {
        let connection = self.connection
        (connection.close() as EventLoopFuture<Void>).whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}

/// Turns driver errors into the bank's errors, naming the location (never its password).
enum PostgresFailure {
    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The server's message (with its detail) or the driver's cause, in a line.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let message = info[.message] {
                var s = message
                if let detail = info[.detail] { s += " (\(detail))" }
                if let state = info[.sqlState] { s += " [SQLSTATE \(state)]" }
                return s
            }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        if let e = error as? BankError { return e.message }
        return "\(error)"
    }

    static func bankError(_ error: any Error, location: PostgresLocation) -> BankError {
        if let e = error as? BankError { return e }
        return BankError(.storageFailure, "bank storage error in \(location): \(describe(error))", value: location.description)
    }

    /// Runs a decoding step, turning a decoding error (a column of an unexpected type) into ``BankError``.
    static func decoding<T>(_ location: PostgresLocation, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as BankError { throw e } catch {
            throw BankError(.storageFailure, "bank storage error in \(location): a stored value cannot be read (\(error))", value: location.description)
        }
    }

    /// A failure to connect, made clear: the server unreachable, the database missing, the login refused.
    static func connectError(_ error: any Error, location: PostgresLocation) -> BankError {
        switch sqlState(error) {
        case "3D000"?:
            return BankError(.notABank, "no database '\(location.database)' on the PostgreSQL server at \(location): create it (`createdb -h \(location.host) -p \(location.port) -U \(location.username) \(location.database)`) or name an existing one", value: location.description)
        case "28P01"?, "28000"?:
            return BankError(.storageFailure, "the PostgreSQL server at \(location) refused the login of '\(location.username)': \(describe(error))", value: location.description)
        default:
            return BankError(.storageFailure, "cannot connect to the PostgreSQL server at \(location): \(describe(error))", value: location.description)
        }
    }
}

/// The storage's connections: one is leased per transaction and given back after it; idle ones are kept (up to
/// `size`) for the next transaction. A lease never waits for another transaction: when none is idle a new
/// connection opens (so a read nested in a write cannot deadlock), and beyond `size` idle ones are closed.
final class ConnectionPool: @unchecked Sendable {
    let location: PostgresLocation
    let size: Int
    let connectTimeout: TimeAmount
    private let lock = NSLock()
    private var idle: [BlockingConnection] = []
    private var closed = false
    private var nextID = 1
    let logger = Logger(label: "twinbank.postgres")

    init(location: PostgresLocation, size: Int, connectTimeout: TimeAmount) {
        self.location = location; self.size = max(1, size); self.connectTimeout = connectTimeout
    }

    /// The `application_name` of the change feed's listening connections (``PostgresStorage/changes()``), as
    /// `pg_stat_activity` shows them; the pool's connections are `twinbank`.
    static let listenerApplicationName = "twinbank-listen"

    /// The driver's configuration for the location, the connection named `applicationName` on the server.
    func configuration(applicationName: String = "twinbank") throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .require:
            do { tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
                throw BankError(.storageFailure, "cannot set up TLS for \(location): \(error)", value: location.description)
            }
        }
        var c = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.username,
                                                 password: location.password, database: location.database, tls: tls)
        c.options.connectTimeout = connectTimeout
        // named in pg_stat_activity and the server's log
        c.options.additionalStartupParameters = [("application_name", applicationName)]
        return c
    }

    /// Opens a new connection (blocking the calling thread until the server has accepted the login).
    func connect() throws -> BlockingConnection {
        let configuration = try configuration()
        let id: Int = lock.withLock { defer { nextID += 1 }; return nextID }
        do {
            let c = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                   id: id, logger: logger).wait()
            return BlockingConnection(c, location: location, logger: logger)
        } catch {
            throw PostgresFailure.connectError(error, location: location)
        }
    }

    /// Opens a connection for async use (the change feed's listener, named ``listenerApplicationName``), outside the
    /// pool: awaits the login without blocking a thread.
    func connectAsync() async throws -> PostgresConnection {
        let configuration = try configuration(applicationName: Self.listenerApplicationName)
        let id: Int = lock.withLock { defer { nextID += 1 }; return nextID }
        do {
            return try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                        id: id, logger: logger).get()
        } catch {
            throw PostgresFailure.connectError(error, location: location)
        }
    }

    /// An idle connection, or a new one.
    /// - Throws: ``BankError`` `storageFailure` after ``close()``, and the errors of connecting.
    func lease() throws -> BlockingConnection {
        let reused: BlockingConnection? = try lock.withLock {
            if closed { throw BankError(.storageFailure, "the PostgreSQL bank \(location) was closed", value: location.description) }
            while let c = idle.popLast() {
                if !c.isClosed { return c }
            }
            return nil
        }
        return try reused ?? connect()
    }

    /// Gives a connection back: kept for reuse when `reusable` (its transaction ended cleanly) and the pool has room,
    /// else closed.
    func release(_ c: BlockingConnection, reusable: Bool) {
        let keep: Bool = lock.withLock {
            guard reusable, !closed, !c.isClosed, idle.count < size else { return false }
            idle.append(c)
            return true
        }
        if !keep { c.closeLater() }
    }

    /// Closes the idle connections and refuses new leases; `wait`: until the server has seen them close.
    func close(wait: Bool) {
        let all: [BlockingConnection] = lock.withLock {
            closed = true
            defer { idle = [] }
            return idle
        }
        for c in all { if wait { c.closeAndWait() } else { c.closeLater() } }
    }
}
