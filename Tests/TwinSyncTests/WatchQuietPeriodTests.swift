import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinSync

/// A glucose twin whose CGM stays low: one reading per upload every 5 minutes from 06:00, so hypoglycaemia stays
/// predicted on every update.
struct LowGlucoseTwin {
    static let t0 = Instant(microseconds: 1_704_088_800_000_000) // 2024-01-01T06:00:00Z
    let bank: Bank
    let twin: TwinID = "pat-low"
    let cgm = Source(.device, "cgm-1")

    init() throws {
        bank = Bank(storage: MemoryStorage(), clock: ManualClock(Self.t0.advanced(bySeconds: 86_400), stepMicroseconds: 1_000_000))
        _ = try bank.createTwin(Twin(id: twin, kind: .person, attributes: ["virtualPatient": .text("adult#001")]))
    }

    static func at(_ minutes: Int) -> Instant { t0.advanced(bySeconds: Double(minutes) * 60) }

    /// Appends one reading per upload, `values[k]` at minute `5 k + start`.
    func upload(_ values: [Double], from start: Int = 0) throws {
        for (k, v) in values.enumerated() {
            try bank.append([.observation(twin, at: Self.at(start + 5 * k), code: GlucoseSynchroniser.glucose, Quantity(v, "mg/dL"), source: cgm)])
        }
    }

    /// The predicted-hypoglycaemia alerts.
    func alerts() throws -> [Event] { try bank.events(ThreadQuery(twin: twin, code: GlucoseSynchroniser.hypoglycaemiaAlert.key, category: .alert)) }
    /// The alerts on low readings themselves (issue 22).
    func readingAlerts() throws -> [Event] { try bank.events(ThreadQuery(twin: twin, code: LowGlucoseReading.alertCode.key, category: .alert)) }
    func minutes(_ e: Event) -> Int { Int((e.effective.start.microseconds - Self.t0.microseconds) / 60_000_000) }
}

@Suite struct WatchQuietPeriodTests {
    /// Issue 22, defect 5 follow-up: `sync` alerts every low reading of its window that no alert covers yet, but
    /// not one the watch alerted already: a dip to 62 mg/dL at 06:25, alerted live by the watch, recovered since,
    /// is not alerted again by a sync an hour later (which computes the alert and finds it held).
    @Test func aSyncDoesNotRepeatALowTheWatchAlerted() async throws {
        let w = try LowGlucoseTwin()
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        for (k, v) in [120.0, 120, 110, 95, 80, 62, 80, 95, 110, 120].enumerated() {
            try w.upload([v], from: 5 * k)
            _ = try await service.runOnce()
        }
        #expect(try w.readingAlerts().map(w.minutes) == [25])
        try w.upload(Array(repeating: 120, count: 11), from: 50)   // 06:50 to 07:40
        var options = GlucoseSynchroniser.Options()
        options.to = LowGlucoseTwin.at(100)
        let r = try await GlucoseSynchroniser.synchronise(w.twin, in: w.bank, options: options)
        #expect(r.drafts.filter { $0.code.key == LowGlucoseReading.alertCode.key }.map(\.effective.start) == [LowGlucoseTwin.at(25)])
        #expect(r.lowReadingAlerts.isEmpty && r.lowReadingAlert == nil)
        #expect(try w.readingAlerts().map(w.minutes) == [25])
    }

    static let steady = Array(repeating: 62.0, count: 10) // 06:00 to 06:45: hypoglycaemia predicted on every update
    static let falling = [30.0, 30.0]                       // 06:50, 06:55: the forecast falls to 59, then 52 mg/dL

