import Foundation

/// A seeded, reproducible random number generator (xoshiro256** seeded through SplitMix64) with a
/// Gaussian sampler.
///
/// The same seed gives the same sequence on every platform and in every build mode, so filter runs,
/// multi-start calibrations and forecasts can be replayed exactly from the seed recorded in the thread.
public struct SplitMixXoshiro: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spare: Double = 0
    private var hasSpare = false

    /// Creates a generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var z = seed
        func next() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform draw in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal draw (Marsaglia's polar method; the second value of each pair is kept).
    @inline(__always)
    public mutating func normal() -> Double {
        if hasSpare { hasSpare = false; return spare }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let m = (-2 * log(s) / s).squareRoot()
                spare = v * m; hasSpare = true
                return u * m
            }
        }
    }

    /// A gamma draw with shape `shape` > 0 and scale 1 (G. Marsaglia and W. W. Tsang, "A simple method for
    /// generating gamma variables", ACM TOMS 26 (2000) 363-372; shape below 1 by the boost u^(1/shape)).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 { return gamma(shape: shape + 1) * pow(uniform(), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if u > 0, log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
