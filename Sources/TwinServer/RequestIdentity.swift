import Synchronization

/// The verified token of the request being handled, set by ``TokenMiddleware`` for the handlers behind it.
enum RequestIdentity {
    @TaskLocal static var current: TokenIdentity?
    /// Where the token middleware leaves the subject for the request's log line, written by the metrics middleware
    /// in front of it (which the task-local ``current`` does not reach).
    @TaskLocal static var logSlot: LogSlot?

    final class LogSlot: Sendable {
        let subject = Mutex<String?>(nil)
    }
}
