import RealModule
import Testing
@testable import TwinSimulation

@Suite("Solvers against known solutions")
struct SolverAccuracyTests {
    @Test("exponential decay matches e^{-kt}", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P, .auto])
    func exponentialDecay(method: SolverMethod) throws {
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-9, atol: 1e-12))
        let solution = try solver.solve(Decay(rate: 0.7), initialState: [2], from: 0, to: 10, output: .evenlySpaced(count: 101))
        #expect(solution.count == 101)
        var worst = 0.0
        for i in 0..<solution.count {
            let exact = 2 * Double.exp(-0.7 * solution.times[i])
            worst = max(worst, abs(solution.value(0, at: i) - exact) / (1e-12 / 1e-9 + abs(exact)))
        }
        #expect(worst < 1e-7, "worst mixed error \(worst)")
    }

    @Test("harmonic oscillator over 10 periods", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func harmonicOscillator(method: SolverMethod) throws {
        let omega = 2.0
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-10, atol: 1e-12))
        let tEnd = 10 * 2 * Double.pi / omega
        let solution = try solver.solve(Oscillator(omega: omega), initialState: [1, 0], from: 0, to: tEnd,
                                        output: .evenlySpaced(count: 500))
        var worst = 0.0
        for i in 0..<solution.count {
            let t = solution.times[i]
            worst = max(worst, abs(solution.value(0, at: i) - Double.cos(omega * t)))
            worst = max(worst, abs(solution.value(1, at: i) + omega * Double.sin(omega * t)) / omega)
        }
        #expect(worst < 1e-7, "worst error \(worst)")
        // Energy is conserved to the tolerance.
        let x = solution.finalState
        #expect(abs(x[0] * x[0] + x[1] * x[1] / (omega * omega) - 1) < 1e-8)
    }

    @Test("dense output between steps is accurate (not only at step ends)", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func denseOutputBetweenSteps(method: SolverMethod) throws {
        // Loose tolerance: few, long steps; the interpolant must still track the solution.
        let system = Oscillator(omega: 1)
        let options = SolverOptions(method: method, rtol: 1e-6, atol: 1e-8)
        let stepper = try makeStepper(for: system, time: 0, state: [1, 0], options: options)
        var worstInterior = 0.0
        var steps = 0
        while stepper.time < 20 {
            try stepper.step(limit: 20)
            steps += 1
            let a = stepper.previousTime, b = stepper.time
            for j in 1..<10 {
                let t = a + (b - a) * Double(j) / 10
                let y = stepper.interpolate(at: t)
                worstInterior = max(worstInterior, abs(y[0] - Double.cos(t)))
            }
        }
        #expect(steps < 400, "\(steps) steps")
        #expect(worstInterior < 2e-5, "worst interpolation error \(worstInterior)")
    }

    @Test("output times come from dense output, not from stopping the integrator")
    func outputDoesNotForceSteps() throws {
        let solver = ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-8, atol: 1e-10))
        let dense = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 5, output: .evenlySpaced(count: 5000))
        let sparse = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 5, output: .evenlySpaced(count: 2))
        #expect(dense.statistics.acceptedSteps == sparse.statistics.acceptedSteps)
        #expect(dense.statistics.acceptedSteps < 200)
    }
}
