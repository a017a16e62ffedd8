import Foundation
import Testing
import TwinSimulation
@testable import TwinModels

@Suite struct PKPDTests {
    let times = stride(from: 0.0, through: 48.0, by: 0.25).map { $0 }

    static func close(_ a: [Double], _ b: [Double], rel: Double, file: String = #function) -> Double {
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) / scale }.max() ?? 0
    }

    @Test func oneCompartmentIVBolusIsMonoexponential() throws {
        let m = try PKModel.oneCompartment(clearance: 5, volume: 50)
        let c = try PKSimulator.concentrations(m, regimen: try DosingRegimen([.init(time: 0, amount: 500, route: .intravenousBolus)]), at: times)
        let exact = times.map { 500.0 / 50 * exp(-0.1 * $0) }
        #expect(Self.close(c, exact, rel: 0) < 1e-7)
    }

    @Test func oneCompartmentOralBatemanFunction() throws {
        let (cl, v, ka, f, d) = (4.0, 40.0, 1.2, 0.8, 300.0)
        let m = try PKModel.oneCompartment(clearance: cl, volume: v, absorptionRate: ka, bioavailability: f)
        let c = try PKSimulator.concentrations(m, regimen: try DosingRegimen([.init(time: 0, amount: d, route: .oral)]), at: times)
        let k = cl / v
        let exact = times.map { f * d * ka / (v * (ka - k)) * (exp(-k * $0) - exp(-ka * $0)) }
        #expect(Self.close(c, exact, rel: 0) < 1e-7)
        // tmax = ln(ka/k)/(ka-k) (Rowland & Tozer): the sampled maximum is within one sampling interval of it.
        let tmax = log(ka / k) / (ka - k)
        let sampledMax = times[c.indices.max { c[$0] < c[$1] }!]
        #expect(abs(sampledMax - tmax) <= 0.25)
    }

    @Test func zeroOrderInfusionRisesAndDecays() throws {
        let m = try PKModel.oneCompartment(clearance: 6, volume: 30)
        let rate = 100.0, duration = 8.0
        let c = try PKSimulator.concentrations(m, regimen: try DosingRegimen([.init(time: 0, amount: rate * duration, route: .infusion(hours: duration))]), at: times)
        let k = 6.0 / 30
        let exact = times.map { t -> Double in
            t <= duration ? rate / 6 * (1 - exp(-k * t)) : rate / 6 * (1 - exp(-k * duration)) * exp(-k * (t - duration))
        }
        #expect(Self.close(c, exact, rel: 0) < 1e-7)
    }

    @Test func multipleOralDosesFollowSuperpositionAndAccumulation() throws {
        let (cl, v, ka, d, tau) = (3.0, 60.0, 0.9, 250.0, 12.0)
        let m = try PKModel.oneCompartment(clearance: cl, volume: v, absorptionRate: ka)
        let regimen = try DosingRegimen.repeated(amount: d, every: tau, count: 10, route: .oral)
        let t = stride(from: 0.0, through: 120.0, by: 0.5).map { $0 }
        let c = try PKSimulator.concentrations(m, regimen: regimen, at: t)
        let k = cl / v
        func single(_ s: Double) -> Double { s < 0 ? 0 : d * ka / (v * (ka - k)) * (exp(-k * s) - exp(-ka * s)) }
        let exact = t.map { time in (0..<10).map { single(time - Double($0) * tau) }.reduce(0, +) }
        #expect(Self.close(c, exact, rel: 0) < 1e-7)
        // Textbook steady state (Rowland & Tozer ch. 11): average concentration over a dosing interval at steady
        // state is F·Dose/(CL·tau); after 9 intervals (9·12 h = 3.1 half-lives of 13.9 h ... ) we are close to it.
        let lastInterval = c.indices.filter { t[$0] >= 108 && t[$0] <= 120 }
        var auc = 0.0
        for i in lastInterval.dropLast() { auc += (c[i] + c[i + 1]) / 2 * 0.5 }
        let average = auc / tau
        let cssAverage = d / (cl * tau)
        let approach = 1 - exp(-k * 108) // fraction of steady state reached by superposition
        #expect(abs(average - cssAverage * approach) / cssAverage < 0.02)
    }

    @Test func twoCompartmentIVBolusIsBiexponential() throws {
        let (cl, v1, q, v2, dose) = (10.0, 20.0, 15.0, 40.0, 1000.0)
        let m = try PKModel.twoCompartment(clearance: cl, centralVolume: v1, intercompartmentalClearance: q, peripheralVolume: v2)
        let c = try PKSimulator.concentrations(m, regimen: try DosingRegimen([.init(time: 0, amount: dose, route: .intravenousBolus)]), at: times)
        let k10 = cl / v1, k12 = q / v1, k21 = q / v2
        let sum = k10 + k12 + k21, prod = k10 * k21
        let alpha = (sum + (sum * sum - 4 * prod).squareRoot()) / 2
        let beta = (sum - (sum * sum - 4 * prod).squareRoot()) / 2
        let a = dose / v1 * (alpha - k21) / (alpha - beta), b = dose / v1 * (k21 - beta) / (alpha - beta)
        let exact = times.map { a * exp(-alpha * $0) + b * exp(-beta * $0) }
        #expect(Self.close(c, exact, rel: 0) < 1e-7)
        // AUC(0-inf) = Dose / CL.
        let fine = stride(from: 0.0, through: 200.0, by: 0.05).map { $0 }
        let cf = try PKSimulator.concentrations(m, regimen: try DosingRegimen([.init(time: 0, amount: dose, route: .intravenousBolus)]), at: fine)
        var auc = 0.0
        for i in 0..<(cf.count - 1) { auc += (cf[i] + cf[i + 1]) / 2 * 0.05 }
        #expect(abs(auc - dose / cl) / (dose / cl) < 1e-3)
    }

    @Test func sigmoidEmax() throws {
        let e = try EmaxModel(baseline: 10, emax: 90, ec50: 2, hill: 2)
        #expect(abs(e.effect(at: 2) - 55) < 1e-12)         // half maximal at EC50
        #expect(abs(e.effect(at: 0) - 10) < 1e-12)
        #expect(abs(e.effect(at: 6) - (10 + 90 * 36 / 40)) < 1e-12)
        #expect(e.effect(at: 1e3) < 100 && e.effect(at: 1e3) > 99.99)
        let hyperbolic = try EmaxModel(emax: 1, ec50: 3)
        #expect(abs(hyperbolic.effect(at: 3) - 0.5) < 1e-15)
        #expect(throws: ModelError.self) { try EmaxModel(emax: 1, ec50: -3) }
    }

    @Test func negativeVolumeOrClearanceNamesTheParameter() {
        do { _ = try PKModel.oneCompartment(clearance: 5, volume: -50); Issue.record("accepted") } catch {
            #expect(error.code == .invalidParameter); #expect(error.message.contains("centralVolume")); #expect(error.value == "-50.0")
        }
        do { _ = try PKModel.twoCompartment(clearance: -1, centralVolume: 10, intercompartmentalClearance: 1, peripheralVolume: 1); Issue.record("accepted") } catch {
            #expect(error.message.contains("clearance"))
        }
        do { _ = try PKModel.twoCompartment(clearance: 1, centralVolume: 10, intercompartmentalClearance: 1, peripheralVolume: 0); Issue.record("accepted") } catch {
            #expect(error.message.contains("peripheralVolume"))
        }
        #expect(throws: ModelError.self) { try DosingRegimen([.init(time: 0, amount: 10, route: .infusion(hours: 0))]) }
        #expect(throws: ModelError.self) { try DosingRegimen([.init(time: -1, amount: 10, route: .oral)]) }
        // An oral dose to a model without absorption is an error, not a silent zero.
        #expect(throws: ModelError.self) {
            try PKSimulator.concentrations(try PKModel.oneCompartment(clearance: 1, volume: 1),
                                           regimen: try DosingRegimen([.init(time: 0, amount: 1, route: .oral)]), at: [1])
        }
    }

    @Test func logNormalCohortIsReproducibleWithTheRightSpread() throws {
        let typical = try PKModel.oneCompartment(clearance: 5, volume: 50, absorptionRate: 1)
        let pop = try PopulationPK(typical: typical, omegaClearance: 0.3, omegaCentralVolume: 0.2)
        var r1 = Xoshiro256StarStar(seed: 42), r2 = Xoshiro256StarStar(seed: 42), r3 = Xoshiro256StarStar(seed: 43)
        let a = pop.sample(4000, using: &r1), b = pop.sample(4000, using: &r2), c = pop.sample(4000, using: &r3)
        #expect(a == b)
        #expect(a != c)
        let logCL = a.map { log($0.clearance / 5) }
        let mean = logCL.reduce(0, +) / Double(logCL.count)
        let sd = (logCL.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logCL.count - 1)).squareRoot()
        #expect(abs(mean) < 0.03)
        #expect(abs(sd - 0.3) < 0.02)
        #expect(a.allSatisfy { $0.absorptionRate == 1 })       // no variability requested on ka
        #expect(throws: ModelError.self) { try PopulationPK(typical: typical, omegaClearance: -0.1) }
    }
}
