import TwinSimulation
import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import TwinBank
import TwinCore
import TwinModels
@testable import TwinSync

/// A glucose twin whose meals and insulin are in the thread and whose CGM readings arrive in steps, as a
/// device uploading every few minutes would write them (appended directly to the bank, as another process would).
struct WatchedGlucoseTwin {
    let truth: GlucoseTrace
    let bank: Bank
    let twin: TwinID = "pat-watch"
    let readings: [EventDraft]

    /// The insulin overdose of the synchroniser test: a 40 g meal at 1 h with 8 times the bolus drives BG below 70.
    init() throws {
        let patient = try VirtualPatient.named("adult#001")
        let scenario = GlucoseScenario(patient: patient, meals: try MealPlan([MealPlan.Meal(hours: 1, grams: 40)]), hours: 6,
                                       controller: BasalBolusController(bolusScale: 8), integration: .continuous)
        truth = try GlucoseSimulator.run(scenario)
        bank = Bank(storage: MemoryStorage(), clock: ManualClock(GlucoseThreadFixture.day0.advanced(bySeconds: 3 * 86_400), stepMicroseconds: 1_000_000))
        _ = try bank.createTwin(Twin(id: twin, kind: .person, attributes: ["virtualPatient": .text("adult#001")]))
        let pump = Source(.device, "pump-1"), cgm = Source(.device, "cgm-1")
        let basal = truth.insulin.sorted()[truth.insulin.count / 2]
        var inputs: [EventDraft] = []
        for k in 0..<min(truth.bg.count, truth.carbohydrate.count, truth.insulin.count) {
            if truth.carbohydrate[k] > 0 {
                inputs.append(EventDraft(twin: twin, effective: EffectiveTime(GlucoseThreadFixture.at(k)), category: .intervention,
                                         code: GlucoseSynchroniser.carbohydrate, value: .quantity(Quantity(truth.carbohydrate[k], "g")), source: pump))
            }
            if truth.insulin[k] - basal > 1e-9 {
                inputs.append(EventDraft(twin: twin, effective: EffectiveTime(GlucoseThreadFixture.at(k)), category: .intervention,
                                         code: GlucoseSynchroniser.insulin, value: .quantity(Quantity(truth.insulin[k] - basal, "[IU]")), source: pump))
            }
        }
        inputs.append(EventDraft(twin: twin, effective: EffectiveTime(GlucoseThreadFixture.at(0), end: GlucoseThreadFixture.at(truth.bg.count + 120)),
                                 category: .intervention, code: GlucoseSynchroniser.insulin,
                                 value: .quantity(Quantity(basal * Double(truth.bg.count + 120), "[IU]")), source: pump))
        try bank.append(inputs)
        var rng = Xoshiro256StarStar(seed: 7)
        let id = twin, bg = truth.bg
        readings = stride(from: 0, to: bg.count, by: 5).map {
            .observation(id, at: GlucoseThreadFixture.at($0), code: GlucoseSynchroniser.glucose, Quantity(bg[$0] + 5 * rng.normal(), "mg/dL"), source: cgm)
        }
    }

    var firstLow: Int? { truth.bg.firstIndex { $0 < 70 } }
}

/// A watcher that fails on every update (to check the service reports and carries on).
struct FailingWatcher: ThreadWatcher {
    var name: String { "failing" }
    func isTrigger(_ event: Event) -> Bool { event.category == .observation }
    func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        throw SyncError(.invalidArgument, "this watcher always fails (update \(update.sequence)).", value: String(update.sequence))
    }
}

