import Foundation
import TwinSimulation

/// The observation noise model of a calibration: how data scatter around the model's prediction.
///
/// Residuals are formed on the model's scale (`y − f`, `ln y − ln f`, `log₁₀ y − log₁₀ f`) and divided by
/// the standard deviation when it is known. With the standard deviation estimated (`nil`), the maximum
/// likelihood estimate of the other parameters is the least-squares one and `σ̂² = SSR / m`.
public enum NoiseModel: Sendable, Hashable {
    case normal(standardDeviation: Double?)
    case logNormal(standardDeviation: Double?)
    case log10Normal(standardDeviation: Double?)

    var standardDeviation: Double? {
        switch self { case .normal(let s), .logNormal(let s), .log10Normal(let s): s }
    }

    /// The residual of one observation (divided by the standard deviation when known).
    public func residual(observed y: Double, predicted f: Double) -> Double {
        let raw: Double
        switch self {
        case .normal: raw = y - f
        case .logNormal: raw = log(y) - log(f)
        case .log10Normal: raw = log10(y) - log10(f)
        }
        return raw / (standardDeviation ?? 1)
    }

    /// Negative log-likelihood of the data given predictions (with `σ̂` when the deviation is estimated).
    public func negativeLogLikelihood(observed: [Double], predicted: [Double]) -> Double {
        let m = Double(observed.count)
        var ssr = 0.0
        for (y, f) in zip(observed, predicted) { let r = residual(observed: y, predicted: f); ssr += r * r }
        var nll: Double
        if let s = standardDeviation {
            nll = 0.5 * m * log(2 * Double.pi * s * s) + 0.5 * ssr
        } else {
            let s2 = ssr / m
            nll = 0.5 * m * (log(2 * Double.pi * s2) + 1)
        }
        switch self {
        case .normal: break
        case .logNormal: for y in observed { nll += log(y) }
        case .log10Normal: for y in observed { nll += log(y * log(10.0)) }
        }
        return nll
    }

    /// Checks that the data can be used with this model (positive values on log scales).
    func validate(observed: [Double]) throws {
        if let s = standardDeviation, !(s > 0 && s.isFinite) {
            throw CalibrationError(.invalidArgument, "noise standard deviation must be positive and finite.", value: String(s))
        }
        for (i, y) in observed.enumerated() {
            guard y.isFinite else { throw CalibrationError(.nonFinite, "observation \(i) is not finite.", value: String(y)) }
            switch self {
            case .normal: break
            case .logNormal, .log10Normal:
                if !(y > 0) { throw CalibrationError(.invalidArgument, "observation \(i) is \(y); a log-normal noise model needs positive data.", value: String(y)) }
            }
        }
    }
}

/// Maximum-likelihood calibration of a model's parameters to data under a ``NoiseModel``.
public struct MaximumLikelihood: Sendable {
    public let problem: LeastSquaresProblem
    public let observed: [Double]
    public let noise: NoiseModel
    let model: @Sendable ([Double]) throws -> [Double]

    /// - Parameter model: the prediction for each observation at parameters `θ`.
    public init(names: [String], lower: [Double], upper: [Double], observed: [Double], noise: NoiseModel,
                model: @escaping @Sendable ([Double]) throws -> [Double]) throws {
        try noise.validate(observed: observed)
        let y = observed
        self.problem = try LeastSquaresProblem(names: names, lower: lower, upper: upper, residualCount: observed.count) { theta in
            let f = try model(theta)
            try checkCount(f.count, y.count, "model prediction")
            var r = [Double](repeating: 0, count: y.count)
            for i in y.indices { r[i] = noise.residual(observed: y[i], predicted: f[i]) }
            return r
        }
        self.observed = observed
        self.noise = noise
        self.model = model
    }

    /// Negative log-likelihood at `θ`.
    public func negativeLogLikelihood(at theta: [Double]) throws -> Double {
        noise.negativeLogLikelihood(observed: observed, predicted: try model(theta))
    }

    /// The estimated noise standard deviation at a fit (the known one when the model fixes it).
    public func noiseStandardDeviation(at fit: LeastSquaresFit) -> Double {
        noise.standardDeviation ?? (fit.sumOfSquares / Double(observed.count)).squareRoot()
    }
}
