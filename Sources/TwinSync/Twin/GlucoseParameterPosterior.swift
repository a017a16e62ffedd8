import TwinSimulation
import Foundation
import TwinModels

/// A glucose twin's parameters as a **posterior sampled by sequential Monte Carlo**: iterated batch importance
/// sampling (N. Chopin, "A sequential particle filter method for static models", Biometrika 89 (2002) 539-552).
///
/// Each particle is one complete set of UVA/Padova parameters and the person's basal glucose; its model state is
/// not filtered but **simulated** from the basal steady state those parameters give under the insulin rate of
/// the first minute, with the meals and insulin the twin knows. A reading reweights every particle by its
/// likelihood under the CGM noise model; when the effective sample size falls below
/// ``Settings/resampleThreshold`` of the particles, they are resampled (systematic) and each is moved by
/// ``Settings/moves`` random-walk Metropolis–Hastings steps that target the posterior given **all** readings so
/// far (the proposal's covariance is the particles' own), so the sample follows the posterior as it narrows
/// instead of collapsing onto a few prior draws.
///
/// The prior's location and scale in log parameters (logit for the gastric-emptying fractions `b`, `d`) are
/// fitted to a cohort of virtual patients: their mean, and their covariance or one pooled within larger groups,
/// shrunk toward its diagonal by ``Settings/covarianceShrinkage`` and widened by ``Settings/priorSpread`` in every
/// direction so that a person outside the cohort's span can still be reached; the basal glucose is log-normal
/// around the first reading. By default they define a multivariate Student t (``Settings/priorDegreesOfFreedom``
/// 4); with infinite degrees of freedom, a Gaussian. Two parameters are not sampled but follow from the steady state, as in the
/// UVA/Padova model's own definition: the basal insulin `Ib` (the plasma insulin the basal rate sustains) and the
/// endogenous production constant `kp1` (the production that holds glucose at its basal value).
///
/// Where it fits and where it does not: the particles carry no state noise, so the sampler is exact when the
/// person follows the model (a simulated patient) and is for that case the Bayes forecast under the cohort
/// prior; with unmodelled disturbances the likelihood needs ``Settings/modelErrorSD`` and the filter bank
/// (``GlucoseFilterBank``), whose states are filtered, is the more robust choice.
///
/// Guarantees:
/// - Deterministic: the same cohort, inputs, settings, seed and readings give the same particles and forecasts,
///   whatever the number of threads (proposals are drawn in order, simulated in parallel, accepted in order).
/// - Only readings already assimilated enter the weights and the moves.
/// - A particle whose parameters give no steady state (a basal glucose the model cannot hold) or a non-finite
///   trajectory has zero prior weight; it is never reported.
public struct GlucoseParameterPosterior: Sendable {
    public struct Settings: Sendable, Hashable {
        /// CGM noise standard deviation (mg/dL).
        public var noiseStandardDeviation = 8.0
        /// Model error (mg/dL) added in quadrature to the noise in the likelihood (0: the model is taken as exact).
        public var modelErrorSD = 0.0
        /// Number of particles.
        public var particles = 512
        /// Resample and move when the effective sample size falls below this fraction of the particles.
        public var resampleThreshold = 0.5
        /// Metropolis–Hastings steps per particle at each resampling (512 particles with 10 moves: about a minute
        /// for a day of 5-minute readings on two cores, release build).
        public var moves = 10
        /// Standard deviation (log scale) added in every direction to the cohort's covariance.
        public var priorSpread = 0.1
        /// Shrinkage λ in [0, 1] of the cohort's covariance toward its diagonal: (1 − λ)·S + λ·diag(S), before
        /// the spread is added. Fewer people than dimensions estimate the correlations poorly: with λ = 0 the
        /// prior is confident in directions where nobody was seen to vary, so a new person lies far out in them
        /// (on simglucose's 30 patients, leave-one-out, a mean Mahalanobis² of 47 in 29 dimensions; λ = 0.3 gives 26,
        /// and the closed-loop survey's 90 runs within 10 mg/dL went from 75 to 78 with the t prior below).
        public var covarianceShrinkage = 0.3
        /// Degrees of freedom ν of the prior: `.infinity` for the Gaussian, a finite value (> 2) for a multivariate
        /// Student t with the same location and scale matrix. A t prior's tails are polynomial, so a person far
        /// outside the cohort (prior–data conflict) is penalised less once the readings point there, and the
        /// first particles already include wider draws. The default, 4, with ``covarianceShrinkage`` 0.3, is the
        /// setting that kept the most closed-loop survey runs within 10 mg/dL (see the TwinSync catalog).
        public var priorDegreesOfFreedom = 4.0
        /// Prior sd of the log basal glucose around the first reading.
        public var basalGlucoseSD = 0.15
        /// The random-walk proposal's scale relative to 2.38/√d times the particles' covariance (adapted at each
        /// resampling toward an acceptance rate between 15 % and 40 %).
        public var proposalScale = 1.0
        /// Largest number of threads that simulate proposals at once (the processors available, at most this).
        public var workers = 8
        public init() {}
    }

