import Foundation

/// A broadcaster: every element published reaches every current subscriber, each as its own `AsyncStream`.
///
/// Guarantees:
/// - Subscribers see elements in publication order, each element at most once; a subscriber sees only
///   what is published after it subscribed (the thread is the record, the channel is the live view).
/// - Buffering is bounded: each subscriber holds at most ``bufferSize`` unread elements; when a slow
///   subscriber's buffer is full, its **oldest** unread element is dropped (counted in ``dropped``), so a stuck
///   consumer can never make the publisher wait or grow memory without bound.
/// - ``finish()`` ends every subscription (their `for await` loops end after the buffered elements);
///   subscribing after it gives a stream that is already finished, and publishing does nothing.
/// - A subscriber that stops iterating (its task cancelled or its stream dropped) is removed.
///
/// Safe to use from any task (`Sendable`; the state is guarded by a lock and no call waits on a consumer).
public final class LiveChannel<Element: Sendable>: @unchecked Sendable {
    /// The most unread elements a subscriber buffers.
    public let bufferSize: Int
    private let lock = NSLock()
    private var subscribers: [Int: AsyncStream<Element>.Continuation] = [:]
    private var nextID = 0
    private var isFinished = false
    private var droppedCount = 0
    private var publishedCount = 0

    /// - Parameter bufferSize: unread elements kept per subscriber (at least 1).
    public init(bufferSize: Int = 256) {
        self.bufferSize = max(1, bufferSize)
    }

    /// A new subscription: the elements published from now on, until ``finish()``.
    public func subscribe() -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .bufferingNewest(bufferSize))
        let id: Int? = lock.withLock {
            guard !isFinished else { return nil }
            let id = nextID
            nextID += 1
            subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return stream
    }

    /// Sends an element to every current subscriber; returns how many received it into their buffers.
    @discardableResult
    public func publish(_ element: Element) -> Int {
        lock.withLock {
            guard !isFinished else { return 0 }
            publishedCount += 1
            var delivered = 0
            for (_, c) in subscribers.sorted(by: { $0.key < $1.key }) {
                switch c.yield(element) {
                case .enqueued: delivered += 1
                case .dropped: delivered += 1; droppedCount += 1
                case .terminated: break
                @unknown default: break
                }
            }
            return delivered
        }
    }

    /// Ends every subscription and refuses new ones. Idempotent.
    public func finish() {
        let ending: [AsyncStream<Element>.Continuation] = lock.withLock {
            isFinished = true
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for c in ending { c.finish() }
    }

    /// Current subscribers.
    public var subscriberCount: Int { lock.withLock { subscribers.count } }
    /// Elements published so far.
    public var published: Int { lock.withLock { publishedCount } }
    /// Elements a full buffer pushed out (over all subscribers).
    public var dropped: Int { lock.withLock { droppedCount } }
    /// Whether ``finish()`` was called.
    public var finished: Bool { lock.withLock { isFinished } }

    private func remove(_ id: Int) {
        lock.withLock { _ = subscribers.removeValue(forKey: id) }
    }
}
