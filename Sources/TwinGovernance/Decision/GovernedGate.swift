import Foundation
import Synchronization
import TwinBank
import TwinCore

extension DataFilter: AccessFilter {}

/// The bank's gate under governance: every request is decided by the ``DecisionPoint`` (against the stored
/// policy, ``Policy/default(owner:)`` while none is stored, and the twin's consent, at the clock's now) and the
/// decision, permit or deny, is appended to the ``AuditLog`` before the request is answered.
///
/// What it promises:
/// - ``decide(_:)``, ``authorize(_:)`` and ``answer(_:_:)`` return or throw only after the decision's audit entry is durable
///   (``AuditLog/append(_:)`` returned). If the append fails, the access is denied (`BankError` `accessDenied`,
///   naming the audit failure): nothing is read or written without its record.
/// - A deny throws ``TwinBank/BankError`` with code `accessDenied`, its message naming the actor and the reason,
///   its value the actor.
/// - ``decide(_:)`` returns nil for an unrestricted permit, else the ``DataFilter`` the bank applies to the
///   events it returns (audited as `permit-with-filter`, the filter in the reason); ``authorize(_:)`` refuses a
///   filtered permit (fails closed).
/// - A decision that cannot be taken (the policy cannot be read) is a deny, audited as such.
/// - Decisions asked inside one of the bank's own storage transactions (``decideInTransaction(_:)``: the writes
///   of `Bank.write`, retractions, export closures) cannot be appended there (the audit log writes through the same
///   connection); they are held and appended by ``transactionEnded()``, right after that transaction ends,
///   committed or not. A deny among them is then durable before the bank's call throws; a permit's entry is
///   appended after the writes commit (if that append fails, the call throws although the writes stand).
public final class GovernedGate: AccessGate, @unchecked Sendable {
    public let store: any GovernanceStore
    public let log: AuditLog
    /// Who owns a bank without a stored policy and without a recorded owner (see ``GovernanceStore/recordedOwner()``).
    public let owner: String
    public let clock: any Clock
    public let point: DecisionPoint
    private let held = Mutex<[AuditEntry.Draft]>([])

    public init(store: any GovernanceStore, log: AuditLog, owner: String, clock: any Clock = SystemClock(), point: DecisionPoint = DecisionPoint()) {
        self.store = store; self.log = log; self.owner = owner; self.clock = clock; self.point = point
    }

    /// The twins the policy links to `actor` (``Caller/twins``: a patient's own, a device's), which the grants limited
    /// to linked twins cover; empty for an actor the policy does not know or links to none. Reads the policy only; it
    /// decides nothing (each twin is then asked about as usual): for listing or scanning an actor's own twins where
    /// a bank-wide read is not theirs to make.
    public func linkedTwins(of actor: String) throws -> Set<TwinID> {
        try store.policy(orDefaultFor: owner).caller(actor)?.twins ?? []
    }

    /// The decision and its audit draft (no I/O besides reading the policy and the consent).
    /// With `tx`, a ``BankGovernanceStore`` is read through that transaction (the bank's own, still open).
    func evaluate(_ request: AccessRequest, _ tx: (any StorageReader)? = nil) -> (Decision, AuditEntry.Draft) {
        let decision: Decision
        var role: String? = nil, organisation: String? = nil
        do {
            let (policy, consent) = try inputs(for: request, tx)
            if let c = policy.caller(request.actor) { role = "\(c.role)"; organisation = c.organisation }
            decision = point.decide(request, DecisionContext(policy: policy, consent: consent, now: clock.now()))
        } catch {
            decision = .deny("the decision could not be taken: \(error)")
        }
        let draft: AuditEntry.Draft
        switch decision {
        case .deny(let reason):
            draft = AuditEntry.Draft(request, decision: .deny, reason: reason, role: role, organisation: organisation)
        case .permit(let f) where f.isUnrestricted:
            draft = AuditEntry.Draft(request, decision: .permit, reason: "permitted", role: role, organisation: organisation)
        case .permit(let f):
            draft = AuditEntry.Draft(request, decision: .permitWithFilter, reason: "only \(f)", role: role, organisation: organisation)
        }
        return (decision, draft)
    }

