import Foundation
import TwinSimulation

/// What PEtab calibration needs from a model: simulate from t = 0 under entity overrides and report
/// named quantities at output times. Implementations must be safe to call from any thread (serialise
/// internally if the model keeps working buffers).
public protocol PEtabSimulator: Sendable {
    /// Whether the model defines `id` (a parameter, species or compartment).
    func defines(_ id: String) -> Bool
    /// One row per time (ascending, ≥ 0), with the values of `outputs` in order.
    func simulate(times: [Double], outputs: [String], overrides: [String: Double]) throws -> [[Double]]
    /// The ids of the model's state variables (species not set by rules, variables of rate rules), whose
    /// values `simulate` reports and `overrides` sets; nil if the simulator cannot say (pre-equilibration,
    /// which carries the state from one simulation to the next, then is not possible).
    var stateIds: [String]? { get }
    /// The outputs and state at the steady state reached from t = 0 under `overrides`
    /// (``PEtabSteadyStateTest``); a default implementation estimates the rates from `simulate`.
    func steadyState(outputs: [String], overrides: [String: Double]) throws -> PEtabSteadyState
}

extension PEtabSimulator {
    public var stateIds: [String]? { nil }
}

/// Calibration of a ``PEtabProblem``: bounded least squares on the parameters' own scales, maximum
/// likelihood under the observables' normal / log-normal noise models.
///
/// Noise parameters that are estimated and enter only as a standard deviation (`noiseFormula` equal to
/// `noiseParameter1_<observable>` with the parameter in the measurement table, or to the parameter id
/// itself) are profiled out analytically (`σ̂² = SSR / m` per group), so the remaining parameters are found
/// by Levenberg–Marquardt from a seeded Latin-hypercube multi-start. Estimated parameters used in other
/// noise formulas are reported as unsupported.
///
/// The model is simulated by the problem's ``PEtabLikelihood`` (its plans and its simulation), so for every
/// parameter vector a measurement at `time = inf` is predicted at its condition's steady state and a
/// condition with a pre-equilibration starts from that condition's steady state, recomputed at that vector
/// (``PEtabSteadyStateTest``). What the likelihood refuses (pre-equilibration with a simulator that does not
/// report its state), calibration refuses too, naming it.
public struct PEtabCalibration: Sendable {
    public let problem: PEtabProblem
    let simulator: any PEtabSimulator
    /// Estimated parameters fitted by least squares (indices into `problem.parameters`).
    let fitted: [Int]
    /// Profiled noise groups: parameter index and measurement indices.
    let noiseGroups: [(parameter: Int, measurements: [Int])]
    /// The problem's likelihood: its per-condition plans and its simulation (pre-equilibration, steady
    /// states) are the ones calibration uses, so the two agree on every prediction.
    let likelihood: PEtabLikelihood
    let parameterIndex: [String: Int]

    public struct Options: Sendable {
        public var starts = 10
        public var seed: UInt64 = 1
        public var includeNominalStart = true
        /// Starts given by the caller (on the parameters' scales, in ``PEtabCalibration/fittedParameterIds`` order).
        public var additionalStarts: [[Double]] = []
        /// Levenberg–Marquardt with forward differences (step 1e-4 on the parameters' scales, well above the
        /// simulator's relative tolerance), a cost tolerance of 1e-8 and, when every fitted parameter is on a
        /// log scale, steps of at most one unit (one decade on log10) so trials do not jump into stiff corners.
        public var optimizer: LevenbergMarquardt = {
            var lm = LevenbergMarquardt()
            lm.differences = .forward
            lm.relativeStep = 1e-4
            lm.functionTolerance = 1e-8
            lm.stepTolerance = 1e-9
            lm.maxIterations = 100
            return lm
        }()
        /// Called after each start with the starts done and their number (on the fitting thread); returning false
        /// stops the fit there, which then throws `CancellationError` (nil: every start runs).
        public var progress: (@Sendable (_ done: Int, _ total: Int) -> Bool)? = nil
        public init() {}
    }

