import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinFHIR
import TwinPopulation
import TwinServerAPI

/// An exposure scenario over an aggregate's people (`twinbank exposure --scenario FILE --aggregate ID --regions FILE
/// --json`): the scenario and the regions read from the body as sent, each region's population the aggregate's people
/// living there (``TwinPopulation/ExposureScenario/withResidents(of:in:regions:)``, asked as `aggregate`, bank-wide then
/// per member), evaluated and totalled as `POST /api/v1/exposures` does; answered at once.
extension TwinAPI {
    func evaluateAggregateExposure(_ input: Operations.EvaluateAggregateExposure.Input) async throws -> Operations.EvaluateAggregateExposure.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON: scenario and regions", field: "body") }
        let members = try Self.orderedMembers(of: body)
        let scenario: ExposureScenario
        do { scenario = try ExposureScenario(json: JSONWriter().write(members["scenario"] ?? .null)) } catch {
            throw ServerError(.badRequest, "the scenario: \(error.message)", field: "scenario", value: error.value.map { String($0.prefix(300)) })
        }
        let regions = try Self.regions(member: members["regions"], field: "regions", nameProperty: input.query.nameProperty)
        let (withPeople, people): (ExposureScenario, BankRiskInput)
        do {
            (withPeople, people) = try await served.run(call) { bank in try scenario.withResidents(of: id, in: bank, regions: regions) }
        } catch let e as PopulationError where e.code == .invalidScenario {
            throw ServerError(.badRequest, "the scenario: \(e.message)", field: "scenario", value: e.value.map { String($0.prefix(300)) })
        } catch let e as PopulationError {
            // the people's data (a location the bank holds that is not one): not the request's fault
            throw ServerError(.unprocessable, e.message, value: e.value.map { String($0.prefix(300)) })
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        let report = Self.exposureReport(withPeople)
        return .ok(.init(body: .json(.init(aggregate: id.rawValue, located: people.persons, unlocated: people.unlocated.count, refused: people.refused.count,
                                           regions: report.regions, totals: report.totals))))
    }
}
