import Foundation
import Testing
import TwinTesting

/// Runs the built `twinbank` executable as a subprocess, as a user would.
///
/// The binary is found next to the test bundle (SwiftPM puts executables and the test bundle in the same
/// build folder), so the suite never rebuilds anything.
struct CommandRunner {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var executable: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // On Linux the test runner is `<build>/<Package>PackageTests.xctest`; on macOS it is inside a bundle.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("twinbank")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("twinbank")
    }

    /// A fresh temporary folder (under the test process's root, see `TemporaryFiles`); callers remove it when done.
    static func temporaryDirectory() throws -> URL { try TemporaryFiles.directory("cli") }

    /// A fresh temporary folder and the path of a bank file in it (not created); the caller removes the folder.
    static func temporaryBank() throws -> (directory: URL, bank: String) {
        let dir = try temporaryDirectory()
        return (dir, dir.appendingPathComponent("bank.sqlite").path)
    }

    /// Runs a command that must succeed: records an issue naming the command and its error output when it
    /// exits non-zero. Returns its standard output.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let out = try run(arguments)
        #expect(out.status == 0, "\(arguments.joined(separator: " ")) failed: \(out.stderr)", sourceLocation: sourceLocation)
        return out.stdout
    }

    var environment: [String: String] = [:]
    var workingDirectory: URL?

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "TWINBANK_BANK")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a large output never blocks the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = errPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension CommandRunner {
    /// A command left running (a `watch`): what it printed so far, and a graceful stop.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let out = Pipe(), err = Pipe()
        private let lock = NSLock()
        private var data = Data()

        fileprivate init(_ arguments: [String], environment: [String: String]) throws {
            process.executableURL = CommandRunner.executable
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "TWINBANK_BANK")
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardOutput = out
            process.standardError = err
            out.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                guard let self, !chunk.isEmpty else { return }
                self.lock.withLock { self.data.append(chunk) }
            }
            try process.run()
        }

        /// Standard output so far.
        var printed: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

        /// Waits until `printed` satisfies `condition`, at most `seconds`; returns whether it did.
        func wait(seconds: Double, until condition: (String) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while !condition(printed) {
                if Date() > deadline || !process.isRunning { return condition(printed) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return true
        }

        /// Sends SIGTERM and waits for the exit; returns the status and standard error.
        func stop() -> (status: Int32, reason: Process.TerminationReason, stderr: String) {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            out.fileHandleForReading.readabilityHandler = nil
            return (process.terminationStatus, process.terminationReason,
                    String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    /// Starts a command and leaves it running (stop it with ``Running/stop()``).
    func start(_ arguments: [String]) throws -> Running { try Running(arguments, environment: environment) }
}
