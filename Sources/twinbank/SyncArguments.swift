import ArgumentParser
import Foundation
import TwinCore
import TwinSync

extension GlucoseSynchroniser.Prior: ExpressibleByArgument {}

/// The unit a duration option's bare number is in (as the option was before it took durations).
protocol BareDurationUnit: Sendable { static var seconds: Double { get } }
enum BareSeconds: BareDurationUnit { static let seconds = 1.0 }
enum BareMinutes: BareDurationUnit { static let seconds = 60.0 }
enum BareHours: BareDurationUnit { static let seconds = 3600.0 }
enum BareDays: BareDurationUnit { static let seconds = 86_400.0 }

/// A duration option, the one way the command reads durations: a `TimeSpan` (`30min`, `12h`, `2d`; case and
/// surrounding spaces do not matter), or a bare number in the option's own documented unit (`Bare`: minutes for
/// `sync --horizon` and `--quiet`, hours for `compare --horizon`, seconds for `--interval`, ...), so earlier
/// command lines keep working. Anything else, or a negative number, is refused before the command runs, naming
/// the option and the value.
struct DurationOption<Bare: BareDurationUnit>: ExpressibleByArgument, Sendable, Hashable {
    var span: TimeSpan
    init?(argument: String) {
        let argument = argument.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Double(argument) {
            guard n.isFinite, n >= 0, n * Bare.seconds < 9e12 else { return nil }
            span = TimeSpan(microseconds: Int64((n * Bare.seconds * 1e6).rounded()))
        } else if let s = try? TimeSpan(parsing: argument) {
            span = s
        } else {
            return nil
        }
    }
    /// `n` of the bare unit.
    init(_ n: Double) { span = TimeSpan(microseconds: Int64((n * Bare.seconds * 1e6).rounded())) }
    init(minutes: Int) { span = TimeSpan(microseconds: Int64(minutes) * 60_000_000) }
    /// The span in the bare unit.
    var value: Double { Double(span.microseconds) / 1e6 / Bare.seconds }
    /// Whole minutes, or nil when the span is not a whole number of minutes.
    var wholeMinutes: Int? { span.microseconds % 60_000_000 == 0 ? Int(span.microseconds / 60_000_000) : nil }
    /// The span in a model's time unit.
    func value(in unit: ModelTimeUnit) -> Double { Double(span.microseconds) / 1e6 / unit.seconds }
    var defaultValueDescription: String { span.description }
}

/// A duration whose bare number is minutes.
typealias DurationArgument = DurationOption<BareMinutes>

extension DurationOption {
    /// Whole minutes for the option rules (`--recalibrate`).
    /// - Throws: a validation error naming the option when the span is not whole minutes.
    func minutes(option: String) throws -> Int {
        guard let m = wholeMinutes else { throw ValidationError("\(option): must be whole minutes (got \(span)).") }
        return m
    }
}

extension SyncOptionRules {
    /// Checks the rules, as the command's validation error.
    func validate() throws {
        do { try check() } catch let e as SyncError { throw ValidationError(e.message) }
    }
}
