import TwinBank
import TwinCore

/// Keeps a glucose twin's forecast current and warns of hypoglycaemia: on each update that brings a CGM
/// reading, a meal or insulin, it runs the ``GlucoseSynchroniser`` as the thread was known right after the
/// update, with the forecast origin at the latest glucose reading, and returns what the synchroniser would
/// write (the forecast points with their interval and, if the ``HypoglycaemiaWatcher`` fired, the alert,
/// derived from the forecast's mean events and the readings) plus, with an alert, a `recommendation`: take
/// 15 g of fast-acting carbohydrate and recheck in 15 minutes (the "rule of 15" of the ADA Standards of Care),
/// derived from the alert.
///
/// **Quiet period** (``quietPeriod``, 30 min by default; ``QuietPeriod/off`` alerts on every update): while
/// hypoglycaemia stays predicted, the alert and its recommendation are written once, not on every reading.
/// No new alert is written when this watcher alerted for the twin on an earlier update with an effective
/// time within the quiet period (see ``QuietPeriod``), unless the new alert escalates, that is, compared
/// with every such earlier alert:
/// - its severity is higher (medium → high), or
/// - its predicted glucose is at least ``escalationGlucoseDrop`` (10 mg/dL) lower than the lowest earlier
///   prediction, or
/// - the predicted time of the low (the alert's time plus its minutes to the low) is at least
///   ``escalationMinutesEarlier`` (15 min) earlier than the earliest earlier one (falling faster than
///   forecast);
/// an escalating alert says which earlier alert it escalates. The forecast points are still written on every
/// update: the forecast is the twin's current prediction (and what the dashboard draws), not an alert.
///
/// Before the twin has any glucose reading it returns nothing. Every event carries the update's marker.
public struct GlucoseForecastWatcher: ThreadWatcher {
    /// The recommendation's code.
    public static let carbohydrateRecommendation = Concept(system: "urn:twinbank:recommendation", code: "hypoglycaemia-fast-carbohydrate",
                                                           display: "Take fast-acting carbohydrate (hypoglycaemia predicted)")
    public var name: String { "glucose-forecast" }
    /// The synchroniser's settings; `from`, `to`, `knownAt` and `context` are set per update.
    public var options: GlucoseSynchroniser.Options
    /// Hours of history assimilated before the latest reading.
    public var windowHours: Double
    /// The time after an alert in which only an escalation alerts again.
    public var quietPeriod: QuietPeriod
    /// mg/dL by which a predicted glucose must be lower than the earlier alerts' to escalate.
    public var escalationGlucoseDrop: Double
    /// Minutes by which the predicted low must come earlier than the earlier alerts' to escalate.
    public var escalationMinutesEarlier: Double

    public init(options: GlucoseSynchroniser.Options = .init(), windowHours: Double = 24, quietPeriod: QuietPeriod = .standard,
                escalationGlucoseDrop: Double = 10, escalationMinutesEarlier: Double = 15) {
        self.options = options
        self.windowHours = windowHours
        self.quietPeriod = quietPeriod
        self.escalationGlucoseDrop = escalationGlucoseDrop
        self.escalationMinutesEarlier = escalationMinutesEarlier
    }

    public func isTrigger(_ event: Event) -> Bool {
        switch event.category {
        case .observation: event.code.key == GlucoseSynchroniser.glucose.key
        case .intervention: event.code.key == GlucoseSynchroniser.carbohydrate.key || event.code.key == GlucoseSynchroniser.insulin.key
        default: false
        }
    }

