import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinServerAPI

/// The governance verbs that exist as commands: `audit verify` (here for a token the gate lets `administer` the bank)
/// and a twin's consent (`consent show [--history]`, `consent grant`/`deny` with their data scope, `consent revoke`:
/// the patient on their own twin, or the admin, as ``TwinGovernance/Governance`` decides).
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
        let data = try Self.dataScope(categories: body.categories, codes: body.codes, codeSystems: body.codeSystems,
                                      codesBelow: body.codesBelow, dataFrom: body.dataFrom, dataTo: body.dataTo, now: now)
        let rule = ConsentRule(id: "", effect: effect, purposes: purposes, actors: Set(body.actors ?? []),
                               organisations: Set(body.organisations ?? []), actions: actions, data: data,
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
                        organisations: r.organisations.isEmpty ? nil : r.organisations.sorted(),
                        categories: selected(r.data, \.categories), codes: selected(r.data, \.codes),
                        codeSystems: selected(r.data, \.codeSystems), codesBelow: selected(r.data, \.codesBelow),
                        dataFrom: r.data.period?.from?.iso8601, dataTo: r.data.period?.to?.iso8601,
                        summary: r.summary, granted: r.granted.iso8601, revoked: r.revoked?.iso8601,
                        validFrom: r.validity.start?.iso8601, validUntil: r.validity.end?.iso8601)
              })
    }

    /// A data scope's selectors by kind, as the body gives them (codes as `SYSTEM|CODE`).
    private struct Selected {
        var categories: [String] = [], codes: [String] = [], codeSystems: [String] = [], codesBelow: [String] = []
        init(_ scope: DataScope) {
            for s in scope.selectors {
                switch s {
                case .category(let c): categories.append(c.name)
                case .code(let k): codes.append("\(k.system)|\(k.code)")
                case .system(let uri): codeSystems.append(uri)
                case .descendants(let k): codesBelow.append("\(k.system)|\(k.code)")
                }
            }
        }
    }

    /// The selectors of one kind, nil when there are none (the field is left out).
    private static func selected(_ scope: DataScope, _ kind: KeyPath<Selected, [String]>) -> [String]? {
        let list = Selected(scope)[keyPath: kind]
        return list.isEmpty ? nil : list
    }

    /// A consent rule's data scope from the body's fields, as `consent grant` reads `--category`, `--code`,
    /// `--code-system`, `--code-below`, `--data-from` and `--data-to`: 400 naming the field (`codes[1]`) otherwise.
    static func dataScope(categories: [String]?, codes: [String]?, codeSystems: [String]?, codesBelow: [String]?,
                          dataFrom: String?, dataTo: String?, now: Instant) throws -> DataScope {
        var selectors: [DataSelector] = []
        for (i, c) in (categories ?? []).enumerated() {
            do { selectors.append(.category(try DataCategory(parsing: c))) } catch let e as GovernanceError {
                throw ServerError(.badRequest, e.message, field: "categories[\(i)]", value: c)
            }
        }
        for (i, s) in (codeSystems ?? []).enumerated() {
            if let uri = CodeKey.system(forAlias: s) { selectors.append(.system(uri)) }
            else if s.contains(":"), !s.contains(where: \.isWhitespace) { selectors.append(.system(s)) }
            else {
                throw ServerError(.badRequest, "unknown code system '\(s)': give an alias (\(CodeKey.aliases.map(\.alias).joined(separator: ", "))) or a URI",
                                  field: "codeSystems[\(i)]", value: s)
            }
        }
        for (i, c) in (codes ?? []).enumerated() { selectors.append(.code(try codeKey(c, "codes[\(i)]"))) }
        for (i, c) in (codesBelow ?? []).enumerated() { selectors.append(.descendants(try codeKey(c, "codesBelow[\(i)]"))) }
        let period = dataFrom == nil && dataTo == nil ? nil
            : DataPeriod(from: try instant(dataFrom, "dataFrom", now, .lower), to: try instant(dataTo, "dataTo", now, .lower))
        if let p = period, let f = p.from, let t = p.to, t <= f {
            throw ServerError(.badRequest, "the data period must end after it starts (dataFrom \(f.iso8601), dataTo \(t.iso8601))", field: "dataTo", value: dataTo)
        }
        return DataScope(selectors: selectors, period: period)
    }

    func revokeConsent(_ input: Operations.RevokeConsent.Input) async throws -> Operations.RevokeConsent.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let all = body.all ?? false
        if (body.rule == nil) == !all {
            throw ServerError(.badRequest, #"name what to revoke: {"rule": "r1"} or {"all": true}, one of them"#, field: "body")
        }
        if let rule = body.rule, rule.isEmpty { throw ServerError(.badRequest, "rule: give a rule id (r1, r2, ...; the consent lists them)", field: "rule", value: rule) }
        let owner = served.gate.owner
        let rule = body.rule
        let (consent, ids) = try await served.run(call) { bank in
            let g = Governance(bank: bank, actor: call.identity.subject, owner: owner)
            do { return try g.revoke(twin: id, rule: rule) } catch let e as GovernanceError where e.code == .invalidConsent {
                // the library says "no such rule", "already revoked" or "nothing left" alike: tell them apart
                guard let rule else { throw ServerError(ServerError.Code("nothingToRevoke", .conflict), e.message, field: "all", value: id.rawValue) }
                if try g.store.consent(for: id)?.rules.contains(where: { $0.id == rule }) ?? false {
                    throw ServerError(ServerError.Code("alreadyRevoked", .conflict), e.message, field: "rule", value: rule)
                }
                throw ServerError(ServerError.Code("unknownRule", .notFound), e.message, field: "rule", value: rule)
            }
        }
        return .ok(.init(body: .json(.init(twin: id.rawValue, version: consent.version, rules: ids))))
    }

    func getConsentHistory(_ input: Operations.GetConsentHistory.Input) async throws -> Operations.GetConsentHistory.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        let owner = served.gate.owner
        let versions = try await served.run(call) { bank in
            try Governance(bank: bank, actor: call.identity.subject, owner: owner).consentHistory(of: id)
        }
        return .ok(.init(body: .json(.init(twin: id.rawValue, versions: versions.map(Self.consent)))))
    }
}

