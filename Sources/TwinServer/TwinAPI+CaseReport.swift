import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// The public agency's case report over an aggregate by age band (`twinbank report cases --aggregate ID --by age`):
/// ``TwinPopulation/CaseReporting/casesByAgeBandAndWeek(bank:aggregate:bands:)`` (asked as `aggregate`), released with
/// small counts suppressed by ``TwinPopulation/CaseReporting/release(_:minimumCount:)``; answered at once.
extension TwinAPI {
    func getAggregateCaseReport(_ input: Operations.GetAggregateCaseReport.Input) async throws -> Operations.GetAggregateCaseReport.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        var bands = CaseReporting.defaultAgeBands
        if let text = input.query.ageBands {
            do { bands = try CaseReporting.ageBands(parsing: text) } catch {
                throw ServerError(.badRequest, error.message, field: "ageBands", value: error.value ?? text)
            }
        }
        let minCount = input.query.minCount ?? CaseReporting.defaultMinimumCount
        guard minCount >= 1 else {
            throw ServerError(.badRequest, "minCount is the smallest count released: 1 or more (1 suppresses nothing), not \(minCount)", field: "minCount", value: String(minCount))
        }
        let chosen = bands
        let released: ReleasedTable
        do {
            released = try await served.run(call) { bank in
                try CaseReporting.release(try CaseReporting.casesByAgeBandAndWeek(bank: bank, aggregate: id, bands: chosen), minimumCount: minCount)
            }
        } catch let e as PopulationError {
            // the bands were checked above: what is left is an aggregate whose people have no case
            throw ServerError(.unprocessable, e.message, value: e.value)
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        func cell(_ n: Int?) -> S.CaseReportCell { .init(count: n, suppressed: n == nil) }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, by: .age, minCount: minCount, columns: released.columnLabels,
            rows: released.rowLabels.enumerated().map { i, label in
                .init(label: label, cells: released.cells[i].map(cell), total: cell(released.rowTotals[i]))
            },
            columnTotals: released.columnTotals.map(cell), total: cell(released.total),
            suppressed: released.primaryCount + released.complementaryCount))))
    }
}
