import Crypto
import Foundation
import TwinCore

/// A signed statement of the audit log's state: its size, its Merkle root and when it was signed, with an
/// Ed25519 signature over ``signedMessage``.
public struct SignedTreeHead: Sendable, Hashable {
    public var size: UInt64
    public var root: MerkleHash
    public var time: Instant
    /// 64 bytes of Ed25519 signature.
    public var signature: [UInt8]

    public init(size: UInt64, root: MerkleHash, time: Instant, signature: [UInt8]) {
        self.size = size; self.root = root; self.time = time; self.signature = signature
    }

    /// The bytes signed: the UTF-8 text `twinbank-audit-head-v1\n<size>\n<root hex>\n<time in microseconds>\n`.
    public static func message(size: UInt64, root: MerkleHash, time: Instant) -> [UInt8] {
        Array("twinbank-audit-head-v1\n\(size)\n\(root.hex)\n\(time.microseconds)\n".utf8)
    }
    public var signedMessage: [UInt8] { Self.message(size: size, root: root, time: time) }

    /// Whether the signature is `publicKey`'s over ``signedMessage``.
    public func isSigned(by publicKey: AuditSigner.PublicKey) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey.bytes) else { return false }
        return key.isValidSignature(signature, for: signedMessage)
    }
}

/// The Ed25519 key pair that signs tree heads. The private key stays in its ``KeyFile`` outside the bank; the
/// public key is written beside it (`<key>.pub`, hex) so heads can be checked offline without the private key.
public struct AuditSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A public key: 32 bytes, written as 64 hex digits.
    public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
        public let bytes: [UInt8]
        public init?(bytes: [UInt8]) {
            guard bytes.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else { return nil }
            self.bytes = bytes
        }
        /// Reads the hex text of a `.pub` file.
        /// - Throws: ``GovernanceError`` `invalidKey` naming the path when missing or malformed.
        public init(file path: String) throws {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw GovernanceError(.invalidKey, "no public key file at '\(path)'", value: path)
            }
            guard let b = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), let k = PublicKey(bytes: b) else {
                throw GovernanceError(.invalidKey, "'\(path)' is not an Ed25519 public key (64 hex digits)", value: path)
            }
            self = k
        }
        public var hex: String { Hex.encode(bytes) }
        public var description: String { hex }
    }

    /// The private key's 32 bytes (kept as bytes: the key type is not `Sendable`); never printed.
    private let secret: [UInt8]
    public let publicKey: PublicKey

    /// A signer for a key held in memory (tests, benchmarks).
    public init(privateKey: Curve25519.Signing.PrivateKey = .init()) {
        secret = Array(privateKey.rawRepresentation)
        publicKey = PublicKey(bytes: Array(privateKey.publicKey.rawRepresentation))!
    }

    /// The default key file of a bank: `<bank>.keys/audit-signing.key`.
    public static func defaultKeyFile(bank: String) -> KeyFile {
        KeyFile.besideBank(bank, name: "audit-signing.key", byteCount: 32)
    }

    /// The public key file beside a key file: `<key path>.pub`.
    public static func publicKeyPath(for keyFile: KeyFile) -> String { keyFile.path + ".pub" }

    /// Loads the signing key from `file`, creating it (and its `.pub`) on first use (``KeyFile`` rules).
    /// - Throws: ``GovernanceError`` `invalidKey` (the path, never the key).
    public init(keyFile file: KeyFile) throws {
        let (bytes, _) = try file.loadOrCreate { Array(Curve25519.Signing.PrivateKey().rawRepresentation) }
        guard let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
            throw GovernanceError(.invalidKey, "the key file '\(file.path)' does not hold an Ed25519 private key", value: file.path)
        }
        self.init(privateKey: k)
        try KeyFile.writePublic(publicKey.hex + "\n", to: Self.publicKeyPath(for: file))
    }

    /// Names the public key only: the private key never appears in descriptions, logs or errors.
    public var description: String { "AuditSigner(public key \(publicKey.hex))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["publicKey": publicKey]) }

    /// Signs the head of a tree of `size` leaves with `root` at `time`.
    public func sign(size: UInt64, root: MerkleHash, time: Instant) throws -> SignedTreeHead {
        let sig: Data
        do { sig = try Curve25519.Signing.PrivateKey(rawRepresentation: secret).signature(for: SignedTreeHead.message(size: size, root: root, time: time)) } catch {
            throw GovernanceError(.invalidKey, "cannot sign the audit tree head: \(error)")
        }
        return SignedTreeHead(size: size, root: root, time: time, signature: Array(sig))
    }
}