    /// Parameters sampled in log space (positive rate constants, volumes, weight).
    static var logParameters: [(name: String, path: WritableKeyPath<UVAPadovaParameters, Double>)] { [
        ("BW", \.BW), ("kabs", \.kabs), ("kmax", \.kmax), ("kmin", \.kmin), ("Vg", \.Vg), ("Vi", \.Vi), ("Vmx", \.Vmx),
        ("Km0", \.Km0), ("k1", \.k1), ("k2", \.k2), ("p2u", \.p2u), ("m1", \.m1), ("m2", \.m2), ("m4", \.m4), ("m30", \.m30),
        ("ki", \.ki), ("kp2", \.kp2), ("kp3", \.kp3), ("f", \.f), ("ke1", \.ke1), ("ke2", \.ke2), ("Fsnc", \.Fsnc),
        ("Vm0", \.Vm0), ("kd", \.kd), ("ksc", \.ksc), ("ka1", \.ka1), ("ka2", \.ka2),
    ] }
    /// Parameters in (0, 1), sampled as logits.
    static var logitParameters: [(name: String, path: WritableKeyPath<UVAPadovaParameters, Double>)] { [("b", \.b), ("d", \.d)] }
    /// Sampled dimensions: the parameters above and the log basal glucose.
    static var dimension: Int { logParameters.count + logitParameters.count + 1 }

    public let settings: Settings
    public let seed: UInt64
    private let template: UVAPadovaParameters
    private let carbohydrate: [Double], insulin: [Double]
    /// The prior: mean and Cholesky factor of the covariance (row-major, lower).
    private let priorMean: [Double]
    private let priorFactor: [Double]
    private var rng: Xoshiro256StarStar

    /// Per particle: its sampled vector, log prior, log likelihood of the readings so far, log weight.
    private var theta: [[Double]]
    private var logPrior: [Double]
    private var logLikelihood: [Double]
    private var logWeights: [Double]
    /// Per particle: sensor glucose (mg/dL) at every minute simulated so far, and the state at the end of it.
    private var trajectory: [[Double]]
    private var endState: [[Double]]
    private var process: [GlucoseTwinProcess]
    /// The readings assimilated, in order.
    public private(set) var readings: [(minute: Int, value: Double)] = []
    /// How many times the particles were resampled and moved, and the moves' acceptance rate so far.
    public private(set) var resamplings = 0
    public private(set) var proposed = 0, accepted = 0
    private var scale: Double

