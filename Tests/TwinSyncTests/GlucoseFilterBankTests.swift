import Foundation
import Testing
import TwinBank
import TwinModels
import TwinTesting
@testable import TwinSync

@Suite struct GlucoseFilterBankTests {
    /// The synchroniser's `cohort` prior reads the thread and runs the same bank of priors as the closed-loop
    /// experiment: its forecasts must equal the experiment's at every origin (nothing lost or shifted between
    /// the thread and the bank), the twin's own virtualPatient must not be among the candidates, and the
    /// provenance must name the bank.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func cohortPriorThroughTheThreadMatchesTheExperiment() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: trace.bg, carbohydrate: trace.carbohydrate, insulin: trace.insulin)
        for interval in [nil, 120] as [Int?] {
            var e = GlucoseSyncExperiment.Options()
            e.candidates = GlucoseSyncExperiment.Population.cohort(around: "adult#001")
            e.recalibrationInterval = interval
            e.blend = nil  // the model's own forecast, as the synchroniser writes it
            let experiment = try await GlucoseSyncExperiment.run(trace, options: e)
            for origin in stride(from: 240, to: trace.bg.count - 30, by: 360) {
                var o = f.options(origin: origin)
                o.prior = .cohort
                o.recalibrationInterval = interval
                let r = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o)
                #expect(r.prior.hasPrefix("cohort of 9 (") && !r.prior.contains("adult#001"), "\(r.prior)")
                // with re-calibration every 2 h, each refit joins the bank as a new candidate
                let size = Int(r.filter.split(separator: " ").last ?? "") ?? 0
                if interval == nil { #expect(r.filter == "UKF bank of 9") } else { #expect(size > 9 && size <= 9 + origin / 120, "\(r.filter)") }
                #expect(r.drafts.allSatisfy { $0.provenance.notes?.contains("prior=cohort of 9") == true })
                if let interval { #expect(r.drafts.allSatisfy { $0.provenance.notes?.contains("recalibration=every \(interval)min") == true }) }
                let error = try #require(r.points.last).mean - trace.bg[origin + 30]
                let expected = try #require(experiment.forecastErrors.first { $0.minute == origin }).error
                #expect(abs(error - expected) < 1e-4, "origin \(origin) recalibration \(interval.map(String.init) ?? "none"): thread \(error) vs experiment \(expected)")
            }
        }
    }

    /// The single-filter synchroniser never writes an impossible forecast: readings of 1,600 mg/dL (beyond any
    /// physiology, e.g. a unit mix-up) are stored flagged implausible at the bank's door (issue 22, defect 6) and
    /// are not model inputs, so the synchroniser never reads them: an error, and nothing is written.
    @Test func anImplausibleGlucoseIsAnErrorAndNothingIsWritten() async throws {
        let f = try GlucoseThreadFixture(bg: [Double](repeating: 1600, count: 240), carbohydrate: [Double](repeating: 0, count: 240),
                                         insulin: [Double](repeating: 0.015, count: 240))
        let before = try f.bank.events(ThreadQuery(twin: f.twin)).count
        #expect(try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.glucose.key, category: .observation)).isEmpty)
        #expect(try f.bank.events(ThreadQuery(twin: f.twin, code: GlucoseSynchroniser.glucose.key)).allSatisfy { $0.isFlaggedImplausible })
        let error = await #expect(throws: SyncError.self) { _ = try await GlucoseSynchroniser.synchronise(f.twin, in: f.bank, options: f.options(origin: 200)) }
        // the error says why: the window's readings are all flagged implausible, how many, and the first's value
        #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        #expect(error?.message.contains("all 41 of its glucose readings in the window are flagged implausible") == true, "\(error?.message ?? "none")")
        #expect(error?.value?.hasSuffix("mg/dL") == true && error.map { $0.message.contains($0.value ?? "?") } == true, "\(String(describing: error))")
        #expect(try f.bank.events(ThreadQuery(twin: f.twin)).count == before)
    }

    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func aBankOfPriorsNeedsTheUnscentedFilter() async throws {
        let trace = try simglucoseAdult001()
        let f = try GlucoseThreadFixture(bg: Array(trace.bg.prefix(300)), carbohydrate: Array(trace.carbohydrate.prefix(300)), insulin: Array(trace.insulin.prefix(300)))
        var o = f.options(origin: 200)
        o.prior = .cohort
        o.filter = .ensemble(members: 20)
        let error = await #expect(throws: SyncError.self) { _ = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o) }
        #expect(error?.code == .unsupported && error?.value == "EnKF(20)")
        o.filter = .unscented
        o.prior = .twin
        o.recalibrationInterval = 0
        let interval = await #expect(throws: SyncError.self) { _ = try await GlucoseSynchroniser.compute(f.twin, in: f.bank, options: o) }
        #expect(interval?.code == .invalidArgument && interval?.value == "0")
    }

