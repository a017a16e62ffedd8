import TwinBank
import TwinCore

/// One update of a twin's thread as a watcher sees it: the events of one append batch (for this twin) and
/// the thread as known right after that batch.
public struct ThreadUpdate: Sendable, Hashable {
    public var twin: TwinID
    /// The highest sequence number of the batch's events for this twin: the update's identity.
    public var sequence: Int64
    /// The batch's recorded time; reading the thread `knownAt` this time sees exactly what was known after it.
    public var recorded: Instant
    /// The batch's events for this twin, by sequence.
    public var events: [Event]

    public init(twin: TwinID, sequence: Int64, recorded: Instant, events: [Event]) {
        self.twin = twin; self.sequence = sequence; self.recorded = recorded; self.events = events
    }

    /// The words every event a watcher writes for this update carries in its provenance notes; the
    /// ``WatchService`` finds where it left off from them after a restart.
    public func marker(watcher: String) -> String { "watch=\(watcher) watch-update=\(sequence)" }
}

/// A rule or model subscribed to twins' threads: the ``WatchService`` runs it on each update that contains
/// one of its triggers, appends what it returns and publishes the alerts and recommendations live.
///
/// Requirements: ``evaluate(_:in:)`` must be a deterministic function of the thread as known at
/// `update.recorded` (read with `knownAt`) and of the watcher's own events for **earlier** updates (found by
/// their update markers, whenever they were recorded: a quiet period between alerts reads them), so that
/// evaluating the same update again returns identical drafts
/// (the service relies on it to never write the same alert twice, also after a restart); every draft must carry
/// ``ThreadUpdate/marker(watcher:)`` in its provenance notes and name in `derivedFrom` the events it came from.
public protocol ThreadWatcher: Sendable {
    /// A stable name (recorded in provenance).
    var name: String { get }
    /// Whether a new event should make the watcher run.
    func isTrigger(_ event: Event) -> Bool
    /// The events to write for this update (predictions, alerts, recommendations), possibly none. Reads the bank
    /// through ``TwinBank/Bank/run(_:)`` (the watch service runs it where blocking the cooperative pool is refused).
    func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft]
}

/// A ``ThreadWatcher`` that is a rule over the thread alone (a threshold such as NEWS2's): it evaluates an update
/// synchronously from reads of the twin's thread, with no model run and no other I/O. The ``WatchService`` evaluates a
/// run of updates of such watchers in one read transaction under one decision of the gate (``TwinBank/Bank/reading(_:_:)``),
/// so an update that raises nothing costs no read of its own, and a reading's alert keeps close behind the reading when
/// updates come a hundred a second.
///
/// ``evaluate(_:reading:)`` must return exactly what ``ThreadWatcher/evaluate(_:in:)`` returns for the same update, under
/// the same requirements (deterministic per update, markers, `derivedFrom`).
public protocol RuleWatcher: ThreadWatcher {
    /// The events to write for this update, read from `thread` (the update's twin's thread, in one snapshot that holds
    /// at least every event up to the update).
    func evaluate(_ update: ThreadUpdate, reading thread: ThreadReader) throws -> [EventDraft]
}