    /// Draws the particles from the cohort prior.
    /// - Parameters:
    ///   - cohort: at least two parameter sets (for example the other virtual patients of the person's age group):
    ///     the prior's mean and, without `covarianceGroups`, its covariance.
    ///   - covarianceGroups: when given, the prior's covariance is pooled within these groups (each centred on its
    ///     own mean; for example the other patients of every age group), so that the directions in which people
    ///     differ are learned from more people than the cohort holds.
    ///   - bodyWeight: the person's measured weight (kg), when known: the prior is the cohort's Gaussian
    ///     **conditioned** on it (every other parameter shifted by its regression on log weight within the cohort
    ///     or groups, and narrowed by the variance the weight explains), with the weight itself held within
    ///     ``bodyWeightSD``. Meals raise glucose in proportion to carbohydrate per kg, so a child lighter than the
    ///     cohort is otherwise forecast far too low after the first meal.
    ///   - carbohydrate, insulin: the inputs per minute (g/min, U/min) from minute 0; after them the person is
    ///     taken to eat nothing and to receive the basal rate of their first minute.
    /// - Throws: ``SyncError`` `invalidArgument` for fewer than two cohort members, fewer than 10 particles, a
    ///   non-positive noise sd or first reading, an empty or mismatched input, or a prior from which no particle
    ///   has a steady state.
    public init(cohort: [UVAPadovaParameters], covarianceGroups: [[UVAPadovaParameters]]? = nil, bodyWeight: Double? = nil,
                carbohydrate: [Double], insulin: [Double], firstReading: Double,
                settings: Settings = Settings(), seed: UInt64 = 1) throws {
        guard cohort.count >= 2 else {
            throw SyncError(.invalidArgument, "the parameter posterior needs a cohort of at least two members for its prior (got \(cohort.count)).", value: String(cohort.count))
        }
        guard settings.particles >= 10 else { throw SyncError(.invalidArgument, "the parameter posterior needs at least 10 particles.", value: String(settings.particles)) }
        guard settings.noiseStandardDeviation > 0, settings.noiseStandardDeviation.isFinite, settings.modelErrorSD >= 0 else {
            throw SyncError(.invalidArgument, "the CGM noise sd must be positive and the model error sd non-negative.", value: String(settings.noiseStandardDeviation))
        }
        guard settings.resampleThreshold > 0, settings.resampleThreshold <= 1, settings.moves >= 1, settings.priorSpread > 0, settings.basalGlucoseSD > 0 else {
            throw SyncError(.invalidArgument, "the resampling threshold must be in (0, 1], moves at least 1, the prior spread and basal glucose sd positive.")
        }
        guard settings.covarianceShrinkage >= 0, settings.covarianceShrinkage <= 1 else {
            throw SyncError(.invalidArgument, "the covariance shrinkage must be between 0 and 1 (got \(settings.covarianceShrinkage)).", value: String(settings.covarianceShrinkage))
        }
        guard settings.priorDegreesOfFreedom > 2 else {
            throw SyncError(.invalidArgument, "the prior's degrees of freedom must be above 2 (or infinite for a Gaussian; got \(settings.priorDegreesOfFreedom)).", value: String(settings.priorDegreesOfFreedom))
        }
        if let bodyWeight, !(bodyWeight > 0 && bodyWeight < 400) {
            throw SyncError(.invalidArgument, "the body weight must be a positive number of kg below 400 (got \(bodyWeight)).", value: String(bodyWeight))
        }
        guard firstReading > 0, firstReading.isFinite else {
            throw SyncError(.invalidArgument, "the first glucose reading must be positive.", value: String(firstReading))
        }
        guard carbohydrate.count == insulin.count, !carbohydrate.isEmpty, insulin[0] >= 0 else {
            throw SyncError(.dimensionMismatch, "carbohydrate and insulin inputs need one value per minute each (got \(carbohydrate.count) and \(insulin.count)).")
        }
        self.settings = settings
        self.seed = seed
        self.template = cohort[0]
        self.carbohydrate = carbohydrate
        self.insulin = insulin
        rng = Xoshiro256StarStar(seed: seed)
        scale = settings.proposalScale

        // the cohort's mean and covariance in the sampled coordinates, widened in every direction
        let d = Self.dimension, p = d - 1
        let points = cohort.map { Self.coordinates($0, basalGlucose: firstReading) }
        var mean = [Double](repeating: 0, count: d)
        for x in points { for j in 0..<p { mean[j] += x[j] / Double(points.count) } }
        mean[d - 1] = log(firstReading)
        var cov = [Double](repeating: 0, count: d * d)
        if let groups = covarianceGroups {
            // the pooled within-group covariance: each group centred on its own mean
            let members = groups.map { $0.map { Self.coordinates($0, basalGlucose: firstReading) } }.filter { $0.count >= 2 }
            let freedom = members.reduce(0) { $0 + $1.count - 1 }
            guard freedom >= 1 else {
                throw SyncError(.invalidArgument, "the covariance groups need at least one group of two or more members.")
            }
            for group in members {
                var gm = [Double](repeating: 0, count: p)
                for x in group { for j in 0..<p { gm[j] += x[j] / Double(group.count) } }
                for x in group {
                    for r in 0..<p { for c in 0..<p { cov[r * d + c] += (x[r] - gm[r]) * (x[c] - gm[c]) / Double(freedom) } }
                }
            }
        } else {
            for x in points {
                for r in 0..<p { for c in 0..<p { cov[r * d + c] += (x[r] - mean[r]) * (x[c] - mean[c]) / Double(points.count - 1) } }
            }
        }
        if settings.covarianceShrinkage > 0 {
            for r in 0..<p { for c in 0..<p where c != r { cov[r * d + c] *= 1 - settings.covarianceShrinkage } }
        }
        if let bodyWeight {
            // condition the Gaussian on the measured weight: the other parameters shift by their regression on
            // log BW and lose the variance it explains; BW itself keeps only the measurement's sd
            let b = 0, observed = log(bodyWeight)
            let sbb = cov[b * d + b]
            if sbb > 0 {
                let gain = (0..<p).map { cov[$0 * d + b] / sbb }
                let shift = observed - mean[b]
                for j in 0..<p where j != b { mean[j] += gain[j] * shift }
                for r in 0..<p where r != b {
                    for c in 0..<p where c != b { cov[r * d + c] -= gain[r] * gain[c] * sbb }
                }
            }
            mean[b] = observed
            for j in 0..<p { cov[j * d + b] = 0; cov[b * d + j] = 0 }
        }
        for j in 0..<p { cov[j * d + j] += settings.priorSpread * settings.priorSpread }
        if bodyWeight != nil { cov[0] = Self.bodyWeightSD * Self.bodyWeightSD }
        cov[(d - 1) * d + d - 1] = settings.basalGlucoseSD * settings.basalGlucoseSD
        guard cov.withUnsafeMutableBufferPointer({ Dense.cholesky($0.baseAddress!, d) }) == nil else {
            throw SyncError(.invalidArgument, "the cohort's parameter covariance is not positive definite.")
        }
        priorMean = mean
        priorFactor = cov

        theta = []; logPrior = []; logLikelihood = []; logWeights = []; trajectory = []; endState = []; process = []
        var attempts = 0
        while theta.count < settings.particles {
            attempts += 1
            guard attempts <= 50 * settings.particles else {
                throw SyncError(.invalidArgument, "fewer than \(settings.particles) of \(attempts) draws from the cohort prior have a steady state at glucose \(firstReading) mg/dL.", value: String(firstReading))
            }
            var z = [Double](repeating: 0, count: d)
            for j in 0..<d { z[j] = rng.normal() }
            let nu = settings.priorDegreesOfFreedom
            // a t draw is a Gaussian draw scaled by √(ν / χ²_ν)
            let tail = nu.isFinite ? (nu / (2 * rng.gamma(shape: nu / 2))).squareRoot() : 1
            var x = mean
            for r in 0..<d { for c in 0...r { x[r] += tail * priorFactor[r * d + c] * z[c] } }
            guard let particle = try? simulate(x, through: 0) else { continue }
            theta.append(x)
            logPrior.append(priorLogDensity(x))
            logLikelihood.append(0)
            logWeights.append(0)
            trajectory.append(particle.glucose)
            endState.append(particle.state)
            process.append(particle.process)
        }
    }

