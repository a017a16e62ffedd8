import TwinBank
import TwinCore

/// Scores NEWS2 from a twin's thread on each update that brings a vital sign, and raises an alert and the RCP
/// clinical response as a recommendation when the score reaches ``threshold`` or a single parameter scores 3.
///
/// On an update with an observation of one of the ``VitalSign`` codes, it reads the ``VitalSignSet`` as the
/// thread was known at the update's recorded time (so a reading recorded later never changes the evaluation
/// of an earlier update), with the vital signs within ``windowMinutes`` before the latest one, and scores it.
///
/// **Missing signs.** A sign with no reading in the window (or none at all) is not guessed: it adds nothing
/// to the score, which is then a lower bound of the full score (``NEWS2/init(partial:)``). The watcher alerts
/// when that lower bound already reaches the threshold or holds a red 3 (the full set can only score
/// higher), and the alert names the signs not recorded; when it does not, it writes nothing, as for a set
/// below the threshold. An unknown oxygen status is not taken as air: "air or oxygen" is then listed as not
/// recorded (record 3151-8 = 0 L/min for a patient on air).
///
/// **What it writes**, at the effective time of the set's latest reading:
/// - an `alert` (code ``alertCode``): "NEWS2 7 (high clinical risk): respiration rate 25 /min scores 3,
///   SpO2 scale 1 93 % scores 2, supplemental oxygen (3151-8 2 L/min) scores 2, …", each non-zero component with the
///   value as recorded, the time span of the set and the signs not recorded; `derivedFrom` the vital-sign events of the set (their content
///   hashes, in chart order); notes carry the score, risk, severity and the update's marker;
/// - a `recommendation` derived from the alert, the RCP 2017 clinical response for the score: a single red 3
///   (total below 5) — urgent ward-based response; 5-6 — key threshold for an urgent response; ≥ 7 —
///   emergency response with continuous monitoring; a total of 1-4 reached only through a lowered
///   threshold — ward-based response.
///
/// **Quiet period** (``quietPeriod``, 30 min by default): no new alert (nor recommendation) when this watcher
/// alerted for the twin on an earlier update with an effective time within the quiet period, unless the new
/// alert escalates: its risk (low-medium < medium < high) is higher than that of every such earlier alert.
///
/// A reading that cannot be converted (a unit of another dimension, a text where a number belongs, an
/// unknown consciousness level) makes the evaluation throw a ``SyncError`` naming the code, unit and value:
/// the service then writes nothing for the update and publishes the error. Deterministic per update.
public struct NEWS2ThreadWatcher: RuleWatcher {
    /// The alert's code.
    public static let alertCode = Concept(system: "urn:twinbank:alert", code: "news2", display: "NEWS2 early warning score")
    /// The recommendations' codes, by RCP clinical response.
    public static let emergencyResponse = Concept(system: "urn:twinbank:recommendation", code: "news2-emergency-response",
                                                  display: "NEWS2 ≥ 7: emergency response, continuous monitoring")
    public static let urgentResponse = Concept(system: "urn:twinbank:recommendation", code: "news2-urgent-response",
                                               display: "NEWS2 5-6: key threshold for urgent response")
    public static let urgentWardResponse = Concept(system: "urn:twinbank:recommendation", code: "news2-urgent-ward-response",
                                                   display: "NEWS2 single red score: urgent ward-based response")
    public static let wardResponse = Concept(system: "urn:twinbank:recommendation", code: "news2-ward-response",
                                             display: "NEWS2 1-4: ward-based response")
    /// The source of what it writes.
    public static let source = Source(.model, "news2")

    public var name: String { "news2" }
    /// The aggregate score that triggers an alert (a single 3 always does). The RCP's urgent-response
    /// threshold, 5, by default.
    public var threshold: Int
    /// Minutes before the latest vital sign within which the other signs must lie to form the set.
    public var windowMinutes: Double
    /// The twins whose SpO₂ is scored on scale 2 (hypercapnic respiratory failure, target 88-92 %, as a
    /// clinician prescribed); all others on scale 1. A setting of the watch, not read from the thread.
    public var scale2Twins: Set<TwinID>
    public var quietPeriod: QuietPeriod

