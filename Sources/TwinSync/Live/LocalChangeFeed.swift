import Foundation
import TwinBank
import TwinCore

/// A ``TwinBank/StorageChangeFeed`` for a storage that does not push its changes (a SQLite file): wraps it, pushes
/// this process's own committed writes at once, and looks at the bank's last sequence every ``pollInterval`` for
/// other processes' writes. A server wraps its bank in one so a watch and the live link wake on each append made
/// through the server (the REST route, the FHIR facade, a WebSocket) instead of waiting for a poll.
///
/// It keeps the feed's promises (``TwinBank/StorageChangeFeed``): every committed write, by this process or another,
/// is reported with a value at least its last sequence (this process's at once, another's within ``pollInterval``),
/// never a value not yet committed, latest wins. Every other call goes straight to the wrapped storage.
public final class LocalChangeFeed: StorageChangeFeed, @unchecked Sendable {
    /// The storage it wraps.
    public let base: any BankStorage
    /// How often it asks the wrapped storage for its last sequence (writes by other processes).
    public let pollInterval: Duration
    private let writes = LiveChannel<Int64>(bufferSize: 1)

    /// `storage` with a change feed: itself when it has one already (PostgreSQL, memory), else wrapped.
    public static func wrapping(_ storage: any BankStorage, pollInterval: Duration = .seconds(1)) -> any BankStorage {
        if storage is any StorageChangeFeed { return storage }
        return LocalChangeFeed(base: storage, pollInterval: pollInterval)
    }

    public init(base: any BankStorage, pollInterval: Duration = .seconds(1)) {
        self.base = base
        self.pollInterval = pollInterval > .zero ? pollInterval : .seconds(1)
    }

    public func read<T>(_ body: (any StorageReader) throws -> T) throws -> T { try base.read(body) }

    /// The wrapped storage's write; once it has committed, its last sequence goes to every ``changes()`` stream.
    public func write<T>(_ body: (any StorageWriter) throws -> T) throws -> T {
        var last: Int64 = -1
        let result = try base.write { w in
            let r = try body(w)
            last = try w.lastSequence()
            return r
        }
        writes.publish(last)
        return result
    }

    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T { try await base.runBlocking(body) }

    public func eraseFreedSpace() throws -> PhysicalErasure { try base.eraseFreedSpace() }

    /// The bank's last sequence now, then after each committed write of this process (at once) and each one another
    /// process made (seen within ``pollInterval``); ends when the consumer stops iterating.
    public func changes() -> AsyncThrowingStream<Int64, any Error> {
        let own = writes.subscribe()
        let base = self.base, interval = pollInterval
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Int64.self, bufferingPolicy: .bufferingNewest(1))
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await n in own { continuation.yield(n) }
                }
                group.addTask {
                    var seen: Int64 = -1
                    while !Task.isCancelled {
                        do {
                            let last = try await base.runBlocking { try base.read { try $0.lastSequence() } }
                            if last != seen { seen = last; continuation.yield(last) }
                            try await Task.sleep(for: interval)
                        } catch is CancellationError {
                            return
                        } catch {
                            continuation.finish(throwing: error)
                            return
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
