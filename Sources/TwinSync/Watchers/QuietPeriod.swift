import TwinBank
import TwinCore

/// The time after one of a watcher's alerts during which the same watcher raises no new alert of the same
/// kind for the same twin, unless the new one escalates (what escalation means is the watcher's rule).
///
/// The rule is decided from the thread alone, so it is the same in every process and after a restart: the
/// earlier alerts that count are those this watcher wrote for the twin for **earlier updates** (the
/// `watch=NAME watch-update=N` marker in their provenance notes, with N below this update's sequence),
/// retracted ones included, whose effective time lies within the quiet period of this alert's effective
/// time (either side, so that data arriving late does not re-raise an alert just given). The
/// ``WatchService`` processes a twin's updates in sequence order and writes each update's events before it
/// evaluates the next, so these are exactly the alerts the watcher raised before; reading them by marker
/// rather than `knownAt` the update's recorded time keeps the rule working when a watch catches up on a
/// backlog of updates (their alerts are recorded after the later updates). Alerts whose notes were purged
/// by an erasure carry no marker and no longer count.
public struct QuietPeriod: Sendable, Hashable, CustomStringConvertible {
    /// Minutes; 0 turns the quiet period off (an alert on every update that warrants one).
    public let minutes: Double

    /// - Throws: ``SyncError`` `invalidArgument` naming the value when it is negative or not finite.
    public init(minutes: Double) throws {
        guard minutes.isFinite, minutes >= 0 else {
            throw SyncError(.invalidArgument, "the quiet period must be a finite number of minutes ≥ 0 (got \(minutes)).", value: String(minutes))
        }
        self.minutes = minutes
    }

    private init(checked minutes: Double) { self.minutes = minutes }

    /// 30 minutes, the default.
    public static let standard = QuietPeriod(checked: 30)
    /// No quiet period.
    public static let off = QuietPeriod(checked: 0)

    public var isOff: Bool { minutes == 0 }
    public var description: String { "\(Value.format(minutes)) min" }

    /// The alerts (category `alert`, code `code`) that `watcher` wrote for `update.twin` for updates before
    /// `update`, with effective start strictly within ``minutes`` of `time`, oldest first; empty when off.
    public func earlierAlerts(of watcher: String, code: CodeKey, near time: Instant, before update: ThreadUpdate, in thread: some ThreadReading) throws -> [Event] {
        guard !isOff else { return [] }
        let span = minutes * 60
        let candidates = try thread.events(ThreadQuery(twin: update.twin, code: code, category: .alert,
                                                     from: time.advanced(bySeconds: -span), to: time.advanced(bySeconds: span), includeRetracted: true))
        return candidates.filter { e in
            guard let n = Self.update(in: e.provenance.notes, watcher: watcher), n < update.sequence else { return false }
            return abs(Double(e.effective.start.microseconds - time.microseconds)) < span * 1e6
        }
    }

    /// The update sequence of the marker ``ThreadUpdate/marker(watcher:)`` of `watcher` in `notes`, if any.
    public static func update(in notes: String?, watcher: String) -> Int64? {
        // the words of ThreadUpdate.marker(watcher:), as WatchService.resumePoint reads them
        guard let notes, let r = notes.firstRange(of: "watch=\(watcher) watch-update=") else { return nil }
        return Int64(notes[r.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}