    public struct Result: Sendable {
        public struct Value: Sendable, Hashable {
            public let id: String
            public let value: Double
            /// The value on the parameter's scale (what the optimiser moved).
            public let scaledValue: Double
            public let scale: PEtabProblem.Scale
            /// Gauss–Newton standard error on the parameter's scale (`nil` for profiled noise parameters or
            /// when not identifiable).
            public let standardError: Double?
        }
        public let parameters: [Value]
        /// Σ of squared residuals on the observables' transformed scales, unweighted.
        public let sumOfSquares: Double
        /// Negative log-likelihood of the data (density of the raw measurements).
        public let negativeLogLikelihood: Double
        public let startsRun: Int
        public let startsConverged: Int
        /// Starts at which the model could not be simulated or the objective was not finite.
        public let startsFailed: Int
        public let evaluations: Int
        public let converged: Bool
    }

    /// Checks the problem and decides which estimated parameters are fitted and which profiled.
    /// - Throws: `CalibrationError.unsupported` naming a feature least-squares calibration does not handle (a
    ///   noise distribution other than normal, an estimated parameter inside a noise formula, what
    ///   ``PEtabLikelihood/init(problem:simulator:)`` refuses); `.invalidPEtab` as the likelihood does.
    public init(problem: PEtabProblem, simulator: any PEtabSimulator) throws {
        self.problem = problem
        self.simulator = simulator
        var pindex: [String: Int] = [:]
        for (i, p) in problem.parameters.enumerated() { pindex[p.id] = i }
        self.parameterIndex = pindex
        // features the problem tables may hold but least-squares calibration does not handle
        for obs in problem.observables.values.sorted(by: { $0.id < $1.id }) where obs.noiseDistribution != .normal {
            throw CalibrationError(.unsupported, "observable '\(obs.id)' has noise distribution '\(obs.noiseDistribution.rawValue)'; only normal is supported by least-squares calibration.",
                            value: obs.noiseDistribution.rawValue)
        }
        // pre-equilibration, steady states, and the condition and formula checks are the likelihood's
        self.likelihood = try PEtabLikelihood(problem: problem, simulator: simulator)
        // where is each estimated parameter used?
        var inModel = Set<Int>(), inObservable = Set<Int>(), asSigma: [Int: [Int]] = [:], inNoiseOther = Set<Int>()
        for (i, p) in problem.parameters.enumerated() where simulator.defines(p.id) { inModel.insert(i) }
        for c in problem.conditions.values {
            for v in c.overrides.values { if let i = pindex[v] { inModel.insert(i) } }
            for k in c.overrides.keys where !simulator.defines(k) {
                throw CalibrationError(.invalidPEtab, "condition '\(c.id)' sets '\(k)', which the model does not define.", value: k)
            }
        }
        for (mi, m) in problem.measurements.enumerated() {
            let obs = problem.observables[m.observableId]!
            for s in obs.formula.symbols { if let i = pindex[s] { inObservable.insert(i) } }
            for s in m.observableParameters { if let i = pindex[s] { inObservable.insert(i) } }
            let direct: String? = {
                if case .symbol(let s) = obs.noiseFormula {
                    if s == "noiseParameter1_\(m.observableId)", m.noiseParameters.count == 1 { return m.noiseParameters[0] }
                    if pindex[s] != nil { return s }
                }
                return nil
            }()
            if let d = direct, let i = pindex[d] {
                asSigma[i, default: []].append(mi)
            } else {
                for s in obs.noiseFormula.symbols { if let i = pindex[s] { inNoiseOther.insert(i) } }
                for s in m.noiseParameters { if let i = pindex[s] { inNoiseOther.insert(i) } }
            }
        }
        var fitted: [Int] = [], groups: [(Int, [Int])] = []
        for (i, p) in problem.parameters.enumerated() where p.estimate {
            if inNoiseOther.contains(i) {
                throw CalibrationError(.unsupported, "estimated parameter '\(p.id)' enters a noise formula other than as a plain standard deviation; not supported yet.", value: p.id)
            }
            if let ms = asSigma[i] {
                if inModel.contains(i) || inObservable.contains(i) {
                    throw CalibrationError(.unsupported, "estimated parameter '\(p.id)' is both a noise standard deviation and a model/observable parameter.", value: p.id)
                }
                groups.append((i, ms))
            } else {
                fitted.append(i)
            }
        }
        guard !fitted.isEmpty else { throw CalibrationError(.invalidPEtab, "the problem estimates only noise parameters.") }
        self.fitted = fitted
        self.noiseGroups = groups
    }