    /// Live: each reading is its own upload and the watch runs after each. The alert is written at 06:00 and again
    /// at 06:30, when the quiet period has passed, not on the updates between, while the forecast is written on every
    /// update; at 06:55 the predicted glucose is 15 mg/dL below the 06:30 alert's, an escalation within the quiet
    /// period (06:50, 7 mg/dL lower, is not). A restart writes nothing twice.
    @Test func oneAlertPerQuietPeriodWhileHypoglycaemiaStaysPredicted() async throws {
        let w = try LowGlucoseTwin()
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        var published: [WatchNotice] = []
        for (k, v) in (Self.steady + Self.falling).enumerated() {
            try w.upload([v], from: 5 * k)
            published += try await service.runOnce()
        }
        let alerts = try w.alerts()
        #expect(alerts.map(w.minutes) == [0, 30, 55])
        #expect(published.filter { $0.event?.code.key == GlucoseSynchroniser.hypoglycaemiaAlert.key }.map(\.event!.id) == alerts.map(\.id))
        #expect(published.allSatisfy { $0.error == nil })
        // the readings of 62 mg/dL alert themselves at 06:00 and, after the quiet period, 06:30; 30 mg/dL at 06:50 is
        // level 2, an escalation; the second 30 at 06:55 is not
        let readingAlerts = try w.readingAlerts()
        #expect(readingAlerts.map(w.minutes) == [0, 30, 50])
        #expect(readingAlerts.last.map { if case .text(let t)? = $0.value { t.contains("level 2") && t.contains("escalates") } else { false } } == true)
        let recommendations = try w.bank.events(ThreadQuery(twin: w.twin, category: .recommendation))
        #expect(Set(recommendations.map { $0.provenance.derivedFrom }) == Set((alerts + readingAlerts).map { [$0.id] }))
        #expect(recommendations.count == alerts.count + readingAlerts.count)
        // the forecast is still written on every update
        let predictions = try w.bank.events(ThreadQuery(twin: w.twin, code: GlucoseSynchroniser.glucose.key, category: .prediction))
        let updates = Set(predictions.compactMap { QuietPeriod.update(in: $0.provenance.notes, watcher: "glucose-forecast") })
        #expect(updates.count == 12)
        // why the third alert came within the quiet period
        guard case .text(let text)? = alerts.last?.value else { Issue.record("no escalation alert"); return }
        #expect(text.contains("escalates the alert of \(LowGlucoseTwin.at(30).iso8601) within the 30 min quiet period: predicted glucose 51 mg/dL (was 66.2)"), "\(text)")
        #expect(recommendations.last.map { if case .text(let r)? = $0.value { !r.contains("escalates") } else { false } } == true)

        // restart, and a second process going over everything again: nothing new
        let before = try w.bank.lastSequence()
        let restarted = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        #expect(try await restarted.runOnce().isEmpty)
        #expect(try await restarted.catchUp(w.twin, after: 0, through: before).notices.isEmpty)
        #expect(try w.bank.lastSequence() == before)
    }

    /// The same thread processed as a backlog (all readings uploaded, then one run, as after an outage) gives the same
    /// alerts: the rule reads the watcher's own earlier alerts by update, not what was recorded before each reading.
    @Test func aBacklogGivesTheSameAlerts() async throws {
        let w = try LowGlucoseTwin()
        try w.upload(Self.steady + Self.falling)
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        let notices = try await service.runOnce()
        #expect(try w.alerts().map(w.minutes) == [0, 30, 55])
        #expect(try w.readingAlerts().map(w.minutes) == [0, 30, 50])
        #expect(notices.count == 12)
        #expect(try await service.catchUp(w.twin, after: 0, through: w.bank.lastSequence()).notices.isEmpty)
    }

    /// Two watch processes over the same backlog at the same time still write each alert once, and the same ones.
    @Test func twoWatchesAtOnceWriteTheSameAlertsOnce() async throws {
        let w = try LowGlucoseTwin()
        try w.upload(Self.steady + Self.falling)
        let one = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        let two = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        async let a = one.runOnce()
        async let b = two.runOnce()
        let published = try await a + b
        let alerts = try w.alerts()
        #expect(alerts.map(w.minutes) == [0, 30, 55])
        #expect(try w.readingAlerts().map(w.minutes) == [0, 30, 50])
        #expect(published.filter { $0.event?.category == .alert }.count == 6)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .recommendation)).count == 6)
    }

