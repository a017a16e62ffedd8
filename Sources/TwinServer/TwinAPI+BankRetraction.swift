import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// A source retracted across the bank, as `twinbank retract --source SRC [--from T --to T]` without `--twin` makes it
/// (``TwinBank/Bank/retract(source:from:to:twin:reason:erase:)`` over every twin; the gate's `retract`, bank-wide and
/// for each twin touched, in one transaction: all or nothing).
extension TwinAPI {
    func retractSourceAcrossBank(_ input: Operations.RetractSourceAcrossBank.Input) async throws -> Operations.RetractSourceAcrossBank.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw ServerError(.badRequest, "a retraction needs a reason (it is recorded in each twin's thread)", field: "reason", value: body.reason)
        }
        let source: Source
        do { source = try Source(parsing: body.source) } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: "source", value: String(body.source.prefix(300)))
        }
        let now = served.base.clock.now()
        let from = try Self.instant(body.from, "from", now, .lower) ?? Self.earliest
        let to = try Self.instant(body.to, "to", now, .upper) ?? Self.latest
        guard from <= to else {
            throw ServerError(.badRequest, "the range ends (to) before it starts (from); nothing was retracted", field: "to", value: body.to)
        }
        let erase = body.erase ?? false
        let r: RetractionResult
        do {
            r = try await served.run(call) { bank in
                try bank.retract(source: source, from: from, to: to, twin: nil, reason: reason, erase: erase)
            }
        } catch let e as BankError where e.code == .invalidEvent {
            throw ErrorMapping.bank(e, field: "source")  // nothing (current) of the source in the range
        }
        return .created(.init(body: .json(.init(
            source: r.source.description, reason: r.reason, erased: r.erased, eventsRetracted: r.eventsRetracted,
            sequence: r.sequence, recorded: r.recorded.iso8601,
            twins: r.twins.map { .init(twin: $0.rawValue, count: r.retractedPerTwin[$0] ?? 0) },
            from: body.from == nil ? nil : from.iso8601, to: body.to == nil ? nil : to.iso8601))))
    }
}
