import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinCore
@testable import TwinServer

/// A synthetic population recorded as a population twin (`POST /api/v1/populations`, `twinbank population
/// synthesize --json`).
@Suite struct PopulationRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    @Test func drawsAndRecordsAPopulation() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let first = try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                                 body: body(#"{"id":"town","size":2000,"seed":7}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["id"] as? String == "town" && j["size"] as? Int == 2000 && j["seed"] as? Int == 7)
                #expect(j["replaced"] == nil)
                let summary = try #require(j["summary"] as? [String: Double])
                #expect((summary["households"] ?? 0) > 0 && (summary["meanAge"] ?? 0) > 0 && summary["contacts.h"] != nil, "\(summary)")
                return summary
            }
            // the twin records it
            try await client.execute(uri: "/api/v1/twins/town", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok)
                let j = try json(r)
                #expect(j["kind"] as? String == "population")
                #expect((j["attributes"] as? [String: Any])?["populationSeed"] != nil)
            }
            // taken without replace: 409, nothing changed; with replace and another seed: redrawn
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"town","size":1000,"seed":8}"#)) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["field"] as? String == "id")
            }
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"town","size":2000,"seed":7,"replace":true}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["replaced"] as? Bool == true)
                // the same seed draws the same people
                #expect(j["summary"] as? [String: Double] == first)
            }
            // a person twin's id is not a population's
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"p1","size":100,"replace":true}"#)) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["field"] as? String == "id")
            }
        }
    }

    @Test func recordsAnAggregatesMembers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try DashboardRouteTests.people(bank)
        try bank.createAggregate("mixed", members: ["d1", "p1"])  // p1 has no birth date
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"town-people","aggregate":"town","seed":3,"asOf":"2026-03-01"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["size"] as? Int == 4 && j["aggregate"] as? String == "town" && j["located"] as? Int == 3)
                #expect(j["ownHouseholds"] as? Int == 4)  // no household attributes: everyone alone
                #expect((j["asOf"] as? String)?.hasPrefix("2026-03-01") == true)
                #expect((j["skipped"] as? [String])?.isEmpty == true)
            }
            try await client.execute(uri: "/api/v1/twins/town-people", method: .get, headers: .auth(alice)) { r throws in
                #expect((try json(r)["attributes"] as? [String: Any])?["populationAggregate"] != nil)
            }
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"id":"mixed-people","aggregate":"mixed"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["size"] as? Int == 1 && j["skipped"] as? [String] == ["p1"])
            }
            for (text, status, field) in [
                (#"{"id":"x","aggregate":"nowhere"}"#, HTTPResponse.Status.notFound, "aggregate"),
                (#"{"id":"x","aggregate":"no where"}"#, .badRequest, "aggregate"),
                (#"{"id":"x","aggregate":"town","size":10}"#, .badRequest, "size"),
                (#"{"id":"x","size":10,"asOf":"2026-01-01"}"#, .badRequest, "asOf"),
                (#"{"id":"x","aggregate":"town","asOf":"whenever"}"#, .badRequest, "asOf"),
                (#"{"id":"x","aggregate":"pair"}"#, .badRequest, "aggregate"),  // no member with a birth date
                (#"{"id":"town-people","aggregate":"town"}"#, .conflict, "id"),
            ] {
                try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == status, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
        }
    }

    @Test func refusesBadRequests() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let mallory = try await f.token("mallory", .clinician)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let claimsAdmin = try await f.token("bob", .admin)
        try await f.test { client in
            for (text, field) in [
                (#"{"id":"t","size":0}"#, "size"),
                (#"{"id":"t","size":100001}"#, "size"),
                (#"{"id":"t","size":100,"seed":-1}"#, "seed"),
                (#"{"id":"t t","size":100}"#, "id"),
                (#"{"size":100}"#, "id"),
                (#"{"id":"t"}"#, "size"),
                (#"{"id":"t","size":100,"marginals":{"householdSizes":"many"}}"#, "marginals"),
                (#"{"id":"t","size":100,"marginals":{"banana":1}}"#, "marginals"),
            ] {
                try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(alice, Self.jsonBody), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            let request = #"{"id":"t","size":100}"#
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(reader, Self.jsonBody), body: body(request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(claimsAdmin, Self.jsonBody), body: body(request)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["field"] as? String == "role")
            }
            // a subject the policy does not know (the default policy lets a clinician create twins)
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: .auth(mallory, Self.jsonBody), body: body(request)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await client.execute(uri: "/api/v1/populations", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(request)) { r throws in
                #expect(r.status == .unauthorized)
            }
            // nothing written
            try await client.execute(uri: "/api/v1/twins/t", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .notFound) }
        }
    }
}
