import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinRun
import TwinServerAPI

/// What the dashboard shows beyond a thread: a twin's latest in-silico comparison (TwinRun's ``TwinRun/RecordedComparison``),
/// an aggregate's distributions (TwinPopulation's ``TwinPopulation/AggregateDistribution``) and its risk map on a grid
/// (``TwinPopulation/AggregateRiskMap``, as `twinbank risk --grid`). Each is one library call through the gate.
extension TwinAPI {
    // MARK: - Comparisons

    func getLatestComparison(_ input: Operations.GetLatestComparison.Input) async throws -> Operations.GetLatestComparison.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.twinID(input.path.id)
        let found = try await served.run(call) { bank in try RecordedComparison.latest(of: id, in: bank) }
        guard let c = found else {
            throw ServerError(.notFound, "twin '\(id)' has no in-silico comparison in its thread: `twinbank compare --twin \(id) ...` records one", field: "id", value: id.rawValue)
        }
        let e = c.event
        return .ok(.init(body: .json(.init(
            twin: id.rawValue, event: e.id.hex, effective: e.effective.start.iso8601, recorded: e.recorded.iso8601, source: e.source.description,
            notes: e.provenance.notes,
            options: c.options.map { .init(rank: $0.rank, name: $0.name, fork: $0.fork?.rawValue, figures: $0.figures) }))))
    }

    // MARK: - Aggregate distributions

    func getAggregateDistribution(_ input: Operations.GetAggregateDistribution.Input) async throws -> Operations.GetAggregateDistribution.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        let code = try input.query.code.map { try Self.codeKey($0, "code") }
        let bins = input.query.bins.map(Int.init)
        let d: AggregateDistribution
        do {
            d = try await served.run(call) { bank in try AggregateDistribution.compute(of: id, in: bank, code: code, bins: bins) }
        } catch let e as PopulationError {
            throw ServerError(.badRequest, e.message, field: "bins", value: e.value)
        }
        func histogram(_ h: AggregateDistribution.Histogram) -> S.Histogram {
            .init(name: h.name, unit: h.unit, count: h.count, mean: h.mean, minimum: h.minimum, maximum: h.maximum, otherUnits: h.otherUnits,
                  bins: h.bins.map { .init(lower: $0.lower, upper: $0.upper, count: $0.count) })
        }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, members: d.members, refused: d.refused,
            codes: d.codes.map { .init(code: AggregateDistribution.key($0.code), members: $0.members) }, code: d.code.map(AggregateDistribution.key),
            values: d.values.map(histogram), attributes: d.attributes.map(histogram),
            categories: d.categories.map { .init(name: $0.name, count: $0.count, counts: $0.counts.map { .init(value: $0.value, count: $0.count) }) }))))
    }

    // MARK: - Risk map

    func getAggregateRiskMap(_ input: Operations.GetAggregateRiskMap.Input) async throws -> Operations.GetAggregateRiskMap.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        let gridText = input.query.grid ?? "1km"
        let metres: Double
        do { metres = try GeoRegions.cellSize(parsing: gridText) } catch {
            throw ServerError(.badRequest, error.message, field: "grid", value: gridText)
        }
        let date = try Self.riskDate(input.query.date, now: served.base.clock.now())
        let map: AggregateRiskMap
        do {
            map = try await served.run(call) { bank in try AggregateRiskMap.grid(of: id, in: bank, cellMeters: metres, date: date) }
        } catch let e as PopulationError {
            let field = e.code == .tooLarge || e.message.contains("cell size") ? "grid" : e.code == .invalidArgument ? "date" : nil
            throw ServerError(e.code == .invalidPings ? .unprocessable : .badRequest, e.message, field: field, value: e.value)
        }
        let grid = Value.format(metres)
        let input = map.input
        guard !map.regions.regions.isEmpty else {
            // no one located: no cells and no day assessed
            return .ok(.init(body: .json(.init(_type: .featureCollection, aggregate: id.rawValue, grid: grid, located: 0, unlocated: input.unlocated.count,
                                               refused: input.refused.count, features: []))))
        }
        var levels: [String: Int] = [:]
        var features: [S.RiskCell] = []
        for r in map.risks where r.population > 0 {
            levels[r.level?.rawValue ?? "no data", default: 0] += 1
            let region = map.regions.regions[r.region]
            let rings = region.polygons.first.map { p in ([p.exterior] + p.holes).map { ring in ring.map { [$0.lon, $0.lat] } } } ?? []
            features.append(.init(_type: .feature, geometry: .init(_type: .polygon, coordinates: rings), properties: .init(
                name: region.name, level: r.level.flatMap { .init(rawValue: $0.rawValue) }, colour: RiskMap.colour(r.level), population: r.population,
                incidence7dPer100k: r.incidence, testPositivity: r.positivity, growthWeekOverWeek: r.growth, admissions7dPer100k: r.admissionRate,
                cases7d: r.cases7, tests7d: r.tests7, contacts7d: r.contacts7, admissions7d: r.admissions7, reasons: r.reasons)))
        }
        return .ok(.init(body: .json(.init(
            _type: .featureCollection, aggregate: id.rawValue, grid: grid, date: map.counts.date(map.day), firstDate: map.counts.date(0),
            located: input.persons, unlocated: input.unlocated.count, refused: input.refused.count, levels: .init(additionalProperties: levels),
            features: features))))
    }

    /// A risk map's `date` parameter: a day (`2026-03-01`, its start) or any time in the bank's grammar; nil: none given.
    static func riskDate(_ text: String?, now: Instant) throws -> Instant? {
        try text.map { text -> Instant in
            let full = text.count == 10 ? text + "T00:00:00Z" : text
            guard let instant = try Self.instant(full, "date", now, .instant) else { throw ServerError(.badRequest, "date is empty", field: "date") }
            return instant
        }
    }
}
