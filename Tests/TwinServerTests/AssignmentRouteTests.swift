import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

/// `POST /api/v1/assignments`: patients assigned to hospital wards at least cost (`twinbank assign --json` and its
/// `--out` assignment), from hospitals given or an aggregate's hospital twins; the bounds and every refusal.
@Suite struct AssignmentRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json", HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]

    /// Hospital 1 at 0 km has a general bed; hospital 2 at 10 km a general and an ICU bed; no ventilator anywhere.
    static let hospitals = #"{"hospitals":[{"id":1,"x_km":0,"y_km":0,"capacity":{"general":1}},{"id":2,"x_km":10,"y_km":0,"capacity":{"general":1,"icu":1}}]}"#
    /// Two moderate patients near each hospital, a critical one at 0 km (unplaced: 8,000), a severe one at 9 km (ICU at 2: 1 km x 2).
    static let patients = #"{"patients":[{"id":1,"x_km":1,"y_km":0,"severity":1},{"id":2,"x_km":9,"y_km":0,"severity":1},{"id":3,"x_km":0,"y_km":0,"severity":3},{"id":"s","x_km":9,"y_km":0,"severity":2}]}"#

    static func post(_ client: any TestClientProtocol, _ token: String, _ text: String, headers: [HTTPField.Name: String] = headers,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/assignments", method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    @Test func solvesAsTheCommand() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        // the same hospitals as twins (capacities as attributes), as of now
        for (id, x, general, icu) in [("h1", 0.0, 1.0, 0.0), ("h2", 10.0, 1.0, 1.0)] {
            try bank.createTwin(Twin(id: try TwinID(id), kind: .organisation, attributes: [
                "x_km": .quantity(Quantity(x, "km")), "y_km": .quantity(Quantity(0, "km")),
                "capacity.general": .quantity(Quantity(general, "1")), "capacity.icu": .quantity(Quantity(icu, "1")), "capacity.icu_vent": .quantity(Quantity(0, "1")),
            ], origin: Instant(microseconds: 0)))
        }
        try bank.createAggregate("hospitals", members: ["h1", "h2"])
        let hana = try await f.token("hana", .publicHealthOfficer)
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            // the hospitals given need `aggregate` only; the hospital twins are read (`read`) as the command reads them
            for (token, text, ids) in [(hana, #"{"hospitals":\#(Self.hospitals),"patients":\#(Self.patients)}"#, ["1", "2"]),
                                       (alice, #"{"aggregate":"hospitals","at":"now","patients":\#(Self.patients)}"#, ["h1", "h2"])] {
                try await Self.post(client, token, text) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["cost"] as? Double == 8004 && j["costText"] as? String == "8004.0", "\(j)")
                    #expect(j["patients"] as? Int == 4 && j["hospitals"] as? Int == 2 && j["placed"] as? Int == 3 && j["overflow"] as? Int == 1)
                    #expect(j["overflowBySeverity"] as? [String: Int] == ["1": 0, "2": 0, "3": 1])
                    #expect(j["overflowPatients"] as? [String] == ["3"])
                    let places = try #require(j["assignment"] as? [[String: Any]])
                    #expect(places.compactMap { $0["patient"] as? String } == ["1", "2", "3", "s"])
                    #expect(places.map { $0["hospital"] as? String } == [ids[0], ids[1], nil, ids[1]])
                    #expect(places.map { $0["ward"] as? String } == ["general", "general", nil, "icu"])
                    #expect(j["solveSeconds"] is Double)
                }
            }
        }
    }

    @Test func boundsAndRefusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try DashboardRouteTests.bank(f).createAggregate("people", members: ["p1"])
        let hana = try await f.token("hana", .publicHealthOfficer)
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let manyPatients = #"{"patients":["# + (0...TwinAPI.assignmentPatientLimit).map { #"{"id":\#($0),"x_km":0,"y_km":0,"severity":1}"# }.joined(separator: ",") + "]}"
        let manyHospitals = #"{"hospitals":["# + (0...TwinAPI.assignmentHospitalLimit).map { #"{"id":\#($0),"x_km":0,"y_km":0,"capacity":{"general":1}}"# }.joined(separator: ",") + "]}"
        try await f.test { client in
            for (text, status, field) in [
                (#"{"patients":\#(Self.patients)}"#, HTTPResponse.Status.badRequest, "hospitals"),
                (#"{"hospitals":\#(Self.hospitals),"aggregate":"people","patients":\#(Self.patients)}"#, .badRequest, "hospitals"),
                (#"{"hospitals":\#(Self.hospitals),"at":"now","patients":\#(Self.patients)}"#, .badRequest, "at"),
                (#"{"hospitals":{"hospitals":[{"id":1,"x_km":0,"y_km":0,"capacity":{"general":-1}}]},"patients":\#(Self.patients)}"#, .badRequest, "hospitals"),
                (#"{"hospitals":{"hospitals":[{"id":1,"x_km":0,"y_km":0,"capacity":{"ward9":1}}]},"patients":\#(Self.patients)}"#, .badRequest, "hospitals"),
                (#"{"hospitals":\#(Self.hospitals),"patients":{"patients":[{"id":1,"x_km":0,"y_km":0,"severity":4}]}}"#, .badRequest, "patients"),
                (#"{"hospitals":\#(Self.hospitals),"patients":{}}"#, .badRequest, "patients"),
                (#"{"hospitals":\#(Self.hospitals)}"#, .badRequest, "patients"),
                (#"{"aggregate":"-x","patients":\#(Self.patients)}"#, .badRequest, "aggregate"),
                (#"{"aggregate":"people","at":"someday","patients":\#(Self.patients)}"#, .badRequest, "at"),
                (#"{"aggregate":"nowhere","patients":\#(Self.patients)}"#, .notFound, "aggregate"),
                (#"{"hospitals":\#(Self.hospitals),"patients":\#(manyPatients)}"#, .badRequest, "patients"),
                (#"{"hospitals":\#(manyHospitals),"patients":\#(Self.patients)}"#, .badRequest, "hospitals"),
            ] {
                try await Self.post(client, alice, text) { r throws in
                    #expect(r.status == status, "\(text.prefix(300)): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text.prefix(300)): \(String(buffer: r.body))")
                }
            }
            // an aggregate of people: not hospitals
            try await Self.post(client, alice, #"{"aggregate":"people","patients":\#(Self.patients)}"#) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            // the clinician has no `aggregate` action; the officer only for public health; no token
            try await Self.post(client, bob, #"{"hospitals":\#(Self.hospitals),"patients":\#(Self.patients)}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await Self.post(client, hana, #"{"hospitals":\#(Self.hospitals),"patients":\#(Self.patients)}"#, headers: [.contentType: "application/json"]) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/assignments", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(#"{"hospitals":\#(Self.hospitals),"patients":\#(Self.patients)}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
        }
    }
}