    /// Reweights the particles by the reading at `minute` and, when the effective sample size is too low,
    /// resamples and moves them.
    /// - Throws: ``SyncError`` `invalidTime` when `minute` is before the last reading;
    ///   `invalidArgument` for a non-finite or non-positive reading; `diverged` when every particle's likelihood
    ///   underflows (a reading no particle can explain).
    public mutating func assimilate(minute: Int, reading: Double) throws {
        if let last = readings.last, minute < last.minute {
            throw SyncError(.invalidTime, "reading at minute \(minute) is before the last one assimilated (\(last.minute)).", value: String(minute))
        }
        guard minute >= 0 else { throw SyncError(.invalidTime, "reading at minute \(minute) is before the start.", value: String(minute)) }
        guard reading.isFinite, reading > 0 else { throw SyncError(.invalidArgument, "a glucose reading must be positive and finite.", value: String(reading)) }
        for i in theta.indices {
            extend(i, through: minute)
            let e = trajectory[i][minute] - reading
            let l = -0.5 * e * e / likelihoodVariance
            logLikelihood[i] += l
            logWeights[i] += l
        }
        readings.append((minute, reading))
        guard logWeights.contains(where: { $0.isFinite }) else {
            throw SyncError(.diverged, "no particle of the parameter posterior can explain the reading \(reading) mg/dL at minute \(minute).", value: String(reading))
        }
        let w = weights
        let ess = 1 / w.reduce(0) { $0 + $1 * $1 }
        if ess < settings.resampleThreshold * Double(theta.count) { resampleAndMove(weights: w) }
    }

