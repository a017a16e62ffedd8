import ArgumentParser
import Foundation
import TwinCalibration

/// `twinbank-bench petab`: issue 25 item 8's survey of the whole PEtab benchmark collection.
///
/// For every problem file of the collection (`../shared/data/petab-benchmark-collection/`, one folder per
/// problem, Zhao_QuantBiol2020 with two problem files): load, evaluate the PEtab v1 log-likelihood at the
/// nominal parameters (``PEtabLikelihood``, relative 1e-10 / absolute 1e-12), and say whether it matched
/// AMICI's reference (`amici-reference-llh.tsv`, within 0.1 %), was refused naming a feature, or failed; the
/// time per evaluation is the median of `--repetitions` evaluations (one only when the first takes longer
/// than `--slow-seconds`).
///
/// `--anchor` adds libRoadRunner's time per simulation of each problem's model (inline script below,
/// following `anchors/rr_bench_large.py`: default CVODE tolerances, `resetAll` then `simulate(0, T, 1000)`
/// with T the problem's last finite measurement time, median of 5; `rr_bench_large.py` itself covers only
/// five of these models). `--calibrate` runs `PEtabCalibration` on the small problems (at most
/// `--calibrate-max-parameters` estimated parameters, no pre-equilibration, steady state or Laplace noise) from
/// Latin-hypercube starts without the nominal start, and says whether the best fit reaches the
/// log-likelihood at the nominal (published) parameters; problems whose evaluation takes longer than
/// `--calibrate-max-seconds` are listed as not tried.
struct PEtabBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petab",
        abstract: "PEtab benchmark collection: every problem evaluated or refused by name, time per evaluation (vs libRoadRunner), calibration of the small ones."
    )

    @Option(help: "The collection folder (one subfolder per problem).")
    var collection = (ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared") + "/data/petab-benchmark-collection"

    @Option(parsing: .upToNextOption, help: "Only these problems (folder names).")
    var problems: [String] = []

    @Option(help: "Evaluations timed per problem (the median is reported).")
    var repetitions = 3

    @Option(help: "A problem whose first evaluation takes longer than this many seconds is timed once.")
    var slowSeconds = 5.0

    @Flag(help: "Time libRoadRunner's simulation of each problem's model (needs the anchors' Python).")
    var anchor = false

    @Flag(help: "Calibrate the small problems and compare with the nominal log-likelihood.")
    var calibrate = false

    @Option(help: "Calibrate problems with at most this many estimated parameters.")
    var calibrateMaxParameters = 15

    @Option(help: "Latin-hypercube starts per calibration.")
    var starts = 5

    @Option(help: "Calibrate only problems whose evaluation took at most this many seconds (a fit takes hundreds of evaluations).")
    var calibrateMaxSeconds = 0.5

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    /// The libRoadRunner side: per "name|model.xml|T" argument, cold load (median of 3, forced recompilation)
    /// and `simulate(0, T, 1000)` after `resetAll` (median of 5), or the failure.
    static let anchorScript = #"""
import sys, time, statistics
import roadrunner as rr
for arg in sys.argv[1:]:
    name, path, tend = arg.split('|'); tend = float(tend)
    try:
        sbml = open(path).read()
        cold = []
        for i in range(3):
            rr.Config.setValue(rr.Config.LOADSBMLOPTIONS_RECOMPILE, True)
            t0 = time.perf_counter(); r = rr.RoadRunner(sbml); cold.append(time.perf_counter() - t0)
        rr.Config.setValue(rr.Config.LOADSBMLOPTIONS_RECOMPILE, False)
        sims = []
        for i in range(5):
            r.resetAll(); t0 = time.perf_counter(); r.simulate(0, tend, 1000); sims.append(time.perf_counter() - t0)
        print(f"RR {name} load_s {statistics.median(cold):.4f} simulate_s {statistics.median(sims):.6f}", flush=True)
    except Exception as e:
        print(f"RR {name} failed {str(e)[:160].replace(chr(10), ' ')}", flush=True)
"""#

    func run() throws {
        let dir = URL(fileURLWithPath: collection)
        let c = PEtabCollection(directory: dir)
        let references = c.amiciReferences()
        var files = try c.problemFiles()
        if !problems.isEmpty { files = files.filter { problems.contains($0.deletingLastPathComponent().lastPathComponent) } }
        say("twinbank-bench petab  (\(files.count) problem files in \(collection); \(references.count) AMICI references; cores: \(ProcessInfo.processInfo.activeProcessorCount))")
        say("tolerances: ours relative 1e-10, absolute 1e-12; match = within 0.1 % of AMICI\n")
        var entries: [PEtabCollection.Entry] = []
        for file in files {
            let folder = file.deletingLastPathComponent().lastPathComponent
            let label = Self.label(file, folder: folder)
            let entry = PEtabCollection.evaluate(file: file, name: folder, reference: references[folder],
                                                 repetitions: repetitions, slowSeconds: slowSeconds)
            entries.append(entry)
            say(Self.line(label, entry))
        }
        say("")
        var counts: [String: Int] = [:]
        for e in entries { counts[Self.kind(e.outcome), default: 0] += 1 }
        say("summary: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        if anchor { try runAnchor(files: files, entries: entries) }
        if calibrate { runCalibrations(files: files, entries: entries) }
    }

    static func label(_ file: URL, folder: String) -> String {
        let base = file.deletingPathExtension().lastPathComponent
        return base == folder || base == "problem" ? folder : "\(folder)/\(file.lastPathComponent)"
    }

    static func kind(_ o: PEtabCollection.Outcome) -> String {
        switch o {
        case .matched: "matched AMICI"
        case .mismatch: "MISMATCH"
        case .unverifiedReference(_, _, let agrees): agrees ? "matched simulatedData (AMICI reference unverified)" : "MISMATCH simulatedData"
        case .evaluated: "evaluated (no AMICI reference)"
        case .refused: "refused"
        case .error: "ERROR"
        }
    }

    static func line(_ label: String, _ e: PEtabCollection.Entry) -> String {
        let llh = e.logLikelihood.map { String(format: "llh %.10g", $0) } ?? ""
        let time = e.secondsPerEvaluation.map { String(format: "%.4f s/evaluation", $0) } ?? ""
        let shape = e.conditions.map { "\($0) conditions, \(e.measurements ?? 0) measurements" } ?? ""
        var detail = ""
        switch e.outcome {
        case .matched(let r), .mismatch(let r):
            detail = String(format: "AMICI %.10g, relative %.1e", r, abs((e.logLikelihood ?? .nan) - r) / abs(r))
        case .unverifiedReference(let r, let sim, _):
            detail = String(format: "simulatedData %.10g; AMICI's unchecked reference %.10g", sim ?? .nan, r)
        case .refused(let m), .error(let m):
            detail = String(m.prefix(220))
        case .evaluated(let sim):
            if let sim { detail = String(format: "collection's simulatedData gives %.10g (relative %.1e)", sim, abs((e.logLikelihood ?? .nan) - sim) / abs(sim)) }
        }
        return "\(label.padding(toLength: 40, withPad: " ", startingAt: 0)) \(kind(e.outcome)): " + [llh, detail, time, shape].filter { !$0.isEmpty }.joined(separator: "; ")
    }

    func runAnchor(files: [URL], entries: [PEtabCollection.Entry]) throws {
        say("\nlibRoadRunner per simulation (default tolerances, simulate(0, T, 1000), median of 5) beside ours per evaluation (all conditions, tight tolerances):")
        var args: [String] = []
        var evaluated: [String: PEtabCollection.Entry] = [:]
        for (file, e) in zip(files, entries) {
            guard let p = try? PEtabProblem.load(yaml: file) else { continue }
            let tEnd = p.measurements.map(\.time).filter(\.isFinite).max() ?? 0
            let label = Self.label(file, folder: e.name)
            args.append("\(label)|\(p.modelFile.path)|\(tEnd > 0 ? tEnd : 100)")
            evaluated[label] = e
        }
        let (status, output) = try Measure.run(python, ["-c", Self.anchorScript] + args)
        if status != 0 { say("    libRoadRunner script exited \(status): \(output.suffix(400))") }
        for line in output.split(separator: "\n") where line.hasPrefix("RR ") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count >= 3 else { continue }
            let name = parts[1]
            let ours = evaluated[name]?.secondsPerEvaluation
            let perCondition = ours.map { $0 / Double(max(1, evaluated[name]?.conditions ?? 1)) }
            if parts[2] == "failed" {
                say("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) libRoadRunner failed: \(parts.dropFirst(3).joined(separator: " "))")
                continue
            }
            let load = Double(parts[3]) ?? .nan, sim = Double(parts[5]) ?? .nan
            say("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) " + String(format: "libRoadRunner load %.3f s, simulate %.2f ms", load, sim * 1e3)
                  + (perCondition.map { String(format: "; ours %.2f ms per condition (%.2f ms per evaluation) -> ratio %.2fx (ours faster if > 1)", $0 * 1e3, ours! * 1e3, sim / $0) } ?? "; ours: not evaluated"))
        }
    }

    func runCalibrations(files: [URL], entries: [PEtabCollection.Entry]) {
        say("\ncalibration of the small problems (\(starts) Latin-hypercube starts, no nominal start, at most \(calibrateMaxParameters) estimated parameters, at most \(calibrateMaxSeconds) s per evaluation; reaches = best log-likelihood at least the nominal one less max(0.5, 0.1 %)):")
        for (file, e) in zip(files, entries) {
            let label = Self.label(file, folder: e.name)
            guard let target = e.logLikelihood else { continue }
            let t0 = Date()
            do {
                let problem = try PEtabProblem.load(yaml: file)
                guard problem.estimated.count <= calibrateMaxParameters else { continue }
                if let t = e.secondsPerEvaluation, t > calibrateMaxSeconds {
                    say("  \(label.padding(toLength: 40, withPad: " ", startingAt: 0)) " + String(format: "not tried: %.2f s per evaluation (over --calibrate-max-seconds %.2f)", t, calibrateMaxSeconds))
                    continue
                }
                let calibration = try PEtabCalibration.load(yaml: file, maxSteps: 100_000)
                var options = PEtabCalibration.Options()
                options.starts = starts
                options.includeNominalStart = false
                let r = try calibration.fit(options: options)
                let llh = -r.negativeLogLikelihood
                let reached = llh >= target - max(0.5, 1e-3 * abs(target))
                say("  \(label.padding(toLength: 40, withPad: " ", startingAt: 0)) " + String(format: "%@: best llh %.6g vs nominal %.6g; %d of %d starts converged, %d failed; %.1f s",
                                                                               reached ? "reaches the nominal optimum" : "stops short", llh, target, r.startsConverged, r.startsRun, r.startsFailed, Date().timeIntervalSince(t0)))
            } catch let error as CalibrationError where error.code == .unsupported {
                say("  \(label.padding(toLength: 40, withPad: " ", startingAt: 0)) not calibrated: \(error.message.prefix(160))")
            } catch {
                say("  \(label.padding(toLength: 40, withPad: " ", startingAt: 0)) calibration failed: \(String(describing: error).prefix(160))")
            }
        }
    }

    /// Prints a line at once (unbuffered), so a long survey shows its progress through a pipe.
    func say(_ line: String = "") {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