    /// - Throws: ``SyncError`` `invalidArgument` naming the value when the threshold is outside 1...20 or
    ///   the window is not a positive number of minutes.
    public init(threshold: Int = 5, windowMinutes: Double = 60, scale2Twins: Set<TwinID> = [], quietPeriod: QuietPeriod = .standard) throws {
        guard (1...20).contains(threshold) else {
            throw SyncError(.invalidArgument, "the NEWS2 threshold must be 1 to 20 (got \(threshold)).", value: String(threshold))
        }
        guard windowMinutes.isFinite, windowMinutes > 0 else {
            throw SyncError(.invalidArgument, "the vital-sign freshness window must be a positive number of minutes (got \(windowMinutes)).", value: String(windowMinutes))
        }
        self.threshold = threshold; self.windowMinutes = windowMinutes; self.scale2Twins = scale2Twins; self.quietPeriod = quietPeriod
    }

    public func isTrigger(_ event: Event) -> Bool {
        event.category == .observation && VitalSign.allCodes.contains(event.code.key)
    }

    /// The set and its score as the thread was known right after the update (nil score when there is no vital sign).
    public func assess(_ update: ThreadUpdate, in thread: some ThreadReading) throws -> (set: VitalSignSet, score: NEWS2?) {
        let set = try VitalSignSet.read(update.twin, knownAt: update.recorded, windowMinutes: windowMinutes, in: thread)
        guard set.time != nil else { return (set, nil) }
        return (set, try NEWS2(partial: set.observation(useScale2: scale2Twins.contains(update.twin))))
    }

