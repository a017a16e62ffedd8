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

    public var description: String { "[\(severity.rawValue)] \(message)" }
}
