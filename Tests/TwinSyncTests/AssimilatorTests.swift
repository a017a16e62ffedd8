import TwinSimulation
import Foundation
import Testing
@testable import TwinSync

@Suite("Assimilator: irregular, multi-sensor and late observations")
struct AssimilatorTests {
    static let process = LinearProcess.constantVelocity(accelerationVariance: 0.5)

    func sensors() throws -> [any ObservationModel] {
        [try LinearObservation.component(0, of: 2, standardDeviation: 1), try LinearObservation.component(1, of: 2, standardDeviation: 0.3)]
    }

    func stream() -> [Observation] {
        var rng = Xoshiro256StarStar(seed: 5)
        var t = 0.0
        var out: [Observation] = []
        for k in 0..<30 {
            t += 0.2 + 2 * rng.uniform()
            out.append(Observation(time: t, values: [t * 1.5 + rng.normal()], sensor: 0))
            if k % 3 == 0 { out.append(Observation(time: t + 0.1, values: [1.5 + 0.3 * rng.normal()], sensor: 1)) }
        }
        return out
    }

    @Test func lateArrivalsGiveTheInOrderResult() async throws {
        let ordered = stream()
        var inOrder = try Assimilator(filter: try UnscentedKalmanFilter(process: Self.process, time: 0, mean: [0, 0], covariance: [10, 0, 0, 10]),
                                      sensors: try sensors())
        for o in ordered { try await inOrder.assimilate(o) }
        // arrival order: every 4th observation is delayed by three places
        var arrival = ordered
        var i = 0
        while i + 3 < arrival.count { let late = arrival.remove(at: i); arrival.insert(late, at: i + 3); i += 4 }
        var shuffled = try Assimilator(filter: try UnscentedKalmanFilter(process: Self.process, time: 0, mean: [0, 0], covariance: [10, 0, 0, 10]),
                                       sensors: try sensors())
        var lateCount = 0
        for o in arrival {
            if case .late = try await shuffled.assimilate(o) { lateCount += 1 }
        }
        #expect(lateCount > 5)
        #expect(maxAbsDifference(inOrder.filter.mean, shuffled.filter.mean) < 1e-9)
        #expect(maxAbsDifference(inOrder.filter.covariance, shuffled.filter.covariance) < 1e-9)
        #expect(inOrder.filter.time == shuffled.filter.time)
    }

    @Test func tooLateFutureAndUnknownSensorAreErrors() async throws {
        var a = try Assimilator(filter: try KalmanFilter(process: Self.process, time: 0, mean: [0, 0], covariance: [1, 0, 0, 1]),
                                sensors: try sensors(), historyLength: 2)
        for t in [1.0, 2.0, 3.0, 4.0] { try await a.assimilate(Observation(time: t, values: [t])) }
        let before = a.filter.mean
        let tooLate = await #expect(throws: SyncError.self) { try await a.assimilate(Observation(time: 1.5, values: [0])) }
        #expect(tooLate?.code == .invalidTime)
        let future = await #expect(throws: SyncError.self) { try await a.assimilate(Observation(time: 10, values: [0]), now: 5) }
        #expect(future?.code == .invalidTime)
        await #expect(throws: SyncError.self) { try await a.assimilate(Observation(time: 5, values: [0], sensor: 7)) }
        await #expect(throws: SyncError.self) { try await a.assimilate(Observation(time: 5, values: [0, 1])) }
        #expect(a.filter.mean == before)   // a rejected observation changes nothing
        // within the window a late observation is accepted
        let outcome = try await a.assimilate(Observation(time: 3.5, values: [3.4]))
        #expect(outcome == .late(reassimilated: 1))
    }
}
