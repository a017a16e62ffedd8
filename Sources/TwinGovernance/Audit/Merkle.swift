import Crypto

/// A SHA-256 hash in a Merkle tree (a leaf hash, an inner node or a root): exactly 32 bytes.
public struct MerkleHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes; `nil` for any other length.
    public init?(bytes: some Sequence<UInt8>) {
        let b = Array(bytes)
        guard b.count == 32 else { return nil }
        self.bytes = b
    }
    init(digest: SHA256.Digest) { bytes = Array(digest) }

    /// Parses 64 hexadecimal digits (either case); `nil` otherwise.
    public init?(hex: String) {
        guard let b = Hex.decode(hex) else { return nil }
        self.init(bytes: b)
    }
    /// Lower-case hexadecimal.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// Lower-case hexadecimal of bytes, and back.
enum Hex {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8](); out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = v(u[i]), let l = v(u[i + 1]) else { return nil }
            out.append(h << 4 | l); i += 2
        }
        return out
    }
}

/// The node of a Merkle tree that covers the leaves `[index * 2^level, (index + 1) * 2^level)`: a perfect,
/// aligned subtree. Level 0 is a leaf hash. A log stores these nodes as its leaves arrive (``MerkleFrontier``),
/// so any root or proof is made of at most about 2 log2(n) of them.
public struct MerkleNodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var level: Int
    public var index: UInt64
    public init(level: Int, index: UInt64) { self.level = level; self.index = index }
    public static func < (a: Self, b: Self) -> Bool { (a.level, a.index) < (b.level, b.index) }
    public var description: String { "(\(level), \(index))" }
}

