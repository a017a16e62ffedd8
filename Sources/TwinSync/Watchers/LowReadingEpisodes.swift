/// Which low readings of a series alert: one alert per **episode** (a run of consecutive low readings) rather than
/// one per reading, so a long low does not bury the thread in repeats. The reading rules (``LowGlucoseReading``,
/// ``LowPressureReading``) share it.
///
/// In each episode: its first reading; a reading that escalates it (a higher level, or `escalationDrop` lower than
/// the episode's last alerting reading); and the latest reading of all, when it is low (the current state always
/// alerts). Apart from the latest, the choice depends on the episode's readings alone, so runs over overlapping
/// windows choose the same earlier readings, and ``HeldEvents`` keeps each alert to one event.
enum LowReadingEpisodes {
    /// The indices of the alerting readings; `readings` in time order, each with its value and its level (nil when
    /// the reading is not low; a larger level is more severe).
    static func alerting(_ readings: [(value: Double, level: Int?)], escalationDrop: Double) -> [Int] {
        var out: [Int] = []
        var lastAlerted: (value: Double, level: Int)?
        for (i, r) in readings.enumerated() {
            guard let level = r.level else { lastAlerted = nil; continue }
            let isLatest = i == readings.count - 1
            if let last = lastAlerted, !isLatest, level <= last.level, r.value > last.value - escalationDrop { continue }
            out.append(i)
            lastAlerted = (r.value, level)
        }
        return out
    }
}
