import Foundation
import Testing
import TwinSimulation
@testable import TwinModels

@Suite struct EpidemicTests {
    /// Three age groups with an asymmetric (Mossong-like) contact matrix.
    static func threeGroups(schedule: ContactSchedule = .constant, beta: Double = 0.05) throws -> AgeStructuredSEIR {
        try AgeStructuredSEIR(groupNames: ["0-19", "20-64", "65+"], populations: [2.0e6, 5.5e6, 1.5e6],
                              contacts: [12, 5, 1,
                                         2, 9, 1.5,
                                         1, 5.5, 3],
                              transmissibility: beta, latentPeriod: 3, infectiousPeriod: 5, schedule: schedule)
    }

    @Test func populationIsConservedInEveryGroup() throws {
        let schedule = try ContactSchedule([.init(time: 30, multiplier: 0.4), .init(time: 90, multiplier: 0.8)])
        let model = try Self.threeGroups(schedule: schedule)
        let y0 = try model.initialState(exposed: [10, 20, 0], infectious: [5, 5, 1])
        let sol = try model.simulate(initialState: y0, days: 300)
        for k in 0..<sol.count {
            for g in 0..<3 {
                let total = (0..<4).map { sol.value($0 * 3 + g, at: k) }.reduce(0, +)
                #expect(abs(total - model.populations[g]) <= 1e-6 * model.populations[g])
            }
        }
    }

    @Test func singleGroupR0AndFinalSizeMatchKermackMcKendrick() throws {
        // R0 = beta * contacts / gamma = 0.1 * 10 * 2.5 = 2.5.
        let model = try AgeStructuredSEIR(groupNames: ["all"], populations: [1e6], contacts: [10], transmissibility: 0.1,
                                          latentPeriod: 2, infectiousPeriod: 2.5)
        #expect(abs(model.basicReproductionNumber() - 2.5) < 1e-10)
        // Analytic final size: z = 1 - exp(-R0 z), solved here independently by bisection.
        var lo = 0.5, hi = 1.0
        for _ in 0..<200 { let mid = (lo + hi) / 2; if mid - (1 - exp(-2.5 * mid)) < 0 { lo = mid } else { hi = mid } }
        let zExact = (lo + hi) / 2
        #expect(abs(zExact - 0.892_644_753_6) < 1e-9)   // 1 + W(-R0 e^-R0)/R0 for R0 = 2.5
        #expect(abs(model.finalSize()[0] - zExact) < 1e-9)
        let sol = try model.simulate(initialState: try model.initialState(exposed: [0], infectious: [1]), days: 400, step: 10)
        let attack = sol.value(3, at: sol.count - 1) / 1e6
        #expect(abs(attack - zExact) < 1e-4)
    }

    @Test func multigroupR0IsSpectralRadiusAndFinalSizeHolds() throws {
        let model = try Self.threeGroups()
        // Independent check of the spectral radius: characteristic polynomial root by bisection on det(K - r I).
        let k = model.nextGenerationMatrix()
        func det(_ r: Double) -> Double {
            let a = k[0] - r, b = k[1], c = k[2], d = k[3], e = k[4] - r, f = k[5], g = k[6], h = k[7], i = k[8] - r
            return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        }
        let rowSums = (0..<3).map { r in (0..<3).map { k[r * 3 + $0] }.reduce(0, +) }
        var lo = 0.0, hi = rowSums.max()! + 1
        // det(K - rI) has sign (-1)^3 for large r; the largest root is where it last changes sign.
        for _ in 0..<200 { let mid = (lo + hi) / 2; if det(mid) > 0 { lo = mid } else { hi = mid } }
        let r0 = model.basicReproductionNumber()
        #expect(abs(r0 - lo) < 1e-8 * r0)
        #expect(r0 > 1)
        // Simulated attack rates per group agree with the multigroup final-size relation.
        let y0 = try model.initialState(exposed: [0, 0, 0], infectious: [0, 1, 0])
        let sol = try model.simulate(initialState: y0, days: 1000, step: 50)
        let z = model.finalSize()
        for g in 0..<3 {
            let attack = sol.value(9 + g, at: sol.count - 1) / model.populations[g]
            #expect(abs(attack - z[g]) < 1e-4, "group \(g)")
        }
    }

    @Test func lockdownFlattensTheCurveAndBelowOneEndsGrowth() throws {
        let model = try Self.threeGroups()
        let lockdown = try Self.threeGroups(schedule: try ContactSchedule([.init(time: 40, multiplier: 0.25)]))
        let y0 = try model.initialState(exposed: [0, 10, 0], infectious: [0, 10, 0])
        let free = try model.simulate(initialState: y0, days: 365)
        let held = try lockdown.simulate(initialState: y0, days: 365)
        func peak(_ s: Solution) -> Double { (0..<s.count).map { k in (6..<9).map { s.value($0, at: k) }.reduce(0, +) }.max()! }
        #expect(peak(held) < 0.5 * peak(free))
        #expect(lockdown.basicReproductionNumber(contactMultiplier: 0.25) < 1)
        // Identical before the change.
        for k in 0...39 { #expect(abs(free.value(7, at: k) - held.value(7, at: k)) <= 1e-6 * max(1, free.value(7, at: k))) }
    }

    @Test func badInputsAreNamed() {
        #expect(throws: ModelError.self) { try ContactSchedule([.init(time: 10, multiplier: 1), .init(time: 5, multiplier: 1)]) }
        #expect(throws: ModelError.self) { try ContactSchedule([.init(time: 10, multiplier: -1)]) }
        do {
            _ = try AgeStructuredSEIR(groupNames: ["a", "b"], populations: [10, -5], contacts: [1, 1, 1, 1],
                                      transmissibility: 0.1, latentPeriod: 1, infectiousPeriod: 1)
            Issue.record("accepted negative population")
        } catch { #expect(error.message.contains("population of b")) }
        #expect(throws: ModelError.self) {
            try AgeStructuredSEIR(groupNames: ["a"], populations: [10], contacts: [1, 2], transmissibility: 0.1, latentPeriod: 1, infectiousPeriod: 1)
        }
    }
}
