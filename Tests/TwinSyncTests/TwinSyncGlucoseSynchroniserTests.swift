import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation
import TwinTesting
@testable import TwinSync

/// A glucose twin's thread built from a per-minute trace (BG, CHO g/min, insulin U/min), as a device and a
/// pump would record it: CGM readings every 5 minutes with seeded noise, meals as carbohydrate interventions,
/// boluses as instantaneous insulin amounts and the basal as one amount spread over a period (the day and
/// two hours after).
struct GlucoseThreadFixture {
    static let day0 = Instant(microseconds: 1_704_067_200_000_000) // 2024-01-01T00:00:00Z
    let bank: Bank
    let clock: ManualClock
    let twin: TwinID = "pat-sync"
    let bg: [Double]

    init(bg: [Double], carbohydrate: [Double], insulin: [Double], noiseSD: Double = 8, seed: UInt64 = 1,
         withholdReadingAt withheld: Int? = nil) throws {
        clock = ManualClock(Self.day0.advanced(bySeconds: 3 * 86_400), stepMicroseconds: 1_000_000)
        bank = Bank(storage: MemoryStorage(), clock: clock)
        self.bg = bg
        _ = try bank.createTwin(Twin(id: twin, kind: .person, attributes: ["virtualPatient": .text("adult#001")]))
        let device = Source(.device, "cgm-1"), pump = Source(.device, "pump-1")
        var rng = Xoshiro256StarStar(seed: seed)
        var drafts: [EventDraft] = []
        for k in stride(from: 0, to: bg.count, by: 5) {
            let value = bg[k] + noiseSD * rng.normal()
            guard k != withheld else { continue }
            drafts.append(.observation(twin, at: Self.at(k), code: GlucoseSynchroniser.glucose, Quantity(value, "mg/dL"), source: device))
        }
        let basal = insulin.sorted()[insulin.count / 2]
        for k in 0..<min(bg.count, carbohydrate.count, insulin.count) {
            if carbohydrate[k] > 0 {
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(Self.at(k)), category: .intervention, code: GlucoseSynchroniser.carbohydrate,
                                         value: .quantity(Quantity(carbohydrate[k], "g")), source: pump))
            }
            if insulin[k] - basal > 1e-9 {
                drafts.append(EventDraft(twin: twin, effective: EffectiveTime(Self.at(k)), category: .intervention, code: GlucoseSynchroniser.insulin,
                                         value: .quantity(Quantity(insulin[k] - basal, "[IU]")), source: pump))
            }
        }
        drafts.append(EventDraft(twin: twin, effective: EffectiveTime(Self.at(0), end: Self.at(bg.count + 120)), category: .intervention,
                                 code: GlucoseSynchroniser.insulin, value: .quantity(Quantity(basal * Double(bg.count + 120), "[IU]")), source: pump))
        try bank.append(drafts)
    }

    static func at(_ minute: Int) -> Instant { day0.advanced(bySeconds: Double(minute) * 60) }

    /// The closed-loop experiment's set-up: the adult population prior without the twin's virtualPatient.
    func options(origin: Int, horizon: Int = 30) -> GlucoseSynchroniser.Options {
        var o = GlucoseSynchroniser.Options()
        o.prior = .population
        o.from = Self.at(0)
        o.to = Self.at(origin)
        o.horizon = horizon
        return o
    }
}

func simglucoseAdult001() throws -> GlucoseSyncExperiment.Trace {
    let url = sharedFolder().appendingPathComponent("data/simglucose/simglucose-adult001-24h.csv")
    return try GlucoseSyncExperiment.Trace(csv: String(contentsOf: url, encoding: .utf8), name: url.lastPathComponent)
}

