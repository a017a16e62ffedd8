import Testing
@testable import TwinCore

@Suite struct InstantTests {
    @Test(arguments: [
        ("1970-01-01", Int64(0)),
        ("2024-01-01", Int64(1_704_067_200_000_000)),
        ("2024-01-01T07:45", Int64(1_704_095_100_000_000)),
        ("2024-01-01T07:45:30", Int64(1_704_095_130_000_000)),
        ("2024-01-01T07:45:30Z", Int64(1_704_095_130_000_000)),
        ("2024-01-01T07:45:30.5Z", Int64(1_704_095_130_500_000)),
        ("2024-01-01T07:45:30.123456789Z", Int64(1_704_095_130_123_456)),
        ("2024-01-01T09:45:30+02:00", Int64(1_704_095_130_000_000)),
        ("2024-01-01T02:45:30-0500", Int64(1_704_095_130_000_000)),
        ("2024-02-29T00:00Z", Int64(1_709_164_800_000_000)),
        ("1969-12-31T23:59:59Z", Int64(-1_000_000)),
    ])
    func parsesValidTimes(text: String, micros: Int64) throws {
        #expect(try Instant(parsing: text).microseconds == micros)
    }

    @Test(arguments: ["", "2024", "2024-1-01", "2024-13-01", "2023-02-29", "2024-04-31", "2024-01-01T24:00",
                      "2024-01-01T07:60", "2024-01-01T07:45:61", "2024-01-01T07", "2024-01-01T07:45Zjunk",
                      "2024-01-01T07:45:30.", "yesterday", "2024-01-01T07:45+25:00", "2024/01/01"])
    func rejectsGarbageNamingTheValue(text: String) {
        #expect {
            try Instant(parsing: text)
        } throws: { error in
            guard let e = error as? TwinError else { return false }
            return e.code == .invalidTime && e.value == text && e.message.contains("'\(text)'")
        }
    }

    @Test func formatsAndRoundTrips() throws {
        #expect(Instant(microseconds: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(try Instant(parsing: "2024-01-01T07:45:30.5Z").iso8601 == "2024-01-01T07:45:30.500Z")
        #expect(try Instant(parsing: "2024-01-01T07:45:30.000001Z").iso8601 == "2024-01-01T07:45:30.000001Z")
        #expect(Instant(microseconds: -1).iso8601 == "1969-12-31T23:59:59.999999Z")
        // round trip over a spread of instants, including leap days and pre-epoch times
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let micros = Int64(bitPattern: x >> 8) % 250_000_000_000_000_000 // within years ~ -5900..9900
            let i = Instant(microseconds: micros % 253_402_300_799_000_000)
            guard i.microseconds >= -62_135_596_800_000_000 else { continue } // year >= 1
            #expect(try Instant(parsing: i.iso8601) == i)
        }
    }

    @Test func manualClockSteps() {
        let c = ManualClock(Instant(microseconds: 10), stepMicroseconds: 5)
        #expect(c.now().microseconds == 10)
        #expect(c.now().microseconds == 15)
        c.advance(byMicroseconds: 100)
        #expect(c.now().microseconds == 120)
    }

    @Test func timeSpans() throws {
        #expect(try TimeSpan(parsing: "365d").microseconds == 365 * 86_400_000_000)
        #expect(try TimeSpan(parsing: "30min").microseconds == 1_800_000_000)
        #expect(try TimeSpan(parsing: "1.5h").microseconds == 5_400_000_000)
        #expect(throws: TwinError.self) { try TimeSpan(parsing: "3 fortnights") }
    }
}
