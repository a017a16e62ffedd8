import ArgumentParser
import Foundation
import TwinCore
import TwinModels
import TwinSimulation

/// `twinbank-bench models`: the model-library benchmarks of issue 3, side by side with the anchors.
///
/// (a) simglucose adult#001, 24 h, meals 7:45,12:70,18:80, basal-bolus controller (vs `simglucose_ref.py`).
/// (b) the APAP liver model (Reddyhoff 2015), 0-24 h, 1000 output points, Rodas5 rtol 1e-10 (vs
///     `apap_reddyhoff.py`, libRoadRunner CVODE rtol 1e-8).
/// (c) 1,000 forks of one glucose twin, 24 h each, basal insulin scaled 0.5x..1.5x, over all cores.
/// (d) with `--all-patients`: every one of the 30 patients against simglucose, worst BG RMS.
struct ModelsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Model library benchmarks: simglucose day, APAP liver (vs libRoadRunner), 1,000 glucose forks."
    )

    @Option(help: "Repetitions of each of our timings (the median is reported).")
    var repetitions = 5

    @Option(help: "Number of glucose forks.")
    var forks = 1000

    @Flag(help: "Run the anchors (simglucose_ref.py, apap_reddyhoff.py) in the same session and print ratios.")
    var anchor = false

    @Option(help: "Stiff method for the liver model: rodas5 or rodas5P.")
    var liverMethod = "rodas5P"

    @Option(help: "Integration of the forks: continuous (restart only where inputs change) or simglucose (restart every minute).")
    var forkIntegration = "continuous"

    @Flag(help: "Compare all 30 virtual patients with simglucose (slow: ~8 s of simglucose each).")
    var allPatients = false

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "The shared folder holding anchors/ and data/.")
    var shared = ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared"

    func run() async throws {
        print("twinbank-bench models  (cores: \(ProcessInfo.processInfo.activeProcessorCount))\n")
        try await glucoseDay()
        try liver()
        try await glucoseForks()
        if allPatients { try allPatientsCheck() }
    }

    func runAnchor(_ args: [String]) throws -> String {
        let (status, out) = try Measure.run(python, args)
        guard status == 0 else { throw ValidationError("anchor \(args.first ?? "") failed: \(out.suffix(400))") }
        return out
    }

    /// The first number after `marker` in `text`.
    func number(after marker: String, in text: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        let tail = text[r.upperBound...].drop { $0 == " " }
        return Double(String(tail.prefix { "0123456789.e-+".contains($0) }))
    }

    func glucoseDay() async throws {
        print("(a) simglucose adult#001, 24 h, meals 7:45,12:70,18:80, basal-bolus, Insulet pump (1440 one-minute DOPRI5 restarts)")
        let scenario = GlucoseScenario(patient: try VirtualPatient.named("adult#001"),
                                       meals: try MealPlan(parsing: "7:45,12:70,18:80"), hours: 24)
        var times: [Double] = []
        var trace: GlucoseTrace?
        for _ in 0..<max(1, repetitions) * 10 {
            let start = ContinuousClock.now
            trace = try GlucoseSimulator.run(scenario)
            times.append(Measure.seconds(ContinuousClock.now - start))
        }
        let ours = Measure.median(times)
        if let trace {
            print(String(format: "    ours: median %.3f ms (min %.3f ms) of %d; mean BG %.2f mg/dL, insulin %.2f U",
                         ours * 1e3, times.min()! * 1e3, times.count, trace.meanBG, trace.totalInsulin))
        }
        if anchor {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-simglucose-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: out) }
            let text = try runAnchor(["\(shared)/anchors/simglucose_ref.py", out.path, "--repeats", "1"])
            if let wall = number(after: "wall", in: text) {
                print(String(format: "    simglucose 0.2.11 (scipy dopri5): wall %.2f s  ->  ratio %.0fx faster", wall, wall / ours))
            } else {
                print("    simglucose: could not read its time from: \(text)")
            }
        }
        print("")
    }

    func liver() throws {
        guard let method = SolverMethod(rawValue: liverMethod), method == .rodas5 || method == .rodas5P else {
            throw ValidationError("unknown --liver-method '\(liverMethod)'; expected rodas5 or rodas5P")
        }
        var options = LiverSimulator.defaultOptions
        options.method = method
        print("(b) APAP liver (Reddyhoff 2015, 6 states incl. NAC), 0-24 h, 1000 points, \(method.displayName) rtol 1e-10, analytic Jacobian")
        let scenario = LiverScenario(hours: 24, points: 1000)
        var times: [Double] = []
        var solution: Solution?
        for _ in 0..<max(1, repetitions) * 20 {
            let start = ContinuousClock.now
            solution = try LiverSimulator.run(scenario, options: options)
            times.append(Measure.seconds(ContinuousClock.now - start))
        }
        let ours = Measure.median(times)
        if let solution {
            let gsh = solution.series(named: "GSH")!
            print(String(format: "    ours: median %.3f ms (min %.3f ms) of %d; steps %d; GSH min/GSH0 %.4f",
                         ours * 1e3, times.min()! * 1e3, times.count, solution.statistics.acceptedSteps, gsh.min()! / gsh[0]))
        }
        if anchor {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-apap-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let text = try runAnchor(["\(shared)/anchors/apap_reddyhoff.py", dir.path])
            if let ms = number(after: "median of 7 wall", in: text) {
                print(String(format: "    libRoadRunner CVODE (rtol 1e-8): wall %.3f ms  ->  ratio %.2fx (ours faster if > 1)", ms, ms / 1e3 / ours))
            } else {
                print("    anchor output: \(text)")
            }
        }
        print("")
    }

    func glucoseForks() async throws {
        let n = max(1, forks)
        guard let integration = GlucoseIntegration(rawValue: forkIntegration) else {
            throw ValidationError("unknown --fork-integration '\(forkIntegration)'; expected continuous or simglucose")
        }
        print("(c) \(n) forks of adult#001, 24 h each, basal insulin x0.5..x1.5, meals 7:45,12:70,18:80, all cores, \(integration.rawValue) integration")
        let patient = try VirtualPatient.named("adult#001")
        let meals = try MealPlan(parsing: "7:45,12:70,18:80")
        let scenarios = (0..<n).map { i in
            GlucoseScenario(patient: patient, meals: meals, hours: 24,
                            controller: BasalBolusController(basalScale: 0.5 + Double(i) / Double(max(1, n - 1))),
                            integration: integration)
        }
        var times: [Double] = []
        var cpus: [Double] = []
        var traces: [GlucoseTrace] = []
        for _ in 0..<max(1, min(repetitions, 3)) {
            let start = ContinuousClock.now
            let cpu0 = Measure.cpuSeconds()
            traces = try await GlucoseSimulator.runMany(scenarios)
            times.append(Measure.seconds(ContinuousClock.now - start))
            cpus.append(Measure.cpuSeconds() - cpu0)
        }
        let best = traces.max { $0.timeInRange < $1.timeInRange }!
        let bestIndex = traces.firstIndex(of: best)!
        print(String(format: "    ours: wall median %.3f s (min %.3f s) of %d, CPU %.3f s (both cores); target < 1 s wall",
                     Measure.median(times), times.min()!, times.count, Measure.median(cpus)))
        // Accuracy of the forks against simglucose-exact integration, on 10 of them.
        var worst = 0.0
        for i in stride(from: 0, to: n, by: max(1, n / 10)) {
            var exact = scenarios[i]
            exact.integration = .simglucose
            let reference = try GlucoseSimulator.run(exact)
            worst = max(worst, zip(reference.bg, traces[i].bg).map { abs($0 - $1) }.max() ?? 0)
        }
        print(String(format: "    max |BG - BG(simglucose integration)| over 10 sampled forks: %.2e mg/dL", worst))
        print(String(format: "    best plan: basal x%.3f, time in range %.1f %%, mean BG %.1f mg/dL",
                     scenarios[bestIndex].controller!.basalScale, best.timeInRange * 100, best.meanBG))
        print("")
    }

    func allPatientsCheck() throws {
        print("(d) all 30 patients vs simglucose 0.2.11, 24 h, three meal plans in turn")
        let plans = ["7:45,12:70,18:80", "6.5:60,12:40,19.25:90,22:20", "8:80,13:30,18:100"]
        var worst = (rms: 0.0, name: "")
        for (i, patient) in VirtualPatient.all.enumerated() {
            let plan = plans[i % plans.count]
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-all-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: out) }
            _ = try runAnchor(["\(shared)/anchors/simglucose_ref.py", out.path, "--patient", patient.name, "--meals", plan, "--repeats", "1"])
            let text = try String(contentsOf: out, encoding: .utf8)
            let reference = try CSVTable(text: text, name: out.lastPathComponent, separator: UInt8(ascii: ",")).numbers(1)
            let trace = try GlucoseSimulator.run(GlucoseScenario(patient: patient, meals: try MealPlan(parsing: plan), hours: 24))
            guard reference.count == trace.bg.count else {
                print("    \(patient.name): row count differs (\(reference.count) vs \(trace.bg.count))")
                worst = (.infinity, patient.name)
                continue
            }
            let rms = (zip(reference, trace.bg).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(reference.count)).squareRoot()
            print(String(format: "    %-15@ meals %-28@ BG RMS %.2e mg/dL", patient.name as NSString, plan as NSString, rms))
            if rms > worst.rms { worst = (rms, patient.name) }
        }
        print(String(format: "    worst: %@ with %.2e mg/dL RMS (requirement < 1)", worst.name as NSString, worst.rms))
    }
}
