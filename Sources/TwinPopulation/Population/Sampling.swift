import Foundation
import TwinSimulation

/// Distributions the population generator and the outbreak model draw from, on the project's seeded
/// generator. All are exact samplers (no approximation beyond floating point) unless stated.
extension Xoshiro256StarStar {
    /// A uniform integer in `0..<n` (Lemire's multiply-shift; bias below 2⁻³² for n < 2³²).
    @inline(__always)
    mutating func below(_ n: Int) -> Int {
        Int(((next() >> 32) &* UInt64(n)) >> 32)
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    @inline(__always)
    mutating func uniformFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// A Poisson deviate: multiplication of uniforms below mean 10, Hörmann's transformed rejection (PTRS,
    /// the method numpy uses) from 10 on.
    mutating func poisson(_ lambda: Double) -> Int {
        if lambda <= 0 { return 0 }
        if lambda < 10 {
            let limit = Foundation.exp(-lambda)
            var k = 0
            var p = nextUniform()
            while p > limit { k += 1; p *= nextUniform() }
            return k
        }
        let slam = lambda.squareRoot(), loglam = Foundation.log(lambda)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = nextUniform() - 0.5, v = nextUniform()
            let us = 0.5 - abs(u)
            let k = Foundation.floor((2 * a / us + b) * u + lambda + 0.43)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if Foundation.log(v) + Foundation.log(invalpha) - Foundation.log(a / (us * us) + b) <= -lambda + k * loglam - Foundation.lgamma(k + 1) {
                return Int(k)
            }
        }
    }

    /// A gamma deviate with the given shape and scale (Marsaglia & Tsang 2000; shape < 1 by the U^(1/a) boost).
    mutating func gamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            let u = nextUniform()
            return gamma(shape: shape + 1, scale: scale) * Foundation.pow(max(u, 1e-300), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = nextNormal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = nextUniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v * scale }
            if Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v * scale }
        }
    }

    /// An index drawn with probability proportional to `cumulative` increments (`cumulative` ascending, last > 0).
    mutating func categorical(cumulative: [Double]) -> Int {
        let u = nextUniform() * cumulative[cumulative.count - 1]
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Fisher-Yates shuffle in place.
    mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            let j = below(i + 1)
            a.swapAt(i, j)
            i -= 1
        }
    }
}

/// Running sums of `weights` (for `categorical(cumulative:)`).
func cumulativeSums(_ weights: [Double]) -> [Double] {
    var total = 0.0
    return weights.map { total += $0; return total }
}
