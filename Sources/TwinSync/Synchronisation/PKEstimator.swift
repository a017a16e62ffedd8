import Foundation
import TwinCalibration
import TwinCore
import TwinModels
import TwinSimulation

/// MAP Bayesian pharmacokinetics as an ``Estimator``: TwinCalibration's ``PKCalibration`` fits clearance and
/// central volume (log scale, the binding's prior sd as the inter-individual variability) to the levels
/// assimilated so far, under the doses the thread records; forecasts are the posterior mode's closed-form
/// concentrations with delta-method intervals from the Laplace covariance.
public struct PKEstimator: Estimator {
    /// The model the prior describes (the binding's parameters).
    public let prior: PKModel
    public let regimen: DosingRegimen
    public let calibration: PKCalibration
    public private(set) var levels: [(time: Double, value: Double)] = []
    public private(set) var posterior: PKCalibration.Posterior?

    public var label: String { "PK-MAP" }
    public var settings: [String] {
        ["omegaClearance=\(Value.format(calibration.omegaClearance))", "omegaVolume=\(Value.format(calibration.omegaVolume))",
         "additiveError=\(Value.format(calibration.additiveError))", "proportionalError=\(Value.format(calibration.proportionalError))"]
    }

    /// The estimator for a ``ThreadBinding/ModelReference/Kind/pk`` binding read into `thread`.
    /// - Throws: ``SyncError`` `invalidBinding` when clearance or volume is not set, an estimated parameter is not
    ///   clearance or volume, a prior sd is missing, or the output has no noise model; `invalidArgument` for a
    ///   dose or model the PK model refuses.
    public init(binding: ThreadBinding, thread: BoundThread) throws {
        func fail(_ m: String, _ v: String?) -> SyncError { SyncError(.invalidBinding, "binding '\(binding.name)': \(m)", value: v) }
        guard binding.outputs.count == 1, let noise = binding.outputs[0].noise else {
            throw fail("a pk binding has one output (the concentration) with a noise model.", String(binding.outputs.count))
        }
        var values = thread.parameters
        for e in binding.estimated {
            guard e.parameter == "clearance" || e.parameter == "volume" else {
                throw fail("the PK estimator estimates clearance and volume only, not '\(e.parameter)'.", e.parameter)
            }
            guard e.scale == .log else { throw fail("'\(e.parameter)' is estimated on the log scale (got \(e.scale.rawValue)).", e.scale.rawValue) }
            if let m = e.priorMean { values[e.parameter] = m }
        }
        guard let cl = values["clearance"], let v = values["volume"] else {
            throw fail("set clearance (L/h) and volume (L) (from attributes or values).", nil)
        }
        do {
            prior = try PKModel.oneCompartment(clearance: cl, volume: v, absorptionRate: values["absorptionRate"])
        } catch {
            throw SyncError(.invalidArgument, "binding '\(binding.name)': the PK model is not valid: \(error)", value: nil)
        }
        var fitter = PKCalibration()
        // a parameter not estimated stays at its prior: a tiny variability pins it there
        let sd = { (id: String) in binding.estimated.first { $0.parameter == id }.map { $0.priorStandardDeviation ?? 0.3 } ?? 1e-6 }
        fitter.omegaClearance = sd("clearance")
        fitter.omegaVolume = sd("volume")
        fitter.additiveError = noise.additive
        fitter.proportionalError = noise.proportional
        calibration = fitter
        var doses: [DosingRegimen.Dose] = []
        for d in thread.doses where d.time >= 0 {
            let input = binding.inputs[d.input]
            let route = try PKBinding.route(input.route ?? "iv", binding: binding.name)
            if route == .oral, prior.absorptionRate == nil {
                throw fail("oral doses need the absorption rate (parameter absorptionRate).", nil)
            }
            doses.append(DosingRegimen.Dose(time: d.time, amount: d.amount, route: route))
        }
        do { regimen = try DosingRegimen(doses) } catch {
            throw SyncError(.invalidArgument, "binding '\(binding.name)': the doses do not form a regimen: \(error)", value: nil)
        }
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try await assimilate(contentsOf: [reading])
    }

    /// Adds the levels and fits once.
    public mutating func assimilate(contentsOf readings: [BoundThread.Reading]) async throws {
        levels += readings.map { ($0.time, $0.value) }
        do { posterior = try calibration.fit(prior, regimen: regimen, levels: levels) } catch {
            throw SyncError(.calibrationFailed, "the PK fit to \(levels.count) levels failed: \(error)", value: nil)
        }
    }

    /// The model at the estimate (the prior before any level).
    public var model: PKModel { posterior?.model ?? prior }

    public var estimate: ParameterEstimate {
        let sd = posterior?.standardDeviations ?? [calibration.omegaClearance, calibration.omegaVolume]
        return ParameterEstimate(parameters: [
            .init(id: "clearance", value: model.clearance, unit: "L/h", scale: .log, standardDeviation: sd[0], prior: prior.clearance),
            .init(id: "volume", value: model.centralVolume, unit: "L", scale: .log, standardDeviation: sd[1], prior: prior.centralVolume),
        ], readings: levels.count)
    }

    /// Concentrations (mg/L) of the estimate at `times`; the sd is the delta method's through the log-parameters'
    /// covariance (the prior's before any level).
    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        guard !times.isEmpty else { return [] }
        let covariance = posterior?.covariance ?? [calibration.omegaClearance * calibration.omegaClearance, 0, 0, calibration.omegaVolume * calibration.omegaVolume]
        func run(_ m: PKModel) throws -> [Double] {
            do { return try PKSimulator.concentrations(m, regimen: regimen, at: times) } catch {
                throw SyncError(.simulationFailed, "the PK model failed: \(error)", value: nil)
            }
        }
        let centre = model, h = 1e-5
        let c = try run(centre)
        var up = centre, down = centre
        up.clearance *= exp(h); down.clearance *= exp(-h)
        let (cu, cd) = (try run(up), try run(down))
        up = centre; down = centre
        up.centralVolume *= exp(h); down.centralVolume *= exp(-h)
        let (vu, vd) = (try run(up), try run(down))
        let z = inverseStandardNormal(0.5 + level / 2)
        return times.indices.map { i in
            let g0 = (cu[i] - cd[i]) / (2 * h), g1 = (vu[i] - vd[i]) / (2 * h)
            let variance = g0 * g0 * covariance[0] + 2 * g0 * g1 * covariance[1] + g1 * g1 * covariance[3]
            let sd = max(variance, 0).squareRoot()
            return ForecastPoint(time: times[i], output: 0, mean: c[i], standardDeviation: sd, lower: max(0, c[i] - z * sd), upper: c[i] + z * sd)
        }
    }
}
