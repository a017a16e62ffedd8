import Foundation

/// A task executor with one thread of its own, for a test whose async work must keep running while the rest of the
/// suite blocks the shared cooperative pool.
///
/// Swift Testing runs the whole suite's tests at once on the cooperative pool, which has one thread per core (two on
/// the CI machine). Synchronous tests that wait for a subprocess hold those threads, and an async test that must
/// answer a peer in time (a WebSocket client answering the server's pings, reading before the peer gives up) can be
/// starved for minutes: seen in CI as a live link the server closed after its ping went unanswered, the client's
/// code having run nothing for ten minutes. Work run under `withTaskExecutorPreference(executor)` (and the child
/// tasks it starts) runs on this executor's thread instead, whatever the pool is doing.
///
/// Jobs run one at a time, in the order they were enqueued. The thread lives until ``shutdown()``; an executor
/// that is never shut down keeps its (idle) thread until the process exits.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the executor's thread, named `name` (seen in a debugger or a crash log).
    public init(name: String = "twinbank-test-executor") {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the jobs already enqueued, then end.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { condition.unlock(); return }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
