import Foundation
import TwinCalibration
import TwinCore
import TwinModels
import TwinSimulation

/// MAP estimation of an SBML model's parameters as an ``Estimator`` (a ``ThreadBinding/ModelReference/Kind/sbml``
/// binding: any SBML model bound to a twin, no PEtab problem needed): the model (TwinCalibration's
/// ``SBMLModelSimulator``, relative tolerance 1e-10, absolute 1e-14) runs from the binding's origin with the
/// binding's parameters set; the estimated parameters are fitted on their scales by bounded Levenberg-Marquardt
/// to the readings (residuals weighted by the outputs' noise models, evaluated at the reading) plus, where the
/// binding gives a prior sd, the prior's penalty. Standard deviations are the Gauss-Newton ones on the
/// parameters' scales; forecasts are the model at the estimate with delta-method intervals through the Gauss-Newton
/// covariance (correlations included: two parameters the readings only fix in combination, such as a circulation's
/// blood volume and resistance from pressure alone, do not widen the forecast of what they fix; before any fit, or
/// when the covariance is singular, the standard deviations taken as independent).
///
/// Inputs: each of the binding's inputs names an SBML species of the model (``ThreadBinding/Input/input``); the
/// thread's doses of it (``BoundThread/doses``, those inside a forecast's horizon included) are given to the model
/// as it runs (``SBMLModelSimulator/Dose``): a `bolus` or `meal` adds its amount (in the model's substance units:
/// the input's unit) to the species' **amount** at its start, so a species in concentration rises by amount / its
/// compartment's size; an `infusion` adds amount / duration per time unit over its period. Refused: an input naming
/// something that is not a species (the model's species listed), an infusion without a period, a dose before the
/// origin. Without inputs the model runs exactly as without this support. Readings before the origin are refused.
///
/// A ``ThreadBinding/ModelReference/Kind/circulation`` binding runs here too: its SBML is not a file but TwinModels'
/// `CirculationSBML.document()` of the version the binding names (the person's values are the binding's parameters),
/// simulated at relative and absolute tolerances 1e-8 (its volumes are thousands of mL, its pressures tens of mmHg:
/// 1e-8 is far below the readings' noise, and a fit over hours of readings needs far fewer steps than at 1e-10).
public struct SBMLEstimator: Estimator {
    public let binding: ThreadBinding
    public let simulator: SBMLModelSimulator
    /// The parameters the binding sets (not estimated).
    public let fixed: [String: Double]
    /// The thread's doses as the model takes them (empty without inputs).
    public let doses: [SBMLModelSimulator.Dose]
    public private(set) var readings: [BoundThread.Reading] = []
    /// The estimate on the parameters' scales, and its standard deviations.
    public private(set) var theta: [Double]
    public private(set) var standardDeviations: [Double?]
    /// The Gauss-Newton covariance of the estimate on the parameters' scales (row-major), once fitted.
    public private(set) var covariance: [Double]?
    private let start: [Double], lower: [Double], upper: [Double]

    public var label: String { "SBML-MAP" }
    public var settings: [String] {
        [binding.model.kind == .circulation ? "solver=rtol1e-8,atol1e-8" : "solver=rtol1e-10,atol1e-14", "optimizer=LM", "start=" + zip(binding.estimated, start).map { "\($0.parameter):\(Value.format($0.scale.fromScale($1)))" }.joined(separator: ",")]
            + (doses.isEmpty ? [] : ["doses=\(doses.count)"])
    }

