import TwinSimulation

import Foundation
import Testing
@testable import TwinCalibration

/// NIST StRD nonlinear regression problems with certified values (itl.nist.gov/div898/strd/nls).
struct NISTProblem: Sendable, CustomStringConvertible {
    let name: String
    let x: [Double], y: [Double]
    let starts: [[Double]]
    let certified: [Double], certifiedSD: [Double], certifiedSSR: Double
    var description: String { name }

    static let misra1a = NISTProblem(
        name: "Misra1a",
        x: [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0],
        y: [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78],
        starts: [[500, 1e-4], [250, 5e-4]],
        certified: [2.3894212918E+02, 5.5015643181E-04], certifiedSD: [2.7070075241E+00, 7.2668688436E-06], certifiedSSR: 1.2455138894E-01)

    static let boxBOD = NISTProblem(
        name: "BoxBOD",
        x: [1, 2, 3, 5, 7, 10], y: [109, 149, 149, 191, 213, 224],
        starts: [[100, 0.75]],
        certified: [2.1380940889E+02, 5.4723748542E-01], certifiedSD: [1.2354515176E+01, 1.0455993237E-01], certifiedSSR: 1.1680088766E+03)

    /// y = b1 (1 − exp(−b2 x)) for both problems.
    func problem(lower: [Double] = [0, 0], upper: [Double] = [1e4, 10]) throws -> LeastSquaresProblem {
        let x = self.x, y = self.y
        return try LeastSquaresProblem(names: ["b1", "b2"], lower: lower, upper: upper, residualCount: x.count) { b in
            x.indices.map { b[0] * (1 - exp(-b[1] * x[$0])) - y[$0] }
        }
    }
}

@Suite("Calibration: bounded least squares, likelihood, multi-start, uncertainty")
struct CalibrationTests {
    @Test(arguments: [NISTProblem.misra1a, NISTProblem.boxBOD])
    func nistCertifiedValues(problem nist: NISTProblem) throws {
        let problem = try nist.problem()
        var lm = LevenbergMarquardt()
        lm.differences = .central
        for start in nist.starts {
            let fit = try lm.minimize(problem, from: start)
            #expect(fit.status.converged)
            for i in 0..<2 {
                #expect(abs(fit.parameters[i] / nist.certified[i] - 1) < 1e-6, "\(nist.name) b\(i + 1) = \(fit.parameters[i])")
            }
            #expect(abs(fit.sumOfSquares / nist.certifiedSSR - 1) < 1e-8)
            let se = try #require(fit.standardErrors())
            for i in 0..<2 { #expect(abs(se[i] / nist.certifiedSD[i] - 1) < 1e-4, "\(nist.name) sd(b\(i + 1)) = \(se[i])") }
        }
    }

    /// BoxBOD's first NIST start (1, 1) is a classic failure for plain LM; multi-start within bounds finds
    /// the certified optimum.
    @Test func multiStartRescuesHardBoxBODStart() throws {
        let problem = try NISTProblem.boxBOD.problem(lower: [1, 0.01], upper: [1000, 5])
        let result = try MultiStart(starts: 8, seed: 11).minimize(problem, additionalStarts: [[1, 1]])
        #expect(abs(result.best.parameters[0] / NISTProblem.boxBOD.certified[0] - 1) < 1e-5)
        #expect(abs(result.best.parameters[1] / NISTProblem.boxBOD.certified[1] - 1) < 1e-5)
        let again = try MultiStart(starts: 8, seed: 11).minimize(problem, additionalStarts: [[1, 1]])
        #expect(again.best.parameters == result.best.parameters)
    }

    @Test func rosenbrockUnboundedAndBounded() throws {
        let residuals: @Sendable ([Double]) -> [Double] = { x in [10 * (x[1] - x[0] * x[0]), 1 - x[0]] }
        let free = try LeastSquaresProblem(names: ["x", "y"], lower: [-.infinity, -.infinity], upper: [.infinity, .infinity],
                                           residualCount: 2, residuals: residuals)
        let fit = try LevenbergMarquardt().minimize(free, from: [-1.2, 1])
        #expect(abs(fit.parameters[0] - 1) < 1e-8 && abs(fit.parameters[1] - 1) < 1e-8)
        // with x ≤ 0.5 the constrained optimum is (0.5, 0.25) on the bound
        let boxed = try LeastSquaresProblem(names: ["x", "y"], lower: [-2, -2], upper: [0.5, 2], residualCount: 2, residuals: residuals)
        let b = try LevenbergMarquardt().minimize(boxed, from: [-1.2, 1])
        #expect(abs(b.parameters[0] - 0.5) < 1e-10)
        #expect(abs(b.parameters[1] - 0.25) < 1e-8)
        #expect(b.isAtBound(0) && !b.isAtBound(1))
    }

    @Test func badBoundsAndStartsAreErrors() throws {
        #expect(throws: CalibrationError.self) {
            _ = try LeastSquaresProblem(names: ["a"], lower: [2], upper: [1], residualCount: 1) { $0 }
        }
        let p = try LeastSquaresProblem(names: ["a"], lower: [0], upper: [1], residualCount: 1) { $0 }
        let e = #expect(throws: CalibrationError.self) { try LevenbergMarquardt().minimize(p, from: [3]) }
        #expect(e?.code == .invalidBounds)
        #expect(e?.message.contains("'a'") == true)
        let nan = try LeastSquaresProblem(names: ["a"], lower: [0], upper: [1], residualCount: 1) { _ in [.nan] }
        #expect(throws: CalibrationError.self) { try LevenbergMarquardt().minimize(nan, from: [0.5]) }
    }

