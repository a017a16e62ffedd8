import Foundation
import Testing
@testable import TwinSync

@Suite("Linear Kalman filter")
struct KalmanFilterTests {
    /// Scalar random walk x' = x + w (var q), z = x + v (var r): the predicted variance converges to the
    /// positive root of the Riccati equation p² − q p − q r = 0.
    @Test(arguments: [(q: 1.0, r: 4.0), (q: 0.01, r: 1.0), (q: 10.0, r: 0.1)])
    func scalarRiccatiSteadyState(q: Double, r: Double) throws {
        let process = LinearProcess(dimension: 1, transition: { _ in [1] }, noise: { _ in [q] })
        let sensor = try LinearObservation.component(0, of: 1, standardDeviation: r.squareRoot())
        var kf = try KalmanFilter(process: process, time: 0, mean: [0], covariance: [100])
        var predicted = 0.0
        for k in 1...200 {
            try kf.predict(to: Double(k))
            predicted = kf.covariance[0]
            try kf.update(with: Observation(time: Double(k), values: [0.3 * Double(k % 7)]), model: sensor)
        }
        let exact = (q + (q * q + 4 * q * r).squareRoot()) / 2
        #expect(abs(predicted - exact) / exact < 1e-10)
        #expect(abs(kf.covariance[0] - exact * r / (exact + r)) / exact < 1e-10)
        #expect(abs(kf.lastGain[0] - exact / (exact + r)) < 1e-10)
    }

    /// Constant-velocity tracking with piecewise-constant white acceleration and position measurements:
    /// the steady-state gain is Kalata's alpha-beta filter, alpha and beta closed-form in the tracking index.
    @Test(arguments: [(sa: 0.5, sv: 2.0, dt: 1.0), (sa: 3.0, sv: 1.0, dt: 0.5), (sa: 0.05, sv: 5.0, dt: 2.0)])
    func constantVelocityMatchesKalataAlphaBeta(sa: Double, sv: Double, dt: Double) throws {
        let process = LinearProcess.constantVelocity(accelerationVariance: sa * sa)
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: sv)
        var kf = try KalmanFilter(process: process, time: 0, mean: [0, 0], covariance: [1e4, 0, 0, 1e4])
        for k in 1...2000 {
            try kf.predict(to: Double(k) * dt)
            try kf.update(with: Observation(time: Double(k) * dt, values: [sin(Double(k))]), model: sensor)
        }
        let lambda = sa * dt * dt / sv
        let root = (lambda * lambda + 8 * lambda).squareRoot()
        let alpha = -(lambda * lambda + 8 * lambda - (lambda + 4) * root) / 8
        let beta = (lambda * lambda + 4 * lambda - lambda * root) / 4
        #expect(abs(kf.lastGain[0] - alpha) < 1e-9)
        #expect(abs(kf.lastGain[1] - beta / dt) < 1e-9)
        // the covariance stays symmetric and positive definite
        let p = kf.covariance
        #expect(p[1] == p[2])
        #expect(p[0] > 0 && p[0] * p[3] - p[1] * p[2] > 0)
    }

    @Test func extendedFilterEqualsKalmanOnLinearModel() throws {
        let process = LinearProcess.constantVelocity(accelerationVariance: 0.3)
        let sensor = try LinearObservation.component(0, of: 2, standardDeviation: 1.5)
        // a nonlinear-interface sensor without analytic Jacobian: the EKF differences it
        let fd = try FunctionObservation(outputCount: 1, noise: [2.25]) { x, _, z in z[0] = x[0] }
        var kf = try KalmanFilter(process: process, time: 0, mean: [1, 0], covariance: [10, 0, 0, 10])
        var ekf = try ExtendedKalmanFilter(process: process, time: 0, mean: [1, 0], covariance: [10, 0, 0, 10])
        var t = 0.0
        for k in 0..<50 {
            t += [0.5, 1.0, 2.5][k % 3]   // irregular sampling
            try kf.predict(to: t); try ekf.predict(to: t)
            let z = Observation(time: t, values: [0.2 * t * t])
            try kf.update(with: z, model: sensor); try ekf.update(with: z, model: fd)
        }
        #expect(maxAbsDifference(kf.mean, ekf.mean) < 1e-6 * (1 + kf.mean.map(abs).max()!))
        #expect(maxAbsDifference(kf.covariance, ekf.covariance) < 1e-6)
    }

    @Test func kalmanFilterRejectsNonlinearModels() throws {
        let fd = try FunctionObservation(outputCount: 1, noise: [1]) { x, _, z in z[0] = x[0] * x[0] }
        var kf = try KalmanFilter(process: LinearProcess.constantVelocity(accelerationVariance: 1), time: 0, mean: [1, 0], covariance: [1, 0, 0, 1])
        #expect(throws: SyncError.self) { try kf.update(with: Observation(time: 0, values: [1]), model: fd) }
    }

    @Test func missingOutputsAreSkipped() throws {
        let process = LinearProcess(dimension: 2, transition: { _ in [1, 0, 0, 1] }, noise: { _ in [0.1, 0, 0, 0.1] })
        let sensor = try LinearObservation(matrix: [1, 0, 0, 1], outputCount: 2, noise: [1, 0, 0, 1])
        var both = try KalmanFilter(process: process, time: 0, mean: [0, 0], covariance: [4, 0, 0, 4])
        var onlyFirst = both
        try both.update(with: Observation(time: 0, values: [1, 2]), model: sensor)
        try onlyFirst.update(with: Observation(time: 0, values: [1, .nan], present: [true, false]), model: sensor)
        #expect(abs(onlyFirst.mean[0] - both.mean[0]) < 1e-12)
        #expect(onlyFirst.mean[1] == 0)
        #expect(onlyFirst.covariance[3] == 4)
        // a present value that is not finite is an error naming the output
        let error = #expect(throws: SyncError.self) {
            try both.update(with: Observation(time: 0, values: [1, .nan]), model: sensor)
        }
        #expect(error?.code == .nonFinite)
        #expect(error?.message.contains("z[1]") == true)
    }

    @Test func backwardsPredictionIsAnError() throws {
        var kf = try KalmanFilter(process: LinearProcess.constantVelocity(accelerationVariance: 1), time: 5, mean: [0, 0], covariance: [1, 0, 0, 1])
        let error = #expect(throws: SyncError.self) { try kf.predict(to: 4) }
        #expect(error?.code == .invalidTime)
    }
}
