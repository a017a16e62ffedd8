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
/// **A low reading alerts whatever the model says** (``LowGlucoseReading``): when the update's latest reading is
/// below 70 mg/dL, an alert names it (once per reading, also across `sync` and `watch`); within the quiet
/// period after such an alert, only a deeper low alerts again (level 2 after level 1, or a reading
/// ``escalationGlucoseDrop`` lower). **An unreliable twin** (``ModelHealth``) has its forecast withheld: no
/// prediction events, no predicted alert, and a ``GlucoseSynchroniser/modelUnreliable`` alert saying why (once
/// per quiet period). Each alert of a low, measured or predicted, comes with its recommendation.
///
/// Before the twin has any glucose reading it returns nothing. Every event carries the update's marker.
public struct GlucoseForecastWatcher: ThreadWatcher {
    /// The recommendation's code.
    public static let carbohydrateRecommendation = Concept(system: "urn:twinbank:recommendation", code: "hypoglycaemia-fast-carbohydrate",
                                                           display: "Take fast-acting carbohydrate (hypoglycaemia measured or predicted)")
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
        let latest = try await bank.run { try $0.state(of: update.twin, knownAt: update.recorded, code: GlucoseSynchroniser.glucose.key, category: .observation) }
        guard let reading = latest.first else { return [] }
        var o = options
        o.knownAt = update.recorded
        o.to = min(reading.effective.start, update.recorded)
        o.from = o.to?.advanced(bySeconds: -windowHours * 3600)
        o.context = update.marker(watcher: name)
        let computed = try await GlucoseSynchroniser.compute(update.twin, in: bank, options: o).drafts
        let watcher = self
        return try await bank.run { bank in try bank.reading(update.twin) { thread in try watcher.alerting(computed, reading: reading, update: update, in: thread) } }
    }

    /// What the watch writes of a synchronisation's drafts: alerts once per reading and quiet period, each with its
    /// recommendation (reads the thread: run on the storage's threads).
    func alerting(_ computed: [EventDraft], reading: Event, update: ThreadUpdate, in thread: some ThreadReading) throws -> [EventDraft] {
        var drafts: [EventDraft] = []
        var alerts: [EventDraft] = []
        for var d in computed {
            guard d.category == .alert, case .text(var text)? = d.value else { drafts.append(d); continue }
            switch d.code.key {
            case LowGlucoseReading.alertCode.key:
                // the watch alerts on each update's latest reading (earlier ones had their own update; its quiet period
                // holds back the lows between); `sync` alerts on every unalerted low of its window
                guard d.effective.start == reading.effective.start else { continue }
                // once per reading (a sync may have alerted on it already); within the quiet period only a deeper low
                guard try !alerted(onReadingOf: d, before: update, in: thread) else { continue }
                let earlier = try quietPeriod.earlierAlerts(of: name, code: LowGlucoseReading.alertCode.key, near: d.effective.start, before: update, in: thread)
                if !earlier.isEmpty {
                    guard let why = readingEscalation(notes: d.provenance.notes, over: earlier) else { continue }
                    text += " | " + why
                    d.value = .text(text)
                }
                alerts.append(d)
            case GlucoseSynchroniser.modelUnreliable.key:
                // said once per quiet period; the forecast stays withheld on every update meanwhile
                let earlier = try quietPeriod.earlierAlerts(of: name, code: GlucoseSynchroniser.modelUnreliable.key, near: d.effective.start, before: update, in: thread)
                guard earlier.isEmpty else { continue }
                drafts.append(d)
            default:
                // quiet period: an earlier alert of this watcher near this time holds back all but an escalation
                let earlier = try quietPeriod.earlierAlerts(of: name, code: GlucoseSynchroniser.hypoglycaemiaAlert.key, near: d.effective.start,
                                                            before: update, in: thread)
                if !earlier.isEmpty {
                    guard let why = escalation(text: text, notes: d.provenance.notes, at: d.effective.start, over: earlier) else { continue }
                    text += " | " + why
                    d.value = .text(text)
                }
                alerts.append(d)
            }
        }
        drafts += alerts
        // each alert of a low (measured or predicted) with its recommendation, derived from it
        var hasher = EventHasher()
        for alert in alerts {
            guard case .text(let text)? = alert.value else { continue }
            let first = text.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
            drafts.append(EventDraft(twin: update.twin, effective: alert.effective, category: .recommendation, code: Self.carbohydrateRecommendation,
                                     value: .text("Take 15 g of fast-acting carbohydrate now and recheck glucose in 15 minutes. " + first),
                                     source: GlucoseSynchroniser.source,
                                     provenance: Provenance(derivedFrom: [hasher.hash(alert)], model: alert.provenance.model, modelVersion: alert.provenance.modelVersion,
                                                            seed: alert.provenance.seed, notes: "rule of 15 (ADA Standards of Care, hypoglycaemia treatment) " + update.marker(watcher: name))))
        }
        return drafts
    }

    /// Whether the thread holds an alert on the same reading as the low-reading alert `draft` (same `inputs=`
    /// word) that this update may know of: one recorded by the time of the update (e.g. by a `sync`) or written
    /// by this watcher for an earlier update. (An alert written for this update or a later one does not
    /// count, so evaluating an update again gives the same drafts.)
    func alerted(onReadingOf draft: EventDraft, before update: ThreadUpdate, in thread: some ThreadReading) throws -> Bool {
        guard let inputs = HeldEvents.inputsWord(draft.provenance.notes) else { return false }
        let t = draft.effective.start
        return try thread.events(ThreadQuery(twin: update.twin, code: LowGlucoseReading.alertCode.key, category: .alert, from: t, to: t, includeRetracted: true))
            .contains { e in
                guard HeldEvents.inputsWord(e.provenance.notes) == inputs else { return false }
                if e.recorded <= update.recorded { return true }
                return QuietPeriod.update(in: e.provenance.notes, watcher: name).map { $0 < update.sequence } ?? false
            }
    }

    /// Why a low-reading alert escalates the earlier ones within the quiet period: its level is higher (level 2
    /// after level 1), or its reading is at least ``escalationGlucoseDrop`` lower than the lowest earlier one;
    /// nil when it does not.
    func readingEscalation(notes: String?, over earlier: [Event]) -> String? {
        guard let reading = Alert.measure("reading", in: notes), let level = Alert.measure("level", in: notes) else { return nil }
        let levels = earlier.compactMap { Alert.measure("level", in: $0.provenance.notes) }
        let lowest = earlier.compactMap { e in Alert.measure("reading", in: e.provenance.notes).map { ($0, e) } }.min { $0.0 < $1.0 }
        if let top = levels.max(), level > top {
            return "escalates the low-glucose alerts within the \(quietPeriod) quiet period: level \(Value.format(level)) (was \(Value.format(top)))"
        }
        if let (g, e) = lowest, reading <= g - escalationGlucoseDrop {
            return "escalates the low-glucose alert of \(e.effective.start.iso8601) within the \(quietPeriod) quiet period: reading \(Value.format(reading)) mg/dL (was \(Value.format(g)))"
        }
        return nil
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
