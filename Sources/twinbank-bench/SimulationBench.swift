import ArgumentParser
import Foundation
import TwinSimulation

/// `twinbank-bench simulation`: the solver benchmarks of issue 3.
///
/// (a) 10,000 parameter-varied simulations of the 3-species chain of `../shared/anchors/rr_bench.py`
///     (A ⇌ B → C, k1 = 0.5, km1 = 0.1, k2 = 0.2, A(0) = 10, each parameter × lognormal(0, 0.3),
///     t = 0…100 with 1000 output points, rtol 1e-6 / atol 1e-12 as libRoadRunner's defaults), over both
///     cores with a task group; optionally runs the anchor right after, in the same session.
/// (b) Robertson (0…1e11) and Van der Pol μ = 1000 (0…2000) timings.
/// (c) Brusselator with 500 states: sparse vs dense LU in Rodas5P.
struct SimulationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulation",
        abstract: "ODE solver benchmarks: 10,000 parameter-varied chain simulations (vs libRoadRunner), Robertson, Van der Pol."
    )

    @Option(help: "Number of parameter-varied simulations.")
    var simulations = 10_000

    @Option(help: "Output points per simulation.")
    var points = 1000

    @Option(help: "Parallel chunks (tasks); defaults to the number of active processors.")
    var chunks: Int?

    @Option(help: "Repetitions of each timing (the median is reported).")
    var repetitions = 3

    @Flag(help: "Run the libRoadRunner anchor (rr_bench.py) right after, in the same session, and print the ratio.")
    var anchor = false

    @Option(help: "Python of the anchors' venv.")
    var python = NSHomeDirectory() + "/.cache/twinbank-anchors/bin/python"

    @Option(help: "Path of rr_bench.py.")
    var anchorScript = "../shared/anchors/rr_bench.py"

    func run() async throws {
        let cores = chunks ?? ProcessInfo.processInfo.activeProcessorCount
        print("twinbank-bench simulation  (cores used: \(cores))")
        print("")
        print("(a) 3-species chain A <-> B -> C (rr_bench.py's model), \(simulations) simulations, params x lognormal(0, 0.3), t 0..100, \(points) (then 100) output points, rtol 1e-6 atol 1e-12")
        var oursAuto = (wall: 0.0, cpu: 0.0), ours100 = (wall: 0.0, cpu: 0.0)
        for (method, points) in [(SolverMethod.auto, points), (.rodas5P, points), (.auto, 100)] {
            var times: [Double] = []
            var cpus: [Double] = []
            var checksum = 0.0
            var steps = 0
            for repetition in 0..<repetitions {
                let start = ContinuousClock.now
                let cpuStart = Measure.cpuSeconds()
                let (sum, stepCount) = try await Self.chainSweep(count: simulations, points: points, chunks: cores,
                                                                 method: method, seed: 1 + UInt64(repetition))
                times.append(Measure.seconds(ContinuousClock.now - start))
                cpus.append(Measure.cpuSeconds() - cpuStart)
                checksum = sum
                steps = stepCount
            }
            let median = times.sorted()[times.count / 2]
            let cpuMedian = cpus.sorted()[cpus.count / 2]
            if method == .auto && points == self.points { oursAuto = (median, cpuMedian) }
            if method == .auto && points == 100 { ours100 = (median, cpuMedian) }
            print(String(format: "    ours [%@, %ld points]: median of %ld runs %.3f s => %.1f us/sim (runs: %@) | cpu median %.3f s => %.1f us/sim | %.1f steps/sim | checksum %.6f",
                         method.displayName, points, repetitions, median, median / Double(simulations) * 1e6,
                         times.map { String(format: "%.3f", $0) }.joined(separator: ", "),
                         cpuMedian, cpuMedian / Double(simulations) * 1e6,
                         Double(steps) / Double(simulations), checksum))
        }
        try Self.chainAccuracy()

        print("")
        print("(b) stiff reference problems (single core, median of \(repetitions))")
        try Self.stiffTimings(repetitions: repetitions)

        print("")
        print("(c) large sparse system: Brusselator reaction-diffusion, 250 points (500 states), t 0..10, Rodas5P rtol 1e-6 atol 1e-8")
        try Self.sparseTimings(repetitions: repetitions)

        if anchor {
            print("")
            print("anchor: \(python) \(anchorScript)  (same session, after ours)")
            let output = try Measure.run(python, [anchorScript]).output
            var anchorWall: [Int: Double] = [:], anchorCPU: [Int: Double] = [:]
            for line in output.split(separator: "\n") {
                print("    " + line)
                guard line.contains("10000 simulations") else { continue }
                let pointsInLine = line.contains("x1000 pts") ? 1000 : (line.contains("x100 pts") ? 100 : 0)
                if let range = line.range(of: "median of 3 runs ") {
                    anchorWall[pointsInLine] = Double(line[range.upperBound...].prefix { $0 == "." || $0.isNumber })
                }
                if let range = line.range(of: "cpu median ") {
                    anchorCPU[pointsInLine] = Double(line[range.upperBound...].prefix { $0 == "." || $0.isNumber })
                }
            }
            if simulations == 10_000 {
                for (label, ourPoints, ours) in [("1000", 1000, oursAuto), ("100", 100, ours100)] {
                    guard let wall = anchorWall[ourPoints], let cpu = anchorCPU[ourPoints], ours.wall > 0 else { continue }
                    print(String(format: "ratio libRoadRunner / ours (10,000 sims x %@ points): wall %.2f s / %.3f s = %.0fx, cpu %.2f s / %.3f s = %.0fx",
                                 label, wall, ours.wall, wall / ours.wall, cpu, ours.cpu, cpu / ours.cpu))
                }
            }
        }
    }

    /// Runs `count` simulations in `chunks` tasks; returns the sum of the final C values and total steps.
    static func chainSweep(count: Int, points: Int, chunks: Int, method: SolverMethod, seed: UInt64) async throws -> (Double, Int) {
        // Parameter factors drawn up front from one seeded stream, as the anchor does with numpy.
        var generator = Xoshiro256StarStar(seed: seed)
        var factors: [Double] = []
        factors.reserveCapacity(3 * count)
        for _ in 0..<(3 * count) { factors.append(generator.nextLogNormal(sigma: 0.3)) }
        let shared = factors
        let options = SolverOptions(method: method, rtol: 1e-6, atol: 1e-12)
        return try await withThrowingTaskGroup(of: (Double, Int).self) { group in
            let perChunk = (count + chunks - 1) / chunks
            for chunk in 0..<chunks {
                let lower = chunk * perChunk, upper = Swift.min(count, lower + perChunk)
                guard lower < upper else { continue }
                group.addTask {
                    let solver = ODESolver(options: options)
                    var sum = 0.0
                    var steps = 0
                    for i in lower..<upper {
                        let system = Chain(k1: 0.5 * shared[3 * i], km1: 0.1 * shared[3 * i + 1], k2: 0.2 * shared[3 * i + 2])
                        let solution = try solver.solve(system, initialState: [10, 0, 0], from: 0, to: 100,
                                                        output: .evenlySpaced(count: points))
                        sum += solution.states[solution.states.count - 1]
                        steps += solution.statistics.acceptedSteps
                    }
                    return (sum, steps)
                }
            }
            var total = 0.0, steps = 0
            for try await (sum, count) in group { total += sum; steps += count }
            return (total, steps)
        }
    }

    /// Checks the chain against its closed-form solution at the nominal parameters.
    static func chainAccuracy() throws {
        let system = Chain(k1: 0.5, km1: 0.1, k2: 0.2)
        for method in [SolverMethod.auto, .rodas5P] {
            let solution = try ODESolver(options: SolverOptions(method: method, rtol: 1e-6, atol: 1e-12))
                .solve(system, initialState: [10, 0, 0], from: 0, to: 100, output: .evenlySpaced(count: 1000))
            let maxAbs = (0..<solution.count).map { i -> Double in
                let exact = system.exact(t: solution.times[i], a0: 10)
                return (0..<3).map { Swift.abs(solution.value($0, at: i) - exact[$0]) }.max() ?? 0
            }.max() ?? 0
            print(String(format: "    accuracy vs closed form at nominal parameters [%@]: max abs error %.2e over 1000 points (values up to 10)", method.displayName, maxAbs))
        }
    }

    static func stiffTimings(repetitions: Int) throws {
        struct Case {
            let name: String
            let run: () throws -> Solution
        }
        let cases: [Case] = [
            Case(name: "Robertson 0..1e11 Rodas5 rtol 1e-6 atol 1e-10 (analytic J)") {
                try ODESolver(options: SolverOptions(method: .rodas5, rtol: 1e-6, atol: 1e-10))
                    .solve(RobertsonSystem(analytic: true), initialState: [1, 0, 0], from: 0, to: 1e11, output: .times([40, 1e11]))
            },
            Case(name: "Robertson 0..1e11 Rodas5 rtol 1e-6 atol 1e-10 (FD J)") {
                try ODESolver(options: SolverOptions(method: .rodas5, rtol: 1e-6, atol: 1e-10))
                    .solve(RobertsonSystem(analytic: false), initialState: [1, 0, 0], from: 0, to: 1e11, output: .times([40, 1e11]))
            },
            Case(name: "Robertson 0..1e11 Rodas5P rtol 1e-6 atol 1e-10 (analytic J)") {
                try ODESolver(options: SolverOptions(method: .rodas5P, rtol: 1e-6, atol: 1e-10))
                    .solve(RobertsonSystem(analytic: true), initialState: [1, 0, 0], from: 0, to: 1e11, output: .times([40, 1e11]))
            },
            Case(name: "Robertson 0..1e11 auto rtol 1e-8 atol 1e-14") {
                try ODESolver(options: SolverOptions(method: .auto, rtol: 1e-8, atol: 1e-14))
                    .solve(RobertsonSystem(analytic: true), initialState: [1, 0, 0], from: 0, to: 1e11, output: .times([40, 1e11]))
            },
            Case(name: "Van der Pol mu=1000 0..2000 Rodas5 rtol 1e-6 atol 1e-6") {
                try ODESolver(options: SolverOptions(method: .rodas5, rtol: 1e-6, atol: 1e-6))
                    .solve(VanDerPolSystem(mu: 1000), initialState: [2, 0], from: 0, to: 2000, output: .times([2000]))
            },
            Case(name: "Van der Pol mu=1000 0..2000 Rodas5P rtol 1e-6 atol 1e-6") {
                try ODESolver(options: SolverOptions(method: .rodas5P, rtol: 1e-6, atol: 1e-6))
                    .solve(VanDerPolSystem(mu: 1000), initialState: [2, 0], from: 0, to: 2000, output: .times([2000]))
            },
            Case(name: "Van der Pol mu=1000 0..2000 auto rtol 1e-9 atol 1e-9") {
                try ODESolver(options: SolverOptions(method: .auto, rtol: 1e-9, atol: 1e-9))
                    .solve(VanDerPolSystem(mu: 1000), initialState: [2, 0], from: 0, to: 2000, output: .times([2000]))
            },
        ]
        for item in cases {
            var times: [Double] = []
            var last: Solution?
            for _ in 0..<repetitions {
                let start = ContinuousClock.now
                last = try item.run()
                times.append(Measure.seconds(ContinuousClock.now - start))
            }
            let median = times.sorted()[times.count / 2]
            guard let solution = last else { continue }
            let s = solution.statistics
            let final = solution.finalState.map { String(format: "%.10e", $0) }.joined(separator: ", ")
            let switchNote = s.stiffnessSwitchTime.map {
                String(format: " | first switch to Rodas5P at t = %.3g, %d method switches", $0, s.methodSwitches)
            } ?? ""
            print(String(format: "    %@: %.3f ms | steps %d (+%d rejected), f %d, J %d, LU %d | y(end) = [%@]%@",
                         item.name, median * 1e3, s.acceptedSteps, s.rejectedSteps, s.functionEvaluations,
                         s.jacobianEvaluations, s.luFactorizations, final, switchNote))
        }
        print("    references (IVP test set): Robertson y(1e11) = [2.083340149701255e-08, 8.333360770334713e-14, 9.999999791665050e-01]; VdP y(2000) = [1.706167732170469, -8.928097010248125e-04]")
    }

    static func sparseTimings(repetitions: Int) throws {
        let system = BrusselatorSystem(points: 250)
        var results: [LinearSolverChoice: [Double]] = [:]
        for choice in [LinearSolverChoice.sparse, .dense] {
            var options = SolverOptions(method: .rodas5P, rtol: 1e-6, atol: 1e-8)
            options.linearSolver = choice
            var times: [Double] = []
            var last: Solution?
            for _ in 0..<Swift.max(1, repetitions) {
                let start = ContinuousClock.now
                last = try ODESolver(options: options).solve(system, initialState: system.initialState, from: 0, to: 10,
                                                             output: .evenlySpaced(count: 11))
                times.append(Measure.seconds(ContinuousClock.now - start))
            }
            let median = times.sorted()[times.count / 2]
            guard let solution = last else { continue }
            results[choice] = solution.finalState
            let s = solution.statistics
            print(String(format: "    %@ LU: %.1f ms | steps %d (+%d rejected), f %d, J %d, LU %d",
                         choice.rawValue, median * 1e3, s.acceptedSteps, s.rejectedSteps, s.functionEvaluations,
                         s.jacobianEvaluations, s.luFactorizations))
        }
        if let a = results[.sparse], let b = results[.dense] {
            let diff = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
            print(String(format: "    max |sparse - dense| at t = 10: %.2e", diff))
        }
    }
}

