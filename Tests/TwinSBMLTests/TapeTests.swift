import Foundation
import TwinTesting
import Testing
import TwinCore
@testable import TwinSBML

/// The tape (straight-line program of derived values and rates), its analytic Jacobian and its
/// time switches, checked against the closures, against finite differences and against analytic
/// solutions, on the SBML Test Suite's models and on Chen_MSB2009.
@Suite struct TapeTests {
    /// The compiled models of the suite's time-course cases (highest Level/Version), each with a state
    /// away from the initial one (so that the check does not only see zeros).
    static func suiteModels() throws -> [(id: String, model: CompiledModel, y: [Double])] {
        var out: [(String, CompiledModel, [Double])] = []
        for dir in try TestSuiteRunner.caseDirectories(in: SuitePaths.cases.path) {
            let id = String(dir.split(separator: "/").last!)
            guard let path = TestSuiteRunner.preference.map({ "\(dir)/\(id)-sbml-\($0).xml" }).first(where: { FileManager.default.fileExists(atPath: $0) }),
                  let sbml = try? SBMLReader.read(path: path), let model = try? ModelCompiler.compile(sbml),
                  model.dimension > 0, (try? Simulator(model: model).simulate(outputTimes: [0], outputs: [])) != nil else { continue }
            let y = model.currentState().enumerated().map { $0.element * (1 + 0.05 * sin(Double($0.offset + 1))) + 1e-3 * Double($0.offset % 3) }
            out.append((id, model, y))
        }
        return out
    }

    static func rhs(_ m: CompiledModel, _ t: Double, _ y: [Double], closures: Bool = false) -> [Double] {
        var dy = [Double](repeating: 0, count: m.dimension)
        y.withUnsafeBufferPointer { yb in
            dy.withUnsafeMutableBufferPointer {
                if closures { m.closureDerivatives(t: t, y: yb, dy: $0) } else { m.derivatives(t: t, y: yb, dy: $0) }
            }
        }
        return dy
    }

    static var chen: URL { SharedFolder.data("petab/Chen_MSB2009") }

