import Foundation
import Testing
import TwinTesting
import TwinModels
@testable import TwinSync

@Suite("Closed-loop glucose experiment")
struct GlucoseSyncExperimentTests {
    /// simglucose's adult#001 day (meals 45/70/80 g, basal-bolus therapy) plays the person; the twin starts
    /// from the adult population mean and must forecast 30 minutes ahead within 10 mg/dL RMSE (issue 5),
    /// beating both the raw CGM noise and the naive "last reading" forecast.
    @Test(.enabled(if: SharedFolder.has("data/simglucose/simglucose-adult001-24h.csv"),
                   "skipped: the simglucose trace data/simglucose/simglucose-adult001-24h.csv is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func thirtyMinuteForecastOnSharedTrace() async throws {
        let url = sharedFolder().appendingPathComponent("data/simglucose/simglucose-adult001-24h.csv")
        let trace = try GlucoseSyncExperiment.Trace(csv: try String(contentsOf: url, encoding: .utf8))
        #expect(trace.bg.count == 1441)
        let report = try await GlucoseSyncExperiment.run(trace)
        #expect(report.forecastRMSE <= 10, "30-min forecast RMSE \(report.forecastRMSE)")
        #expect(report.forecastRMSE < report.persistenceRMSE)
        #expect(report.filteredRMSE < report.cgmRMSE)
        #expect(report.forecasts > 250)
        #expect(report.parameters.map(\.name) == ["Vmx", "kp3", "kabs"])
        // no hypoglycaemia in this trace (BG 96-195): no false alarms either
        #expect(report.hypoglycaemiaAlerts == 0 && report.hypoglycaemiaEpisodesMissed == 0)
    }

    /// Other patients (children, an adolescent, an adult) and meal plans (three to four meals, snacks, a
    /// child's hypoglycaemia after dinner). The twin knows the person's age group, not who they are: it starts
    /// from a bank of priors, one per *other* patient of the group (leave-one-out), mixed by how well each
    /// predicts the readings. The truth is TwinModels' simglucose model, which TwinModelsTests checks against
    /// simglucose itself (`simglucose_ref.py`) to 1e-4 mg/dL (for the first three cases, these very patients and
    /// meal plans).
    ///
    /// Known gap: issue 5's target "at most 10 mg/dL on any patient and meal plan" is not met everywhere. Since
    /// the twin eats announced meals as simglucose's patient does (``TwinModels/Eating``), the best estimator,
    /// the SMC parameter posterior (`twinbank-bench sync --glucose-survey ... --cohort --particles 512 --moves 10
    /// --pooled-covariance`), meets it on children 20/30 and adolescents 25/30 of the three survey plans; the
    /// first meal of the day, before the twin has seen any meal response, carries most of the error. child#010 on
    /// the shared trace's meals (45/70/80 g) is at 26.6 mg/dL with the bank (26.2 from the group's mean prior:
    /// the bank does not beat the mean prior everywhere, adolescent#003 here 8.08 against 7.95).
    /// The known-issue block fails the test once the target is met there, so the gap cannot close silently.
    @Test("30-minute forecast on other patients and meal plans", arguments: [
        ("adolescent#003", "6:60,11.5:40,19:90", false),
        ("child#005", "8:30,13:50,17.25:20,20:15", false),
        ("adult#007", "8:60,13:90,19:70,22:20", false),
        ("child#010", "7:45,12:70,18:80", true),
    ])
    func thirtyMinuteForecastOnOtherPatients(patient: String, meals: String, knownAboveTarget: Bool) async throws {
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: try VirtualPatient.named(patient), meals: try MealPlan(parsing: meals), hours: 24))
        let trace = GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
        var options = GlucoseSyncExperiment.Options()
        options.candidates = GlucoseSyncExperiment.Population.cohort(around: patient)
        #expect(options.candidates?.count == 9 && options.candidates?.contains { $0.name == patient } == false)
        let report = try await GlucoseSyncExperiment.run(trace, options: options)
        print("\(patient) \(meals): 30-min RMSE \(report.forecastRMSE) (cohort bank), persistence \(report.persistenceRMSE)")
        if knownAboveTarget {
            withKnownIssue("issue 5: 30-min RMSE above 10 mg/dL for \(patient)") {
                #expect(report.forecastRMSE <= 10, "\(patient) \(meals): 30-min forecast RMSE \(report.forecastRMSE)")
            }
            #expect(report.forecastRMSE <= 30)
        } else {
            #expect(report.forecastRMSE <= 10, "\(patient) \(meals): 30-min forecast RMSE \(report.forecastRMSE)")
        }
        // the forecast beats the last reading held for 30 minutes
        #expect(report.forecastRMSE < report.persistenceRMSE)
        #expect(report.filteredRMSE < report.cgmRMSE)
        #expect(report.resets == 0)
    }

    /// Periodic re-calibration from the thread window (every 2 h, a prior-penalised Levenberg–Marquardt fit of
    /// fourteen parameters to the last 8 h of readings; the refit replaces the filter or joins the bank)
    /// on a child whose cohort bank alone stays far above target (simglucose child#001, shared trace's meals):
    /// it must lower the 30-minute forecast error clearly, keep the filters healthy, and still track better than
    /// the raw CGM. Known gap: the child stays above 10 mg/dL.
    @Test func recalibrationFromThreadWindow() async throws {
        let patient = "child#001"
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: try VirtualPatient.named(patient), meals: try MealPlan(parsing: "7:45,12:70,18:80"), hours: 24))
        let trace = GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
        var options = GlucoseSyncExperiment.Options()
        options.candidates = GlucoseSyncExperiment.Population.cohort(around: patient)
        options.filterBank.gutNoise = 0  // re-calibration against the bare bank (gut noise alone already gains part of it)
        options.blend = nil
        let bank = try await GlucoseSyncExperiment.run(trace, options: options)
        options.recalibrationInterval = 120
        for addsCandidate in [false, true] {
            options.filterBank.recalibrationAddsCandidate = addsCandidate
            let recalibrated = try await GlucoseSyncExperiment.run(trace, options: options)
            print("\(patient): 30-min RMSE \(recalibrated.forecastRMSE) re-calibrated every 2 h (refit \(addsCandidate ? "joins" : "replaces")), \(bank.forecastRMSE) cohort bank alone")
            // one refit of the most probable filter every 2 h (at most 12 in the day) when refits join the bank; at
            // least that many when each filter of weight ≥ 1 % is refit in place
            #expect(recalibrated.recalibrations >= 11)
            if addsCandidate { #expect(recalibrated.recalibrations <= 12) }
            #expect(recalibrated.forecastRMSE < 0.8 * bank.forecastRMSE)
            #expect(recalibrated.filteredRMSE < recalibrated.cgmRMSE)
            #expect(recalibrated.forecastRMSE < recalibrated.persistenceRMSE)
            #expect(recalibrated.resets == 0)
        }
        #expect(bank.recalibrations == 0)
    }

    @Test func recalibrationIntervalMustFitTheSampling() async throws {
        let trace = GlucoseSyncExperiment.Trace(bg: [Double](repeating: 120, count: 120), carbohydrate: [Double](repeating: 0, count: 120),
                                                insulin: [Double](repeating: 0.01, count: 120))
        var options = GlucoseSyncExperiment.Options()
        options.recalibrationInterval = 7
        let error = await #expect(throws: SyncError.self) { _ = try await GlucoseSyncExperiment.run(trace, options: options) }
        #expect(error?.message.contains("multiple of the sampling period") == true)
        #expect(error?.value == "7")
    }

    @Test func badTracesAreClearErrors() throws {
        let missing = #expect(throws: SyncError.self) { _ = try GlucoseSyncExperiment.Trace(csv: "Time,CGM\n1,2\n") }
        #expect(missing?.message.contains("'BG'") == true)
        var text = "Time,BG,CHO,insulin\n"
        for k in 0..<70 { text += "\(k),\(k == 10 ? "-5" : "120"),0,0.01\n" }
        let negative = #expect(throws: SyncError.self) { _ = try GlucoseSyncExperiment.Trace(csv: text) }
        #expect(negative?.message.contains("row 12") == true)
        let short = #expect(throws: SyncError.self) { _ = try GlucoseSyncExperiment.Trace(csv: "Time,BG,CHO,insulin\n0,120,0,0\n") }
        #expect(short?.code == .invalidArgument)
        #expect(throws: SyncError.self) {
            _ = try GlucoseTwinProcess(population: GlucoseSyncExperiment.adultPopulation().parameters, carbohydrate: [0], insulin: [0],
                                       estimated: ["Gb"], noiseRate: [Double](repeating: 0, count: 15))
        }
    }
}
