import Foundation
import Testing
import TwinSimulation
@testable import TwinPrognostic

/// `TrialAnalysis` and `StudentT` on small cases with known answers, and its refusals.
@Suite("TrialAnalysis: Welch and ANCOVA estimates, Student's t")
struct TrialAnalysisTests {
    @Test func studentTMatchesScipy() {
        // scipy.stats.t.ppf / sf (scipy 1.x), printed with repr
        #expect(abs(StudentT(degreesOfFreedom: 10).quantile(0.975) - 2.228138851986274) < 1e-12)
        #expect(abs(StudentT(degreesOfFreedom: 1).quantile(0.975) - 12.706204736174694) < 1e-9)
        #expect(abs(StudentT(degreesOfFreedom: 3.7).quantile(0.975) - 2.8675207071911895) < 1e-11)
        #expect(abs(StudentT(degreesOfFreedom: 5).twoSidedTail(2) - 0.10193947882985835) < 1e-13)
        #expect(abs(StudentT(degreesOfFreedom: 120.5).twoSidedTail(0.3) - 0.7646940598579267) < 1e-13)
        #expect(abs(StudentT(degreesOfFreedom: 7).cdf(-1.5) - 0.088649243494985) < 1e-13)
        #expect(abs(StudentT(degreesOfFreedom: 7).quantile(0.025) + StudentT(degreesOfFreedom: 7).quantile(0.975)) < 1e-14)
    }

    @Test func handWorkedExample() throws {
        // treated 5, 7, 9 (mean 7, var 4); control 1, 2, 3 (mean 2, var 1): effect 5, SE √(4/3 + 1/3) = √(5/3)
        let a = try TrialAnalysis.analyze(outcomes: [5, 7, 9, 1, 2, 3], treated: [true, true, true, false, false, false])
        #expect(a.unadjusted.effect == 5)
        #expect(abs(a.unadjusted.standardError - (5.0 / 3).squareRoot()) < 1e-14)
        // Welch df: (5/3)² / ((4/3)²/2 + (1/3)²/2) = (25/9) / (17/18) = 50/17
        #expect(abs(a.unadjusted.degreesOfFreedom - 50.0 / 17) < 1e-12)
        #expect(a.adjusted == nil)
        #expect(a.unadjusted.lower < 5 && a.unadjusted.upper > 5)
    }

    @Test func scoreThatExplainsTheOutcomeShrinksTheStandardError() throws {
        // outcome = 2 x score + 3 x arm + small noise: the adjusted estimate recovers 3 with a far smaller SE
        var rng = Xoshiro256StarStar(seed: 11)
        var y: [Double] = [], arm: [Bool] = [], score: [Double] = []
        for i in 0..<40 {
            let s = 10 * rng.normal()
            let t = i % 2 == 0
            score.append(s); arm.append(t)
            y.append(2 * s + (t ? 3 : 0) + 0.5 * rng.normal())
        }
        let a = try TrialAnalysis.analyze(outcomes: y, treated: arm, scores: score)
        let adj = try #require(a.adjusted)
        #expect(abs(adj.effect - 3) < 4 * adj.standardError)
        #expect(adj.standardError < a.unadjusted.standardError / 10)
        #expect(abs(try #require(a.scoreCoefficient) - 2) < 0.05)
        #expect(try #require(a.scoreOutcomeCorrelation) > 0.99)
        #expect(try #require(a.varianceRatio) < 0.01)
    }

    @Test func refusesBadInput() {
        #expect(throws: PrognosticError.self) { try TrialAnalysis.analyze(outcomes: [1, 2, 3], treated: [true, false]) }
        #expect(throws: PrognosticError.self) { try TrialAnalysis.analyze(outcomes: [1, 2, 3, 4], treated: [true, false, false, false]) }
        #expect(throws: PrognosticError.self) { try TrialAnalysis.analyze(outcomes: [1, .nan, 3, 4], treated: [true, true, false, false]) }
        #expect(throws: PrognosticError.self) {
            try TrialAnalysis.analyze(outcomes: [1, 2, 3, 4], treated: [true, true, false, false], scores: [1, 2, 3])
        }
        // values whose variance overflows are refused, not crashed on
        #expect(throws: PrognosticError.self) { try TrialAnalysis.analyze(outcomes: [1e300, -1e300, 3, 4], treated: [true, true, false, false]) }
        #expect(throws: PrognosticError.self) {
            try TrialAnalysis.analyze(outcomes: [1, 2, 3, 4, 5], treated: [true, true, false, false, true], scores: [1e300, -1e300, 1, 2, 3])
        }
        // a score equal to the arm indicator is collinear with it
        do {
            _ = try TrialAnalysis.analyze(outcomes: [1, 2, 3, 4, 5], treated: [true, true, false, false, false], scores: [1, 1, 0, 0, 0])
            Issue.record("a score collinear with the arm was accepted")
        } catch let e as PrognosticError {
            #expect(e.code == .singular)
        } catch { Issue.record("unexpected error \(error)") }
    }
}
