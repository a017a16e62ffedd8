import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// A table of counts released with small counts suppressed (`twinbank report cases --table FILE.csv`): the table given
/// as rows (``TwinPopulation/CaseTable/init(rowLabels:columnLabels:counts:)``) or as the command's CSV
/// (``TwinPopulation/CaseReporting/table(csv:name:)``), released by ``TwinPopulation/CaseReporting/release(_:minimumCount:)``;
/// answered at once (with `Accept: text/csv`, as the CSV `--out FILE.csv` writes). It reads nothing from the bank: asked as `aggregate` bank-wide, as the other public-health
/// computations.
extension TwinAPI {
    func postTableCaseReport(_ input: Operations.PostTableCaseReport.Input) async throws -> Operations.PostTableCaseReport.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON: columns and rows, or tableCSV", field: "body") }
        let minCount = input.query.minCount ?? CaseReporting.defaultMinimumCount
        guard minCount >= 1 else {
            throw ServerError(.badRequest, "minCount is the smallest count released: 1 or more (1 suppresses nothing), not \(minCount)", field: "minCount", value: String(minCount))
        }
        let table: CaseTable
        let field = body.tableCSV == nil ? "rows" : "tableCSV"
        do {
            switch (body.rows, body.tableCSV) {
            case (let rows?, nil):
                table = try CaseTable(rowLabels: rows.map(\.label), columnLabels: body.columns ?? [], counts: rows.map(\.counts))
            case (nil, let text?):
                guard body.columns == nil else { throw ServerError(.badRequest, "tableCSV names its columns in its header: leave out columns", field: "columns") }
                table = try CaseReporting.table(csv: text, name: "tableCSV")
            default:
                throw ServerError(.badRequest, "give the table as columns and rows, or as CSV text (tableCSV), one of the two", field: "rows")
            }
        } catch let e as PopulationError {
            throw ServerError(.badRequest, e.message, field: field, value: e.value.map { String($0.prefix(200)) })
        } catch let e as TwinError {
            throw ServerError(.badRequest, e.message, field: field, value: e.value.map { String($0.prefix(200)) })
        }
        try await served.run(call) { bank in try bank.authorize(.aggregate, nil) }
        let released: ReleasedTable
        do { released = try CaseReporting.release(table, minimumCount: minCount) } catch {
            throw ServerError(.badRequest, error.message, field: "minCount", value: error.value)
        }
        if Self.prefers(input.headers.accept, .csv) { return .ok(.init(body: .csv(HTTPBody(CaseReporting.csv(released))))) }
        func cell(_ n: Int?) -> S.CaseReportCell { .init(count: n, suppressed: n == nil) }
        return .ok(.init(body: .json(.init(
            minCount: minCount, columns: released.columnLabels,
            rows: released.rowLabels.enumerated().map { i, label in
                .init(label: label, cells: released.cells[i].map(cell), total: cell(released.rowTotals[i]))
            },
            columnTotals: released.columnTotals.map(cell), total: cell(released.total),
            suppressed: released.primaryCount + released.complementaryCount))))
    }
}
