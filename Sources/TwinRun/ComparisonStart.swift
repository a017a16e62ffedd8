import TwinBank
import TwinCore
import TwinSync

/// Where a comparison starts from: what the two-way loop learnt, read from the twin's thread.
public enum ComparisonStart {
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
            case .petab, .sbml: return nil
            }
        }
        return try EstimateEvents.latest(for: twin, binding: name, parameters: parameters, in: bank, at: start, knownAt: knownAt)
    }
}
