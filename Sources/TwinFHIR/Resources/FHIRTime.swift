import TwinCore

/// Converts FHIR date, dateTime and instant text to `Instant`s (partial dates start at their first day;
/// times without a zone, which FHIR only allows in `time`, are read as UTC).
public enum FHIRTime {
    /// The instant a FHIR date/dateTime/instant starts at, or nil if the text is not one.
    public static func instant(_ text: String) -> Instant? {
        let u = text.utf8.count
        switch u {
        case 4: return Instant.parse(text + "-01-01")
        case 7: return Instant.parse(text + "-01")
        default: return Instant.parse(text)
        }
    }

    /// The FHIR dateTime text of an instant (UTC, seconds, fraction only when non-zero).
    public static func text(_ instant: Instant) -> String { instant.iso8601 }

    /// The FHIR date text (YYYY-MM-DD) of an instant.
    public static func date(_ instant: Instant) -> String { String(instant.iso8601.prefix(10)) }
}
