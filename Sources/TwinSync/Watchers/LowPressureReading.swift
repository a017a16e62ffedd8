import Foundation
import TwinBank
import TwinCore

/// Alerts on a low mean arterial pressure **reading** itself, whatever any model says: below 65 mmHg is
/// hypotension, below 55 mmHg severe hypotension. 65 mmHg is the initial target in septic shock (Surviving Sepsis
/// Campaign, Evans et al., Crit. Care Med. 2021;49:e1063-e1143) and the threshold below which intraoperative
/// hypotension is associated with organ injury (Sessler et al., Br. J. Anaesth. 2019;122:563-574); below 55 mmHg
/// the association is stronger (Salmasi et al., Anesthesiology 2017;126:47-65). Used by the ``BindingSynchroniser``
/// when a binding's safety rule is ``ThreadBinding/Safety/Rule/hypotension``, on the window's readings, one alert per
/// episode (``LowReadingEpisodes``), once per reading (``HeldEvents``, by the `inputs=reading-ID` word).
public struct LowPressureReading: Sendable, Hashable {
    /// Hypotension: a mean arterial pressure below 65 mmHg.
    public static let level1 = 65.0
    /// Severe hypotension: below 55 mmHg.
    public static let level2 = 55.0
    /// mmHg by which a reading must fall below the last alerted reading of its episode to alert again.
    public static let escalationDrop = 5.0
    /// The alert's code.
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "hypotension-reading", display: "Low mean arterial pressure reading")

    /// The reading (mmHg) and its event.
    public var value: Double
    public var event: Event

    /// The reading if it is below ``level1``, else nil.
    public init?(value: Double, event: Event) {
        guard value < Self.level1 else { return nil }
        self.value = value; self.event = event
    }

    /// 2 below ``level2``, else 1.
    public var level: Int { value < Self.level2 ? 2 : 1 }

    /// The low readings among `readings` (mmHg and event, in time order) that alert: one per episode, its
    /// escalations and the latest (``LowReadingEpisodes``).
    public static func alerting(_ readings: [(value: Double, event: Event)]) -> [LowPressureReading] {
        let lows = readings.map { LowPressureReading(value: $0.value, event: $0.event) }
        return LowReadingEpisodes.alerting(lows.enumerated().map { (readings[$0.offset].value, $0.element?.level) }, escalationDrop: escalationDrop)
            .compactMap { lows[$0] }
    }

    /// The alert: message, reasons and measures (`reading`, `level`, `threshold`). `nowcast`, when given, is the
    /// model's pressure at the reading; when it is not low, the reasons say that the reading wins.
    public func alert(nowcast: Double? = nil) -> Alert {
        let shown = Value.format((value * 10).rounded() / 10)
        let threshold = level == 2 ? Self.level2 : Self.level1
        let name = level == 2 ? "severe hypotension (mean arterial pressure below 55 mmHg)" : "hypotension (mean arterial pressure below 65 mmHg)"
        var reasons = ["reading \(event.id.abbreviated()) from \(event.source) at \(event.effective.start.iso8601): \(shown) mmHg",
                       "\(name): the Surviving Sepsis Campaign's target (2021) and the intraoperative harm threshold (Sessler et al. 2019)"]
        if let nowcast, !(nowcast < Self.level1) {
            reasons.append("the twin's model shows \(Value.format((nowcast * 10).rounded() / 10)) mmHg now and does not see the low: the reading wins")
        }
        return Alert(kind: "hypotension-reading", severity: .high, time: 0,
                     message: "Low mean arterial pressure reading: \(shown) mmHg at \(event.effective.start.iso8601): \(name).",
                     reasons: reasons, forecast: nil,
                     measures: ["reading": (value * 10).rounded() / 10, "level": Double(level), "threshold": threshold])
    }

    /// The alert as an event draft for `twin`, from `source`; `context` is appended to the notes.
    public func draft(twin: TwinID, source: Source, nowcast: Double? = nil, context: String? = nil) -> EventDraft {
        let a = alert(nowcast: nowcast)
        let text = ([a.message] + a.reasons).joined(separator: " | ")
        var notes = "watcher=low-pressure-reading inputs=reading-\(event.id.abbreviated(16)) severity=\(a.severity.rawValue) \(a.measureWords)"
        if let context { notes += " " + context }
        return EventDraft(twin: twin, effective: EffectiveTime(event.effective.start), category: .alert, code: Self.alertCode,
                          value: .text(text), source: source, provenance: Provenance(derivedFrom: [event.id], notes: notes))
    }
}
