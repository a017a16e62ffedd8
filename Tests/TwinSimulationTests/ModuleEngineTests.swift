import RealModule
import Testing
@testable import TwinSimulation

// MARK: - Test modules

/// First-order elimination of a compartment: x' = -k x.
struct Elimination: Module {
    var id = "elimination"
    var rate: Double
    var variables: [VariableDeclaration] { [.owns("x", unit: "mg", initialValue: 10)] }
    var parameters: [Parameter] { [Parameter("k", value: rate, unit: "1/h")] }
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {
        derivatives[0] += -rate * state[0]
    }
}

/// A second drug that adds its own clearance term to x (additive contribution).
struct ExtraClearance: Module {
    var id = "extra-clearance"
    var rate: Double
    var variables: [VariableDeclaration] { [.adds("x", unit: "mg")] }
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {
        derivatives[0] += -rate * state[0]
    }
}

/// Infusion at a rate set by a controller: y' = u - c y.
struct Infusion: Module {
    var id = "infusion"
    var variables: [VariableDeclaration] { [.owns("y", unit: "mg", initialValue: 0), .reads("u", unit: "mg/h")] }
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {
        derivatives[0] += state[1] - 0.5 * state[0]
    }
}

/// A controller every 5 time units: u = max(0, gain (target - y)).
struct Controller: Module {
    var id = "controller"
    var gain = 2.0
    var target = 4.0
    var variables: [VariableDeclaration] { [.reads("y", unit: "mg"), .ownsDiscrete("u", unit: "mg/h", initialValue: 0)] }
    var updateInterval: Double? { 5 }
    func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar) {
        updates[1] = max(0, gain * (target - state[0]))
    }
}

struct Reader: Module {
    var id = "reader"
    var name = "insulin"
    var variables: [VariableDeclaration] { [.reads(name, unit: "pmol/L"), .owns("z", unit: "1", initialValue: 0)] }
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) { derivatives[1] += state[0] }
}

struct Fragile: Module {
    var id = "fragile-organ"
    var variables: [VariableDeclaration] { [.owns("clock", unit: "h", initialValue: 0), .owns("damage", unit: "1", initialValue: 0)] }
    func derivatives(time: Double, state: ModuleState, derivatives: ModuleDerivatives) {
        derivatives[0] += 1
        derivatives[1] += Double.log(2 - state[0])
    }
}

struct NoisyDiscrete: Module {
    var id: String
    var variables: [VariableDeclaration] { [.ownsDiscrete(id + ".noise", unit: "1", initialValue: 0)] }
    var updateInterval: Double? { 1 }
    func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar) {
        updates[0] = random.nextNormal()
    }
}

struct PingPong: Module {
    var id: String
    var mine: String
    var other: String
    var variables: [VariableDeclaration] { [.ownsDiscrete(mine, unit: "1", initialValue: 0), .reads(other, unit: "1")] }
    var updateInterval: Double? { 1 }
    func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar) {
        updates[0] = state[1] + 1
    }
}

struct BadDiscrete: Module {
    var id = "bad-controller"
    var variables: [VariableDeclaration] { [.ownsDiscrete("dose", unit: "mg", initialValue: 1)] }
    var updateInterval: Double? { 1 }
    func update(time: Double, state: ModuleState, updates: ModuleUpdates, random: inout Xoshiro256StarStar) {
        updates[0] = time >= 3 ? .nan : 1
    }
}

// MARK: - Tests

@Suite("Module engine")
struct ModuleEngineTests {
    let options = SolverOptions(method: .dormandPrince, rtol: 1e-10, atol: 1e-12)

