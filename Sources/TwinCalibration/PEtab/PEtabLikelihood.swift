import Foundation
import TwinSimulation

/// The PEtab v1 log-likelihood of a ``PEtabProblem`` at given parameter values (the nominal values of the
/// parameter table unless overridden), normalisation included: the log density of the raw measurements.
///
/// Every simulation condition is simulated from t = 0 with the parameter table's values for the model
/// parameters it names, then the condition table's overrides (numbers or parameter ids; `NaN` keeps the
/// model's value) of model parameters, species (initial values, as they appear in SBML math) and
/// compartments. For measurement `m`, prediction `y` (the observable formula, with
/// `observableParameter{k}_{obs}` taken from the measurement row) and noise `σ` (the noise formula, with
/// `noiseParameter{k}_{obs}`), each measurement adds, with `f` the observable transformation
/// (`lin`, `log` = ln, `log10`) and `J = 1, m, m·ln 10` its Jacobian:
/// - normal: `−½ log(2πσ²) − ½ ((f(m) − f(y)) / σ)² − log J`
/// - laplace: `−log(2σ) − |f(m) − f(y)| / σ − log J`
///
/// A measurement with a pre-equilibration condition starts from the steady state of that condition
/// (``PEtabSimulator/steadyState(outputs:overrides:)``: simulated from t = 0 until the weighted RMS of the
/// rates of change is below 1 with absolute 1e-14 and relative 1e-6 tolerances, as AMICI's integration-based
/// steady state; ``PEtabSteadyStateTest``; none by t = 10⁸ fails naming the condition); the simulation
/// condition then starts from that state, except for the species its table row sets (`NaN` keeps the
/// pre-equilibrated value), with its own parameter values. A measurement at `time = inf` is taken at the
/// steady state of its simulation condition (started as above), by the same test.
///
/// Features it does not handle are refused when it is built, naming them (never a wrong number):
/// pre-equilibration with a simulator that does not report its state variables.
public struct PEtabLikelihood: Sendable {
    public let problem: PEtabProblem
    let simulator: any PEtabSimulator
    let plans: [Plan]

    struct Plan: Sendable {
        let preequilibration: String?
        let condition: String
        /// Ascending finite output times.
        let times: [Double]
        /// Whether some measurement is at steady state (time inf; its row follows the finite times).
        let steady: Bool
        /// Model symbols used by the formulas of this condition's measurements.
        let outputs: [String]
        /// Measurement index and its row in `times`.
        let rows: [(measurement: Int, timeIndex: Int)]
    }

    /// One evaluation's result.
    public struct Evaluation: Sendable {
        /// Σ of the measurements' log densities (larger is better).
        public let logLikelihood: Double
        /// Each measurement's contribution, in the order of ``PEtabProblem/measurements``.
        public let contributions: [Double]
        /// Simulation conditions simulated.
        public let conditions: Int
        public let measurements: Int
        /// Wall-clock seconds of the evaluation (simulations included).
        public let seconds: Double
    }

