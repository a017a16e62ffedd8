/// Where long work (a simulation over a long horizon, an SBML suite, an import of many files) says how far it is.
///
/// Libraries call ``update(done:of:)`` as work finishes; they never print. The command gives a terminal
/// implementation that draws on standard error only when it is a terminal, only after the work has taken about two
/// seconds, and never under `--json`; tests and library callers pass ``SilentProgress`` (the default everywhere).
/// Implementations must be cheap to call often (throttle inside) and safe to call from several tasks at once.
public protocol ProgressReporter: Sendable {
    /// `done` units of `total` (nil when unknown) are finished; `unit` names them ("cases", "files", "hours").
    func update(done: Int, of total: Int?, unit: String)
    /// The work is over (finished or failed): clear whatever was drawn.
    func finish()
}

/// A reporter that reports nothing.
public struct SilentProgress: ProgressReporter {
    public init() {}
    public func update(done: Int, of total: Int?, unit: String) {}
    public func finish() {}
}
