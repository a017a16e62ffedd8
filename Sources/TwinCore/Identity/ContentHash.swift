/// A 32-byte content hash (SHA-256 in TwinBank): the identity of an event or a stored object.
///
/// Held as four 64-bit words (big-endian order of the digest bytes), so it is cheap to hash and compare.
/// Its text form is 64 lowercase hex digits.
@frozen
public struct ContentHash: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    @inlinable
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From exactly 32 bytes; nil otherwise.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for b in bytes {
            switch i >> 3 {
            case 0: w.0 = w.0 << 8 | UInt64(b)
            case 1: w.1 = w.1 << 8 | UInt64(b)
            case 2: w.2 = w.2 << 8 | UInt64(b)
            default: w.3 = w.3 << 8 | UInt64(b)
            }
            i += 1
        }
        self.init(w0: w.0, w1: w.1, w2: w.2, w3: w.3)
    }

    /// From the first 32 bytes of a raw buffer (big-endian words); nil if it is shorter.
    @inlinable
    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= 32 else { return nil }
        self.init(w0: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                  w1: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                  w2: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                  w3: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// From 64 hex digits (either case); nil otherwise.
    public init?(hex: String) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var bytes = [UInt8](); bytes.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = ContentHash.nibble(u[i]), let lo = ContentHash.nibble(u[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo); i += 2
        }
        self.init(bytes: bytes)
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    /// The 32 bytes, in digest order.
    public var bytes: [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return out
    }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    public var description: String { hex }
    /// The first `n` hex digits, for display.
    public func abbreviated(_ n: Int = 12) -> String { String(hex.prefix(n)) }

    /// The words are already uniformly distributed (a SHA-256 digest), so hashing one of them suffices.
    @inlinable
    public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

    @inlinable
    public static func == (a: ContentHash, b: ContentHash) -> Bool {
        a.w0 == b.w0 && a.w1 == b.w1 && a.w2 == b.w2 && a.w3 == b.w3
    }

    public static func < (a: ContentHash, b: ContentHash) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let h = ContentHash(hex: text) else {
            throw TwinError(.invalidValue, "malformed content hash '\(text)': expected 64 hex digits", value: text)
        }
        self = h
    }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(hex) }
}
