import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Population twins (`twinbank population synthesize --json`): a synthetic population drawn (seeded, at most
/// ``populationSizeCap`` people) and recorded as a population twin by ``TwinPopulation/PopulationTwin``, answered at once.
extension TwinAPI {
    /// The most people a population drawn by the server may have (the outbreak route's cap on agents).
    static let populationSizeCap = outbreakCaps.agents

    func synthesizePopulation(_ input: Operations.SynthesizePopulation.Input) async throws -> Operations.SynthesizePopulation.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let id = try Self.twinID(body.id, field: "id")
        guard body.size >= 1, body.size <= Self.populationSizeCap else {
            throw ServerError(.badRequest, "size is the number of people, 1 to \(Self.populationSizeCap) on this server, not \(body.size)", field: "size", value: String(body.size))
        }
        let seed = body.seed ?? 1
        guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
        var marginals = PopulationMarginals.covasimHybrid
        if let m = body.marginals {
            do { marginals = try PopulationMarginals.parse(try JSONEncoder().encode(m)) } catch let e as PopulationError {
                throw ServerError(.badRequest, "marginals: \(e.message)", field: "marginals", value: e.value)
            }
        }
        let replace = body.replace ?? false
        let size = body.size
        let chosen = marginals
        let (population, replaced) = try await served.run(call) { bank in
            // an id taken is the request's conflict, decided before anything is drawn
            if let existing = try? bank.twin(id) {
                guard existing.twin.kind == .population else {
                    throw ServerError(ServerError.Code("duplicateTwin", .conflict), "twin '\(id)' exists and is a \(existing.twin.kind) twin, not a population twin: give another id", field: "id", value: id.rawValue)
                }
                guard replace else {
                    throw ServerError(ServerError.Code("duplicateTwin", .conflict), "population twin '\(id)' exists: give another id, or replace=true to replace its population (its thread is kept)", field: "id", value: id.rawValue)
                }
            }
            let exists = (try? bank.twin(id)) != nil
            return (try PopulationTwin.synthesize(in: bank, id: id, size: size, seed: UInt64(seed), marginals: chosen, replace: replace), exists)
        }
        var summary: [String: Double] = [:]
        for (key, value) in PopulationTwin.summary(population) { summary[key] = value }
        return .created(.init(body: .json(.init(id: id.rawValue, size: population.count, seed: seed, replaced: replace ? replaced : nil,
                                                summary: .init(additionalProperties: summary)))))
    }
}
