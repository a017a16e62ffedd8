import Foundation
import TwinCore

/// What the synchroniser needs from a method that learns a model's parameters from a twin's readings: assimilate
/// readings, report the current parameter estimate, forecast the outputs with intervals, and name itself and
/// its settings for provenance.
///
/// Conformers are value types (copying one snapshots what it learnt). Guarantees every conformer keeps:
/// - assimilating the same readings in the same order from the same start gives the same estimate (seeded
///   methods: for the same seed);
/// - ``assimilate(contentsOf:)`` is equivalent to assimilating the readings one by one (a batch method may fit
///   once at the end instead of after each);
/// - ``estimate`` before any reading is the prior.
///
/// Conformers: ``FilterEstimator`` (any ``SequentialFilter``: Kalman, unscented, ensemble, particle filters),
/// ``PKEstimator`` (MAP Bayesian pharmacokinetics), ``PEtabEstimator`` (maximum likelihood for a PEtab
/// problem's SBML model), ``SBMLEstimator`` (MAP for any SBML model) and ``GlucoseEstimator`` (the glucose twin's
/// UKF, EnKF, bank of UKFs or particle posterior).
public protocol Estimator: Sendable {
    /// The method's name for provenance (`PK-MAP`, `UKF`, `PEtab-ML`).
    var label: String { get }
    /// The method's settings as `key=value` words, in a stable order (recorded in provenance).
    var settings: [String] { get }
    /// Assimilates one reading (model time, output index, value in the output's unit).
    mutating func assimilate(_ reading: BoundThread.Reading) async throws
    /// Assimilates readings in order; equivalent to assimilating them one by one.
    mutating func assimilate(contentsOf readings: [BoundThread.Reading]) async throws
    /// The current parameter estimate (the prior before any reading).
    var estimate: ParameterEstimate { get }
    /// The model's outputs at `times` (model time, ascending) under the current estimate, with central
    /// prediction intervals at `level` (of the model's output, measurement noise not included).
    func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint]
    /// What the synchroniser asks at the end of a window: the outputs at `now` (the forecast origin; nil: not
    /// asked) and at `times`, with intervals at `level`. An estimator whose forecast changes what it holds (a
    /// filter moved to the origin, a bank of filters retiring a candidate) keeps that. The default forecasts at
    /// `[now] + times` without changing.
    mutating func outputs(now: Double?, forecastAt times: [Double], level: Double) async throws -> (now: [ForecastPoint], forecast: [ForecastPoint])
    /// Each reading against what the estimator predicted for it before assimilating it, for the model health
    /// check (``ModelHealth``); empty when the method gives none (the default).
    var innovations: [ModelHealth.Innovation] { get }
    /// Events the estimator read besides the bound thread's (for provenance); none by default.
    var usedEvents: [ContentHash] { get }
    /// What the estimator inferred from the readings besides its parameters (the glucose twin: a meal eaten but
    /// not announced), which the synchroniser writes as thread annotations with their evidence; none by default.
    var inferences: [Inference] { get }
}

/// Something an estimator inferred from the readings that no event of the thread says (an unannounced meal):
/// a possibility with its evidence, written as an annotation, never a model input.
public struct Inference: Sendable, Hashable {
    public var code: Concept
    /// Model time the evidence starts at.
    public var time: Double
    public var value: Quantity?
    /// The evidence in words a clinician can check.
    public var evidence: String
    /// Key=value words recorded in the annotation's provenance notes.
    public var notes: String
    public init(code: Concept, time: Double, value: Quantity?, evidence: String, notes: String) {
        self.code = code; self.time = time; self.value = value; self.evidence = evidence; self.notes = notes
    }
}

extension Estimator {
    public mutating func assimilate(contentsOf readings: [BoundThread.Reading]) async throws {
        for r in readings { try await assimilate(r) }
    }
    public mutating func outputs(now: Double?, forecastAt times: [Double], level: Double) async throws -> (now: [ForecastPoint], forecast: [ForecastPoint]) {
        guard let now else { return ([], times.isEmpty ? [] : try await forecast(at: times, level: level)) }
        let all = try await forecast(at: [now] + times, level: level)
        return (all.filter { $0.time == now }, all.filter { $0.time != now })
    }
    public var innovations: [ModelHealth.Innovation] { [] }
    public var usedEvents: [ContentHash] { [] }
    public var inferences: [Inference] { [] }
}

