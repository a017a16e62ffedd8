import Testing
@testable import TwinSimulation

/// Stiff problems against published reference values.
///
/// References:
/// - ROBER and VDPOL: Test Set for IVP Solvers (F. Mazzia, C. Magherini, Univ. of Bari,
///   archimede.uniba.it/~testset; reference solutions computed with RADAU at rtol = atol = 1.1e-18):
///   ROBER at t = 1e11: y = (0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050);
///   VDPOL (mu = 1000, y(0) = (2, 0)) at t = 2000: y = (0.1706167732170469e1, -0.8928097010248125e-3).
/// - ROBER at t = 40: y1 = 0.7158270687193135, y2 = 9.185534764557e-6 (Hairer & Wanner's test
///   data, agreeing with the SUNDIALS cvRoberts_dns example output 7.158271e-01, 9.185535e-06,
///   2.841637e-01); y3 follows from the conservation y1 + y2 + y3 = 1.
@Suite("Stiff reference problems")
struct StiffReferenceTests {
    @Test("Robertson at t = 40 and t = 1e11", arguments: [SolverMethod.rodas5, .rodas5P], [true, false])
    func robertson(method: SolverMethod, analyticJacobian: Bool) throws {
        let solver = ODESolver(options: SolverOptions(method: method, relativeTolerance: 1e-10,
                                                      absoluteTolerance: .perComponent([1e-14, 1e-20, 1e-14])))
        let system = Robertson(analyticJacobian: analyticJacobian)
        let solution = try solver.solve(system, initialState: [1, 0, 0], from: 0, to: 1e11, output: .times([40, 1e11]))
        let at40 = Array(solution.state(at: 0))
        #expect(relativeError(at40[0], 0.7158270687193135) < 1e-7)
        #expect(relativeError(at40[1], 9.185534764557e-6) < 1e-6)
        #expect(relativeError(at40[2], 1 - 0.7158270687193135 - 9.185534764557e-6) < 1e-7)
        let end = Array(solution.state(at: 1))
        #expect(relativeError(end[0], 0.2083340149701255e-7) < 1e-5, "y1 \(end[0])")
        #expect(relativeError(end[1], 0.8333360770334713e-13) < 1e-5, "y2 \(end[1])")
        #expect(relativeError(end[2], 0.9999999791665050) < 1e-9, "y3 \(end[2])")
        // Power-law decay over 11 decades at rtol 1e-10: about ln(1e11)/(1e-10)^(1/5) ≈ 2,500 steps.
        #expect(solution.statistics.acceptedSteps < 6000)
        #expect(solution.statistics.rejectedSteps < solution.statistics.acceptedSteps / 10)
    }

    @Test("Van der Pol mu = 1000 at t = 2000", arguments: [SolverMethod.rodas5, .rodas5P, .auto])
    func vanDerPol(method: SolverMethod) throws {
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-9, atol: 1e-9))
        let solution = try solver.solve(VanDerPol(mu: 1000), initialState: [2, 0], from: 0, to: 2000, output: .times([2000]))
        let y = solution.finalState
        #expect(relativeError(y[0], 0.1706167732170469e1) < 1e-6, "y1 \(y[0])")
        #expect(relativeError(y[1], -0.8928097010248125e-3) < 1e-4, "y2 \(y[1])")
        if method == .auto {
            #expect(solution.statistics.stiffnessSwitchTime != nil)
            #expect(solution.method == .rodas5P)
        }
    }
}
