import Foundation
import TwinSimulation
import TwinModels

/// Bayesian calibration of a pharmacokinetic model to a person's measured drug levels (therapeutic drug
/// monitoring, "MAP Bayesian" dosing): clearance and central volume are fitted as log-multipliers of their
/// prior (population or covariate) values, penalised by the inter-individual variability, with a combined
/// additive and proportional assay error; the posterior is summarised at its mode with the Laplace (Gauss-Newton)
/// covariance of the log-parameters.
///
/// The objective is `Σ ((cᵢ − ĉᵢ(θ)) / σᵢ)² + Σ (θₖ / ωₖ)²` with `σᵢ = √(additive² + (proportional · cᵢ)²)`
/// (the error model evaluated at the measured level, so the problem stays least squares), minimised by bounded
/// Levenberg-Marquardt from the prior (`θ = 0`), `|θ| ≤ 3`. With no levels the posterior is the prior.
///
/// Guarantees: deterministic; the prior model is returned unchanged (and the covariance is `diag(ω²)`) when
/// there are no levels; levels before the first dose are fitted too (they should be 0).
public struct PKCalibration: Sendable, Hashable {
    /// Inter-individual variability (log-normal sd) of clearance and central volume.
    public var omegaClearance = 0.3, omegaVolume = 0.3
    /// Assay error: additive sd (mg/L) and proportional sd (fraction of the level).
    public var additiveError = 0.5, proportionalError = 0.1
    public init() {}

    /// The posterior: the mode as a model, and the log-parameters' covariance.
    public struct Posterior: Sendable, Hashable {
        public let model: PKModel
        /// `[log(CL/CL₀), log(V/V₀)]` at the mode.
        public let logMultipliers: [Double]
        /// Their covariance (row-major 2 × 2).
        public let covariance: [Double]
        /// The objective at the mode and at the prior.
        public let objective: Double, priorObjective: Double
        public let levels: Int
        /// Posterior sd of log clearance and log volume.
        public var standardDeviations: [Double] { [covariance[0].squareRoot(), covariance[3].squareRoot()] }
    }

    /// Fits `prior` to `levels` (hours from the regimen's time 0, mg/L) under `regimen`.
    /// - Throws: ``CalibrationError`` `invalidArgument` for a non-positive error model or variability, a level that is
    ///   not finite and non-negative or at a negative time; the model's own errors for a bad model or regimen.
    public func fit(_ prior: PKModel, regimen: DosingRegimen, levels: [(time: Double, value: Double)]) throws -> Posterior {
        for (name, v) in [("omegaClearance", omegaClearance), ("omegaVolume", omegaVolume), ("additiveError", additiveError)] where !(v.isFinite && v > 0) {
            throw CalibrationError(.invalidArgument, "\(name) must be a positive number (got \(v)).", value: String(v))
        }
        guard proportionalError.isFinite, proportionalError >= 0 else {
            throw CalibrationError(.invalidArgument, "proportionalError must be a non-negative number (got \(proportionalError)).", value: String(proportionalError))
        }
        for l in levels where !(l.time.isFinite && l.time >= 0 && l.value.isFinite && l.value >= 0) {
            throw CalibrationError(.invalidArgument, "a drug level must be a non-negative concentration at a time >= 0 (got \(l.value) mg/L at \(l.time) h).", value: String(l.value))
        }
        try prior.validate()
        let omegas = [omegaClearance, omegaVolume]
        let priorCovariance = [omegas[0] * omegas[0], 0, 0, omegas[1] * omegas[1]]
        guard !levels.isEmpty else {
            return Posterior(model: prior, logMultipliers: [0, 0], covariance: priorCovariance, objective: 0, priorObjective: 0, levels: 0)
        }
        let sorted = levels.sorted { $0.time < $1.time }
        let times = sorted.map(\.time), values = sorted.map(\.value)
        let sigma = values.map { (additiveError * additiveError + proportionalError * proportionalError * $0 * $0).squareRoot() }
        let m = sorted.count
        @Sendable func model(_ theta: [Double]) -> PKModel {
            var p = prior
            p.clearance *= exp(theta[0])
            p.centralVolume *= exp(theta[1])
            return p
        }
        let problem = try LeastSquaresProblem(names: ["log(CL/prior)", "log(V/prior)"], lower: [-3, -3], upper: [3, 3], residualCount: m + 2) { theta in
            let c = try PKSimulator.concentrations(model(theta), regimen: regimen, at: times)
            var r = [Double](repeating: 0, count: m + 2)
            for j in 0..<m { r[j] = (values[j] - c[j]) / sigma[j] }
            r[m] = theta[0] / omegas[0]
            r[m + 1] = theta[1] / omegas[1]
            return r
        }
        var lm = LevenbergMarquardt()
        lm.maxIterations = 100
        let start = try problem.residuals(at: [0, 0]).reduce(0) { $0 + $1 * $1 }
        let fit = try lm.minimize(problem, from: [0, 0])
        let covariance = fit.covariance(residualVariance: 1) ?? priorCovariance
        return Posterior(model: model(fit.parameters), logMultipliers: fit.parameters, covariance: covariance,
                         objective: fit.sumOfSquares, priorObjective: start, levels: m)
    }
}
