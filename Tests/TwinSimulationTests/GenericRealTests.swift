import RealModule
import Testing
import TwinSimulation

struct GenericDecay<Scalar: Real & BinaryFloatingPoint>: RealODESystem {
    var rate: Scalar
    var dimension: Int { 1 }
    func derivatives(t: Scalar, y: UnsafeBufferPointer<Scalar>, dy: UnsafeMutableBufferPointer<Scalar>) { dy[0] = -rate * y[0] }
}

struct GenericOscillator<Scalar: Real & BinaryFloatingPoint>: RealODESystem {
    var dimension: Int { 2 }
    func derivatives(t: Scalar, y: UnsafeBufferPointer<Scalar>, dy: UnsafeMutableBufferPointer<Scalar>) {
        dy[0] = y[1]
        dy[1] = -y[0]
    }
}

@Suite("Dormand-Prince generic over Real")
struct GenericRealTests {
    @Test("Float: decay to single-precision tolerance")
    func float() throws {
        let solver = GenericDormandPrince<Float>(relativeTolerance: 1e-5, absoluteTolerance: 1e-7)
        let (states, _) = try solver.solve(GenericDecay<Float>(rate: 1), initialState: [1], from: 0, to: 5, outputTimes: [1, 2.5, 5])
        for (value, t) in zip(states, [Float(1), 2.5, 5]) {
            #expect(abs(value - Float.exp(-t)) < 1e-5)
        }
    }

    @Test("Double: agrees with the type-erased Dormand-Prince stepper")
    func double() throws {
        let solver = GenericDormandPrince<Double>(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
        let (states, stats) = try solver.solve(GenericOscillator<Double>(), initialState: [1, 0], from: 0, to: 10, outputTimes: [10])
        #expect(abs(states[0] - Double.cos(10)) < 1e-8)
        #expect(abs(states[1] + Double.sin(10)) < 1e-8)
        let reference = try ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12))
            .solve(Oscillator(omega: 1), initialState: [1, 0], from: 0, to: 10, output: .times([10]))
        #expect(stats.acceptedSteps == reference.statistics.acceptedSteps)
        #expect(abs(states[0] - reference.finalState[0]) < 1e-12)
    }

    #if arch(x86_64) && !os(Windows)
    @Test("Float80: meets a tolerance beyond Double's reach")
    func float80() throws {
        let solver = GenericDormandPrince<Float80>(relativeTolerance: 1e-17, absoluteTolerance: 1e-19)
        let (states, _) = try solver.solve(GenericDecay<Float80>(rate: 1), initialState: [1], from: 0, to: 1, outputTimes: [1])
        let exact = Float80.exp(-1)
        #expect(abs(states[0] - exact) < 1e-16, "error \(abs(states[0] - exact))")
        // Double cannot represent e^-1 better than ~5.5e-17 relative; Float80 does.
        #expect(abs(states[0] - exact) < Float80(Double.ulpOfOne) / 4)
    }
    #endif
}
