import Foundation

/// A checked batch of a CSV import and the file lines of its drafts.
struct CheckedImportBatch: Sendable {
    var batch: CheckedBatch
    var lines: [Int]
}

/// A value handed to another thread that uses it alone from then on (the caller promises not to touch it until
/// that thread is done).
struct UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Two stages of a long import on two threads: a producer (reading and checking rows) runs on its own thread, at
/// most `depth` items ahead of the consumer (writing them in the caller's transaction), so memory stays bounded by
/// the batches in flight, not by the file.
///
/// Promises: the consumer sees the items in the order they were produced; an error of the producer reaches the
/// consumer after the items produced before it, and is rethrown by ``consume(_:)``; an error of the consumer stops
/// the producer (its next `put` returns false); ``consume(_:)`` returns or throws only once the producer's thread
/// has finished, so nothing the producer uses outlives the call.
final class ImportPipeline<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Waiting items, at most `depth` (so removing the first is cheap).
    private var items: [Item] = []
    private var finished = false
    private var cancelled = false
    private var failure: (any Error)?
    private var exited = false
    private let depth: Int

    init(depth: Int) { self.depth = max(1, depth) }

    /// Runs `producer` on a new thread. It hands items over with `put`, which waits while `depth` items are waiting
    /// and returns false once the consumer has stopped (the producer should then return).
    func start(_ producer: @escaping @Sendable (_ put: (Item) -> Bool) throws -> Void) {
        let thread = Thread { [self] in
            do {
                try producer { item in self.put(item) }
            } catch {
                condition.lock(); failure = error; condition.unlock()
            }
            condition.lock()
            finished = true
            exited = true
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Hands each item to `body` on the calling thread, in order, until the producer is done; then rethrows the
    /// producer's error, if any. If `body` throws, stops the producer, waits for its thread to end and rethrows.
    func consume(_ body: (Item) throws -> Void) throws {
        while true {
            condition.lock()
            while items.isEmpty && !finished { condition.wait() }
            if items.isEmpty {
                let error = failure
                condition.unlock()
                if let error { throw error }
                return
            }
            let item = items.removeFirst()
            condition.broadcast()
            condition.unlock()
            do {
                try body(item)
            } catch {
                stop()
                throw error
            }
        }
    }

    /// Stops the producer and waits for its thread to end.
    private func stop() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !exited { condition.wait() }
        items.removeAll()
        condition.unlock()
    }
}
