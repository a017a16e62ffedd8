import Foundation
import Testing
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
