import Foundation
import TwinBank
import TwinCore

/// A clinical rule on a low **reading** itself, whatever any model says: two levels below two thresholds, the
/// alert's code and words, and the reference the thresholds come from. Vetted once, in code:
/// ``LowGlucose`` (hypoglycaemia) and ``LowPressure`` (hypotension).
public protocol LowReadingRule: Sendable, Hashable {
    /// Below it the reading is low (level 1); below ``level2`` level 2. In ``unit``.
    static var level1: Double { get }
    static var level2: Double { get }
    /// By how much a reading must fall below the last alerted reading of its episode to alert again.
    static var escalationDrop: Double { get }
    /// The unit the readings are in, as shown (`mg/dL`, `mmHg`).
    static var unit: String { get }
    /// The alert's code, its kind (``Alert/kind``), the watcher's name in provenance notes, and the message's title.
    static var alertCode: Concept { get }
    static var kind: String { get }
    static var watcher: String { get }
    static var title: String { get }
    /// The level's name with its threshold (`level 1 hypoglycaemia (below 70 mg/dL)`).
    static func name(level: Int) -> String
    /// What follows the name in the alert's reasons: where the thresholds come from.
    static var reference: String { get }
}

/// A low reading under a ``LowReadingRule``: the alert on it, one per episode of low readings
/// (``LowReadingEpisodes``), before and independently of any model, so a diverged or stale model cannot silence it.
///
/// The alert (category `alert`, code ``LowReadingRule/alertCode``, effective at the reading's time) names the
/// reading's time and value and the level, is derived from the reading's event, and records
/// `inputs=reading-<event id>` in its notes. **Once per reading**: ``HeldEvents`` holds an alert of the code at the
/// reading's time with the same `inputs=` word (written by a sync or a watch, retracted ones included), so a later
/// sync or watch update writes no second alert for the same reading.
public struct LowReading<Rule: LowReadingRule>: Sendable, Hashable {
    /// The reading (in the rule's unit) and its event.
    public var value: Double
    public var event: Event

    public static var level1: Double { Rule.level1 }
    public static var level2: Double { Rule.level2 }
    public static var escalationDrop: Double { Rule.escalationDrop }
    public static var alertCode: Concept { Rule.alertCode }

    /// The reading if it is below the rule's level 1, else nil.
    public init?(value: Double, event: Event) {
        guard value < Rule.level1 else { return nil }
        self.value = value; self.event = event
    }

    /// 2 below the rule's level 2, else 1.
    public var level: Int { value < Rule.level2 ? 2 : 1 }

    /// The low readings among `readings` (in time order) that alert: one per episode, its escalations (level 2
    /// after level 1, or ``LowReadingRule/escalationDrop`` lower than the episode's last alerting reading) and the
    /// latest when it is low (``LowReadingEpisodes``).
    public static func alerting(_ readings: [(value: Double, event: Event)]) -> [LowReading] {
        let lows = readings.map { LowReading(value: $0.value, event: $0.event) }
        return LowReadingEpisodes.alerting(lows.enumerated().map { (readings[$0.offset].value, $0.element?.level) }, escalationDrop: Rule.escalationDrop)
            .compactMap { lows[$0] }
    }

    /// The alert: message, reasons and measures (`reading`, `level`, `threshold`). `nowcast`, when given, is the
    /// model's value at the reading; when it is not low, the reasons say that the reading wins.
    public func alert(nowcast: Double? = nil) -> Alert {
        let shown = Value.format((value * 10).rounded() / 10)
        let threshold = level == 2 ? Rule.level2 : Rule.level1
        let name = Rule.name(level: level)
        var reasons = ["reading \(event.id.abbreviated()) from \(event.source) at \(event.effective.start.iso8601): \(shown) \(Rule.unit)",
                       name + Rule.reference]
        if let nowcast, !(nowcast < Rule.level1) {
            reasons.append("the twin's model shows \(Value.format((nowcast * 10).rounded() / 10)) \(Rule.unit) now and does not see the low: the reading wins")
        }
        return Alert(kind: Rule.kind, severity: .high, time: 0,
                     message: "\(Rule.title): \(shown) \(Rule.unit) at \(event.effective.start.iso8601): \(name).",
                     reasons: reasons, forecast: nil,
                     measures: ["reading": (value * 10).rounded() / 10, "level": Double(level), "threshold": threshold])
    }

