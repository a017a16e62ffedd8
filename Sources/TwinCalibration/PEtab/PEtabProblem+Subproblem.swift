import Foundation

extension PEtabProblem.Measurement {
    /// A measurement row (what the measurement table's columns give).
    public init(observable: String, condition: String, time: Double, value: Double,
                observableParameters: [String] = [], noiseParameters: [String] = [], preequilibration: String? = nil) {
        self.observableId = observable
        self.simulationConditionId = condition
        self.time = time
        self.value = value
        self.observableParameters = observableParameters
        self.noiseParameters = noiseParameters
        self.preequilibrationConditionId = preequilibration
    }
}

extension PEtabProblem {
    /// The same problem with other measurements (for example a twin's thread's) and only `estimating` estimated:
    /// every other parameter is fixed at its nominal value, bounds of the estimated ones are the table's
    /// (narrowed by `bounds`, linear scale, when given).
    /// - Throws: ``CalibrationError`` `invalidPEtab` when a measurement names an unknown observable or condition,
    ///   or there is none; `invalidArgument` when an id in `estimating` is not an estimated parameter of the table
    ///   or a bound lies outside the table's.
    public func subproblem(measurements: [Measurement], estimating: [String], bounds: [String: (lower: Double?, upper: Double?)] = [:]) throws -> PEtabProblem {
        guard !measurements.isEmpty else { throw CalibrationError(.invalidPEtab, "the problem has no measurements.") }
        for m in measurements {
            guard observables[m.observableId] != nil else {
                throw CalibrationError(.invalidPEtab, "a measurement names observable '\(m.observableId)', which the observable table does not define.", value: m.observableId)
            }
            for c in [m.simulationConditionId] + (m.preequilibrationConditionId.map { [$0] } ?? []) where conditions[c] == nil {
                throw CalibrationError(.invalidPEtab, "a measurement names condition '\(c)', which the condition table does not define.", value: c)
            }
        }
        let wanted = Set(estimating)
        for id in estimating where !parameters.contains(where: { $0.id == id && $0.estimate }) {
            throw CalibrationError(.invalidArgument, "'\(id)' is not an estimated parameter of the problem's parameter table.", value: id)
        }
        let parameters = try self.parameters.map { p -> Parameter in
            guard p.estimate else { return p }
            guard wanted.contains(p.id) else {
                guard p.nominal.isFinite else {
                    throw CalibrationError(.invalidPEtab, "parameter '\(p.id)' has no nominal value to fix it at; estimate it too.", value: p.id)
                }
                return Parameter(id: p.id, scale: p.scale, lower: p.lower, upper: p.upper, nominal: p.nominal, estimate: false)
            }
            let lower = bounds[p.id]?.lower ?? p.lower, upper = bounds[p.id]?.upper ?? p.upper
            guard lower >= p.lower, upper <= p.upper, lower < upper else {
                throw CalibrationError(.invalidArgument, "bounds [\(lower), \(upper)] of '\(p.id)' must lie within the table's [\(p.lower), \(p.upper)].", value: p.id)
            }
            return Parameter(id: p.id, scale: p.scale, lower: lower, upper: upper, nominal: p.nominal, estimate: true)
        }
        return PEtabProblem(directory: directory, modelFile: modelFile, parameters: parameters, observables: observables,
                            measurements: measurements, conditions: conditions)
    }

    init(directory: URL, modelFile: URL, parameters: [Parameter], observables: [String: Observable], measurements: [Measurement],
         conditions: [String: Condition]) {
        self.directory = directory
        self.modelFile = modelFile
        self.parameters = parameters
        self.observables = observables
        self.measurements = measurements
        self.conditions = conditions
    }
}
