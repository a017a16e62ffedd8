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

/// xoshiro256** 1.0 (Blackman & Vigna 2018): a fast, seedable, splittable generator with period 2²⁵⁶ − 1.
///
/// Every simulation's randomness comes from one of these, created from a recorded 64-bit `seed`
/// (expanded with SplitMix64), so a run can be reproduced exactly. `split()` derives an independent
/// child stream (for a module, a task or a twin instance) deterministically from the parent's stream;
/// `jump()` advances by 2¹²⁸ steps for non-overlapping parallel streams.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable, Codable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

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

    /// A standard normal deviate (Marsaglia's polar method).
    public mutating func nextNormal() -> Double {
        while true {
            let u = 2 * nextUniform() - 1
            let v = 2 * nextUniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * _log(s) / s).squareRoot()
            }
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