    /// The normalised weights of the particles.
    public var weights: [Double] {
        let top = logWeights.max() ?? 0
        let e = logWeights.map { exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// The sensor glucose at the last reading (mg/dL): the posterior mean and sd.
    public var glucose: (mean: Double, sd: Double) {
        guard let m = readings.last?.minute else { return (.nan, .nan) }
        return moments(at: m)
    }

    /// The posterior mean of each named parameter (``GlucoseTwinProcess/estimable`` names and the sampled ones)
    /// next to its cohort-prior median.
    public func parameters(_ names: [String]) -> [(name: String, prior: Double, estimated: Double)] {
        let w = weights
        let priorParameters = parameters(priorMean)
        return names.map { name in
            let estimate = theta.indices.reduce(0.0) { s, i in s + w[i] * GlucoseTwinProcess.value(name, in: process[i].population) }
            return (name, priorParameters.map { GlucoseTwinProcess.value(name, in: $0.parameters) } ?? .nan, estimate)
        }
    }

    /// The posterior standard deviation of each named parameter's natural logarithm (weighted over the particles).
    public func logStandardDeviations(_ names: [String]) -> [Double] {
        let w = weights
        return names.map { name in
            let logs = process.indices.map { log(GlucoseTwinProcess.value(name, in: process[$0].population)) }
            let mean = zip(w, logs).reduce(0) { $0 + $1.0 * $1.1 }
            return zip(w, logs).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) }.squareRoot()
        }
    }

    /// The posterior predictive sensor glucose at each of `minutes` (mg/dL; one state, `Gs`): the weighted
    /// mean and sd of the particles' trajectories, interval mean ± `z` sd.
    /// - Throws: ``SyncError`` `invalidTime` for a negative minute; `diverged` when no particle can be simulated
    ///   that far.
    public mutating func forecast(at minutes: [Int], z: Double = 1.96) throws -> [Forecast.Point] {
        try minutes.map { t in
            guard t >= 0 else { throw SyncError(.invalidTime, "forecast minute \(t) is before the start.", value: String(t)) }
            for i in theta.indices { extend(i, through: t) }
            guard logWeights.contains(where: { $0.isFinite }) else {
                throw SyncError(.diverged, "no particle of the parameter posterior could be simulated to minute \(t).", value: String(t))
            }
            let (m, sd) = moments(at: t)
            return Forecast.Point(time: Double(t), mean: [m], standardDeviation: [sd], lower: [m - z * sd], upper: [m + z * sd])
        }
    }

