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

/// A twin's consent beyond one rule: a rule's data scope, revoking (`consent revoke`) and the history
/// (`consent show --history`).
@Suite struct ConsentRouteTests {
    static let jsonBody: [HTTPField.Name: String] = [.contentType: "application/json"]

    static func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ text: String,
                     _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: uri, method: .post, headers: .auth(token, jsonBody), body: body(text)) { r throws in try check(r) }
    }

    static func history(_ client: any TestClientProtocol, _ twin: String, _ token: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/v1/twins/\(twin)/consent/history", method: .get, headers: .auth(token)) { r throws in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let j = try json(r)
            #expect(j["twin"] as? String == twin)
            return try #require(j["versions"] as? [[String: Any]])
        }
    }

    @Test func recordsARulesDataScope() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let text = #"{"effect":"permit","purposes":["research"],"organisations":["acme"],"categories":["laboratory","vitalSigns"],"#
                + #""codes":["loinc:2339-0"],"codeSystems":["snomed","urn:oid:1.2.3"],"codesBelow":["icd10|E11"],"#
                + #""dataFrom":"2026-01-01T00:00:00Z","dataTo":"2026-02-01T00:00:00Z"}"#
            try await Self.post(client, "/api/v1/twins/p1/consent", alice, text) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                let rule = try #require((j["rules"] as? [[String: Any]])?.first)
                #expect(rule["organisations"] as? [String] == ["acme"])
                #expect(rule["categories"] as? [String] == ["laboratory", "vital-signs"])
                #expect(rule["codes"] as? [String] == ["http://loinc.org|2339-0"])
                #expect(rule["codeSystems"] as? [String] == ["http://snomed.info/sct", "urn:oid:1.2.3"])
                #expect(rule["codesBelow"] as? [String] == ["http://hl7.org/fhir/sid/icd-10|E11"])
                #expect((rule["dataFrom"] as? String)?.hasPrefix("2026-01-01T00:00:00") == true, "\(rule)")
                #expect((rule["dataTo"] as? String)?.hasPrefix("2026-02-01T00:00:00") == true, "\(rule)")
                #expect((rule["summary"] as? String)?.contains("category laboratory") == true, "\(rule)")
            }
            // a rule without a scope shows none
            try await Self.post(client, "/api/v1/twins/p1/consent", alice, #"{"effect":"deny","purposes":["commercial"]}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let rule = try #require((try json(r)["rules"] as? [[String: Any]])?.last)
                #expect(rule["categories"] == nil && rule["codes"] == nil && rule["dataFrom"] == nil && rule["organisations"] == nil)
            }
            for (text, field) in [(#"{"effect":"permit","categories":["gossip"]}"#, "categories[0]"),
                                  (#"{"effect":"permit","codes":["loinc:1","nonsense"]}"#, "codes[1]"),
                                  (#"{"effect":"permit","codeSystems":["klingon"]}"#, "codeSystems[0]"),
                                  (#"{"effect":"permit","codesBelow":["zz:E11"]}"#, "codesBelow[0]"),
                                  (#"{"effect":"permit","dataFrom":"yesterday-ish"}"#, "dataFrom"),
                                  (#"{"effect":"permit","dataTo":"soon"}"#, "dataTo"),
                                  (#"{"effect":"permit","dataFrom":"2026-02-01","dataTo":"2026-01-01"}"#, "dataTo"),
                                  (#"{"effect":"permit","categories":"laboratory"}"#, "categories")] {
                try await Self.post(client, "/api/v1/twins/p1/consent", alice, text) { r throws in
                    #expect(r.status == .badRequest, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            #expect(try await Self.history(client, "p1", alice).count == 2, "refused rules recorded nothing")
        }
    }

    /// A scoped rule is the gate's: a research permit on genomics alone lets a researcher read none of p1's glucose
    /// readings, one on the glucose code both.
    @Test func theGateAppliesTheScope() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "rita", role: .researcher))
        }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("rita", .researcher)
        let research: [HTTPField.Name: String] = [HTTPField.Name("X-Purpose-Of-Use")!: "research"]
        try await f.test { client in
            try await Self.post(client, "/api/v1/twins/p1/consent", alice, #"{"effect":"permit","purposes":["research"],"categories":["genomics"]}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            let none = try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(bob, research)) { r throws in
                r.status == .ok ? ((try json(r)["items"] as? [Any])?.count ?? -1) : -Int(r.status.code)
            }
            #expect(none <= 0, "no glucose reading is genomics")
            try await Self.post(client, "/api/v1/twins/p1/consent", alice, #"{"effect":"permit","purposes":["research"],"codes":["loinc:2339-0"]}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/events", method: .get, headers: .auth(bob, research)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect((try json(r)["items"] as? [Any])?.count == 2)
            }
        }
    }

    @Test func revokesRulesAndKeepsTheHistory() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            #expect(try await Self.history(client, "p1", alice).isEmpty, "no consent recorded: no version")
            for text in [#"{"effect":"deny","purposes":["research"]}"#, #"{"effect":"permit","purposes":["commercial"]}"#] {
                try await Self.post(client, "/api/v1/twins/p1/consent", alice, text) { r throws in #expect(r.status == .created) }
            }
            try await Self.post(client, "/api/v1/twins/p1/consent/revocations", alice, #"{"rule":"r1"}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "p1")
                #expect(j["version"] as? Int == 3)
                #expect(j["rules"] as? [String] == ["r1"])
            }
            let versions = try await Self.history(client, "p1", alice)
            #expect(versions.compactMap { $0["version"] as? Int } == [1, 2, 3])
            #expect(versions.map { ($0["rules"] as? [Any])?.count } == [1, 2, 2])
            #expect((versions[1]["rules"] as? [[String: Any]])?.first?["revoked"] == nil, "the history keeps r1 as it was")
            let r1 = try #require((versions[2]["rules"] as? [[String: Any]])?.first)
            #expect(r1["id"] as? String == "r1" && r1["revoked"] is String)
            #expect(versions[2]["updatedBy"] as? String == "alice")
            // the current consent is the last version
            try await client.execute(uri: "/api/v1/twins/p1/consent", method: .get, headers: .auth(alice)) { r throws in
                #expect(try json(r)["version"] as? Int == 3)
            }
            try await Self.post(client, "/api/v1/twins/p1/consent/revocations", alice, #"{"all":true}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["version"] as? Int == 4)
                #expect(j["rules"] as? [String] == ["r2"], "r1 was revoked already")
            }
            try await Self.post(client, "/api/v1/twins/p1/consent/revocations", alice, #"{"all":true}"#) { r throws in
                #expect(r.status == .conflict, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "all")
            }
            #expect(try await Self.history(client, "p1", alice).count == 4, "a refused revocation writes no version")
        }
    }

    @Test func refusedRevocationsChangeNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let claimed = try await f.token("bob", .admin)
        let readOnly = try await f.token("alice", .admin, scopes: ["user/*.rs"])
        let writeOnly = try await f.token("alice", .admin, scopes: ["user/*.cu"])
        try await f.test { client in
            for text in [#"{"effect":"deny","purposes":["research"]}"#, #"{"effect":"permit","purposes":["commercial"]}"#] {
                try await Self.post(client, "/api/v1/twins/p1/consent", alice, text) { r throws in #expect(r.status == .created) }
            }
            try await Self.post(client, "/api/v1/twins/p1/consent/revocations", alice, #"{"rule":"r2"}"#) { r throws in #expect(r.status == .ok) }
            let uri = "/api/v1/twins/p1/consent/revocations"
            for (text, status, field) in [(#"{}"#, HTTPResponse.Status.badRequest, "body"), (#"{"all":false}"#, .badRequest, "body"),
                                          (#"{"rule":"r1","all":true}"#, .badRequest, "body"), (#"{"rule":""}"#, .badRequest, "rule"),
                                          (#"{"all":"yes"}"#, .badRequest, "all"), (#"{"rule":"r9"}"#, .notFound, "rule"),
                                          (#"{"rule":"r2"}"#, .conflict, "rule")] {
                try await Self.post(client, uri, alice, text) { r throws in
                    #expect(r.status == status, "\(text): \(String(buffer: r.body))")
                    #expect(try json(r)["field"] as? String == field, "\(text): \(String(buffer: r.body))")
                }
            }
            try await Self.post(client, "/api/v1/twins/nobody/consent/revocations", alice, #"{"all":true}"#) { r throws in
                #expect(r.status == .notFound, "\(String(buffer: r.body))")
            }
            // a clinician manages no one's consent; a token claiming the admin role for bob; scopes that do not write
            for (token, field) in [(bob, nil), (claimed, "role"), (readOnly, "scope")] as [(String, String?)] {
                try await Self.post(client, uri, token, #"{"all":true}"#) { r throws in
                    #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                    if let field { #expect(try json(r)["field"] as? String == field) }
                }
            }
            try await client.execute(uri: uri, method: .post, headers: HTTPFields([.init(name: .contentType, value: "application/json")]), body: body(#"{"all":true}"#)) { r throws in
                #expect(r.status == .unauthorized)
            }
            // the history: refused to a clinician and to a token that may not read; unknown twin; no token
            try await client.execute(uri: "/api/v1/twins/p1/consent/history", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent/history", method: .get, headers: .auth(writeOnly)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
                #expect(try json(r)["field"] as? String == "scope")
            }
            try await client.execute(uri: "/api/v1/twins/nobody/consent/history", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent/history", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
            let versions = try await Self.history(client, "p1", alice)
            #expect(versions.count == 3, "nothing written on refusal")
            #expect((versions.last?["rules"] as? [[String: Any]])?.first?["revoked"] == nil, "r1 still in force")
        }
    }

    /// The patient revokes and reads the history of their own twin's consent, not another's.
    @Test func aPatientManagesTheirOwnConsent() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "pat", role: .patient, twins: ["p2"]))
        }
        let pat = try await f.token("pat", .patient)
        try await f.test { client in
            try await Self.post(client, "/api/v1/twins/p2/consent", pat, #"{"effect":"permit","purposes":["research"],"categories":["cgm"]}"#) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            try await Self.post(client, "/api/v1/twins/p2/consent/revocations", pat, #"{"rule":"r1"}"#) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            let versions = try await Self.history(client, "p2", pat)
            #expect(versions.map { $0["updatedBy"] as? String } == ["pat", "pat"])
            try await Self.post(client, "/api/v1/twins/p1/consent/revocations", pat, #"{"all":true}"#) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent/history", method: .get, headers: .auth(pat)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
        }
    }

    /// `consent export` and `import`: p1's consent as a FHIR Consent, imported into p2 (the same rules, a new version).
    @Test func exportsAndImportsAFHIRConsent() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let fhir: [HTTPField.Name: String] = [.contentType: "application/fhir+json"]
        try await f.test { client in
            for text in [#"{"effect":"deny","purposes":["research"],"categories":["genomics"]}"#, #"{"effect":"permit","purposes":["public-health"]}"#] {
                try await Self.post(client, "/api/v1/twins/p1/consent", alice, text) { r throws in #expect(r.status == .created, "\(String(buffer: r.body))") }
            }
            let exported = try await client.execute(uri: "/api/v1/twins/p1/consent/fhir", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true)
                #expect(try json(r)["resourceType"] as? String == "Consent")
                return String(buffer: r.body)
            }
            try await client.execute(uri: "/api/v1/twins/p2/consent/fhir", method: .post, headers: .auth(alice, fhir), body: body(exported)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let j = try json(r)
                #expect(j["twin"] as? String == "p2" && j["version"] as? Int == 1 && (j["rules"] as? [String])?.count == 2, "\(j)")
            }
            let p2 = try await Self.history(client, "p2", alice)
            let rules = try #require(p2.last?["rules"] as? [[String: Any]])
            #expect(rules.map { $0["effect"] as? String } == ["deny", "permit"])
            #expect(rules.first?["categories"] as? [String] == ["genomics"], "\(rules)")
            try await client.execute(uri: "/api/v1/twins/p2/consent/fhir", method: .post, headers: .auth(alice, fhir), body: body(#"{"resourceType":"Patient"}"#)) { r throws in
                #expect(r.status == .unprocessableContent, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p2/consent/fhir", method: .post, headers: .auth(bob, fhir), body: body(exported)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent/fhir", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .forbidden, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/v1/twins/nobody/consent/fhir", method: .get, headers: .auth(alice)) { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/twins/p1/consent/fhir", method: .get) { r throws in
                #expect(r.status == .unauthorized)
            }
            #expect(try await Self.history(client, "p2", alice).count == 1, "refused imports recorded nothing")
        }
    }
}