@Suite struct TwinSyncGlucoseSynchroniserTests {
    /// Every 5 minutes after the first hour, the 30-minute forecast read from the thread is scored against
    /// the noise-free simglucose BG. The thread carries the same seeded CGM readings, meals and insulin as the
    /// closed-loop experiment feeds its filter directly, so the RMSE must also match the experiment's: this
    /// checks that nothing is lost or shifted between the thread and the filter.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func forecastsFromTheThreadStayWithinTenMilligramsOfTheTruth() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        var errors: [Double] = []
        for origin in stride(from: 60, to: trace.bg.count - 30, by: 5) {
            let r = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: f.options(origin: origin))
            #expect(r.points.count == 6)
            let last = try #require(r.points.last)
            #expect(last.time == GlucoseThreadFixture.at(origin + 30))
            #expect(last.lower < last.mean && last.mean < last.upper)
            errors.append(last.mean - trace.bg[origin + 30])
        }
        let rmse = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        #expect(rmse <= 10, "30-minute forecast RMSE \(rmse) mg/dL over \(errors.count) origins")
        // the same prior as the thread's twin, which plays adult#001: the adult mean without adult#001
        var o = GlucoseSyncExperiment.Options()
        o.population = try .group(without: "adult#001")
        o.blend = nil  // the model's own forecast, as the synchroniser writes it
        let experiment = try await GlucoseSyncExperiment.run(trace, options: o)
        #expect(errors.count == experiment.forecasts)
        #expect(abs(rmse - experiment.forecastRMSE) < 1e-6, "thread \(rmse) vs experiment \(experiment.forecastRMSE)")
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func writesPredictionsWithProvenanceInOneBatchReproducibly() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        var options = f.options(origin: 480)
        options.from = GlucoseThreadFixture.at(240)
        options.seed = 7
        let before = try f.bank.lastSequence()
        let r = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: options)
        let written = try #require(r.written)
        // 6 forecast points (mean and interval ends), the estimate of Vmx, kp3 and kabs, and the alert if any
        #expect(written.count == 18 + 3 + (r.alert == nil ? 0 : 1))
        #expect(written.firstSequence == before + 1)
        let predictions = try f.bank.events(ThreadQuery(twin: f.twin, category: .prediction)).filter { $0.code.system != EstimateEvents.system }
        #expect(predictions.count == 18)
        #expect(try EstimateEvents.latest(for: f.twin, binding: "glucose", parameters: ["Vmx", "kp3", "kabs"], in: f.bank)?.readings == r.observationsUsed)
        let means = predictions.filter { $0.code.key == GlucoseSynchroniser.glucose.key }
        #expect(means.count == 6)
        let p = try #require(means.first?.provenance)
        #expect(p.model == "uva-padova-t1d" && p.seed == 7)
        #expect(p.notes?.contains("filter=UKF") == true && p.notes?.contains("window=2024-01-01T04:00:00") == true)
        // derived from the 49 readings of 04:00-08:00, the 07:00 meal and bolus and the basal
        let readings = try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.glucose.key, category: .observation,
                                                     from: GlucoseThreadFixture.at(240), to: GlucoseThreadFixture.at(480)))
        #expect(readings.count == 49 && r.observationsUsed == 49)
        #expect(Set(readings.map(\.id)).isSubset(of: Set(p.derivedFrom)))
        #expect(p.derivedFrom.count == 49 + 3)
        // replay as known then: identical events, which a second sync does not write again (issue 22)
        options.knownAt = r.knownAt
        let again = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        #expect(again.drafts == r.drafts)
        let seq = try f.bank.lastSequence()
        let replayed = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: options)
        #expect(replayed.written == nil && replayed.alreadyHeld == r.drafts.count)
        #expect(try f.bank.lastSequence() == seq)
        // the same window and data read later (another knownAt): the same forecast, held by its inputs key
        options.knownAt = nil
        let later = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: options)
        #expect(later.knownAt > r.knownAt && later.drafts != r.drafts)
        #expect(later.written == nil && later.alreadyHeld == r.drafts.count)
        #expect(try f.bank.lastSequence() == seq)
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func aLateReadingChangesOnlyForecastsKnownAfterItArrives() async throws {
        let trace = try simglucoseAdult001()
        let late = 470
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin, withholdReadingAt: late)
        var options = f.options(origin: 480)
        options.from = GlucoseThreadFixture.at(240)
        let before = f.bank.clock.now()
        let arrival = try f.bank.append([.observation(f.twin, at: GlucoseThreadFixture.at(late), code: GlucoseSynchroniser.glucose,
                                                      Quantity(trace.bg[late] + 40, "mg/dL"), source: Source(.device, "cgm-1"))])
        options.knownAt = before
        let then = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        options.knownAt = arrival.recorded
        let now = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        #expect(now.observationsUsed == then.observationsUsed + 1)
        #expect(abs(now.glucoseNow - then.glucoseNow) > 1)
        #expect(now.drafts != then.drafts)
        options.knownAt = before
        let replay = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        #expect(replay.drafts == then.drafts)
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func readingsOfARetractedSourceAreNotUsedOnceRetracted() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        var options = f.options(origin: 480)
        options.from = GlucoseThreadFixture.at(240)
        options.knownAt = f.clock.now()
        let clean = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        let faulty = Source(.device, "cgm-faulty")
        try f.bank.append(stride(from: 402, to: 480, by: 5).map {
            .observation(f.twin, at: GlucoseThreadFixture.at($0), code: GlucoseSynchroniser.glucose, Quantity(trace.bg[$0] - 60, "mg/dL"), source: faulty)
        })
        options.knownAt = f.clock.now()
        let misled = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        #expect(misled.observationsUsed == clean.observationsUsed + 16)
        #expect(misled.glucoseNow < clean.glucoseNow - 10)
        try f.bank.retract(source: faulty, reason: "sensor fault")
        options.knownAt = f.clock.now()
        let corrected = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: options)
        #expect(corrected.observationsUsed == clean.observationsUsed)
        #expect(corrected.glucoseNow == clean.glucoseNow)
        #expect(corrected.points == clean.points)
    }

    @Test func alertsWhenAnInsulinOverdoseDrivesGlucoseLow() async throws {
        let patient = try VirtualPatient.named("adult#001")
        let scenario = GlucoseScenario(patient: patient, meals: try MealPlan([MealPlan.Meal(hours: 1, grams: 40)]), hours: 6,
                                       controller: BasalBolusController(bolusScale: 8), integration: .continuous)
        let truth = try GlucoseSimulator.run(scenario)
        let firstLow = try #require(truth.bg.firstIndex { $0 < 70 }, "the overdose should drive BG below 70")
        let f = try GlucoseThreadFixture(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin, noiseSD: 5)
        var firstAlert: Int?
        var alertText = ""
        for origin in stride(from: 90, through: firstLow, by: 10) {
            let r = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: f.options(origin: origin))
            if let a = r.alert, firstAlert == nil { firstAlert = origin; alertText = a }
        }
        let alerted = try #require(firstAlert, "no alert before BG fell below 70 at minute \(firstLow)")
        // early enough to act, but not a false alarm long before the fall
        #expect(alerted <= firstLow && alerted >= firstLow - 30)
        #expect(alertText.contains("Hypoglycaemia predicted") && alertText.contains("mg/dL"))
        let alerts = try f.bank.events(ThreadQuery(twin: f.twin, category: .alert))
        #expect(!alerts.isEmpty)
        let first = try #require(alerts.first)
        // why: the forecast's mean events and the readings
        let forecastIDs = Set(try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.glucose.key, category: .prediction)).map(\.id))
        #expect(first.provenance.derivedFrom.contains { forecastIDs.contains($0) })
        let readingIDs = Set(try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.glucose.key, category: .observation)).map(\.id))
        #expect(first.provenance.derivedFrom.contains { readingIDs.contains($0) })
        // the figures, for programs: the same as the text's
        let minutes = try #require(Alert.measure("minutesToLow", in: first.provenance.notes))
        let glucose = try #require(Alert.measure("predictedGlucose", in: first.provenance.notes))
        guard case .text(let text)? = first.value else { Issue.record("alert without text"); return }
        let worded = try #require(GlucoseForecastWatcher.prediction(in: text))
        #expect(worded.minutes == minutes && abs(worded.glucose - glucose) <= 0.51, "\(text) vs \(minutes) \(glucose)")
        #expect(glucose <= 70)
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func noAlertWhileGlucoseIsSteadyInRange() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        let r = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: f.options(origin: 360))
        #expect(r.alert == nil)
        #expect(!r.drafts.contains { $0.category == .alert })
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func badInputIsRejectedNamingTheValueAndNothingIsWritten() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: Array(trace.bg.prefix(240)), carbohydrate: Array(trace.carbohydrate.prefix(240)), insulin: Array(trace.insulin.prefix(240)))
        let seq = try f.bank.lastSequence()
        // window end in the future of the bank clock
        var o = f.options(origin: 200)
        o.to = f.clock.now().advanced(bySeconds: 3600)
        await #expect { try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: o) } throws: {
            ($0 as? SyncError)?.code == .invalidTime && ($0 as? SyncError)?.value == o.to?.iso8601
        }
        // no observations in the window
        o = f.options(origin: 200)
        o.from = GlucoseThreadFixture.at(-600)
        o.to = GlucoseThreadFixture.at(-300)
        await #expect { try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: o) } throws: {
            ($0 as? SyncError)?.code == .invalidArgument && ($0 as? SyncError)?.value == "pat-sync"
        }
        // a reading dated after the bank clock (the bank refuses such an observation beyond its skew, so it is
        // written through the same storage and clock with a skew of two days, as a bank configured for it could)
        let future = f.clock.now().advanced(bySeconds: 86_400)
        let lenient = Bank(storage: f.bank.storage, clock: f.clock, observationSkew: 2 * 86_400)
        try lenient.append([.observation(f.twin, at: future, code: GlucoseSynchroniser.glucose, Quantity(120, "mg/dL"), source: Source(.device, "cgm-1"))])
        let seq2 = try f.bank.lastSequence()
        await #expect { try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: f.options(origin: 200)) } throws: {
            ($0 as? SyncError)?.code == .invalidTime && ($0 as? SyncError)?.value == future.iso8601
        }
        #expect(try f.bank.lastSequence() == seq2)
        #expect(seq2 == seq + 1)
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func inputsThatDoNotConvertAreRejected() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: Array(trace.bg.prefix(240)), carbohydrate: Array(trace.carbohydrate.prefix(240)), insulin: Array(trace.insulin.prefix(240)))
        try f.bank.append([EventDraft(twin: f.twin, effective: EffectiveTime(GlucoseThreadFixture.at(100)), category: .intervention,
                                      code: GlucoseSynchroniser.carbohydrate, value: .quantity(Quantity(3, "mL")), source: Source(.device, "pump-2"))])
        let seq = try f.bank.lastSequence()
        await #expect { try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: f.options(origin: 200)) } throws: {
            ($0 as? SyncError)?.code == .invalidArgument && ($0 as? SyncError)?.value == "3 mL"
        }
        #expect(try f.bank.lastSequence() == seq)
    }

    @Test func readingsInMillimolesPerLitreAreConverted() throws {
        let e = Event(id: ContentHash(w0: 1, w1: 2, w2: 3, w3: 4), twin: "pat-x", effective: EffectiveTime(GlucoseThreadFixture.day0),
                      recorded: GlucoseThreadFixture.day0, sequence: 1, category: .observation, code: GlucoseSynchroniser.glucose,
                      value: .quantity(Quantity(5.5, "mmol/L")), source: Source(.device, "meter"), provenance: Provenance())
        // the glucose binding reads it through TwinCore's analyte-aware conversion (glucose 180.156 g/mol)
        #expect(abs(try ThreadBinding.convert(e, to: "mg/dL", what: "glucose") - 99.0858) < 1e-2)
    }

    /// With the twin's virtualPatient as prior (here the very patient of the truth), the forecasts are better
    /// than from the population mean; the prior is named in the provenance.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func theTwinsVirtualPatientIsThePrior() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        var own: [Double] = [], population: [Double] = []
        for origin in stride(from: 60, to: trace.bg.count - 30, by: 60) {
            var o = f.options(origin: origin)
            let p = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
            o.prior = .twin
            let t = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
            #expect(t.prior == "adult#001 (virtualPatient)" && p.prior == "adult population mean without adult#001")
            #expect(t.drafts.allSatisfy { $0.provenance.notes?.contains("prior=adult#001 (virtualPatient)") == true })
            own.append(try #require(t.points.last).mean - trace.bg[origin + 30])
            population.append(try #require(p.points.last).mean - trace.bg[origin + 30])
        }
        func rms(_ xs: [Double]) -> Double { (xs.reduce(0) { $0 + $1 * $1 } / Double(xs.count)).squareRoot() }
        #expect(rms(own) < rms(population), "own \(rms(own)) population \(rms(population))")
        #expect(rms(own) < 10)
        // a name that is not a simglucose patient is an error naming it
        _ = try f.bank.updateTwin(Twin(id: f.twin, kind: .person, attributes: ["virtualPatient": .text("adult#042")]))
        var o = f.options(origin: 300)
        o.prior = .twin
        await #expect { try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o) } throws: {
            ($0 as? SyncError)?.code == .invalidArgument && ($0 as? SyncError)?.value == "adult#042"
        }
    }

    /// The ensemble filter's draws come from the seed: the same seed reproduces the forecast exactly, another
    /// seed gives another (close) one; the seed and filter are in the provenance.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"), "skipped: data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)")) func theSeedFeedsTheEnsembleFilterAndIsRecorded() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: Array(trace.bg.prefix(300)), carbohydrate: Array(trace.carbohydrate.prefix(300)), insulin: Array(trace.insulin.prefix(300)))
        var o = f.options(origin: 240)
        o.filter = .ensemble(members: 40)
        o.seed = 7
        o.knownAt = f.clock.now()
        let a = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
        let b = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
        #expect(a.points == b.points)
        var hasher = EventHasher()
        #expect(a.drafts.map { hasher.hash($0) } == b.drafts.map { hasher.hash($0) })
        #expect(a.filter == "EnKF(40)" && a.seed == 7)
        #expect(a.drafts.allSatisfy { $0.provenance.seed == 7 && $0.provenance.notes?.contains("filter=EnKF(40) seed=7") == true })
        o.seed = 8
        let c = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
        #expect(c.points != a.points)
        let last = try #require(a.points.last), lastC = try #require(c.points.last)
        #expect(abs(last.mean - lastC.mean) < 15)
        #expect(abs(last.mean - trace.bg[270]) < 30)
        o.filter = .ensemble(members: 1)
        await #expect { try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o) } throws: { ($0 as? SyncError)?.value == "1" }
    }
}