    /// For a model linear in its parameters with known noise, the profile-likelihood interval is exactly
    /// the Wald interval estimate ± 1.96 se.
    @Test func profileLikelihoodOfLinearModelIsWaldInterval() throws {
        let x: [Double] = (0..<20).map { Double($0) / 2 }
        var rng = Xoshiro256StarStar(seed: 4)
        let y = x.map { 1.5 + 0.7 * $0 + 0.3 * rng.normal() }
        let sigma = 0.3
        let problem = try LeastSquaresProblem(names: ["a", "b"], lower: [-10, -10], upper: [10, 10], residualCount: x.count) { p in
            x.indices.map { (p[0] + p[1] * x[$0] - y[$0]) / sigma }
        }
        let fit = try LevenbergMarquardt().minimize(problem, from: [0, 0])
        let se = try #require(fit.standardErrors(residualVariance: 1))
        for i in 0..<2 {
            let profile = try ProfileLikelihood.compute(problem, fit: fit, parameter: i, residualVariance: 1)
            let lo = try #require(profile.lowerLimit), hi = try #require(profile.upperLimit)
            #expect(abs(lo - (fit.parameters[i] - 1.959963984540054 * se[i])) < 1e-5 * se[i] + 1e-9)
            #expect(abs(hi - (fit.parameters[i] + 1.959963984540054 * se[i])) < 1e-5 * se[i] + 1e-9)
        }
        #expect(abs(inverseStandardNormal(0.975) - 1.959963984540054) < 1e-13)
        #expect(abs(inverseStandardNormal(0.001) + 3.090232306167813) < 1e-12)
    }

    /// Exponential decay with multiplicative (log-normal) noise: maximum likelihood recovers the truth,
    /// and the likelihood with estimated sigma equals the closed form.
    @Test func logNormalMaximumLikelihoodOfExponentialDecay() throws {
        let t: [Double] = (1...25).map { Double($0) * 0.4 }
        var rng = Xoshiro256StarStar(seed: 8)
        let y = t.map { 50 * exp(-0.35 * $0) * exp(0.05 * rng.normal()) }
        let ml = try MaximumLikelihood(names: ["A", "k"], lower: [1, 0.01], upper: [500, 5], observed: y, noise: .logNormal(standardDeviation: nil)) { p in
            t.map { p[0] * exp(-p[1] * $0) }
        }
        let fit = try MultiStart(starts: 4, seed: 2).minimize(ml.problem).best
        // log-linear regression gives the exact MLE: ln y = ln A − k t
        let n = Double(t.count)
        let ly = y.map { log($0) }
        let tm = t.reduce(0, +) / n, lm = ly.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for i in t.indices { sxy += (t[i] - tm) * (ly[i] - lm); sxx += (t[i] - tm) * (t[i] - tm) }
        let k = -sxy / sxx, a = exp(lm + k * tm)
        #expect(abs(fit.parameters[1] - k) < 1e-7)
        #expect(abs(fit.parameters[0] / a - 1) < 1e-7)
        let sigma = ml.noiseStandardDeviation(at: fit)
        let nll = try ml.negativeLogLikelihood(at: fit.parameters)
        var expected = 0.0
        for i in t.indices {
            let r = ly[i] - log(fit.parameters[0] * exp(-fit.parameters[1] * t[i]))
            expected += 0.5 * log(2 * Double.pi * sigma * sigma) + 0.5 * r * r / (sigma * sigma) + ly[i]
        }
        #expect(abs(nll - expected) < 1e-9 * abs(expected))
        #expect(throws: CalibrationError.self) {
            _ = try MaximumLikelihood(names: ["A"], lower: [0], upper: [1], observed: [1, -2], noise: .logNormal(standardDeviation: nil)) { _ in [1, 1] }
        }
    }
}