    /// Checks that every feature the problem uses is supported, and plans one simulation per condition.
    /// - Throws: `CalibrationError.unsupported` naming a PEtab feature it does not handle; `.invalidPEtab` for a
    ///   condition or formula naming something neither the model nor the parameter table defines.
    public init(problem: PEtabProblem, simulator: any PEtabSimulator) throws {
        self.problem = problem
        self.simulator = simulator
        let parameterIds = Set(problem.parameters.map(\.id))
        for m in problem.measurements {
            if let p = m.preequilibrationConditionId, simulator.stateIds == nil {
                throw CalibrationError(.unsupported, "the problem uses pre-equilibration (condition '\(p)' before '\(m.simulationConditionId)'), which this simulator cannot do (it does not report its state).", value: p)
            }
        }
        for c in problem.conditions.values.sorted(by: { $0.id < $1.id }) {
            for (k, token) in c.overrides.sorted(by: { $0.key < $1.key }) {
                guard simulator.defines(k) else {
                    throw CalibrationError(.invalidPEtab, "condition '\(c.id)' sets '\(k)', which the model does not define.", value: k)
                }
                guard parseNumber(token) != nil || parameterIds.contains(token) else {
                    throw CalibrationError(.invalidPEtab, "condition '\(c.id)' sets '\(k)' to '\(token)', which is neither a number nor a parameter of the parameter table.", value: token)
                }
            }
        }
        var plans: [Plan] = []
        struct Key: Hashable, Comparable {
            let pre: String, sim: String
            static func < (a: Key, b: Key) -> Bool { (a.sim, a.pre) < (b.sim, b.pre) }
        }
        let byCondition = Dictionary(grouping: problem.measurements.indices, by: {
            Key(pre: problem.measurements[$0].preequilibrationConditionId ?? "", sim: problem.measurements[$0].simulationConditionId)
        })
        for key in byCondition.keys.sorted() {
            let cid = key.sim
            let ms = byCondition[key]!
            let allTimes = Set(ms.map { problem.measurements[$0].time })
            let times = allTimes.filter(\.isFinite).sorted()
            var outputs = Set<String>()
            for mi in ms {
                let m = problem.measurements[mi]
                let obs = problem.observables[m.observableId]!
                for s in obs.formula.symbols.union(obs.noiseFormula.symbols) {
                    if Self.placeholderIndex(s, prefix: "observableParameter", observable: m.observableId) != nil
                        || Self.placeholderIndex(s, prefix: "noiseParameter", observable: m.observableId) != nil { continue }
                    if simulator.defines(s) { outputs.insert(s); continue }
                    if parameterIds.contains(s) || s == "time" || s == "t" { continue }
                    throw CalibrationError(.invalidPEtab, "observable '\(obs.id)' uses '\(s)', which is neither a model entity nor a parameter of the parameter table.", value: s)
                }
                for token in m.observableParameters + m.noiseParameters where parseNumber(token) == nil && !parameterIds.contains(token) {
                    throw CalibrationError(.invalidPEtab, "a measurement of '\(m.observableId)' (condition '\(cid)', t = \(m.time)) gives placeholder value '\(token)', which is neither a number nor a parameter of the parameter table.",
                                    value: token)
                }
            }
            let outs = outputs.sorted()
            var timeIndex = Dictionary(uniqueKeysWithValues: times.enumerated().map { ($1, $0) })
            timeIndex[.infinity] = times.count
            plans.append(Plan(preequilibration: key.pre.isEmpty ? nil : key.pre, condition: cid, times: times,
                              steady: allTimes.contains(.infinity), outputs: outs,
                              rows: ms.map { ($0, timeIndex[problem.measurements[$0].time]!) }))
        }
        self.plans = plans
    }

    /// `k` if `symbol` is `{prefix}{k}_{observable}`.
    static func placeholderIndex(_ symbol: String, prefix: String, observable: String) -> Int? {
        guard symbol.hasPrefix(prefix), symbol.hasSuffix("_\(observable)") else { return nil }
        let middle = symbol.dropFirst(prefix.count).dropLast(observable.count + 1)
        guard let k = Int(middle), k >= 1 else { return nil }
        return k
    }

    /// Linear-scale values of every parameter of the parameter table: nominal values, replaced by `overrides`.
    /// - Throws: `.invalidArgument` for an override naming no parameter of the table or not finite;
    ///   `.invalidPEtab` for a parameter with no nominal value and no override.
    public func parameterValues(overrides: [String: Double] = [:]) throws -> [String: Double] {
        var values: [String: Double] = [:]
        for p in problem.parameters { values[p.id] = p.nominal }
        for (id, v) in overrides.sorted(by: { $0.key < $1.key }) {
            guard values[id] != nil else {
                throw CalibrationError(.invalidArgument, "'\(id)' is not a parameter of the problem's parameter table.", value: id)
            }
            guard v.isFinite else { throw CalibrationError(.invalidArgument, "the value of '\(id)' must be finite; got \(v).", value: String(v)) }
            values[id] = v
        }
        for p in problem.parameters where !(values[p.id]!.isFinite) {
            throw CalibrationError(.invalidPEtab, "parameter '\(p.id)' has no nominal value; give one with an override (--set \(p.id)=VALUE).", value: p.id)
        }
        return values
    }

