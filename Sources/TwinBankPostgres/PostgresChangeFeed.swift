import Foundation
import PostgresNIO
import TwinBank
import TwinCore

/// Live updates across processes: every write transaction of a ``PostgresStorage`` that appends, retracts or erases
/// sends `NOTIFY twinbank_changes, '<last sequence>'` before it commits (PostgreSQL delivers it at the commit and drops
/// it on a rollback), and ``PostgresStorage/changes()`` listens on a connection of its own.
extension PostgresStorage: StorageChangeFeed {
    /// The channel of the bank's change notifications (PostgreSQL scopes `NOTIFY` to the database, so the name need
    /// not be unique on the server); the payload is the bank's last sequence number after the write, in decimal.
    public static let changeChannel = "twinbank_changes"
    /// The longest wait between attempts to reconnect the listener.
    static let maximumReconnectDelay: Duration = .seconds(5)

    /// The bank's last sequence number now and after every committed write by any process (see
    /// ``TwinBank/StorageChangeFeed``).
    ///
    /// The stream holds one dedicated connection (not one of the pool's) that `LISTEN`s on ``changeChannel``; once the
    /// server has confirmed the `LISTEN`, it reads the current last sequence and yields it, then yields the payload of
    /// each notification. After a lost connection (a server restart, `pg_terminate_backend`) it reconnects, waiting
    /// 0.1 s and then twice as long after each failed attempt (at most 5 s), and yields the current last sequence again,
    /// since notifications sent meanwhile were missed. It never blocks a thread: connecting, listening and reading are
    /// asynchronous. It ends when the storage is closed (``close()``) or the consumer's task is cancelled, closing its
    /// connection; on a closed storage it ends at once.
    public func changes() -> AsyncThrowingStream<Int64, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Int64.self, throwing: (any Error).self, bufferingPolicy: .bufferingNewest(1))
        let listener = ChangeListener(pool: pool, continuation: continuation)
        var running: Task<Void, Never>?
        _ = startFeed { id in
            let task = Task { [weak self] in
                await listener.run()
                self?.feedEnded(id)
            }
            running = task
            return task
        }
        if let running {
            // the consumer stopped: the listener closes its connection
            continuation.onTermination = { _ in running.cancel() }
        } else {
            continuation.finish()
        }
        return stream
    }
}

/// The loop behind ``PostgresStorage/changes()``: connect, listen, yield; reconnect after a loss.
struct ChangeListener: Sendable {
    let pool: ConnectionPool
    let continuation: AsyncThrowingStream<Int64, any Error>.Continuation

    /// Listens until the task is cancelled, then finishes the stream.
    func run() async {
        await loop()
        continuation.finish()
    }

    private func loop() async {
        var delay: Duration = .milliseconds(100)
        while !Task.isCancelled {
            var opened: PostgresConnection?
            do {
                let connection = try await pool.connectAsync()
                opened = connection
                try await withTaskCancellationHandler {
                    try await connection.listen(on: PostgresStorage.changeChannel) { notifications in
                        // after the LISTEN is in place: a write committed from now on is notified, one committed
                        // before is in this value
                        continuation.yield(try await lastSequence(connection))
                        delay = .milliseconds(100)
                        for try await n in notifications {
                            guard let sequence = Int64(n.payload) else {
                                pool.logger.warning("ignored a notification on \(PostgresStorage.changeChannel) that is not a sequence number", metadata: ["payload": "\(n.payload)"])
                                continue
                            }
                            continuation.yield(sequence)
                        }
                    }
                } onCancel: {
                    (connection.close() as EventLoopFuture<Void>).whenComplete { _ in withExtendedLifetime(connection) {} }
                }
            } catch {
                pool.logger.debug("the change listener of \(pool.location) lost its connection: \(PostgresFailure.describe(error))")
            }
            if let opened, !opened.isClosed { try? await (opened.close() as EventLoopFuture<Void>).get() }
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, PostgresStorage.maximumReconnectDelay)
        }
    }

    /// The bank's last sequence number, read on the listening connection.
    private func lastSequence(_ connection: PostgresConnection) async throws -> Int64 {
        let rows: PostgresRowSequence = try await connection.query("SELECT value FROM meta WHERE key = 'last_seq'", logger: pool.logger)
        for try await value in rows.decode(Int64.self) { return value }
        return 0
    }
}
