import TwinSimulation

/// What a filter does when a covariance it must factorise is not positive definite (round-off after many
/// updates, a degenerate ensemble, a model that blew up).
public enum CovariancePolicy: Sendable, Hashable {
    /// Throw ``SyncError/Code-swift.struct/notPositiveDefinite`` naming the first failing state variable.
    case fail
    /// Symmetrise and add a growing multiple of the identity (`jitter · max(mean diagonal, 1e-12)`, tried ×100
    /// up to six times) until the Cholesky factorisation succeeds; record each repair as a ``CovarianceReset``.
    case regularise(jitter: Double)

    /// The default: regularise with a relative jitter of 1e-9.
    public static let standard = CovariancePolicy.regularise(jitter: 1e-9)
}

/// A recorded, explained repair of a filter's covariance.
public struct CovarianceReset: Sendable, Hashable, CustomStringConvertible {
    public var time: Double
    /// The state variable at which the factorisation first failed.
    public var variable: String
    /// The diagonal load added to make the matrix positive definite.
    public var addedDiagonal: Double
    public var reason: String
    public var description: String { "t = \(time): \(reason) (at '\(variable)'); added \(addedDiagonal) to the diagonal" }
}

extension CovariancePolicy {
    /// Factorises the `n × n` covariance `p` into `l` (lower Cholesky factor), repairing `p` in place if the
    /// policy allows and appending the repair to `resets`.
    func factor(_ p: UnsafeMutablePointer<Double>, into l: UnsafeMutablePointer<Double>, _ n: Int,
                time: Double, names: [String], what: String, resets: inout [CovarianceReset]) throws {
        l.update(from: p, count: n * n)
        guard let bad = Dense.cholesky(l, n) else { return }
        if let b = Dense.firstNonFinite(p, n * n) {
            throw SyncError(.nonFinite, "\(what) at t = \(time) has a non-finite entry at '\(names[b / n])'.", value: String(p[b]))
        }
        switch self {
        case .fail:
            throw SyncError(.notPositiveDefinite, "\(what) at t = \(time) is not positive definite (failed at '\(names[bad])').",
                            value: String(p[bad * n + bad]))
        case .regularise(let jitter):
            Dense.symmetrise(p, n)
            var meanDiag = 0.0
            for i in 0..<n { meanDiag += abs(p[i * n + i]) }
            meanDiag = max(meanDiag / Double(n), 1e-12)
            var load = 0.0
            var eps = jitter * meanDiag
            for _ in 0..<7 {
                l.update(from: p, count: n * n)
                for i in 0..<n { l[i * n + i] += load }
                if Dense.cholesky(l, n) == nil {
                    for i in 0..<n { p[i * n + i] += load }
                    resets.append(CovarianceReset(time: time, variable: names[bad], addedDiagonal: load,
                                                  reason: "\(what) was not positive definite; symmetrised and regularised"))
                    return
                }
                load = eps
                eps *= 100
            }
            throw SyncError(.notPositiveDefinite, "\(what) at t = \(time) is not positive definite even after regularisation (failed at '\(names[bad])').",
                            value: String(p[bad * n + bad]))
        }
    }
}
