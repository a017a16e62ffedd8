import Dispatch
import Foundation
import Synchronization
import TwinCore

/// The terminal side of ``ProgressReporter``: one line on standard error, redrawn at most four times a second,
/// shown only when standard error is a terminal, not under `--json`, and only once the work has taken two
/// seconds (short work prints nothing; the environment variable `TWINBANK_PROGRESS_AFTER` sets another delay in
/// seconds, `0` to show it at once). Safe from several tasks at once.
final class TerminalProgress: ProgressReporter {
    private struct State {
        var drawn = false
        var lastDraw: ContinuousClock.Instant? = nil
    }
    private let label: String
    private let start = ContinuousClock.now
    private let delay: Duration
    private let state = Mutex(State())

    private init(label: String, delay: Duration) {
        self.label = label
        self.delay = delay
    }

    /// The delay before the line appears: `TWINBANK_PROGRESS_AFTER` (seconds, ≥ 0) if set and readable, else 2 s.
    static var delay: Duration {
        if let text = ProcessInfo.processInfo.environment["TWINBANK_PROGRESS_AFTER"], let seconds = Double(text),
           seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64(seconds * 1000))
        }
        return .seconds(2)
    }

    /// A reporter for `label`: the terminal one when standard error is a terminal and `json` is off, else silent.
    static func make(_ label: String, json: Bool) -> any ProgressReporter {
        guard !json, isatty(STDERR_FILENO) == 1 else { return SilentProgress() }
        let reporter = TerminalProgress(label: label, delay: delay)
        Interruption.progress.withLock { $0 = reporter }
        return reporter
    }

    func update(done: Int, of total: Int?, unit: String) {
        let now = ContinuousClock.now
        let elapsed = now - start
        guard elapsed >= delay else { return }
        let line: String? = state.withLock { s in
            if let last = s.lastDraw, now - last < .milliseconds(250) { return nil }
            s.lastDraw = now
            s.drawn = true
            let seconds = Int(elapsed.components.seconds)
            if let total, total > 0 {
                return "\(label): \(done) of \(total) \(unit) (\(done * 100 / total) %), \(seconds) s"
            }
            return "\(label): \(done) \(unit), \(seconds) s"
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    func finish() {
        let drawn = state.withLock { s in
            defer { s.drawn = false }
            return s.drawn
        }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// What a command says when interrupted (SIGINT, SIGTERM): it removes the temporary files of writes in progress
/// (``OutputFile/removeTemporaryFiles()``), clears the progress line, prints "interrupted: WHAT" on standard error
/// and exits with status 130. A bank transaction in progress is rolled back by SQLite (nothing of it is kept).
enum Interruption {
    /// Commands whose only writes happen at the end say this.
    static let nothingWritten = "nothing written"

    fileprivate static let progress = Mutex<TerminalProgress?>(nil)
    /// Kept alive for the process; written once, from the command's own thread, before any signal can arrive.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Files to remove on an interruption besides ``OutputFile``'s temporary files (a restore's temporary bank).
    static let temporaries = Mutex<[String]>([])

    /// Installs the handler; `consequence` says honestly what an interruption leaves (e.g. ``nothingWritten``).
    static func install(_ consequence: String) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                OutputFile.removeTemporaryFiles()
                for path in temporaries.withLock({ $0 }) { unlink(path) }
                progress.withLock { $0?.finish() }
                FileHandle.standardError.write(Data("\ninterrupted: \(consequence)\n".utf8))
                Foundation.exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}
