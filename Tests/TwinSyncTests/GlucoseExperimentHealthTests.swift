import Foundation
import Testing
import TwinTesting
import TwinModels
@testable import TwinSync

/// Issue 26 item 2: the experiment says when the model explains the readings poorly (``ModelHealth`` at every
/// forecast origin) and a forecast made then raises no hypoglycaemia alert.
@Suite("Glucose experiment: model health")
struct GlucoseExperimentHealthTests {
    static func day(_ patient: String = "adult#004", meals: String = "7:45,12:70,18:80") throws -> GlucoseSyncExperiment.Trace {
        let truth = try GlucoseSimulator.run(GlucoseScenario(patient: try VirtualPatient.named(patient), meals: try MealPlan(parsing: meals), hours: 16))
        return GlucoseSyncExperiment.Trace(bg: truth.bg, carbohydrate: truth.carbohydrate, insulin: truth.insulin)
    }

    @Test func theModelExplainsAPersonWhoFollowsIt() async throws {
        let trace = try Self.day()
        let report = try await GlucoseSyncExperiment.run(trace)
        #expect(report.health.origins == report.forecastErrors.count)
        #expect(report.health.unreliableFraction < 0.1, "\(report.health)")
        #expect(report.json().contains("\"modelHealth\""))
    }

    /// The sensor reads 90 mg/dL low for two hours (a compression low or a failing sensor): no model of the
    /// person explains it; the experiment says so from the first readings of the fault and withholds the alerts of
    /// forecasts built on it.
    @Test func aSensorFaultIsFoundAndItsAlertsWithheld() async throws {
        let day = try Self.day()
        var readings = day.bg
        for m in 480..<600 { readings[m] -= 90 }
        let trace = GlucoseSyncExperiment.Trace(bg: day.bg, carbohydrate: day.carbohydrate, insulin: day.insulin, readings: ["CGM": readings.map { max($0, 20) }])
        var options = GlucoseSyncExperiment.Options()
        options.readings = "CGM"
        let report = try await GlucoseSyncExperiment.run(trace, options: options)
        let first = try #require(report.health.firstUnreliableMinute, "\(report.health)")
        #expect((480...520).contains(first), "first unreliable origin \(first)")
        #expect(report.health.unreliable >= 3)
        #expect(!report.health.findings.isEmpty && report.health.withheldAlerts > 0)
        print("sensor fault: \(report.health), alerts \(report.hypoglycaemiaAlerts)")
    }
}