    /// Names of the parameters the optimiser moves (on their scales), in order.
    public var fittedParameterIds: [String] { fitted.map { problem.parameters[$0].id } }

    /// Linear-scale values of every parameter for `theta` (fitted parameters on their scales) and the
    /// profiled standard deviations.
    func values(theta: [Double], sigmas: [Double]) -> [Double] {
        var v = problem.parameters.map(\.nominal)
        for (k, i) in fitted.enumerated() { v[i] = problem.parameters[i].scale.fromScale(theta[k]) }
        for (g, group) in noiseGroups.enumerated() { v[group.parameter] = sigmas[g] }
        return v
    }

    /// Predictions `h` and noise standard deviations `σ` (σ of profiled groups is NaN) for every measurement.
    func predict(values v: [Double]) throws -> (h: [Double], sigma: [Double]) {
        let ms = problem.measurements
        var h = [Double](repeating: .nan, count: ms.count), sigma = h
        func resolve(_ token: String) -> Double? {
            if let i = parameterIndex[token] { return v[i] }
            return parseNumber(token)
        }
        var baseOverrides: [String: Double] = [:]
        for (i, p) in problem.parameters.enumerated() where simulator.defines(p.id) { baseOverrides[p.id] = v[i] }
        let profiled = Set(noiseGroups.flatMap(\.measurements))
        let resolveOrNaN: (String) -> Double = { resolve($0) ?? .nan }
        var steadyStates: [String: [String: Double]] = [:]
        for plan in likelihood.plans {
            let rows = try likelihood.simulate(plan, base: baseOverrides, resolve: resolveOrNaN, steadyStates: &steadyStates)
            for (mi, ti) in plan.rows {
                let m = ms[mi]
                let obs = problem.observables[m.observableId]!
                let row = rows[ti]
                func lookup(_ s: String, placeholders prefix: String, _ list: [String]) -> Double? {
                    if let o = plan.outputs.firstIndex(of: s) { return row[o] }
                    if let i = parameterIndex[s] { return v[i] }
                    if s == "time" || s == "t" { return m.time }
                    let p = "\(prefix)"
                    if s.hasPrefix(p), s.hasSuffix("_\(m.observableId)"),
                       let k = Int(s.dropFirst(p.count).dropLast(m.observableId.count + 1)), k >= 1, k <= list.count {
                        return resolve(list[k - 1])
                    }
                    return nil
                }
                h[mi] = try obs.formula.evaluate { lookup($0, placeholders: "observableParameter", m.observableParameters) }
                if !profiled.contains(mi) {
                    sigma[mi] = try obs.noiseFormula.evaluate { lookup($0, placeholders: "noiseParameter", m.noiseParameters) }
                    guard sigma[mi] > 0, sigma[mi].isFinite else {
                        throw CalibrationError(.invalidPEtab, "the noise standard deviation of measurement \(mi + 1) ('\(m.observableId)' at t = \(m.time)) is \(sigma[mi]); it must be positive.",
                                        value: String(sigma[mi]))
                    }
                }
            }
        }
        return (h, sigma)
    }

