import RealModule
import Testing
@testable import TwinSimulation

/// Free fall h'' = -g with a floor.
struct FallingBall: ODESystem {
    var g = 9.81
    var dimension: Int { 2 }
    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        dy[0] = y[1]
        dy[1] = -g
    }
    var variableNames: [String] { ["height", "velocity"] }
}

@Suite("Events")
struct EventTests {
    @Test("bouncing ball: impact times match the analytic ones", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func bouncingBall(method: SolverMethod) throws {
        let g = 9.81, h0 = 10.0, restitution = 0.8
        let bounce = StateEvent(name: "floor", direction: .falling, condition: { _, y in y[0] },
                                action: { context in context.state[1] = -restitution * context.state[1] })
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-10, atol: 1e-12))
        let solution = try solver.solve(FallingBall(g: g), initialState: [h0, 0], from: 0, to: 6,
                                        output: .evenlySpaced(count: 601), events: [bounce])
        // Analytic: first impact at sqrt(2 h0 / g) with speed v1 = g t1; each later flight lasts 2 e v / g.
        var expected: [Double] = []
        var t = (2 * h0 / g).squareRoot()
        var v = g * t
        while t < 6 {
            expected.append(t)
            v *= restitution
            t += 2 * v / g
        }
        let impacts = solution.events.filter { $0.name == "floor" }.map(\.time)
        #expect(impacts.count == expected.count)
        for (found, exact) in zip(impacts, expected) {
            #expect(abs(found - exact) < 1e-8, "impact at \(found), expected \(exact)")
        }
        #expect(solution.events.allSatisfy { $0.changedState })
        // Height never goes (meaningfully) below the floor at the outputs.
        #expect(solution.series(0).allSatisfy { $0 > -1e-8 })
    }

    @Test("threshold crossing is located to tolerance without disturbing the solution")
    func thresholdCrossing() throws {
        let crossing = StateEvent.threshold("half", variable: 0, crosses: 0.5, direction: .falling)
        let solver = ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12))
        let with = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 3, output: .times([3]), events: [crossing])
        let without = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 3, output: .times([3]))
        #expect(with.events.count == 1)
        #expect(abs(with.events[0].time - Double.log(2)) < 1e-9)
        #expect(with.events[0].changedState == false)
        #expect(abs(with.finalState[0] - without.finalState[0]) < 1e-14)
        // A rising-only event on a falling variable never fires.
        let rising = StateEvent.threshold("rise", variable: 0, crosses: 0.5, direction: .rising)
        let none = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 3, output: .times([3]), events: [rising])
        #expect(none.events.isEmpty)
    }

    @Test("a stop event ends the run at the root")
    func stopEvent() throws {
        let stop = StateEvent.stop("empty", direction: .falling) { _, y in y[0] - 0.25 }
        let solver = ODESolver(options: SolverOptions(method: .rodas5, rtol: 1e-9, atol: 1e-12))
        let solution = try solver.solve(Decay(rate: 2), initialState: [1], from: 0, to: 10,
                                        output: .evenlySpaced(count: 101), events: [stop])
        let tStop = Double.log(4) / 2
        guard case .stoppedByEvent(let name, let time) = solution.status else {
            Issue.record("run was not stopped: \(solution.status)")
            return
        }
        #expect(name == "empty")
        #expect(abs(time - tStop) < 1e-9)
        #expect(abs(solution.times.last! - tStop) < 1e-9)
        #expect(solution.times.dropLast().allSatisfy { $0 < tStop })
        #expect(abs(solution.finalState[0] - 0.25) < 1e-8)
    }

    @Test("time events (doses) are hit exactly and outputs are right-continuous", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func timeEvents(method: SolverMethod) throws {
        let k = 0.3
        let dose = TimeEvent.bolus("dose", variable: 0, amount: 5, at: [2, 5, 5, 20])   // duplicate 5 fires once; 20 is outside
        let solver = ODESolver(options: SolverOptions(method: method, rtol: 1e-10, atol: 1e-12))
        let outputs = [0, 1, 2, 3, 5, 7, 10.0]
        let solution = try solver.solve(Decay(rate: k), initialState: [10], from: 0, to: 10,
                                        output: .times(outputs), timeEvents: [dose])
        #expect(solution.events.map(\.time) == [2, 5])
        func exact(_ t: Double) -> Double {
            var x = 10 * Double.exp(-k * t)
            if t >= 2 { x += 5 * Double.exp(-k * (t - 2)) }
            if t >= 5 { x += 5 * Double.exp(-k * (t - 5)) }
            return x
        }
        for (i, t) in outputs.enumerated() {
            #expect(abs(solution.value(0, at: i) - exact(t)) < 1e-8 * exact(t), "t = \(t): \(solution.value(0, at: i)) vs \(exact(t))")
        }
        #expect(solution.statistics.restarts == 2)
        #expect(solution.statistics.eventsFired == 2)
    }

    @Test("simultaneous events fire in declaration order and see each other's changes")
    func simultaneousEvents() throws {
        // Both conditions vanish at t = ln 2 (x = 0.5).
        let double = StateEvent(name: "double", direction: .falling, condition: { _, y in y[0] - 0.5 },
                                action: { $0.state[0] *= 2 })
        let observe = StateEvent(name: "observe", direction: .falling, condition: { _, y in 2 * (y[0] - 0.5) },
                                 action: { context in if context.state[0] > 0.9 { context.state[0] += 1 } })
        let solver = ODESolver(options: SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12))
        let solution = try solver.solve(Decay(rate: 1), initialState: [1], from: 0, to: 1, output: .times([1]),
                                        events: [double, observe])
        #expect(solution.events.map(\.name) == ["double", "observe"])
        #expect(abs(solution.events[0].time - solution.events[1].time) < 1e-10)
        // After both: x = 0.5·2 + 1 = 2 at ln 2, then decays.
        #expect(abs(solution.finalState[0] - 2 * Double.exp(-(1 - Double.log(2)))) < 1e-8)
    }

    @Test("the stepper interface: step, interpolate, reset")
    func stepperInterface() throws {
        let stepper = try makeStepper(for: Decay(rate: 1), time: 0, state: [1],
                                      options: SolverOptions(method: .dormandPrince, rtol: 1e-9, atol: 1e-12))
        while stepper.time < 1 { try stepper.step(limit: 1) }
        #expect(stepper.time == 1)
        #expect(abs(stepper.state[0] - Double.exp(-1)) < 1e-9)
        let mid = stepper.interpolate(at: (stepper.previousTime + stepper.time) / 2)
        #expect(abs(mid[0] - Double.exp(-(stepper.previousTime + stepper.time) / 2)) < 1e-9)
        try stepper.reset(time: 1, state: [3])
        #expect(stepper.previousTime == 1)
        try stepper.step(limit: 2)
        #expect(stepper.time > 1 && stepper.time <= 2)
        #expect(abs(stepper.state[0] - 3 * Double.exp(-(stepper.time - 1))) < 1e-8)
        #expect(throws: SimulationError.self) { try stepper.step(limit: 0.5) }
        #expect(throws: SimulationError.self) { try stepper.reset(time: 1, state: [1, 2]) }
    }
}
