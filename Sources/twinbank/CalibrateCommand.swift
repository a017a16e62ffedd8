import TwinCalibration
import ArgumentParser
import Foundation
import TwinSync

/// `twinbank calibrate --petab PROBLEM.yaml`: fits a PEtab problem's parameters and prints them with the
/// objective. Wiring only: parsing, then `TwinSync.PEtabCalibration`.
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibrate a model's parameters to data (PEtab problem): multi-start bounded least squares / maximum likelihood.",
        discussion: """
        Example:
          twinbank calibrate --petab ../shared/data/petab/Perelson_Science1996/Perelson_Science1996.yaml --json
        """
    )

    @Option(help: "The PEtab problem file (YAML).")
    var petab: String

    @Option(help: "Number of Latin-hypercube starts inside the bounds (besides the nominal values and --start).")
    var starts: Int = 10

    @Option(help: "Seed of the start design.")
    var seed: UInt64 = 1

    @Option(parsing: .upToNextOption, help: "A start as ID=VALUE pairs on the linear scale (e.g. c=1 delta=1).")
    var start: [String] = []

    @Option(help: "Most integrator steps per simulation; trial points needing more are rejected (raise for stiff models).")
    var maxSteps: Int = 5_000

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let url = URL(fileURLWithPath: petab)
        let calibration = try PEtabCalibration.load(yaml: url, maxSteps: maxSteps)
        var options = PEtabCalibration.Options()
        options.starts = starts
        options.seed = seed
        if !start.isEmpty {
            var assignments: [String: Double] = [:]
            for pair in start {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let v = Double(parts[1]) else {
                    throw ValidationError("--start expects ID=VALUE pairs; got '\(pair)'.")
                }
                assignments[parts[0]] = v
            }
            options.additionalStarts = [try calibration.start(from: assignments)]
        }
        let result = try calibration.fit(options: options)
        print(json ? result.json(problemFile: url.path, seed: seed) : result.summary)
    }
}
