import Testing
@testable import TwinCore

/// The one time grammar of the command line (issue 22, defect 8).
@Suite struct TimeGrammarTests {
    /// A fixed present: 2024-01-07T10:30:00Z.
    let now = try! Instant(parsing: "2024-01-07T10:30:00Z")
    func t(_ s: String) -> Instant { try! Instant(parsing: s) }

    @Test(arguments: [
        ("2024-01-07T07:45", TimeExpression.Bound.instant, "2024-01-07T07:45:00Z"),
        ("2024-01-07T07:45:30+02:00", .upper, "2024-01-07T05:45:30Z"),
        ("2024-01-07", .instant, "2024-01-07T00:00:00Z"),
        ("2024-01-07", .lower, "2024-01-07T00:00:00Z"),
        ("2024-01-07", .upper, "2024-01-07T23:59:59.999999Z"),
        ("now", .upper, "2024-01-07T10:30:00Z"),
        ("NOW", .instant, "2024-01-07T10:30:00Z"),
        ("today", .lower, "2024-01-07T00:00:00Z"),
        ("today", .upper, "2024-01-07T23:59:59.999999Z"),
        ("yesterday", .lower, "2024-01-06T00:00:00Z"),
        ("yesterday", .upper, "2024-01-06T23:59:59.999999Z"),
        ("tomorrow", .instant, "2024-01-08T00:00:00Z"),
        ("-1d", .lower, "2024-01-06T10:30:00Z"),
        ("-2h", .upper, "2024-01-07T08:30:00Z"),
        ("+30m", .instant, "2024-01-07T11:00:00Z"),
        ("+30min", .instant, "2024-01-07T11:00:00Z"),
        ("-90s", .instant, "2024-01-07T10:28:30Z"),
        ("-1w", .instant, "2023-12-31T10:30:00Z"),
        ("-1.5h", .instant, "2024-01-07T09:00:00Z"),
    ])
    func resolves(text: String, bound: TimeExpression.Bound, expected: String) throws {
        #expect(try Instant(parsing: text, relativeTo: now, bound: bound) == t(expected))
    }

    @Test func aOneDayRangeHoldsTheWholeDay() throws {
        let from = try Instant(parsing: "2024-01-07", relativeTo: now, bound: .lower)
        let to = try Instant(parsing: "2024-01-07", relativeTo: now, bound: .upper)
        #expect((from...to).contains(t("2024-01-07T18:00:00Z")))
        #expect(!(from...to).contains(t("2024-01-08T00:00:00Z")))
    }

    @Test func periodsTakeBothBounds() throws {
        let e = try EffectiveTime(parsing: "2024-01-07/2024-01-07", relativeTo: now)
        #expect(e.start == t("2024-01-07T00:00:00Z"))
        #expect(e.end == t("2024-01-07T23:59:59.999999Z"))
        let r = try EffectiveTime(parsing: "-2h/now", relativeTo: now)
        #expect(r.start == t("2024-01-07T08:30:00Z") && r.end == now)
    }

    @Test(arguments: ["", "soon", "-1", "1d", "-d", "-1y", "--1d", "-1e9d", "2024-13-01", "2024/01/07", "-1d2h", "today+1"])
    func refusesGarbageNamingIt(text: String) {
        #expect {
            try Instant(parsing: text, relativeTo: now)
        } throws: { error in
            guard let e = error as? TwinError else { return false }
            return e.code == .invalidTime && e.value == text && e.message.contains("'\(text)'") && e.message.contains("-1d")
        }
    }

    @Test func strictParsingStaysStrict() {
        // data files keep strict ISO 8601
        #expect(throws: TwinError.self) { try Instant(parsing: "yesterday") }
        #expect(throws: TwinError.self) { try EffectiveTime(parsing: "-1d") }
    }
}
