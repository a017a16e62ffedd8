import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
@testable import TwinServer

/// `POST /api/v1/aggregates/{id}/traces`: contact tracing of index cases among an aggregate's members from their
/// location events (`twinbank trace --bank --aggregate ID --case TWIN --json`), written to the contacts' threads.
@Suite struct TraceRouteTests {
    static let headers: [HTTPField.Name: String] = [.contentType: "application/json"]

    /// c1 (the index case) at 45.5 N 73.6 W at noon; c2 5 m away 5 minutes later and again 10 minutes later;
    /// c3 there an hour later; c4 a kilometre away at noon. The aggregate `block` of c2, c3, c4 (not the case).
    static func people(_ bank: Bank) throws {
        for id in ["c1", "c2", "c3", "c4"] {
            try bank.createTwin(Twin(id: try TwinID(id), kind: .person, attributes: [:], origin: Instant(microseconds: 0)))
        }
        try bank.append([
            try .parse(twin: "c1", code: "local:location", value: "[45.5,-73.6]", unit: "deg", at: "2026-03-05T12:00:00Z"),
            try .parse(twin: "c2", code: "local:location", value: "[45.50004,-73.6]", unit: "deg", at: "2026-03-05T12:05:00Z"),
            try .parse(twin: "c2", code: "local:location", value: "[45.5,-73.6]", unit: "deg", at: "2026-03-05T12:10:00Z"),
            try .parse(twin: "c3", code: "local:location", value: "[45.5,-73.6]", unit: "deg", at: "2026-03-05T13:00:00Z"),
            try .parse(twin: "c4", code: "local:location", value: "[45.509,-73.6]", unit: "deg", at: "2026-03-05T12:00:00Z"),
        ])
        try bank.createAggregate("block", members: ["c2", "c3", "c4"])
    }

    static func post(_ client: any TestClientProtocol, _ token: String, _ text: String, aggregate: String = "block",
                     headers: [HTTPField.Name: String] = headers, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: "/api/v1/aggregates/\(aggregate)/traces", method: .post, headers: .auth(token, headers), body: body(text)) { r throws in try check(r) }
    }

    static func contactEvents(_ client: any TestClientProtocol, _ token: String, _ twin: String = "c2") async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/v1/twins/\(twin)/events?code=local:close-contact", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try #require(try json(r)["items"] as? [[String: Any]])
        }
    }

    @Test func tracesAndWritesAsTheCommand() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        try await f.test { client in
            // looked at only (a read scope is enough)
            try await Self.post(client, reader, #"{"cases":["c1"],"write":false}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["aggregate"] as? String == "block" && j["distance"] as? Double == 10 && j["window"] as? Double == 900)
                #expect(j["pairs"] as? Int == 1 && j["pings"] as? Int == 5 && j["twins"] as? Int == 4 && j["written"] as? Int == 0, "\(j)")
                let contacts = try #require(j["contacts"] as? [[String: Any]])
                #expect(contacts.count == 1)
                #expect(contacts.first?["indexCase"] as? String == "c1" && contacts.first?["contact"] as? String == "c2")
                #expect(contacts.first?["from"] as? String == "2026-03-05T12:05:00Z" && contacts.first?["to"] as? String == "2026-03-05T12:10:00Z", "\(contacts)")
            }
            #expect(try await Self.contactEvents(client, alice).isEmpty)
            // written once; a repeated trace writes nothing new
            for (written, already) in [(1, 0), (0, 1)] {
                try await Self.post(client, alice, #"{"cases":["c1"]}"#) { r throws in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let j = try json(r)
                    #expect(j["written"] as? Int == written && j["alreadyInThreads"] as? Int == already, "\(j)")
                }
            }
            let events = try await Self.contactEvents(client, alice)
            #expect(events.count == 1)
            #expect((events.first?["value"] as? [String: Any])?["value"] as? String == "c1", "\(events)")
            // wider criteria find c3 (an hour later) and c4 (a kilometre away)
            try await Self.post(client, alice, #"{"cases":["c1"],"distance":1500,"window":3600,"write":false}"#) { r throws in
                let contacts = try #require(try json(r)["contacts"] as? [[String: Any]], "\(String(buffer: r.body))")
                #expect(contacts.compactMap { $0["contact"] as? String } == ["c2", "c3", "c4"])
            }
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.people(try DashboardRouteTests.bank(f))
        let alice = try await f.token("alice", .admin)
        let hana = try await f.token("hana", .publicHealthOfficer)
        let reader = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            for (text, field) in [
                (#"{"cases":[]}"#, "cases"),
                (#"{"cases":["nobody"]}"#, "cases"),
                (#"{"cases":["no body"]}"#, "cases[0]"),
                (#"{"cases":["c1"],"distance":-1}"#, "distance"),
                (#"{"cases":["c1"],"distance":30000000}"#, "distance"),
                (#"{"cases":["c1"],"window":-1}"#, "window"),
                (#"{"distance":10}"#, "cases"),
            ] {
                try await Self.post(client, alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.post(client, alice, #"{"cases":["c1"]}"#, aggregate: "nowhere") { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            // writing needs a write scope; the officer may not read threads; the clinician not for research
            try await Self.post(client, reader, #"{"cases":["c1"]}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            try await Self.post(client, hana, #"{"cases":["c1"]}"#, headers: Self.headers.merging([HTTPField.Name("X-Purpose-Of-Use")!: "public-health"]) { $1 }) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["code"] as? String == "accessDenied")
            }
            try await Self.post(client, bob, #"{"cases":["c1"]}"#, headers: Self.headers.merging([HTTPField.Name("X-Purpose-Of-Use")!: "research"]) { $1 }) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/aggregates/block/traces", method: .post, headers: HTTPFields([HTTPField(name: .contentType, value: "application/json")]),
                                     body: body(#"{"cases":["c1"]}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await Self.contactEvents(client, alice).isEmpty, "nothing written")
        }
    }
}
