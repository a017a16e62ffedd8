import TwinBank
import TwinCore

/// The ``DecisionPoint`` behind the bank's ``TwinBank/AccessGate`` seam: each request is decided against the
/// stored policy (``Policy/default(owner:)`` while none is stored) and the twin's consent, at the clock's now.
///
/// ``authorize(_:)`` fails closed: it returns only for an unrestricted permit. A permit that carries a
/// ``DataFilter`` cannot be passed through `authorize`, so it is refused there (naming the filter); callers
/// that can apply a filter ask ``decide(_:)`` and apply ``Decision/filter`` to what they return.
public struct DecisionGate: AccessGate {
    public let store: any GovernanceStore
    public let owner: String
    public let clock: any Clock
    public let point: DecisionPoint

    public init(store: any GovernanceStore, owner: String, clock: any Clock = SystemClock(), point: DecisionPoint = DecisionPoint()) {
        self.store = store; self.owner = owner; self.clock = clock; self.point = point
    }

    /// The decision for a request, now.
    public func decide(_ request: AccessRequest) throws -> Decision {
        try store.decide(request, owner: owner, now: clock.now(), point: point)
    }

    /// Returns for an unrestricted permit; throws ``GovernanceError`` `accessDenied` otherwise (a deny, with its
    /// reason, or a permit restricted by a filter, which this seam cannot carry).
    public func authorize(_ request: AccessRequest) throws {
        switch try decide(request) {
        case .deny(let reason):
            throw GovernanceError(.accessDenied, "access denied: \(reason)", value: request.actor)
        case .permit(let filter) where !filter.isUnrestricted:
            throw GovernanceError(.accessDenied, "access denied: \(request.actor) may \(request.action) twin \(request.twin?.rawValue ?? "-") for \(request.purpose) only with a filter (\(filter)), which this entry point cannot apply", value: request.actor)
        case .permit:
            return
        }
    }
}
