import Foundation
import Testing
import TwinModels
@testable import TwinSync

@Suite("Closed-loop glucose experiment")
struct GlucoseSyncExperimentTests {
    /// simglucose's adult#001 day (meals 45/70/80 g, basal-bolus therapy) plays the person; the twin starts
    /// from the adult population mean and must forecast 30 minutes ahead within 10 mg/dL RMSE (issue 5),
    /// beating both the raw CGM noise and the naive "last reading" forecast.
    @Test func thirtyMinuteForecastOnSharedTrace() async throws {
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

    /// Other patients (a child, an adolescent, an adult) and meal plans (three to four meals, snacks, a
    /// child's hypoglycaemia after dinner): the twin starts from its age group's population mean. The truth is
    /// TwinModels' simglucose model, which TwinModelsTests checks against simglucose itself
    /// (`simglucose_ref.py`) for these very patients and meal plans to 1e-4 mg/dL.
    ///
    /// Known gap (issue 5's target "at most 10 mg/dL on any patient and meal plan" is not met): on
    /// adolescent#003 with this plan the RMSE is 10.2 mg/dL, and over all 30 patients and three meal plans
    /// (`twinbank-bench sync --glucose-survey ...`) many children and adolescents are at 15-60 mg/dL. The
    /// known-issue block fails the test once the target is met there, so the gap cannot close silently.
    @Test("30-minute forecast on other patients and meal plans", arguments: [
        ("adolescent#003", "6:60,11.5:40,19:90", true),
        ("child#005", "8:30,13:50,17.25:20,20:15", false),
        ("adult#007", "8:60,13:90,19:70,22:20", false),
    ])
    func thirtyMinuteForecastOnOtherPatients(patient: String, meals: String, knownAboveTarget: Bool) async throws {
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: try VirtualPatient.named(patient), meals: try MealPlan(parsing: meals), hours: 24))
        let trace = GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
        var options = GlucoseSyncExperiment.Options()
        options.population = GlucoseSyncExperiment.Population(group: patient)
        let report = try await GlucoseSyncExperiment.run(trace, options: options)
        if knownAboveTarget {
            withKnownIssue("issue 5: 30-min RMSE above 10 mg/dL for \(patient)") {
                #expect(report.forecastRMSE <= 10, "\(patient) \(meals): 30-min forecast RMSE \(report.forecastRMSE)")
            }
            #expect(report.forecastRMSE <= 12)
        } else {
            #expect(report.forecastRMSE <= 10, "\(patient) \(meals): 30-min forecast RMSE \(report.forecastRMSE)")
        }
        // the age group's prior is better than the adult one
        var adult = options
        adult.population = .adult
        if !patient.hasPrefix("adult#") {
            #expect(report.forecastRMSE < (try await GlucoseSyncExperiment.run(trace, options: adult)).forecastRMSE)
        }
        #expect(report.filteredRMSE < report.cgmRMSE)
        #expect(report.resets == 0)
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
                                       estimated: ["BW"], noiseRate: [Double](repeating: 0, count: 15))
        }
    }
}
