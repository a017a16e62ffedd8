/// The SplitMix64 generator (Steele, Lea & Flood 2014; Vigna's reference C code), used to expand one
/// 64-bit seed into a full xoshiro state. Good on its own for seeding, not for simulation streams.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable, Codable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018): a fast, seedable, splittable generator with period 2²⁵⁶ − 1,
/// the project's one seeded generator (simulation, population, filters, calibration, forecasts).
///
/// Every randomised result comes from one of these, created from a recorded 64-bit `seed` (expanded with
/// SplitMix64), so a run can be reproduced exactly: the same seed gives the same sequence on every
/// platform and in every build mode. `split()` derives an independent child stream (for a module, a task
/// or a twin instance) deterministically from the parent's stream; `jump()` advances by 2¹²⁸ steps for
/// non-overlapping parallel streams. Provenance records `streamVersion` (as `streamLabel`) beside each
/// seed: a seed replays its figures only with the same stream version.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable, Codable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64
    /// The second value of the last polar pair, handed out by the next `normal()`.
    private var spare: Double = 0
    private var hasSpare = false

    /// The version of the streams a seed produces: raised whenever a draw from a given seed changes (the
    /// core generator, the seeding, or one of the samplers below). Version 1: xoshiro256** 1.0 seeded by
    /// SplitMix64; uniforms from the top 53 bits; `normal()` Marsaglia's polar method keeping the pair's
    /// second value, `nextNormal()` the pair's first value only; `gamma(shape:)` Marsaglia-Tsang on `normal()`.
    public static let streamVersion = 1
    /// `xoshiro256**/v1`: what provenance records beside a seed.
    public static var streamLabel: String { "xoshiro256**/v\(streamVersion)" }

    private enum CodingKeys: String, CodingKey { case s0, s1, s2, s3, seed }

    /// The current 256-bit state.
    public var state: (UInt64, UInt64, UInt64, UInt64) { (s0, s1, s2, s3) }
    /// The seed this generator (or its ancestor, for a split child the child's own derived seed) was made from.
    public let seed: UInt64

    /// A generator seeded from `seed` through SplitMix64 (never the all-zero state).
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
        self.seed = seed
    }

    /// A generator with an explicit state (must not be all zero; an all-zero state is replaced by `s0 = 1`).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
        seed = 0
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = Self.rotlPublic(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotlPublic(s3, 45)
        return result
    }

    @usableFromInline
    @inline(__always)
    static func rotlPublic(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Advances the state by 2¹²⁸ calls of `next()`.
    public mutating func jump() {
        let constants: [UInt64] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C]
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        for constant in constants {
            for bit in 0..<64 {
                if constant & (UInt64(1) << UInt64(bit)) != 0 {
                    t0 ^= s0; t1 ^= s1; t2 ^= s2; t3 ^= s3
                }
                _ = next()
            }
        }
        s0 = t0; s1 = t1; s2 = t2; s3 = t3
    }

    /// A child generator seeded from this generator's next output (the parent advances by one).
    /// Children of the same parent state are identical; successive splits differ.
    public mutating func split() -> Xoshiro256StarStar {
        Xoshiro256StarStar(seed: next())
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in [0, 1) with 53 random bits (the same draw as `nextUniform()`).
    @inline(__always)
    public mutating func uniform() -> Double { nextUniform() }

    /// A pair of independent standard normal deviates (Marsaglia's polar method).
    @inline(__always)
    private mutating func polarPair() -> (Double, Double) {
        while true {
            let u = 2 * nextUniform() - 1
            let v = 2 * nextUniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let m = (-2 * _log(s) / s).squareRoot()
                return (u * m, v * m)
            }
        }
    }

    /// A standard normal deviate: the first of a fresh polar pair (the second is dropped, so each call
    /// consumes its own uniforms; the population, comparison and engine streams use this).
    public mutating func nextNormal() -> Double {
        polarPair().0
    }

    /// A standard normal deviate, using both values of each polar pair (half the uniforms of
    /// `nextNormal()`; the filters, posteriors and calibration starts use this).
    @inline(__always)
    public mutating func normal() -> Double {
        if hasSpare { hasSpare = false; return spare }
        let (a, b) = polarPair()
        spare = b; hasSpare = true
        return a
    }

    /// A gamma deviate with shape `shape` > 0 and scale 1 (G. Marsaglia and W. W. Tsang, "A simple method
    /// for generating gamma variables", ACM TOMS 26 (2000) 363-372; shape below 1 by the boost u^(1/shape)),
    /// on `normal()`.
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 { return gamma(shape: shape + 1) * _pow(uniform(), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if u > 0, _log(u) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
        }
    }

    /// A lognormal deviate `exp(μ + σ·Z)`.
    public mutating func nextLogNormal(mu: Double = 0, sigma: Double) -> Double {
        _exp(mu + sigma * nextNormal())
    }
}

import RealModule

@inline(__always) private func _log(_ x: Double) -> Double { Double.log(x) }
@inline(__always) private func _exp(_ x: Double) -> Double { Double.exp(x) }
@inline(__always) private func _pow(_ x: Double, _ y: Double) -> Double { Double.pow(x, y) }
