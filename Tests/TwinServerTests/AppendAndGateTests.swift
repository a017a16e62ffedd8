import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinServer

@Suite struct AppendAndGateTests {
    static func batch(_ values: [Double], minute: Int = 0) -> String {
        let events = values.enumerated().map { i, v in
            """
            {"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-02T10:\(String(format: "%02d", minute + i)):00Z"},\
            "value":{"type":"quantity","value":\(v),"unit":"mg/dL"},"source":"device:cgm-2"}
            """
        }
        return "{\"events\":[\(events.joined(separator: ","))]}"
    }

    static func count(_ client: any TestClientProtocol, _ token: String) async throws -> Int {
        try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(token)) { r throws in
            try #require(try json(r)["items"] as? [Any]).count
        }
    }

    @Test func appendsABatchOnceForAnIdempotencyKey() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        try await f.test { client in
            let first = try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                                 headers: .auth(token, [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "batch-1"]),
                                                 body: body(Self.batch([101, 102]))) { r throws -> [String: Any] in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                return try json(r)
            }
            #expect(first["count"] as? Int == 2)
            #expect((first["ids"] as? [String])?.count == 2)
            #expect(try await Self.count(client, token) == 4)
            // the retry appends nothing and answers the first result
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                     headers: .auth(token, [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "batch-1"]),
                                     body: body(Self.batch([101, 102]))) { r throws in
                #expect(r.status == .ok)
                let j = try json(r)
                #expect(j["firstSequence"] as? Int == first["firstSequence"] as? Int)
                #expect(j["recorded"] as? String == first["recorded"] as? String)
                #expect(j["ids"] as? [String] == first["ids"] as? [String])
            }
            #expect(try await Self.count(client, token) == 4)
            // the same key with another batch: 409, nothing written
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                     headers: .auth(token, [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "batch-1"]),
                                     body: body(Self.batch([103]))) { r throws in
                #expect(r.status == .conflict)
                #expect(try json(r)["code"] as? String == "idempotencyConflict")
                #expect(try json(r)["field"] as? String == "Idempotency-Key")
            }
            #expect(try await Self.count(client, token) == 4)
        }
    }

    @Test func refusesABadBodyNamingTheFieldAndWritesNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let good = #"{"code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-02T10:00:00Z"},"value":{"type":"quantity","value":100,"unit":"mg/dL"},"source":"device:cgm-2"}"#
        let cases: [(String, String)] = [
            ("{\"events\":[\(good),{\"code\":{\"system\":\"http://loinc.org\",\"code\":\"2339-0\"},\"effective\":{\"start\":\"2026-01-02T11:00:00Z\"}}]}", "events[1].source"),
            ("{\"events\":[\(good.replacingOccurrences(of: "2026-01-02T10:00:00Z", with: "tomorrow-ish"))]}", "events[0].effective.start"),
            ("{\"events\":[\(good.replacingOccurrences(of: "device:cgm-2", with: "gadget:x"))]}", "events[0].source"),
            ("{\"events\":[\(good.replacingOccurrences(of: "mg/dL", with: "furlongs"))]}", "events"),
            ("{\"events\": 3}", "events"),
            ("{not json", "body"),
        ]
        try await f.test { client in
            for (text, field) in cases {
                try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                         headers: .auth(token, [.contentType: "application/json"]), body: body(text)) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            #expect(try await Self.count(client, token) == 2)
        }
    }

    @Test func refusesABodyOverTheLimit() async throws {
        let f = try await ServerFixture.make(bodyLimit: 2048); defer { f.remove() }
        let token = try await f.token("bob", .clinician)
        let big = Self.batch(Array(repeating: 100, count: 40))
        #expect(big.utf8.count > 2048)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                     headers: .auth(token, [.contentType: "application/json"]), body: body(big)) { r throws in
                #expect(r.status == .contentTooLarge)
                #expect(try json(r)["code"] as? String == "payloadTooLarge")
            }
            #expect(try await Self.count(client, token) == 2)
        }
    }

    @Test func theGateDecidesForTheTokensSubjectAndAuditsTheDenial() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for (uri, method) in [("/api/v1/twins", HTTPRequest.Method.get), ("/api/v1/twins/p1", .get), ("/api/v1/twins/p1/events", .get), ("/api/v1/twins/p1/state", .get)] {
                try await client.execute(uri: uri, method: method, headers: .auth(mallory)) { r throws in
                    #expect(r.status == .forbidden, "\(uri)")
                    let j = try json(r)
                    #expect(j["code"] as? String == "accessDenied")
                    #expect((j["message"] as? String)?.contains("mallory") == true)
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                     headers: .auth(mallory, [.contentType: "application/json"]), body: body(Self.batch([100]))) { r throws in
                #expect(r.status == .forbidden)
            }
        }
        let entries = try f.server.gate.log.entries(matching: AuditQuery())
        let denials = entries.filter { $0.actor == "mallory" && $0.decision == .deny }
        #expect(Set(denials.map(\.action)) == ["read", "write"])
        #expect(denials.contains { $0.twin == "p1" && $0.action == "read" && $0.purpose == "treatment" })
        #expect(!entries.contains { $0.actor == "mallory" && $0.decision != .deny })
    }

    @Test func aTokenClaimingAnotherRoleThanThePolicyGivesIsRefusedAndAudited() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bobAsAdmin = try await f.token("bob", .admin)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/state", method: .get, headers: .auth(bobAsAdmin)) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "accessDenied")
                #expect((try json(r)["message"] as? String)?.contains("clinician") == true)
            }
        }
        let entries = try f.server.gate.log.entries(matching: AuditQuery(twin: "p1"))
        #expect(entries.contains { $0.actor == "bob" && $0.decision == .deny && $0.role == "clinician" && $0.reason.contains("admin") })
        #expect(!entries.contains { $0.actor == "bob" && $0.decision == .permit })
    }

    @Test func thePurposeHeaderIsThePurposeDecidedOn() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        try await f.test { client in
            // a clinician reads for treatment, not for research (the default policy)
            try await client.execute(uri: "/api/v1/twins/p1/state", method: .get, headers: .auth(bob, [HTTPField.Name("X-Purpose-Of-Use")!: "research"])) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/twins/p1/state", method: .get, headers: .auth(bob, [HTTPField.Name("X-Purpose-Of-Use")!: "TREAT"])) { r throws in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/v1/twins/p1/state", method: .get, headers: .auth(bob, [HTTPField.Name("X-Purpose-Of-Use")!: "gossip"])) { r throws in
                #expect(r.status == .badRequest)
                #expect(try json(r)["field"] as? String == "X-Purpose-Of-Use")
            }
        }
        let entries = try f.server.gate.log.entries(matching: AuditQuery(twin: "p1"))
        #expect(entries.contains { $0.actor == "bob" && $0.purpose == "research" && $0.decision == .deny })
        #expect(entries.contains { $0.actor == "bob" && $0.purpose == "TREAT" && $0.decision == .permit })
    }

    @Test func aReadOnlyTokenCannotWrite() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let reader = try await f.token("bob", .clinician, scopes: ["patient/Observation.rs"])
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post,
                                     headers: .auth(reader, [.contentType: "application/json"]), body: body(Self.batch([100]))) { r throws in
                #expect(r.status == .forbidden)
                #expect(try json(r)["code"] as? String == "insufficientScope")
            }
            #expect(try await Self.count(client, reader) == 2)
        }
    }

    @Test func metricsCountRequestsForAnAdmin() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let admin = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/health", method: .get)
            try await client.execute(uri: "/metrics", method: .get, headers: .auth(bob)) { r throws in #expect(r.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get, headers: .auth(admin)) { r throws in
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                #expect(text.contains("twinbank_http_requests_total{"), "\(text)")
                #expect(text.contains(#"route="/health""#), "\(text)")
                #expect(text.contains(#"status="403""#), "\(text)")
            }
        }
    }

    @Test func unknownRoutesAnswerTheJSONError() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let admin = try await f.token("alice", .admin)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/nothing", method: .get, headers: .auth(admin)) { r throws in
                #expect(r.status == .notFound)
                #expect(try json(r)["code"] as? String == "notFound")
            }
        }
    }
}