    /// The log prior density and the log likelihood of the readings so far (up to constants) of a given
    /// parameter set with basal glucose `basalGlucose`, on the scale of the particles' own: how plausible a
    /// candidate (for example a known patient's parameters) is next to the sample. `nil` when it has no steady
    /// state or cannot be simulated through the last reading.
    public func logDensity(of parameters: UVAPadovaParameters, basalGlucose: Double) -> (prior: Double, likelihood: Double)? {
        guard let p = evaluate(Self.coordinates(parameters, basalGlucose: basalGlucose), through: readings.last?.minute ?? 0) else { return nil }
        return (p.logPrior, p.logLikelihood)
    }

    /// Every particle's log prior and log likelihood of the readings so far (the scale of ``logDensity(of:basalGlucose:)``).
    public var particleLogDensities: [(prior: Double, likelihood: Double)] {
        theta.indices.map { (logPrior[$0], logLikelihood[$0]) }
    }

    /// The names of a forecast's states.
    public static let stateNames = ["Gs"]

    // MARK: - Internals

    /// The variance of a reading around a particle's glucose: CGM noise and model error.
    private var likelihoodVariance: Double {
        settings.noiseStandardDeviation * settings.noiseStandardDeviation + settings.modelErrorSD * settings.modelErrorSD
    }

    private func moments(at minute: Int) -> (mean: Double, sd: Double) {
        let w = weights
        var m = 0.0
        for i in theta.indices { m += w[i] * trajectory[i][minute] }
        var v = 0.0
        for i in theta.indices { v += w[i] * (trajectory[i][minute] - m) * (trajectory[i][minute] - m) }
        return (m, v.squareRoot())
    }

    /// The sd (log scale) of a measured body weight: about 2 % (scales, clothing, the day's variation).
    static let bodyWeightSD = 0.02

    /// The sampled coordinates of a parameter set.
    static func coordinates(_ p: UVAPadovaParameters, basalGlucose: Double) -> [Double] {
        logParameters.map { log(p[keyPath: $0.path]) } + logitParameters.map { let v = p[keyPath: $0.path]; return log(v / (1 - v)) } + [log(basalGlucose)]
    }

    /// The parameters and basal state of a sampled vector, or nil when they have no steady state.
    func parameters(_ x: [Double]) -> (parameters: UVAPadovaParameters, state: [Double])? {
        var p = template
        for (j, q) in Self.logParameters.enumerated() { p[keyPath: q.path] = exp(x[j]) }
        let offset = Self.logParameters.count
        for (j, q) in Self.logitParameters.enumerated() { p[keyPath: q.path] = 1 / (1 + exp(-x[offset + j])) }
        let gb = exp(x[Self.dimension - 1])
        // insulin: subcutaneous depots, plasma and liver at the first minute's rate
        let u = insulin[0] * 6000 / p.BW
        let isc1 = u / (p.ka1 + p.kd), isc2 = p.kd * isc1 / p.ka2
        let loss = (p.m2 + p.m4) - p.m1 * p.m2 / (p.m1 + p.m30)
        guard loss > 0 else { return nil }
        let ip = (p.ka1 * isc1 + p.ka2 * isc2) / loss
        let il = p.m2 * ip / (p.m1 + p.m30)
        let plasma = ip / p.Vi
        p.Ib = plasma
        // glucose: tissue uptake balances transfer at X = 0; production balances the losses
        let gp = gb * p.Vg
        let bq = p.Vm0 + p.k2 * p.Km0 - p.k1 * gp
        let gt = (-bq + (bq * bq + 4 * p.k2 * p.k1 * gp * p.Km0).squareRoot()) / (2 * p.k2)
        let renal = gp > p.ke2 ? p.ke1 * (gp - p.ke2) : 0
        let production = p.Fsnc + renal + p.k1 * gp - p.k2 * gt
        guard production > 0, gt > 0 else { return nil }
        p.kp1 = production + p.kp2 * gp + p.kp3 * plasma
        p.u2ss = u; p.Gb = gb; p.Gpb = gp; p.Gtb = gt; p.Ipb = ip; p.Ilb = il; p.EGPb = production; p.isc1ss = isc1; p.isc2ss = isc2
        let state = [0, 0, 0, gp, gt, ip, 0, plasma, plasma, il, isc1, isc2, gp]
        guard state.allSatisfy(\.isFinite), (try? p.validate()) != nil else { return nil }
        return (p, state)
    }

