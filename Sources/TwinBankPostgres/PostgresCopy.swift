import Foundation
import PostgresNIO

/// Runs the jobs of a task on a NIO event loop: the asynchronous `COPY` of postgres-nio runs on its connection's own
/// event loop (it only awaits the channel there, never blocks it), so the storage's blocking thread can wait for it
/// without needing a thread of Swift's cooperative pool, which may be all blocked by storage calls.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A result handed from the copying task to the waiting thread, and the producer's failure handed to the task.
private final class CopyOutcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var _error: (any Error)?
    private var _aborted = false
    var error: (any Error)? {
        get { lock.withLock { _error } }
        set { lock.withLock { _error = newValue } }
    }
    var aborted: Bool {
        get { lock.withLock { _aborted } }
        set { lock.withLock { _aborted = newValue } }
    }
}

/// Ends a `COPY` whose rows could not all be made (the producer threw): the server gets `CopyFail`.
private struct CopyAborted: Error {}

extension BlockingConnection {
    /// Whether ``copy(into:columns:produce:)`` can run here (it needs task executors: always on Linux, macOS 15 on Darwin).
    static var canCopy: Bool {
        if #available(macOS 15, *) { return true }
        return false
    }

    /// `COPY table (columns) FROM STDIN` (text format), inside the connection's current transaction, with the data
    /// `produce` sends: each buffer goes to the server as soon as it is sent, so the server takes in rows while the
    /// calling thread makes the next ones (on two cores, the client's formatting and the server's parsing and
    /// index inserts overlap). Blocks the calling thread (never an event loop) until the server has taken every row.
    /// `produce` must not query this connection (the query would wait behind the `COPY`, which waits for `produce`).
    /// - Throws: what `produce` throws (the server is told the `COPY` failed, so nothing of it stays); else
    ///   ``BankError`` `storageFailure` with the server's message (a malformed row, a duplicate key ...).
    @available(macOS 15, *)
    func copy(into table: String, columns: [String], produce: (_ send: (ByteBuffer) -> Void) throws -> Void) throws {
        precondition(!connection.eventLoop.inEventLoop, "a PostgreSQL storage call blocks its thread: never call it on an event loop")
        let outcome = CopyOutcome()
        let connection = self.connection, logger = self.logger
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        Task(executorPreference: EventLoopTaskExecutor(connection.eventLoop)) {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    for await b in stream { try await writer.write(b) }
                    if outcome.aborted { throw CopyAborted() }
                }
            } catch {
                outcome.error = error
            }
            outcome.done.signal()
        }
        var producerError: (any Error)?
        do {
            try produce { continuation.yield($0) }
        } catch {
            producerError = error
            outcome.aborted = true
        }
        continuation.finish()
        outcome.done.wait()
        if let producerError { throw producerError }
        if let error = outcome.error { throw PostgresFailure.bankError(error, location: location) }
    }
}

/// Writes rows in `COPY`'s text format: fields separated by tabs, rows ended by a newline, NULL as `\N`, and the
/// backslash, tab, newline and carriage return of a text escaped.
struct CopyTextRow {
    var buffer: ByteBuffer
    private var first = true

    init(into buffer: ByteBuffer) { self.buffer = buffer }

    private mutating func separate() {
        if first { first = false } else { buffer.writeInteger(UInt8(ascii: "\t")) }
    }
    mutating func null() { separate(); buffer.writeStaticString("\\N") }
    /// An integer's decimal digits, written straight into the buffer (no `String` per field: ingest writes 20 fields
    /// per event).
    mutating func int(_ v: Int64) {
        separate()
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: a sign and up to 19 digits
        withUnsafeMutableBytes(of: &digits) { raw in
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if v < 0 { i -= 1; raw[i] = UInt8(ascii: "-") }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }
    mutating func int(_ v: Int64?) { if let v { int(v) } else { null() } }
    mutating func double(_ v: Double?) {
        guard let v else { null(); return }
        separate()
        if v.isNaN { buffer.writeStaticString("NaN") } else if v.isInfinite { buffer.writeStaticString(v < 0 ? "-Infinity" : "Infinity") } else {
            // Swift's shortest representation that reads back as the same double (PostgreSQL parses it with strtod)
            buffer.writeString(v.description)
        }
    }
    mutating func text(_ s: String?) {
        guard let s else { null(); return }
        separate()
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
    /// A `bytea` as `\x` and hexadecimal digits (the backslash escaped for COPY).
    mutating func bytes<C: Collection>(_ bytes: C?) where C.Element == UInt8 {
        guard let bytes else { null(); return }
        separate()
        buffer.writeStaticString("\\\\x")
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { hex in
            for b in bytes {
                buffer.writeInteger(hex[Int(b >> 4)])
                buffer.writeInteger(hex[Int(b & 0x0F)])
            }
        }
    }
    /// Ends the row.
    mutating func end() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        first = true
    }
}
