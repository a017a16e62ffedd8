/// The one time grammar of every command-line option that takes a time (`--at`, `--from`, `--to`, `--as-of`,
/// `--known-at`, `--start`, `--origin`, ...):
///
/// - an ISO 8601 instant, as ``Instant/init(parsing:)`` reads it (`2024-01-07T07:45`, `2024-01-07T07:45:30+02:00`);
/// - an ISO 8601 date (`2024-01-07`), a whole UTC day;
/// - `now`;
/// - `today`, `yesterday`, `tomorrow`: the UTC day of now, the day before or after;
/// - a relative offset from now: a sign, a number and a unit `s`, `m` (or `min`), `h`, `d` or `w`
///   (`-1d`, `-2h`, `+30m`, `-1.5h`).
///
/// A day (a date, `today`, ...) means its start when it is a lower bound (`--from`) and its end when it is an
/// upper bound (`--to`), so `--from 2024-01-07 --to 2024-01-07` is that whole day, both ends inclusive; for a
/// single instant (`--at`) it means its start. Offsets and `now` are relative to an instant that the caller
/// passes in (a ``Clock``'s `now()`), so they test without real time.
public struct TimeExpression: Sendable, Hashable, CustomStringConvertible {
    /// How a time is used, which decides what a whole day means.
    public enum Bound: Sendable, Hashable {
        /// A single instant (`--at`, `--as-of`): a day means its start.
        case instant
        /// The lower end of a range (`--from`): a day means its first microsecond.
        case lower
        /// The upper end of a range, inclusive (`--to`): a day means its last microsecond.
        case upper
    }

    enum Form: Sendable, Hashable {
        case instant(Instant)
        /// Days since 1970-01-01 (UTC).
        case day(Int)
        /// A day relative to today (0 today, -1 yesterday, 1 tomorrow).
        case relativeDay(Int)
        /// Microseconds from now (0 is `now`).
        case offset(Int64)
    }

    let form: Form
    /// The text as written.
    public let text: String

    /// Parses a time expression (see the type's documentation).
    /// - Throws: ``TwinError`` `invalidTime` naming the text and the accepted forms.
    public init(parsing text: String) throws {
        self.text = text
        let t = text.trimmingSpaces
        switch t.lowercased() {
        case "now": form = .offset(0); return
        case "today": form = .relativeDay(0); return
        case "yesterday": form = .relativeDay(-1); return
        case "tomorrow": form = .relativeDay(1); return
        default: break
        }
        if let first = t.first, first == "+" || first == "-" {
            form = .offset(try TimeExpression.offset(String(t.dropFirst()), negative: first == "-", text: text))
            return
        }
        if let instant = Instant.parse(t) {
            let u = Array(t.utf8)
            if u.count == 10 { form = .day(Int(instant.microseconds / TimeExpression.dayMicroseconds)) } else { form = .instant(instant) }
            return
        }
        throw TimeExpression.error(text)
    }

    static let dayMicroseconds: Int64 = 86_400_000_000

    static func error(_ text: String) -> TwinError {
        TwinError(.invalidTime, "malformed time '\(text)': expected an ISO 8601 instant or date (2024-01-07T07:45Z, 2024-01-07), now, today, yesterday, or an offset from now such as -1d, -2h, +30m", value: text)
    }

    static func offset(_ body: String, negative: Bool, text: String) throws -> Int64 {
        let units: [(String, Double)] = [("min", 60), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800)]
        for (u, secs) in units where body.hasSuffix(u) {
            let number = body.dropLast(u.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(number), v.isFinite,
                  v * secs < 1e10 else { break }
            let micro = Int64((v * secs * 1_000_000).rounded())
            return negative ? -micro : micro
        }
        throw error(text)
    }

    /// Whether the expression depends on now (`now`, `today`, offsets, ...).
    public var isRelative: Bool {
        switch form {
        case .instant, .day: false
        case .relativeDay, .offset: true
        }
    }

    /// The instant this expression means, for a use as `bound`, with `now` as the present.
    public func resolve(relativeTo now: Instant, bound: Bound = .instant) -> Instant {
        func day(_ d: Int64) -> Instant {
            let start = Instant(microseconds: d * TimeExpression.dayMicroseconds)
            return bound == .upper ? start.advanced(byMicroseconds: TimeExpression.dayMicroseconds - 1) : start
        }
        switch form {
        case .instant(let i): return i
        case .day(let d): return day(Int64(d))
        case .relativeDay(let k):
            var today = now.microseconds / TimeExpression.dayMicroseconds
            if now.microseconds < 0, now.microseconds % TimeExpression.dayMicroseconds != 0 { today -= 1 }
            return day(today + Int64(k))
        case .offset(let o): return now.advanced(byMicroseconds: o)
        }
    }

    public var description: String { text }
}

extension Instant {
    /// Parses a command-line time in the one time grammar (``TimeExpression``): ISO 8601 instants and dates,
    /// `now`, `today`, `yesterday`, offsets such as `-1d`; a date as an upper bound means the end of that day.
    /// - Parameters:
    ///   - now: the present, for `now`, `today` and offsets (pass a ``Clock``'s `now()`).
    ///   - bound: whether the time is an instant, a lower or an (inclusive) upper bound.
    /// - Throws: ``TwinError`` `invalidTime` naming the text.
    public init(parsing text: String, relativeTo now: Instant, bound: TimeExpression.Bound = .instant) throws {
        self = try TimeExpression(parsing: text).resolve(relativeTo: now, bound: bound)
    }
}

extension EffectiveTime {
    /// Parses an effective time in the one time grammar: a time expression (an instant; a date means its
    /// start) or a period `START/END` whose start is a lower bound and end an upper bound (so
    /// `2024-01-07/2024-01-07` is that whole day).
    /// - Throws: ``TwinError`` `invalidTime` naming the text (also when END is before START).
    public init(parsing text: String, relativeTo now: Instant) throws {
        if let slash = text.firstIndex(of: "/") {
            let s = try Instant(parsing: String(text[..<slash]), relativeTo: now, bound: .lower)
            let e = try Instant(parsing: String(text[text.index(after: slash)...]), relativeTo: now, bound: .upper)
            guard e >= s else {
                throw TwinError(.invalidTime, "malformed period '\(text)': the end is before the start", value: text)
            }
            self.init(s, end: e)
        } else {
            self.init(try Instant(parsing: text, relativeTo: now))
        }
    }
}
