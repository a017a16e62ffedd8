import Foundation
import TwinSimulation
import TwinSBML

/// A ``PEtabSimulator`` over an SBML model compiled by TwinSBML.
///
/// The compiled model owns working buffers and is not thread-safe, so simulations through one instance
/// are serialised by a lock; create one instance per concurrent calibration. Symbols in observable
/// formulas are reported as they appear in SBML math (species as concentrations, unless
/// `hasOnlySubstanceUnits`).
public final class SBMLModelSimulator: PEtabSimulator, @unchecked Sendable {
    private let lock = NSLock()
    private let model: CompiledModel
    private let defined: Set<String>
    public let relativeTolerance: Double
    public let absoluteTolerance: Double
    /// The most integrator steps one simulation may take; beyond it the simulation fails and a calibration
    /// rejects that trial point. TwinSBML integrates with an explicit Dormand–Prince method, so parameter
    /// values that make a model very stiff (fast rates at the edge of wide bounds) need many steps; the
    /// default of 5,000 keeps a multi-start calibration fast by rejecting those corners. Raise it for models
    /// that are stiff at their optimum.
    public let maxSteps: Int

    /// Reads and compiles the SBML file. The default tolerances (relative 1e-8, absolute 1e-6 in the model's
    /// amount units) keep simulated observables accurate to about 1e-7 relative, far below measurement noise.
    public init(file: URL, relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-6, maxSteps: Int = 5_000) throws {
        do {
            let sbml = try SBMLReader.read(path: file.path)
            model = try ModelCompiler.compile(sbml)
        } catch where error.code == .unsupported || error.code == .unknownMathML {
            // a construct TwinSBML does not handle: a refusal naming the SBML feature, not a broken problem
            throw CalibrationError(.unsupported, "the SBML model \(file.lastPathComponent) uses a feature not supported: \(error)", value: error.value ?? file.path)
        } catch {
            throw CalibrationError(.invalidPEtab, "cannot load the SBML model \(file.lastPathComponent): \(error)", value: file.path)
        }
        defined = Set(model.slotOfSymbol.keys)
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
    }

    public func defines(_ id: String) -> Bool { defined.contains(id) }

    /// The model's state variables: species that no rule sets, and the variables of rate rules.
    public var stateIds: [String]? { model.variableNames }

    /// The steady state (``PEtabSteadyStateTest``) with the model's own rates: at each test time the state
    /// (species in amounts) is put through the compiled right-hand side.
    public func steadyState(outputs: [String], overrides: [String: Double]) throws -> PEtabSteadyState {
        let ids = model.variableNames
        let times = PEtabSteadyStateTest.times
        let columns = outputs.map { OutputVariable(id: $0) } + ids.map { OutputVariable(id: $0) }
            + ids.map { OutputVariable(id: $0, concentration: false) }
        lock.lock()
        defer { lock.unlock() }
        let rows: [[Double]]
        do {
            rows = try Simulator(model: model, options: options(overrides)).simulate(outputTimes: times, outputs: columns)
        } catch {
            throw CalibrationError(.simulationFailed, "\(error)", value: error.value)
        }
        let n = ids.count, o = outputs.count
        var rates = [Double](repeating: 0, count: n)
        var last = (value: Double.infinity, worst: 0)
        for (k, row) in rows.enumerated() {
            let amounts = Array(row[(o + n)..<(o + 2 * n)])
            amounts.withUnsafeBufferPointer { y in
                rates.withUnsafeMutableBufferPointer { model.derivatives(t: times[k], y: y, dy: $0) }
            }
            last = PEtabSteadyStateTest.wrms(state: amounts, rates: rates)
            if last.value < 1 {
                var state: [String: Double] = [:]
                for (j, id) in ids.enumerated() { state[id] = row[o + j] }
                return PEtabSteadyState(outputs: Array(row[0..<o]), state: state, time: times[k], wrms: last.value)
            }
        }
        let worst = n == 0 ? "?" : ids[last.worst]
        throw CalibrationError(.simulationFailed, "no steady state by t = 1e8 (weighted RMS of the rates \(last.value), largest for '\(worst)').", value: worst)
    }

    private func options(_ overrides: [String: Double]) -> SimulationOptions {
        var options = SimulationOptions()
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        options.overrides = overrides
        options.maxSteps = maxSteps
        return options
    }

    public func simulate(times: [Double], outputs: [String], overrides: [String: Double]) throws -> [[Double]] {
        var options = SimulationOptions()
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        options.overrides = overrides
        options.maxSteps = maxSteps
        lock.lock()
        defer { lock.unlock() }
        let simulator = Simulator(model: model, options: options)
        do {
            return try simulator.simulate(outputTimes: times, outputs: outputs.map { OutputVariable(id: $0) })
        } catch {
            throw CalibrationError(.simulationFailed, "\(error)", value: error.value)
        }
    }
}

extension PEtabCalibration {
    /// Loads a PEtab problem and its SBML model.
    public static func load(yaml url: URL, maxSteps: Int = 5_000) throws -> PEtabCalibration {
        let problem = try PEtabProblem.load(yaml: url)
        return try PEtabCalibration(problem: problem, simulator: try SBMLModelSimulator(file: problem.modelFile, maxSteps: maxSteps))
    }
}
