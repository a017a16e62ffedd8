import Foundation

/// A typed outcome measure of a comparison: what is measured over one simulated member (a plausible patient
/// under one option), its unit, and which way is better.
///
/// Results are keyed by measure. A measure is identified in JSON by its ``name`` (the object key of an
/// option's `outcomes`), so the names are a stable public vocabulary; ``catalogue`` lists every measure a
/// comparison of this module reports, and decoding a name not in it fails.
public struct OutcomeMeasure: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which values of a measure are better.
    public enum Direction: String, Sendable, Hashable, Codable {
        /// Larger values are better (ranked descending).
        case higherIsBetter
        /// Smaller values are better (ranked ascending).
        case lowerIsBetter
        /// Reported for information; neither way is better, so a ranking may not use it on its own.
        case neither
    }

    /// The stable identifier (`timeInRange`): the key in JSON output and in the ranking's description.
    public var name: String
    /// UCUM unit of the values (`1` for a fraction of the horizon, `mg/dL`, `mg.h/L`).
    public var unit: String
    public var direction: Direction
    /// What the measure is, for a person.
    public var summary: String

    public init(name: String, unit: String, direction: Direction, summary: String) {
        self.name = name; self.unit = unit; self.direction = direction; self.summary = summary
    }

    public var description: String { name }

    /// Whether `a` is better than `b` by more than `tolerance` in this measure's direction (never for `neither`).
    public func prefers(_ a: Double, over b: Double, tolerance: Double = 0) -> Bool {
        guard abs(a - b) > tolerance else { return false }
        switch direction {
        case .higherIsBetter: return a > b
        case .lowerIsBetter: return a < b
        case .neither: return false
        }
    }

    /// Every measure the comparisons of this module report (glucose, then dose), by which JSON names are read back.
    public static let catalogue: [OutcomeMeasure] = glucoseMeasures + doseMeasures

    /// The catalogued measure named `name`, if any.
    public static func named(_ name: String) -> OutcomeMeasure? { catalogue.first { $0.name == name } }
}

extension OutcomeMeasure: CodingKeyRepresentable {
    public var codingKey: any CodingKey { Key(stringValue: name) }
    public init?<T: CodingKey>(codingKey: T) {
        guard let m = Self.named(codingKey.stringValue) else { return nil }
        self = m
    }
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

// MARK: - Glucose (over a BG trace)

extension OutcomeMeasure {
    /// Fraction of minutes with 70 <= BG <= 180 mg/dL.
    public static let timeInRange = OutcomeMeasure(name: "timeInRange", unit: "1", direction: .higherIsBetter,
                                                   summary: "fraction of minutes with blood glucose 70-180 mg/dL")
    /// Fraction of minutes with BG < 70 mg/dL.
    public static let timeBelowRange = OutcomeMeasure(name: "timeBelowRange", unit: "1", direction: .lowerIsBetter,
                                                      summary: "fraction of minutes with blood glucose below 70 mg/dL")
    /// Kovatchev's low blood glucose index (hypoglycaemia risk).
    public static let lowBGIndex = OutcomeMeasure(name: "lowBGIndex", unit: "1", direction: .lowerIsBetter,
                                                  summary: "Kovatchev's low blood glucose index (hypoglycaemia risk)")
    /// Mean BG.
    public static let meanBG = OutcomeMeasure(name: "meanBG", unit: "mg/dL", direction: .neither, summary: "mean blood glucose")

    /// The glucose comparison's measures, in the order they are computed.
    public static let glucoseMeasures: [OutcomeMeasure] = [.timeInRange, .timeBelowRange, .lowBGIndex, .meanBG]
}

// MARK: - Drug dosing (over a concentration curve and the twin's therapeutic window)

extension OutcomeMeasure {
    /// Fraction of the horizon with the concentration inside the therapeutic window.
    public static let timeInWindow = OutcomeMeasure(name: "timeInWindow", unit: "1", direction: .higherIsBetter,
                                                    summary: "fraction of the horizon with the concentration in the therapeutic window")
    /// Fraction of the horizon above the window (toxicity).
    public static let timeAboveWindow = OutcomeMeasure(name: "timeAboveWindow", unit: "1", direction: .lowerIsBetter,
                                                       summary: "fraction of the horizon above the therapeutic window (toxicity)")
    /// Fraction of the horizon below the window.
    public static let timeBelowWindow = OutcomeMeasure(name: "timeBelowWindow", unit: "1", direction: .lowerIsBetter,
                                                       summary: "fraction of the horizon below the therapeutic window")
    /// Highest concentration.
    public static let peak = OutcomeMeasure(name: "peak", unit: "mg/L", direction: .neither, summary: "highest plasma concentration")
    /// Concentration at the end of the horizon.
    public static let final = OutcomeMeasure(name: "final", unit: "mg/L", direction: .neither, summary: "plasma concentration at the end of the horizon")
    /// Area under the concentration curve per 24 h.
    public static let auc24 = OutcomeMeasure(name: "auc24", unit: "mg.h/L", direction: .neither, summary: "area under the concentration curve per 24 h")

    /// The dose comparison's measures, in the order they are computed.
    public static let doseMeasures: [OutcomeMeasure] = [.timeInWindow, .timeAboveWindow, .timeBelowWindow, .peak, .final, .auc24]
}
