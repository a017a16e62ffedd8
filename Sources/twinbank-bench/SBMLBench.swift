import ArgumentParser
import Foundation
import TwinCore
import TwinSBML

/// `twinbank-bench sbml`: issue 4's benchmarks, side by side with libRoadRunner when `--anchor` is given.
///
/// (a) load (parse + compile) Chen_MSB2009 (500 species, 827 reactions) vs libRoadRunner's cold load;
/// (b) simulate Chen_MSB2009 0..9000 with 1001 output points at libRoadRunner's default tolerances
///     (relative 1e-6, absolute 1e-12), and the largest deviation of both trajectories from a tight
///     reference (ours at relative 1e-8, absolute 1e-14, which agrees with libRoadRunner at those
///     tolerances to 5e-6) and from each other;
/// (c) one simulation of Perelson_Science1996 at its 16 measurement times with parameter overrides, as a
///     PEtab calibration runs it (µs per run), vs libRoadRunner's `resetAll` + set + `simulate`;
/// (d) the whole SBML Test Suite semantic run (`sbml suite`), total time vs libRoadRunner's ~0.13 s/case.
///
/// The anchor figures come from `anchors/rr_bench_large.py` when it runs through (it stops at the first
/// of its models missing from `data/petab`); the trajectory, the Perelson per-run cost and, failing the
/// script, the Chen figures come from an inline libRoadRunner script following the same procedure
/// (cold load with forced recompilation, median of 3; `resetAll` then `simulate`, median of 5).
struct SBMLBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbml",
        abstract: "SBML benchmarks: Chen_MSB2009 load and simulation, Perelson per-run cost, whole test-suite run (vs libRoadRunner)."
    )

    @Option(help: "Repetitions of each timing (the median is reported).")
    var repetitions = 5

    @Flag(help: "Run libRoadRunner in the same session and print ratios and trajectory deviations.")
    var anchor = false

    @Flag(help: "Skip the whole-suite run.")
    var skipSuite = false

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "The shared folder holding anchors/ and data/.")
    var shared = ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared"

    /// The libRoadRunner side: Chen cold load and simulation (writing the trajectory), Perelson per run.
    static let anchorScript = #"""
import sys, time, statistics
import numpy as np, roadrunner as rr
chen, out, perelson, ptimes = sys.argv[1], sys.argv[2], sys.argv[3], [float(x) for x in sys.argv[4].split(',')]
sbml = open(chen).read()
cold = []
for i in range(3):
    rr.Config.setValue(rr.Config.LOADSBMLOPTIONS_RECOMPILE, True)
    t0 = time.perf_counter(); r = rr.RoadRunner(sbml); cold.append(time.perf_counter() - t0)
rr.Config.setValue(rr.Config.LOADSBMLOPTIONS_RECOMPILE, False)
r = rr.RoadRunner(sbml)
sel = ['time'] + list(r.model.getFloatingSpeciesIds())
r.timeCourseSelections = sel
sims = []
for i in range(5):
    r.resetAll(); t0 = time.perf_counter(); res = r.simulate(0, 9000, 1001); sims.append(time.perf_counter() - t0)
np.savetxt(out, res, delimiter=',', header=','.join(sel), comments='')
print(f"chen cold_load_s {statistics.median(cold):.4f} simulate_s {statistics.median(sims):.4f} rtol {r.integrator.getValue('relative_tolerance')} atol {r.integrator.getValue('absolute_tolerance')}")
p = rr.RoadRunner(perelson); p.timeCourseSelections = ['time', 'V']
grid = np.unique(np.concatenate([[0.0], ptimes]))
n = 2000
t0 = time.perf_counter()
for i in range(n):
    p.resetAll(); p['c'] = 2.06 * (1 + 0.001 * (i % 7)); p['delta'] = 0.53; p.simulate(times=grid)