    @Test("adding and removing a module changes the dynamics and nothing else")
    func addRemove() throws {
        let alone = try ModuleEngine(modules: [Elimination(rate: 0.2)])
        let both = try ModuleEngine(modules: [Elimination(rate: 0.2), ExtraClearance(rate: 0.3)])
        let a = try alone.run(from: 0, to: 5, output: .times([5]), options: options)
        let b = try both.run(from: 0, to: 5, output: .times([5]), options: options)
        #expect(abs(a.series(named: "x")![0] - 10 * Double.exp(-0.2 * 5)) < 1e-8)
        #expect(abs(b.series(named: "x")![0] - 10 * Double.exp(-0.5 * 5)) < 1e-8)
        #expect(b.metadata.modules.map(\.id) == ["elimination", "extra-clearance"])
        #expect(a.metadata.parameterHash != b.metadata.parameterHash || a.metadata.modules != b.metadata.modules)
    }

    @Test("a controller runs every 5 time units; continuous parts integrate between ticks")
    func discreteRates() throws {
        let engine = try ModuleEngine(modules: [Infusion(), Controller()])
        let run = try engine.run(from: 0, to: 30, output: .evenlySpaced(count: 301), options: options)
        let u = run.series(named: "u")!, y = run.series(named: "y")!
        // u changes only at multiples of 5.
        for i in 1..<run.times.count where u[i] != u[i - 1] {
            let t = run.times[i]
            #expect(abs(t / 5 - (t / 5).rounded()) < 1e-9, "u changed at t = \(t)")
        }
        // Between ticks y follows the exact solution of y' = u - 0.5 y from the tick's state.
        var t0 = 0.0, y0 = 0.0, u0 = 8.0   // first tick at 0: u = 2 (4 - 0)
        for i in 0..<run.times.count {
            let t = run.times[i]
            let tick = (t / 5).rounded(.down) * 5
            if tick > t0 {
                // advance the exact solution to the new tick and apply the controller
                y0 = 2 * u0 + (y0 - 2 * u0) * Double.exp(-0.5 * (tick - t0))
                t0 = tick
                u0 = max(0, 2 * (4 - y0))
            }
            let exact = 2 * u0 + (y0 - 2 * u0) * Double.exp(-0.5 * (t - t0))
            #expect(abs(y[i] - exact) < 1e-7, "t = \(t): \(y[i]) vs \(exact)")
            #expect(abs(u[i] - u0) < 1e-9)
        }
    }

    @Test("discrete modules due at one tick update synchronously")
    func synchronousUpdate() throws {
        let engine = try ModuleEngine(modules: [PingPong(id: "a", mine: "a", other: "b"), PingPong(id: "b", mine: "b", other: "a"),
                                                Elimination(rate: 1)])
        let run = try engine.run(from: 0, to: 2, output: .times([0, 1, 2]), options: options)
        #expect(run.series(named: "a") == [1, 2, 3])
        #expect(run.series(named: "b") == [1, 2, 3])
    }

