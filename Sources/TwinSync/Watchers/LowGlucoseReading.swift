import Foundation
import TwinBank
import TwinCore

/// Alerts on a low glucose **reading** itself, whatever any model says: a reading below 70 mg/dL is level 1
/// hypoglycaemia, below 54 mg/dL level 2 (International Consensus on Time in Range, Battelino et al., Diabetes
/// Care 2019;42:1593-1603, endorsed by the ADA). Used by ``GlucoseSynchroniser`` (on the window's low
/// readings, one alert per episode: ``alerting(_:)``) and by ``GlucoseForecastWatcher`` (on each update's latest reading), before and independently of
/// any filter, so a diverged or stale model cannot silence it.
///
/// The alert (category `alert`, code ``alertCode``, effective at the reading's time) names the reading's
/// time and value and the level, is derived from the reading's event, and records `inputs=reading-<event id>`
/// in its notes. **Once per reading**: ``HeldEvents`` holds an alert of ``alertCode`` at the reading's time with
/// the same `inputs=` word (written by a sync or a watch, retracted ones included), so a later sync or watch
/// update writes no second alert for the same reading.
public struct LowGlucoseReading: Sendable, Hashable {
    /// Level 1 hypoglycaemia: below 70 mg/dL.
    public static let level1 = 70.0
    /// Level 2 hypoglycaemia: below 54 mg/dL.
    public static let level2 = 54.0
    /// The alert's code.
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "hypoglycaemia-reading", display: "Low glucose reading")

    /// The reading (mg/dL) and its event.
    public var value: Double
    public var event: Event

    /// The reading if it is below ``level1``, else nil.
    public init?(value: Double, event: Event) {
        guard value < Self.level1 else { return nil }
        self.value = value; self.event = event
    }

    /// 2 below ``level2``, else 1.
    public var level: Int { value < Self.level2 ? 2 : 1 }

    /// mg/dL by which a reading must fall below the last alerted reading of its episode to alert again.
    public static let escalationDrop = 10.0

    /// The low readings among `readings` (mg/dL and event, in time order) that alert: one alert per episode
    /// (``LowReadingEpisodes``: its first reading, a reading that escalates it (level 2 after level 1, or
    /// ``escalationDrop`` lower than the episode's last alerting reading), and the latest reading when it is low).
    public static func alerting(_ readings: [(value: Double, event: Event)]) -> [LowGlucoseReading] {
        let lows = readings.map { LowGlucoseReading(value: $0.value, event: $0.event) }
        return LowReadingEpisodes.alerting(lows.enumerated().map { (readings[$0.offset].value, $0.element?.level) }, escalationDrop: escalationDrop)
            .compactMap { lows[$0] }
    }

    /// The alert: message, reasons and measures (`reading`, `level`, `threshold`). `nowcast`, when given, is the
    /// model's glucose at the reading; when it is not low, the reasons say that the reading wins.
    public func alert(nowcast: Double? = nil) -> Alert {
        let shown = Value.format((value * 10).rounded() / 10)
        let threshold = level == 2 ? Self.level2 : Self.level1
        let name = level == 2 ? "level 2 hypoglycaemia (below 54 mg/dL)" : "level 1 hypoglycaemia (below 70 mg/dL)"
        var reasons = ["reading \(event.id.abbreviated()) from \(event.source) at \(event.effective.start.iso8601): \(shown) mg/dL",
                       "\(name), International Consensus on Time in Range (Battelino et al., Diabetes Care 2019)"]
        if let nowcast, !(nowcast < Self.level1) {
            reasons.append("the twin's model shows \(Value.format((nowcast * 10).rounded() / 10)) mg/dL now and does not see the low: the reading wins")
        }
        return Alert(kind: "hypoglycaemia-reading", severity: .high, time: 0,
                     message: "Low glucose reading: \(shown) mg/dL at \(event.effective.start.iso8601): \(name).",
                     reasons: reasons, forecast: nil,
                     measures: ["reading": (value * 10).rounded() / 10, "level": Double(level), "threshold": threshold])
    }

    /// The alert as an event draft for `twin`, from `source`; `context` (e.g. a watch update's marker) is
    /// appended to the notes.
    public func draft(twin: TwinID, source: Source, nowcast: Double? = nil, context: String? = nil) -> EventDraft {
        let a = alert(nowcast: nowcast)
        let text = ([a.message] + a.reasons).joined(separator: " | ")
        var notes = "watcher=low-glucose-reading inputs=reading-\(event.id.abbreviated(16)) severity=\(a.severity.rawValue) \(a.measureWords)"
        if let context { notes += " " + context }
        return EventDraft(twin: twin, effective: EffectiveTime(event.effective.start), category: .alert, code: Self.alertCode,
                          value: .text(text), source: source, provenance: Provenance(derivedFrom: [event.id], notes: notes))
    }
}
