import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

/// `POST /api/v1/aggregates`, `GET` and `DELETE /api/v1/aggregates/{id}`: aggregates made, shown and deleted as
/// `twinbank aggregate create | show --json | delete` do, recorded by the next commit; every refusal.
@Suite struct AggregateRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func post(_ client: any TestClientProtocol, _ token: String, _ text: String,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/aggregates", method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    static func ids(_ client: any TestClientProtocol, _ token: String) async throws -> [String] {
        try await client.execute(uri: "/api/v1/aggregates", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try #require(try json(r)["items"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        }
    }

    @Test func createsShowsAndDeletesAsTheCommand() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            // explicit members (a repeated one once), then a query: p1's latest glucose is 140 mg/dL, p2 and p3 have none
            try await Self.post(client, alice, #"{"id":"pair","members":["p2","p1","p2"],"description":"two"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                #expect(r.headers[.location] == "/api/v1/aggregates/pair")
                let j = try json(r)
                #expect(j["members"] as? [String] == ["p2", "p1"])
                let d = try #require(j["definition"] as? [String: Any])
                #expect(d["id"] as? String == "pair" && d["description"] as? String == "two" && d["members"] as? [String] == ["p2", "p1"])
                #expect((j["unknown"] as? [Any])?.isEmpty == true && j["forksExcluded"] as? Int == 0 && j["commit"] == nil)
            }
            try await Self.post(client, alice, #"{"id":"high","where":"loinc:2339-0 > 100 mg/dL"}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["members"] as? [String] == ["p1"])
                #expect((j["definition"] as? [String: Any])?["query"] as? String == "loinc:2339-0 > 100 mg/dL")
                let unknown = try #require(j["unknown"] as? [[String: Any]])
                #expect(unknown.compactMap { $0["twin"] as? String }.sorted() == ["p2", "p3"], "\(j)")
                #expect(unknown.allSatisfy { ($0["missing"] as? [String])?.count == 1 })
            }
            #expect(try await Self.ids(client, alice) == ["high", "pair"])
            // the id is taken: 409, unless replace (200, redefined)
            try await Self.post(client, alice, #"{"id":"pair","members":["p3"]}"#) { r throws in
                #expect(r.status == .conflict, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "id")
            }
            try await Self.post(client, alice, #"{"id":"pair","members":["p3"],"replace":true}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(try json(r)["members"] as? [String] == ["p3"])
            }
            // recorded by the next commit; shown now and at that commit
            let commit = try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.headers), body: body(#"{"message":"cohorts"}"#)) { r throws -> String in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                return try #require(try json(r)["id"] as? String)
            }
            try await client.execute(uri: "/api/v1/aggregates/pair", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["members"] as? [String] == ["p3"] && j["commit"] == nil && j["asOf"] is String)
            }
            // deleted: gone now, kept by the commit
            try await client.execute(uri: "/api/v1/aggregates/pair", method: .delete, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["id"] as? String == "pair" && j["members"] as? [String] == ["p3"])
            }
            #expect(try await Self.ids(client, alice) == ["high"])
            try await client.execute(uri: "/api/v1/aggregates/pair", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/pair?at=\(commit)", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["members"] as? [String] == ["p3"] && j["commit"] as? String == commit)
            }
            try await client.execute(uri: "/api/v1/aggregates/pair", method: .delete, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            // the deletion is recorded by the next commit
            try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, Self.headers), body: body(#"{"message":"no pair"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/pair?at=HEAD", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bank = try DashboardRouteTests.bank(f)
        try bank.createAggregate("taken", members: ["p1"])
        let alice = try await f.token("alice", .admin)
        let hana = try await f.token("hana", .publicHealthOfficer)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let writer = try await f.token("alice", .admin, scopes: ["user/*.cud"])
        let mallory = try await f.token("mallory", .admin)
        try await f.test { client in
            for (text, field) in [
                (#"{"id":"x"}"#, "members"),
                (#"{"id":"x","members":["p1"],"where":"kind = person"}"#, "where"),
                (#"{"id":"x","members":["p1"],"includeForks":true}"#, "includeForks"),
                (#"{"id":"x","members":["nobody"]}"#, "members"),
                (#"{"id":"x","members":["no body"]}"#, "members[0]"),
                (#"{"id":"-x","members":["p1"]}"#, "id"),
                (#"{"id":"x","where":"kind = = person"}"#, "where"),
                (#"{"id":"x","where":"shoe_size > 40"}"#, "where"),
                (#"{"id":"x","where":"loinc:2339-0 > 100"}"#, "where"),
                (#"{"id":"x","where":" "}"#, "where"),
                (#"{"members":["p1"]}"#, "id"),
            ] {
                try await Self.post(client, alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/aggregates/-x", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .badRequest, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/taken?at=nowhere", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "at")
            }
            // scopes, the policy (the officer has no `write`), a subject the policy does not know, no token
            for token in [reader, hana, mallory] {
                try await Self.post(client, token, #"{"id":"x","members":["p1"]}"#) { r throws in
                    #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                }
                try await client.execute(uri: "/api/v1/aggregates/taken", method: .delete, headers: .auth(token)) { r throws in
                    #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/aggregates/taken", method: .get, headers: .auth(writer)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(#"{"id":"x","members":["p1"]}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/aggregates/taken", method: .delete, headers: HTTPFields()) { r throws in
                #expect(r.status == .unauthorized)
            }
            // nothing written on any refusal
            #expect(try await Self.ids(client, alice) == ["taken"])
            try await client.execute(uri: "/api/v1/aggregates/taken", method: .get, headers: .auth(alice)) { r throws in
                #expect(try json(r)["members"] as? [String] == ["p1"], "\(String(buffer: r.body))")
            }
        }
    }
}
