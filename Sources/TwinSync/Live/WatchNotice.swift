import TwinCore

/// What a ``WatchService`` publishes on its live channel: an alert or recommendation as it was written to the
/// twin's thread, or a watcher's failure on an update (which is not written).
public struct WatchNotice: Sendable, Hashable, Codable {
    public var twin: TwinID
    public var watcher: String
    /// The update (highest sequence of the triggering batch) the notice came from.
    public var update: Int64
    /// The alert or recommendation event as recorded in the thread (with its id, sequence and provenance).
    public var event: Event?
    /// Why the watcher failed on this update, when it did.
    public var error: String?

    public init(twin: TwinID, watcher: String, update: Int64, event: Event? = nil, error: String? = nil) {
        self.twin = twin; self.watcher = watcher; self.update = update; self.event = event; self.error = error
    }
}
