import Foundation

/// Student's t distribution with `degreesOfFreedom` ν > 0: its two-sided tail probability and quantiles, through the
/// regularized incomplete beta function (Lentz's continued fraction, as in Numerical Recipes §6.4), accurate to
/// about 1e-12 relative.
public struct StudentT: Sendable, Hashable {
    public let degreesOfFreedom: Double

    /// - Precondition: `degreesOfFreedom` is finite and positive (callers check their inputs first).
    public init(degreesOfFreedom: Double) {
        precondition(degreesOfFreedom > 0 && degreesOfFreedom.isFinite, "degrees of freedom must be positive and finite")
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(|T| ≥ |t|): the two-sided p-value of a t statistic.
    public func twoSidedTail(_ t: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? .nan : 0 }
        let v = degreesOfFreedom
        return regularizedIncompleteBeta(x: v / (v + t * t), a: v / 2, b: 0.5)
    }

    /// P(T ≤ t).
    public func cdf(_ t: Double) -> Double {
        let tail = twoSidedTail(t) / 2
        return t >= 0 ? 1 - tail : tail
    }

    /// The quantile q with P(T ≤ q) = p, 0 < p < 1 (bisection on the tail to the last bit, then exact symmetry).
    public func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        if p == 0.5 { return 0 }
        let upper = p > 0.5
        let tail = upper ? 2 * (1 - p) : 2 * p   // two-sided tail at |q|
        var lo = 0.0, hi = 1.0
        while twoSidedTail(hi) > tail { hi *= 2; if hi > 1e300 { break } }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if twoSidedTail(mid) > tail { lo = mid } else { hi = mid }
        }
        let q = (lo + hi) / 2
        return upper ? q : -q
    }
}

/// I_x(a, b), the regularized incomplete beta function, for 0 ≤ x ≤ 1 and a, b > 0.
public func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    let front = exp(lnFront)
    if x < (a + 1) / (a + b + 2) {
        return front * betaContinuedFraction(x: x, a: a, b: b) / a
    }
    return 1 - front * betaContinuedFraction(x: 1 - x, a: b, b: a) / b
}

/// The continued fraction of the incomplete beta function (modified Lentz).
private func betaContinuedFraction(x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300, eps = 1e-15
    let qab = a + b, qap = a + 1, qam = a - 1
    var c = 1.0
    var d = 1 - qab * x / qap
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...10_000 {
        let m = Double(m), m2 = 2 * m
        var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let del = d * c
        h *= del
        if abs(del - 1) < eps { break }
    }
    return h
}
