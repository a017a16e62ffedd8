import Foundation
import Testing
@testable import TwinSync

/// The sampling filters converge to the exact (Kalman) posterior of a linear-Gaussian model.
@Suite("Ensemble and particle filters")
struct EnsembleFilterTests {
    static let process = LinearProcess(dimension: 2, stateNames: ["level", "trend"],
                                       transition: { dt in [1, dt, 0, 1] }, noise: { dt in [0.2 * dt, 0, 0, 0.01 * dt] })
    static let observations: [Observation] = [(1.0, 1.3), (2.0, 2.1), (3.5, 3.9), (4.0, 4.2), (6.0, 6.5)].map { Observation(time: $0.0, values: [$0.1]) }

    func kalmanPosterior() throws -> KalmanFilter<LinearProcess> {
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 0.5)
        var kf = try KalmanFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1, 0, 0, 0.25])
        for o in Self.observations { try kf.predict(to: o.time); try kf.update(with: o, model: sensor) }
        return kf
    }

    @Test func ensembleKalmanFilterConvergesToKalman() async throws {
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 0.5)
        let kf = try kalmanPosterior()
        let n = 20_000
        var enkf = try EnsembleKalmanFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1, 0, 0, 0.25], count: n, seed: 42, concurrency: 2)
        for o in Self.observations { try await enkf.predict(to: o.time); try enkf.update(with: o, model: sensor) }
        let m = enkf.mean, p = enkf.covariance
        for i in 0..<2 {
            let se = (kf.covariance[i * 2 + i] / Double(n)).squareRoot()
            #expect(abs(m[i] - kf.mean[i]) < 5 * se, "mean[\(i)] \(m[i]) vs \(kf.mean[i])")
            #expect(abs(p[i * 2 + i] / kf.covariance[i * 2 + i] - 1) < 0.05)
        }
    }

    @Test func particleFilterConvergesToKalman() throws {
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 0.5)
        let kf = try kalmanPosterior()
        let n = 50_000
        var pf = try ParticleFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1, 0, 0, 0.25], count: n, seed: 3)
        for o in Self.observations { try pf.predict(to: o.time); try pf.update(with: o, model: sensor) }
        let m = pf.mean, p = pf.covariance
        for i in 0..<2 {
            // weighted particles: allow for the efficiency loss (ESS >= N/2 after resampling policy)
            let se = (kf.covariance[i * 2 + i] / (Double(n) / 4)).squareRoot()
            #expect(abs(m[i] - kf.mean[i]) < 5 * se, "mean[\(i)] \(m[i]) vs \(kf.mean[i])")
            #expect(abs(p[i * 2 + i] / kf.covariance[i * 2 + i] - 1) < 0.08)
        }
        #expect(pf.resampleCount > 0)
        let w = pf.weights.reduce(0, +)
        #expect(abs(w - 1) < 1e-12)
    }

    @Test func sameSeedSameResult() async throws {
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 0.5)
        func run() async throws -> ([Double], [Double]) {
            var enkf = try EnsembleKalmanFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1, 0, 0, 0.25], count: 64, seed: 9, concurrency: 3)
            var pf = try ParticleFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1, 0, 0, 0.25], count: 64, seed: 9)
            for o in Self.observations {
                try await enkf.predict(to: o.time); try enkf.update(with: o, model: sensor)
                try pf.predict(to: o.time); try pf.update(with: o, model: sensor)
            }
            return (enkf.mean, pf.mean)
        }
        let a = try await run(), b = try await run()
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
    }

    @Test func collapsedParticleFilterIsAnError() throws {
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 1e-6)
        var pf = try ParticleFilter(process: Self.process, time: 0, mean: [0, 1], covariance: [1e-6, 0, 0, 1e-6], count: 10, seed: 1)
        let error = #expect(throws: SyncError.self) { try pf.update(with: Observation(time: 0, values: [1e6]), model: sensor) }
        #expect(error?.code == .diverged)
    }
}
