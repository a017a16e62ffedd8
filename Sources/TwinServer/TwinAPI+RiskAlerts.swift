import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinFHIR
import TwinPopulation
import TwinServerAPI

/// The risk map's alerts (`twinbank risk --aggregate ID --regions FILE | --grid SIZE --alert-level L --recent-hours H
/// [--write-alerts]`): the aggregate assessed as for its map (``TwinPopulation/AggregateRiskMap``, asked as
/// `aggregate`), the people entering a region at the level or above in the window
/// (``TwinPopulation/RegionalRisk/alerts(_:regions:risks:day:minimum:recentHours:)``), and with `write` the alerts
/// written to their threads (``TwinPopulation/RiskTwins/writeAlerts(_:regions:risks:counts:bank:)``: the gate's `write`
/// per twin, all in one batch). Answered at once.
extension TwinAPI {
    func postAggregateRiskAlerts(_ input: Operations.PostAggregateRiskAlerts.Input) async throws -> Operations.PostAggregateRiskAlerts.Output {
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let write = body.write ?? false
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: write)
        let id = try Self.aggregateID(input.path.id)
        let members = try Self.orderedMembers(of: body)
        var regions: GeoRegions?
        var cellMeters = 1_000.0
        switch (members["regions"], body.grid) {
        case (.some(let given), nil): regions = try Self.regions(member: given, field: "regions", nameProperty: input.query.nameProperty)
        case (nil, let grid):
            if let grid {
                do { cellMeters = try GeoRegions.cellSize(parsing: grid) } catch {
                    throw ServerError(.badRequest, "grid: \(error.message)", field: "grid", value: grid)
                }
            }
        case (.some, .some): throw ServerError(.badRequest, "give the regions as GeoJSON (regions) or a grid of cells (grid), not both", field: "grid", value: body.grid)
        }
        let date = try Self.riskDate(body.date, now: served.base.clock.now())
        let minimum = body.alertLevel.flatMap { RiskLevel(rawValue: $0.rawValue) } ?? .high
        let hours = body.recentHours ?? 24
        guard hours.isFinite, hours > 0, hours <= 8_760 else {
            throw ServerError(.badRequest, "recentHours is the hours of pings looked at before the end of the assessed day: above 0 and at most 8760", field: "recentHours", value: "\(hours)")
        }
        let chosen = regions, cells = cellMeters
        let answer: (map: AggregateRiskMap, alerts: [RegionAlert], from: Instant, to: Instant, written: Int)
        do {
            answer = try await served.run(call) { bank in
                let map = try chosen.map { try AggregateRiskMap.regions($0, of: id, in: bank, date: date) }
                    ?? AggregateRiskMap.grid(of: id, in: bank, cellMeters: cells, date: date)
                let found = RegionalRisk.alerts(map.input, regions: map.regions, risks: map.risks, day: map.day, minimum: minimum, recentHours: hours)
                let written = write && !found.alerts.isEmpty
                    ? try RiskTwins.writeAlerts(found.alerts, regions: map.regions, risks: map.risks, counts: map.counts, bank: bank) : 0
                return (map, found.alerts, found.from, found.to, written)
            }
        } catch let e as PopulationError {
            switch e.code {
            case .invalidPings: throw ServerError(.unprocessable, e.message, value: e.value)
            case .tooLarge: throw ServerError(.badRequest, e.message, field: "grid", value: e.value)
            default: throw ServerError(.badRequest, e.message, field: "date", value: e.value)
            }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        let map = answer.map
        let names = map.regions.regions.map(\.name)
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, date: map.input.persons > 0 ? map.counts.date(map.day) : nil, alertLevel: minimum.rawValue,
            from: answer.from.iso8601, to: answer.to.iso8601, located: map.input.persons,
            alerts: answer.alerts.map { .init(person: $0.person, time: $0.ping.time.iso8601, region: names[$0.region], level: .init(rawValue: $0.level.rawValue)!) },
            written: answer.written))))
    }
}
