import Foundation
import Testing
import TwinModels
@testable import TwinCalibration

@Suite("Bayesian PK calibration to drug levels")
struct PKCalibrationTests {
    let prior = try! PKModel.oneCompartment(clearance: 4, volume: 50)
    /// 1000 mg boluses every 12 h.
    let regimen = try! DosingRegimen.repeated(amount: 1000, every: 12, count: 4, route: .intravenousBolus)

    /// The person's true model (CL 6 L/h, V 40 L) in closed form, not through our simulator: superposed boluses.
    func truth(_ t: Double) -> Double {
        regimen.doses.filter { $0.time <= t }.reduce(0) { $0 + $1.amount / 40 * exp(-6.0 / 40 * (t - $1.time)) }
    }

    @Test func recoversThePersonFromPeaksAndTroughs() throws {
        var fitter = PKCalibration()
        fitter.additiveError = 0.05
        fitter.proportionalError = 0.01
        let levels = [1.0, 6, 11.9, 13, 23.9, 25, 35.9].map { (time: $0, value: truth($0)) }
        let p = try fitter.fit(prior, regimen: regimen, levels: levels)
        // precise levels outweigh the 30 % prior: within 1 %
        #expect(abs(p.model.clearance / 6 - 1) < 0.01, "CL \(p.model.clearance)")
        #expect(abs(p.model.centralVolume / 40 - 1) < 0.01, "V \(p.model.centralVolume)")
        #expect(p.objective < p.priorObjective)
        #expect(p.levels == 7)
        // the posterior is much narrower than the prior
        #expect(p.standardDeviations.allSatisfy { $0 < 0.05 })
    }

    /// One noisy trough: the posterior moves towards the level but keeps part of the prior (shrinkage), and its
    /// predicted trough lies between the prior's and the measured one.
    @Test func oneLevelShrinksTowardsThePrior() throws {
        let trough = (time: 11.9, value: truth(11.9))
        let p = try PKCalibration().fit(prior, regimen: regimen, levels: [trough])
        let before = try PKSimulator.concentrations(prior, regimen: regimen, at: [trough.time])[0]
        let after = try PKSimulator.concentrations(p.model, regimen: regimen, at: [trough.time])[0]
        #expect(abs(after - trough.value) < abs(before - trough.value))
        #expect(abs(after - trough.value) > 0.01)
        #expect(p.standardDeviations[0] < 0.3)
    }

    @Test func noLevelsIsThePrior() throws {
        let p = try PKCalibration().fit(prior, regimen: regimen, levels: [])
        #expect(p.model == prior)
        #expect(p.standardDeviations == [0.3, 0.3])
    }

    @Test(arguments: [(-1.0, 10.0), (2, -3), (2, .nan), (.infinity, 1)])
    func badLevelsAreNamed(time: Double, value: Double) {
        #expect(throws: CalibrationError.self) { try PKCalibration().fit(prior, regimen: regimen, levels: [(time, value)]) }
    }

    @Test func badErrorModelIsNamed() {
        var fitter = PKCalibration()
        fitter.additiveError = 0
        do {
            _ = try fitter.fit(prior, regimen: regimen, levels: [(1, 10)])
            Issue.record("accepted a zero additive error")
        } catch {
            #expect("\(error)".contains("additiveError"))
        }
    }
}
