import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Population twins, answered at once: a synthetic population drawn (seeded, at most ``populationSizeCap`` people) and
/// recorded by ``TwinPopulation/PopulationTwin/synthesize(in:id:size:seed:marginals:replace:)`` (`twinbank population
/// synthesize --json`), or an aggregate's person twins (at most ``populationSizeCap`` members) recorded by
/// ``TwinPopulation/PopulationTwin/fromAggregate(_:in:id:seed:asOf:marginals:replace:)`` (`population from-aggregate`).
extension TwinAPI {
    /// The most people a population recorded by the server may have (the outbreak route's cap on agents).
    static let populationSizeCap = outbreakCaps.agents

    func synthesizePopulation(_ input: Operations.SynthesizePopulation.Input) async throws -> Operations.SynthesizePopulation.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let id = try Self.twinID(body.id, field: "id")
        let aggregate = try body.aggregate.map { try Self.aggregateID($0, field: "aggregate") }
        if aggregate != nil, let size = body.size {
            throw ServerError(.badRequest, "give size (a synthetic population) or aggregate (its members), not both", field: "size", value: String(size))
        }
        if aggregate == nil, body.asOf != nil {
            throw ServerError(.badRequest, "asOf applies to an aggregate's members: give aggregate", field: "asOf", value: body.asOf)
        }
        guard let size = body.size ?? (aggregate != nil ? 0 : nil) else {
            throw ServerError(.badRequest, "give size (the number of people to draw) or aggregate (whose members become the population)", field: "size")
        }
        if aggregate == nil, size < 1 || size > Self.populationSizeCap {
            throw ServerError(.badRequest, "size is the number of people, 1 to \(Self.populationSizeCap) on this server, not \(size)", field: "size", value: String(size))
        }
        let asOf = try Self.instant(body.asOf, "asOf", served.base.clock.now(), .instant)
        let seed = body.seed ?? 1
        guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
        var marginals = PopulationMarginals.covasimHybrid
        if let m = body.marginals {
            do { marginals = try PopulationMarginals.parse(try JSONEncoder().encode(m)) } catch let e as PopulationError {
                throw ServerError(.badRequest, "marginals: \(e.message)", field: "marginals", value: e.value)
            }
        }
        let replace = body.replace ?? false
        let chosen = marginals
        let cap = Self.populationSizeCap
        let answer: S.Population
        do {
            answer = try await served.run(call) { bank in
                // an id taken is the request's conflict, decided before anything is drawn
                let exists: Bool
                if let existing = try? bank.twin(id) {
                    guard existing.twin.kind == .population else {
                        throw ServerError(ServerError.Code("duplicateTwin", .conflict), "twin '\(id)' exists and is a \(existing.twin.kind) twin, not a population twin: give another id",
                                          field: "id", value: id.rawValue)
                    }
                    guard replace else {
                        throw ServerError(ServerError.Code("duplicateTwin", .conflict), "population twin '\(id)' exists: give another id, or replace=true to replace its population (its thread is kept)",
                                          field: "id", value: id.rawValue)
                    }
                    exists = true
                } else {
                    exists = false
                }
                func summary(_ p: SyntheticPopulation) -> S.Population.SummaryPayload {
                    var out: [String: Double] = [:]
                    for (key, value) in PopulationTwin.summary(p) { out[key] = value }
                    return .init(additionalProperties: out)
                }
                guard let aggregate else {
                    let p = try PopulationTwin.synthesize(in: bank, id: id, size: size, seed: UInt64(seed), marginals: chosen, replace: replace)
                    return S.Population(id: id.rawValue, size: p.count, seed: seed, replaced: replace ? exists : nil, summary: summary(p))
                }
                let count = try bank.members(of: aggregate, asOf: asOf).members.count
                guard count <= cap else {
                    throw ServerError(.badRequest, "aggregate '\(aggregate)' has \(count) members, over this server's \(cap) for a population", field: "aggregate", value: aggregate.rawValue)
                }
                let built = try PopulationTwin.fromAggregate(aggregate, in: bank, id: id, seed: UInt64(seed), asOf: asOf, marginals: chosen, replace: replace)
                return S.Population(id: id.rawValue, size: built.population.count, seed: seed, replaced: replace ? exists : nil,
                                    aggregate: aggregate.rawValue, asOf: built.asOf.iso8601, ownHouseholds: built.ownHouseholds,
                                    located: built.home.filter { $0 != nil }.count, withConditions: built.conditions.filter { !$0.isEmpty }.count,
                                    skipped: built.skipped.map(\.rawValue), summary: summary(built.population))
            }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "aggregate", value: e.value)
        } catch let e as PopulationError {
            // the members the model cannot take (none a person with a birth date, a home out of range)
            throw ServerError(.badRequest, e.message, field: aggregate == nil ? "marginals" : "aggregate", value: e.value)
        }
        return .created(.init(body: .json(answer)))
    }
}