/// The Merkle tree hash of RFC 9162 (section 2.1, the same as RFC 6962): leaf `SHA-256(0x00 || data)`, node
/// `SHA-256(0x01 || left || right)`, the tree over n > 1 leaves split at the largest power of two smaller
/// than n. Pure functions over hashes: proofs are described as lists of subtree ranges (``inclusionPath(index:size:)``,
/// ``consistencyPath(size1:size2:)``) that a store resolves from its stored perfect nodes (``nodes(covering:)``),
/// and verified by the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
public enum Merkle {
    /// The root of the empty tree: SHA-256 of no bytes.
    public static let emptyRoot = MerkleHash(digest: SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 || data)`.
    public static func leafHash(_ data: some Sequence<UInt8>) -> MerkleHash {
        leafHash(Array(data))
    }

    /// ``leafHash(_:)`` of bytes already in an array (no copy).
    public static func leafHash(_ data: [UInt8]) -> MerkleHash {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
        data.withUnsafeBytes { h.update(bufferPointer: $0) }
        return MerkleHash(digest: h.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(1)) { h.update(bufferPointer: $0) }
        left.bytes.withUnsafeBytes { h.update(bufferPointer: $0) }
        right.bytes.withUnsafeBytes { h.update(bufferPointer: $0) }
        return MerkleHash(digest: h.finalize())
    }

    /// The largest power of two strictly smaller than `n` (n >= 2).
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// The root of a tree given all its leaf hashes (O(n); for tests and small trees).
    public static func root(leaves: [MerkleHash]) -> MerkleHash {
        var f = MerkleFrontier()
        for l in leaves { _ = f.append(l) }
        return f.root
    }

    // MARK: Proof shapes

    /// The subtree ranges `[start, end)` whose hashes make the inclusion proof of leaf `index` in the tree of
    /// `size` leaves (RFC 9162 2.1.3.1), from the leaf upwards. Requires `index < size`.
    public static func inclusionPath(index: UInt64, size: UInt64) -> [Range<UInt64>] {
        precondition(index < size)
        var path: [Range<UInt64>] = []
        func walk(_ m: UInt64, _ lo: UInt64, _ hi: UInt64) {
            let n = hi - lo
            guard n > 1 else { return }
            let k = split(n)
            if m - lo < k { walk(m, lo, lo + k); path.append(lo + k ..< hi) } else { walk(m, lo + k, hi); path.append(lo ..< lo + k) }
        }
        walk(index, 0, size)
        return path
    }

    /// The subtree ranges whose hashes make the consistency proof from the tree of `size1` leaves to the tree of
    /// `size2` leaves (RFC 9162 2.1.4.1). Empty when `size1 == size2` or `size1 == 0`. Requires `size1 <= size2`.
    public static func consistencyPath(size1: UInt64, size2: UInt64) -> [Range<UInt64>] {
        precondition(size1 <= size2)
        guard size1 > 0, size1 < size2 else { return [] }
        var path: [Range<UInt64>] = []
        func sub(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ complete: Bool) {
            let n = hi - lo
            if m == n {
                if !complete { path.append(lo ..< hi) }
                return
            }
            let k = split(n)
            if m <= k { sub(m, lo, lo + k, complete); path.append(lo + k ..< hi) } else { sub(m - k, lo + k, hi, false); path.append(lo ..< lo + k) }
        }
        sub(size1, 0, size2, true)
        return path
    }

    /// The perfect aligned subtrees, left to right, whose hashes fold (right to left, ``nodeHash(_:_:)``) into
    /// the hash of the leaves `range`. The range must be one the tree hash defines: it starts at a multiple of a
    /// power of two at least as large as its length (every range of ``inclusionPath(index:size:)``,
    /// ``consistencyPath(size1:size2:)`` and every `0 ..< n` is such a range).
    public static func nodes(covering range: Range<UInt64>) -> [MerkleNodeID] {
        var ids: [MerkleNodeID] = []
        var start = range.lowerBound
        var remaining = range.upperBound - range.lowerBound
        while remaining > 0 {
            let level = 63 - remaining.leadingZeroBitCount
            ids.append(MerkleNodeID(level: level, index: start >> UInt64(level)))
            start += UInt64(1) << UInt64(level)
            remaining -= UInt64(1) << UInt64(level)
        }
        return ids
    }

    /// Folds perfect subtree hashes, left to right as ``nodes(covering:)`` lists them, into the range's hash.
    public static func fold(_ hashes: [MerkleHash]) -> MerkleHash {
        guard var acc = hashes.last else { return emptyRoot }
        for h in hashes.dropLast().reversed() { acc = nodeHash(h, acc) }
        return acc
    }

    /// Resolves ranges to hashes through `lookup`, which is called once with every perfect node needed
    /// (O(log n) of them for a proof: the siblings on the path and the peaks of the right border).
    /// - Throws: what `lookup` throws; ``GovernanceError`` `storageFailure` when it omits a node.
    public static func resolve(_ ranges: [Range<UInt64>], lookup: (Set<MerkleNodeID>) throws -> [MerkleNodeID: MerkleHash]) throws -> [MerkleHash] {
        let perRange = ranges.map { nodes(covering: $0) }
        let needed = Set(perRange.joined())
        let found = try lookup(needed)
        return try perRange.map { ids in
            try fold(ids.map { id in
                guard let h = found[id] else {
                    throw GovernanceError(.storageFailure, "the audit log has no stored Merkle node \(id)", value: "\(id)")
                }
                return h
            })
        }
    }

    // MARK: Verification (RFC 9162 2.1.3.2 and 2.1.4.2)

    /// Verifies that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`.
    /// The arguments are raw bytes as a proof file or a peer gives them: any hash that is not 32 bytes, an index
    /// out of range, a proof of the wrong length or a root that does not match is refused.
    /// - Throws: ``GovernanceError`` `invalidProof` saying why.
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]) throws {
        guard index < size else { throw proofError("leaf index \(index) is not below the tree size \(size)", "\(index)") }
        guard let leaf = MerkleHash(bytes: leafHash) else { throw proofError("the leaf hash has \(leafHash.count) bytes, not 32", "\(leafHash.count)") }
        let path = try hashes(proof)
        let computed = try rootFromInclusionProof(index: index, size: size, leaf: leaf, proof: path)
        guard computed.bytes == root else { throw proofError("the inclusion proof of leaf \(index) in a tree of \(size) gives root \(computed.hex), not the root given", computed.hex) }
    }

    /// The root an inclusion proof implies (RFC 9162 2.1.3.2), for hashes already checked to be 32 bytes.
    public static func rootFromInclusionProof(index: UInt64, size: UInt64, leaf: MerkleHash, proof: [MerkleHash]) throws -> MerkleHash {
        guard index < size else { throw proofError("leaf index \(index) is not below the tree size \(size)", "\(index)") }
        var fn = index, sn = size - 1
        var r = leaf
        for p in proof {
            if sn == 0 { throw proofError("the inclusion proof has \(proof.count) hashes, more than a tree of \(size) needs", "\(proof.count)") }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw proofError("the inclusion proof has \(proof.count) hashes, fewer than a tree of \(size) needs", "\(proof.count)") }
        return r
    }

    /// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2` leaves with
    /// root `root2` (RFC 9162 2.1.4.2). Raw bytes as in ``verifyInclusion(index:size:leafHash:proof:root:)``;
    /// equal sizes need an empty proof and equal roots; a proof from the empty tree (even to the empty tree) is refused as
    /// meaningless, as transparency-dev/merkle does.
    /// - Throws: ``GovernanceError`` `invalidProof` saying why.
    public static func verifyConsistency(size1: UInt64, size2: UInt64, proof: [[UInt8]], root1: [UInt8], root2: [UInt8]) throws {
        guard size1 <= size2 else { throw proofError("the first size \(size1) is larger than the second \(size2)", "\(size1)") }
        guard size1 > 0 else { throw proofError("a consistency proof from the empty tree proves nothing", "0") }
        if size1 == size2 {
            guard proof.isEmpty else { throw proofError("trees of the same size \(size1) need an empty consistency proof, not \(proof.count) hashes", "\(proof.count)") }
            guard constantTimeEqual(root1, root2) else { throw proofError("two trees of size \(size1) with different roots", "\(size1)") }
            return
        }
        guard !proof.isEmpty else { throw proofError("an empty consistency proof from size \(size1) to \(size2)", "0") }
        guard let r1 = MerkleHash(bytes: root1), let r2 = MerkleHash(bytes: root2) else { throw proofError("a root is not 32 bytes", "") }
        var path = try hashes(proof)
        // step 2: if size1 is a power of two, prepend root1
        if size1 & (size1 - 1) == 0 { path.insert(r1, at: 0) }
        var fn = size1 - 1, sn = size2 - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { throw proofError("the consistency proof has more hashes than sizes \(size1) to \(size2) need", "\(proof.count)") }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw proofError("the consistency proof has fewer hashes than sizes \(size1) to \(size2) need", "\(proof.count)") }
        guard fr == r1 else { throw proofError("the consistency proof does not give the first root (size \(size1))", "\(size1)") }
        guard sr == r2 else { throw proofError("the consistency proof does not give the second root (size \(size2))", "\(size2)") }
    }

    static func hashes(_ raw: [[UInt8]]) throws -> [MerkleHash] {
        try raw.enumerated().map { i, b in
            guard let h = MerkleHash(bytes: b) else { throw proofError("proof hash \(i) has \(b.count) bytes, not 32", "\(i)") }
            return h
        }
    }

    static func proofError(_ message: String, _ value: String) -> GovernanceError {
        GovernanceError(.invalidProof, message, value: value)
    }
}