    /// The alert as an event draft for `twin`, from `source`; `context` (e.g. a watch update's marker) is
    /// appended to the notes.
    public func draft(twin: TwinID, source: Source, nowcast: Double? = nil, context: String? = nil) -> EventDraft {
        let a = alert(nowcast: nowcast)
        let text = ([a.message] + a.reasons).joined(separator: " | ")
        var notes = "watcher=\(Rule.watcher) inputs=reading-\(event.id.abbreviated(16)) severity=\(a.severity.rawValue) \(a.measureWords)"
        if let context { notes += " " + context }
        return EventDraft(twin: twin, effective: EffectiveTime(event.effective.start), category: .alert, code: Rule.alertCode,
                          value: .text(text), source: source, provenance: Provenance(derivedFrom: [event.id], notes: notes))
    }
}

/// Hypoglycaemia on a glucose reading (mg/dL): below 70 mg/dL is level 1, below 54 mg/dL level 2 (International
/// Consensus on Time in Range, Battelino et al., Diabetes Care 2019;42:1593-1603, endorsed by the ADA). Used by
/// ``GlucoseSynchroniser`` and bindings with the `hypoglycaemia` rule (on the window's low readings) and by
/// ``GlucoseForecastWatcher`` (on each update's latest reading).
public enum LowGlucose: LowReadingRule {
    public static let level1 = 70.0
    public static let level2 = 54.0
    public static let escalationDrop = 10.0
    public static let unit = "mg/dL"
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "hypoglycaemia-reading", display: "Low glucose reading")
    public static let kind = "hypoglycaemia-reading"
    public static let watcher = "low-glucose-reading"
    public static let title = "Low glucose reading"
    public static func name(level: Int) -> String {
        level == 2 ? "level 2 hypoglycaemia (below 54 mg/dL)" : "level 1 hypoglycaemia (below 70 mg/dL)"
    }
    public static let reference = ", International Consensus on Time in Range (Battelino et al., Diabetes Care 2019)"
}

/// Hypotension on a mean arterial pressure reading (mmHg): below 65 mmHg, severe below 55 mmHg. 65 mmHg is the
/// initial target in septic shock (Surviving Sepsis Campaign, Evans et al., Crit. Care Med. 2021;49:e1063-e1143)
/// and the threshold below which intraoperative hypotension is associated with organ injury (Sessler et al., Br. J.
/// Anaesth. 2019;122:563-574); below 55 mmHg the association is stronger (Salmasi et al., Anesthesiology
/// 2017;126:47-65). Used by bindings with the `hypotension` rule.
public enum LowPressure: LowReadingRule {
    public static let level1 = 65.0
    public static let level2 = 55.0
    public static let escalationDrop = 5.0
    public static let unit = "mmHg"
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "hypotension-reading", display: "Low mean arterial pressure reading")
    public static let kind = "hypotension-reading"
    public static let watcher = "low-pressure-reading"
    public static let title = "Low mean arterial pressure reading"
    public static func name(level: Int) -> String {
        level == 2 ? "severe hypotension (mean arterial pressure below 55 mmHg)" : "hypotension (mean arterial pressure below 65 mmHg)"
    }
    public static let reference = ": the Surviving Sepsis Campaign's target (2021) and the intraoperative harm threshold (Sessler et al. 2019)"
}

/// A low glucose reading (``LowGlucose``).
public typealias LowGlucoseReading = LowReading<LowGlucose>
/// A low mean arterial pressure reading (``LowPressure``).
public typealias LowPressureReading = LowReading<LowPressure>
