import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Temporary folders for tests that write files (banks, bundles, PEtab tables, command output).
///
/// Every folder lives under one root per test process, `<tmp>/twinbank-tests-<pid>`, which is removed when the
/// process exits normally. Roots left by processes that no longer run (a crashed or killed test run) are removed
/// when the next process creates its own. A test that wants its files gone sooner uses ``withDirectory(_:_:)``.
public enum TemporaryFiles {
    private static let prefix = "twinbank-tests-"

    /// Created on first use; registered for removal at exit.
    private static let root: URL = {
        let tmp = FileManager.default.temporaryDirectory
        sweepAbandonedRoots(in: tmp)
        let url = tmp.appendingPathComponent(prefix + String(getpid()))
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { TemporaryFiles.removeRoot() }
        return url
    }()

    private static func removeRoot() { try? FileManager.default.removeItem(at: root) }

    /// Removes `twinbank-tests-<pid>` folders whose process is gone.
    private static func sweepAbandonedRoots(in tmp: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
    }

    /// A new, empty folder named `<label>-<uuid>` under the process's root.
    public static func directory(_ label: String = "tmp") throws -> URL {
        let url = root.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The path of a file called `name` (not created) in a new folder.
    public static func path(_ name: String, label: String = "tmp") throws -> String {
        try directory(label).appendingPathComponent(name).path
    }

    /// Runs `body` with a new folder and removes the folder when `body` returns or throws.
    public static func withDirectory<T>(_ label: String = "tmp", _ body: (URL) throws -> T) throws -> T {
        let url = try directory(label)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    /// Runs `body` with a new folder and removes the folder when `body` returns or throws.
    public static func withDirectory<T>(_ label: String = "tmp", _ body: (URL) async throws -> T) async throws -> T {
        let url = try directory(label)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url)
    }
}
