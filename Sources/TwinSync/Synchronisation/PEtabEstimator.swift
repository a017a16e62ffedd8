import Foundation
import TwinCalibration
import TwinCore
import TwinSimulation

/// Maximum likelihood for a PEtab problem's SBML model as an ``Estimator``: the readings assimilated so far
/// become the problem's measurements (each with the condition, observable and noise parameters it carries,
/// ``PEtabThread``), the binding's estimated parameters are fitted by TwinCalibration's ``PEtabCalibration``
/// (bounded Levenberg-Marquardt on their PEtab scales, noise parameters profiled when estimated) from the
/// binding's start values, every other parameter fixed at its nominal value. Standard deviations are the
/// fit's Gauss-Newton standard errors on the parameters' scales (none for profiled noise parameters).
///
/// A reading that names no condition (it was not imported from the problem) is taken in the problem's only
/// condition; with several conditions it is refused, naming them.
///
/// Forecasts (``forecast(at:level:)``): a PEtab problem's experiments each start at time zero (the binding's
/// origin) under their own condition, so a forecast continues **the experiment of the latest reading**: its
/// simulation condition, with its pre-equilibration (before any reading: the problem's only condition, else
/// refused naming them). Each binding output (observable) measured in that experiment is forecast with the
/// observable and noise parameters of its latest reading there; an observable not measured in it is forecast
/// only when its formulas have no placeholders (else it has no forecast points). The mean is the observable at
/// the current estimate, simulated as the problem's likelihood simulates it (TwinCalibration's
/// ``PEtabCalibration/predictions(_:)``); the central interval at `level` is the delta method through the
/// estimated parameters' standard deviations on their scales, taken as independent (the calibration reports
/// standard errors, not their covariance), with central differences of 1e-4 on each scale. Measurement noise is
/// not included.
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
        for var r in readings {
            if r.context["condition"] == nil { r.context["condition"] = try onlyCondition(for: "reading \(r.event.abbreviated()) at \(r.effective), which names no PEtab condition,") }
            measurements.append(try PEtabThread.measurement(r, observable: binding.outputs[r.output].output))
        }
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

    /// The problem's only condition, for `what` (a reading or a forecast with no condition of its own).
    /// - Throws: ``SyncError`` `invalidArgument` naming the conditions when there are several.
    func onlyCondition(for what: String) throws -> String {
        let ids = problem.conditions.keys.sorted()
        guard ids.count == 1 else {
            throw SyncError(.invalidArgument, "\(what) cannot be placed in the PEtab problem of binding '\(binding.name)': it has \(ids.count) conditions (\(ids.joined(separator: ", "))); import the problem's measurements with `twinbank twin bind --preset petab --import-measurements`, whose readings name theirs.",
                            value: ids.joined(separator: ","))
        }
        return ids[0]
    }

    /// The estimated parameters' current values (natural units) and standard deviations on their scales.
    var current: [(id: String, value: Double, scale: ThreadBinding.EstimatedParameter.Scale, sd: Double?)] {
        estimate.parameters.map { ($0.id, $0.value, $0.scale, $0.standardDeviation) }
    }

    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        guard !times.isEmpty else { return [] }
        for t in times where !(t >= 0 && t.isFinite) {
            throw SyncError(.invalidTime, "a forecast time of binding '\(binding.name)' is \(t); a PEtab experiment runs from its time zero (the binding's origin).", value: String(t))
        }
        // the experiment of the latest reading (ties: the last assimilated)
        let latest = measurements.indices.max { (measurements[$0].time, $0) < (measurements[$1].time, $1) }.map { measurements[$0] }
        let condition = try latest?.simulationConditionId ?? onlyCondition(for: "a forecast before any reading")
        let pre = latest?.preequilibrationConditionId
        var rows: [PEtabProblem.Measurement] = [], outputs: [Int] = []
        for (k, o) in binding.outputs.enumerated() {
            let id = o.output
            guard let observable = problem.observables[id] else { continue }
            let last = measurements.last { $0.observableId == id && $0.simulationConditionId == condition && $0.preequilibrationConditionId == pre }
            if last == nil {
                let placeholders = observable.formula.symbols.union(observable.noiseFormula.symbols)
                    .contains { ($0.hasPrefix("observableParameter") || $0.hasPrefix("noiseParameter")) && $0.hasSuffix("_\(id)") }
                if placeholders { continue }
            }
            outputs.append(k)
            for t in times {
                rows.append(PEtabProblem.Measurement(observable: id, condition: condition, time: t, value: 0, observableParameters: last?.observableParameters ?? [],
                                                     noiseParameters: last?.noiseParameters ?? [], preequilibration: pre))
            }
        }
        guard !rows.isEmpty else { return [] }
        let current = self.current
        let predict: ([Double]) throws -> [Double]
        do {
            let sub = try problem.subproblem(measurements: rows, estimating: binding.estimated.map(\.parameter))
            let calibration = try PEtabCalibration(problem: sub, simulator: simulator)
            predict = { scaled in
                try calibration.predictions(Dictionary(uniqueKeysWithValues: current.indices.map { (current[$0].id, current[$0].scale.fromScale(scaled[$0])) }))
            }
        } catch let e as CalibrationError {
            throw SyncError(.invalidPEtab, "forecasting binding '\(binding.name)' in condition '\(condition)': \(e)", value: condition)
        }
        let theta = current.map { $0.scale.toScale($0.value) }, h = 1e-4
        let centre: [Double]
        var variance = [Double](repeating: 0, count: rows.count)
        do {
            centre = try predict(theta)
            for k in theta.indices {
                guard let sd = current[k].sd, sd > 0 else { continue }
                var up = theta, down = theta
                up[k] += h; down[k] -= h
                let (a, b) = (try predict(up), try predict(down))
                for i in rows.indices { let g = (a[i] - b[i]) / (2 * h); variance[i] += g * g * sd * sd }
            }
        } catch let e as CalibrationError {
            throw SyncError(.simulationFailed, "forecasting binding '\(binding.name)' in condition '\(condition)': \(e)", value: condition)
        }
        let z = inverseStandardNormal(0.5 + level / 2)
        return times.indices.flatMap { i in
            outputs.indices.map { j in
                let row = j * times.count + i, sd = variance[row].squareRoot()
                return ForecastPoint(time: times[i], output: outputs[j], mean: centre[row], standardDeviation: sd, lower: centre[row] - z * sd, upper: centre[row] + z * sd)
            }
        }
    }
}
