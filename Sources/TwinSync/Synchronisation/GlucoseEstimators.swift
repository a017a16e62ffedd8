import TwinCore
import TwinSimulation

/// The glucose twin's bank of UKFs (``GlucoseFilterBank``) as an ``Estimator``: readings are CGM glucose
/// (mg/dL) at model minutes; the estimate is the bank's weighted estimate of each estimated parameter (with its
/// weighted prior); forecasts are the mixture's sensor glucose.
public struct GlucoseFilterBankEstimator: Estimator {
    public private(set) var bank: GlucoseFilterBank
    public private(set) var readings = 0
    public init(bank: GlucoseFilterBank) { self.bank = bank }

    public var label: String { "bank of \(bank.priors.count) UKFs" }
    public var settings: [String] {
        let s = bank.settings
        return ["cgmNoiseSD=\(Value.format(s.noiseStandardDeviation))", "estimated=\(s.estimated.joined(separator: ","))",
                "stateNoise=\(Value.format(s.stateNoise))", "parameterNoise=\(Value.format(s.parameterNoise))",
                "parameterPriorSD=\(Value.format(s.parameterPriorSD))", "candidateForgetting=\(Value.format(s.candidateForgetting))"]
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try bank.assimilate(minute: Int(reading.time.rounded()), reading: reading.value)
        readings += 1
    }

    public var estimate: ParameterEstimate {
        ParameterEstimate(parameters: bank.parameters.map {
            ParameterEstimate.Parameter(id: $0.name, value: $0.estimated, unit: "1", scale: .log, standardDeviation: nil, prior: $0.prior)
        }, readings: readings)
    }

    /// Sensor glucose (mg/dL) at `times` (model minutes, rounded to whole minutes).
    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        var copy = bank
        return try copy.forecast(at: times.map { Int($0.rounded()) }, z: inverseStandardNormal(0.5 + level / 2)).map {
            ForecastPoint(time: $0.time, output: 0, mean: $0.mean[12], standardDeviation: $0.standardDeviation[12], lower: $0.lower[12], upper: $0.upper[12])
        }
    }
}

/// The glucose twin's particle posterior over its parameters (``GlucoseParameterPosterior``) as an
/// ``Estimator``: readings are CGM glucose (mg/dL) at model minutes; the estimate is the posterior's weighted
/// mean of each of `parameters`; forecasts are the particles' weighted mean and sd of glucose.
public struct GlucoseParticleEstimator: Estimator {
    public private(set) var posterior: GlucoseParameterPosterior
    public let parameters: [String]
    public private(set) var readings = 0
    public init(posterior: GlucoseParameterPosterior, parameters: [String] = ["Vmx", "kp3", "kabs"]) {
        self.posterior = posterior
        self.parameters = parameters
    }

    public var label: String { "SMC(\(posterior.settings.particles))" }
    public var settings: [String] {
        let s = posterior.settings
        return ["seed=\(posterior.seed)", "cgmNoiseSD=\(Value.format(s.noiseStandardDeviation))", "moves=\(s.moves)",
                "resampleThreshold=\(Value.format(s.resampleThreshold))", "priorSpread=\(Value.format(s.priorSpread))",
                "priorDegreesOfFreedom=\(Value.format(s.priorDegreesOfFreedom))", "covarianceShrinkage=\(Value.format(s.covarianceShrinkage))"]
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try posterior.assimilate(minute: Int(reading.time.rounded()), reading: reading.value)
        readings += 1
    }

    public var estimate: ParameterEstimate {
        ParameterEstimate(parameters: posterior.parameters(parameters).map {
            ParameterEstimate.Parameter(id: $0.name, value: $0.estimated, unit: "1", scale: .log, standardDeviation: nil, prior: $0.prior)
        }, readings: readings)
    }

    /// Glucose (mg/dL) at `times` (model minutes, rounded to whole minutes).
    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        guard level > 0, level < 1 else { throw SyncError(.invalidArgument, "prediction level must be in (0, 1).", value: String(level)) }
        var copy = posterior
        return try copy.forecast(at: times.map { Int($0.rounded()) }, z: inverseStandardNormal(0.5 + level / 2)).map {
            ForecastPoint(time: $0.time, output: 0, mean: $0.mean[0], standardDeviation: $0.standardDeviation[0], lower: $0.lower[0], upper: $0.upper[0])
        }
    }
}