    /// - Throws: ``SyncError`` `invalidBinding` (no model file, an output without a noise model, an estimated
    ///   parameter without a start or prior mean the model does not define, an input that names no species of the
    ///   model), `invalidArgument` (the model cannot be read; an infusion without a period), `invalidTime` (a dose
    ///   before the origin), `unsupported` (a dosed species under a conversion factor).
    public init(binding: ThreadBinding, thread: BoundThread) throws {
        func fail(_ m: String, _ v: String?) -> SyncError { SyncError(.invalidBinding, "binding '\(binding.name)': \(m)", value: v) }
        let builtIn = binding.model.kind == .circulation
        guard builtIn || binding.model.kind == .sbml, let file = builtIn ? "\(binding.model.id)-\(CirculationSBML.modelVersion).xml" : binding.model.file else {
            throw fail("an sbml binding names its model file.", binding.model.id)
        }
        guard !binding.estimated.isEmpty else { throw fail("it estimates no parameter.", nil) }
        for o in binding.outputs where o.noise == nil { throw fail("output '\(o.output)' needs a noise model.", o.output) }
        var doses: [SBMLModelSimulator.Dose] = []
        for d in thread.doses {
            let input = binding.inputs[d.input]
            guard d.time >= 0 else {
                throw SyncError(.invalidTime, "binding '\(binding.name)': \(input.kind.rawValue) event \(d.event.abbreviated()) of '\(input.input)' starts at \(Value.format(d.time)) \(binding.timeUnit.rawValue), before the model's origin \(thread.origin.iso8601).",
                                value: d.event.description)
            }
            switch input.kind {
            case .bolus, .meal: doses.append(.init(species: input.input, time: d.time, amount: d.amount))
            case .infusion:
                guard d.duration > 0 else {
                    throw SyncError(.invalidArgument, "binding '\(binding.name)': infusion event \(d.event.abbreviated()) of '\(input.input)' has no period (start and end); give one, or bind the input as a bolus.",
                                    value: d.event.description)
                }
                doses.append(.init(species: input.input, time: d.time, duration: d.duration, amount: d.amount))
            }
        }
        do {
            if builtIn {
                try binding.validate()
                // validated: the id is one of the built-in layouts
                let layout = CirculationSBML.parameters(forModel: binding.model.id) ?? .init()
                simulator = try SBMLModelSimulator(text: try CirculationSBML.document(parameters: layout), name: file, doses: doses, relativeTolerance: 1e-8, absoluteTolerance: 1e-8, maxSteps: 100_000)
            } else {
                simulator = try SBMLModelSimulator(file: URL(fileURLWithPath: file), doses: doses, relativeTolerance: 1e-10, absoluteTolerance: 1e-14, maxSteps: 100_000)
            }
        } catch let e as CalibrationError where e.code == .invalidArgument {
            throw fail(e.message, e.value)
        } catch let e as CalibrationError where e.code == .unsupported && !doses.isEmpty {
            throw SyncError(.unsupported, "binding '\(binding.name)': \(e.message)", value: e.value)
        } catch {
            throw SyncError(.invalidArgument, "cannot load the SBML model '\(file)' of binding '\(binding.name)': \(error)", value: file)
        }
        for i in binding.inputs where !simulator.species.contains(i.input) {
            throw fail("input '\(i.input)' is not a species of the model; an input names the species it doses (the model's species: \(simulator.species.isEmpty ? "none" : simulator.species.joined(separator: ", "))).",
                       i.input)
        }
        self.doses = doses
        for id in binding.outputs.map(\.output) + binding.estimated.map(\.parameter) + Array(thread.parameters.keys) where !simulator.defines(id) {
            throw fail("the model does not define '\(id)'.", id)
        }
        var start: [Double] = [], lower: [Double] = [], upper: [Double] = []
        for e in binding.estimated {
            guard let v = e.start ?? e.priorMean ?? thread.parameters[e.parameter] else {
                throw fail("give '\(e.parameter)' a start or a prior mean.", e.parameter)
            }
            start.append(e.scale.toScale(v))
            lower.append(e.lower.map(e.scale.toScale) ?? -.infinity)
            upper.append(e.upper.map(e.scale.toScale) ?? .infinity)
        }
        self.binding = binding
        self.fixed = thread.parameters
        self.start = start; self.lower = lower; self.upper = upper
        self.theta = start
        self.standardDeviations = binding.estimated.map(\.priorStandardDeviation)
    }

    /// The model's outputs at `times` (ascending, ≥ 0) for parameters `theta` (on their scales).
    func simulate(_ theta: [Double], at times: [Double]) throws -> [[Double]] {
        var overrides = fixed
        for (k, e) in binding.estimated.enumerated() { overrides[e.parameter] = e.scale.fromScale(theta[k]) }
        do { return try simulator.simulate(times: times, outputs: binding.outputs.map(\.output), overrides: overrides) } catch {
            throw SyncError(.simulationFailed, "the SBML model of binding '\(binding.name)' failed: \(error)", value: nil)
        }
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try await assimilate(contentsOf: [reading])
    }

