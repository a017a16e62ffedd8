import RealModule
import Testing
@testable import TwinSimulation

/// y0' = 1, y1' = log(2 - y0): y1's derivative becomes NaN once y0 passes 2 (t = 2).
struct BreaksAtTwo: ODESystem {
    var dimension: Int { 2 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = 1
        dy[1] = Double.log(2 - y[0])
    }
    var variableNames: [String] { ["clock", "fragile"] }
}

/// y' = y²: blows up at t = 1 for y(0) = 1.
struct BlowUp: ODESystem {
    var dimension: Int { 1 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) { dy[0] = y[0] * y[0] }
    var variableNames: [String] { ["runaway"] }
}

@Suite("Solver errors")
struct ErrorTests {
    @Test("a NaN derivative mid-run is reported with the variable's name and the time", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func nanMidRun(method: SolverMethod) {
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-8, atol: 1e-10))
        do {
            _ = try solver.solve(BreaksAtTwo(), initialState: [0, 0], from: 0, to: 5)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .nonFiniteValue || error.code == .stepSizeUnderflow)
            #expect(error.variable == "fragile", "\(error)")
            #expect(abs((error.time ?? 0) - 2) < 1e-3, "\(error)")
        }
    }

    @Test("a finite-time blow-up fails instead of returning garbage", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func blowUp(method: SolverMethod) {
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-8, atol: 1e-10))
        #expect(throws: SimulationError.self) {
            _ = try solver.solve(BlowUp(), initialState: [1], from: 0, to: 2)
        }
    }

    @Test("too many steps")
    func tooManySteps() {
        let solver = ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12, maxSteps: 10))
        do {
            _ = try solver.solve(Oscillator(omega: 10), initialState: [1, 0], from: 0, to: 100)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tooManySteps)
        }
    }

    @Test("bad input is rejected with the offending value")
    func badInput() {
        let system = Decay(rate: 1)
        func expectInvalid(_ options: SolverOptions, _ y0: [Double] = [1], from t0: Double = 0, to t1: Double = 1,
                           output: OutputTimes = .steps, value: String? = nil) {
            do {
                _ = try ODESolver(options: options).solve(system, initialState: y0, from: t0, to: t1, output: output)
                Issue.record("expected invalid input")
            } catch {
                #expect(error.code == .invalidInput || (error.code == .nonFiniteValue && y0.contains { !$0.isFinite }))
                if let value { #expect(error.value == value, "\(error)") }
            }
        }
        expectInvalid(SolverOptions(rtol: -1e-6, atol: 1e-9), value: "-1e-06")
        expectInvalid(SolverOptions(rtol: 1e-6, atol: 0), value: "0.0")
        expectInvalid(SolverOptions(), [1, 2], value: "2")
        expectInvalid(SolverOptions(), [.nan])
        expectInvalid(SolverOptions(), to: -1, value: "-1.0")
        expectInvalid(SolverOptions(), output: .times([0.5, 0.2]), value: "0.2")
        expectInvalid(SolverOptions(), output: .times([2]), value: "2.0")
        expectInvalid(SolverOptions(relativeTolerance: 1e-6, absoluteTolerance: .perComponent([1e-9, 1e-9])), value: "2")
    }
}