    /// Unweighted residuals on the transformed scale.
    func rawResiduals(_ h: [Double]) -> [Double] {
        problem.measurements.indices.map { i in
            let m = problem.measurements[i]
            let t = problem.observables[m.observableId]!.transformation
            return t.toScale(m.value) - t.toScale(h[i])
        }
    }

    /// The least-squares problem in the fitted parameters for fixed profiled deviations.
    func leastSquares(sigmas: [Double]) throws -> LeastSquaresProblem {
        let me = self
        return try LeastSquaresProblem(names: fittedParameterIds,
                                       lower: fitted.map { problem.parameters[$0].scale.toScale(problem.parameters[$0].lower) },
                                       upper: fitted.map { problem.parameters[$0].scale.toScale(problem.parameters[$0].upper) },
                                       residualCount: problem.measurements.count) { theta in
            let v = me.values(theta: theta, sigmas: sigmas)
            let (h, sigma) = try me.predict(values: v)
            let raw = me.rawResiduals(h)
            var r = raw
            for (g, group) in me.noiseGroups.enumerated() { for mi in group.measurements { sigmaDivide(&r[mi], sigmas[g]) } }
            for i in r.indices where !sigma[i].isNaN { r[i] /= sigma[i] }
            return r
        }
    }

    /// Negative log-likelihood (normal on the transformed scale, with the change-of-variables term so it is
    /// the density of the raw measurements) for linear-scale parameter values.
    func negativeLogLikelihood(values v: [Double]) throws -> (nll: Double, ssr: Double) {
        let (h, sigma) = try predict(values: v)
        let raw = rawResiduals(h)
        var s = sigma
        for group in noiseGroups { for mi in group.measurements { s[mi] = v[group.parameter] } }
        var nll = 0.0, ssr = 0.0
        for (i, m) in problem.measurements.enumerated() {
            let r = raw[i] / s[i]
            ssr += raw[i] * raw[i]
            nll += 0.5 * log(2 * Double.pi * s[i] * s[i]) + 0.5 * r * r
                + PEtabLikelihood.logJacobian(measurement: m.value, transformation: problem.observables[m.observableId]!.transformation)
        }
        return (nll, ssr)
    }

    /// Fits the problem: multi-start Levenberg–Marquardt, profiled noise, Laplace standard errors.
    public func fit(options: Options = Options()) throws -> Result {
        var optimizer = options.optimizer
        if optimizer.maxStepLength == nil, fitted.allSatisfy({ problem.parameters[$0].scale != .lin }) { optimizer.maxStepLength = 1 }
        let lower = fitted.map { problem.parameters[$0].scale.toScale(problem.parameters[$0].lower) }
        let upper = fitted.map { problem.parameters[$0].scale.toScale(problem.parameters[$0].upper) }
        var starts: [[Double]] = []
        for s in options.additionalStarts {
            try checkCount(s.count, fitted.count, "start point")
            for (k, v) in s.enumerated() where !(v >= lower[k] && v <= upper[k]) {
                throw CalibrationError(.invalidBounds, "start value \(v) of '\(fittedParameterIds[k])' lies outside its bounds [\(lower[k]), \(upper[k])] (on its \(problem.parameters[fitted[k]].scale.rawValue) scale).",
                                value: String(v))
            }
            starts.append(s)
        }
        if options.includeNominalStart {
            let nominal = fitted.map { problem.parameters[$0].scale.toScale(problem.parameters[$0].nominal) }
            if zip(nominal, zip(lower, upper)).allSatisfy({ $0 >= $1.0 && $0 <= $1.1 }) { starts.append(nominal) }
        }
        if options.starts > 0 { starts += MultiStart.latinHypercube(count: options.starts, lower: lower, upper: upper, seed: options.seed) }
        guard !starts.isEmpty else { throw CalibrationError(.invalidArgument, "calibration needs at least one start.", value: String(options.starts)) }
        var best: (fit: LeastSquaresFit, sigmas: [Double], nll: Double, ssr: Double)? = nil
        var converged = 0, evaluations = 0
        var failures: [String] = []
        for (k, start) in starts.enumerated() {
            do {
                let (fit, sigmas, evals) = try fitFrom(start, optimizer)
                evaluations += evals
                if fit.status.converged { converged += 1 }
                let (nll, ssr) = try negativeLogLikelihood(values: values(theta: fit.parameters, sigmas: sigmas))
                if best == nil || nll < best!.nll { best = (fit, sigmas, nll, ssr) }
            } catch {
                failures.append("\(error)")
            }
            if let progress = options.progress, !progress(k + 1, starts.count) { throw CancellationError() }
        }
        guard let b = best else {
            throw CalibrationError(.calibrationFailed, "all \(starts.count) starts failed; first: \(failures.first ?? "?")")
        }
        let se = b.fit.standardErrors(residualVariance: 1)
        var out: [Result.Value] = []
        let v = values(theta: b.fit.parameters, sigmas: b.sigmas)
        for (i, p) in problem.parameters.enumerated() where p.estimate {
            let k = fitted.firstIndex(of: i)
            out.append(Result.Value(id: p.id, value: v[i], scaledValue: p.scale.toScale(v[i]), scale: p.scale,
                                    standardError: k.flatMap { se?[$0] }))
        }
        return Result(parameters: out, sumOfSquares: b.ssr, negativeLogLikelihood: b.nll, startsRun: starts.count,
                      startsConverged: converged, startsFailed: failures.count, evaluations: evaluations, converged: b.fit.status.converged)
    }

