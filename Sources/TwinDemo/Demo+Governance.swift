import Foundation
import TwinBank
import TwinCore
import TwinGovernance

extension Demo {
    /// What the governance step showed.
    public struct GovernanceTour: Sendable {
        /// The researcher's query the decision point refused, and why.
        public var denied: String
        /// Events of the consenting person the researcher saw (vital signs only) out of all of that person's.
        public var seen: Int
        public var total: Int
        /// The audit entry of the refusal, the log's size, and whether its inclusion proof verified offline.
        public var entry: UInt64
        public var logSize: UInt64
        public var proofVerified: Bool
    }

    /// 14. Governance: a person's consent (research on vital signs only), a researcher's queries through the one
    /// decision point (another person's record refused: research needs the person's opt-in; the consenting
    /// person's thread filtered to vital signs), each decision in the signed audit `log`, and the refusal's
    /// inclusion proof verified against the log's signed head with the public key alone. `admins` (the person
    /// running the demo) become the bank's admins beside the demo's own actor, so the bank stays theirs to explore.
    public func governanceStep(in bank: Bank, log: AuditLog, publicKey: AuditSigner.PublicKey, consenting: TwinID, other: TwinID,
                               admins: [String] = [], say: (String) -> Void) throws -> GovernanceTour {
        let owner = bank.actor
        let governance = Governance(bank: bank, actor: owner, owner: owner)
        for admin in admins where admin != owner { _ = try governance.assign(Caller(id: admin, role: .admin)) }
        _ = try governance.assign(Caller(id: "rita", role: .researcher, organisation: "university"))
        let rule = ConsentRule(id: "research-vitals", effect: .permit, purposes: [.research],
                               data: DataScope(selectors: [.category(.vitalSigns)]), granted: bank.clock.now(), source: "twinbank demo")
        _ = try governance.record([rule], twin: consenting)
        say("14. Governance: \(consenting) consents to research on vital signs only; rita is a researcher (policy: research needs the person's opt-in)")
        let gate = GovernedGate(store: BankGovernanceStore(storage: bank.storage), log: log, owner: owner, clock: bank.clock)
        let rita = Bank(storage: bank.storage, gate: gate, clock: bank.clock, actor: "rita", purpose: "research")
        var denied = ""
        do {
            _ = try rita.events(ThreadQuery(twin: other))
        } catch let error as BankError where error.code == .accessDenied {
            denied = error.message
        }
        say("   rita reads \(other)'s thread for research: refused (\(denied.isEmpty ? "not refused!" : denied))")
        let all = try bank.events(ThreadQuery(twin: consenting)).count
        let seen = try rita.events(ThreadQuery(twin: consenting)).count
        say("   rita reads \(consenting)'s thread for research: \(seen) of its \(all) events (the vital signs its consent permits)")
        let refusals = try log.entries(matching: AuditQuery(twin: other.rawValue)).filter { $0.actor == "rita" }
        guard let refusal = refusals.last else {
            throw GovernanceError(.auditTampered, "the refusal of rita's query is not in the audit log", value: other.rawValue)
        }
        let proof = try log.inclusionProof(entry: refusal.sequence)
        var verified = true
        do { try proof.verify(publicKey: publicKey) } catch { verified = false }
        say("   audit entry \(refusal.sequence) (\(refusal.decision) of rita's read) is in the signed log of \(proof.treeSize) entries: inclusion proof of \(proof.hashes.count) hashes \(verified ? "verified" : "FAILED") with the public key alone")
        return GovernanceTour(denied: denied, seen: seen, total: all, entry: refusal.sequence, logSize: proof.treeSize, proofVerified: verified)
    }
}
