import TwinCore

/// A calendar date and time of day (proleptic Gregorian, no time zone) to label simulation output, e.g.
/// `2024-01-01 00:00:00` as simglucose's traces do. Pure arithmetic, no clock.
public struct CivilDateTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year; self.month = month; self.day = day; self.hour = hour; self.minute = minute; self.second = second
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`.
    public init(parsing text: String) throws(ModelError) {
        let bad = ModelError(.invalidArgument, "bad date-time '\(text)': expected YYYY-MM-DD[ HH:MM[:SS]]", value: text)
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 1 || parts.count == 2 else { throw bad }
        let date = parts[0].split(separator: "-")
        guard date.count == 3, let y = Int(date[0]), let mo = Int(date[1]), let d = Int(date[2]) else { throw bad }
        var h = 0, mi = 0, s = 0
        if parts.count == 2 {
            let time = parts[1].split(separator: ":")
            guard time.count == 2 || time.count == 3, let hh = Int(time[0]), let mm = Int(time[1]) else { throw bad }
            h = hh; mi = mm
            if time.count == 3 { guard let ss = Int(time[2]) else { throw bad }; s = ss }
        }
        guard (1...12).contains(mo), d >= 1, d <= Self.daysIn(month: mo, year: y), (0..<24).contains(h),
              (0..<60).contains(mi), (0..<60).contains(s) else { throw bad }
        self.init(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
    }

    /// The calendar arithmetic is `Instant`'s (TwinCore), the project's one days-from-civil implementation.
    static func daysIn(month: Int, year: Int) -> Int { Instant.daysIn(month: month, year: year) }

    /// Days since 1970-01-01.
    var daysSinceEpoch: Int { Instant.daysFromCivil(year: year, month: month, day: day) }

    /// This time plus a number of seconds.
    public func adding(seconds: Int) -> CivilDateTime {
        let total = daysSinceEpoch * 86400 + hour * 3600 + minute * 60 + second + seconds
        let days = total >= 0 ? total / 86400 : (total - 86399) / 86400
        let rest = total - days * 86400
        let (y, m, d) = Instant.civilFromDays(days)
        return CivilDateTime(year: y, month: m, day: d, hour: rest / 3600, minute: (rest % 3600) / 60, second: rest % 60)
    }

    /// `YYYY-MM-DD HH:MM:SS`.
    public var description: String {
        func p(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(year, 4))-\(p(month, 2))-\(p(day, 2)) \(p(hour, 2)):\(p(minute, 2)):\(p(second, 2))"
    }
}
