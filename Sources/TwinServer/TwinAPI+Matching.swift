import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinServerAPI

/// Clinical-trial matching (`twinbank match --json`): a criteria document over the bank's people or an aggregate's
/// members, as of a time, answered at once; the bank asks `match` bank-wide, then per twin, as for the command.
extension TwinAPI {
    func matchCriteria(_ input: Operations.MatchCriteria.Input) async throws -> Operations.MatchCriteria.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let document) = input.body else { throw ServerError(.badRequest, "the body must be a JSON criteria document", field: "body") }
        var criteria: Criteria
        do {
            criteria = try Criteria(json: try JSONReader().read([UInt8](try JSONEncoder().encode(document))))
        } catch let e as FHIRError {
            throw ServerError(.badRequest, "the criteria: \(e.message)", field: "body", value: e.value)
        }
        let now = served.base.clock.now()
        if let asOf = try Self.instant(input.query.asOf, "asOf", now, .instant) { criteria.asOf = asOf }
        let asOf = criteria.asOf ?? now
        criteria.asOf = asOf
        let aggregate = try input.query.aggregate.map { text in
            do { return try AggregateID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "aggregate", value: e.value) }
        }
        let matcher = Matcher(criteria: criteria)
        let results: [Matcher.TwinResult]
        do {
            results = try await served.run(call) { bank in
                let twins = try aggregate.map { try bank.members(of: $0).members.sorted() }
                return try matcher.evaluate(bank: bank, twins: twins)
            }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "aggregate", value: e.value)
        } catch let e as FHIRError where e.code == .accessDenied {
            throw ServerError(.accessDenied, e.message, value: e.value)
        }
        let twins: [S.MatchedTwin] = results.map { r in
            let verdict: S.MatchedTwin.VerdictPayload = r.eligible.map { $0 ? .eligible : .notEligible } ?? .possiblyEligible
            return .init(twin: r.twin.rawValue, verdict: verdict, criteria: r.results.map { c in
                let outcome: S.MatchedCriterion.OutcomePayload = switch c.outcome {
                case .met: .met
                case .notMet: .notMet
                case .unknown: .unknown
                }
                return .init(id: c.criterion.id, description: c.criterion.description, outcome: outcome, reason: c.reason,
                             evidence: c.evidence.map { e in
                                 .init(event: e.id.hex, time: e.effective.description, code: e.code.key.description, display: e.code.display,
                                       value: e.value?.description, source: e.source.description)
                             })
            })
        }
        return .ok(.init(body: .json(.init(
            trial: criteria.id, title: criteria.title, asOf: FHIRTime.text(asOf), criteria: matcher.descriptions,
            eligible: results.filter { $0.eligible == true }.map(\.twin.rawValue),
            possiblyEligible: results.filter { $0.eligible == nil }.map(\.twin.rawValue),
            twins: twins))))
    }
}
