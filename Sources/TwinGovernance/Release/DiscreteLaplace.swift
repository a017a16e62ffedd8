/// The discrete Laplace (two-sided geometric) mechanism on integers, sampled exactly.
///
/// The noise Z has P(Z = z) = (1 - a) / (1 + a) * a^|z| with a = exp(-epsilon / sensitivity): the geometric mechanism
/// of Ghosh, Roughgarden and Sundararajan, which OpenDP also uses for integer queries. Adding it to an integer query
/// whose value changes by at most `sensitivity` when one person is added or removed is epsilon-differentially private.
///
/// How it is sampled: with Canonne, Kamath and Steinke's exact algorithm ("The Discrete Gaussian for Differential
/// Privacy", 2020, Algorithms 1 and 2), which needs only uniform integers and Bernoulli trials with rational
/// probabilities, so no floating-point value ever decides an outcome (floating-point inversion of a geometric
/// distribution leaks through rounding: the set of reachable outputs and their probabilities then depend on the
/// true value, the attack Mironov showed on the textbook Laplace mechanism). The uniform integers come from
/// `RandomNumberGenerator`'s `random(in:using:)`, which is unbiased.
///
/// Epsilon is a `Double` at the command line; the mechanism uses the rational `floor(epsilon * 10^6) / 10^6`, never
/// more than asked (rounding down adds noise, so the promised epsilon still holds; the budget is charged the
/// epsilon asked).
public struct DiscreteLaplace: Sendable, Hashable {
    /// Numerator and denominator of epsilon / sensitivity as used (the noise is P(z) proportional to exp(-|z| * num / den)).
    public let numerator: UInt64
    public let denominator: UInt64
    public static let epsilonResolution: UInt64 = 1_000_000

    /// - Throws: ``GovernanceError`` `invalidRelease` when epsilon is not a positive finite number of at least 10^-6
    ///   or at most 1000, or the sensitivity is not between 1 and 10^9.
    public init(epsilon: Double, sensitivity: Int) throws {
        guard epsilon.isFinite, epsilon >= 1e-6, epsilon <= 1000 else {
            throw GovernanceError(.invalidRelease, "epsilon must be a number from 0.000001 to 1000, not \(epsilon)", value: String(epsilon))
        }
        guard sensitivity >= 1, sensitivity <= 1_000_000_000 else {
            throw GovernanceError(.invalidRelease, "the sensitivity must be a whole number from 1 to 10^9, not \(sensitivity)", value: String(sensitivity))
        }
        let n = UInt64((epsilon * Double(Self.epsilonResolution)).rounded(.down))
        let g = Self.gcd(n, Self.epsilonResolution * UInt64(sensitivity))
        numerator = n / g
        denominator = Self.epsilonResolution * UInt64(sensitivity) / g
    }

    /// a = exp(-epsilon / sensitivity) as used (for tests and reports; never used for sampling).
    public var ratio: Double { (-Double(numerator) / Double(denominator)).exp }

    /// The probability of noise `z` (for tests and reports; never used for sampling).
    public func probability(_ z: Int) -> Double {
        let a = ratio
        return (1 - a) / (1 + a) * Double.pow(a, Double(abs(z)))
    }

    /// One noise value.
    public func sample<G: RandomNumberGenerator>(using g: inout G) -> Int {
        // CKS Algorithm 2 with scale t/s: P(z) proportional to exp(-|z| s / t); here s/t = numerator/denominator.
        let s = numerator, t = denominator
        while true {
            let u = UInt64.random(in: 0..<t, using: &g)
            guard Self.bernoulliExp(u, t, using: &g) else { continue }
            var v: UInt64 = 0
            while Self.bernoulliExp(1, 1, using: &g) { v += 1 }
            let x = u + t * v
            let y = x / s
            let negative = Bool.random(using: &g)
            if negative && y == 0 { continue }
            return negative ? -Int(y) : Int(y)
        }
    }

    /// `value` plus one noise value, drawn with the system's secure generator unless another is given.
    public func release(_ value: Int) -> Int {
        var g = SystemRandomNumberGenerator()
        return release(value, using: &g)
    }
    public func release<G: RandomNumberGenerator>(_ value: Int, using g: inout G) -> Int {
        value + sample(using: &g)
    }

    /// Bernoulli(p / q) for 0 <= p <= q, exactly.
    static func bernoulli<G: RandomNumberGenerator>(_ p: UInt64, _ q: UInt64, using g: inout G) -> Bool {
        UInt64.random(in: 0..<q, using: &g) < p
    }

    /// Bernoulli(exp(-p / q)) for p >= 0, q >= 1, exactly (CKS Algorithm 1).
    static func bernoulliExp<G: RandomNumberGenerator>(_ p: UInt64, _ q: UInt64, using g: inout G) -> Bool {
        var p = p
        while p > q {  // exp(-p/q) = exp(-1)^floor(p/q) * exp(-(p mod q)/q)
            guard bernoulliExpAtMostOne(1, 1, using: &g) else { return false }
            p -= q
        }
        return bernoulliExpAtMostOne(p, q, using: &g)
    }

    /// Bernoulli(exp(-p / q)) for 0 <= p <= q: K = 1; while Bernoulli(p / (q K)) { K += 1 }; true when K is odd.
    static func bernoulliExpAtMostOne<G: RandomNumberGenerator>(_ p: UInt64, _ q: UInt64, using g: inout G) -> Bool {
        var k: UInt64 = 1
        while bernoulli(p, q * k, using: &g) { k += 1 }
        return k % 2 == 1
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? a : gcd(b, a % b) }
}

import Foundation

private extension Double {
    var exp: Double { Foundation.exp(self) }
    static func pow(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
}
