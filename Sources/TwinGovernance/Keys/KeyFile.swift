import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A secret key kept in a file outside the bank, with owner-only permissions.
///
/// Rules (the audit signing key and the pseudonym key follow the same ones):
/// - a missing key is created on first use (``loadOrCreate(generate:)``): its folder with mode 0700, the file
///   with mode 0600, written whole and flushed before it is used; an existing file is never overwritten;
/// - an existing key file whose mode gives group or others any access is refused, as is a file of the wrong size,
///   a symbolic link or something that is not a regular file (``GovernanceError`` `invalidKey`, naming the path);
/// - errors name the path and the problem, never the key's bytes.
public struct KeyFile: Sendable, Hashable {
    /// Where the key lives.
    public let path: String
    /// How many bytes the key has.
    public let byteCount: Int

    public init(path: String, byteCount: Int) {
        self.path = path; self.byteCount = byteCount
    }

    /// The key file beside a bank file: `<bank>.keys/<name>`.
    public static func besideBank(_ bankPath: String, name: String, byteCount: Int) -> KeyFile {
        KeyFile(path: bankPath + ".keys/" + name, byteCount: byteCount)
    }

    /// Whether a file (or anything) exists at ``path``.
    public var exists: Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Reads the key.
    /// - Throws: ``GovernanceError`` `invalidKey` when it is missing, not a regular file, readable or writable by
    ///   group or others, unreadable, or not ``byteCount`` bytes.
    public func load() throws -> [UInt8] {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw GovernanceError(.invalidKey, "no key file at '\(path)'", value: path)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw GovernanceError(.invalidKey, "the key file '\(path)' is not a regular file (a link, a folder or a device): refused", value: path)
        }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw GovernanceError(.invalidKey, "the key file '\(path)' has mode \(String(mode, radix: 8)): group or others may access it, so it is refused; restrict it with `chmod 600 \(path)` (and consider the key exposed)", value: path)
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else {
            throw GovernanceError(.invalidKey, "cannot read the key file '\(path)': \(String(cString: strerror(errno)))", value: path)
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: byteCount + 1)
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 { throw GovernanceError(.invalidKey, "cannot read the key file '\(path)': \(String(cString: strerror(errno)))", value: path) }
            if n == 0 { break }
            total += n
        }
        guard total == byteCount else {
            throw GovernanceError(.invalidKey, "the key file '\(path)' has \(total > byteCount ? "more than \(byteCount)" : "\(total)") bytes, not \(byteCount)", value: path)
        }
        return Array(bytes.prefix(byteCount))
    }

    /// Reads the key, creating it with `generate()` (which must return ``byteCount`` random bytes) when no file
    /// exists. Returns the key and whether it was created now.
    /// - Throws: ``GovernanceError`` `invalidKey` as ``load()``, or when the folder or file cannot be created.
    public func loadOrCreate(generate: () -> [UInt8]) throws -> (key: [UInt8], created: Bool) {
        if exists { return (try load(), false) }
        let key = generate()
        precondition(key.count == byteCount, "the key generator returned \(key.count) bytes, not \(byteCount)")
        try KeyFile.createFolder(of: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return (try load(), false) }  // another process created it first
            throw GovernanceError(.invalidKey, "cannot create the key file '\(path)': \(String(cString: strerror(errno)))", value: path)
        }
        var ok = fchmod(fd, 0o600) == 0  // whatever the umask
        ok = ok && key.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } == key.count
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw GovernanceError(.invalidKey, "cannot write the key file '\(path)': \(reason)", value: path)
        }
        return (key, true)
    }

    /// Writes a public (non-secret) companion file, such as a public key, atomically beside the key, mode 0644.
    /// An existing file with the same content is left alone; one with other content is refused.
    /// - Throws: ``GovernanceError`` `invalidKey` when it cannot be written or differs.
    public static func writePublic(_ text: String, to path: String) throws {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            guard existing == text else {
                throw GovernanceError(.invalidKey, "'\(path)' exists with another content: it does not belong to this key; move it away", value: path)
            }
            return
        }
        try createFolder(of: path)
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            chmod(path, 0o644)
        } catch {
            throw GovernanceError(.invalidKey, "cannot write '\(path)': \(error.localizedDescription)", value: path)
        }
    }

    /// Creates the folder of `path` (mode 0700) when missing.
    static func createFolder(of path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw GovernanceError(.invalidKey, "'\(dir)' is not a folder: cannot keep keys there", value: dir) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(dir, 0o700)
        } catch {
            throw GovernanceError(.invalidKey, "cannot create the key folder '\(dir)': \(error.localizedDescription)", value: dir)
        }
    }
}