    /// Adds the readings and fits once.
    public mutating func assimilate(contentsOf new: [BoundThread.Reading]) async throws {
        for r in new where !(r.time >= 0) {
            throw SyncError(.invalidTime, "reading \(r.event.abbreviated()) at \(r.effective) is before the model's origin.", value: r.effective.iso8601)
        }
        readings += new
        let data = readings, times = Array(Set(data.map(\.time))).sorted()
        let index = Dictionary(uniqueKeysWithValues: times.enumerated().map { ($0.element, $0.offset) })
        let sds = data.map { binding.outputs[$0.output].noise!.standardDeviation(at: $0.value) }
        let priors: [(k: Int, mean: Double, sd: Double)] = binding.estimated.enumerated().compactMap { k, e in
            guard let sd = e.priorStandardDeviation, let m = e.priorMean ?? fixed[e.parameter] ?? e.start else { return nil }
            return (k, e.scale.toScale(m), sd)
        }
        let this = self
        let problem = try LeastSquaresProblem(names: binding.estimated.map(\.parameter), lower: lower, upper: upper, residualCount: data.count + priors.count) { theta in
            let rows = try this.simulate(theta, at: times)
            return data.indices.map { i in (data[i].value - rows[index[data[i].time]!][data[i].output]) / sds[i] }
                + priors.map { (theta[$0.k] - $0.mean) / $0.sd }
        }
        var optimizer = LevenbergMarquardt()
        optimizer.relativeStep = 1e-5
        let fit: LeastSquaresFit
        do { fit = try optimizer.minimize(problem, from: theta.indices.map { min(max(start[$0], lower[$0]), upper[$0]) }) } catch {
            throw SyncError(.calibrationFailed, "fitting binding '\(binding.name)' to \(data.count) readings failed: \(error)", value: nil)
        }
        theta = fit.parameters
        let se = fit.standardErrors(residualVariance: 1)
        standardDeviations = theta.indices.map { se?[$0] }
        covariance = fit.covariance(residualVariance: 1)
    }

    public var estimate: ParameterEstimate {
        ParameterEstimate(parameters: binding.estimated.enumerated().map { k, e in
            ParameterEstimate.Parameter(id: e.parameter, value: e.scale.fromScale(theta[k]), unit: "1", scale: e.scale, standardDeviation: standardDeviations[k],
                                        prior: e.scale.fromScale(start[k]))
        }, readings: readings.count)
    }

    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        guard !times.isEmpty else { return [] }
        let centre = try simulate(theta, at: times), h = 1e-5
        // delta method: gradients on the parameters' scales, through the covariance (else the independent sds)
        let p = theta.count
        var gradients: [[[Double]]] = []   // [parameter][time][output]
        for k in theta.indices {
            var up = theta, down = theta
            up[k] += h; down[k] -= h
            let (a, b) = (try simulate(up, at: times), try simulate(down, at: times))
            gradients.append(times.indices.map { i in binding.outputs.indices.map { o in (a[i][o] - b[i][o]) / (2 * h) } })
        }
        let sigma: [Double] = covariance ?? (0..<(p * p)).map { ij in
            let (i, j) = (ij / p, ij % p)
            guard i == j, let sd = standardDeviations[i], sd > 0 else { return 0 }
            return sd * sd
        }
        var variance = [[Double]](repeating: [Double](repeating: 0, count: binding.outputs.count), count: times.count)
        for i in times.indices {
            for o in binding.outputs.indices {
                var v = 0.0
                for k in 0..<p { for l in 0..<p { v += gradients[k][i][o] * sigma[k * p + l] * gradients[l][i][o] } }
                variance[i][o] = Swift.max(v, 0)
            }
        }
        let z = inverseStandardNormal(0.5 + level / 2)
        return times.indices.flatMap { i in
            binding.outputs.indices.map { o in
                let sd = variance[i][o].squareRoot()
                return ForecastPoint(time: times[i], output: o, mean: centre[i][o], standardDeviation: sd, lower: centre[i][o] - z * sd, upper: centre[i][o] + z * sd)
            }
        }
    }
}
