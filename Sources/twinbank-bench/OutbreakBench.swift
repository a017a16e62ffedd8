import ArgumentParser
import Foundation
import TwinPopulation

/// `twinbank-bench outbreak`: the outbreak benchmark of issue 24, side by side with Covasim in one run.
///
/// Ours: `twinbank outbreak`'s default scenario (the workload of `bench_covasim.py --full`) on N agents for D
/// days: population generation plus one run, CPU seconds of this process and its peak resident memory.
/// Anchor: `bench_covasim.py N D --full` as a child process: its own `cpu_sim` (Sim creation, init and run),
/// the child's total CPU and peak resident memory (getrusage of children). Prints both epidemics' headline
/// numbers and the CPU ratio. Build with -c release.
struct OutbreakBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbreak",
        abstract: "Outbreak ABM: our default scenario vs Covasim (bench_covasim.py --full), CPU and memory, with headline numbers."
    )

    @Option(help: "Agents.")
    var agents = 100_000

    @Option(help: "Days.")
    var days = 180

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    @Option(help: "Repetitions of our run (the median CPU time is reported; each repetition uses seed, seed+1, ...).")
    var repetitions = 3

    @Flag(help: "Skip the Covasim anchor.")
    var noAnchor = false

    @Option(help: "Python of the anchors' venv.")
    var python = ProcessInfo.processInfo.environment["TWINBANK_ANCHOR_PYTHON"]
        ?? NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "The shared folder holding anchors/ and data/.")
    var shared = ProcessInfo.processInfo.environment["TWINBANK_SHARED"] ?? "../shared"

    func run() throws {
        print("twinbank-bench outbreak  (\(agents) agents x \(days) days, cores: \(ProcessInfo.processInfo.activeProcessorCount))\n")
        var cpu: [Double] = [], populationCPU: [Double] = []
        var headlines: [OutbreakHeadline] = []
        var populationMB = 0.0
        for r in 0..<max(1, repetitions) {
            let c0 = Measure.cpuSeconds()
            let population = try SyntheticPopulation.generate(size: agents, seed: seed + UInt64(r), marginals: OutbreakScenario.covasimFull.marginals)
            let c1 = Measure.cpuSeconds()
            let run = try OutbreakModel.run(population: population, scenario: .covasimFull, days: days,
                                            seed: OutbreakModel.runSeed(seed + UInt64(r), index: 0))
            let c2 = Measure.cpuSeconds()
            cpu.append(c2 - c0); populationCPU.append(c1 - c0)
            headlines.append(run.headline)
            populationMB = Double(population.memoryBytes) / 1_048_576
        }
        let ours = Measure.median(cpu)
        let rss = Measure.peakResidentMB()
        print(String(format: "    ours: cpu %.3f s median of %d (population %.3f s), peak RSS %.1f MiB (population arrays %.1f MiB)",
                     ours, cpu.count, Measure.median(populationCPU), rss, populationMB))
        for (r, h) in headlines.enumerated() {
            print(String(format: "      seed %d: infections %d (%.1f %%), peak %d a day on day %d, deaths %d, diagnoses %d",
                         Int(seed) + r, h.cumulativeInfections, h.attackRate * 100, h.peakDailyInfections, h.peakDay, h.deaths, h.diagnoses))
        }
        guard !noAnchor else { return }
        let script = shared + "/anchors/bench_covasim.py"
        print("    anchor: \(python) \(script) \(agents) \(days) --full")
        let (status, out) = try Measure.run(python, [script, String(agents), String(days), "--full"])
        guard status == 0 else { throw ValidationError("bench_covasim.py failed (exit \(status)): \(out.suffix(400))") }
        var usage = rusage()
        getrusage(Int32(RUSAGE_CHILDREN.rawValue), &usage)
        let childCPU = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
        let childMB = Double(usage.ru_maxrss) / 1024
        let line = out.split(separator: "\n").last { $0.hasPrefix("covasim") }.map(String.init) ?? out
        print("    " + line)
        if let covasimCPU = number(after: "cpu_sim=", in: line) {
            print(String(format: "    covasim: cpu_sim %.2f s, child total cpu %.2f s, peak RSS %.0f MiB", covasimCPU, childCPU, childMB))
            print(String(format: "    ratio (covasim cpu_sim / ours cpu): %.1fx  (target >= 9x); memory ours %.1f MiB vs %.0f MiB (target <= 100 MiB)",
                         covasimCPU / ours, rss, childMB))
        }
    }

    /// The first number after `marker` in `text`.
    func number(after marker: String, in text: String) -> Double? {
        guard let r = text.range(of: marker) else { return nil }
        return Double(String(text[r.upperBound...].prefix { "0123456789.e-+".contains($0) }))
    }
}
