import Foundation
import Testing
@testable import TwinSync

@Suite("Forecasts and watchers")
struct ForecastWatcherTests {
    /// A random walk x' = x + w (variance q per unit time): the forecast variance is P + q·Δt and the 95 %
    /// interval is mean ± 1.96 sd, exactly.
    @Test func gaussianForecastOfRandomWalkIsExact() async throws {
        let q = 0.5
        let process = LinearProcess(dimension: 1, stateNames: ["x"], transition: { _ in [1] }, noise: { dt in [q * dt] })
        let kf = try KalmanFilter(process: process, time: 10, mean: [3], covariance: [2])
        let f = try await kf.forecast(at: [10, 15, 40], provenance: .init(filter: "KF", model: "random walk"))
        #expect(kf.time == 10)   // unchanged
        for p in f.points {
            let v = 2 + q * (p.time - 10)
            #expect(abs(p.standardDeviation[0] - v.squareRoot()) < 1e-12)
            #expect(abs(p.upper[0] - (3 + 1.959963984540054 * v.squareRoot())) < 1e-9)
            #expect(p.mean[0] == 3)
        }
        await #expect(throws: SyncError.self) { _ = try await kf.forecast(at: [5], provenance: .init(filter: "KF", model: "rw")) }
    }

    @Test func ensembleForecastMatchesGaussianForLinearModel() async throws {
        let process = LinearProcess(dimension: 2, stateNames: ["level", "trend"], transition: { dt in [1, dt, 0, 1] }, noise: { dt in [0.1 * dt, 0, 0, 0.01 * dt] })
        let kf = try KalmanFilter(process: process, time: 0, mean: [5, 1], covariance: [1, 0, 0, 0.2])
        let enkf = try EnsembleKalmanFilter(process: process, time: 0, mean: [5, 1], covariance: [1, 0, 0, 0.2], count: 20_000, seed: 3)
        let exact = try await kf.forecast(at: [2, 4], provenance: .init(filter: "KF", model: "trend"))
        let sampled = try await enkf.ensembleForecast(at: [2, 4], provenance: .init(filter: "EnKF", model: "trend", seed: 3))
        for (e, s) in zip(exact.points, sampled.points) {
            #expect(abs(s.mean[0] - e.mean[0]) < 5 * e.standardDeviation[0] / (20_000.0).squareRoot())
            #expect(abs(s.standardDeviation[0] / e.standardDeviation[0] - 1) < 0.03)
            #expect(abs(s.lower[0] - e.lower[0]) < 0.05 * e.standardDeviation[0] * 4)
            #expect(abs(s.upper[0] - e.upper[0]) < 0.05 * e.standardDeviation[0] * 4)
        }
        #expect(sampled.provenance.seed == 3)
    }

    @Test func hypoglycaemiaPredictedWithinThirtyMinutes() async throws {
        // glucose falling 2 mg/dL/min from 110: crosses 70 at +20 min
        let process = LinearProcess(dimension: 2, stateNames: ["G", "dG"], transition: { dt in [1, dt, 0, 1] }, noise: { dt in [0.5 * dt, 0, 0, 0] })
        let falling = try KalmanFilter(process: process, time: 0, mean: [110, -2], covariance: [4, 0, 0, 0.01])
        let f = try await falling.forecast(at: stride(from: 5.0, through: 60, by: 5).map { $0 }, provenance: .init(filter: "KF", model: "trend", observationCount: 12))
        let alert = try #require(try HypoglycaemiaWatcher().evaluate(f))
        #expect(alert.kind == "hypoglycaemia-predicted")
        #expect(alert.message.contains("in 20 min"))
        #expect(alert.reasons.contains { $0.contains("+20 min") })
        #expect(alert.forecast?.observationCount == 12)
        // stable glucose: no alert; a name the forecast lacks: an error
        let stable = try KalmanFilter(process: process, time: 0, mean: [110, 0], covariance: [4, 0, 0, 0.01])
        let g = try await stable.forecast(at: [10, 20, 30], provenance: .init(filter: "KF", model: "trend"))
        #expect(try HypoglycaemiaWatcher().evaluate(g) == nil)
        #expect(throws: SyncError.self) { _ = try HypoglycaemiaWatcher(glucose: "BG").evaluate(g) }
        // falling, but the crossing is after the 30-minute horizon
        let slow = try KalmanFilter(process: process, time: 0, mean: [110, -0.5], covariance: [4, 0, 0, 0.0001])
        let h = try await slow.forecast(at: stride(from: 5.0, through: 120, by: 5).map { $0 }, provenance: .init(filter: "KF", model: "trend"))
        #expect(try HypoglycaemiaWatcher().evaluate(h) == nil)
    }

    /// Scores from the RCP NEWS2 chart.
    @Test func news2Chart() throws {
        let normal = NEWS2.Observation(respirationRate: 16, oxygenSaturation: 97, onSupplementalOxygen: false, systolicBloodPressure: 120,
                                       pulse: 70, consciousness: .alert, temperature: 37)
        #expect(try NEWS2(normal).total == 0)
        #expect(try NEWS2(normal).risk == .low)
        // RR 22 (2), SpO2 93 (2), oxygen (2), SBP 105 (1), pulse 115 (2), alert (0), 38.5 (1) = 10, high
        let sick = NEWS2.Observation(respirationRate: 22, oxygenSaturation: 93, onSupplementalOxygen: true, systolicBloodPressure: 105,
                                     pulse: 115, consciousness: .alert, temperature: 38.5)
        #expect(try NEWS2(sick).components.map(\.score) == [2, 2, 2, 1, 2, 0, 1])
        #expect(try NEWS2(sick).risk == .high)
        // a single red parameter: new confusion
        var confused = normal
        confused.consciousness = .confusion
        #expect(try NEWS2(confused).total == 3)
        #expect(try NEWS2(confused).risk == .lowMedium)
        // scale 2: 95 % on oxygen scores 2 (over-oxygenation), 90 % on oxygen scores 0
        var copd = normal
        copd.useScale2 = true; copd.onSupplementalOxygen = true; copd.oxygenSaturation = 95
        #expect(try NEWS2(copd).components[1].score == 2)
        copd.oxygenSaturation = 90
        #expect(try NEWS2(copd).components[1].score == 0)
        // band edges
        for (rr, s) in [(8.0, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)] {
            var o = normal; o.respirationRate = rr
            #expect(try NEWS2(o).components[0].score == s, "RR \(rr)")
        }
        for (t, s) in [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2)] {
            var o = normal; o.temperature = t
            #expect(try NEWS2(o).components[6].score == s, "T \(t)")
        }
        var bad = normal
        bad.pulse = -5
        let e = #expect(throws: SyncError.self) { _ = try NEWS2(bad) }
        #expect(e?.message.contains("pulse") == true)
        let alert = try #require(try NEWS2Watcher().evaluate(sick, at: 100))
        #expect(alert.severity == .high)
        #expect(alert.reasons.contains("respiration rate scores 2"))
        #expect(try NEWS2Watcher().evaluate(normal, at: 100) == nil)
    }
}
