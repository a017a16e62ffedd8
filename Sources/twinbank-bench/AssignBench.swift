import ArgumentParser
import Foundation
import TwinPopulation

/// `twinbank-bench assign`: hospital assignment (issue 24 item 5) side by side with
/// `../shared/anchors/hospital_alloc_baseline.py` (OR-tools SimpleMinCostFlow). The anchor draws the instance and
/// writes it with --save-hospitals/--save-patients/--save-solution; our solver then solves the same files. Both
/// times are the solve only (OR-tools' `solve()`; ours from the parsed instance, cost matrix included); the
/// optimal costs must be equal to the cent.
struct AssignBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Hospital assignment, 2,000 patients x 50 hospitals: exact min-cost flow vs OR-tools (same optimal cost, solve times and ratio)."
    )

    @Option(help: "Patients.") var patients = 2000
    @Option(help: "Hospitals.") var hospitals = 50
    @Option(help: "Seed of the anchor's instance.") var seed = 1
    @Option(help: "Repetitions of our solve (the median is reported).") var repetitions = 21

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "The shared folder holding anchors/.") var shared = "../shared"

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("twinbank-bench-assign-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = dir.appendingPathComponent("H.json").path, p = dir.appendingPathComponent("P.json").path
        let s = dir.appendingPathComponent("S.json").path
        let args = ["\(shared)/anchors/hospital_alloc_baseline.py", "--patients", "\(patients)", "--hospitals", "\(hospitals)",
                    "--seed", "\(seed)", "--no-lsa", "--save-hospitals", h, "--save-patients", p, "--save-solution", s]
        print("anchor: \(python) \(args.joined(separator: " "))")
        let (status, text) = try Measure.run(python, args)
        guard status == 0 else { throw ValidationError("the anchor failed (\(status)): \(text.suffix(600))") }
        print(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        guard let match = text.firstMatch(of: /solve only ([0-9.]+) s/), let anchorSolve = Double(match.1) else {
            throw ValidationError("no 'solve only X s' in the anchor's output")
        }
        let solution = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s))) as? [String: Any]
        guard let anchorCost = (solution?["cost"] as? NSNumber)?.doubleValue else { throw ValidationError("no cost in \(s)") }

        let network = try HospitalNetwork(contentsOf: h)
        let list = try network.patients(contentsOf: p)
        var times: [Double] = []
        var result: Assignment?
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            let r = try AssignmentSolver.solve(network, patients: list)
            times.append(Measure.seconds(ContinuousClock.now - start))
            result = r
        }
        let ours = result!
        let median = Measure.median(times)
        let anchorCents = Int64((anchorCost * 100).rounded())
        let equal = anchorCents == ours.costCents
        print(String(format: "ours: cost %@, unplaced %d by severity %@; solve median %.4f s (min %.4f s) over %d runs",
                     ours.costText, ours.overflow.count, "\(ours.overflowBySeverity)", median, times.min()!, repetitions))
        print(String(format: "OR-tools: cost %.2f; solve %.4f s", anchorCost, anchorSolve))
        print(String(format: "same optimal cost: %@; ratio OR-tools / ours (solve): %.1fx; target <= 0.05 s: %@",
                     equal ? "yes" : "NO", anchorSolve / median, median <= 0.05 ? "met" : "NOT met"))
        // Arrivals: the last 10 % of the patients added to the solved first 90 % (warm start), against the full solve.
        let cut = list.count - max(1, list.count / 10)
        var warmTimes: [Double] = []
        var warmCost: Int64 = 0
        for _ in 0..<repetitions {
            var solver = AssignmentSolver(network: network)
            try solver.add(Array(list.prefix(cut)))
            let start = ContinuousClock.now
            try solver.add(Array(list.dropFirst(cut)))
            warmTimes.append(Measure.seconds(ContinuousClock.now - start))
            warmCost = solver.assignment.costCents
        }
        print(String(format: "arrivals: %d patients added to a solved instance of %d, re-optimised warm in %.4f s (median), cost %@ (%@ the full solve's)",
                     list.count - cut, cut, Measure.median(warmTimes), Double(warmCost) / 100 == ours.cost ? ours.costText : "\(Double(warmCost) / 100)",
                     warmCost == ours.costCents ? "equal to" : "NOT equal to"))
        if !equal || warmCost != ours.costCents { throw ExitCode.failure }
    }
}
