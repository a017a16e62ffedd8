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
