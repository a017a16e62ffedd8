import Foundation
import TwinBank
import TwinCore
import TwinGovernance
import TwinServerAPI

/// The governance verbs that exist as commands: `audit verify` (here for a token the gate lets `administer` the bank)
/// and a twin's consent (`consent show`, `consent grant`/`deny`: the patient on their own twin, or the admin, as
/// ``TwinGovernance/Governance`` decides).
extension TwinAPI {
    func verifyAudit(_ input: Operations.VerifyAudit.Input) async throws -> Operations.VerifyAudit.Output {
        let call = try caller(purpose: nil, .read, .type("AuditEvent"))
        let gate = served.gate
        guard let key = served.auditKey else {
            throw ServerError(.unavailable, "the server has no audit public key to check the log's signed heads against")
        }
        let report = try await served.run(call) { bank in
            try bank.authorize(.administer, nil)
            return try gate.log.verify(publicKey: key)
        }
        return .ok(.init(body: .json(.init(verified: true, entries: Int64(report.entries), heads: Int64(report.heads), root: report.root.hex))))
    }

    func getConsent(_ input: Operations.GetConsent.Input) async throws -> Operations.GetConsent.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        let owner = served.gate.owner
        let consent = try await served.run(call) { bank in
            try Governance(bank: bank, actor: call.identity.subject, owner: owner).consent(of: id)
        }
        return .ok(.init(body: .json(Self.consent(consent))))
    }

    func recordConsent(_ input: Operations.RecordConsent.Input) async throws -> Operations.RecordConsent.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let now = served.base.clock.now()
        var purposes: Set<Purpose> = []
        for (i, p) in (body.purposes ?? []).enumerated() where p.lowercased() != "any" {
            do { purposes.insert(try Purpose(parsing: p)) } catch let e as GovernanceError {
                throw ServerError(.badRequest, e.message, field: "purposes[\(i)]", value: p)
            }
        }
        let actions = try Set((body.actions ?? []).enumerated().map { i, a throws -> String in
            do { return try AccessRequest.Action.parsing(a).name } catch {
                throw ServerError(.badRequest, "actions: '\(a)' is not an action the bank names (read, write, query, aggregate, sync, ...)", field: "actions[\(i)]", value: a)
            }
        })
        let validity = Validity(start: try Self.instant(body.validFrom, "validFrom", now, .lower),
                                end: try Self.instant(body.validUntil, "validUntil", now, .lower))
        let effect: Effect = body.effect == .permit ? .permit : .deny
        let rule = ConsentRule(id: "", effect: effect, purposes: purposes, actors: Set(body.actors ?? []), actions: actions,
                               validity: validity, granted: .epoch, source: "twinbank serve")
        let owner = served.gate.owner
        let consent: Consent
        do {
            consent = try await served.run(call) { bank in
                try Governance(bank: bank, actor: call.identity.subject, owner: owner).record([rule], twin: id).consent
            }
        } catch let e as GovernanceError where e.code == .invalidConsent {
            throw ServerError(ServerError.Code(e.code.description, .badRequest), e.message, field: "body", value: e.value)
        }
        return .created(.init(body: .json(Self.consent(consent))))
    }

    static func consent(_ c: Consent) -> S.Consent {
        .init(twin: c.twin.rawValue, version: c.version, updated: c.version == 0 ? nil : c.updated.iso8601,
              updatedBy: c.version == 0 ? nil : c.updatedBy,
              rules: c.rules.map { r in
                  .init(id: r.id, effect: r.effect == .permit ? .permit : .deny,
                        purposes: r.purposes.map(\.description).sorted(), actors: r.actors.sorted(), actions: r.actions.sorted(),
                        summary: r.summary, granted: r.granted.iso8601, revoked: r.revoked?.iso8601,
                        validFrom: r.validity.start?.iso8601, validUntil: r.validity.end?.iso8601)
              })
    }
}
