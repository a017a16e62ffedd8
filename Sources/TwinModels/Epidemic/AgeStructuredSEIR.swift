import Foundation
import TwinSimulation

/// An SEIR epidemic with age (or any) groups, a contact matrix and a time-varying contact rate.
///
/// For groups i = 1..m with sizes `N_i`: `S_i' = -λ_i S_i`, `E_i' = λ_i S_i - σ E_i`, `I_i' = σ E_i - γ I_i`,
/// `R_i' = γ I_i`, with force of infection `λ_i(t) = β · c(t) · Σ_j C_ij I_j / N_j`, where `C_ij` is the mean
/// number of daily contacts a person in group i has with people in group j, `β` the probability of transmission
/// per contact, `c(t)` the contact schedule's multiplier, `1/σ` the mean latent period and `1/γ` the mean
/// infectious period (days).
///
/// Sources: W. O. Kermack, A. G. McKendrick, Proc. R. Soc. A 115 (1927) 700-721 (compartments, final size);
/// O. Diekmann, J. A. P. Heesterbeek, J. A. J. Metz, J. Math. Biol. 28 (1990) 365-382 and P. van den Driessche,
/// J. Watmough, Math. Biosci. 180 (2002) 29-48 (R0 as the spectral radius of the next-generation matrix);
/// J. Mossong et al., PLoS Med. 5 (2008) e74 (contact matrices by age).
///
/// State layout: `[S_1..S_m, E_1..E_m, I_1..I_m, R_1..R_m]` (people).
public struct AgeStructuredSEIR: ODESystem, Sendable, DescribedModel {
    public var groupNames: [String]
    /// Group sizes `N_i`, people (> 0).
    public var populations: [Double]
    /// Contact matrix `C_ij`, row-major m×m, contacts per day (>= 0).
    public var contacts: [Double]
    /// Transmission probability per contact, β (>= 0).
    public var transmissibility: Double
    /// 1 / mean latent period, 1/day (> 0).
    public var sigma: Double
    /// 1 / mean infectious period, 1/day (> 0).
    public var gamma: Double
    public var schedule: ContactSchedule

    public init(groupNames: [String], populations: [Double], contacts: [Double], transmissibility: Double,
                latentPeriod: Double, infectiousPeriod: Double, schedule: ContactSchedule = .constant) throws(ModelError) {
        let m = populations.count
        guard m >= 1, groupNames.count == m else {
            throw ModelError(.invalidArgument, "SEIR: \(groupNames.count) group names for \(m) populations", value: "\(m)")
        }
        guard contacts.count == m * m else {
            throw ModelError(.invalidArgument, "SEIR: contact matrix has \(contacts.count) entries, expected \(m)x\(m) = \(m * m)",
                             value: "\(contacts.count)")
        }
        for (i, n) in populations.enumerated() { try ModelError.requirePositive(n, "population of \(groupNames[i])", in: "SEIR") }
        for (k, c) in contacts.enumerated() {
            try ModelError.requireNonNegative(c, "contacts[\(groupNames[k / m])][\(groupNames[k % m])]", in: "SEIR")
        }
        try ModelError.requireNonNegative(transmissibility, "transmissibility", in: "SEIR")
        try ModelError.requirePositive(latentPeriod, "latentPeriod", in: "SEIR")
        try ModelError.requirePositive(infectiousPeriod, "infectiousPeriod", in: "SEIR")
        self.groupNames = groupNames; self.populations = populations; self.contacts = contacts
        self.transmissibility = transmissibility; self.sigma = 1 / latentPeriod; self.gamma = 1 / infectiousPeriod
        self.schedule = schedule
    }

    public var groups: Int { populations.count }
    public var dimension: Int { 4 * groups }
    public var variableNames: [String] {
        ["S", "E", "I", "R"].flatMap { c in groupNames.map { "\(c)[\($0)]" } }
    }

    public var modelDescription: ModelDescription {
        var ps: [ModelDescription.Parameter] = [.init("beta", transmissibility, "1/contact"),
                                                .init("sigma", sigma, "1/d"), .init("gamma", gamma, "1/d")]
        for (i, g) in groupNames.enumerated() { ps.append(.init("N[\(g)]", populations[i], "people")) }
        for i in 0..<groups { for j in 0..<groups {
            ps.append(.init("C[\(groupNames[i])][\(groupNames[j])]", contacts[i * groups + j], "contacts/d"))
        } }
        return ModelDescription(id: "seir-age-structured", version: "1", parameters: ps,
                                states: variableNames.map { .init($0, "people") },
                                source: "Kermack & McKendrick 1927; Diekmann et al. 1990; van den Driessche & Watmough 2002")
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let m = groups
        let scale = transmissibility * schedule.multiplier(at: t)
        for i in 0..<m {
            var lambda = 0.0
            for j in 0..<m { lambda += contacts[i * m + j] * y[2 * m + j] / populations[j] }
            lambda *= scale
            let infection = lambda * y[i]
            let onset = sigma * y[m + i]
            let recovery = gamma * y[2 * m + i]
            dy[i] = -infection
            dy[m + i] = infection - onset
            dy[2 * m + i] = onset - recovery
            dy[3 * m + i] = recovery
        }
    }

