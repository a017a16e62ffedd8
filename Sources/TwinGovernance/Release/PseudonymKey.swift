#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation

/// The secret key of the keyed pseudonyms of a release: HMAC-SHA256(key, identifier).
///
/// Promises:
/// - The key lives in a file outside the bank (``defaultPath(forBank:)``: `<bank>.keys/pseudonym.key`), 32 random
///   bytes from the system's secure generator, created on first use with owner-only permissions (file 0600, a
///   folder it creates 0700), exclusively (an existing file is never replaced).
/// - An existing key file readable or writable by group or others, of another size than 32 bytes, or not a
///   regular file is refused with ``GovernanceError/Code/invalidKey`` naming the path (never the key).
/// - The key never appears in an error, a description or a log: ``description`` prints only the path.
/// - The same key and identifier give the same pseudonym, so one person maps to one pseudonym across releases.
public struct PseudonymKey: Sendable, CustomStringConvertible {
    /// The key size in bytes.
    public static let size = 32
    private let key: [UInt8]
    /// Where the key was read from (nil for a key given in memory).
    public let path: String?

    /// A key from bytes (tests); `bytes` must be ``size`` long.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.size else {
            throw GovernanceError(.invalidKey, "a pseudonym key must be \(Self.size) bytes, not \(bytes.count)", value: String(bytes.count))
        }
        key = bytes
        path = nil
    }

    /// The default key file of a bank: `<bank>.keys/pseudonym.key`, beside the bank file.
    public static func defaultPath(forBank bank: String) -> String { bank + ".keys/pseudonym.key" }

    /// Reads the key file at `path`, creating it (and its folder) with owner-only permissions when it does not exist
    /// (``KeyFile``, the rules the audit signing key follows too).
    /// - Throws: ``GovernanceError`` `invalidKey` naming the path when the file is readable by others, of the wrong
    ///   size, not a regular file, or cannot be read or created.
    public static func loadOrCreate(at path: String) throws -> PseudonymKey {
        let (bytes, _) = try KeyFile(path: path, byteCount: size).loadOrCreate {
            var rng = SystemRandomNumberGenerator()
            return (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return PseudonymKey(unchecked: bytes, path: path)
    }

    /// Reads an existing key file (see ``loadOrCreate(at:)`` for what is refused).
    public static func load(at path: String) throws -> PseudonymKey {
        PseudonymKey(unchecked: try KeyFile(path: path, byteCount: size).load(), path: path)
    }

    private init(unchecked bytes: [UInt8], path: String) {
        key = bytes
        self.path = path
    }

    /// The pseudonym of an identifier: the first 16 bytes of HMAC-SHA256(key, `domain` + 0x00 + identifier), as 32
    /// lowercase hex digits. `domain` separates namespaces (a twin id and an MRN of the same text differ).
    public func pseudonym(_ identifier: String, domain: String = "id") -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(domain.utf8) + [0] + Array(identifier.utf8), using: SymmetricKey(data: key))
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `pseudonym` is the pseudonym of `identifier`, compared in constant time.
    public func verify(_ pseudonym: String, of identifier: String, domain: String = "id") -> Bool {
        Self.constantTimeEqual(Array(self.pseudonym(identifier, domain: domain).utf8), Array(pseudonym.utf8))
    }

    /// Equality of two byte strings in time that depends only on their lengths (TwinGovernance's ``constantTimeEqual(_:_:)``).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        TwinGovernance.constantTimeEqual(a, b)
    }

    /// The path only, never the key.
    public var description: String { "PseudonymKey(\(path ?? "in memory"))" }
}
