import Foundation
import Testing
import TwinSimulation
@testable import TwinPrognostic

/// The simulation study of issue 30 item 2: a known data-generating process, seeded, shows what PROCOVA promises
/// (Schuler et al. 2022): the adjusted test keeps its nominal 5 % level under the null, the adjusted estimate is
/// unbiased, and its variance falls to about (1 − ρ²) of the unadjusted one as the prognostic score's correlation ρ
/// with the outcome rises.
///
/// The process: each participant has a prognostic score m ~ N(0, 1) (what a model trained on other people predicts
/// under control, standardised); the outcome under control is 50 + 8 (ρ m + √(1 − ρ²) e), e ~ N(0, 1), so the score's
/// correlation with the outcome within an arm is ρ; treatment adds τ. Arms are of equal size.
@Suite("PROCOVA simulation study: type I error, bias, variance reduction")
struct ProcovaSimulationTests {
    struct Replicates {
        var unadjusted: [TrialAnalysis.Estimate] = []
        var adjusted: [TrialAnalysis.Estimate] = []
    }

    static func simulate(trials: Int, size: Int, rho: Double, effect: Double, seed: UInt64) throws -> Replicates {
        var rng = Xoshiro256StarStar(seed: seed)
        var out = Replicates()
        let residual = (1 - rho * rho).squareRoot()
        for _ in 0..<trials {
            var y: [Double] = [], arm: [Bool] = [], score: [Double] = []
            for i in 0..<size {
                let m = rng.normal(), e = rng.normal()
                let treated = i < size / 2
                y.append(50 + 8 * (rho * m + residual * e) + (treated ? effect : 0))
                arm.append(treated); score.append(m)
            }
            let a = try TrialAnalysis.analyze(outcomes: y, treated: arm, scores: score)
            out.unadjusted.append(a.unadjusted)
            out.adjusted.append(try #require(a.adjusted))
        }
        return out
    }

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
    static func variance(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// 2,000 trials of 40 (20 per arm), no effect, ρ = 0.5. The rejection rate at 5 % is a binomial proportion with
    /// standard deviation √(0.05 × 0.95 / 2000) = 0.0049; the tolerance is 4 of those, ±0.0195 (a correct test fails
    /// it with probability below 1e-4). The confidence intervals cover the true 0 as often.
    @Test func typeIErrorStaysNominal() throws {
        let trials = 2_000
        let r = try Self.simulate(trials: trials, size: 40, rho: 0.5, effect: 0, seed: 20_221_007)
        let tolerance = 4 * (0.05 * 0.95 / Double(trials)).squareRoot()
        let adjustedRate = Double(r.adjusted.filter { $0.pValue < 0.05 }.count) / Double(trials)
        let unadjustedRate = Double(r.unadjusted.filter { $0.pValue < 0.05 }.count) / Double(trials)
        #expect(abs(adjustedRate - 0.05) <= tolerance, "adjusted type I error \(adjustedRate)")
        #expect(abs(unadjustedRate - 0.05) <= tolerance, "unadjusted type I error \(unadjustedRate)")
        let covered = Double(r.adjusted.filter { $0.lower <= 0 && 0 <= $0.upper }.count) / Double(trials)
        #expect(abs(covered - 0.95) <= tolerance, "adjusted 95 % CI coverage \(covered)")
        // p < 0.05 and "0 outside the 95 % interval" are the same event
        #expect(r.adjusted.allSatisfy { ($0.pValue < 0.05) == !($0.lower <= 0 && 0 <= $0.upper) })
        print("PROCOVA simulation, null (2000 trials of 40, rho 0.5): type I error adjusted \(adjustedRate), unadjusted \(unadjustedRate), adjusted CI coverage \(covered)")
    }

    /// 2,000 trials of 100 (50 per arm), effect 3, for ρ = 0, 0.5 and 0.8 (the same seed, so the same draws of m and e).
    /// - Unbiased: the mean adjusted estimate is within 4 Monte Carlo standard errors (√(var / 2000)) of 3.
    /// - Variance: the empirical variance of the adjusted estimates over that of the unadjusted ones (the same
    ///   replicates) is within ±0.05 of (1 − ρ²) × 97/96 (the finite-sample factor of a fitted covariate: the arm's
    ///   (XᵀX)⁻¹ entry is 4/n over 1 − r², r² ~ Beta(1/2, (n − 2)/2) the squared sample correlation of arm and score,
    ///   and E[1/(1 − r²)] = (n − 3)/(n − 4)); the Monte Carlo standard deviation of that ratio is at most 0.013 here, so ±0.05 is
    ///   more than 3.5 of them. The variances fall strictly as ρ rises.
    /// - The model-based standard error is calibrated: the mean of SE² is within 10 % of the empirical variance.
    @Test func unbiasedAndVarianceFallsWithCorrelation() throws {
        let trials = 2_000, size = 100, effect = 3.0
        var variances: [Double] = []
        for rho in [0.0, 0.5, 0.8] {
            let r = try Self.simulate(trials: trials, size: size, rho: rho, effect: effect, seed: 2022)
            let adjusted = r.adjusted.map(\.effect), unadjusted = r.unadjusted.map(\.effect)
            let va = Self.variance(adjusted), vu = Self.variance(unadjusted)
            #expect(abs(Self.mean(adjusted) - effect) < 4 * (va / Double(trials)).squareRoot(), "rho \(rho): mean adjusted estimate \(Self.mean(adjusted))")
            #expect(abs(Self.mean(unadjusted) - effect) < 4 * (vu / Double(trials)).squareRoot(), "rho \(rho): mean unadjusted estimate \(Self.mean(unadjusted))")
            let expected = (1 - rho * rho) * Double(size - 3) / Double(size - 4)
            #expect(abs(va / vu - expected) < 0.05, "rho \(rho): variance ratio \(va / vu), expected \(expected)")
            let meanSE2 = Self.mean(r.adjusted.map { $0.standardError * $0.standardError })
            #expect(abs(meanSE2 / va - 1) < 0.1, "rho \(rho): mean SE² \(meanSE2) against the empirical variance \(va)")
            variances.append(va)
            print("PROCOVA simulation, effect 3 (2000 trials of 100, rho \(rho)): mean adjusted \(Self.mean(adjusted)), variance adjusted \(va), unadjusted \(vu), ratio \(va / vu) (expected \(expected)), mean SE² \(meanSE2)")
        }
        #expect(variances[0] > variances[1] && variances[1] > variances[2], "adjusted variances \(variances)")
    }
}
