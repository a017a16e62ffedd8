import Foundation
import Testing
import TwinGovernance
import TwinSimulation

@Suite struct DiscreteLaplaceTests {
    /// 100,000 seeded draws against the pmf (1 - a) / (1 + a) a^|z|: a chi-square over the central values (and the
    /// two tails pooled) below the 0.999 quantile, and each central frequency within 4.5 standard errors.
    @Test(arguments: [(1.0, 1), (0.5, 1), (2.0, 3)])
    func theEmpiricalDistributionMatchesThePMF(epsilon: Double, sensitivity: Int) throws {
        let m = try DiscreteLaplace(epsilon: epsilon, sensitivity: sensitivity)
        var g = Xoshiro256StarStar(seed: 20261206)
        let n = 100_000
        var counts: [Int: Int] = [:]
        for _ in 0..<n { counts[m.sample(using: &g), default: 0] += 1 }
        // cells: -c ... c, and |z| > c pooled, with c chosen so every expected count is at least 20
        var c = 0
        while Double(n) * m.probability(c + 1) >= 20 { c += 1 }
        var chi2 = 0.0
        var tailObserved = n
        var tailExpected = 1.0
        for z in -c...c {
            let expected = Double(n) * m.probability(z)
            let observed = counts[z] ?? 0
            tailObserved -= observed
            tailExpected -= m.probability(z)
            chi2 += pow(Double(observed) - expected, 2) / expected
            let se = (Double(n) * m.probability(z) * (1 - m.probability(z))).squareRoot()
            #expect(abs(Double(observed) - expected) < 4.5 * se, "z = \(z): \(observed) against \(expected)")
        }
        tailExpected *= Double(n)
        chi2 += pow(Double(tailObserved) - tailExpected, 2) / tailExpected
        let df = Double(2 * c + 1)
        // the 0.999 quantile of chi-square, Wilson-Hilferty approximation
        let q = df * pow(1 - 2 / (9 * df) + 3.090232 * (2 / (9 * df)).squareRoot(), 3)
        #expect(chi2 < q, "chi-square \(chi2) over \(Int(df)) degrees of freedom (limit \(q))")
        // symmetric, centred on 0
        let mean = counts.reduce(0.0) { $0 + Double($1.key * $1.value) } / Double(n)
        #expect(abs(mean) < 0.05 * Double(sensitivity) / epsilon * 4)
    }

    @Test func aWrongScaleWouldBeCaught() throws {
        // the same draws tested against the pmf of another epsilon fail: the test above can fail
        let m = try DiscreteLaplace(epsilon: 1, sensitivity: 1)
        let other = try DiscreteLaplace(epsilon: 0.8, sensitivity: 1)
        var g = Xoshiro256StarStar(seed: 7)
        let n = 100_000
        var zeros = 0
        for _ in 0..<n where m.sample(using: &g) == 0 { zeros += 1 }
        let se = (Double(n) * other.probability(0) * (1 - other.probability(0))).squareRoot()
        #expect(abs(Double(zeros) - Double(n) * other.probability(0)) > 4.5 * se)
        #expect(abs(Double(zeros) - Double(n) * m.probability(0)) < 4.5 * se)
    }

    @Test func epsilonIsRoundedDownToAMillionthAndBadValuesAreRefused() throws {
        let m = try DiscreteLaplace(epsilon: 0.1234567, sensitivity: 2)
        #expect(m.numerator * 2_000_000 == 123_456 * m.denominator)
        for bad in [0, -1, .nan, .infinity, 1e-9] as [Double] {
            #expect(throws: GovernanceError.self) { try DiscreteLaplace(epsilon: bad, sensitivity: 1) }
        }
        #expect(throws: GovernanceError.self) { try DiscreteLaplace(epsilon: 1, sensitivity: 0) }
    }
}
