import ArgumentParser
import Foundation
import TwinSBML

/// `twinbank-bench sbml`: issue 4's benchmarks, side by side with libRoadRunner when `--anchor` is given.
///
/// (a) load (parse + compile) Chen_MSB2009 (500 species, 827 reactions) vs `rr_bench_large.py` cold load;
/// (b) simulate Chen_MSB2009 0..9000 with 1000 output points;
/// (c) the whole SBML Test Suite semantic run (`sbml suite`), total wall time vs libRoadRunner's ~0.13 s/case.
struct SBMLBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbml",
        abstract: "SBML benchmarks: Chen_MSB2009 load and simulation, whole test-suite run (vs libRoadRunner)."
    )

    @Option(help: "Repetitions of each timing (the median is reported).")
    var repetitions = 5

    @Flag(help: "Run the anchor (rr_bench_large.py) in the same session and print ratios.")
    var anchor = false

    @Flag(help: "Skip the whole-suite run.")
    var skipSuite = false

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "The shared folder holding anchors/ and data/.")
    var shared = ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared"

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    func run() async throws {
        let path = "\(shared)/data/petab/Chen_MSB2009/model_Chen_MSB2009.xml"
        print("twinbank-bench sbml  (cores: \(ProcessInfo.processInfo.activeProcessorCount))\n")
        var loads: [Double] = []
        var parses: [Double] = []
        var compiled: CompiledModel?
        for _ in 0..<max(1, repetitions) {
            let t0 = ContinuousClock.now
            let model = try SBMLReader.read(path: path)
            let t1 = ContinuousClock.now
            compiled = try ModelCompiler.compile(model)
            let t2 = ContinuousClock.now
            parses.append(Self.seconds(t1 - t0))
            loads.append(Self.seconds(t2 - t0))
        }
        guard let model = compiled else { return }
        print(String(format: "(a) Chen_MSB2009 load (parse + compile): median %.1f ms (parse %.1f ms) of %d; %d states",
                     median(loads) * 1e3, median(parses) * 1e3, loads.count, model.dimension))
        var sims: [Double] = []
        var simError: String?
        let times = (0...1000).map { 9000.0 * Double($0) / 1000 }
        for _ in 0..<max(1, min(3, repetitions)) {
            var options = SimulationOptions()
            options.relativeTolerance = 1e-6
            options.absoluteTolerance = 1e-12
            options.timeLimit = 120
            let t0 = ContinuousClock.now
            do {
                _ = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: [])
                sims.append(Self.seconds(ContinuousClock.now - t0))
            } catch {
                simError = error.description
                break
            }
        }
        if let simError { print("(b) Chen_MSB2009 simulate 0..9000 x1000: failed: \(simError)") } else {
            print(String(format: "(b) Chen_MSB2009 simulate 0..9000 x1000 points (rtol 1e-6): median %.1f ms of %d", median(sims) * 1e3, sims.count))
        }
        if anchor {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["\(shared)/anchors/rr_bench_large.py", "\(shared)/data/petab"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let out = String(decoding: data, as: UTF8.self)
            let lines = out.split(separator: "\n").map(String.init)
            if let i = lines.firstIndex(where: { $0.hasPrefix("Chen_MSB2009") }) {
                for l in lines[i..<min(lines.count, i + 3)] { print("    libRoadRunner: \(l)") }
                if let cold = number(after: "wall", in: lines[min(lines.count - 1, i + 1)]) {
                    print(String(format: "    load ratio: %.0fx faster", cold / median(loads)))
                }
                if i + 2 < lines.count, let ms = number(after: "wall", in: lines[i + 2]), !sims.isEmpty {
                    print(String(format: "    simulate ratio: %.2fx (ours faster if > 1)", ms / 1e3 / median(sims)))
                }
            } else {
                print("    anchor output: \(out.suffix(600))")
            }
        }
        if !skipSuite {
            let dir = "\(shared)/data/sbml-test-suite/cases"
            let t0 = ContinuousClock.now
            let outcomes = try await TestSuiteRunner.runSuite(directory: dir, concurrency: ProcessInfo.processInfo.activeProcessorCount)
            let wall = Self.seconds(ContinuousClock.now - t0)
            let cases = outcomes.filter { $0.status != .skipped }
            let pass = cases.filter { $0.status == .pass }.count
            let sum = cases.map(\.seconds).reduce(0, +)
            print(String(format: "(c) SBML test suite: %d of %d time-course cases pass; wall %.2f s, sum of case times %.2f s (%.1f ms/case)",
                         pass, cases.count, wall, sum, sum / Double(max(1, cases.count)) * 1e3))
            print(String(format: "    libRoadRunner 2.10 reference: ~0.13 s/case -> %.0f s for %d cases; ratio %.1fx",
                         0.13 * Double(cases.count), cases.count, 0.13 * Double(cases.count) / max(sum, 1e-9)))
        }
    }

    func number(after marker: String, in text: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        let tail = text[r.upperBound...].drop { $0 == " " }
        return Double(String(tail.prefix { "0123456789.e-+".contains($0) }))
    }
}