    @Test("a read that nobody writes is an error naming the module and the variable")
    func unresolvedRead() {
        do {
            _ = try ModuleEngine(modules: [Reader()])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unresolvedRead)
            #expect(error.module == "reader")
            #expect(error.variable == "insulin")
        }
        // Given as an input, the same read resolves.
        #expect(throws: Never.self) {
            let engine = try ModuleEngine(modules: [Reader()], inputs: [.constant("insulin", unit: "pmol/L", 2)])
            let run = try engine.run(from: 0, to: 1, output: .times([1]), options: options)
            #expect(abs(run.series(named: "z")![0] - 2) < 1e-10)
        }
    }

    @Test("two owners of one variable conflict; additive contributions do not")
    func ownership() {
        do {
            _ = try ModuleEngine(modules: [Elimination(rate: 1), Elimination(id: "elimination-2", rate: 2)])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .conflictingWrite)
            #expect(error.variable == "x")
            #expect(error.message.contains("elimination") && error.message.contains("elimination-2"))
        }
        #expect(throws: Never.self) { _ = try ModuleEngine(modules: [ExtraClearance(rate: 1), ExtraClearance(id: "third", rate: 2)]) }
        #expect(throws: SimulationError.self) { _ = try ModuleEngine(modules: [Elimination(rate: 1), Elimination(rate: 1)]) }
    }

    @Test("unit mismatches are rejected")
    func units() {
        do {
            _ = try ModuleEngine(modules: [Reader(name: "x"), Elimination(rate: 1)])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unitMismatch)
            #expect(error.variable == "x")
        }
    }

    @Test("a NaN appearing mid-run names the module and the variable", arguments: [SolverMethod.dormandPrince, .rodas5, .rodas5P])
    func nanMidRun(method: SolverMethod) throws {
        let engine = try ModuleEngine(modules: [Fragile(), Elimination(rate: 1)])
        do {
            _ = try engine.run(from: 0, to: 5, options: SolverOptions(method: method, rtol: 1e-8, atol: 1e-10))
            Issue.record("expected an error")
        } catch {
            #expect(error.module == "fragile-organ", "\(error)")
            #expect(error.variable == "damage", "\(error)")
            #expect(abs((error.time ?? 0) - 2) < 1e-3)
        }
    }

    @Test("a non-finite discrete update names its module")
    func nanDiscrete() throws {
        let engine = try ModuleEngine(modules: [BadDiscrete(), Elimination(rate: 1)])
        do {
            _ = try engine.run(from: 0, to: 5, options: options)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .nonFiniteValue)
            #expect(error.module == "bad-controller")
            #expect(error.variable == "dose")
            #expect(error.time == 3)
        }
    }

    @Test("missing initial values are reported by name")
    func missingInitialValue() throws {
        struct NoDefault: Module {
            var id = "nodefault"
            var variables: [VariableDeclaration] { [.owns("w", unit: "1")] }
        }
        let engine = try ModuleEngine(modules: [NoDefault()])
        do {
            _ = try engine.run(from: 0, to: 1, options: options)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.variable == "w")
        }
        #expect(throws: Never.self) { _ = try engine.run(initialValues: ["w": 1], from: 0, to: 1, options: options) }
    }

    @Test("the seed is recorded, reproduces the run, and each module's stream is independent of the others")
    func seeds() throws {
        let one = try ModuleEngine(modules: [NoisyDiscrete(id: "a"), Elimination(rate: 1)])
        let two = try ModuleEngine(modules: [NoisyDiscrete(id: "a"), NoisyDiscrete(id: "b"), Elimination(rate: 1)])
        let times = OutputTimes.times([0.5, 1.5, 2.5, 3.5])
        let r1 = try one.run(from: 0, to: 4, output: times, options: options, seed: 12345)
        let r2 = try one.run(from: 0, to: 4, output: times, options: options, seed: 12345)
        let r3 = try one.run(from: 0, to: 4, output: times, options: options, seed: 54321)
        let r4 = try two.run(from: 0, to: 4, output: times, options: options, seed: 12345)
        #expect(r1.metadata.seed == 12345)
        #expect(r1.series(named: "a.noise") == r2.series(named: "a.noise"))
        #expect(r1.series(named: "a.noise") != r3.series(named: "a.noise"))
        #expect(r1.series(named: "a.noise") == r4.series(named: "a.noise"))
        #expect(r4.series(named: "a.noise") != r4.series(named: "b.noise"))
    }

    @Test("parameter hash is order-independent and sensitive to values")
    func parameterHash() {
        let a = RunMetadata.parameterHash([(name: "k1", value: 0.5), (name: "k2", value: 0.2)])
        let b = RunMetadata.parameterHash([(name: "k2", value: 0.2), (name: "k1", value: 0.5)])
        let c = RunMetadata.parameterHash([(name: "k1", value: 0.5), (name: "k2", value: 0.20000000000000004)])
        #expect(a == b)
        #expect(a != c)
        #expect(a.count == 16)
        // FNV-1a 64 of the empty input is its offset basis.
        #expect(RunMetadata.parameterHash([(name: String, value: Double)]()) == "cbf29ce484222325")
    }
}
