import Foundation
import NIOCore
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// The risk map of an aggregate over GeoJSON regions posted in the body, as `twinbank risk --aggregate ID --regions
/// FILE` computes it (``TwinPopulation/AggregateRiskMap/regions(_:of:in:date:)``, asked as `aggregate`); with `Accept:
/// image/svg+xml`, the choropleth `--map FILE.svg` writes (``TwinPopulation/RiskMap/svg(regions:risks:title:)``).
extension TwinAPI {
    func postAggregateRegionRiskMap(_ input: Operations.PostAggregateRegionRiskMap.Input) async throws -> Operations.PostAggregateRegionRiskMap.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        // the body as sent (the generated code decoded it to an unordered object; a region's default name is the
        // first string property in the file's order, and coordinates are read exactly), kept by the body limit
        let container: OpenAPIObjectContainer
        switch input.body {
        case .applicationGeoJson(let c): container = c
        case .json(let c): container = c
        }
        let regions = try Self.regions(container, nameProperty: input.query.nameProperty)
        let date = try Self.riskDate(input.query.date, now: served.base.clock.now())
        let map: AggregateRiskMap
        do {
            map = try await served.run(call) { bank in try AggregateRiskMap.regions(regions, of: id, in: bank, date: date) }
        } catch let e as PopulationError {
            throw ServerError(e.code == .invalidPings ? .unprocessable : .badRequest, e.message, field: e.code == .invalidArgument ? "date" : nil, value: e.value)
        }
        let located = map.input.persons
        if Self.prefers(input.headers.accept, .imageSvgXml) {
            // the choropleth `risk --map` writes
            let title = "Risk level by region" + (located > 0 ? ", 7 days to \(map.counts.date(map.day))" : ": no one located")
            return .ok(.init(body: .imageSvgXml(HTTPBody(RiskMap.svg(regions: map.regions, risks: map.risks, title: title)))))
        }
        let risks = Dictionary(map.risks.map { ($0.region, $0) }, uniquingKeysWith: { a, _ in a })
        var levels: [String: Int] = [:]
        var features: [S.RegionRisk] = []
        for (i, region) in map.regions.regions.enumerated() {
            let r = risks[i]
            levels[r?.level?.rawValue ?? "no data", default: 0] += 1
            let polygons = region.polygons.map { p in ([p.exterior] + p.holes).map { ring in ring.map { [$0.lon, $0.lat] } } }
            features.append(.init(_type: .feature, geometry: .init(_type: .multiPolygon, coordinates: polygons), properties: .init(
                name: region.name, level: r?.level.flatMap { .init(rawValue: $0.rawValue) }, colour: RiskMap.colour(r?.level), population: r?.population ?? 0,
                incidence7dPer100k: r?.incidence, testPositivity: r?.positivity, growthWeekOverWeek: r?.growth, admissions7dPer100k: r?.admissionRate,
                cases7d: r?.cases7 ?? 0, tests7d: r?.tests7 ?? 0, contacts7d: r?.contacts7 ?? 0, admissions7d: r?.admissions7 ?? 0, reasons: r?.reasons ?? [])))
        }
        return .ok(.init(body: .json(.init(
            _type: .featureCollection, aggregate: id.rawValue, date: located > 0 ? map.counts.date(map.day) : nil,
            firstDate: located > 0 ? map.counts.date(0) : nil, located: located, unlocated: map.input.unlocated.count,
            refused: map.input.refused.count, levels: .init(additionalProperties: levels), features: features))))
    }
}

extension TwinAPI {
    /// Whether the request's `Accept` prefers `type` to the JSON every route answers: the first type of the list
    /// (highest quality first, in the order sent among equals) that the route answers decides; none (no `Accept`,
    /// `*/*`): JSON.
    static func prefers<T: AcceptableProtocol>(_ accept: [AcceptHeaderContentType<T>], _ type: T) -> Bool {
        let answered = Set(T.allCases)
        let ranked = accept.enumerated().filter { $0.element.quality.doubleValue > 0 && answered.contains($0.element.contentType) }
            .sorted { a, b in a.element.quality.doubleValue != b.element.quality.doubleValue ? a.element.quality.doubleValue > b.element.quality.doubleValue : a.offset < b.offset }
        return ranked.first?.element.contentType == type
    }

    /// The GeoJSON regions of a request's body, read from the bytes as sent (a region's default name is the first
    /// string property in the file's order, and coordinates are read exactly), kept by the body limit; `container` (the
    /// generated code's decoding) only when the bytes are not at hand. A malformed region is a 400 naming the feature by
    /// its index (and name), the polygon, ring and position; an empty `nameProperty` or one no feature has, a 400 naming it.
    static func regions(_ container: OpenAPIObjectContainer, nameProperty: String?) throws -> GeoRegions {
        let bytes = try RequestBody.collected.map { [UInt8](buffer: $0) } ?? [UInt8](JSONEncoder().encode(container))
        if let nameProperty, nameProperty.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "nameProperty is empty: name the feature property that names a region, or leave it out (the first string property)", field: "nameProperty", value: nameProperty)
        }
        do { return try GeoRegions(geoJSON: bytes, nameProperty: nameProperty) } catch {
            throw ServerError(.badRequest, error.message, field: error.message.contains("property") && nameProperty != nil ? "nameProperty" : "body", value: error.value.map { String($0.prefix(300)) })
        }
    }
}
