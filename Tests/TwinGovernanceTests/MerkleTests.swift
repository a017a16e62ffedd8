import Crypto
import Foundation
import Testing
import TwinTesting
@testable import TwinGovernance

/// The RFC 9162 tree hash written the slow, obvious way (recursion over the leaves), to check the frontier,
/// the stored-node proofs and the verifiers against.
private func referenceRoot(_ leaves: ArraySlice<MerkleHash>) -> MerkleHash {
    if leaves.isEmpty { return Merkle.emptyRoot }
    if leaves.count == 1 { return leaves.first! }
    let k = Int(Merkle.split(UInt64(leaves.count)))
    let s = leaves.startIndex
    return Merkle.nodeHash(referenceRoot(leaves[s ..< s + k]), referenceRoot(leaves[(s + k)...]))
}

private func leaves(_ n: Int) -> [MerkleHash] { (0 ..< n).map { Merkle.leafHash(Array("leaf \($0)".utf8)) } }

/// A tree whose nodes are stored as a log stores them (the frontier's output), for proofs from stored nodes.
private struct StoredTree {
    var nodes: [MerkleNodeID: MerkleHash] = [:]
    var frontier = MerkleFrontier()
    init(_ leaves: [MerkleHash]) { for l in leaves { for (id, h) in frontier.append(l) { nodes[id] = h } } }
    func lookup(_ ids: Set<MerkleNodeID>) -> [MerkleNodeID: MerkleHash] { nodes.filter { ids.contains($0.key) } }
}

@Suite struct MerkleTests {
    @Test func hashesFollowRFC9162() {
        // RFC 6962 / 9162: the empty tree is SHA-256 of nothing; a leaf is SHA-256(0x00 || data)
        #expect(Merkle.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Merkle.leafHash([]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let l = Merkle.leafHash([1]), r = Merkle.leafHash([2])
        #expect(Merkle.nodeHash(l, r).bytes == Array(SHA256.hash(data: [1] + l.bytes + r.bytes)))
        #expect(Merkle.nodeHash(l, r) != Merkle.nodeHash(r, l))
    }

    @Test func frontierRootIsTheTreeHashForEverySize() {
        let all = leaves(70)
        var f = MerkleFrontier()
        #expect(f.root == Merkle.emptyRoot)
        for n in 1 ... 70 {
            f.append(all[n - 1])
            #expect(f.root == referenceRoot(all[0 ..< n]), "size \(n)")
            #expect(f.peaks.count == n.nonzeroBitCount)
        }
    }

    @Test func proofsFromStoredNodesVerifyAndAltersAreRejected() throws {
        let all = leaves(40)
        let tree = StoredTree(all)
        for n in 1 ... 40 {
            let root = referenceRoot(all[0 ..< n])
            for i in 0 ..< n {
                let proof = try Merkle.resolve(Merkle.inclusionPath(index: UInt64(i), size: UInt64(n)), lookup: tree.lookup)
                try Merkle.verifyInclusion(index: UInt64(i), size: UInt64(n), leafHash: all[i].bytes, proof: proof.map(\.bytes), root: root.bytes)
                #expect(proof.count <= 64 - UInt64(n).leadingZeroBitCount)
                // the same proof for the neighbouring leaf, or against another root, fails
                #expect(throws: GovernanceError.self) {
                    try Merkle.verifyInclusion(index: UInt64(i), size: UInt64(n), leafHash: all[(i + 1) % 40].bytes, proof: proof.map(\.bytes), root: root.bytes)
                }
            }
            for m in 1 ... n {
                let proof = try Merkle.resolve(Merkle.consistencyPath(size1: UInt64(m), size2: UInt64(n)), lookup: tree.lookup)
                try Merkle.verifyConsistency(size1: UInt64(m), size2: UInt64(n), proof: proof.map(\.bytes), root1: referenceRoot(all[0 ..< m]).bytes, root2: root.bytes)
                var wrong = referenceRoot(all[0 ..< m]).bytes
                wrong[5] ^= 1
                #expect(throws: GovernanceError.self) {
                    try Merkle.verifyConsistency(size1: UInt64(m), size2: UInt64(n), proof: proof.map(\.bytes), root1: wrong, root2: root.bytes)
                }
            }
        }
    }

    @Test func aProofReadsLogarithmicallyManyNodes() throws {
        // a log of 10 million entries: the nodes a proof needs, not the leaves
        let n: UInt64 = 10_000_000
        for i: UInt64 in [0, 1, 4_999_999, 9_999_998, 9_999_999] {
            let ids = Set(Merkle.inclusionPath(index: i, size: n).flatMap { Merkle.nodes(covering: $0) })
            #expect(ids.count <= 2 * 24, "entry \(i): \(ids.count) nodes")
        }
        #expect(Set(Merkle.consistencyPath(size1: 3_333_333, size2: n).flatMap { Merkle.nodes(covering: $0) }).count <= 2 * 24)
    }

    @Test func constantTimeEqualComparesContentAndLength() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(constantTimeEqual([UInt8](), [UInt8]()))
    }
}

/// The transparency-dev/merkle test vectors in `shared/data/merkle-test-vectors`: every happy path verifies, every
/// `wantErr` case is rejected.
@Suite struct MerkleVectorTests {
    static let folder = SharedFolder.data("merkle-test-vectors")
    static let present = SharedFolder.has("data/merkle-test-vectors")
    static let reason: Comment = "skipped: the Merkle test vectors data/merkle-test-vectors are missing (put ../shared beside the package or set TWINBANK_SHARED)"

    static func files(_ kind: String) -> [String] {
        let root = folder.appendingPathComponent(kind)
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted().map { kind + "/" + $0 }
    }

    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent(relative))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
    static func bytes(_ v: Any?) -> [UInt8] { (v as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? [] }
    static func proof(_ v: Any?) -> [[UInt8]] { (v as? [String] ?? []).map { bytes($0) } }
    static func size(_ v: Any?) -> UInt64 { (v as? NSNumber)?.uint64Value ?? 0 }

    @Test(.enabled(if: present, reason))
    func everyVectorIsThere() {
        #expect(Self.files("inclusion").count >= 90)
        #expect(Self.files("consistency").count >= 90)
    }

    @Test(.enabled(if: present, reason), arguments: files("inclusion"))
    func inclusion(_ file: String) throws {
        let v = try Self.json(file)
        let wantErr = v["wantErr"] as? Bool ?? false
        let run = {
            try Merkle.verifyInclusion(index: Self.size(v["leafIdx"]), size: Self.size(v["treeSize"]), leafHash: Self.bytes(v["leafHash"]),
                                       proof: Self.proof(v["proof"]), root: Self.bytes(v["root"]))
        }
        if wantErr {
            #expect(throws: GovernanceError.self, "\(file) must be rejected") { try run() }
        } else {
            #expect(throws: Never.self, "\(file) must verify") { try run() }
        }
    }

    @Test(.enabled(if: present, reason), arguments: files("consistency"))
    func consistency(_ file: String) throws {
        let v = try Self.json(file)
        let wantErr = v["wantErr"] as? Bool ?? false
        let run = {
            try Merkle.verifyConsistency(size1: Self.size(v["size1"]), size2: Self.size(v["size2"]), proof: Self.proof(v["proof"]),
                                         root1: Self.bytes(v["root1"]), root2: Self.bytes(v["root2"]))
        }
        if wantErr {
            #expect(throws: GovernanceError.self, "\(file) must be rejected") { try run() }
        } else {
            #expect(throws: Never.self, "\(file) must verify") { try run() }
        }
    }
}