    /// The log-likelihood at the nominal parameters with `overrides` (parameter id → linear-scale value).
    ///
    /// With `predictions` (one value of the observable per measurement, in the order of
    /// ``PEtabProblem/measurements``, e.g. a PEtab simulation table) nothing is simulated: the likelihood is
    /// that of the given predictions; noise formulas must then not use model entities.
    /// - Throws: the errors of ``parameterValues(overrides:)``; `.simulationFailed` naming the condition
    ///   whose simulation failed; `.invalidPEtab` for a noise standard deviation that is not positive;
    ///   `.invalidArgument` for `predictions` of the wrong count.
    public func evaluate(overrides: [String: Double] = [:], predictions: [Double]? = nil) throws -> Evaluation {
        let start = Date()
        if let predictions, predictions.count != problem.measurements.count {
            throw CalibrationError(.invalidArgument, "\(predictions.count) predictions given for \(problem.measurements.count) measurements.", value: String(predictions.count))
        }
        let values = try parameterValues(overrides: overrides)
        var base: [String: Double] = [:]
        for p in problem.parameters where simulator.defines(p.id) { base[p.id] = values[p.id]! }
        func resolve(_ token: String) -> Double { values[token] ?? parseNumber(token)! }
        var contributions = [Double](repeating: .nan, count: problem.measurements.count)
        var steadyStates: [String: [String: Double]] = [:]
        for plan in plans {
            let rows: [[Double]]
            if predictions != nil {
                // nothing simulated: model outputs are unavailable (noise formulas using them are refused)
                rows = [[Double]](repeating: [Double](repeating: .nan, count: plan.outputs.count), count: plan.times.count + (plan.steady ? 1 : 0))
            } else {
                rows = try simulate(plan, base: base, resolve: resolve, steadyStates: &steadyStates)
            }
            for (mi, ti) in plan.rows {
                let m = problem.measurements[mi]
                let obs = problem.observables[m.observableId]!
                let row = rows[ti]
                // placeholders of either kind (a noise formula may use the observable's parameters)
                func lookup(_ s: String) throws -> Double? {
                    for (prefix, list) in [("observableParameter", m.observableParameters), ("noiseParameter", m.noiseParameters)] {
                        guard let k = Self.placeholderIndex(s, prefix: prefix, observable: m.observableId) else { continue }
                        guard k <= list.count else {
                            throw CalibrationError(.invalidPEtab, "observable '\(m.observableId)' uses '\(s)' but the measurement at t = \(m.time) in condition '\(plan.condition)' gives \(list.count) value(s) for it.",
                                            value: s)
                        }
                        return resolve(list[k - 1])
                    }
                    if let o = plan.outputs.firstIndex(of: s) {
                        guard predictions == nil else {
                            throw CalibrationError(.invalidArgument, "the noise formula of '\(m.observableId)' uses the model entity '\(s)', which given predictions do not provide.", value: s)
                        }
                        return row[o]
                    }
                    if let v = values[s] { return v }
                    if s == "time" || s == "t" { return m.time }
                    return nil
                }
                var failure: Error?
                let y = try predictions?[mi] ?? obs.formula.evaluate { s in
                    do { return try lookup(s) } catch { failure = error; return .nan }
                }
                if let failure { throw failure }
                let sigma = try obs.noiseFormula.evaluate { s in
                    do { return try lookup(s) } catch { failure = error; return .nan }
                }
                if let failure { throw failure }
                guard sigma > 0, sigma.isFinite else {
                    throw CalibrationError(.invalidPEtab, "the noise parameter of measurement \(mi + 1) ('\(m.observableId)' at t = \(m.time), condition '\(plan.condition)') is \(sigma); it must be positive.",
                                    value: String(sigma))
                }
                contributions[mi] = Self.logDensity(measurement: m.value, prediction: y, sigma: sigma,
                                                    transformation: obs.transformation, distribution: obs.noiseDistribution)
            }
        }
        return Evaluation(logLikelihood: contributions.reduce(0, +), contributions: contributions, conditions: plans.count,
                          measurements: problem.measurements.count, seconds: Date().timeIntervalSince(start))
    }

    /// The model's overrides for `condition`: `base` (the model parameters' values) replaced by the condition
    /// table's values, each token resolved by `resolve` (a `NaN` keeps the model's, or pre-equilibrated, value).
    func conditionOverrides(_ condition: String, base: [String: Double], resolve: (String) -> Double) -> [String: Double] {
        var o = base
        for (k, token) in problem.conditions[condition]!.overrides {
            let v = resolve(token)
            if v.isNaN { continue }
            o[k] = v
        }
        return o
    }