    /// A candidate whose model diverges (here: a prior with a non-finite glucose utilisation parameter) leaves the bank with
    /// its reason recorded and the others go on; when the last candidate fails, the error is thrown, never a
    /// silently wrong state.
    @Test func aDivergingCandidateIsRetiredWithItsReason() throws {
        let good = try VirtualPatient.named("adult#002"), other = try VirtualPatient.named("adult#003")
        var broken = other.parameters
        broken.Vmx = .nan
        let priors = [GlucoseSyncExperiment.Population(members: [good], name: good.name),
                      GlucoseSyncExperiment.Population(parameters: broken, initialState: other.initialState, name: "broken")]
        let minutes = 120
        let cho = [Double](repeating: 0, count: minutes + 31), insulin = [Double](repeating: good.parameters.basalInsulinRate, count: minutes + 31)
        var bank = try GlucoseFilterBank(priors: priors, carbohydrate: cho, insulin: insulin, minute: 0, firstReading: 140)
        for k in stride(from: 0, through: minutes, by: 5) { try bank.assimilate(minute: k, reading: 140) }
        #expect(bank.retirements.count == 1)
        #expect(bank.retirements.first?.candidate == "broken")
        #expect(bank.retirements.first?.reason.contains("non-finite") == true, "\(bank.retirements)")
        #expect(bank.weights[0] == 1 && bank.weights[1] == 0)
        let points = try bank.forecast(at: [125, 150])
        #expect(points.count == 2 && points.allSatisfy { $0.mean[12].isFinite })
        #expect(abs(bank.glucose.mean - 140) < 15)

        // alone, the broken candidate is restarted from its prior (recorded) three times, then the error is thrown
        var alone = try GlucoseFilterBank(priors: [priors[1]], carbohydrate: cho, insulin: insulin, minute: 0, firstReading: 140)
        #expect(throws: SyncError.self) {
            for k in stride(from: 0, through: minutes, by: 5) { try alone.assimilate(minute: k, reading: 140) }
        }
        #expect(alone.restarts == 3)
        #expect(alone.retirements.count == 3 && alone.retirements.allSatisfy { $0.restarted && $0.candidate == "broken" })
        // a forecast that leaves the plausible range in every candidate is an error naming it
        var settings = GlucoseFilterBank.Settings()
        settings.plausibleGlucose = 5...150
        var meal = cho
        for m in 60..<65 { meal[m] = 15 }
        var narrow = try GlucoseFilterBank(priors: [priors[0]], carbohydrate: meal, insulin: insulin, minute: 0, firstReading: 140, settings: settings)
        for k in stride(from: 0, through: 60, by: 5) { try narrow.assimilate(minute: k, reading: 140) }
        let diverged = #expect(throws: SyncError.self) { _ = try narrow.forecast(at: Array(stride(from: 65, through: 180, by: 5))) }
        #expect(diverged?.code == .diverged)
        #expect(narrow.restarts == 3 && narrow.retirements.allSatisfy(\.restarted))
        #expect(throws: SyncError.self) { try narrow.assimilate(minute: 50, reading: 140) }
    }
}