    private func priorLogDensity(_ x: [Double]) -> Double {
        let d = Self.dimension
        // solve L y = x - mean; log density up to a constant is -|y|²/2
        var y = [Double](repeating: 0, count: d)
        var s2 = 0.0
        for r in 0..<d {
            var s = x[r] - priorMean[r]
            for c in 0..<r { s -= priorFactor[r * d + c] * y[c] }
            y[r] = s / priorFactor[r * d + r]
            s2 += y[r] * y[r]
        }
        let nu = settings.priorDegreesOfFreedom
        return nu.isFinite ? -0.5 * (nu + Double(d)) * log1p(s2 / nu) : -0.5 * s2
    }

    /// A particle simulated from its steady state through `minute`.
    private func simulate(_ x: [Double], through minute: Int) throws -> (glucose: [Double], state: [Double], process: GlucoseTwinProcess) {
        guard let (p, x0) = parameters(x) else {
            throw SyncError(.invalidArgument, "the parameters have no steady state.")
        }
        let process = try GlucoseTwinProcess(population: p, carbohydrate: carbohydrate, insulin: insulin, estimated: [],
                                             noiseRate: [Double](repeating: 0, count: 14))
        var state = x0 + [0]
        var glucose = [x0[12] / p.Vg]
        glucose.reserveCapacity(carbohydrate.count)
        try Self.run(process, state: &state, glucose: &glucose, through: minute)
        return (glucose, state, process)
    }

    private static func run(_ process: GlucoseTwinProcess, state: inout [Double], glucose: inout [Double], through minute: Int) throws {
        let vg = process.population.Vg
        try state.withUnsafeMutableBufferPointer { s in
            while glucose.count <= minute {
                try process.propagate(s, from: Double(glucose.count - 1), over: 1)
                let g = s[12] / vg
                guard g.isFinite, g > 0 else {
                    throw SyncError(.nonFinite, "a particle's glucose left the positive range at minute \(glucose.count).", value: String(g))
                }
                glucose.append(g)
            }
        }
    }

    /// Extends particle `i`'s trajectory through `minute`; a particle that fails loses its weight.
    private mutating func extend(_ i: Int, through minute: Int) {
        guard trajectory[i].count <= minute else { return }
        do {
            try Self.run(process[i], state: &endState[i], glucose: &trajectory[i], through: minute)
        } catch {
            while trajectory[i].count <= minute { trajectory[i].append(trajectory[i].last ?? 0) }
            logWeights[i] = -.infinity
            logLikelihood[i] = -.infinity
        }
    }

    /// A proposed particle simulated through the last reading, with its log prior and log likelihood.
    private struct Proposal {
        let glucose: [Double], state: [Double], process: GlucoseTwinProcess
        let logPrior: Double, logLikelihood: Double
    }

