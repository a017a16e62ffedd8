import RealModule
import Testing
@testable import TwinSimulation

/// Prothero-Robinson: y' = -λ (y - cos t) - sin t, exact y = cos t for y(0) = 1. Stiff for large λ and
/// non-autonomous, so it checks the Rosenbrock method's ∂f/∂t terms.
struct ProtheroRobinson: ODESystem {
    var lambda: Double
    var dimension: Int { 1 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = -lambda * (y[0] - Double.cos(t)) - Double.sin(t)
    }
}

@Suite("Non-autonomous and switching")
struct NonAutonomousTests {
    @Test("Prothero-Robinson (stiff, time-dependent) matches cos t",
          arguments: [SolverMethod.rodas5, .rodas5P], [1.0, 1e3, 1e6])
    func protheroRobinson(method: SolverMethod, lambda: Double) throws {
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-8, atol: 1e-10))
        let system = ProtheroRobinson(lambda: lambda)
        let steps = try solver.solve(system, initialState: [1], from: 0, to: 10, output: .steps)
        var worst = 0.0
        for i in 0..<steps.count { worst = max(worst, abs(steps.value(0, at: i) - Double.cos(steps.times[i]))) }
        #expect(worst < 1e-7, "worst error at steps \(worst)")
        // Between steps the 4th-order interpolant is limited by the step size: on the very stiff case the
        // steps are long (the solution is attracted to cos t), so its error is O(h⁵/5!) rather than rtol.
        let dense = try solver.solve(system, initialState: [1], from: 0, to: 10, output: .evenlySpaced(count: 201))
        var worstDense = 0.0
        for i in 0..<dense.count { worstDense = max(worstDense, abs(dense.value(0, at: i) - Double.cos(dense.times[i]))) }
        #expect(worstDense < (lambda >= 1e6 ? 2e-4 : 1e-7), "worst dense error \(worstDense)")
        if lambda >= 1e6 {
            // Stiff and smooth: the step is set by accuracy on cos t, not by λ.
            #expect(steps.statistics.acceptedSteps < 400)
        }
    }

    @Test("auto switches to Rodas5 on a stiff problem and keeps firing time and state events")
    func autoWithEvents() throws {
        let dose = TimeEvent.bolus("dose", variable: 0, amount: 0.5, at: [50])
        let watch = StateEvent.threshold("y3 half", variable: 2, crosses: 0.5, direction: .rising)
        let solver = ODESolver(options: SolverOptions(method: .auto, rtol: 1e-7, atol: 1e-12))
        let solution = try solver.solve(Robertson(analyticJacobian: true), initialState: [1, 0, 0], from: 0, to: 1000,
                                        output: .times([40, 1000]), events: [watch], timeEvents: [dose])
        #expect(solution.statistics.stiffnessSwitchTime != nil)
        #expect(solution.method == .rodas5P)
        #expect(solution.events.map(\.name).contains("dose"))
        // Before the dose the result matches the reference at t = 40.
        #expect(relativeError(solution.value(0, at: 0), 0.7158270687193135) < 1e-5)
        // The dose adds 0.5 to the total mass, which the reactions conserve.
        let final = solution.finalState
        #expect(abs(final.reduce(0, +) - 1.5) < 1e-6)
        // y3 crosses 0.5 at some time after 40 (y3(40) ≈ 0.284); the event is located where y3 = 0.5.
        if let crossing = solution.events.first(where: { $0.name == "y3 half" }) {
            #expect(crossing.time > 40)
        }
    }
}

/// Stiff for t < 1 (λ ≈ 1e4), non-stiff after (λ → 1): y' = -λ(t)(y - cos t) - sin t, exact y = cos t.
struct StiffThenCalm: ODESystem {
    var dimension: Int { 1 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let lambda = 1 + 0.5e4 * (1 - Double.tanh(10 * (t - 1)))
        dy[0] = -lambda * (y[0] - Double.cos(t)) - Double.sin(t)
    }
}

@Suite("Automatic method switching")
struct SwitchingTests {
    @Test("auto goes stiff while λ is large and back to explicit when it is small")
    func switchesBothWays() throws {
        let solver = ODESolver(options: SolverOptions(method: .auto, rtol: 1e-8, atol: 1e-10))
        let solution = try solver.solve(StiffThenCalm(), initialState: [1], from: 0, to: 200, output: .steps)
        #expect(solution.statistics.stiffnessSwitchTime != nil)
        if let t = solution.statistics.stiffnessSwitchTime { #expect(t < 1) }
        #expect(solution.statistics.methodSwitches >= 2, "\(solution.statistics)")
        #expect(solution.method == .dormandPrince)
        var worst = 0.0
        for i in 0..<solution.count { worst = max(worst, abs(solution.value(0, at: i) - Double.cos(solution.times[i]))) }
        #expect(worst < 1e-7, "worst error \(worst)")
    }
}
