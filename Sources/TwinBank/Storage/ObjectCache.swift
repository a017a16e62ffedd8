import Synchronization

/// Decoded content-addressed objects by their hash (hex). An object never changes under its hash, so a cached value
/// is never stale; the cache only saves decoding. Bounded: when it holds ``capacity`` values it is cleared.
/// Safe to share between threads.
public final class ObjectCache: Sendable {
    private let objects = Mutex<[String: any Sendable]>([:])
    /// The most values held at once.
    public let capacity: Int

    public init(capacity: Int = 4096) { self.capacity = max(1, capacity) }

    /// The value decoded from the object `hex`, if cached.
    public func get(_ hex: String) -> (any Sendable)? { objects.withLock { $0[hex] } }

    /// Caches the value decoded from the object `hex`.
    public func put(_ hex: String, _ value: any Sendable) {
        let capacity = self.capacity
        objects.withLock { o in
            if o.count >= capacity { o.removeAll(keepingCapacity: true) }
            o[hex] = value
        }
    }
}