/// A parameter estimate: each estimated parameter's value and uncertainty.
public struct ParameterEstimate: Sendable, Hashable, Codable {
    public struct Parameter: Sendable, Hashable, Codable {
        public var id: String
        /// The estimate (posterior mode or mean) in natural units.
        public var value: Double
        /// The unit of ``value`` (`1` when the model has no units).
        public var unit: String
        /// The scale the uncertainty is on.
        public var scale: ThreadBinding.EstimatedParameter.Scale
        /// Standard deviation (or standard error) on ``scale``; nil when the method gives none.
        public var standardDeviation: Double?
        /// The prior's (or start's) value in natural units, when there is one.
        public var prior: Double?
        /// The prior's standard deviation on ``scale``, when the prior has one (the model health check measures
        /// how far the estimate moved in these).
        public var priorStandardDeviation: Double?
        public init(id: String, value: Double, unit: String, scale: ThreadBinding.EstimatedParameter.Scale, standardDeviation: Double?, prior: Double?,
                    priorStandardDeviation: Double? = nil) {
            self.id = id; self.value = value; self.unit = unit; self.scale = scale; self.standardDeviation = standardDeviation; self.prior = prior
            self.priorStandardDeviation = priorStandardDeviation
        }
    }
    public var parameters: [Parameter]
    /// How many readings it rests on.
    public var readings: Int
    public init(parameters: [Parameter], readings: Int) { self.parameters = parameters; self.readings = readings }

    /// The parameter named `id`.
    public subscript(id: String) -> Parameter? { parameters.first { $0.id == id } }
}

/// One forecast value of one output.
public struct ForecastPoint: Sendable, Hashable, Codable {
    /// Model time.
    public var time: Double
    /// Index into the binding's outputs.
    public var output: Int
    public var mean: Double
    public var standardDeviation: Double
    public var lower: Double
    public var upper: Double
    public init(time: Double, output: Int, mean: Double, standardDeviation: Double, lower: Double, upper: Double) {
        self.time = time; self.output = output; self.mean = mean; self.standardDeviation = standardDeviation; self.lower = lower; self.upper = upper
    }
}

/// Any ``SequentialFilter`` as an ``Estimator``: readings go through an ``Assimilator`` (late ones replayed),
/// each binding output is one sensor (its observation model), the estimated parameters and the outputs are
/// components of the filter's (augmented) state.
public struct FilterEstimator<Filter: SequentialFilter>: Estimator {
    public private(set) var assimilator: Assimilator<Filter>
    /// For each binding output: the state component that is the output (for forecasts).
    public let outputStates: [Int]
    /// For each estimated parameter: its id, state component, scale and unit (the state holds it on its scale).
    public let parameterStates: [(id: String, state: Int, scale: ThreadBinding.EstimatedParameter.Scale, unit: String)]
    public let label: String
    public let settings: [String]
    private let prior: [Double]
    private var count = 0

    /// - Parameters:
    ///   - sensors: one observation model per binding output, in the binding's order.
    /// - Throws: ``SyncError`` `invalidArgument` when a state index is out of range or the counts differ.
    public init(filter: Filter, sensors: [any ObservationModel], outputStates: [Int],
                parameterStates: [(id: String, state: Int, scale: ThreadBinding.EstimatedParameter.Scale, unit: String)],
                label: String, settings: [String] = []) throws {
        let n = filter.mean.count
        guard outputStates.count == sensors.count else {
            throw SyncError(.invalidArgument, "a filter estimator needs one output state per sensor (\(outputStates.count) for \(sensors.count)).", value: String(outputStates.count))
        }
        for s in outputStates + parameterStates.map(\.state) where !(0..<n).contains(s) {
            throw SyncError(.invalidArgument, "state index \(s) is outside the filter's \(n) states.", value: String(s))
        }
        self.assimilator = try Assimilator(filter: filter, sensors: sensors)
        self.outputStates = outputStates
        self.parameterStates = parameterStates
        self.label = label
        self.settings = settings
        self.prior = filter.mean
    }

    public mutating func assimilate(_ reading: BoundThread.Reading) async throws {
        try await assimilator.assimilate(Observation(time: reading.time, values: [reading.value], sensor: reading.output))
        count += 1
    }

    public var estimate: ParameterEstimate {
        let f = assimilator.filter, sd = f.standardDeviations
        return ParameterEstimate(parameters: parameterStates.map { p in
            ParameterEstimate.Parameter(id: p.id, value: p.scale.fromScale(f.mean[p.state]), unit: p.unit, scale: p.scale,
                                        standardDeviation: sd[p.state], prior: p.scale.fromScale(prior[p.state]))
        }, readings: count)
    }

    public func forecast(at times: [Double], level: Double) async throws -> [ForecastPoint] {
        let f = try await assimilator.filter.forecast(at: times, level: level, provenance: Forecast.Provenance(filter: label, model: label))
        return f.points.flatMap { p in
            outputStates.enumerated().map { k, s in
                ForecastPoint(time: p.time, output: k, mean: p.mean[s], standardDeviation: p.standardDeviation[s], lower: p.lower[s], upper: p.upper[s])
            }
        }
    }
}