    /// What a decision reads: the policy (or the default for the recorded owner) and the request's consent. The bank's
    /// own store reads them through `tx` when given, else in one read transaction of their own (not one each).
    private func inputs(for request: AccessRequest, _ tx: (any StorageReader)?) throws -> (Policy, Consent?) {
        guard let bankStore = store as? BankGovernanceStore else {
            return (try store.policy(orDefaultFor: owner), try request.twin.flatMap { try store.consent(for: $0) })
        }
        let owner = self.owner
        let read = { (tx: any StorageReader) throws -> (Policy, Consent?) in
            (try bankStore.policy(orDefaultFor: owner, tx),
             try request.twin.flatMap { try bankStore.load(Consent.self, ref: BankGovernanceStore.consentRef($0), tx) })
        }
        if let tx { return try read(tx) }
        return try bankStore.storage.read(read)
    }

    /// The answer for a decision whose audit entry is recorded.
    static func answer(_ request: AccessRequest, _ decision: Decision) throws -> DataFilter? {
        switch decision {
        case .deny(let reason):
            throw BankError(.accessDenied, "access denied: \(request.actor) may not \(request.action) \(request.twin.map { "twin \($0)" } ?? "the bank") for \(request.purpose): \(reason)", value: request.actor)
        case .permit(let f): return f.isUnrestricted ? nil : f
        }
    }

    /// Decides, records the decision durably, then answers: nil (everything), a filter, or a throw (deny).
    public func decide(_ request: AccessRequest) throws -> (any AccessFilter)? {
        let (decision, draft) = evaluate(request)
        return try record(request, decision, draft)
    }

    /// Decides a read and answers it, recording the decision **while** `body` reads: a deny is recorded and
    /// thrown before `body` runs; for a permit the entry is queued for the log's next group commit
    /// (``AuditLog/enqueue(_:)``) before `body` computes the answer, and the answer is returned only once the entry
    /// is durable (``AuditLog/wait(_:)``: this thread commits the queue if no other is committing). If the
    /// append fails, the answer is discarded and the call throws `accessDenied` (nothing leaves unrecorded); if
    /// `body` throws, its error is thrown after the entry is recorded (the permitted access was attempted).
    /// So a bulk read pays max(read, append) rather than their sum.
    public func answer<T>(_ request: AccessRequest, _ body: ((any AccessFilter)?) throws -> T) throws -> T {
        let (decision, draft) = evaluate(request)
        guard case .permit(let f) = decision else {
            // a deny: recorded, then thrown
            return try body(try record(request, decision, draft))
        }
        // queued for the next group commit now, made durable after the read: the read and the commit overlap, and
        // concurrent requests share a commit, without a thread per pending entry
        let ticket: AuditLog.Ticket
        do { ticket = try log.enqueue([draft]) } catch {
            throw Self.unrecorded(request, error)
        }
        let answer = Result { try body(f.isUnrestricted ? nil : f) }
        do { _ = try log.wait(ticket) } catch {
            throw Self.unrecorded(request, error)
        }
        return try answer.get()
    }

