import Foundation
import Testing
import TwinCore
@testable import TwinModels

/// `CivilDateTime` uses `Instant`'s calendar arithmetic (one days-from-civil implementation in TwinCore).
@Suite struct CivilDateTimeTests {
    /// Every 97th day from 1600 to 2400 (leap centuries, 1900's non-leap, dates before 1970): the label a
    /// `CivilDateTime` gives matches the date of the `Instant` at the same number of seconds since 1970.
    @Test func datesAgreeWithInstantAcrossCenturies() throws {
        let start = CivilDateTime(year: 1600, month: 3, day: 1, hour: 6, minute: 30, second: 15)
        let startDays = Instant.daysFromCivil(year: 1600, month: 3, day: 1)
        var checked = 0
        for k in stride(from: 0, to: 800 * 366, by: 97) {
            let t = start.adding(seconds: k * 86_400)
            let seconds = Int64(startDays + k) * 86_400 + 6 * 3600 + 30 * 60 + 15
            let iso = Instant(microseconds: seconds * 1_000_000).iso8601
            let label = t.description.replacingOccurrences(of: " ", with: "T") + "Z"
            #expect(iso == label, "day \(k): \(iso) vs \(label)")
            checked += 1
        }
        #expect(checked > 3000)
        // Leap days: 2000 is leap, 1900 is not.
        #expect(CivilDateTime(year: 2000, month: 2, day: 28).adding(seconds: 86_400).description == "2000-02-29 00:00:00")
        #expect(CivilDateTime(year: 1900, month: 2, day: 28).adding(seconds: 86_400).description == "1900-03-01 00:00:00")
        #expect(CivilDateTime(year: 1970, month: 1, day: 1).adding(seconds: -1).description == "1969-12-31 23:59:59")
        #expect(throws: ModelError.self) { try CivilDateTime(parsing: "1900-02-29") }
        #expect(try CivilDateTime(parsing: "2000-02-29 12:00").daysSinceEpoch == 11_016)
    }
}
