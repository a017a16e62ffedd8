import Foundation
import TwinSimulation

/// The compartmental counterpart of the agent model, for quick estimates: an SEIR system
/// `S' = -β S I / N, E' = β S I / N - σ E, I' = σ E - γ I, R' = γ I` with `β = R0 · γ`, solved with
/// TwinSimulation's ODE solver. Its final size obeys the Kermack-McKendrick relation
/// `1 - z = s0 · exp(-R0 · z)` (``finalSize(r0:initialSusceptibleFraction:)``).
public struct CompartmentalOutbreak: ODESystem, Sendable {
    public var population: Double
    public var r0: Double
    /// 1 / mean latent period.
    public var sigma: Double
    /// 1 / mean infectious period.
    public var gamma: Double

    public init(population: Double, r0: Double, latentDays: Double, infectiousDays: Double) throws(PopulationError) {
        for (name, v) in [("population", population), ("latent period", latentDays), ("infectious period", infectiousDays)] where !(v.isFinite && v > 0) {
            throw PopulationError(.invalidArgument, "SEIR: the \(name) is \(v); it must be > 0", value: "\(v)")
        }
        guard r0.isFinite, r0 >= 0 else { throw PopulationError(.invalidArgument, "SEIR: R0 is \(r0); it must be >= 0", value: "\(r0)") }
        self.population = population; self.r0 = r0; sigma = 1 / latentDays; gamma = 1 / infectiousDays
    }

    /// The SEIR estimate of a scenario on a population: the latent period is the mean exposed-to-infectious
    /// duration; the infectious period the mean over ages (weighted by the population's ages and their
    /// susceptibility) of the disease course; R0 = beta × Σ layers (layer weight × mean contacts) × mean
    /// relative susceptibility × infectious period (viral load averaging to 1, as Covasim normalises it).
    /// An approximation: it ignores households saturating, age mixing, the network's clustering and the
    /// interventions.
    public init(estimating scenario: OutbreakScenario, on population: SyntheticPopulation) throws(PopulationError) {
        let d = scenario.disease
        var weight = [Double](repeating: 0, count: d.ageCutoffs.count)
        for a in population.ages { weight[d.band(of: Int(a))] += 1 }
        let n = Double(population.count)
        let meanSus = zip(weight, d.relativeSusceptibility).reduce(0) { $0 + $1.0 * $1.1 } / n
        var infectious = 0.0, infectedWeight = 0.0
        for b in 0..<weight.count {
            let w = weight[b] * d.relativeSusceptibility[b]
            infectious += w * d.meanInfectiousDays(band: b)
            infectedWeight += w
        }
        infectious = infectedWeight > 0 ? infectious / infectedWeight : d.asymptomaticToRecovered.mean
        var contactRate = 0.0
        for kind in ContactLayerKind.allCases {
            let degree = kind == .community && population.marginals.communityDaily
                ? population.marginals.communityContacts : population.layer(kind).meanDegree
            contactRate += d.layerBeta[kind.rawValue] * degree
        }
        try self.init(population: n, r0: d.beta * contactRate * meanSus * infectious,
                      latentDays: max(d.exposedToInfectious.mean, 1e-6), infectiousDays: max(infectious, 1e-6))
    }

    public var dimension: Int { 4 }
    public var variableNames: [String] { ["S", "E", "I", "R"] }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let infection = r0 * gamma * y[0] * y[2] / population
        dy[0] = -infection
        dy[1] = infection - sigma * y[1]
        dy[2] = sigma * y[1] - gamma * y[2]
        dy[3] = gamma * y[2]
    }

    /// Solves from `initialInfected` exposed people for `days` days, with the state at each whole day.
    public func solve(initialInfected: Double, days: Int, relativeTolerance: Double = 1e-8) throws(PopulationError) -> Solution {
        guard days >= 1 else { throw PopulationError(.invalidArgument, "SEIR: days \(days); give at least 1", value: "\(days)") }
        guard initialInfected >= 0, initialInfected <= population else {
            throw PopulationError(.invalidArgument, "SEIR: \(initialInfected) initial infections in a population of \(population)", value: "\(initialInfected)")
        }
        let solver = ODESolver(options: SolverOptions(method: .dormandPrince, rtol: relativeTolerance, atol: relativeTolerance * 1e-3 * population))
        do {
            return try solver.solve(self, initialState: [population - initialInfected, initialInfected, 0, 0], from: 0, to: Double(days),
                                    output: .evenlySpaced(count: days + 1))
        } catch {
            throw PopulationError(.invalidArgument, "SEIR: the solver failed: \(error)")
        }
    }

    /// The fraction `z` ever infected in the limit of a large population: the root in (0, 1] of
    /// `1 - z = s0 · exp(-R0 · z)` (Kermack & McKendrick 1927), found by bisection to machine precision.
    /// For `s0 = 1` and `R0 <= 1` it is 0.
    public static func finalSize(r0: Double, initialSusceptibleFraction s0: Double = 1) -> Double {
        func f(_ z: Double) -> Double { 1 - z - s0 * Foundation.exp(-r0 * z) }
        if s0 >= 1 && r0 <= 1 { return 0 }
        // f(lo) > 0 >= f(hi): for s0 < 1, f(0) = 1 - s0 > 0; for s0 = 1 and R0 > 1, f > 0 just above 0.
        var lo = s0 >= 1 ? min(1e-3, (r0 - 1) / (r0 * r0)) : 0, hi = 1.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if f(mid) > 0 { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}
