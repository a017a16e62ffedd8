import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// `twinbank erase` as a route: a person's right to erasure (``TwinBank/Bank/erase(twin:reason:dryRun:)``), which the
/// bank's gate decides (action `erase`: the patient on their own twin, the admin) and audits, a dry run included.
extension TwinAPI {
    func eraseTwin(_ input: Operations.EraseTwin.Input) async throws -> Operations.EraseTwin.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, .delete, .bank)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw ServerError(.badRequest, "an erasure needs a reason (kept in the erasure record, e.g. the request's reference)", field: "reason", value: body.reason)
        }
        let dryRun = body.dryRun ?? false
        let report: ErasureReport
        do {
            report = try await served.run(call) { bank in try bank.erase(twin: id, reason: reason, dryRun: dryRun) }
        } catch let e as BankError where e.code == .notErasable {
            throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, field: "id", value: e.value)
        }
        return .ok(.init(body: .json(Self.erasure(report))))
    }

    static func erasure(_ r: ErasureReport) -> S.Erasure {
        .init(twin: r.twin.rawValue, reason: r.reason, dryRun: r.dryRun, time: r.time.iso8601,
              twins: r.twins.map { .init(twin: $0.twin.rawValue, why: $0.why, eventsPurged: $0.eventsPurged,
                                         definitionVersionsRewritten: $0.definitionVersionsRewritten) },
              eventsPurged: r.eventsPurged, derivedEventsPurged: .init(additionalProperties: r.derivedEventsPurged),
              aggregatesChanged: r.aggregatesChanged.map(\.rawValue), aggregateVersionsRewritten: r.aggregateVersionsRewritten,
              partsUnlinked: r.partsUnlinked.map(\.rawValue), recordsRemoved: r.recordsRemoved,
              indexRowsRemoved: r.indexRowsRemoved, dictionaryEntriesDropped: r.dictionaryEntriesDropped,
              physical: r.physical.map { .init(applies: $0.applies, rebuilt: $0.rebuilt, walTruncated: $0.walTruncated, advice: $0.advice) })
    }
}