    /// One local fit: LM for fixed deviations, then update the profiled deviations, until they settle.
    func fitFrom(_ start: [Double], _ optimizer: LevenbergMarquardt) throws -> (LeastSquaresFit, [Double], Int) {
        var sigmas = [Double](repeating: 1, count: noiseGroups.count)
        var theta = start
        var evaluations = 0
        for _ in 0..<10 {
            let fit = try optimizer.minimize(try leastSquares(sigmas: sigmas), from: theta)
            evaluations += fit.evaluations
            theta = fit.parameters
            if noiseGroups.isEmpty { return (fit, sigmas, evaluations) }
            let (h, _) = try predict(values: values(theta: theta, sigmas: sigmas))
            let raw = rawResiduals(h)
            var next = sigmas
            for (g, group) in noiseGroups.enumerated() {
                let ss = group.measurements.reduce(0.0) { $0 + raw[$1] * raw[$1] }
                next[g] = max((ss / Double(group.measurements.count)).squareRoot(), 1e-300)
            }
            let change = zip(next, sigmas).map { abs($0 / $1 - 1) }.max() ?? 0
            sigmas = next
            if change < 1e-6 || noiseGroups.count == 1 {
                // the LM optimum does not depend on a single common deviation: recompute residual scaling only
                let final = noiseGroups.count == 1 ? fit.rescaled(by: 1 / sigmas[0]) : try optimizer.minimize(try leastSquares(sigmas: sigmas), from: theta)
                return (final, sigmas, evaluations)
            }
        }
        let fit = try optimizer.minimize(try leastSquares(sigmas: sigmas), from: theta)
        return (fit, sigmas, evaluations + fit.evaluations)
    }
}

@inline(__always) private func sigmaDivide(_ r: inout Double, _ s: Double) { r /= s }

extension LeastSquaresFit {
    /// The same fit with residuals and Jacobian multiplied by `factor` (a change of the noise scale).
    func rescaled(by factor: Double) -> LeastSquaresFit {
        LeastSquaresFit(names: names, parameters: parameters, residuals: residuals.map { $0 * factor }, jacobian: jacobian.map { $0 * factor },
                        iterations: iterations, evaluations: evaluations, status: status, lower: lower, upper: upper)
    }
}

