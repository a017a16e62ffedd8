import Synchronization

/// A bounded buffer between a connection's reader and its writer that hands the writer everything waiting at once:
/// the reader ``push(_:)``es each message and is suspended while ``capacity`` wait (so a flood waits in the socket,
/// not in memory); the writer ``take()``s all waiting messages in their order (suspended while none wait), so
/// messages that arrived while the previous ones were being written are written together.
final class MessageBatcher: Sendable {
    typealias Element = String
    private struct State {
        var items: [Element] = []
        var finished = false
        var failure: (any Error)?
        var closed = false
        var reader: CheckedContinuation<Void, Never>?
        var writer: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds a message, waiting while the buffer is full. Returns false (the message dropped) once the writer has
    /// ``close()``d the buffer.
    func push(_ item: Element) async -> Bool {
        while true {
            enum Step { case added(CheckedContinuation<Void, Never>?), closed, full }
            let step: Step = state.withLock { s in
                if s.closed { return .closed }
                guard s.items.count < capacity else { return .full }
                s.items.append(item)
                defer { s.writer = nil }
                return .added(s.writer)
            }
            switch step {
            case .added(let writer): writer?.resume(); return true
            case .closed: return false
            case .full:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.closed || s.items.count < capacity { return true }
                        s.reader = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            }
        }
    }

    /// The reader has no more messages (`failure`: it stopped on an error, kept in ``failure``): the writer takes
    /// those waiting, then gets nil.
    func finish(failure: (any Error)? = nil) {
        let writer = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            if let failure, s.failure == nil { s.failure = failure }
            defer { s.writer = nil }
            return s.writer
        }
        writer?.resume()
    }

    /// Why the reader stopped, if it failed.
    var failure: (any Error)? { state.withLock { $0.failure } }

    /// The writer stops: a waiting or later ``push(_:)`` returns false.
    func close() {
        let reader = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            s.items.removeAll()
            defer { s.reader = nil }
            return s.reader
        }
        reader?.resume()
    }

    /// Every message waiting (at least one), oldest first; nil once the reader has finished and none wait.
    func take() async -> [Element]? {
        while true {
            enum Step { case items([Element], CheckedContinuation<Void, Never>?), done, empty }
            let step: Step = state.withLock { s in
                if !s.items.isEmpty {
                    let items = s.items
                    s.items.removeAll(keepingCapacity: true)
                    defer { s.reader = nil }
                    return .items(items, s.reader)
                }
                return s.finished ? .done : .empty
            }
            switch step {
            case .items(let items, let reader): reader?.resume(); return items
            case .done: return nil
            case .empty:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if !s.items.isEmpty || s.finished { return true }
                        s.writer = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            }
        }
    }
}