/// rr_bench.py's chain: A ⇌ B → C, mass action, compartment volume 1.
private struct Chain: ODESystem {
    let k1: Double, km1: Double, k2: Double
    var dimension: Int { 3 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let j1 = k1 * y[0] - km1 * y[1], j2 = k2 * y[1]
        dy[0] = -j1
        dy[1] = j1 - j2
        dy[2] = j2
    }
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        j[0] = -k1; j[1] = km1; j[2] = 0
        j[3] = k1; j[4] = -km1 - k2; j[5] = 0
        j[6] = 0; j[7] = k2; j[8] = 0
        return true
    }
    var variableNames: [String] { ["A", "B", "C"] }

    /// Closed form for A(0) = a0, B(0) = C(0) = 0: the 2×2 linear system for (A, B) has eigenvalues
    /// λ± = (−s ± √(s² − 4 k1 k2))/2 with s = k1 + km1 + k2; C = a0 − A − B.
    func exact(t: Double, a0: Double) -> [Double] {
        let s = k1 + km1 + k2
        let disc = (s * s - 4 * k1 * k2).squareRoot()
        let l1 = (-s + disc) / 2, l2 = (-s - disc) / 2
        // B(t) = k1 a0 (e^{l1 t} − e^{l2 t}) / (l1 − l2); A from A' = −k1 A + km1 B, via A = (B' + (km1 + k2) B) / k1.
        let e1 = Foundation.exp(l1 * t), e2 = Foundation.exp(l2 * t)
        let b = k1 * a0 * (e1 - e2) / (l1 - l2)
        let db = k1 * a0 * (l1 * e1 - l2 * e2) / (l1 - l2)
        let a = (db + (km1 + k2) * b) / k1
        return [a, b, a0 - a - b]
    }
}