    public func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        let latest = try bank.state(of: update.twin, knownAt: update.recorded, code: GlucoseSynchroniser.glucose.key, category: .observation)
        guard let reading = latest.first else { return [] }
        var o = options
        o.knownAt = update.recorded
        o.to = min(reading.effective.start, update.recorded)
        o.from = o.to?.advanced(bySeconds: -windowHours * 3600)
        o.context = update.marker(watcher: name)
        let result = try await GlucoseSynchroniser.compute(update.twin, in: bank, options: o)
        var drafts = result.drafts
        guard var alert = drafts.last, alert.category == .alert, result.alert != nil, case .text(var text)? = alert.value else { return drafts }
        drafts.removeLast()
        // quiet period: an earlier alert of this watcher near this time holds back all but an escalation
        let earlier = try quietPeriod.earlierAlerts(of: name, code: GlucoseSynchroniser.hypoglycaemiaAlert.key, near: alert.effective.start,
                                                    before: update, in: bank)
        if !earlier.isEmpty {
            guard let why = escalation(text: text, notes: alert.provenance.notes, at: alert.effective.start, over: earlier) else { return drafts }
            text += " | " + why
            alert.value = .text(text)
        }
        drafts.append(alert)
        var hasher = EventHasher()
        let first = text.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
        drafts.append(EventDraft(twin: update.twin, effective: alert.effective, category: .recommendation, code: Self.carbohydrateRecommendation,
                                 value: .text("Take 15 g of fast-acting carbohydrate now and recheck glucose in 15 minutes. " + first),
                                 source: GlucoseSynchroniser.source,
                                 provenance: Provenance(derivedFrom: [hasher.hash(alert)], model: alert.provenance.model, modelVersion: alert.provenance.modelVersion,
                                                        seed: alert.provenance.seed, notes: "rule of 15 (ADA Standards of Care, hypoglycaemia treatment) " + update.marker(watcher: name))))
        return drafts
    }

    /// Why a new alert escalates the earlier ones (see the type's discussion), or nil when it does not.
    func escalation(text: String, notes: String?, at time: Instant, over earlier: [Event]) -> String? {
        let now = Self.prediction(notes: notes, text: text)
        let severity = Self.severity(in: notes)
        var lowestGlucose: (Double, Event)?, earliestLow: (Instant, Event)?, highest: Alert.Severity?
        for e in earlier {
            if let s = Self.severity(in: e.provenance.notes) { highest = max(highest ?? s, s) }
            guard case .text(let t)? = e.value, let p = Self.prediction(notes: e.provenance.notes, text: t) else { continue }
            if lowestGlucose == nil || p.glucose < lowestGlucose!.0 { lowestGlucose = (p.glucose, e) }
            let low = e.effective.start.advanced(bySeconds: p.minutes * 60)
            if earliestLow == nil || low < earliestLow!.0 { earliestLow = (low, e) }
        }
        let last = earlier.max { $0.effective.start < $1.effective.start }
        if let severity, let highest, severity > highest {
            return "escalates the alert of \(last?.effective.start.iso8601 ?? "?") within the \(quietPeriod) quiet period: severity \(severity.rawValue) (was \(highest.rawValue))"
        }
        guard let now else { return nil }
        if let (g, e) = lowestGlucose, now.glucose <= g - escalationGlucoseDrop {
            return "escalates the alert of \(e.effective.start.iso8601) within the \(quietPeriod) quiet period: predicted glucose \(Value.format(now.glucose)) mg/dL (was \(Value.format(g)))"
        }
        let low = time.advanced(bySeconds: now.minutes * 60)
        if let (l, e) = earliestLow, low <= l.advanced(bySeconds: -escalationMinutesEarlier * 60) {
            return "escalates the alert of \(e.effective.start.iso8601) within the \(quietPeriod) quiet period: low predicted at \(low.iso8601) (was \(l.iso8601))"
        }
        return nil
    }

    /// The minutes to the low and the predicted glucose of a hypoglycaemia alert: the `minutesToLow` and
    /// `predictedGlucose` measures of its notes (``Alert/measures``), else read from its text (alerts written
    /// before the measures were recorded).
    static func prediction(notes: String?, text: String) -> (minutes: Double, glucose: Double)? {
        if let minutes = Alert.measure("minutesToLow", in: notes), let glucose = Alert.measure("predictedGlucose", in: notes) {
            return (minutes, glucose)
        }
        return prediction(in: text)
    }

    /// The minutes to the low and the predicted glucose of a hypoglycaemia alert's text
    /// ("Hypoglycaemia predicted in 25 min: glucose 64 mg/dL ...").
    static func prediction(in text: String) -> (minutes: Double, glucose: Double)? {
        guard let a = text.firstRange(of: "predicted in "), let b = text[a.upperBound...].firstRange(of: " min: glucose "),
              let minutes = Double(text[a.upperBound..<b.lowerBound]),
              let glucose = Double(text[b.upperBound...].prefix { $0 != " " }) else { return nil }
        return (minutes, glucose)
    }

    /// The severity in an alert's notes (`severity=high`).
    static func severity(in notes: String?) -> Alert.Severity? {
        guard let notes, let r = notes.firstRange(of: "severity=") else { return nil }
        return Alert.Severity(rawValue: String(notes[r.upperBound...].prefix { $0.isLetter }))
    }
}
