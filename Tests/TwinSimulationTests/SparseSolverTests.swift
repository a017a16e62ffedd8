import Testing
@testable import TwinSimulation

@Suite("Sparse linear algebra path")
struct SparseSolverTests {
    @Test("sparse LU solves like dense LU on a random banded-plus-coupling matrix")
    func sparseLUAgreesWithDense() {
        let n = 60
        var generator = Xoshiro256StarStar(seed: 7)
        var pattern: [(row: Int, column: Int)] = []
        var matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in [i - 2, i - 1, i + 1, i + 3, (i * 7) % n] where j >= 0 && j < n && j != i {
                pattern.append((i, j))
                matrix[i * n + j] = Double.random(in: -1...1, using: &generator)
            }
            matrix[i * n + i] = 0   // J's diagonal entry
            pattern.append((i, i))
            matrix[i * n + i] = Double.random(in: -1...1, using: &generator)
        }
        let lu = SparseLU(dimension: n, pattern: pattern)
        // J values in input-entry order.
        var values = [Double](repeating: 0, count: lu.aColumns.count)
        for r in 0..<n { for p in lu.aRowStart[r]..<lu.aRowStart[r + 1] { values[p] = matrix[r * n + lu.aColumns[p]] } }
        let shift = 10.0
        values.withUnsafeBufferPointer { lu.load(jacobian: $0.baseAddress!, shift: shift) }
        #expect(lu.factor())
        var b = (0..<n).map { Double($0 % 5) - 2 }
        let rhs = b
        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        // Residual of (shift I - J) x = rhs.
        var worst = 0.0
        for i in 0..<n {
            var s = shift * b[i]
            for j in 0..<n { s -= matrix[i * n + j] * b[j] }
            worst = max(worst, abs(s - rhs[i]))
        }
        #expect(worst < 1e-12, "residual \(worst)")
    }

    @Test("Brusselator with 200 states: sparse path agrees with the dense path")
    func brusselatorSparseVsDense() throws {
        let system = Brusselator(points: 100)
        let y0 = system.initialState
        var options = SolverOptions(method: .rodas5, rtol: 1e-8, atol: 1e-10)
        options.linearSolver = .sparse
        let sparseStepper = try Rodas5Stepper(system: system, time: 0, state: y0, options: options)
        #expect(sparseStepper.usesSparseLinearAlgebra)
        let sparse = try ODESolver(options: options).solve(system, initialState: y0, from: 0, to: 2, output: .evenlySpaced(count: 5))
        options.linearSolver = .dense
        let dense = try ODESolver(options: options).solve(system, initialState: y0, from: 0, to: 2, output: .evenlySpaced(count: 5))
        var worst = 0.0
        for (a, b) in zip(sparse.states, dense.states) { worst = max(worst, abs(a - b) / (1e-6 + abs(b))) }
        #expect(worst < 1e-6, "max relative difference \(worst)")
        // Coloured finite differences need a handful of f-evaluations per Jacobian, not 200.
        let perJacobian = Double(sparse.statistics.functionEvaluations - 9 * sparse.statistics.totalSteps)
            / Double(sparse.statistics.jacobianEvaluations)
        #expect(perJacobian < 20, "\(perJacobian) evaluations per Jacobian")
        // automatic choice picks the sparse path for this system
        options.linearSolver = .automatic
        #expect(try Rodas5Stepper(system: system, time: 0, state: y0, options: options).usesSparseLinearAlgebra)
    }

    @Test("an analytic sparse Jacobian is used and agrees with coloured finite differences")
    func analyticSparseJacobian() throws {
        var options = SolverOptions(method: .rodas5, rtol: 1e-8, atol: 1e-10)
        options.linearSolver = .sparse
        let fd = Brusselator(points: 100)
        var analytic = Brusselator(points: 100)
        analytic.analyticSparseJacobian = true
        let a = try ODESolver(options: options).solve(analytic, initialState: fd.initialState, from: 0, to: 2, output: .times([2]))
        let b = try ODESolver(options: options).solve(fd, initialState: fd.initialState, from: 0, to: 2, output: .times([2]))
        var worst = 0.0
        for (x, y) in zip(a.finalState, b.finalState) { worst = max(worst, abs(x - y) / (1e-6 + abs(y))) }
        #expect(worst < 1e-7, "max relative difference \(worst)")
        // Analytic: 8 stage evaluations + 1 for ∂f/∂t per step attempt (+1 initial step selection), no FD columns.
        #expect(a.statistics.functionEvaluations < b.statistics.functionEvaluations)
    }

    @Test("time stops a few ulps apart do not fail the step-size check")
    func closeStops() throws {
        let t1 = 1.0, t2 = 1.0.nextUp.nextUp
        let events = [TimeEvent.bolus("a", variable: 0, amount: 1, at: [t1]), TimeEvent.bolus("b", variable: 0, amount: 1, at: [t2])]
        for method in [SolverMethod.dormandPrince, .rodas5] {
            let solution = try ODESolver(options: SolverOptions(method: method, rtol: 1e-8, atol: 1e-10))
                .solve(Decay(rate: 1), initialState: [1], from: 0, to: 2, output: .times([2]), timeEvents: events)
            #expect(solution.events.count == 2)
            #expect(abs(solution.finalState[0] - (Double.exp(-2) + 2 * Double.exp(-1))) < 1e-7)
        }
    }

    @Test("bad sparsity patterns are rejected")
    func badPattern() {
        struct Bad: ODESystem {
            var dimension: Int { 2 }
            func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) { dy[0] = 0; dy[1] = 0 }
            var jacobianSparsity: [(row: Int, column: Int)]? { [(0, 5)] }
        }
        var options = SolverOptions(method: .rodas5)
        options.linearSolver = .sparse
        #expect(throws: SimulationError.self) { _ = try Rodas5Stepper(system: Bad(), time: 0, state: [0, 0], options: options) }
    }
}
