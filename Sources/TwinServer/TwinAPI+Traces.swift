import Foundation
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Contact tracing over an aggregate (`twinbank trace --bank --aggregate ID --case TWIN ... --json`):
/// ``TwinPopulation/ContactTracer/trace(bank:aggregate:cases:criteria:source:write:)`` over the location events of
/// the members' and the cases' threads, each close contact written to the contact's thread as the command writes it.
extension TwinAPI {
    /// The most index cases one request names.
    static let traceCaseLimit = 10_000

    func postAggregateTrace(_ input: Operations.PostAggregateTrace.Input) async throws -> Operations.PostAggregateTrace.Output {
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let write = body.write ?? true
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: write)
        let id = try Self.aggregateID(input.path.id)
        guard !body.cases.isEmpty else {
            throw ServerError(.badRequest, "name the index cases: `cases` holds at least one twin id", field: "cases")
        }
        guard body.cases.count <= Self.traceCaseLimit else {
            throw ServerError(.badRequest, "at most \(Self.traceCaseLimit) index cases a request, not \(body.cases.count)", field: "cases", value: String(body.cases.count))
        }
        let cases = try body.cases.enumerated().map { i, c in try Self.twinID(c, field: "cases[\(i)]") }
        let distance = body.distance ?? 10, window = body.window ?? 900
        let chosen: ProximityCriteria
        do { chosen = try ProximityCriteria(distance: distance, window: window) } catch {
            throw ServerError(.badRequest, error.message, field: error.message.hasPrefix("the window") ? "window" : "distance", value: error.value)
        }
        let result: BankTraceResult
        do {
            result = try await served.run(call) { bank in
                try ContactTracer.trace(bank: bank, aggregate: id, cases: cases, criteria: chosen, write: write)
            }
        } catch let e as PopulationError where e.code == .invalidCases {
            throw ServerError(ServerError.Code("invalidCases", .badRequest), e.message + "; nothing was written", field: "cases", value: e.value)
        } catch let e as PopulationError {
            // the request was checked before: what is left is a location event in the bank that cannot be read
            throw ServerError(.unprocessable, e.message + "; nothing was written", value: e.value)
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, distance: distance, window: window, pairs: result.contacts.count,
            contacts: result.contacts.map { .init(indexCase: $0.indexCase.rawValue, contact: $0.contact.rawValue, from: $0.from.iso8601, to: $0.to.iso8601) },
            pings: result.pings, twins: result.twins, written: result.written, alreadyInThreads: result.alreadyInThreads,
            indexSeconds: result.indexSeconds, querySeconds: result.querySeconds))))
    }
}
