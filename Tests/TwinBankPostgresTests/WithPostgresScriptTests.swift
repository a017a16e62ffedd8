import Foundation
import Testing
import TwinTesting
#if canImport(Glibc)
import Glibc
#endif

/// `Scripts/with-postgres` itself: the command's exit status passes through, the URL is exported, nothing is left
/// behind, and without server binaries the command runs with the reason instead of the URL.
@Suite struct WithPostgresScriptTests {
    static let script = SharedFolder.packageRoot.appendingPathComponent("Scripts/with-postgres").path

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the script with `arguments` and the test process's environment changed by `environment` (nil removes).
    static func run(_ arguments: [String], environment: [String: String?]) throws -> Run {
        let folder = try TemporaryFiles.directory("with-postgres-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// A new short folder under /tmp (the server's unix socket path must stay under 107 bytes), for TMPDIR.
    static func shortTemporaryFolder() throws -> String {
        var template = Array("/tmp/wpg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        chmod(made, 0o755)  // the server's user must reach it when the tests run as root
        return String(cString: made)
    }

    @Test func withoutServerBinariesRunsTheCommandWithTheReason() throws {
        let run = try Self.run(
            ["sh", "-c", "echo \"url=${TWINBANK_POSTGRES_URL-unset}\"; echo \"skip=$TWINBANK_POSTGRES_SKIP\"; exit 7"],
            environment: ["TWINBANK_POSTGRES_BIN": "/nonexistent", "TWINBANK_POSTGRES_URL": "postgres://x@127.0.0.1:1/y"])
        #expect(run.status == 7)
        let reason = "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in TWINBANK_POSTGRES_BIN=/nonexistent"
        #expect(run.stderr == "with-postgres: skipped: \(reason)\n")
        #expect(run.stdout == "url=unset\nskip=\(reason)\n")
    }

    @Test func refusesABadPortNamingIt() throws {
        let run = try Self.run(["true"], environment: ["TWINBANK_POSTGRES_PORT": "54x"])
        // Without binaries the script skips before it looks at the port; with them it refuses the port.
        if run.stderr.hasPrefix("with-postgres: skipped:") { #expect(run.status == 0); return }
        #expect(run.status == 125)
        #expect(run.stderr.contains("TWINBANK_POSTGRES_PORT is not a port number: '54x'"))
    }

    // The binaries are there when this run got a server from the script.
    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func startsAServerForTheCommandAndRemovesItEvenWhenTheCommandFails() throws {
        let tmp = try Self.shortTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let run = try Self.run(
            ["sh", "-c", "echo \"$TWINBANK_POSTGRES_URL\"; ls -d \"$TMPDIR\"/with-postgres.*/data; exit 3"],
            environment: ["TMPDIR": tmp, "TWINBANK_POSTGRES_SKIP": "stale", "TWINBANK_POSTGRES_BIN": nil, "TWINBANK_POSTGRES_PORT": nil])
        #expect(run.status == 3, "stderr: \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let url = try #require(lines.first)
        #expect(url.range(of: #"^postgres://postgres@127\.0\.0\.1:[0-9]+/twinbank$"#, options: .regularExpression) != nil, "url: \(url)")
        #expect(url != PostgresTestServer.url)  // its own server, not the test run's
        #expect(lines.last?.hasPrefix(tmp + "/with-postgres.") == true)
        // Stopped and removed: the folder it made is gone and nothing listens on the port any more.
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [])
        let port = try PostgresTestServer.endpoint(parsing: url).port
        #expect(!Self.accepts(port: port))
    }

    /// True when something accepts a TCP connection on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
