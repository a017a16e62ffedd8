import Foundation
import Crypto
import TwinCore

/// Computes event content hashes: SHA-256 over a fixed canonical byte encoding of the event's content
/// (twin, effective time, category, code, value, source, provenance). Recorded time, sequence and retraction
/// state are not content, nor is the source's recorded time (``TwinCore/Provenance/sourceRecorded``). The encoding is versioned (first byte) and length-prefixes every string, so
/// different contents never share an encoding.
///
/// Reuse one hasher for a batch: it keeps its buffer.
public struct EventHasher {
    private var buffer: [UInt8] = []

    public init() { buffer.reserveCapacity(256) }

    /// The content hash of a draft.
    public mutating func hash(_ d: EventDraft) -> ContentHash {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(1)
        string(d.twin.rawValue)
        int(d.effective.start.microseconds)
        if let end = d.effective.end { buffer.append(1); int(end.microseconds) } else { buffer.append(0) }
        buffer.append(UInt8(d.category.index))
        string(d.code.system); string(d.code.code); optional(d.code.display)
        value(d.value)
        buffer.append(UInt8(d.source.kind.index)); string(d.source.id)
        // Provenance.sourceRecorded is not content (like the recorded time), so it is left out
        let p = d.provenance
        if !p.hasContent {
            buffer.append(0)
        } else {
            buffer.append(1)
            int(Int64(p.derivedFrom.count))
            for h in p.derivedFrom { for w in [h.w0, h.w1, h.w2, h.w3] { int(Int64(bitPattern: w)) } }
            optional(p.model); optional(p.modelVersion); optional(p.parametersHash)
            if let s = p.seed { buffer.append(1); int(Int64(bitPattern: s)) } else { buffer.append(0) }
            optional(p.notes)
        }
        return EventHasher.sha256(buffer)
    }

    /// SHA-256 of bytes as a ``ContentHash``.
    public static func sha256(_ bytes: [UInt8]) -> ContentHash {
        let digest = SHA256.hash(data: bytes)
        return digest.withUnsafeBytes { ContentHash(raw: $0)! }
    }

    private mutating func value(_ v: Value?) {
        guard let v else { buffer.append(0); return }
        switch v {
        case .quantity(let q): buffer.append(1); double(q.value); string(q.unit)
        case .concept(let c): buffer.append(2); string(c.system); string(c.code); optional(c.display)
        case .text(let s): buffer.append(3); string(s)
        case .date(let d): buffer.append(4); int(d.microseconds)
        case .vector(let vec): buffer.append(5); int(Int64(vec.values.count)); for x in vec.values { double(x) }; string(vec.unit)
        case .boolean(let b): buffer.append(6); buffer.append(b ? 1 : 0)
        }
    }
    @inline(__always) private mutating func int(_ v: Int64) {
        // little-endian, least significant byte first, appended at once
        withUnsafeBytes(of: UInt64(bitPattern: v).littleEndian) { buffer.append(contentsOf: $0) }
    }
    @inline(__always) private mutating func double(_ v: Double) {
        // +0 and -0 hash alike; every NaN alike
        let canonical = v == 0 ? 0.0 : (v.isNaN ? Double.nan : v)
        int(Int64(bitPattern: canonical.bitPattern))
    }
    @inline(__always) private mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { u in
            int32(u.count)
            buffer.append(contentsOf: u)
        }
    }
    @inline(__always) private mutating func int32(_ n: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).littleEndian) { buffer.append(contentsOf: $0) }
    }
    @inline(__always) private mutating func optional(_ s: String?) {
        if let s { buffer.append(1); string(s) } else { buffer.append(0) }
    }
}

/// Canonical encoding and hashing of version-controlled objects (twins, aggregates, trees, commits):
/// JSON with sorted keys, hashed with SHA-256. Equal values give equal bytes and equal hashes.
public enum ObjectCodec {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(value))
    }
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
    /// The canonical bytes and their hash.
    public static func hashed<T: Encodable>(_ value: T) throws -> (hash: ContentHash, bytes: [UInt8]) {
        let b = try encode(value)
        return (EventHasher.sha256(b), b)
    }
}