@Suite struct WatchServiceTests {
    /// Readings arrive in 15-minute steps while the service polls; each alert reaches both subscribers and
    /// the thread exactly once, explains itself, and a restarted watch adds nothing.
    @Test func alertsReachTheChannelAndTheThreadOnceAndARestartAddsNothing() async throws {
        let w = try WatchedGlucoseTwin()
        let firstLow = try #require(w.firstLow, "the overdose should drive BG below 70")
        let channel = LiveChannel<WatchNotice>()
        let a = channel.subscribe(), b = channel.subscribe()
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()], channel: channel, interval: .milliseconds(2))
        let running = Task { try await service.run() }
        var lastUpdate: Int64 = 0
        for step in stride(from: 0, to: w.readings.count, by: 3) {
            try w.bank.append(Array(w.readings[step..<min(step + 3, w.readings.count)]))
            let update = try w.bank.lastSequence()
            lastUpdate = update
            // every reading update leaves a forecast: wait until the service has written this one's
            var waited = 0
            while try service.resumePoint(w.twin) < update {
                try await Task.sleep(for: .milliseconds(5))
                waited += 1
                try #require(waited < 4000, "the service did not process update \(update)")
            }
        }
        running.cancel()
        try await running.value
        #expect(channel.finished)
        var fromA: [WatchNotice] = [], fromB: [WatchNotice] = []
        for await n in a { fromA.append(n) }
        for await n in b { fromB.append(n) }
        #expect(fromA == fromB)
        #expect(fromA.allSatisfy { $0.error == nil })

        let alerts = try w.bank.events(ThreadQuery(twin: w.twin, category: .alert))
        let recommendations = try w.bank.events(ThreadQuery(twin: w.twin, category: .recommendation))
        #expect(!alerts.isEmpty)
        #expect(recommendations.count == alerts.count)
        // once: each written alert and recommendation was published once, and nothing else was
        let published = fromA.compactMap(\.event)
        #expect(published.map(\.id).sorted() == (alerts + recommendations).map(\.id).sorted())
        #expect(Set(published.map(\.id)).count == published.count)
        #expect(published.map(\.sequence) == published.map(\.sequence).sorted())
        for n in fromA { #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: n.event!.category)).contains(n.event!)) }
        // the first predicted alert comes before BG falls below 70, not long before
        let predicted = alerts.filter { $0.code.key == GlucoseSynchroniser.hypoglycaemiaAlert.key }
        let firstAlertMinute = Int((try #require(predicted.first).effective.start.microseconds - GlucoseThreadFixture.day0.microseconds) / 60_000_000)
        #expect(firstAlertMinute <= firstLow && firstAlertMinute >= firstLow - 45)
        // why: each alert names its forecast's mean events and the readings; the recommendation names the alert
        let forecastIDs = Set(try w.bank.events(ThreadQuery(twin: w.twin, code: GlucoseSynchroniser.glucose.key, category: .prediction)).map(\.id))
        let readingIDs = Set(try w.bank.events(ThreadQuery(twin: w.twin, code: GlucoseSynchroniser.glucose.key, category: .observation)).map(\.id))
        for alert in alerts {
            // a predicted alert names its forecast; an alert on a low reading names the reading (issue 22)
            #expect(alert.code.key == LowGlucoseReading.alertCode.key || alert.provenance.derivedFrom.contains { forecastIDs.contains($0) })
            #expect(alert.provenance.derivedFrom.contains { readingIDs.contains($0) })
            #expect(alert.provenance.notes?.contains("watch=glucose-forecast watch-update=") == true)
        }
        let alertIDs = Set(alerts.map(\.id))
        #expect(recommendations.allSatisfy { $0.provenance.derivedFrom.count == 1 && alertIDs.contains($0.provenance.derivedFrom[0]) })

        // restart: resumes after the last update, nothing new; even reprocessing everything writes nothing
        let before = try w.bank.lastSequence()
        let restarted = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()], interval: .milliseconds(2))
        #expect(try restarted.resumePoint(w.twin) == lastUpdate)
        #expect(try await restarted.runOnce().isEmpty)
        let again = try await restarted.catchUp(w.twin, after: 0, through: before)
        #expect(again.notices.isEmpty)
        #expect(try w.bank.lastSequence() == before)
    }

    /// A twin whose readings came in one upload: `runOnce` processes it as one update, forecasts from the
    /// latest reading, and a second `runOnce` (a restart) does nothing.
    @Test func runOnceProcessesWhatIsThereAndIsIdempotent() async throws {
        let w = try WatchedGlucoseTwin()
        try w.bank.append(Array(w.readings.prefix(40)))
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        let uploaded = try w.bank.lastSequence()
        _ = try await service.runOnce()
        let forecasts = try w.bank.events(ThreadQuery(twin: w.twin, code: GlucoseSynchroniser.glucose.key, category: .prediction))
        #expect(forecasts.count == 6)
        #expect(forecasts.first?.effective.start == GlucoseThreadFixture.at(39 * 5 + 5))
        let last = try w.bank.lastSequence()
        #expect(try service.resumePoint(w.twin) == uploaded)
        #expect(try await service.runOnce().isEmpty)
        #expect(try w.bank.lastSequence() == last)
    }

    /// Two watch processes on the same bank write each forecast once between them, and neither fails.
    @Test func twoWatchesOnOneBankWriteOnce() async throws {
        let w = try WatchedGlucoseTwin()
        try w.bank.append(Array(w.readings.prefix(30)))
        let one = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        let two = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()])
        async let a = one.runOnce()
        async let b = two.runOnce()
        _ = try await (a, b)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system != EstimateEvents.system }.count == 18)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system == EstimateEvents.system }.count == 3)
    }

    /// A watcher that throws is reported on the channel with its error; the others still write.
    @Test func aFailingWatcherIsReportedAndTheOthersCarryOn() async throws {
        let w = try WatchedGlucoseTwin()
        try w.bank.append(Array(w.readings.prefix(20)))
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [FailingWatcher(), GlucoseForecastWatcher()])
        let notices = try await service.runOnce()
        let failures = notices.filter { $0.error != nil }
        #expect(failures.count == 1)
        #expect(failures.first?.watcher == "failing" && failures.first?.error?.contains("always fails") == true)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system != EstimateEvents.system }.count == 18)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system == EstimateEvents.system }.count == 3)
    }

    /// Under a service group, graceful shutdown ends the service's run and finishes its channel.
    @Test func gracefulShutdownStopsTheWatchAndFinishesTheChannel() async throws {
        let w = try WatchedGlucoseTwin()
        let channel = LiveChannel<WatchNotice>()
        let service = try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()], channel: channel, interval: .milliseconds(2))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try w.bank.append(Array(w.readings.prefix(12)))
                let update = try w.bank.lastSequence()
                var waited = 0
                while try service.resumePoint(w.twin) < update && waited < 4000 { try await Task.sleep(for: .milliseconds(5)); waited += 1 }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(channel.finished)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system != EstimateEvents.system }.count == 18)
        #expect(try w.bank.events(ThreadQuery(twin: w.twin, category: .prediction)).filter { $0.code.system == EstimateEvents.system }.count == 3)
    }

    @Test func badSetUpIsRejectedNamingTheValue() throws {
        let w = try WatchedGlucoseTwin()
        #expect(throws: SyncError.self) { try WatchService(bank: w.bank, twins: [], watchers: [GlucoseForecastWatcher()]) }
        #expect(throws: SyncError.self) { try WatchService(bank: w.bank, twins: [w.twin], watchers: []) }
        #expect(throws: SyncError.self) { try WatchService(bank: w.bank, twins: [w.twin], watchers: [GlucoseForecastWatcher()], interval: .zero) }
        #expect(throws: BankError.self) { try WatchService(bank: w.bank, twins: ["nobody"], watchers: [GlucoseForecastWatcher()]) }
    }
}