private struct RobertsonSystem: ODESystem {
    let analytic: Bool
    var dimension: Int { 3 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let r1 = 0.04 * y[0], r2 = 1e4 * y[1] * y[2], r3 = 3e7 * y[1] * y[1]
        dy[0] = -r1 + r2
        dy[1] = r1 - r2 - r3
        dy[2] = r3
    }
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard analytic else { return false }
        j[0] = -0.04; j[1] = 1e4 * y[2]; j[2] = 1e4 * y[1]
        j[3] = 0.04; j[4] = -1e4 * y[2] - 6e7 * y[1]; j[5] = -1e4 * y[1]
        j[6] = 0; j[7] = 6e7 * y[1]; j[8] = 0
        return true
    }
}

private struct VanDerPolSystem: ODESystem {
    let mu: Double
    var dimension: Int { 2 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = y[1]
        dy[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0]
    }
    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        j[0] = 0; j[1] = 1
        j[2] = -2 * mu * y[0] * y[1] - 1; j[3] = mu * (1 - y[0] * y[0])
        return true
    }
}

/// Brusselator reaction-diffusion (Hairer & Wanner II, IV.1) with interleaved states (banded Jacobian).
private struct BrusselatorSystem: ODESystem {
    let points: Int
    let alpha = 0.02
    var dimension: Int { 2 * points }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let n = points
        let c = alpha * Double(n + 1) * Double(n + 1)
        for i in 0..<n {
            let u = y[2 * i], v = y[2 * i + 1]
            let uL = i == 0 ? 1.0 : y[2 * (i - 1)], uR = i == n - 1 ? 1.0 : y[2 * (i + 1)]
            let vL = i == 0 ? 3.0 : y[2 * (i - 1) + 1], vR = i == n - 1 ? 3.0 : y[2 * (i + 1) + 1]
            dy[2 * i] = 1 + u * u * v - 4 * u + c * (uL - 2 * u + uR)
            dy[2 * i + 1] = 3 * u - u * u * v + c * (vL - 2 * v + vR)
        }
    }
    var jacobianSparsity: [(row: Int, column: Int)]? {
        var pattern: [(row: Int, column: Int)] = []
        for i in 0..<points {
            for r in [2 * i, 2 * i + 1] {
                pattern.append((r, 2 * i)); pattern.append((r, 2 * i + 1))
                if i > 0 { pattern.append((r, r - 2)) }
                if i < points - 1 { pattern.append((r, r + 2)) }
            }
        }
        return pattern
    }
    var initialState: [Double] {
        (0..<points).flatMap { i -> [Double] in [1 + Foundation.sin(2 * Double.pi * Double(i + 1) / Double(points + 1)), 3] }
    }
}
