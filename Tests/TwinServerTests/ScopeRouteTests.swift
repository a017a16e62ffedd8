import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
import TwinServer

/// SMART scopes per resource type: a token reads only the resource types its scopes name (a twin's events as the
/// types they are exported as, through the bank's restriction; a definition as `Patient`), writes and deletes only
/// those, and reaches what spans the bank only with a scope on `*`.
@Suite struct ScopeRouteTests {
    /// A Condition of p1, imported as a FHIR record (source `record:fhir/Condition/cond-1`).
    static let condition = #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:6a1f0c2e-5b3d-4e7f-8a9b-0c1d2e3f4a5b","resource":{"resourceType":"Condition","id":"cond-1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2025-06-01"},"request":{"method":"PUT","url":"Condition/cond-1"}}]}"#

    /// An alert of p1 (a RiskAssessment when exported).
    static let alert = #"{"events":[{"category":"alert","code":{"system":"http://loinc.org","code":"2339-0"},"effective":{"start":"2026-01-01T09:05:00Z"},"value":{"type":"text","value":"high"},"source":"model:watch"}]}"#

    /// p1 with its two glucose readings (Observations), a Condition and an alert.
    static func filled() async throws -> ServerFixture {
        let f = try await ServerFixture.make()
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let (status, _) = try await FHIRVersionTests.post(client, Self.condition, alice)
            #expect(status == .ok)
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post, headers: .auth(alice, [.contentType: "application/json"]), body: body(Self.alert)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
        }
        return f
    }

    static func items(_ client: any TestClientProtocol, _ token: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            return try #require(try json(r)["items"] as? [[String: Any]])
        }
    }

    static func categories(_ client: any TestClientProtocol, _ token: String) async throws -> [String] {
        try await items(client, token).compactMap { $0["category"] as? String }
    }

    static func expectScopeRefused(_ r: TestResponse, _ what: Comment) throws {
        #expect(r.status == .forbidden, what)
        #expect(try json(r)["code"] as? String == "insufficientScope", what)
    }

    @Test func parsesQueriesAndGrantsByType() throws {
        let read = try SMARTScope(parsing: "patient/Observation.rs")
        #expect(read.grants(.read, on: "Observation") && !read.grants(.read, on: "Condition") && !read.grants(.write, on: "Observation"))
        let all = try SMARTScope(parsing: "user/*.cud")
        #expect(all.grants(.write, on: "Condition") && all.grants(.delete, on: "*") && !all.grants(.read, on: "Observation"))
        let narrowed = try SMARTScope(parsing: "patient/Observation.rs?category=laboratory")
        #expect(narrowed.query == "category=laboratory")
        #expect(!narrowed.grants(.read, on: "Observation"), "a scope with a query grants nothing")
        #expect(narrowed.description == "patient/Observation.rs?category=laboratory", "the query is kept, not widened away")
        let identity = TokenIdentity(subject: "app", role: .clinician, scopes: [read, try SMARTScope(parsing: "user/Condition.r")], expires: Date())
        #expect(identity.readRestriction?.types == ["Observation", "Condition"])
        #expect(TokenIdentity(subject: "a", role: .admin, scopes: [try SMARTScope(parsing: "user/*.rs")], expires: Date()).readRestriction == nil)
        #expect(TokenIdentity(subject: "d", role: .device, scopes: [try SMARTScope(parsing: "user/Observation.c")], expires: Date()).readRestriction == nil,
                "a write-only token reads through no route: nothing to narrow")
    }

    @Test func aTokenReadsOnlyTheTypesItsScopesName() async throws {
        let f = try await Self.filled(); defer { f.remove() }
        let all = try await f.token("bob", .clinician)
        let observations = try await f.token("bob", .clinician, scopes: ["patient/Observation.rs"])
        let conditions = try await f.token("bob", .clinician, scopes: ["user/Condition.rs", "user/RiskAssessment.rs"])
        let laboratory = try await f.token("bob", .clinician, scopes: ["patient/Observation.rs?category=laboratory"])
        try await f.test { client in
            // the thread: every category with *, the observations only, the condition's and the alert's events only
            let everything = try await Self.items(client, all)
            #expect(everything.count >= 4 && everything.contains { $0["category"] as? String == "alert" })
            let readings = try await Self.items(client, observations)
            #expect(readings.count == 2 && readings.allSatisfy { ($0["source"] as? String)?.hasPrefix("device:") == true }, "\(readings)")
            let other = try await Self.items(client, conditions)
            #expect(other.count == everything.count - 2, "\(other)")
            #expect(other.contains { $0["category"] as? String == "alert" } && other.contains { ($0["source"] as? String)?.contains("Condition") == true }, "\(other)")
            #expect(!other.contains { ($0["source"] as? String)?.hasPrefix("device:") == true })
            // the state too
            try await client.execute(uri: "/api/v1/twins/p1/state", method: .get, headers: .auth(observations)) { r throws in
                let events = try #require(try json(r)["events"] as? [[String: Any]])
                #expect(!events.isEmpty && events.allSatisfy { $0["category"] as? String == "observation" && ($0["source"] as? String)?.hasPrefix("device:") == true }, "\(events)")
            }
            // FHIR: the Observations by patient and across twins; the Condition refused, found with its own scope
            try await client.execute(uri: "/fhir/Observation?patient=p1", method: .get, headers: .auth(observations)) { r throws in
                #expect(r.status == .ok)
                #expect(try FHIRFacadeTests.fhir(r)["total"]?.numberText == "2")
            }
            try await client.execute(uri: "/fhir/Observation?code=http://loinc.org%7C2339-0", method: .get, headers: .auth(observations)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(try FHIRFacadeTests.fhir(r)["total"]?.numberText == "2", "a search across twins reads the granted type")
            }
            try await client.execute(uri: "/fhir/Condition?patient=p1", method: .get, headers: .auth(observations)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/fhir/Condition/cond-1", method: .get, headers: .auth(observations)) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/fhir/Condition/cond-1", method: .get, headers: .auth(conditions)) { r throws in
                #expect(r.status == .ok)
                #expect(try FHIRFacadeTests.fhir(r)["resourceType"]?.stringValue == "Condition")
            }
            // a definition is a Patient; what spans the bank needs *
            for uri in ["/api/v1/twins/p1", "/api/v1/twins", "/fhir/Patient/p1", "/api/v1/commits", "/api/v1/twins/p1/bundle", "/api/v1/jobs", "/fhir/_history"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(observations)) { r throws in
                    #expect(r.status == .forbidden, "\(uri): \(String(buffer: r.body))")
                }
            }
            try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(observations)) { r throws in
                try Self.expectScopeRefused(r, "a definition without a Patient scope")
                #expect((try json(r)["message"] as? String ?? "").contains("Patient"))
            }
            // a scope with a query grants nothing: no route reads for it
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(laboratory)) { r throws in
                try Self.expectScopeRefused(r, "a scope with a query")
            }
        }
    }

    @Test func writesAndDeletesAreCheckedPerType() async throws {
        let f = try await Self.filled(); defer { f.remove() }
        let device = try await f.token("bob", .clinician, scopes: ["user/Observation.cu"])
        let deleter = try await f.token("alice", .admin, scopes: ["user/Observation.rds"])  // the policy lets the admin retract
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let before = try await Self.items(client, alice).count
            // an Observation may be appended; an alert (a RiskAssessment) may not, and nothing of the batch is written
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post, headers: .auth(device, [.contentType: "application/json"]),
                                     body: body(AppendAndGateTests.batch([101]))) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .post, headers: .auth(device, [.contentType: "application/json"]), body: body(Self.alert)) { r throws in
                try Self.expectScopeRefused(r, "an alert with an Observation scope")
                #expect((try json(r)["message"] as? String ?? "").contains("RiskAssessment"))
            }
            #expect(try await Self.items(client, alice).count == before + 1, "the reading only")
            // a Bundle holding a Condition: refused whole, nothing imported
            let (status, outcome) = try await FHIRVersionTests.post(client, Self.condition.replacingOccurrences(of: "cond-1", with: "cond-2"), device)
            #expect(status == .forbidden, "\(outcome)")
            try await client.execute(uri: "/fhir/Condition/cond-2", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .notFound) }
            // a PUT is checked on its type
            try await client.execute(uri: "/fhir/Condition/cond-1", method: .put, headers: .auth(device, [.contentType: "application/fhir+json"]),
                                     body: body(#"{"resourceType":"Condition","id":"cond-1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]}}"#)) { r throws in
                #expect(r.status == .forbidden)
            }
            // a delete: the Condition refused with an Observation scope, the reading deleted
            try await client.execute(uri: "/fhir/Condition/cond-1?patient=p1", method: .delete, headers: .auth(deleter)) { r throws in
                #expect(r.status == .forbidden)
            }
            let reading = try await client.execute(uri: "/fhir/Observation?patient=p1", method: .get, headers: .auth(deleter)) { r throws in
                try #require(try FHIRFacadeTests.fhir(r)["entry"]?[0]?["resource"]?["id"]?.stringValue)
            }
            try await client.execute(uri: "/fhir/Observation/\(reading)?patient=p1", method: .delete, headers: .auth(deleter)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/fhir/Condition/cond-1", method: .get, headers: .auth(alice)) { r throws in #expect(r.status == .ok) }
        }
    }
}
