import ArgumentParser
import TwinCore
import TwinSync

extension GlucoseSynchroniser.Prior: ExpressibleByArgument {}

/// A duration option: a `TimeSpan` (`30min`, `12h`, `2d`), or a bare number in the option's default unit
/// (minutes for the glucose twin's options, as before).
struct DurationArgument: ExpressibleByArgument, Sendable, Hashable {
    var span: TimeSpan
    init?(argument: String) {
        if let minutes = Double(argument), minutes.isFinite, minutes >= 0 {
            span = TimeSpan(microseconds: Int64((minutes * 60_000_000).rounded()))
        } else if let s = try? TimeSpan(parsing: argument) {
            span = s
        } else {
            return nil
        }
    }
    init(minutes: Int) { span = TimeSpan(microseconds: Int64(minutes) * 60_000_000) }
    /// Whole minutes, or nil when the span is not a whole number of minutes.
    var wholeMinutes: Int? { span.microseconds % 60_000_000 == 0 ? Int(span.microseconds / 60_000_000) : nil }
    /// The span in a model's time unit.
    func value(in unit: ModelTimeUnit) -> Double { Double(span.microseconds) / 1e6 / unit.seconds }
    var defaultValueDescription: String { span.description }
}

extension SyncOptionRules {
    /// Checks the rules, as the command's validation error.
    func validate() throws {
        do { try check() } catch let e as SyncError { throw ValidationError(e.message) }
    }
}
