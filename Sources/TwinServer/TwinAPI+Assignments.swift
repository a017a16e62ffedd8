import Foundation
import OpenAPIRuntime
import TwinBank
import TwinCore
import TwinPopulation
import TwinServerAPI

/// Hospital assignment (`twinbank assign --json`): the hospitals as the command reads `--hospitals H.json`
/// (``TwinPopulation/HospitalNetwork/init(json:)``) or an aggregate's hospital twins
/// (``TwinPopulation/HospitalTwins/network(bank:aggregate:asOf:model:)``), the patients as it reads `--patients P.json`
/// (``TwinPopulation/HospitalNetwork/patients(json:)``), solved exactly by ``TwinPopulation/AssignmentSolver``;
/// answered at once, within bounds on the problem's size. Asked of the bank as `aggregate` (bank-wide), as the other
/// public-health computations.
extension TwinAPI {
    /// The most patients one request assigns.
    static let assignmentPatientLimit = 10_000
    /// The most hospitals one request assigns to.
    static let assignmentHospitalLimit = 1_000

    func postAssignment(_ input: Operations.PostAssignment.Input) async throws -> Operations.PostAssignment.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON: hospitals (or aggregate) and patients", field: "body") }
        let patientsData = try Self.encoded(body.patients, field: "patients")
        enum Hospitals { case given(HospitalNetwork), aggregate(AggregateID, Instant?) }
        let hospitals: Hospitals
        switch (body.hospitals, body.aggregate) {
        case (let given?, nil):
            guard body.at == nil else {
                throw ServerError(.badRequest, "`at` goes with `aggregate` (the bank's hospital twins), not with `hospitals`", field: "at")
            }
            do { hospitals = .given(try HospitalNetwork(json: try Self.encoded(given, field: "hospitals"))) } catch let e as PopulationError {
                throw ServerError(ServerError.Code("invalidInstance", .badRequest), "hospitals: " + e.message, field: "hospitals", value: e.value.map { String($0.prefix(200)) })
            }
        case (nil, let text?):
            let id: AggregateID
            do { id = try AggregateID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: "aggregate", value: e.value) }
            hospitals = .aggregate(id, try Self.instant(body.at, "at", served.base.clock.now(), .instant))
        case (.some, .some):
            throw ServerError(.badRequest, "give the hospitals (`hospitals`) or an aggregate of hospital twins (`aggregate`), not both", field: "hospitals")
        case (nil, nil):
            throw ServerError(.badRequest, "give the hospitals: `hospitals` (the H.json object) or `aggregate` (the bank's hospital twins)", field: "hospitals")
        }
        if case .given(let network) = hospitals { try Self.checkHospitalCount(network) }
        let (network, list, result, seconds): (HospitalNetwork, [Patient], Assignment, Double)
        do {
            (network, list, result, seconds) = try await served.run(call) { bank in
                try bank.authorize(.aggregate, nil)
                let network: HospitalNetwork
                switch hospitals {
                case .given(let n): network = n
                case .aggregate(let id, let asOf):
                    do { network = try HospitalTwins.network(bank: bank, aggregate: id, asOf: asOf) } catch let e as PopulationError {
                        throw ServerError(ServerError.Code("invalidInstance", .unprocessableContent), e.message, value: e.value)
                    }
                    try Self.checkHospitalCount(network)
                }
                let list: [Patient]
                do { list = try network.patients(json: patientsData) } catch let error as PopulationError {
                    throw ServerError(ServerError.Code("invalidInstance", .badRequest), "patients: " + error.message, field: "patients", value: error.value.map { String($0.prefix(200)) })
                }
                guard list.count <= Self.assignmentPatientLimit else {
                    throw ServerError(.badRequest, "at most \(Self.assignmentPatientLimit) patients a request, not \(list.count)", field: "patients", value: String(list.count))
                }
                let start = ContinuousClock.now
                let result = try AssignmentSolver.solve(network, patients: list)
                let elapsed = ContinuousClock.now - start
                return (network, list, result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "aggregate", value: e.value)
        } catch let e as PopulationError {
            throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, value: e.value)
        }
        let overflow = result.overflow
        let assignment = result.placement.enumerated().map { i, place in
            S.AssignmentPlace(patient: list[i].id.description, severity: list[i].severity,
                              hospital: place.map { network.hospitals[$0.hospital].id.description }, ward: place.map { network.model.wards[$0.ward] })
        }
        return .ok(.init(body: .json(.init(
            cost: result.cost, costText: result.costText, solveSeconds: seconds, patients: list.count, hospitals: network.hospitals.count,
            placed: list.count - overflow.count, overflow: overflow.count,
            overflowBySeverity: .init(additionalProperties: Dictionary(uniqueKeysWithValues: result.overflowBySeverity.enumerated().map { (String($0.offset + 1), $0.element) })),
            overflowPatients: overflow.map { list[$0].id.description }, assignment: assignment))))
    }

    static func checkHospitalCount(_ network: HospitalNetwork) throws {
        guard network.hospitals.count <= assignmentHospitalLimit else {
            throw ServerError(.badRequest, "at most \(assignmentHospitalLimit) hospitals a request, not \(network.hospitals.count)", field: "hospitals", value: String(network.hospitals.count))
        }
    }

    /// A free-form body object as the JSON the command's file reader takes.
    static func encoded(_ container: OpenAPIObjectContainer, field: String) throws -> Data {
        do { return try JSONEncoder().encode(container) } catch {
            throw ServerError(.badRequest, "\(field) is not a JSON object the server can read", field: field)
        }
    }
}