/// `consent export` and `consent import` as routes: a twin's consent as a FHIR R4 Consent, and a FHIR Consent's rules
/// added to it, under the same rule as the other consent verbs (the patient on their own twin, the admin).
extension TwinAPI {
    func exportConsentFHIR(_ input: Operations.ExportConsentFHIR.Input) async throws -> Operations.ExportConsentFHIR.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        let owner = served.gate.owner
        let consent = try await served.run(call) { bank in
            try Governance(bank: bank, actor: call.identity.subject, owner: owner).consent(of: id)
        }
        let bytes = JSONWriter().write(try FHIRConsent.resource(for: consent))
        return .ok(.init(body: .applicationFhirJson(try JSONDecoder().decode(Operations.ExportConsentFHIR.Output.Ok.Body.ApplicationFhirJsonPayload.self, from: Data(bytes)))))
    }

    func importConsentFHIR(_ input: Operations.ImportConsentFHIR.Input) async throws -> Operations.ImportConsentFHIR.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .write, .type("Consent"))
        let id = try Self.twinID(input.path.id)
        let data: Data
        switch input.body {
        case .applicationFhirJson(let b): data = try JSONEncoder().encode(b)
        case .json(let b): data = try JSONEncoder().encode(b)
        }
        let imported: FHIRConsent.Imported
        do { imported = try FHIRConsent.read(bytes: [UInt8](data), recordedAt: served.base.clock.now()) } catch {
            throw ServerError(ServerError.Code(error.code.description, .unprocessableContent), error.message, field: error.location ?? "body", value: error.value)
        }
        let owner = served.gate.owner
        let (consent, ids): (Consent, [String])
        do {
            (consent, ids) = try await served.run(call) { bank in
                try Governance(bank: bank, actor: call.identity.subject, owner: owner).record(imported.rules, twin: id, keepGrantedTimes: true)
            }
        } catch let e as GovernanceError where e.code == .invalidConsent {
            throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, field: "body", value: e.value)
        }
        return .created(.init(body: .json(.init(twin: id.rawValue, version: consent.version, rules: ids))))
    }
}