    /// The next-generation matrix at contact multiplier `c` in a fully susceptible population:
    /// `K_ij = β c C_ij N_i / N_j / γ` (expected infections in group i caused by one infective in group j).
    public func nextGenerationMatrix(contactMultiplier c: Double = 1) -> [Double] {
        let m = groups
        var k = [Double](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0..<m {
            k[i * m + j] = transmissibility * c * contacts[i * m + j] * populations[i] / populations[j] / gamma
        } }
        return k
    }

    /// The basic reproduction number: spectral radius of the next-generation matrix (power iteration on the
    /// non-negative matrix, to relative 1e-12, at most 10,000 iterations).
    public func basicReproductionNumber(contactMultiplier c: Double = 1) -> Double {
        let m = groups
        let k = nextGenerationMatrix(contactMultiplier: c)
        var v = [Double](repeating: 1, count: m)
        var rho = 0.0
        for _ in 0..<10_000 {
            var w = [Double](repeating: 0, count: m)
            // Iterate with K + I (same dominant eigenvector, avoids oscillation for periodic matrices).
            for i in 0..<m { for j in 0..<m { w[i] += k[i * m + j] * v[j] }; w[i] += v[i] }
            let norm = w.map(abs).max() ?? 0
            if norm == 0 { return 0 }
            for i in 0..<m { w[i] /= norm }
            let next = norm - 1
            let done = abs(next - rho) <= 1e-12 * max(1, abs(next))
            rho = next; v = w
            if done { break }
        }
        return max(0, rho)
    }

    /// An initial state: everyone susceptible except `exposed[i]` and `infectious[i]` people per group.
    public func initialState(exposed: [Double], infectious: [Double]) throws(ModelError) -> [Double] {
        let m = groups
        guard exposed.count == m, infectious.count == m else {
            throw ModelError(.invalidArgument, "SEIR: need \(m) exposed and infectious counts", value: "\(exposed.count),\(infectious.count)")
        }
        var y = [Double](repeating: 0, count: 4 * m)
        for i in 0..<m {
            guard exposed[i] >= 0, infectious[i] >= 0, exposed[i] + infectious[i] <= populations[i] else {
                throw ModelError(.invalidArgument, "SEIR: initial cases in \(groupNames[i]) must be >= 0 and <= its population",
                                 value: "\(exposed[i] + infectious[i])")
            }
            y[i] = populations[i] - exposed[i] - infectious[i]
            y[m + i] = exposed[i]
            y[2 * m + i] = infectious[i]
        }
        return y
    }

    /// Solves from `initialState` over `[0, days]` with output every `step` days; the integrator restarts at each
    /// schedule change. Accuracy: relative 1e-8, absolute 1e-6 people.
    public func simulate(initialState: [Double], days: Double, step: Double = 1,
                         options: SolverOptions = SolverOptions(method: .dormandPrince, rtol: 1e-8, atol: 1e-6)) throws(ModelError) -> Solution {
        guard days.isFinite, days > 0, step.isFinite, step > 0 else {
            throw ModelError(.invalidArgument, "SEIR: days and step must be > 0, got \(days), \(step)", value: "\(days)")
        }
        guard initialState.count == dimension else {
            throw ModelError(.invalidArgument, "SEIR: initial state has \(initialState.count) values, expected \(dimension)",
                             value: "\(initialState.count)")
        }
        var times: [Double] = []
        var t = 0.0
        while t < days { times.append(t); t += step }
        times.append(days)
        let edges = schedule.changes.map(\.time).filter { $0 > 0 && $0 < days }
        let events = edges.isEmpty ? [] : [TimeEvent(name: "contact change", times: edges, action: { _ in })]
        do {
            return try ODESolver(options: options).solve(self, initialState: initialState, from: 0, to: days,
                                                         output: .times(times), timeEvents: events)
        } catch {
            throw ModelError(.solverFailure, "SEIR: \(error.message)", value: error.value)
        }
    }

    /// The final attack rates `z_i` (fraction of group i ever infected, for an epidemic seeded by a vanishing
    /// number of cases) solving `-ln(1 - z_i) = Σ_j (β c / γ) C_ij z_j` (the multigroup final-size relation;
    /// for one group `z = 1 - exp(-R0 z)`). Solved by fixed-point iteration from z = 1.
    public func finalSize(contactMultiplier c: Double = 1) -> [Double] {
        let m = groups
        var z = [Double](repeating: 1, count: m)
        for _ in 0..<100_000 {
            var next = [Double](repeating: 0, count: m)
            var change = 0.0
            for i in 0..<m {
                var s = 0.0
                for j in 0..<m { s += transmissibility * c / gamma * contacts[i * m + j] * z[j] }
                next[i] = 1 - exp(-s)
                change = max(change, abs(next[i] - z[i]))
            }
            z = next
            if change < 1e-15 { break }
        }
        return z
    }
}