    /// ``answer(_:_:)`` in one read transaction of the bank's storage: when the gate's store is the bank's own
    /// (``BankGovernanceStore``, which the bank's transactions can read), the policy and the consent are read through
    /// `storage`'s transaction `tx` and `body` reads the answer through the same one, so a read costs one
    /// transaction, not two, and decides and answers on one snapshot. A permit's entry is queued for the log's next
    /// group commit before `body` runs and the answer is returned once it is durable; a deny is recorded (after the
    /// transaction ends) and thrown without running `body`. Any other store: ``answer(_:_:)`` around the read.
    public func answerReading<T>(_ request: AccessRequest, from storage: any BankStorage,
                                 _ body: ((any AccessFilter)?, any StorageReader) throws -> T) throws -> T {
        guard store is BankGovernanceStore else {
            return try answer(request) { filter in try storage.read { tx in try body(filter, tx) } }
        }
        let step: ReadStep<T> = try storage.read { tx in
            let (decision, draft) = evaluate(request, tx)
            guard case .permit(let f) = decision else { return .denied(decision, draft) }
            // queued now, committed while `body` reads
            let ticket: AuditLog.Ticket
            do { ticket = try log.enqueue([draft]) } catch { return .unrecorded(error) }
            return .answered(ticket, Result { try body(f.isUnrestricted ? nil : f, tx) })
        }
        switch step {
        case .denied(let decision, let draft):
            // recorded, then thrown (``record`` throws for a deny; the throw below is not reached)
            _ = try record(request, decision, draft)
            throw BankError(.accessDenied, "access denied: \(request.actor) may not \(request.action) for \(request.purpose)", value: request.actor)
        case .unrecorded(let error):
            throw Self.unrecorded(request, error)
        case .answered(let ticket, let answer):
            do { _ = try log.wait(ticket) } catch {
                throw Self.unrecorded(request, error)
            }
            return try answer.get()
        }
    }

    /// The refusal of a request whose decision could not be recorded in the audit log (nothing leaves unrecorded).
    static func unrecorded(_ request: AccessRequest, _ error: any Error) -> BankError {
        BankError(.accessDenied, "access denied: \(request.actor)'s request to \(request.action) could not be recorded in the audit log (\(error))", value: request.actor)
    }

    /// Appends a decision's entry, then answers it.
    private func record(_ request: AccessRequest, _ decision: Decision, _ draft: AuditEntry.Draft) throws -> DataFilter? {
        do { _ = try log.append(draft) } catch {
            throw Self.unrecorded(request, error)
        }
        return try Self.answer(request, decision)
    }

    /// ``decide(_:)`` for an entry point that cannot apply a filter: a filtered permit throws `accessDenied`.
    public func authorize(_ request: AccessRequest) throws {
        if let f = try decide(request) {
            throw BankError(.accessDenied, "access denied: \(request.actor) may \(request.action) twin \(request.twin?.rawValue ?? "-") for \(request.purpose) only with a filter (\(f)), which this entry point cannot apply", value: request.actor)
        }
    }

    /// Decides inside the bank's transaction; the entry is held until ``transactionEnded()``.
    public func decideInTransaction(_ request: AccessRequest, _ tx: any StorageReader) throws -> (any AccessFilter)? {
        let (decision, draft) = evaluate(request, tx)
        held.withLock { $0.append(draft) }
        return try Self.answer(request, decision)
    }

    /// Appends the held entries (one batch). Throws `accessDenied` if they cannot be recorded.
    public func transactionEnded() throws {
        let drafts = held.withLock { h -> [AuditEntry.Draft] in defer { h.removeAll() }; return h }
        guard !drafts.isEmpty else { return }
        do { _ = try log.append(contentsOf: drafts) } catch {
            throw BankError(.accessDenied, "access denied: \(drafts.count) decision\(drafts.count == 1 ? "" : "s") could not be recorded in the audit log (\(error))", value: drafts[0].actor)
        }
    }
}

/// Where ``GovernedGate/answerReading(_:from:_:)`` stands when the read transaction ends.
private enum ReadStep<T> {
    /// Denied: recorded and thrown after the transaction; nothing was read.
    case denied(Decision, AuditEntry.Draft)
    /// Permitted, but the entry could not be queued: nothing was read.
    case unrecorded(any Error)
    /// Permitted, the entry queued, the answer (or its error) computed.
    case answered(AuditLog.Ticket, Result<T, any Error>)
}