extension PEtabCalibration.Result {
    /// A JSON document of the result (keys sorted, so the output is stable): every estimated parameter with
    /// its value, scale, value on that scale and standard error; the sum of squares, the negative
    /// log-likelihood, and how the starts went.
    public func json(problemFile: String? = nil, seed: UInt64? = nil) -> String {
        var params: [String: Any] = [:]
        for p in parameters {
            var entry: [String: Any] = ["value": p.value, "scale": p.scale.rawValue, "scaledValue": p.scaledValue]
            // JSON has no NaN or infinity: a standard error that is not finite is left out, as one not computed
            if let se = p.standardError, se.isFinite { entry["standardErrorOnScale"] = se }
            params[p.id] = entry
        }
        var doc: [String: Any] = [
            "parameters": params,
            "sumOfSquares": sumOfSquares,
            "negativeLogLikelihood": negativeLogLikelihood,
            "objective": ["sumOfSquares": sumOfSquares, "negativeLogLikelihood": negativeLogLikelihood],
            "starts": startsRun, "startsConverged": startsConverged, "startsFailed": startsFailed,
            "evaluations": evaluations, "converged": converged,
        ]
        if let problemFile { doc["problem"] = problemFile }
        if let seed { doc["seed"] = seed }
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// A short human-readable report.
    public var summary: String {
        var lines = parameters.map { p in
            let se = p.standardError.map { String(format: " (± %.3g on %@ scale)", $0, p.scale.rawValue) } ?? ""
            return "\(p.id) = \(String(format: "%.6g", p.value))\(se)"
        }
        lines.append(String(format: "sum of squares %.6g, negative log-likelihood %.6g", sumOfSquares, negativeLogLikelihood))
        lines.append("\(startsRun) starts, \(startsConverged) converged, \(startsFailed) failed, \(evaluations) objective evaluations")
        return lines.joined(separator: "\n")
    }
}

extension PEtabCalibration {
    /// Converts `ID=VALUE` pairs (linear scale) into a start on the parameters' scales, taking nominal
    /// values (clamped into the bounds) for the parameters not given.
    public func start(from assignments: [String: Double]) throws -> [Double] {
        for id in assignments.keys where !fittedParameterIds.contains(id) {
            throw CalibrationError(.invalidArgument, "'\(id)' is not a parameter fitted by least squares (those are \(fittedParameterIds.joined(separator: ", "))).", value: id)
        }
        return fitted.map { i in
            let p = problem.parameters[i]
            let v = assignments[p.id] ?? (p.nominal.isFinite ? min(max(p.nominal, p.lower), p.upper) : (p.lower * p.upper).squareRoot())
            return p.scale.toScale(v)
        }
    }
}

extension PEtabCalibration {
    /// The observables' values for every measurement of ``problem``, in its order: each measurement's observable
    /// formula (its placeholders from the measurement's row) at the linear-scale parameter values `parameters`
    /// (ids of the parameter table; the others at their nominal values), simulated as the likelihood and the fit
    /// simulate them (the measurement's condition, its pre-equilibration, steady states at time inf). A
    /// measurement's own value is not used, so measurements at chosen times and value 0 ask for a forecast.
    /// - Throws: `.invalidArgument` for an id that is not in the parameter table or a value that is not finite;
    ///   `.simulationFailed` naming the condition whose simulation failed; `.invalidPEtab` as ``fit(options:)``.
    public func predictions(_ parameters: [String: Double]) throws -> [Double] {
        var v = problem.parameters.map(\.nominal)
        for (id, value) in parameters.sorted(by: { $0.key < $1.key }) {
            guard let i = parameterIndex[id] else { throw CalibrationError(.invalidArgument, "'\(id)' is not a parameter of the problem's parameter table.", value: id) }
            guard value.isFinite else { throw CalibrationError(.invalidArgument, "the value of '\(id)' must be finite; got \(value).", value: String(value)) }
            v[i] = value
        }
        return try predict(values: v).h
    }
}