    /// Simulates `plan` under `base` (model parameters' values) and the condition table (tokens resolved by
    /// `resolve`): one row of `plan.outputs` per finite time, then, if `plan.steady`, the steady-state row.
    /// A plan with a pre-equilibration starts from that condition's steady state (computed once per
    /// condition and kept in `steadyStates`, so a caller evaluating several plans at one parameter vector
    /// shares it) except for the species the simulation condition sets. Shared by ``evaluate(overrides:predictions:)``
    /// and ``PEtabCalibration``.
    /// - Throws: `.simulationFailed` naming the condition (or pre-equilibration condition) that failed.
    func simulate(_ plan: Plan, base: [String: Double], resolve: (String) -> Double,
                  steadyStates: inout [String: [String: Double]]) throws -> [[Double]] {
        var modelOverrides = conditionOverrides(plan.condition, base: base, resolve: resolve)
        if let pre = plan.preequilibration {
            if steadyStates[pre] == nil {
                do { steadyStates[pre] = try simulator.steadyState(outputs: [], overrides: conditionOverrides(pre, base: base, resolve: resolve)).state } catch {
                    throw CalibrationError(.simulationFailed, "pre-equilibrating condition '\(pre)' failed: \(error)", value: pre)
                }
            }
            let set = problem.conditions[plan.condition]!.overrides
            for (id, v) in steadyStates[pre]! where set[id] == nil || resolve(set[id]!).isNaN { modelOverrides[id] = v }
        }
        var rows: [[Double]] = []
        if !plan.times.isEmpty {
            do { rows = try simulator.simulate(times: plan.times, outputs: plan.outputs, overrides: modelOverrides) } catch {
                throw CalibrationError(.simulationFailed, "simulating condition '\(plan.condition)' failed: \(error)", value: plan.condition)
            }
        }
        if plan.steady {
            do { rows.append(try simulator.steadyState(outputs: plan.outputs, overrides: modelOverrides).outputs) } catch {
                throw CalibrationError(.simulationFailed, "simulating condition '\(plan.condition)' to steady state (time inf) failed: \(error)", value: plan.condition)
            }
        }
        return rows
    }

    /// `log J` of a measurement's observable transformation (`J = 1` for lin, `m` for log, `m·ln 10` for log10): the
    /// change-of-variables term that makes a density on the transformed scale a density of the raw measurement.
    static func logJacobian(measurement m: Double, transformation: PEtabProblem.Scale) -> Double {
        switch transformation {
        case .lin: return 0
        case .log: return log(m)
        case .log10: return log(m * log(10.0))
        }
    }

    /// The PEtab v1 log density of one measurement: the distribution on the transformed scale plus the
    /// change-of-variables term `−log J` (`J = 1` for lin, `m` for log, `m·ln 10` for log10). A prediction
    /// that is not positive on a log scale gives `−∞`.
    public static func logDensity(measurement m: Double, prediction y: Double, sigma: Double,
                                  transformation: PEtabProblem.Scale, distribution: PEtabProblem.NoiseDistribution) -> Double {
        let residual = transformation.toScale(m) - transformation.toScale(y)
        let jacobian = logJacobian(measurement: m, transformation: transformation)
        if transformation != .lin && !(y > 0) { return -.infinity }
        switch distribution {
        case .normal: return -0.5 * log(2 * Double.pi * sigma * sigma) - 0.5 * (residual / sigma) * (residual / sigma) - jacobian
        case .laplace: return -log(2 * sigma) - abs(residual) / sigma - jacobian
        }
    }
}

extension PEtabLikelihood {
    /// Loads a PEtab problem and its SBML model (compiled by TwinSBML), simulated at tight tolerances
    /// (relative 1e-10, absolute 1e-12) with no practical step limit: an evaluation is one run per condition.
    public static func load(yaml url: URL, relativeTolerance: Double = 1e-10, absoluteTolerance: Double = 1e-12) throws -> PEtabLikelihood {
        let problem = try PEtabProblem.load(yaml: url)
        let simulator = try SBMLModelSimulator(file: problem.modelFile, relativeTolerance: relativeTolerance,
                                               absoluteTolerance: absoluteTolerance, maxSteps: 5_000_000)
        return try PEtabLikelihood(problem: problem, simulator: simulator)
    }
}
