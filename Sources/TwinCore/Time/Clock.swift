import Foundation

/// Where "now" comes from. Injected wherever a recorded time is needed, so tests can fix time.
///
/// Note: this protocol shadows the standard library's `Clock` in modules that import TwinCore;
/// write `Swift.Clock` for the standard one.
public protocol Clock: Sendable {
    /// The current instant.
    func now() -> Instant
}

/// The system's wall clock (UTC).
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Instant {
        Instant(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }
}

/// A clock for tests: returns a set instant, advanced by hand or automatically by a fixed step on each read.
public final class ManualClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Instant
    private let step: Int64

    /// - Parameters:
    ///   - start: the first instant returned.
    ///   - stepMicroseconds: how far each call to ``now()`` advances the clock afterwards (0 = fixed).
    public init(_ start: Instant, stepMicroseconds: Int64 = 0) {
        self.current = start
        self.step = stepMicroseconds
    }

    public func now() -> Instant {
        lock.lock(); defer { lock.unlock() }
        let t = current
        current = current.advanced(byMicroseconds: step)
        return t
    }

    /// Moves the clock forward (or backward) by microseconds.
    public func advance(byMicroseconds delta: Int64) {
        lock.lock(); defer { lock.unlock() }
        current = current.advanced(byMicroseconds: delta)
    }

    /// Sets the clock.
    public func set(_ instant: Instant) {
        lock.lock(); defer { lock.unlock() }
        current = instant
    }
}
