import Foundation
import TwinCalibration
import TwinCore

/// Maximum likelihood for a PEtab problem's SBML model as an ``Estimator``: the readings assimilated so far
/// become the problem's measurements (each with the condition, observable and noise parameters it carries,
/// ``PEtabThread``), the binding's estimated parameters are fitted by TwinCalibration's ``PEtabCalibration``
/// (bounded Levenberg-Marquardt on their PEtab scales, noise parameters profiled when estimated) from the
/// binding's start values, every other parameter fixed at its nominal value. Standard deviations are the
/// fit's standard errors on the parameters' scales.
///
/// A PEtab problem's experiments each start at time zero under their own condition, so they share no future:
/// ``forecast(at:level:)`` returns no points.
public struct PEtabEstimator: Estimator {
    public let problem: PEtabProblem
    public let binding: ThreadBinding
    public let simulator: SBMLModelSimulator
    /// Calibration settings (starts, seed, optimiser).
    public var options: PEtabCalibration.Options
    public private(set) var measurements: [PEtabProblem.Measurement] = []
    public private(set) var result: PEtabCalibration.Result?
    /// Where the fit starts, on each estimated parameter's scale, and in natural units.
    private let start: [Double]
    private let startValues: [Double]

    public var label: String { "PEtab-ML" }
    public var settings: [String] {
        ["starts=\(options.starts + 1)", "seed=\(options.seed)", "optimizer=LM(maxIterations=\(options.optimizer.maxIterations),functionTolerance=\(options.optimizer.functionTolerance))",
         "start=" + zip(binding.estimated, startValues).map { "\($0.parameter):\(Value.format($1))" }.joined(separator: ","),
         "fixed=nominal"]
    }

    /// Loads the binding's PEtab problem and its SBML model.
    /// - Throws: ``SyncError`` `invalidBinding` when the binding is not a petab binding or estimates nothing;
    ///   `invalidPEtab` when the problem or model cannot be read (the path named).
    public init(binding: ThreadBinding, seed: UInt64 = 1) throws {
        guard binding.model.kind == .petab, let file = binding.model.file else {
            throw SyncError(.invalidBinding, "binding '\(binding.name)' does not name a PEtab problem.", value: binding.name)
        }
        guard !binding.estimated.isEmpty else { throw SyncError(.invalidBinding, "binding '\(binding.name)' estimates no parameter.", value: binding.name) }
        do {
            problem = try PEtabProblem.load(yaml: URL(fileURLWithPath: file))
            simulator = try SBMLModelSimulator(file: problem.modelFile)
        } catch {
            throw SyncError(.invalidPEtab, "cannot load the PEtab problem '\(file)' of binding '\(binding.name)': \(error)", value: file)
        }
        self.binding = binding
        var start: [Double] = [], startValues: [Double] = []
        for e in binding.estimated {
            guard let p = problem.estimated.first(where: { $0.id == e.parameter }) else {
                throw SyncError(.invalidBinding, "binding '\(binding.name)': '\(e.parameter)' is not an estimated parameter of the PEtab problem.", value: e.parameter)
            }
            guard e.scale.rawValue == p.scale.rawValue else {
                throw SyncError(.invalidBinding, "binding '\(binding.name)': '\(e.parameter)' is on the \(p.scale.rawValue) scale in the PEtab problem, not \(e.scale.rawValue).", value: e.scale.rawValue)
            }
            let value = e.start ?? e.priorMean ?? p.nominal
            let lower = e.lower ?? p.lower, upper = e.upper ?? p.upper
            guard value.isFinite, value >= lower, value <= upper else {
                throw SyncError(.invalidBinding, "binding '\(binding.name)': the start of '\(e.parameter)' (\(value)) is not within its bounds [\(lower), \(upper)].", value: String(value))
            }
            start.append(p.scale.toScale(value))
            startValues.append(value)
        }
        self.start = start
        self.startValues = startValues
        var o = PEtabCalibration.Options()
        o.seed = seed
        o.starts = 0
        o.includeNominalStart = false
        self.options = o
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try await assimilate(contentsOf: [reading])
    }

    /// Adds the readings as measurements and fits once.
    public mutating func assimilate(contentsOf readings: [BoundThread.Reading]) async throws {
        for r in readings { measurements.append(try PEtabThread.measurement(r, observable: binding.outputs[r.output].output)) }
        guard !measurements.isEmpty else { return }
        var bounds: [String: (lower: Double?, upper: Double?)] = [:]
        for e in binding.estimated { bounds[e.parameter] = (e.lower, e.upper) }
        do {
            let sub = try problem.subproblem(measurements: measurements, estimating: binding.estimated.map(\.parameter), bounds: bounds)
            let calibration = try PEtabCalibration(problem: sub, simulator: simulator)
            var o = options
            o.additionalStarts = [calibration.fittedParameterIds.map { id in start[binding.estimated.firstIndex { $0.parameter == id }!] }]
            result = try calibration.fit(options: o)
        } catch let e as CalibrationError {
            throw SyncError(.calibrationFailed, "fitting '\(binding.name)' to \(measurements.count) readings: \(e)", value: nil)
        }
    }

    public var estimate: ParameterEstimate {
        ParameterEstimate(parameters: binding.estimated.enumerated().map { k, e in
            let fitted = result?.parameters.first { $0.id == e.parameter }
            return ParameterEstimate.Parameter(id: e.parameter, value: fitted?.value ?? startValues[k], unit: "1", scale: e.scale,
                                               standardDeviation: fitted?.standardError, prior: startValues[k])
        }, readings: measurements.count)
    }

    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] { [] }
}
