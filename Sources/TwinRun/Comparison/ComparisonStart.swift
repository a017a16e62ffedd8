import Foundation
import TwinCore
import TwinSimulation

/// The parameter estimate a comparison's ensemble starts from: values by name (in the model's units), their
/// uncertainty as a covariance of the logarithms, and where the estimate came from.
///
/// Member 0 of the ensemble is ``parameters`` exactly; every other member multiplies each parameter by
/// `exp(Lz)` (L the lower Cholesky factor of ``logCovariance``, z standard normal draws taken in parameter
/// order), so a parameter with zero variance stays fixed and still takes its draw, and the same seed gives the
/// same ensemble. Parameters a model has but the estimate does not name keep the twin's own values.
///
/// By default each comparison model builds its own start from the twin (the glucose twin's `virtualPatient`;
/// the PK twin's attributes, calibrated to its measured levels). Passing a start instead (for example the latest
/// estimate a synchronisation wrote to the thread) makes the comparison start from it; ``source`` and
/// ``derivedFrom`` then go into the recorded comparison's provenance.
public struct ComparisonStart: Sendable, Hashable, Codable {
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        public var value: Double
        public init(_ name: String, _ value: Double) { self.name = name; self.value = value }
    }

    /// The estimate's centre, in the order the ensemble draws them.
    public var parameters: [Parameter]
    /// Covariance of the natural logarithms of ``parameters`` (rows in parameter order; symmetric, positive
    /// semi-definite).
    public var logCovariance: [[Double]]
    /// What the estimate is, for provenance (`virtualPatient adult#001`, `sync estimate at 2024-01-01T12:00:00Z`).
    public var source: String
    /// The thread events the estimate was read from (an estimate event), added to the comparison's provenance.
    public var derivedFrom: [ContentHash]

    public init(parameters: [Parameter], logCovariance: [[Double]], source: String, derivedFrom: [ContentHash] = []) {
        self.parameters = parameters; self.logCovariance = logCovariance; self.source = source; self.derivedFrom = derivedFrom
    }

    /// Independent parameters: `logStandardDeviations[i]` is the sd of `log(parameters[i])` (0.1 ≈ 10 % variation).
    public init(parameters: [Parameter], logStandardDeviations: [Double], source: String, derivedFrom: [ContentHash] = []) {
        let n = parameters.count
        self.init(parameters: parameters,
                  logCovariance: (0..<n).map { i in (0..<n).map { j in i == j && i < logStandardDeviations.count ? logStandardDeviations[i] * logStandardDeviations[i] : 0 } },
                  source: source, derivedFrom: derivedFrom)
        if logStandardDeviations.count != n { logCovariance = [] }     // rejected by validate(), naming the mismatch
    }

    /// The centre by name.
    public var values: [String: Double] { Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) }

    /// Checks the estimate: distinct names, finite positive values, a square symmetric covariance of the right size
    /// with finite entries that is positive semi-definite.
    /// - Throws: ``RunError`` `invalidBinding` naming the offending parameter or entry.
    public func validate() throws {
        var seen = Set<String>()
        for p in parameters {
            guard seen.insert(p.name).inserted else {
                throw RunError(.invalidBinding, "the comparison's starting estimate names '\(p.name)' twice", value: p.name)
            }
            guard p.value.isFinite, p.value > 0 else {
                throw RunError(.invalidBinding, "the comparison's starting estimate: '\(p.name)' must be a positive number (it varies on the log scale), not \(p.value)", value: "\(p.value)")
            }
        }
        let n = parameters.count
        guard logCovariance.count == n, logCovariance.allSatisfy({ $0.count == n }) else {
            throw RunError(.invalidBinding, "the comparison's starting estimate has \(n) parameters but its log covariance is not \(n) × \(n)", value: "\(logCovariance.count)")
        }
        for i in 0..<n {
            for j in 0..<n {
                let c = logCovariance[i][j]
                guard c.isFinite else {
                    throw RunError(.invalidBinding, "the log covariance of '\(parameters[i].name)' and '\(parameters[j].name)' is not a number", value: "\(c)")
                }
                guard abs(c - logCovariance[j][i]) <= 1e-12 * max(1, abs(c)) else {
                    throw RunError(.invalidBinding, "the log covariance is not symmetric at '\(parameters[i].name)', '\(parameters[j].name)'", value: "\(c)")
                }
            }
        }
        _ = try choleskyFactor()
    }

    /// The lower Cholesky factor of ``logCovariance`` (rows in parameter order); a zero pivot (a fixed parameter,
    /// or a fully correlated pair) gives a zero column.
    /// - Throws: ``RunError`` `invalidBinding` if the covariance is not positive semi-definite.
    func choleskyFactor() throws -> [[Double]] {
        let n = parameters.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = logCovariance[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                if i == j {
                    guard s >= -1e-12 * max(1, abs(logCovariance[i][i])) else {
                        throw RunError(.invalidBinding, "the comparison's starting estimate: the log covariance is not positive semi-definite at '\(parameters[i].name)'", value: parameters[i].name)
                    }
                    l[i][i] = max(s, 0).squareRoot()
                } else {
                    l[i][j] = l[j][j] > 0 ? s / l[j][j] : 0
                }
            }
        }
        return l
    }

    /// `count` members (at least one): member 0 is the centre, the others log-normal draws from `rng`, each
    /// taking one standard normal per parameter in order.
    func ensemble(_ count: Int, using rng: inout Xoshiro256StarStar) throws -> [[String: Double]] {
        let l = try choleskyFactor()
        let n = parameters.count
        var members = [values]
        while members.count < count {
            let z = (0..<n).map { _ in rng.nextNormal() }
            var member = values
            for i in 0..<n {
                var shift = 0.0
                for j in 0...i { shift += l[i][j] * z[j] }
                member[parameters[i].name] = parameters[i].value * exp(shift)
            }
            members.append(member)
        }
        return members
    }
}