    private func evaluate(_ x: [Double], through now: Int) -> Proposal? {
        let variance = likelihoodVariance
        guard let candidate = try? simulate(x, through: now) else { return nil }
        var likelihood = 0.0
        for r in readings {
            let e = candidate.glucose[r.minute] - r.value
            likelihood -= 0.5 * e * e / variance
        }
        guard likelihood.isFinite else { return nil }
        return Proposal(glucose: candidate.glucose, state: candidate.state, process: candidate.process, logPrior: priorLogDensity(x), logLikelihood: likelihood)
    }

    private mutating func resampleAndMove(weights w: [Double]) {
        let n = theta.count, d = Self.dimension
        // the proposal: the particles' weighted covariance
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n where w[i] > 0 { for j in 0..<d { mean[j] += w[i] * theta[i][j] } }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n where w[i] > 0 {
            for r in 0..<d { for c in 0...r { cov[r * d + c] += w[i] * (theta[i][r] - mean[r]) * (theta[i][c] - mean[c]) } }
        }
        for r in 0..<d { for c in (r + 1)..<max(d, r + 1) { cov[r * d + c] = cov[c * d + r] } }
        for j in 0..<d { cov[j * d + j] += 1e-8 }
        var factor = cov
        if factor.withUnsafeMutableBufferPointer({ Dense.cholesky($0.baseAddress!, d) }) != nil {
            factor = [Double](repeating: 0, count: d * d)
            for j in 0..<d { factor[j * d + j] = max(cov[j * d + j], 1e-8).squareRoot() }
        }
        // systematic resampling
        var picks = [Int](repeating: 0, count: n)
        let u0 = rng.uniform() / Double(n)
        var cumulative = w[0], k = 0
        for m in 0..<n {
            let u = u0 + Double(m) / Double(n)
            while u > cumulative && k < n - 1 { k += 1; cumulative += w[k] }
            picks[m] = k
        }
        theta = picks.map { theta[$0] }; logPrior = picks.map { logPrior[$0] }; logLikelihood = picks.map { logLikelihood[$0] }
        trajectory = picks.map { trajectory[$0] }; endState = picks.map { endState[$0] }; process = picks.map { process[$0] }
        logWeights = [Double](repeating: 0, count: n)
        resamplings += 1

        // random-walk Metropolis–Hastings on the posterior given every reading so far
        let now = readings.last?.minute ?? 0
        let step = scale * 2.38 / Double(d).squareRoot()
        var acceptedNow = 0
        let workers = min(max(1, ProcessInfo.processInfo.activeProcessorCount), settings.workers)
        for _ in 0..<settings.moves {
            // proposals and uniforms drawn in order (reproducible), simulated in parallel, accepted in order
            var proposals = [[Double]](repeating: [], count: n), uniforms = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var x = theta[i]
                var z = [Double](repeating: 0, count: d)
                for j in 0..<d { z[j] = rng.normal() }
                for r in 0..<d { for c in 0...r { x[r] += step * factor[r * d + c] * z[c] } }
                proposals[i] = x
                uniforms[i] = log(rng.uniform())
            }
            var results = [Proposal?](repeating: nil, count: n)
            let model = self, drawn = proposals
            results.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let out = buffer
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    for i in stride(from: w, to: n, by: workers) { out[i] = model.evaluate(drawn[i], through: now) }
                }
            }
            for i in 0..<n {
                proposed += 1
                guard let c = results[i], uniforms[i] < c.logPrior + c.logLikelihood - logPrior[i] - logLikelihood[i] else { continue }
                theta[i] = proposals[i]; logPrior[i] = c.logPrior; logLikelihood[i] = c.logLikelihood
                trajectory[i] = c.glucose; endState[i] = c.state; process[i] = c.process
                accepted += 1; acceptedNow += 1
            }
        }
        let rate = Double(acceptedNow) / Double(n * settings.moves)
        if rate < 0.15 { scale *= 0.7 } else if rate > 0.4 { scale = min(scale * 1.3, 3) }
    }
}
