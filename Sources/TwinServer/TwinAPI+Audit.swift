import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinServerAPI

/// The audit log's commands as routes: `audit head`, `audit log`, `audit prove` and `audit export`, over the served
/// gate's ``TwinGovernance/AuditLog``. Who may see entries is the commands' rule, asked of the bank's gate (and so
/// itself audited): the entries about one twin are that twin's accounting of disclosures, shown to whoever may `read`
/// the twin (the patient on their own, a clinician for treatment, the admin); the whole log, an entry about no twin and
/// the signed head need `administer`.
extension TwinAPI {
    func getAuditHead(_ input: Operations.GetAuditHead.Input) async throws -> Operations.GetAuditHead.Output {
        let call = try caller(purpose: nil, .read, .type("AuditEvent"))
        let gate = served.gate
        let head = try await served.run(call) { bank in
            try bank.authorize(.administer, nil)
            return try gate.log.latestHead()
        }
        return .ok(.init(body: .json(head.map(Self.auditHead) ?? .init(size: 0, root: Merkle.emptyRoot.hex))))
    }

    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("AuditEvent"))
        let limit = try Self.pageSize(input.query.limit)
        var query = try auditQuery(twin: input.query.twin, from: input.query.from, to: input.query.to)
        query.limit = limit + 1
        if let cursor = input.query.cursor {
            guard let text = Self.decodeCursor(cursor), let after = UInt64(text) else { throw Self.badCursor(cursor) }
            query.after = after
        }
        let gate = served.gate
        let asked = query
        let entries = try await served.run(call) { bank in
            try Self.permitAudit(bank, twin: asked.twin)
            return try gate.log.entries(matching: asked)
        }
        let page = Array(entries.prefix(limit))
        let next = entries.count > limit ? page.last.map { Self.encodeCursor(String($0.sequence)) } : nil
        return .ok(.init(body: .json(.init(items: page.map(Self.auditEntry), nextCursor: next))))
    }

    func getAuditProof(_ input: Operations.GetAuditProof.Input) async throws -> Operations.GetAuditProof.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("AuditEvent"))
        let entry = input.path.entry
        guard entry >= 0 else { throw ServerError(.badRequest, "entry is a sequence number, 0 or more, not \(entry)", field: "entry", value: String(entry)) }
        if let size = input.query.size, size < 1 {
            throw ServerError(.badRequest, "size is a number of entries, 1 or more, not \(size)", field: "size", value: String(size))
        }
        let size = input.query.size.map { UInt64($0) }
        let gate = served.gate
        let proof = try await served.run(call) { bank in
            let n = try gate.log.latestHead()?.size ?? 0
            if let size, size > n {
                throw ServerError(.badRequest, "size: the audit log has \(n) entries, so no tree of \(size)", field: "size", value: String(size))
            }
            guard UInt64(entry) < size ?? n else {
                throw ServerError(ServerError.Code("unknownEntry", .notFound), "entry \(entry) is not in the tree of \(size ?? n) entries (the log has \(n))",
                                  field: "entry", value: String(entry))
            }
            let p = try gate.log.inclusionProof(entry: UInt64(entry), size: size)
            // the entry is shown only to whoever may see it: its twin's readers, else the admin
            try Self.permitAudit(bank, twin: p.entry.twin)
            return p
        }
        return .ok(.init(body: .json(.init(entry: Self.auditEntry(proof.entry), leafHash: proof.entry.leafHash.hex,
                                           leafIndex: Int64(proof.entry.sequence), treeSize: Int64(proof.treeSize),
                                           hashes: proof.hashes.map(\.hex), root: proof.root.hex, head: proof.head.map(Self.auditHead)))))
    }

    func exportAuditEvents(_ input: Operations.ExportAuditEvents.Input) async throws -> Operations.ExportAuditEvents.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .read, .type("AuditEvent"))
        let query = try auditQuery(twin: input.query.twin, from: input.query.from, to: input.query.to)
        let gate = served.gate
        let bytes = try await served.run(call) { bank in
            try Self.permitAudit(bank, twin: query.twin)
            let entries = try gate.log.entries(matching: query)
            return JSONWriter().write(AuditEventExport.bundle(entries, bank: bank))
        }
        return .ok(.init(body: .applicationFhirJson(try JSONDecoder().decode(Operations.ExportAuditEvents.Output.Ok.Body.ApplicationFhirJsonPayload.self, from: Data(bytes)))))
    }

    /// `twin`, `from` (inclusive, a date its start) and `to` (inclusive, a date its end) as `audit log` reads them.
    func auditQuery(twin: String?, from: String?, to: String?) throws -> AuditQuery {
        let now = served.base.clock.now()
        var twinID: String?
        if let twin {
            do { twinID = try TwinID(twin).rawValue } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "twin", value: twin) }
        }
        return AuditQuery(twin: twinID, from: try Self.instant(from, "from", now, .lower), to: try Self.instant(to, "to", now, .upper))
    }

    /// As the audit commands ask: `read` of the twin the entries are about, else `administer`.
    static func permitAudit(_ bank: Bank, twin: String?) throws {
        if let twin { try bank.authorize(.read, try TwinID(twin)) } else { try bank.authorize(.administer, nil) }
    }

    static func auditEntry(_ e: AuditEntry) -> S.AuditEntry {
        .init(seq: Int64(e.sequence), time: e.time.description, timeMicros: e.time.microseconds, actor: e.actor, role: e.role,
              organisation: e.organisation, action: e.action, twin: e.twin, purpose: e.purpose,
              decision: S.AuditEntry.DecisionPayload(rawValue: e.decision.rawValue) ?? .deny, reason: e.reason)
    }

    static func auditHead(_ h: SignedTreeHead) -> S.AuditHead {
        .init(size: Int64(h.size), root: h.root.hex, time: h.time.description, timeMicros: h.time.microseconds, signature: h.signature.map { String(format: "%02x", $0) }.joined())
    }
}
