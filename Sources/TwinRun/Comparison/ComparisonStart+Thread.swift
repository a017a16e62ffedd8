import Foundation
import TwinBank
import TwinCore
import TwinSync

/// Where a comparison starts from when none is given: what the two-way loop learnt, read from the twin's thread.
extension ComparisonStart {
    /// The latest parameter estimate of the twin's binding of `kind` (``TwinSync/ThreadBinding``; the preset's
    /// name and parameters when the twin has no such binding) whose data window ended at or before `start`, as
    /// the thread knew it at `knownAt` (nil: now), so a replay of a past comparison with the `knownAt` it ran at
    /// starts from what was known then. nil when the loop has written no such estimate.
    /// - Throws: ``TwinSync/SyncError`` `invalidBinding` when a stored binding does not decode; bank errors.
    public static func estimate(for twin: TwinID, kind: ThreadBinding.ModelReference.Kind, in bank: Bank, at start: Instant,
                                knownAt: Instant? = nil) throws -> EstimateEvents.Recorded? {
        let record = try bank.twin(twin).twin
        let bound = try ThreadBinding.bindings(of: record).first { $0.model.kind == kind }
        let name: String, parameters: [String]
        if let bound {
            (name, parameters) = (bound.name, bound.estimated.map(\.parameter))
        } else {
            switch kind {
            case .pk: (name, parameters) = ("pk", ["clearance", "volume"])
            case .glucose: (name, parameters) = (ThreadBinding.glucose.name, ThreadBinding.glucose.estimated.map(\.parameter))
            case .petab, .sbml, .circulation: return nil
            }
        }
        return try EstimateEvents.latest(for: twin, binding: name, parameters: parameters, in: bank, at: start, knownAt: knownAt)
    }

    /// A start from an estimate read back from the thread: each parameter's value (renamed through `names`, the
    /// binding's parameter id to the comparison model's name; parameters not in `names` keep their id), its
    /// uncertainty as the sd of its natural logarithm (from a log or log10 scale exactly, from a linear one by the
    /// delta method sd/value), or `defaultLogSD` when the estimator gave none. Parameters must be positive (they vary
    /// on the log scale): a non-positive one is left out, so the comparison keeps the twin's own value for it.
    public init(estimate: EstimateEvents.Recorded, names: [String: String] = [:], defaultLogSD: Double) {
        var parameters: [Parameter] = [], sds: [Double] = []
        for p in estimate.parameters where p.value.isFinite && p.value > 0 {
            parameters.append(Parameter(names[p.id] ?? p.id, p.value))
            let sd: Double
            if let s = p.standardDeviation, s.isFinite, s >= 0 {
                switch p.scale {
                case .log: sd = s
                case .log10: sd = s * log(10)
                default: sd = s / p.value
                }
            } else {
                sd = defaultLogSD
            }
            sds.append(sd)
        }
        let window = "\(estimate.from.iso8601)..\(estimate.to.iso8601)"
        self.init(parameters: parameters, logStandardDeviations: sds,
                  source: "estimate binding=\(estimate.binding) estimator=\(estimate.estimator) window=\(window)",
                  derivedFrom: estimate.events)
    }
}
