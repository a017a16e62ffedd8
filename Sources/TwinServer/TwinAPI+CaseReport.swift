import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// The public agency's case report over an aggregate by age band (`twinbank report cases --aggregate ID --by age`):
/// ``TwinPopulation/CaseReporting/casesByAgeBandAndWeek(bank:aggregate:bands:)`` (asked as `aggregate`), released with
/// small counts suppressed by ``TwinPopulation/CaseReporting/release(_:minimumCount:)``; answered at once. By region
/// (`--by region --regions FILE`): the regions posted as GeoJSON, the people placed by ``TwinPopulation/RiskTwins``.
/// With `Accept: text/csv`, the CSV `--out FILE.csv` writes (``TwinPopulation/CaseReporting/csv(_:rowHeader:)``).
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
        let released = try await Self.released(id, served: served, call: call) { bank in
            try CaseReporting.release(try CaseReporting.casesByAgeBandAndWeek(bank: bank, aggregate: id, bands: chosen), minimumCount: minCount)
        }
        if Self.prefers(input.headers.accept, .csv) { return .ok(.init(body: .csv(HTTPBody(CaseReporting.csv(released, rowHeader: "age"))))) }
        return .ok(.init(body: .json(Self.caseReport(released, aggregate: id, by: .age, minCount: minCount))))
    }

    func postAggregateCaseReport(_ input: Operations.PostAggregateCaseReport.Input) async throws -> Operations.PostAggregateCaseReport.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        let minCount = input.query.minCount ?? CaseReporting.defaultMinimumCount
        guard minCount >= 1 else {
            throw ServerError(.badRequest, "minCount is the smallest count released: 1 or more (1 suppresses nothing), not \(minCount)", field: "minCount", value: String(minCount))
        }
        // the body as sent (a region's default name is the first string property in the file's order), as the
        // region risk map reads it
        let container: OpenAPIObjectContainer
        switch input.body {
        case .applicationGeoJson(let c): container = c
        case .json(let c): container = c
        }
        let regions = try Self.regions(container, nameProperty: input.query.nameProperty)
        let released = try await Self.released(id, served: served, call: call) { bank in
            let input = try RiskTwins.read(bank: bank, aggregate: id, regions: regions, locator: regions.locator())
            return try CaseReporting.release(try CaseReporting.casesByRegionAndWeek(input.counts), minimumCount: minCount)
        }
        if Self.prefers(input.headers.accept, .csv) { return .ok(.init(body: .csv(HTTPBody(CaseReporting.csv(released, rowHeader: "region"))))) }
        return .ok(.init(body: .json(Self.caseReport(released, aggregate: id, by: .region, minCount: minCount))))
    }

    /// The released table `body` computes for the call, its refusals as answers: no case at all (422), an unknown
    /// aggregate (404).
    static func released(_ id: AggregateID, served: ServedBank, call: ServedBank.Call, _ body: @escaping @Sendable (Bank) throws -> ReleasedTable) async throws -> ReleasedTable {
        do {
            return try await served.run(call, body)
        } catch let e as PopulationError {
            // the parameters were checked before: what is left is an aggregate whose people have no case
            throw ServerError(.unprocessable, e.message, value: e.value)
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
    }

    static func caseReport(_ released: ReleasedTable, aggregate id: AggregateID, by: S.CaseReport.ByPayload, minCount: Int) -> S.CaseReport {
        func cell(_ n: Int?) -> S.CaseReportCell { .init(count: n, suppressed: n == nil) }
        return .init(
            aggregate: id.rawValue, by: by, minCount: minCount, columns: released.columnLabels,
            rows: released.rowLabels.enumerated().map { i, label in
                .init(label: label, cells: released.cells[i].map(cell), total: cell(released.rowTotals[i]))
            },
            columnTotals: released.columnTotals.map(cell), total: cell(released.total),
            suppressed: released.primaryCount + released.complementaryCount)
    }
}
