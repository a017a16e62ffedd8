/// A piecewise-constant multiplier of the contact rate over time (lockdowns, school closures, reopening):
/// `multiplier(t)` is the value of the last change at or before `t` (1 before the first change).
public struct ContactSchedule: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        /// Time of the change, days.
        public var time: Double
        /// Multiplier of all contacts from then on (>= 0).
        public var multiplier: Double
        public init(time: Double, multiplier: Double) { self.time = time; self.multiplier = multiplier }
    }
    public private(set) var changes: [Change]

    /// Throws `invalidSchedule` for non-ascending times or a negative / non-finite multiplier, naming the value.
    public init(_ changes: [Change] = []) throws(ModelError) {
        for (i, c) in changes.enumerated() {
            guard c.time.isFinite else {
                throw ModelError(.invalidSchedule, "contact schedule: change \(i + 1) has a non-finite time", value: "\(c.time)")
            }
            guard c.multiplier.isFinite, c.multiplier >= 0 else {
                throw ModelError(.invalidSchedule, "contact schedule: multiplier must be >= 0, got \(c.multiplier) at day \(c.time)",
                                 value: "\(c.multiplier)")
            }
            if i > 0, c.time <= changes[i - 1].time {
                throw ModelError(.invalidSchedule, "contact schedule: times must be strictly ascending, got \(c.time) after \(changes[i - 1].time)",
                                 value: "\(c.time)")
            }
        }
        self.changes = changes
    }

    private init(unchecked changes: [Change]) { self.changes = changes }

    /// No changes: the multiplier is 1 at all times.
    public static let constant = ContactSchedule(unchecked: [])

    public func multiplier(at t: Double) -> Double {
        var m = 1.0
        for c in changes { if c.time <= t { m = c.multiplier } else { break } }
        return m
    }
}