    /// On every suite model that runs on the tape: the tape's rates equal the closures' (to 1e-13), and
    /// where the model has an analytic Jacobian it matches finite differences.
    @Test(.enabled(if: SharedFolder.has("data/sbml-test-suite/cases"),
                   "skipped: the SBML Test Suite data/sbml-test-suite/cases is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func tapeAndJacobianAgreeWithClosuresAndFiniteDifferences() throws {
        try #require(FileManager.default.fileExists(atPath: SuitePaths.cases.path))
        var compared = 0, jacobians = 0
        for (id, m, y) in try Self.suiteModels() where m.runsOnTape {
            for t in [0.0, 0.7, 3.3] {
                let a = Self.rhs(m, t, y), b = Self.rhs(m, t, y, closures: true)
                for k in a.indices {
                    let same = a[k] == b[k] || (a[k].isNaN && b[k].isNaN) || abs(a[k] - b[k]) <= 1e-13 * max(abs(a[k]), abs(b[k]))
                    #expect(same, "case \(id): rate of '\(m.variableNames[k])' at t = \(t): tape \(a[k]), closures \(b[k])")
                }
            }
            compared += 1
            if m.hasAnalyticJacobian, Self.checkJacobian(m, 0.4, y, label: "case \(id)") { jacobians += 1 }
        }
        // Models with delay() or algebraic rules keep the closures; nearly all others run on the tape.
        #expect(compared > 900)
        #expect(jacobians > 500)
    }

    /// Richardson-extrapolated central differences of the right-hand side, per column (steps of 1e-3 of
    /// the state's scale, so that rounding stays small); entries where the one-sided differences
    /// disagree (a kink or a switch next to the point) are nil.
    static func finiteDifferenceJacobian(_ m: CompiledModel, _ t: Double, _ y: [Double]) -> [[Double?]] {
        let n = m.dimension
        var jac = [[Double?]](repeating: [Double?](repeating: nil, count: n), count: n)
        let f0 = rhs(m, t, y)
        let scale = y.map(abs).max() ?? 0
        for j in 0..<n {
            let h = 1e-3 * max(abs(y[j]), 1e-2 * scale, 1e-6)
            func shifted(_ d: Double) -> [Double] { var z = y; z[j] += d; return rhs(m, t, z) }
            let p1 = shifted(h), m1 = shifted(-h), p2 = shifted(h / 2), m2 = shifted(-h / 2)
            for i in 0..<n {
                let d1 = (p1[i] - m1[i]) / (2 * h), d2 = (p2[i] - m2[i]) / h
                let forward = (p2[i] - f0[i]) / (h / 2), backward = (f0[i] - m2[i]) / (h / 2)
                let richardson = (4 * d2 - d1) / 3
                if abs(forward - backward) <= 1e-2 * abs(richardson) + 1e-300 || forward == backward { jac[i][j] = richardson }
            }
        }
        return jac
    }

    static func checkJacobian(_ m: CompiledModel, _ t: Double, _ y: [Double], label: String) -> Bool {
        let n = m.dimension
        guard let pattern = m.jacobianSparsity else { return false }
        var values = [Double](repeating: 0, count: pattern.count)
        let ok = y.withUnsafeBufferPointer { yb in values.withUnsafeMutableBufferPointer { m.sparseJacobian(t: t, y: yb, values: $0) } }
        guard ok else { return false }
        var analytic = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for (k, p) in pattern.enumerated() { analytic[p.row][p.column] += values[k] }
        let fd = finiteDifferenceJacobian(m, t, y)
        for i in 0..<n {
            var rowScale = 0.0
            for j in 0..<n { rowScale = max(rowScale, abs(analytic[i][j])) }
            for j in 0..<n {
                guard let d = fd[i][j] else { continue }
                let close = abs(analytic[i][j] - d) <= 1e-5 * rowScale + 1e-6 * abs(d) + 1e-12
                #expect(close, "\(label): ∂'\(m.variableNames[i])'/∂'\(m.variableNames[j])' analytic \(analytic[i][j]), finite differences \(d)")
            }
        }
        return true
    }

    @Test(.enabled(if: SharedFolder.has("data/petab/Chen_MSB2009/model_Chen_MSB2009.xml"),
                   "skipped: the PEtab problem data/petab/Chen_MSB2009 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func analyticJacobianMatchesFiniteDifferencesOnChen() throws {
        let path = Self.chen.appendingPathComponent("model_Chen_MSB2009.xml").path
        try #require(FileManager.default.fileExists(atPath: path))
        let m = try ModelCompiler.compile(try SBMLReader.read(path: path))
        #expect(m.hasAnalyticJacobian)
        _ = try Simulator(model: m).simulate(outputTimes: [0], outputs: [])
        let y = m.currentState().enumerated().map { $0.element * (1 + 0.1 * sin(Double($0.offset))) + 10 }
        #expect(Self.checkJacobian(m, 2000, y, label: "Chen_MSB2009"))
    }

    /// x' = 1 before t = 5 and 0 after: the switch is found to 1e-13 and x(10) = 5 to rounding, with the
    /// integrator stopping at the kink instead of stepping across it.
    @Test func timeSwitchIsLocatedAndStepsStopThere() throws {
        let sbml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
          <model id="kink">
            <listOfParameters><parameter id="x" value="0" constant="false"/></listOfParameters>
            <listOfRules>
              <rateRule variable="x">
                <math xmlns="http://www.w3.org/1998/Math/MathML">
                  <piecewise>
                    <piece><cn>1</cn><apply><lt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><cn>5</cn></apply></piece>
                    <otherwise><cn>0</cn></otherwise>
                  </piecewise>
                </math>
              </rateRule>
            </listOfRules>
          </model>
        </sbml>
        """
        let m = try ModelCompiler.compile(try SBMLReader.read(string: sbml))
        #expect(m.hasTimeSwitches)
        let s = try #require(m.timeSwitch(after: 0, before: 10))
        #expect(abs(s.lo - 5) <= 1e-13 && abs(s.hi - 5) <= 1e-13 && s.lo < s.hi)
        #expect(m.timeSwitch(after: 5.5, before: 10) == nil)
        var options = SimulationOptions()
        options.relativeTolerance = 1e-10
        let rows = try Simulator(model: m, options: options).simulate(outputTimes: [0, 2.5, 5, 7.5, 10], outputs: [OutputVariable(id: "x")])
        for (t, row) in zip([0, 2.5, 5, 7.5, 10.0], rows) {
            #expect(abs(row[0] - min(t, 5)) <= 1e-12, "x(\(t)) = \(row[0])")
        }
    }

    /// Chen_MSB2009 under both of its PEtab conditions at the collection's nominal parameters: the three
    /// observables at the 120 measurement points against the collection's own `simulatedData` (made with
    /// another simulator). libRoadRunner 2.10 agrees with that table to 2.8e-3 relative.
    @Test(.enabled(if: SharedFolder.has("data/petab/Chen_MSB2009/model_Chen_MSB2009.xml"),
                   "skipped: the PEtab problem data/petab/Chen_MSB2009 is missing (put ../shared beside the package or set TWINBANK_SHARED)"))
    func chenReproducesThePEtabSimulatedData() throws {
        let dir = Self.chen
        let modelPath = dir.appendingPathComponent("model_Chen_MSB2009.xml").path
        try #require(FileManager.default.fileExists(atPath: modelPath))
        let m = try ModelCompiler.compile(try SBMLReader.read(path: modelPath))
        func table(_ name: String) throws -> [[String: String]] {
            let table = try CSVTable(text: try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8), name: name, separator: UInt8(ascii: "\t"))
            let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
            return table.rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0).map { ($0, $1.trimmingCharacters(in: .whitespaces)) }) }
        }
        var nominal: [String: Double] = [:]
        for row in try table("parameters_Chen_MSB2009.tsv") { nominal[row["parameterId"]!] = Double(row["nominalValue"]!) }
        var formulas: [String: String] = [:]
        for row in try table("observables_Chen_MSB2009.tsv") { formulas[row["observableId"]!] = row["observableFormula"]! }
        let simulated = try table("simulatedData_Chen_MSB2009.tsv")
        var worst = 0.0
        var compared = 0
        for condition in try table("experimentalCondition_Chen_MSB2009.tsv") {
            var options = SimulationOptions()
            options.relativeTolerance = 1e-6
            options.absoluteTolerance = 1e-12
            for (id, v) in nominal where m.slotOfSymbol[id] != nil { options.overrides[id] = v }
            for (id, v) in condition where id != "conditionId" && id != "conditionName" { options.overrides[id] = Double(v) }
            let rows = simulated.filter { $0["simulationConditionId"] == condition["conditionId"] }
            let times = Array(Set(rows.compactMap { Double($0["time"]!) })).sorted()
            let species = m.model.species.map(\.id)
            let result = try Simulator(model: m, options: options).simulate(outputTimes: times, outputs: species.map { OutputVariable(id: $0, concentration: true) })
            for row in rows {
                let i = times.firstIndex(of: Double(row["time"]!)!)!
                var env: [String: Double] = [:]
                for (k, s) in species.enumerated() { env[s] = result[i][k] }
                let observable = row["observableId"]!
                env["observableParameter1_\(observable)"] = nominal[row["observableParameters"]!]
                let value = try ArithmeticFormula.evaluate(formulas[observable]!, env)
                let expected = Double(row["simulation"]!)!
                let deviation = abs(value - expected) / max(abs(expected), 1e-3)
                worst = max(worst, deviation)
                #expect(deviation < 1e-2, "\(observable) at t = \(row["time"]!) in \(condition["conditionId"]!): \(value) vs \(expected)")
                compared += 1
            }
        }
        #expect(compared == simulated.count)
        print("Chen_MSB2009 vs PEtab simulatedData: \(compared) points, worst relative deviation \(worst)")
    }
}

/// Evaluates a PEtab observable formula of numbers, identifiers, `+ - * /` and parentheses.
enum ArithmeticFormula {
    struct Failure: Error { var message: String }

    static func evaluate(_ text: String, _ env: [String: Double]) throws -> Double {
        var p = Parser(chars: Array(text), env: env)
        let v = try p.sum()
        p.skip()
        guard p.i == p.chars.count else { throw Failure(message: "unexpected '\(p.chars[p.i])' in \(text)") }
        return v
    }

    struct Parser {
        let chars: [Character]
        let env: [String: Double]
        var i = 0
        init(chars: [Character], env: [String: Double]) { self.chars = chars; self.env = env }
        mutating func skip() { while i < chars.count && chars[i] == " " { i += 1 } }
        mutating func sum() throws -> Double {
            var v = try product()
            while true {
                skip()
                guard i < chars.count, chars[i] == "+" || chars[i] == "-" else { return v }
                let op = chars[i]; i += 1
                let r = try product()
                v = op == "+" ? v + r : v - r
            }
        }
        mutating func product() throws -> Double {
            var v = try atom()
            while true {
                skip()
                guard i < chars.count, chars[i] == "*" || chars[i] == "/" else { return v }
                let op = chars[i]; i += 1
                let r = try atom()
                v = op == "*" ? v * r : v / r
            }
        }
        mutating func atom() throws -> Double {
            skip()
            guard i < chars.count else { throw Failure(message: "formula ends early") }
            if chars[i] == "(" {
                i += 1
                let v = try sum()
                skip()
                guard i < chars.count, chars[i] == ")" else { throw Failure(message: "missing ')'") }
                i += 1
                return v
            }
            if chars[i] == "-" { i += 1; return -(try atom()) }
            let start = i
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
            let token = String(chars[start..<i])
            if let v = Double(token) { return v }
            guard let v = env[token] else { throw Failure(message: "unknown symbol '\(token)'") }
            return v
        }
    }
}