    public func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        let watcher = self
        return try await bank.run { bank in try watcher.evaluateOnStorageThread(update, in: bank) }
    }

    /// ``evaluate(_:in:)``'s body, which reads the thread (on the storage's threads): every read of the update in one
    /// read transaction under one decision of the gate (``TwinBank/Bank/reading(_:_:)``).
    func evaluateOnStorageThread(_ update: ThreadUpdate, in bank: Bank) throws -> [EventDraft] {
        try bank.reading(update.twin) { thread in try evaluateRule(update, in: thread) }
    }

    public func evaluate(_ update: ThreadUpdate, reading thread: ThreadReader) throws -> [EventDraft] {
        try evaluateRule(update, in: thread)
    }

    /// ``evaluate(_:in:)`` on the twin's thread as one reader sees it.
    func evaluateRule(_ update: ThreadUpdate, in thread: some ThreadReading) throws -> [EventDraft] {
        let (set, assessed) = try assess(update, in: thread)
        guard let score = assessed, let time = set.time, score.total >= threshold || score.hasRedScore else { return [] }
        let marker = update.marker(watcher: name)
        // quiet period: an earlier alert of this watcher near this time holds back all but an escalation
        let earlier = try quietPeriod.earlierAlerts(of: name, code: Self.alertCode.key, near: time, before: update, in: thread)
        let earlierRisks = earlier.compactMap { Self.risk(in: $0.provenance.notes) }
        if !earlier.isEmpty && !earlierRisks.allSatisfy({ score.risk > $0 }) { return [] }

        var hasher = EventHasher()
        var text = Self.text(score, set)
        if let last = earlier.last, let was = earlierRisks.max() {
            text += " Escalates the alert of \(last.effective.start.iso8601) within the \(quietPeriod) quiet period (was \(was.rawValue) risk)."
        }
        let severity = NEWS2Watcher.severity(score.risk)
        let notes = "NEWS2 score=\(score.total) risk=\(score.risk.rawValue) severity=\(severity.rawValue) threshold=\(threshold)"
            + " window=\(Value.format(windowMinutes))min quiet=\(Value.format(quietPeriod.minutes))min"
            + (score.isComplete ? "" : " partial") + " " + marker
        let alert = EventDraft(twin: update.twin, effective: EffectiveTime(time), category: .alert, code: Self.alertCode, value: .text(text),
                               source: Self.source,
                               provenance: Provenance(derivedFrom: set.events.map(\.id), model: "news2", modelVersion: "RCP 2017", notes: notes))
        let (code, advice) = Self.response(score, threshold: threshold)
        let recommendation = EventDraft(twin: update.twin, effective: EffectiveTime(time), category: .recommendation, code: code,
                                        value: .text(advice + " (" + text.prefix { $0 != ":" } + ")"), source: Self.source,
                                        provenance: Provenance(derivedFrom: [hasher.hash(alert)], model: "news2", modelVersion: "RCP 2017",
                                                               notes: "RCP NEWS2 clinical response (2017, table 2) " + marker))
        return [alert, recommendation]
    }

    /// "NEWS2 7 (high clinical risk): respiration rate 25 /min scores 3, …. Vital signs 10:00Z-10:20Z; not recorded …".
    static func text(_ score: NEWS2, _ set: VitalSignSet) -> String {
        let signByComponent: [String: VitalSign] = ["respiration rate": .respirationRate, "SpO2 scale 1": .oxygenSaturation, "SpO2 scale 2": .oxygenSaturation,
                                                    "air or oxygen": .supplementalOxygen, "systolic blood pressure": .systolicBloodPressure,
                                                    "pulse": .pulse, "consciousness": .consciousness, "temperature": .temperature]
        let parts = score.components.filter { $0.score > 0 }.map { c -> String in
            guard let sign = signByComponent[c.name], let r = set.readings[sign] else { return "\(c.name) scores \(c.score)" }
            switch sign {
            case .supplementalOxygen: return "supplemental oxygen (\(r.event.code.code) \(r.recorded)) scores \(c.score)"
            case .consciousness: return "consciousness \(r.consciousness?.rawValue ?? r.recorded) scores \(c.score)"
            default: return "\(c.name) \(r.recorded) scores \(c.score)"
            }
        }
        var risk = "\(score.risk.rawValue) clinical risk"
        if score.risk == .lowMedium { risk += ", a single red score" }
        var text = "NEWS2 \(score.isComplete ? "" : "at least ")\(score.total) (\(risk)): " + parts.joined(separator: ", ") + "."
        let times = set.events.map(\.effective.start)
        if let first = times.min(), let last = times.max() {
            text += first == last ? " Vital signs at \(last.iso8601)." : " Vital signs \(first.iso8601) to \(last.iso8601)."
        }
        if !set.missing.isEmpty {
            let staleNote = set.stale.isEmpty ? "" : " (older than \(Value.format(set.windowMinutes)) min: \(set.stale.map(\.rawValue).joined(separator: ", ")))"
            text += " Not recorded within \(Value.format(set.windowMinutes)) min: \(set.missing.map(\.rawValue).joined(separator: ", "))\(staleNote); the score counts them as 0."
        }
        return text
    }

    /// The RCP 2017 clinical response (table 2 of the report) for a score that triggered.
    static func response(_ score: NEWS2, threshold: Int) -> (Concept, String) {
        switch score.risk {
        case .high:
            return (emergencyResponse, "Emergency response: continuous monitoring of vital signs; the registered nurse immediately informs the medical team "
                    + "(at least specialist registrar level); emergency assessment by a team with critical-care competencies, including advanced airway "
                    + "management; consider transfer to a level 2 or 3 care facility (HDU or ICU).")
        case .medium:
            return (urgentResponse, "Urgent response (key threshold): observations at least hourly; the registered nurse immediately informs the medical team "
                    + "and asks for an urgent assessment by a clinician with competencies in the care of acutely ill patients; care in an environment with monitoring facilities.")
        case .lowMedium:
            return (urgentWardResponse, "Urgent ward-based response: observations at least hourly; the registered nurse informs the medical team, "
                    + "who review the patient and decide whether care needs escalating.")
        case .low:
            return (wardResponse, "Ward-based response: observations at least every 4-6 hours; the registered nurse assesses the patient and decides "
                    + "whether monitoring should be more frequent or care escalated (alert threshold lowered to \(threshold)).")
        }
    }

    /// The risk recorded in an alert's notes (`risk=medium`).
    static func risk(in notes: String?) -> NEWS2.Risk? {
        guard let notes, let r = notes.firstRange(of: "risk=") else { return nil }
        return NEWS2.Risk(rawValue: String(notes[r.upperBound...].prefix { $0 != " " && $0 != ";" }))
    }
}
