import TwinCalibration
import ArgumentParser
import Foundation
import TwinSync

/// `twinbank petab`: work with PEtab problems. Wiring only: parsing, then `TwinCalibration.PEtabLikelihood`.
struct PEtabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petab",
        abstract: "Work with PEtab (v1) parameter-estimation problems.",
        subcommands: [Evaluate.self]
    )

    /// `twinbank petab evaluate --petab PROBLEM.yaml [--set ID=VALUE]... [--json]`
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a PEtab problem's log-likelihood (PEtab v1, normalisation included) at its nominal parameters.",
            discussion: """
            Every simulation condition is simulated (after its pre-equilibration, if any); measurements at time inf
            are taken at steady state. A problem using a feature not supported is refused naming it. Values given
            with --set are on the linear scale.
            Example:
              twinbank petab evaluate --petab ../shared/data/petab/Perelson_Science1996/Perelson_Science1996.yaml --json
            """
        )

        @Option(help: "The PEtab problem file (YAML).")
        var petab: String

        @Option(name: .customLong("set"), help: "Replace a parameter's nominal value: ID=VALUE on the linear scale (repeatable).")
        var assignments: [String] = []

        @Flag(help: "Print JSON (logLikelihood, conditions, measurements, seconds).")
        var json = false

        func run() throws {
            var overrides: [String: Double] = [:]
            for pair in assignments {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let v = Double(parts[1]), v.isFinite else {
                    throw ValidationError("--set expects ID=VALUE with a finite number; got '\(pair)'.")
                }
                guard overrides[parts[0]] == nil else { throw ValidationError("--set gives '\(parts[0])' twice.") }
                overrides[parts[0]] = v
            }
            let likelihood = try PEtabLikelihood.load(yaml: URL(fileURLWithPath: petab))
            let e = try likelihood.evaluate(overrides: overrides)
            if json {
                let doc: [String: Any] = ["logLikelihood": e.logLikelihood, "conditions": e.conditions,
                                          "measurements": e.measurements, "seconds": e.seconds]
                let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("logLikelihood \(e.logLikelihood)")
                print("\(e.conditions) condition(s), \(e.measurements) measurement(s), \(String(format: "%.3f", e.seconds)) s")
            }
        }
    }
}