    /// Quiet period 0: an alert on every update, as before the quiet period existed; 60 minutes: one, plus the escalation.
    @Test(arguments: [(0.0, [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]), (60.0, [0, 55])])
    func theQuietPeriodIsConfigurable(_ minutes: Double, _ expected: [Int]) async throws {
        let w = try LowGlucoseTwin()
        try w.upload(Self.steady + Self.falling)
        let watcher = GlucoseForecastWatcher(quietPeriod: try QuietPeriod(minutes: minutes))
        _ = try await WatchService(bank: w.bank, twins: [w.twin], watchers: [watcher]).runOnce()
        #expect(try w.alerts().map(w.minutes) == expected)
    }

    /// The escalation rule on its own: severity, predicted glucose, predicted time of the low.
    @Test func escalationRule() throws {
        let w = try LowGlucoseTwin()
        let watcher = GlucoseForecastWatcher()
        func alert(_ minute: Int, _ text: String, severity: String) -> Event {
            EventDraft(twin: w.twin, effective: EffectiveTime(LowGlucoseTwin.at(minute)), category: .alert, code: GlucoseSynchroniser.hypoglycaemiaAlert,
                       value: .text(text), source: w.cgm, provenance: Provenance(notes: "severity=\(severity); watch=glucose-forecast watch-update=1")).asEvent
        }
        let earlier = [alert(0, "Hypoglycaemia predicted in 30 min: glucose 66 mg/dL (60% chance below 70).", severity: "medium")]
        func check(_ text: String, severity: String, at minute: Int) -> String? {
            watcher.escalation(text: text, notes: "severity=\(severity)", at: LowGlucoseTwin.at(minute), over: earlier)
        }
        // the same prediction 10 minutes later: the low is expected at 06:40, later than 06:30: no escalation
        #expect(check("Hypoglycaemia predicted in 30 min: glucose 66 mg/dL", severity: "medium", at: 10) == nil)
        // 5 mg/dL lower, low 5 minutes earlier: not clearly worse
        #expect(check("Hypoglycaemia predicted in 20 min: glucose 61 mg/dL", severity: "medium", at: 5) == nil)
        // low expected at 06:15 instead of 06:30: 15 minutes earlier
        #expect(check("Hypoglycaemia predicted in 10 min: glucose 64 mg/dL", severity: "medium", at: 5)?.contains("low predicted at \(LowGlucoseTwin.at(15).iso8601)") == true)
        // 10 mg/dL lower
        #expect(check("Hypoglycaemia predicted in 30 min: glucose 56 mg/dL", severity: "medium", at: 10)?.contains("predicted glucose 56 mg/dL (was 66)") == true)
        // medium -> high
        #expect(check("Hypoglycaemia predicted in 30 min: glucose 66 mg/dL", severity: "high", at: 10)?.contains("severity high (was medium)") == true)
        #expect(GlucoseForecastWatcher.prediction(in: "no numbers here") == nil)
    }

    /// The synchroniser records the alert's figures as words in its notes; escalation reads them there first
    /// (the text is a fallback for older alerts), so rewording the message cannot silence an escalation.
    @Test func alertFiguresAreReadFromTheNotes() throws {
        let alert = Alert(kind: "hypoglycaemia-predicted", severity: .medium, time: 0, message: "m", reasons: [], forecast: nil,
                          measures: ["minutesToLow": 25, "predictedGlucose": 63.4, "probabilityBelow": 0.81])
        #expect(alert.measureWords == "minutesToLow=25 predictedGlucose=63.4 probabilityBelow=0.81")
        let notes = "watcher=hypoglycaemia severity=medium \(alert.measureWords); filter=UKF"
        #expect(Alert.measure("predictedGlucose", in: notes) == 63.4)
        #expect(Alert.measure("probabilityBelow", in: notes) == 0.81)
        #expect(Alert.measure("missing", in: notes) == nil)
        let p = try #require(GlucoseForecastWatcher.prediction(notes: notes, text: "Hypoglycaemia predicted in 30 min: glucose 66 mg/dL"))
        #expect(p.minutes == 25 && p.glucose == 63.4)
        let fallback = try #require(GlucoseForecastWatcher.prediction(notes: "severity=medium", text: "Hypoglycaemia predicted in 30 min: glucose 66 mg/dL"))
        #expect(fallback.minutes == 30 && fallback.glucose == 66)
    }
}
