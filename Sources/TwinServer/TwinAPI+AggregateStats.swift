import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// An aggregate's statistics over time (`twinbank population stats --json`): per period, the members with a value of
/// a code, the values, and their mean, minimum and maximum, computed by ``TwinPopulation/AggregateStatistics`` over the
/// members the gate lets it use as `aggregate`; answered at once, at most ``aggregateStatsPeriodCap`` periods.
extension TwinAPI {
    /// The most periods a statistics answer holds.
    static let aggregateStatsPeriodCap = 10_000

    func getAggregateStats(_ input: Operations.GetAggregateStats.Input) async throws -> Operations.GetAggregateStats.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        let q = input.query
        let key = try Self.codeKey(q.code, "code")
        let everyText = q.every ?? "7d"
        let every: AggregateStatistics.Every
        do { every = try AggregateStatistics.Every(parsing: everyText) } catch {
            throw ServerError(.badRequest, "every: \(error.message)", field: "every", value: everyText)
        }
        let now = served.base.clock.now()
        let from = try Self.instant(q.from, "from", now, .instant)
        let to = try Self.instant(q.to, "to", now, .instant)
        if let from, let to, to < from {
            throw ServerError(.badRequest, "the period ends (to) before it starts (from)", field: "to", value: q.to)
        }
        let result: (members: Int, unit: String?, periods: [AggregateStatistics.Period])
        do {
            result = try await served.run(call) { bank in try AggregateStatistics.series(of: id, in: bank, code: key, every: every, from: from, to: to) }
        } catch let e as PopulationError {
            // the library's refusals left: more than its 100,000 periods, or the code in two units
            let field = e.value == every.description ? "every" : "code"
            throw ServerError(.badRequest, e.message, field: field, value: e.value)
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        guard result.periods.count <= Self.aggregateStatsPeriodCap else {
            throw ServerError(.badRequest, "periods of \(every) over this span are \(result.periods.count), over this server's \(Self.aggregateStatsPeriodCap): give a longer period or a shorter span (from, to)",
                              field: "every", value: everyText)
        }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, code: key.description, every: every.description, members: result.members, unit: result.unit,
            periods: result.periods.map { .init(start: $0.start.iso8601, end: $0.end.iso8601, members: $0.members, values: $0.values,
                                                mean: $0.mean, min: $0.minimum, max: $0.maximum) }))))
    }
}
