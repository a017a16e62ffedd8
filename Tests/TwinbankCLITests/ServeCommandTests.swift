import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `twinbank serve` as a person runs it: the built binary on a free loopback port, a token from
/// `twinbank token issue`, an open and an authorised request, then SIGTERM and a clean exit.
@Suite struct ServeCommandTests {
    /// Reads the server's standard output until it says where it listens (or ends).
    final class Listening: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        private let done = DispatchSemaphore(value: 0)

        init(_ pipe: Pipe) {
            pipe.fileHandleForReading.readabilityHandler = { [self] h in
                let data = h.availableData
                lock.lock(); defer { lock.unlock() }
                if data.isEmpty { h.readabilityHandler = nil; done.signal(); return }
                text += String(decoding: data, as: UTF8.self)
                if text.contains("\n") && port != nil { done.signal() }
            }
        }

        var port: Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("serving on http://127.0.0.1:") }) else { return nil }
            return Int(line.split(separator: ":").last ?? "")
        }

        /// The port, once the server said it (a bound on the wait so a broken server fails the test, not hangs it).
        func wait() -> Int? {
            _ = done.wait(timeout: .now() + 120)
            lock.lock(); defer { lock.unlock() }
            return port
        }
    }

    static func get(_ url: String, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func servesOnAFreePortAndStopsCleanlyOnSIGTERM() async throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = CommandRunner()
        try runner.ok(["init", "--bank", bank, "--actor", "alice"])
        try runner.ok(["twin", "create", "--id", "p1", "--kind", "person", "--bank", bank, "--actor", "alice"])
        // two hours: on a loaded machine the suite's synchronous tests can hold the test's awaits for many minutes
        // (a 10-minute token once expired before the authorised request was made)
        let token = try runner.ok(["token", "issue", "--bank", bank, "--role", "admin", "--subject", "alice", "--expires", "2h"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)
        let keyMode = try FileManager.default.attributesOfItem(atPath: bank + ".keys/token-signing.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = ["serve", "--bank", bank, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let listening = Listening(out)
        try process.run()
        defer { if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) } }
        let port = try #require(listening.wait(), "the server never said where it listens")

        let (healthStatus, health) = try await Self.get("http://127.0.0.1:\(port)/health")
        #expect(healthStatus == 200)
        #expect(health.contains("\"ok\""))
        let (noTokenStatus, _) = try await Self.get("http://127.0.0.1:\(port)/api/v1/twins")
        #expect(noTokenStatus == 401)
        let (twinsStatus, twins) = try await Self.get("http://127.0.0.1:\(port)/api/v1/twins", token: token)
        #expect(twinsStatus == 200)
        #expect(twins.contains("\"p1\""), "\(twins)")

        // a second server on the same port is refused, saying why
        let second = try runner.run(["serve", "--bank", bank, "--port", String(port)])
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use"), "\(second.stderr)")

        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    /// `--webhook-secret-file`: refused without webhooks; with them, the file is made (32 bytes, 0600) when the server
    /// starts, and a file others may read is refused, naming it.
    @Test func theWebhookSecretFileIsMadePrivateAndChecked() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = CommandRunner()
        try runner.ok(["init", "--bank", bank, "--actor", "alice"])
        try runner.ok(["twin", "create", "--id", "p1", "--kind", "person", "--bank", bank, "--actor", "alice"])
        let secret = dir.appendingPathComponent("hooks/secret.key").path
        let alone = try runner.run(["serve", "--bank", bank, "--port", "0", "--webhook-secret-file", secret])
        #expect(alone.status != 0)
        #expect(alone.stderr.contains("--webhook-secret-file"), "\(alone.stderr)")
        #expect(!FileManager.default.fileExists(atPath: secret))

        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = ["serve", "--bank", bank, "--port", "0", "--watch", "p1", "--webhook", "http://127.0.0.1:9/hook", "--webhook-secret-file", secret]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let listening = Listening(out)
        try process.run()
        defer { if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) } }
        _ = try #require(listening.wait(), "the server never said where it listens")
        let attributes = try FileManager.default.attributesOfItem(atPath: secret)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        let open = try runner.run(["serve", "--bank", bank, "--port", "0", "--watch", "p1", "--webhook", "http://127.0.0.1:9/hook", "--webhook-secret-file", secret])
        #expect(open.status != 0)
        #expect(open.stderr.contains(secret), "\(open.stderr)")
    }

    @Test func tokenIssueRefusesBadArgumentsNamingThem() throws {
        let (dir, bank) = try CommandRunner.temporaryBank()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = CommandRunner()
        try runner.ok(["init", "--bank", bank, "--actor", "alice"])
        for (arguments, option) in [(["--role", "overlord", "--subject", "a"], "--role"),
                                    (["--role", "admin", "--subject", "a", "--scope", "everything"], "--scope"),
                                    (["--role", "admin", "--subject", "a", "--expires", "400d"], "--expires"),
                                    (["--role", "admin", "--subject", ""], "--subject")] {
            let out = try runner.run(["token", "issue", "--bank", bank] + arguments)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(option), "\(arguments): \(out.stderr)")
            #expect(out.stdout.isEmpty)
        }
        // no bank, no key folder: neither token issue nor serve leaves one behind
        let missing = dir.appendingPathComponent("missing.sqlite").path
        for arguments in [["token", "issue", "--bank", missing, "--role", "admin", "--subject", "a"], ["serve", "--bank", missing, "--port", "0"]] {
            let out = try runner.run(arguments)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(missing), "\(arguments): \(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: missing + ".keys"), "\(arguments)")
        }
        // a key others may read is refused, naming it
        let key = dir.appendingPathComponent("open.key").path
        _ = FileManager.default.createFile(atPath: key, contents: Data(repeating: 1, count: 32), attributes: [.posixPermissions: 0o644])
        let out = try runner.run(["token", "issue", "--token-key", key, "--role", "admin", "--subject", "a"])
        #expect(out.status != 0)
        #expect(out.stderr.contains(key))
    }
}
