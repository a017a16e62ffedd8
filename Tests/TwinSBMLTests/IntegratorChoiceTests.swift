import Foundation
import Testing
import TwinSimulation
import TwinTesting
@testable import TwinSBML

/// SBML models run on `TwinSimulation`'s steppers; `SimulationOptions.method` chooses them.
@Suite struct IntegratorChoiceTests {
    /// Robertson's chemical kinetics (Hairer & Wanner, Solving ODEs II, p. 3): A -> B (0.04),
    /// 2B -> B + C (3e7), B + C -> A + C (1e4), stiff with eigenvalues near -1e4.
    static let robertson = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
          <model id="robertson">
            <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies>
              <species id="A" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
              <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
              <species id="C" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
            </listOfSpecies>
            <listOfParameters>
              <parameter id="k1" value="0.04" constant="true"/>
              <parameter id="k2" value="3e7" constant="true"/>
              <parameter id="k3" value="1e4" constant="true"/>
            </listOfParameters>
            <listOfReactions>
              <reaction id="R1" reversible="false">
                <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
                <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k1</ci><ci>A</ci></apply></math></kineticLaw>
              </reaction>
              <reaction id="R2" reversible="false">
                <listOfReactants><speciesReference species="B" stoichiometry="2" constant="true"/></listOfReactants>
                <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/><speciesReference species="C" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k2</ci><ci>B</ci><ci>B</ci></apply></math></kineticLaw>
              </reaction>
              <reaction id="R3" reversible="false">
                <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/><speciesReference species="C" stoichiometry="1" constant="true"/></listOfReactants>
                <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/><speciesReference species="C" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k3</ci><ci>B</ci><ci>C</ci></apply></math></kineticLaw>
              </reaction>
            </listOfReactions>
          </model>
        </sbml>
        """

    /// The reference at t = 40 (Hairer & Wanner's RADAU5 at tight tolerances): the stiff method from the start
    /// and the automatic switch meet it within the step budget; explicit Dormand-Prince alone cannot (its
    /// steps stay near the stability limit 3.3/|λ|) and stops with a clear error.
    @Test(arguments: [SolverMethod.auto, .rodas5P, .rodas5])
    func stiffModelRunsWithTheStiffStepper(method: SolverMethod) throws {
        let model = try ModelCompiler.compile(try SBMLReader.read(string: Self.robertson))
        var options = SimulationOptions()
        options.relativeTolerance = 1e-8
        options.absoluteTolerance = 1e-14
        options.maxSteps = 20_000
        options.method = method
        let rows = try Simulator(model: model, options: options)
            .simulate(outputTimes: [0, 0.4, 4, 40], outputs: ["A", "B", "C"].map { OutputVariable(id: $0) })
        let last = try #require(rows.last)
        #expect(abs(last[0] - 0.7158270687) < 1e-7)
        #expect(abs(last[1] - 9.185534764e-6) < 1e-11)
        #expect(abs(last[2] - 0.2841637457) < 1e-7)
        for r in rows { #expect(abs(r[0] + r[1] + r[2] - 1) < 1e-9) }
    }

    @Test func explicitOnlyRunOfAStiffModelStopsAtTheStepLimit() throws {
        let model = try ModelCompiler.compile(try SBMLReader.read(string: Self.robertson))
        var options = SimulationOptions()
        options.relativeTolerance = 1e-8
        options.absoluteTolerance = 1e-14
        options.maxSteps = 20_000
        options.method = .dormandPrince
        do {
            _ = try Simulator(model: model, options: options).simulate(outputTimes: [0, 40], outputs: [OutputVariable(id: "A")])
            Issue.record("explicit Dormand-Prince alone should not reach t = 40 in 20000 steps")
        } catch {
            #expect(error.code == .integration)
            #expect(error.message.contains("20000"))
        }
    }

    /// Case 00001 (analytic S1 = 1.5e-4 exp(-t)) agrees whichever stepper runs it (within the default
    /// tolerances: relative 1e-9, absolute 1e-12).
    @Test(arguments: [SolverMethod.auto, .dormandPrince, .rodas5P])
    func everyMethodMeetsTheAnalyticSolution(method: SolverMethod) throws {
        let dir = SuitePaths.cases.appendingPathComponent("00001").path
        let model = try ModelCompiler.compile(try SBMLReader.read(path: dir + "/00001-sbml-l3v2.xml"))
        var options = SimulationOptions()
        options.method = method
        let times = (0...50).map { Double($0) / 10 }
        let rows = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: [OutputVariable(id: "S1", concentration: false)])
        for (t, r) in zip(times, rows) {
            let exact = 1.5e-4 * exp(-t)
            #expect(abs(r[0] - exact) <= 1e-12 + 1e-7 * exact, "t = \(t): \(r[0]) vs \(exact)")
        }
    }
}

/// Laske_PLOSComputBiol2019 (PEtab benchmark collection, 34 species) is moderately stiff: Dormand-Prince's
/// steps sit at its stability limit from early on while Hairer's test (h·|λ| > 2 on 15 steps) only fired at
/// t = 2.8, after about 29 500 explicit steps (10.5 s in a debug build, libRoadRunner 0.22 s). The check of
/// the proposed step against the Jacobian's spectral radius every 200 steps moves it to Rodas5P early: the
/// whole run 0..10 now takes about 2 000 steps (1.2 s in a debug build), within a budget of 6 000.
@Suite struct StiffnessSwitchTests {
    static let model = SharedFolder.data("petab-benchmark-collection/Laske_PLOSComputBiol2019/model_Laske_PLOSComputBiol2019.xml").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: model), "the PEtab benchmark collection is not in the shared folder"))
    func laskeSwitchesToTheStiffStepperEarly() throws {
        let model = try ModelCompiler.compile(try SBMLReader.read(path: Self.model))
        var options = SimulationOptions()
        options.relativeTolerance = 1e-9
        options.absoluteTolerance = 1e-13
        options.maxSteps = 6_000
        let times = (0...10).map(Double.init)
        let outputs = model.model.species.map { OutputVariable(id: $0.id, concentration: true) }
        let auto = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: outputs)
        options.method = .rodas5P
        let stiff = try Simulator(model: model, options: options).simulate(outputTimes: times, outputs: outputs)
        // The two runs agree (the model amplifies local errors: libRoadRunner at relative 1e-10 differs from
        // both by up to 5.6e-6); the rule F_rnp_nuc = RNP_nuc / (RNP_nuc + RNP_cyt) is 0/0, NaN, at t = 0 in both.
        #expect(auto.count == times.count)
        for (a, b) in zip(auto, stiff) {
            for k in 0..<a.count where !(a[k].isNaN && b[k].isNaN) {
                #expect(abs(a[k] - b[k]) <= 1e-10 + 2e-5 * abs(b[k]), "\(outputs[k].id): \(a[k]) vs \(b[k])")
            }
        }
    }
}

/// Crauste_CellSystems2017 (PEtab benchmark collection) at its nominal parameters, 0..10: the trajectory
/// amplifies local errors about 1e5-fold (effector cells grow 20-fold between t = 7 and 8), so results
/// differ with the tolerance: libRoadRunner (CVODE) at relative 1e-10 is 2.5e-4 off the converged
/// solution, at 1e-6 25 % off. The committed reference is libRoadRunner at relative 1e-13 (it agrees with
/// scipy's DOP853 at 1e-13 to 6.5e-7; `Resources/crauste_reference.py` made it).
@Suite struct CrausteReferenceTests {
    static let model = SharedFolder.data("petab-benchmark-collection/Crauste_CellSystems2017/model_Crauste_CellSystems2017.xml").path
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/crauste-reference.csv")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: model), "the PEtab benchmark collection is not in the shared folder"),
          arguments: [(1e-9, 1e-13, 5e-5), (1e-12, 1e-16, 2e-6)])
    func agreesWithTheConvergedReference(relative: Double, absolute: Double, allowed: Double) throws {
        let lines = try String(contentsOf: Self.reference, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let header = lines[0].split(separator: ",").map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        let model = try ModelCompiler.compile(try SBMLReader.read(path: Self.model))
        var options = SimulationOptions()
        options.relativeTolerance = relative
        options.absoluteTolerance = absolute
        let ours = try Simulator(model: model, options: options)
            .simulate(outputTimes: rows.map { $0[0] }, outputs: header.dropFirst().map { OutputVariable(id: $0, concentration: true) })
        var worst = 0.0
        for (r, o) in zip(rows, ours) {
            for k in 0..<o.count { worst = max(worst, abs(o[k] - r[k + 1]) / max(abs(r[k + 1]), 1e-12)) }
        }
        #expect(worst < allowed, "largest relative deviation \(worst) at rtol \(relative)")
    }
}

/// Lang_PLOSComputBiol2024 (PEtab benchmark collection, 124 states, 669 reactions) is stiff from t = 6e-5.
/// Its Rodas5P run takes the tape's exact sparse Jacobian, not finite differences (which would cost one
/// right-hand side per colour group per step), and factorises on the sparse path (the dense one is about
/// 3x slower here): nine right-hand sides per step attempt (seven stages, ∂f/∂t, the accepted point).
@Suite struct StiffJacobianTests {
    static let model = SharedFolder.data("petab-benchmark-collection/Lang_PLOSComputBiol2024/model_Lang_PLOSComputBiol2024.xml").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: model), "the PEtab benchmark collection is not in the shared folder"))
    func langRunsRodas5POnTheAnalyticSparseJacobian() throws {
        let m = try ModelCompiler.compile(try SBMLReader.read(path: Self.model))
        #expect(m.runsOnTape)
        #expect(m.hasAnalyticJacobian)
        _ = try Simulator(model: m).simulate(outputTimes: [0], outputs: [])
        let y0 = m.currentState()
        let options = SolverOptions(method: .rodas5P, relativeTolerance: 1e-9, absoluteTolerance: .scalar(1e-12), maxSteps: 5_000)
        let stepper = try Rodas5Stepper(system: m, time: 0, state: y0, options: options)
        while stepper.time < 1 { try stepper.step(limit: 1) }
        let s = stepper.statistics
        #expect(stepper.usesSparseLinearAlgebra)
        #expect(s.jacobianEvaluations > 0)
        // Finite differences would add at least one evaluation per colour group (>= 10 here) per Jacobian.
        #expect(s.functionEvaluations <= 9 * s.totalSteps + 10, "\(s.functionEvaluations) evaluations in \(s.totalSteps) steps")
        #expect(s.totalSteps < 1_000, "\(s.totalSteps) steps")
        // The same model without its analytic Jacobian: coloured finite differences, many more evaluations.
        let fd = try Rodas5Stepper(system: WithoutJacobian(model: m), time: 0, state: y0, options: options)
        while fd.time < 1e-3 { try fd.step(limit: 1e-3) }
        #expect(fd.statistics.functionEvaluations > 9 * fd.statistics.totalSteps + 10 * fd.statistics.jacobianEvaluations)
    }

    /// A compiled model's right-hand side and pattern without its Jacobian.
    struct WithoutJacobian: ODESystem {
        let model: CompiledModel
        var dimension: Int { model.dimension }
        var jacobianSparsity: [(row: Int, column: Int)]? { model.jacobianSparsity }
        func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
            model.derivatives(t: t, y: y, dy: dy)
        }
    }
}