/// The right edge of a Merkle tree under construction: the hashes of its perfect subtrees ("peaks"), largest
/// first, one per set bit of the size. Appending a leaf returns the nodes it completes, which a log stores so
/// that later proofs read O(log n) stored nodes instead of rehashing the leaves.
public struct MerkleFrontier: Sendable, Hashable {
    /// The number of leaves.
    public private(set) var size: UInt64 = 0
    /// The peaks, left to right (largest subtree first).
    public private(set) var peaks: [MerkleHash] = []

    /// The empty tree.
    public init() {}

    /// The frontier of a tree of `size` leaves from its peaks as ``Merkle/nodes(covering:)`` `0 ..< size` lists them.
    /// - Throws: ``GovernanceError`` `storageFailure` when the number of peaks does not match the size.
    public init(size: UInt64, peaks: [MerkleHash]) throws {
        guard peaks.count == size.nonzeroBitCount else {
            throw GovernanceError(.storageFailure, "a tree of \(size) leaves has \(size.nonzeroBitCount) peaks, not \(peaks.count)", value: "\(size)")
        }
        self.size = size; self.peaks = peaks
    }

    /// Adds a leaf hash; returns every node it stores: the leaf (level 0) and each perfect subtree it completes.
    @discardableResult
    public mutating func append(_ leaf: MerkleHash) -> [(MerkleNodeID, MerkleHash)] {
        var created: [(MerkleNodeID, MerkleHash)] = [(MerkleNodeID(level: 0, index: size), leaf)]
        var h = leaf
        var level = 0
        var index = size
        while index & 1 == 1 {
            h = Merkle.nodeHash(peaks.removeLast(), h)
            level += 1
            index >>= 1
            created.append((MerkleNodeID(level: level, index: index), h))
        }
        peaks.append(h)
        size += 1
        return created
    }

    /// The root of the tree so far (``Merkle/emptyRoot`` when empty).
    public var root: MerkleHash { Merkle.fold(peaks) }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they differ: for MACs,
/// signatures, tokens and roots an attacker could probe byte by byte. Different lengths compare unequal.
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}
