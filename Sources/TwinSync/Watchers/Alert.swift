import Foundation
import TwinCore

/// An alert or recommendation raised by a watcher, with the reasons behind it.
public struct Alert: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case information, low, medium, high
        public static func < (a: Severity, b: Severity) -> Bool {
            let order: [Severity] = [.information, .low, .medium, .high]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }
    /// A stable kind, e.g. "hypoglycaemia-predicted", "news2".
    public let kind: String
    public let severity: Severity
    /// When the watcher ran (the twin's time).
    public let time: Double
    public let message: String
    /// Why: the observations, scores and forecast values the alert came from, in words a clinician can check.
    public let reasons: [String]
    /// The forecast the alert was derived from, if any.
    public let forecast: Forecast.Provenance?
    /// The figures behind the alert by name (e.g. `minutesToLow`, `predictedGlucose`), for programs: writers
    /// record them as `name=value` words in the alert's provenance notes.
    public var measures: [String: Double] = [:]

    public init(kind: String, severity: Severity, time: Double, message: String, reasons: [String], forecast: Forecast.Provenance?,
                measures: [String: Double] = [:]) {
        self.kind = kind; self.severity = severity; self.time = time; self.message = message; self.reasons = reasons
        self.forecast = forecast; self.measures = measures
    }

    /// The measures as `name=value` words, sorted by name.
    public var measureWords: String {
        measures.keys.sorted().map { "\($0)=\(Value.format(measures[$0]!))" }.joined(separator: " ")
    }

    /// The value of the `name=value` word `name` in provenance notes, if any.
    public static func measure(_ name: String, in notes: String?) -> Double? {
        guard let notes else { return nil }
        for word in notes.split(separator: " ") where word.hasPrefix(name + "=") {
            return Double(word.dropFirst(name.count + 1).trimmingCharacters(in: .punctuationCharacters.subtracting(CharacterSet(charactersIn: ".-"))))
        }
        return nil
    }

    public var description: String { "[\(severity.rawValue)] \(message)" }
}
