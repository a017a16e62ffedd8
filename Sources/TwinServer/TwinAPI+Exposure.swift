import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Exposure scenarios (`twinbank exposure --scenario FILE --json` without a bank): the scenario posted is read by
/// ``TwinPopulation/ExposureScenario`` (400 naming `body` when refused), evaluated and totalled per outcome; the gate
/// is asked `aggregate` bank-wide, as for an outbreak (a population-level computation). Answered at once: the work
/// is the scenario's regions times its outcomes, bounded by the body limit.
extension TwinAPI {
    func evaluateExposure(_ input: Operations.EvaluateExposure.Input) async throws -> Operations.EvaluateExposure.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let container) = input.body else { throw ServerError(.badRequest, "the body must be a JSON scenario", field: "body") }
        // the body as sent (kept by the body limit), so the scenario is read in its own order
        let bytes = try RequestBody.collected.map { [UInt8](buffer: $0) } ?? [UInt8](JSONEncoder().encode(container))
        let scenario: ExposureScenario
        do { scenario = try ExposureScenario(json: bytes) } catch {
            throw ServerError(.badRequest, "the scenario: \(error.message)", field: "body", value: error.value.map { String($0.prefix(300)) })
        }
        try await served.run(call) { bank in try bank.authorize(.aggregate, nil) }
        return .ok(.init(body: .json(Self.exposureReport(scenario))))
    }

    /// The scenario evaluated and totalled per outcome, as `twinbank exposure --json` prints it.
    static func exposureReport(_ scenario: ExposureScenario) -> S.ExposureReport {
        let rows = scenario.evaluate()
        func e(_ x: ConcentrationResponse.Estimate) -> S.ExposureEstimate { .init(central: x.central, lower: x.lower, upper: x.upper) }
        return .init(
            regions: rows.map { .init(region: $0.region, outcome: $0.outcome, exposure: $0.exposure, population: $0.population,
                                      baselineConcentration: $0.baselineConcentration, scenarioConcentration: $0.scenarioConcentration,
                                      attributableBaseline: e($0.baseline), attributableScenario: e($0.scenario), avoided: e($0.avoided)) },
            totals: scenario.totals(rows).map { .init(outcome: $0.outcome, exposure: $0.exposure, attributableBaseline: e($0.baseline),
                                                      attributableScenario: e($0.scenario), avoided: e($0.avoided)) })
    }
}
