extension Instant {
    /// The UTC calendar date (proleptic Gregorian) this instant falls on.
    public var utcDate: (year: Int, month: Int, day: Int) {
        var days = microseconds / 86_400_000_000
        if microseconds % 86_400_000_000 < 0 { days -= 1 }
        return Instant.civilFromDays(Int(days))
    }

    /// Whole years from `birth` to `self` as people count age: the number of birthdays (UTC calendar dates)
    /// at or before this instant's date. A birthday on 29 February counts on 1 March in other years.
    /// Nil when `self` is before `birth`.
    public func wholeYears(since birth: Instant) -> Int? {
        guard self >= birth else { return nil }
        let b = birth.utcDate, n = utcDate
        var years = n.year - b.year
        if (n.month, n.day) < (b.month, b.day) { years -= 1 }
        return years
    }
}
