import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinFHIR
import TwinPopulation
import TwinServerAPI

/// The risk map over GeoJSON regions from daily counts in the body (`twinbank risk --counts FILE.csv --regions FILE
/// --out OUT`): the regions read as sent, the counts as rows or as the command's CSV
/// (``TwinPopulation/RegionalCounts/init(rows:name:regions:)``, ``TwinPopulation/RegionalCounts/init(csv:name:regions:)``),
/// assessed as the command assesses them (``TwinPopulation/RiskAssessment``) and answered as the GeoJSON it writes. It
/// reads nothing from the bank: asked as `aggregate` bank-wide, as an outbreak.
extension TwinAPI {
    func postCountsRiskMap(_ input: Operations.PostCountsRiskMap.Input) async throws -> Operations.PostCountsRiskMap.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON: regions and counts", field: "body") }
        let members = try Self.orderedMembers(of: body)
        let regions = try Self.regions(member: members["regions"], field: "regions", nameProperty: input.query.nameProperty)
        let counts: RegionalCounts
        do {
            switch (body.counts, body.countsCSV) {
            case (let rows?, nil):
                counts = try RegionalCounts(rows: rows.map { r in
                    var counts: [RiskMeasure: Int] = [:]
                    for (m, v) in [(RiskMeasure.cases, r.cases), (.contacts, r.contacts), (.tests, r.tests), (.positives, r.positives), (.admissions, r.admissions)] {
                        if let v { counts[m] = v }
                    }
                    return RegionalCounts.Row(region: r.region, date: r.date, population: r.population, counts: counts)
                }, name: "counts", regions: regions.names)
            case (nil, let text?):
                counts = try RegionalCounts(csv: text, name: "countsCSV", regions: regions.names)
            default:
                throw ServerError(.badRequest, "give the daily counts per region as rows (counts) or as CSV text (countsCSV), one of the two", field: "counts")
            }
        } catch let e as PopulationError {
            throw ServerError(.badRequest, e.message, field: body.counts == nil ? "countsCSV" : "counts", value: e.value.map { String($0.prefix(200)) })
        } catch let e as TwinError {
            // the CSV reader's own errors (a quote not closed)
            throw ServerError(.badRequest, e.message, field: "countsCSV", value: e.value.map { String($0.prefix(200)) })
        }
        let date = try Self.riskDate(input.query.date, now: served.base.clock.now())
        try await served.run(call) { bank in try bank.authorize(.aggregate, nil) }
        let assessment: RiskAssessment
        do { assessment = try RiskAssessment(regions: regions, counts: counts, date: date) } catch {
            throw ServerError(.badRequest, error.message, field: "date", value: error.value)
        }
        let map = try JSONDecoder().decode(S.CountsRiskMap.self, from: Data(assessment.geoJSON.utf8))
        return .ok(.init(body: .json(map)))
    }
}

extension TwinAPI {
    /// The top-level members of the request's JSON body as sent (kept by the body limit), in its order and with its
    /// numbers as written, so a GeoJSON or scenario member is read as the command reads a file; the generated code's
    /// decoding of `body` only when the bytes are not at hand.
    static func orderedMembers<Body: Encodable>(of body: Body) throws -> [String: JSONValue] {
        let bytes = try RequestBody.collected.map { [UInt8](buffer: $0) } ?? [UInt8](JSONEncoder().encode(body))
        let root: JSONValue
        do { root = try JSONReader().read(bytes) } catch {
            throw ServerError(.badRequest, "the body is not JSON: \(error.message)", field: "body")
        }
        guard let object = root.objectValue else { throw ServerError(.badRequest, "the body must be a JSON object", field: "body") }
        var members: [String: JSONValue] = [:]
        for m in object.members where members[m.key] == nil { members[m.key] = m.value }
        return members
    }

    /// GeoJSON regions given as a member of the body (`field`), checked as ``regions(_:nameProperty:)`` checks a body.
    static func regions(member: JSONValue?, field: String, nameProperty: String?) throws -> GeoRegions {
        guard let member else { throw ServerError(.badRequest, "\(field) is missing: give the regions as a GeoJSON FeatureCollection", field: field) }
        if let nameProperty, nameProperty.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "nameProperty is empty: name the feature property that names a region, or leave it out (the first string property)", field: "nameProperty", value: nameProperty)
        }
        do { return try GeoRegions(geoJSON: JSONWriter().write(member), nameProperty: nameProperty) } catch {
            throw ServerError(.badRequest, "\(field): \(error.message)", field: error.message.contains("property") && nameProperty != nil ? "nameProperty" : field,
                              value: error.value.map { String($0.prefix(300)) })
        }
    }
}
