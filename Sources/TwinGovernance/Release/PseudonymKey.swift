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

    /// Reads the key file at `path`, creating it (and its folder) with owner-only permissions when it does not exist.
    /// - Throws: ``GovernanceError`` `invalidKey` naming the path when the file is readable by others, of the wrong
    ///   size, not a regular file, or cannot be read or created.
    public static func loadOrCreate(at path: String) throws -> PseudonymKey {
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { throw fail(path, "cannot be read (\(String(cString: strerror(errno))))") }
            try create(at: path)
        }
        return try load(at: path)
    }

    /// Reads an existing key file (see ``loadOrCreate(at:)`` for what is refused).
    public static func load(at path: String) throws -> PseudonymKey {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw fail(path, "cannot be read (\(String(cString: strerror(errno))))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw fail(path, "is not a regular file") }
        guard st.st_mode & 0o077 == 0 else {
            throw fail(path, "is accessible by group or others (mode \(String(st.st_mode & 0o777, radix: 8))): make it owner-only (chmod 600)")
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { throw fail(path, "cannot be opened (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        let capacity = size + 1
        var buffer = [UInt8](repeating: 0, count: capacity)
        var got = 0
        while got < capacity {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, capacity - got) }
            if n < 0 { if errno == EINTR { continue }; throw fail(path, "cannot be read") }
            if n == 0 { break }
            got += n
        }
        guard got == size else { throw fail(path, "holds \(got == size + 1 ? "more than \(size)" : String(got)) bytes, not \(size)") }
        defer { for i in buffer.indices { buffer[i] = 0 } }
        return PseudonymKey(unchecked: Array(buffer[0..<size]), path: path)
    }

    private init(unchecked bytes: [UInt8], path: String) {
        key = bytes
        self.path = path
    }

    private static func fail(_ path: String, _ why: String) -> GovernanceError {
        GovernanceError(.invalidKey, "the pseudonym key file '\(path)' \(why)", value: path)
    }

    private static func create(at path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            var st = stat()
            if lstat(folder, &st) != 0 {
                guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
                    throw fail(path, "cannot be created: the folder '\(folder)' cannot be made (\(String(cString: strerror(errno))))")
                }
            }
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return }  // created meanwhile by another process: read that one
            throw fail(path, "cannot be created (\(String(cString: strerror(errno))))")
        }
        var ok = fchmod(fd, 0o600) == 0
        var written = 0
        while ok, written < size {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, size - written) }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            written += n
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(path)
            throw fail(path, "cannot be written")
        }
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

    /// Equality of two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// The path only, never the key.
    public var description: String { "PseudonymKey(\(path ?? "in memory"))" }
}
