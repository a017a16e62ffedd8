import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinServer

/// `GET /api/v1/twins/{id}/events.csv`: the thread as the CSV import reads it, with the JSON list's filters; posted
/// back to `POST .../events/csv` it appends nothing; a retracted reading is not in it; every refusal.
@Suite struct ThreadCSVExportRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func csv(_ client: any TestClientProtocol, _ uri: String, _ token: String) async throws -> [String] {
        try await client.execute(uri: uri, method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(uri): \(String(buffer: r.body))")
            #expect(r.headers[.contentType]?.hasPrefix("text/csv") == true)
            return String(buffer: r.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        }
    }

    @Test func theExportPostsBackAppendingNothingAndFollowsTheFilters() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let more = #"""
        {"events":[
          {"code":{"system":"http://snomed.info/sct","code":"226379006"},"category":"intervention","effective":{"start":"2026-01-01T12:00:00Z","end":"2026-01-01T12:20:00Z"},"value":{"type":"quantity","value":60,"unit":"g"},"source":"person:p1"},
          {"code":{"system":"urn:test","code":"note","display":"Note, free"},"category":"annotation","effective":{"start":"2026-01-01T13:00:00Z"},"value":{"type":"text","value":"42"},"source":"person:dr-x"},
          {"code":{"system":"urn:test","code":"mood"},"category":"annotation","effective":{"start":"2026-01-01T13:05:00Z"},"value":{"type":"text","value":"calm, \"rested\""},"source":"person:dr-x"},
          {"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-01T10:00:00Z"},"value":{"type":"quantity","value":101.25,"unit":"mg/dL"},"source":"device:meter-2"}
        ]}
        """#
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post, headers: .auth(alice, Self.jsonBody), body: body(more)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            // retract the meter's reading: it leaves the current thread and the export; the retraction event is not written
            try await client.execute(uri: "/api/v1/twins/p1/retractions", method: .post, headers: .auth(alice, Self.jsonBody),
                                     body: body(#"{"source":"device:meter-2","reason":"not calibrated"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            let listed = try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(bob)) { r throws in
                try #require(try json(r)["items"] as? [[String: Any]])
            }
            #expect(listed.count == 6, "two readings, three more, the retraction event")
            let lines = try await Self.csv(client, "/api/v1/twins/p1/events.csv", bob)
            #expect(lines.first == "time,code,value,unit,source,category")
            #expect(lines.count == 1 + 5, "\(lines)")
            #expect(lines.contains { $0.contains("text:42") } && lines.contains { $0.contains("\"calm, \"\"rested\"\"\"") })
            #expect(lines.contains { $0.hasPrefix("2026-01-01T12:00:00Z/2026-01-01T12:20:00Z,") })
            #expect(!lines.contains { $0.contains("meter-2") || $0.contains("retraction") })

            // posted back into the same twin: every row is in the thread already
            let text = lines.joined(separator: "\r\n") + "\r\n"
            try await client.execute(uri: "/api/v1/twins/p1/events/csv", method: .post, headers: .auth(alice, [.contentType: "text/csv"]), body: body(text)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["rows"] as? Int == 5 && j["count"] as? Int == 0 && j["skipped"] as? Int == 5, "\(j)")
            }

            // the list's filters: a code, a category, a time range
            let glucose = try await Self.csv(client, "/api/v1/twins/p1/events.csv?code=loinc%7C2339-0", bob)
            #expect(glucose.count == 1 + 2)
            let annotations = try await Self.csv(client, "/api/v1/twins/p1/events.csv?category=annotation", bob)
            #expect(annotations.count == 1 + 2 && annotations.dropFirst().allSatisfy { $0.hasSuffix(",annotation") })
            let morning = try await Self.csv(client, "/api/v1/twins/p1/events.csv?from=2026-01-01T08:30:00Z&to=2026-01-01T12:30:00Z", bob)
            #expect(morning.count == 1 + 2, "\(morning)")
            let early = try await Self.csv(client, "/api/v1/twins/p1/events.csv?asOf=2026-01-01T08:30:00Z", bob)
            #expect(early.count == 1 + 1)
            let none = try await Self.csv(client, "/api/v1/twins/p2/events.csv", bob)
            #expect(none == ["time,code,value,unit,source,category"])
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let writeOnly = try await f.token("bob", .clinician, scopes: ["user/*.cu"])
        let mallory = try await f.token("mallory", .clinician)
        let claimed = try await f.token("bob", .admin)
        try await f.test { client in
            for (query, field) in [("from=yesterday-ish", "from"), ("to=soon-ish", "to"), ("asOf=x", "asOf"), ("knownAt=x", "knownAt"), ("code=nocolon", "code")] {
                try await client.execute(uri: "/api/v1/twins/p1/events.csv?\(query)", method: .get, headers: .auth(bob)) { r throws in
                    #expect(r.status == .badRequest, "\(query)")
                    #expect(try json(r)["field"] as? String == field, "\(query)")
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1/events.csv?category=gossip", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/twins/nobody/events.csv", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "unknownTwin")
            }
            try await client.execute(uri: "/api/v1/twins/bad%20id/events.csv", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/v1/twins/p1/events.csv", method: .get) { r throws in #expect(r.status == .unauthorized) }
            for (token, what) in [(writeOnly, "a write-only scope"), (mallory, "a subject the policy does not know"), (claimed, "a role the policy does not give")] {
                try await client.execute(uri: "/api/v1/twins/p1/events.csv", method: .get, headers: .auth(token)) { r throws in
                    #expect(r.status == .forbidden, "\(what)")
                }
            }
        }
    }
}
