import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// Retraction of a source's events in one twin's thread, as `twinbank retract --source SRC --from T --to T --twin ID`
/// makes it (``TwinBank/Bank/retract(source:from:to:twin:reason:erase:)``, the gate's `retract`).
extension TwinAPI {
    /// The range a retraction covers when the request gives no bound: every time the bank's time grammar can write.
    static let earliest = try! Instant(parsing: "0000-01-01T00:00:00Z")
    static let latest = try! Instant(parsing: "9999-12-31T23:59:59.999999Z")

    func retractEvents(_ input: Operations.RetractEvents.Input) async throws -> Operations.RetractEvents.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw ServerError(.badRequest, "a retraction needs a reason (it is recorded in the twin's thread)", field: "reason", value: body.reason)
        }
        let erase = body.erase ?? false
        switch (body.event, body.source) {
        case (.some, .some):
            throw ServerError(.badRequest, "name either one event or a source, not both", field: "event", value: body.event)
        case (nil, nil):
            throw ServerError(.badRequest, "name what to retract: `event` (one event's id or sequence number) or `source` (KIND:ID)", field: "source")
        case (.some(let text), nil):
            guard body.from == nil, body.to == nil else {
                throw ServerError(.badRequest, "`from` and `to` narrow a source's events; one event needs neither", field: body.from != nil ? "from" : "to")
            }
            let reference: EventReference
            do { reference = try EventReference(parsing: text) } catch let e as BankError {
                throw ServerError(.badRequest, e.message, field: "event", value: String(text.prefix(300)))
            }
            let r: RetractionResult
            do {
                r = try await served.run(call) { bank in
                    _ = try bank.twin(id)  // an unknown twin is a 404 of the twin, not of the event
                    return try bank.retract(event: reference, reason: reason, erase: erase, twin: id)
                }
            } catch let e as BankError where e.code == .invalidEvent || e.code == .unknownEvent {
                throw ErrorMapping.bank(e, field: "event")
            }
            return .created(.init(body: .json(.init(
                twin: id.rawValue, source: r.source.description, reason: r.reason, erased: r.erased, eventsRetracted: r.eventsRetracted,
                sequence: r.sequence, recorded: r.recorded.iso8601, events: r.events.map(\.hex)))))
        case (nil, .some):
            break  // a source's events, below
        }
        let sourceText = body.source!
        let source: Source
        do { source = try Source(parsing: sourceText) } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: "source", value: String(sourceText.prefix(300)))
        }
        let now = served.base.clock.now()
        let from = try Self.instant(body.from, "from", now, .lower) ?? Self.earliest
        let to = try Self.instant(body.to, "to", now, .upper) ?? Self.latest
        guard from <= to else {
            throw ServerError(.badRequest, "the range ends (to) before it starts (from); nothing was retracted", field: "to", value: body.to)
        }
        let r: RetractionResult
        do {
            r = try await served.run(call) { bank in
                _ = try bank.twin(id)  // an unknown twin is a 404, not "nothing to retract"
                return try bank.retract(source: source, from: from, to: to, twin: id, reason: reason, erase: erase)
            }
        } catch let e as BankError where e.code == .invalidEvent {
            throw ErrorMapping.bank(e, field: "source")  // nothing (current) of the source in the range
        }
        return .created(.init(body: .json(.init(
            twin: id.rawValue, source: r.source.description, reason: r.reason, erased: r.erased, eventsRetracted: r.eventsRetracted,
            sequence: r.sequence, recorded: r.recorded.iso8601, events: r.events.map(\.hex),
            from: body.from == nil ? nil : from.iso8601, to: body.to == nil ? nil : to.iso8601))))
    }
}