print(f"perelson us_per_run {(time.perf_counter() - t0) / n * 1e6:.1f}")
"""#

    func run() async throws {
        let petab = "\(shared)/data/petab"
        let path = "\(petab)/Chen_MSB2009/model_Chen_MSB2009.xml"
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
            parses.append(Measure.seconds(t1 - t0))
            loads.append(Measure.seconds(t2 - t0))
        }
        guard let model = compiled else { return }
        print(String(format: "(a) Chen_MSB2009 load (parse + compile): median %.1f ms (parse %.1f ms) of %d; %d states",
                     Measure.median(loads) * 1e3, Measure.median(parses) * 1e3, loads.count, model.dimension))

        // (b) Chen simulation.
        let times = (0...1000).map { 9000.0 * Double($0) / 1000 }
        let species = model.model.species.map { OutputVariable(id: $0.id, concentration: true) }
        var sims: [Double] = []
        var simError: String?
        var trajectory: [[Double]] = []
        for _ in 0..<max(1, min(5, repetitions)) {
            var options = SimulationOptions()
            options.relativeTolerance = 1e-6
            options.absoluteTolerance = 1e-12
            options.timeLimit = 120
            let t0 = ContinuousClock.now
            do {
                trajectory = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: species)
                sims.append(Measure.seconds(ContinuousClock.now - t0))
            } catch {
                simError = error.description
                break
            }
        }
        var reference: [[Double]] = []
        if let simError { print("(b) Chen_MSB2009 simulate 0..9000 x1001: failed: \(simError)") } else {
            print(String(format: "(b) Chen_MSB2009 simulate 0..9000 x1001 points (rtol 1e-6, atol 1e-12): median %.1f ms of %d", Measure.median(sims) * 1e3, sims.count))
            var tight = SimulationOptions()
            tight.relativeTolerance = 1e-8
            tight.absoluteTolerance = 1e-14
            if let r = try? Simulator(model: model, options: tight).simulate(outputTimes: times, outputs: species) {
                reference = r
                print(String(format: "    deviation from a tight reference (ours at rtol 1e-8, atol 1e-14): %@",
                             Self.deviation(trajectory, reference)))
            }
        }

        // (c) Perelson per run.
        let perelsonPath = "\(petab)/Perelson_Science1996/model_Perelson_Science1996.xml"
        let perelsonTimes = Self.measurementTimes("\(petab)/Perelson_Science1996/measurementData_Perelson_Science1996.tsv")
        var perelsonMicroseconds: [Double] = []
        if let perelson = try? ModelCompiler.compile(try SBMLReader.read(path: perelsonPath)), !perelsonTimes.isEmpty {
            for (rtol, atol) in [(1e-8, 1e-6), (1e-6, 1e-12)] {
                var options = SimulationOptions()
                options.relativeTolerance = rtol
                options.absoluteTolerance = atol
                options.maxSteps = 5_000
                var perRun: [Double] = []
                for _ in 0..<max(1, min(5, repetitions)) {
                    let runs = 2_000
                    let t0 = ContinuousClock.now
                    for i in 0..<runs {
                        options.overrides = ["c": 2.06 * (1 + 0.001 * Double(i % 7)), "delta": 0.53]
                        _ = try Simulator(model: perelson, options: options).simulate(outputTimes: perelsonTimes, outputs: [OutputVariable(id: "V")])
                    }
                    perRun.append(Measure.seconds(ContinuousClock.now - t0) / Double(runs) * 1e6)
                }
                perelsonMicroseconds.append(Measure.median(perRun))
                print(String(format: "(c) Perelson_Science1996 simulate at its %d measurement times with overrides (rtol %g, atol %g): %.1f us per run",
                             perelsonTimes.count, rtol, atol, Measure.median(perRun)))
            }
        } else {
            print("(c) Perelson_Science1996: model or measurements not found under \(petab)")
        }

        if anchor { try runAnchor(petab: petab, chen: path, load: Measure.median(loads), simulate: sims.isEmpty ? nil : Measure.median(sims), speciesIDs: species.map(\.id),
                                  trajectory: trajectory, reference: reference, perelsonTimes: perelsonTimes,
                                  perelsonMicroseconds: perelsonMicroseconds) }

        if !skipSuite {
            let dir = "\(shared)/data/sbml-test-suite/cases"
            let t0 = ContinuousClock.now
            let outcomes = try await TestSuiteRunner.runSuite(directory: dir, concurrency: ProcessInfo.processInfo.activeProcessorCount)
            let wall = Measure.seconds(ContinuousClock.now - t0)
            let cases = outcomes.filter { $0.status != .skipped }
            let pass = cases.filter { $0.status == .pass }.count
            let sum = cases.map(\.seconds).reduce(0, +)
            print(String(format: "(d) SBML test suite: %d of %d time-course cases pass; wall %.2f s, sum of case times %.2f s (%.1f ms/case)",
                         pass, cases.count, wall, sum, sum / Double(max(1, cases.count)) * 1e3))
            print(String(format: "    libRoadRunner 2.10 reference: ~0.13 s/case -> %.0f s for %d cases; ratio %.1fx",
                         0.13 * Double(cases.count), cases.count, 0.13 * Double(cases.count) / max(sum, 1e-9)))
        }
    }

    func runAnchor(petab: String, chen: String, load: Double, simulate: Double?, speciesIDs: [String], trajectory: [[Double]], reference: [[Double]],
                   perelsonTimes: [Double], perelsonMicroseconds: [Double]) throws {
        // The anchor script first.
        let (scriptOut, _) = try runPython(["\(shared)/anchors/rr_bench_large.py", petab])
        let lines = scriptOut.split(separator: "\n").map(String.init)
        var coldLoad: Double?
        var simulateSeconds: Double?
        if let i = lines.firstIndex(where: { $0.hasPrefix("Chen_MSB2009") }) {
            for l in lines[i..<min(lines.count, i + 3)] { print("    rr_bench_large.py: \(l)") }
            coldLoad = number(after: "wall", in: lines[min(lines.count - 1, i + 1)])
            if i + 2 < lines.count, let ms = number(after: "wall", in: lines[i + 2]) { simulateSeconds = ms / 1e3 }
        } else {
            let reason = lines.last(where: { $0.contains("Error") }) ?? "no Chen_MSB2009 lines"
            print("    rr_bench_large.py did not reach Chen_MSB2009 (\(reason)); using the inline libRoadRunner script")
        }
        // The inline script: trajectory, Perelson, and the Chen figures if the script did not give them.
        let csv = NSTemporaryDirectory() + "twinbank-rr-chen-\(ProcessInfo.processInfo.processIdentifier).csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let perelson = "\(petab)/Perelson_Science1996/model_Perelson_Science1996.xml"
        let (inline, status) = try runPython(["-c", Self.anchorScript, chen, csv, perelson,
                                              perelsonTimes.map { "\($0)" }.joined(separator: ",")])
        guard status == 0 else {
            print("    inline libRoadRunner script failed: \(inline.suffix(600))")
            return
        }
        for l in inline.split(separator: "\n") where l.hasPrefix("chen") || l.hasPrefix("perelson") { print("    libRoadRunner: \(l)") }
        if coldLoad == nil { coldLoad = number(after: "cold_load_s", in: inline) }
        if simulateSeconds == nil { simulateSeconds = number(after: "simulate_s", in: inline) }
        if let coldLoad { print(String(format: "    load: libRoadRunner %.3f s vs ours %.1f ms -> %.0fx faster", coldLoad, load * 1e3, coldLoad / load)) }
        if let simulateSeconds, let simulate {
            print(String(format: "    simulate: libRoadRunner %.1f ms vs ours %.1f ms -> ratio %.2fx (ours faster if > 1)",
                         simulateSeconds * 1e3, simulate * 1e3, simulateSeconds / simulate))
        }
        if let text = try? String(contentsOfFile: csv, encoding: .utf8), let table = try? CSVTable(text: text, name: csv, separator: UInt8(ascii: ",")) {
            // Columns by name: libRoadRunner reports its floating species in its own order.
            let names = Array(table.header.dropFirst())
            let rows = table.rows.map { $0.compactMap { Double($0) } }
            let theirs = rows.map { Array($0.dropFirst()) }
            var column: [String: Int] = [:]
            for (k, s) in speciesIDs.enumerated() { column[s] = k }
            let map = names.compactMap { column[$0] }
            func pick(_ m: [[Double]]) -> [[Double]] { m.map { row in map.map { row[$0] } } }
            if theirs.count == trajectory.count, map.count == names.count, theirs.first?.count == names.count {
                print("    trajectory, ours vs libRoadRunner (both rtol 1e-6): \(Self.deviation(pick(trajectory), theirs))")
                if !reference.isEmpty {
                    print("    trajectory, libRoadRunner vs the tight reference: \(Self.deviation(theirs, pick(reference)))")
                }
            } else {
                print("    libRoadRunner trajectory has \(theirs.count) rows x \(theirs.first?.count ?? 0) columns; not comparable")
            }
        }
        if let rrPerelson = number(after: "us_per_run", in: inline), let ours = perelsonMicroseconds.first {
            print(String(format: "    Perelson per run: libRoadRunner %.1f us vs ours %.1f us (rtol 1e-8) -> %.1fx", rrPerelson, ours, rrPerelson / ours))
        }
    }

    func runPython(_ arguments: [String]) throws -> (String, Int32) {
        let (status, output) = try Measure.run(python, arguments)
        return (output, status)
    }

    /// The largest relative deviation `|a - b| / max(|b|, 1e-12 · max|b|)` over all points and columns,
    /// with where it occurs, and the 99.9th percentile.
    static func deviation(_ a: [[Double]], _ b: [[Double]]) -> String {
        var scale = 0.0
        for row in b { for x in row { scale = max(scale, abs(x)) } }
        let floor = max(1e-12 * scale, 1e-300)
        var all: [Double] = []
        var worst = 0.0, at = (0, 0)
        for i in 0..<min(a.count, b.count) {
            for j in 0..<min(a[i].count, b[i].count) {
                let e = abs(a[i][j] - b[i][j]) / max(abs(b[i][j]), floor)
                all.append(e)
                if e > worst { worst = e; at = (i, j) }
            }
        }
        all.sort()
        let p999 = all.isEmpty ? 0 : all[min(all.count - 1, Int(Double(all.count) * 0.999))]
        return String(format: "max relative %.2e (row %d, column %d), 99.9th percentile %.1e (absolute floor %.1e)", worst, at.0, at.1, p999, floor)
    }

    static func measurementTimes(_ path: String) -> [Double] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let table = try? CSVTable(text: text, name: path, separator: UInt8(ascii: "\t")), let column = table.column("time") else { return [] }
        return Array(Set(table.numbers(column))).sorted()
    }

    func number(after marker: String, in text: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        let tail = text[r.upperBound...].drop { $0 == " " }
        return Double(String(tail.prefix { "0123456789.e-+".contains($0) }))
    }
}
