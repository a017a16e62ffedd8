import TwinCore

/// Converts FHIR date, dateTime and instant text to `Instant`s (partial dates start at their first day;
/// times without a zone, which FHIR only allows in `time`, are read as UTC; a leap second, `23:59:60`, which
/// FHIR allows, is the first instant of the next minute, as POSIX time counts it).
public enum FHIRTime {
    /// The instant a FHIR date/dateTime/instant starts at, or nil if the text is not one.
    public static func instant(_ text: String) -> Instant? {
        let u = text.utf8.count
        switch u {
        case 4: return Instant.parse(text + "-01-01")
        case 7: return Instant.parse(text + "-01")
        default:
            if let t = Instant.parse(text) { return t }
            // seconds "60" (a leap second): read as :59 plus one second
            let b = Array(text.utf8)
            guard b.count >= 19, b[10] == UInt8(ascii: "T"), b[16] == UInt8(ascii: ":"),
                  b[17] == UInt8(ascii: "6"), b[18] == UInt8(ascii: "0") else { return nil }
            var fixed = b
            fixed[17] = UInt8(ascii: "5"); fixed[18] = UInt8(ascii: "9")
            return Instant.parse(String(decoding: fixed, as: UTF8.self)).map { Instant(microseconds: $0.microseconds + 1_000_000) }
        }
    }

    /// The FHIR dateTime text of an instant (UTC, seconds, fraction only when non-zero).
    public static func text(_ instant: Instant) -> String { instant.iso8601 }

    /// The FHIR date text (YYYY-MM-DD) of an instant.
    public static func date(_ instant: Instant) -> String { String(instant.iso8601.prefix(10)) }
}
