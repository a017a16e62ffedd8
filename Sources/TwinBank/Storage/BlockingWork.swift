import TwinCore

/// Where the bank's blocking work may run, and the check that keeps it off Swift concurrency's threads.
///
/// The storage seam is synchronous at its core: ``BankStorage/read(_:)`` and ``BankStorage/write(_:)`` run a
/// synchronous body and block the calling thread on the storage's I/O (SQLite's file, a PostgreSQL server's round
/// trips), as GRDB's synchronous API and NIO's `NonBlockingFileIO` core do. A command's main thread, a benchmark
/// loop or a storage's own thread may block; a thread of the cooperative pool (a task) or a NIO event loop must not.
/// Async code therefore reaches the bank through ``Bank/run(_:)`` (``BankStorage/runBlocking(_:)``), which hops onto
/// threads the storage owns and resumes the task when the work is done.
///
/// Async entry points of the libraries (the watch service, synchronisation, comparisons, the demo) run their
/// bodies under ``forbiddingOnTasks(_:)``: inside, every storage transaction checks (``check(_:)``) that it is not
/// running on a task's thread without a hop; a **debug build** throws ``BankError`` `blockingOnTask` naming the
/// storage, so the test suite proves every async path hops; a release build lets the call through (a path the tests
/// missed then costs a blocked pool thread, not a failed request).
public enum BlockingWork {
    /// Whether storage calls on a task's thread are refused (set by ``forbiddingOnTasks(_:)``).
    @TaskLocal public static var isForbiddenOnTasks = false
    /// Set by a storage that runs blocking work inline on the calling task (``MemoryStorage``, which never waits on
    /// I/O): the work is where the storage chose to run it.
    @TaskLocal public static var isHopped = false

    /// Runs `body` with storage calls on a task's thread refused (see the type's description); nests.
    public static func forbiddingOnTasks<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $isForbiddenOnTasks.withValue(true) { try await body() }
    }

    /// Called by every storage at the start of a transaction: throws in a debug build when blocking work is
    /// forbidden on tasks and this thread runs a task that did not hop.
    /// - Parameter storage: what is called, for the message (`SQLite read`, `PostgreSQL write` ...).
    @inline(__always)
    public static func check(_ storage: @autoclosure () -> String) throws {
        #if DEBUG
        guard isForbiddenOnTasks, !isHopped, withUnsafeCurrentTask(body: { $0 != nil }) else { return }
        throw BankError(.blockingOnTask, "a blocking \(storage()) was called from a Swift concurrency task: async code must reach the bank through Bank.run { bank in ... } (BankStorage.runBlocking), so no thread of the cooperative pool waits on storage I/O", value: storage())
        #endif
    }
}
