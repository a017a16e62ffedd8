/// A point in time: microseconds since 1970-01-01T00:00:00Z (UTC), as a 64-bit integer.
///
/// Parsing is strict ISO 8601 (see ``init(parsing:)``); formatting always gives UTC with a `Z`.
/// Integer microseconds make instants exact, totally ordered and cheap to store and compare.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Microseconds since the Unix epoch (negative before 1970).
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(seconds: Double) { self.microseconds = Int64((seconds * 1_000_000).rounded()) }

    /// The Unix epoch.
    public static let epoch = Instant(microseconds: 0)
    /// Seconds since the epoch as a Double (microsecond resolution is kept up to about year 2255).
    public var seconds: Double { Double(microseconds) / 1_000_000 }

    public static func < (a: Instant, b: Instant) -> Bool { a.microseconds < b.microseconds }

    /// This instant moved by a number of microseconds (saturating at the Int64 range).
    public func advanced(byMicroseconds delta: Int64) -> Instant {
        let (r, o) = microseconds.addingReportingOverflow(delta)
        return Instant(microseconds: o ? (delta > 0 ? .max : .min) : r)
    }
    /// This instant moved by a number of seconds.
    public func advanced(bySeconds s: Double) -> Instant { advanced(byMicroseconds: Int64((s * 1_000_000).rounded())) }

    // MARK: Parsing

    /// Parses strict ISO 8601: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss`, with optional
    /// fractional seconds (`.s` up to 9 digits, kept to the microsecond, truncated) and an optional zone
    /// (`Z`, `+hh:mm`, `-hh:mm`, `+hhmm`). A space may stand for `T`. Without a zone the time is UTC.
    /// Years 0000-9999; month, day (leap years included), hour 0-23, minute and second 0-59 are checked.
    /// - Throws: ``TwinError`` with code `invalidTime` naming the text.
    public init(parsing text: String) throws {
        var utf8 = text.utf8
        if let v = utf8.withContiguousStorageIfAvailable({ Instant.parse($0) }) {
            guard let v else { throw Instant.error(text) }
            self = v
        } else {
            var copy = text
            copy.makeContiguousUTF8()
            utf8 = copy.utf8
            guard let v = utf8.withContiguousStorageIfAvailable({ Instant.parse($0) }) ?? nil else { throw Instant.error(text) }
            self = v
        }
    }

    /// Parses strict ISO 8601 without throwing; `nil` when the text is not a valid instant.
    public static func parse(_ text: String) -> Instant? { try? Instant(parsing: text) }

    static func error(_ text: String) -> TwinError {
        TwinError(.invalidTime, "malformed time '\(text)': expected ISO 8601 such as 2024-01-01, 2024-01-01T07:45, 2024-01-01T07:45:30.5Z or 2024-01-01T07:45:30+02:00", value: text)
    }

    /// The parser over UTF-8 bytes. Returns nil on any deviation from the grammar.
    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Instant? {
        let n = b.count
        var i = 0
        @inline(__always) func digits(_ count: Int) -> Int? {
            guard i + count <= n else { return nil }
            var v = 0
            for k in 0..<count {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += count
            return v
        }
        @inline(__always) func expect(_ c: UInt8) -> Bool {
            guard i < n, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var hour = 0, minute = 0, second = 0, micro = 0
        var offsetMinutes = 0
        if i < n {
            guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil } // T t space
            i += 1
            guard let h = digits(2), expect(58), let m = digits(2) else { return nil }
            hour = h; minute = m
            if i < n, b[i] == 58 {
                i += 1
                guard let s = digits(2) else { return nil }
                second = s
                if i < n, b[i] == 46 || b[i] == 44 { // . or ,
                    i += 1
                    var count = 0
                    while i < n, b[i] >= 48, b[i] <= 57 {
                        if count < 6 { micro = micro * 10 + Int(b[i] - 48) }
                        count += 1; i += 1
                    }
                    guard count >= 1, count <= 9 else { return nil }
                    if count < 6 { for _ in count..<6 { micro *= 10 } }
                }
            }
            guard hour <= 23, minute <= 59, second <= 59 else { return nil }
            if i < n {
                let c = b[i]
                if c == 90 || c == 122 { i += 1 } // Z z
                else if c == 43 || c == 45 { // + -
                    i += 1
                    guard let oh = digits(2) else { return nil }
                    _ = expect(58)
                    guard let om = digits(2), oh <= 23, om <= 59 else { return nil }
                    offsetMinutes = (oh * 60 + om) * (c == 45 ? -1 : 1)
                } else { return nil }
            }
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return Instant(microseconds: secs * 1_000_000 + Int64(micro))
    }

    // MARK: Calendar (proleptic Gregorian; the project's one implementation, also behind `CivilDateTime`)

    /// Whether `y` is a leap year of the proleptic Gregorian calendar.
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    /// The number of days in `month` (1-12) of `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`; negative before 1970).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
    /// The proleptic Gregorian date `z0` days after 1970-01-01 (H. Hinnant's `civil_from_days`, the inverse
    /// of `daysFromCivil`).
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    // MARK: Formatting

    /// ISO 8601 in UTC: `2024-01-01T07:45:00Z`, with `.mmm` or `.uuuuuu` when the fraction is not zero.
    public var iso8601: String {
        var secs = microseconds / 1_000_000
        var micro = microseconds % 1_000_000
        if micro < 0 { micro += 1_000_000; secs -= 1 }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = Instant.civilFromDays(Int(days))
        var out = [UInt8]()
        out.reserveCapacity(27)
        func put(_ v: Int, _ width: Int) {
            var digits = [UInt8](repeating: 48, count: width)
            var x = abs(v)
            for k in stride(from: width - 1, through: 0, by: -1) { digits[k] = UInt8(48 + x % 10); x /= 10 }
            out.append(contentsOf: digits)
        }
        if y < 0 { out.append(45) }
        put(y, 4); out.append(45); put(m, 2); out.append(45); put(d, 2); out.append(84)
        put(Int(rem / 3600), 2); out.append(58); put(Int(rem % 3600 / 60), 2); out.append(58); put(Int(rem % 60), 2)
        if micro != 0 {
            out.append(46)
            if micro % 1000 == 0 { put(Int(micro / 1000), 3) } else { put(Int(micro), 6) }
        }
        out.append(90)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { iso8601 }

    /// Encoded as its ISO 8601 text, so JSON output is readable; decoding accepts what ``init(parsing:)`` accepts.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self = try Instant(parsing: c.decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso8601)
    }
}

/// A span of time given in whole units, as written in queries: `365d`, `12h`, `30min`, `2wk`, `90s`, `1a`.
///
/// Units: `s`, `min`, `h`, `d`, `wk`, `mo` (30.4375 d), `a` (365.25 d). Exact to the microsecond.
public struct TimeSpan: Sendable, Hashable, Codable, CustomStringConvertible {
    public var microseconds: Int64
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Parses `<number><unit>` such as `365d` or `1.5h`.
    /// - Throws: ``TwinError`` `invalidDuration` naming the text.
    public init(parsing text: String) throws {
        let units: [(String, Double)] = [("min", 60), ("wk", 604_800), ("w", 604_800), ("mo", 2_629_800), ("s", 1), ("h", 3600), ("d", 86_400), ("a", 31_557_600), ("y", 31_557_600)]
        for (u, secs) in units where text.hasSuffix(u) {
            let number = text.dropLast(u.count).trimmingSpaces
            if let v = Double(number), v.isFinite, v >= 0, v * secs < 9e12 {
                self.microseconds = Int64((v * secs * 1_000_000).rounded())
                return
            }
        }
        throw TwinError(.invalidDuration, "malformed duration '\(text)': expected a number and a unit s, min, h, d, wk (or w), mo or a (e.g. 365d)", value: text)
    }

    /// The span in the largest whole unit among d, h, min, s (fractional seconds otherwise).
    public var description: String {
        for (u, us) in [("d", Int64(86_400_000_000)), ("h", 3_600_000_000), ("min", 60_000_000), ("s", 1_000_000)]
        where microseconds % us == 0 { return "\(microseconds / us)\(u)" }
        return "\(Double(microseconds) / 1_000_000)s"
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
extension String {
    var trimmingSpaces: String { String(Substring(self).trimmingSpaces) }
}
