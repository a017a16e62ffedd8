import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwinBank
import TwinCore
import TwinFHIR
import TwinServer
import TwinTesting

/// FHIR `_history` and `vread`: a reading's versions from the thread (recorded, then retracted: a deletion), an
/// imported record corrected by importing its update (a second version), a Patient's versions from its definition's
/// commits, the type's history paged and since a time, and every refusal an OperationOutcome.
@Suite struct FHIRHistoryTests {
    static func fhir(_ r: TestResponse) throws -> JSONValue { try JSONReader().read([UInt8](buffer: r.body)) }

    /// A valid R4 history Bundle whose every entry has its request and response (bdl-3, bdl-4) and a resource unless it
    /// is a deletion.
    static func expectHistory(_ b: JSONValue, _ what: String) {
        FHIRFacadeTests.expectValid(b, what)
        #expect(b["resourceType"]?.stringValue == "Bundle" && b["type"]?.stringValue == "history", "\(what)")
        for e in b["entry"]?.list ?? [] {
            let method = e["request"]?["method"]?.stringValue
            #expect(method != nil && e["request"]?["url"]?.stringValue != nil, "\(what): \(e)")
            #expect(e["response"]?["status"]?.stringValue != nil && e["response"]?["etag"]?.stringValue != nil, "\(what): \(e)")
            #expect((e["resource"] == nil) == (method == "DELETE"), "\(what): \(e)")
            if let r = e["resource"] {
                #expect(e["response"]?["etag"]?.stringValue == "W/\"\(r["meta"]?["versionId"]?.stringValue ?? "")\"", "\(what)")
            }
        }
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, _ token: String) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
        try await client.execute(uri: uri, method: .get, headers: .auth(token)) { r throws in
            #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true, "\(uri)")
            return (r.status, try Self.fhir(r), r.headers)
        }
    }

    static func hba1c(_ value: String, bundle: String) -> String {
        #"{"resourceType":"Bundle","id":"\#(bundle)","type":"transaction","entry":[{"fullUrl":"urn:uuid:4f0c7a52-3f5e-4c1e-9c55-0d0e6f3a1b21","resource":{"resourceType":"Observation","id":"hba1c-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01T10:00:00Z","valueQuantity":{"value":\#(value),"unit":"%","system":"http://unitsofmeasure.org","code":"%"}},"request":{"method":"PUT","url":"Observation/hba1c-1"}}]}"#
    }

    @Test func aRetractedReadingHasItsDeletionAsASecondVersion() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (_, search, _) = try await Self.get(client, "/fhir/Observation?patient=p1", bob)
            let readings = search["entry"]?.list.compactMap { $0["resource"] } ?? []
            #expect(readings.count == 2, "each reading of the device is an Observation of its own")
            let morning = try #require(readings.first { $0["effectiveDateTime"]?.stringValue?.hasPrefix("2026-01-01T08:00") == true })
            let id = try #require(morning["id"]?.stringValue)

            var (status, b, _) = try await Self.get(client, "/fhir/Observation/\(id)/_history", bob)
            #expect(status == .ok)
            Self.expectHistory(b, "one version")
            #expect(b["total"]?.numberText == "1")
            let first = try #require(b["entry"]?[0])
            #expect(first["fullUrl"]?.stringValue?.hasSuffix("/fhir/Observation/\(id)") == true)
            #expect(first["request"]?["method"]?.stringValue == "POST" && first["request"]?["url"]?.stringValue == "Observation")
            #expect(first["response"]?["status"]?.stringValue == "201 Created")
            #expect(first["resource"]?["meta"]?["versionId"]?.stringValue == "1")
            let recorded = try #require(first["resource"]?["meta"]?["lastUpdated"]?.stringValue)
            #expect(first["response"]?["lastModified"]?.stringValue == recorded)
            #expect(first["resource"]?["valueQuantity"]?["value"]?.numberText == "95")

            // retract it: a deletion version, recorded after the first
            try await client.execute(uri: "/api/v1/twins/p1/retractions", method: .post, headers: .auth(alice, [.contentType: "application/json"]),
                                     body: body(#"{"event":"\#(id)","reason":"meter not calibrated"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            (status, b, _) = try await Self.get(client, "/fhir/Observation/\(id)/_history", bob)
            Self.expectHistory(b, "retracted")
            #expect(b["total"]?.numberText == "2")
            let deletion = try #require(b["entry"]?[0])
            #expect(deletion["resource"] == nil)
            #expect(deletion["request"]?["method"]?.stringValue == "DELETE" && deletion["request"]?["url"]?.stringValue == "Observation/\(id)")
            #expect(deletion["response"]?["etag"]?.stringValue == "W/\"2\"")
            let deleted = try #require(deletion["response"]?["lastModified"]?.stringValue)
            #expect(try Instant(parsing: deleted) > Instant(parsing: recorded))
            #expect(b["entry"]?[1]?["resource"]?["meta"]?["versionId"]?.stringValue == "1", "newest first")

            // vread: the first version as it was, the deletion 410, a version that never was 404, a malformed one 400
            (status, b, _) = try await Self.get(client, "/fhir/Observation/\(id)/_history/1", bob)
            #expect(status == .ok)
            FHIRFacadeTests.expectValid(b, "vread")
            #expect(b["valueQuantity"]?["value"]?.numberText == "95" && b["meta"]?["versionId"]?.stringValue == "1")
            try await client.execute(uri: "/fhir/Observation/\(id)/_history/1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.headers[.eTag] == "W/\"1\"")
                #expect(r.headers[.lastModified]?.hasSuffix("GMT") == true)
            }
            try await client.execute(uri: "/fhir/Observation/\(id)/_history/2", method: .get, headers: .auth(bob)) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .gone, "deleted", "vread of the deletion")
                #expect(text.contains("deletion"), "\(text)")
            }
            try await client.execute(uri: "/fhir/Observation/\(id)/_history/3", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .notFound, "not-found", "no version 3")
            }
            try await client.execute(uri: "/fhir/Observation/\(id)/_history/two", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", "a malformed version")
            }
            // the current search no longer holds it; the other reading has one version
            let (_, now, _) = try await Self.get(client, "/fhir/Observation?patient=p1", bob)
            #expect(now["total"]?.numberText == "1")
        }
    }

    @Test func anImportedRecordCorrectedByItsUpdateHasTwoVersions() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        let fhirJSON: HTTPFields = .auth(alice, [.contentType: "application/fhir+json"])
        try await f.test { client in
            try await client.execute(uri: "/fhir", method: .post, headers: fhirJSON, body: body(Self.hba1c("6.1", bundle: "first"))) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            var (_, b, _) = try await Self.get(client, "/fhir/Observation/hba1c-1/_history?patient=p1", bob)
            #expect(b["total"]?.numberText == "1")
            // the corrected value, imported again as an update of the same resource
            try await client.execute(uri: "/fhir", method: .post, headers: fhirJSON, body: body(Self.hba1c("6.4", bundle: "second"))) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            // found without `patient` too (the bank's threads are read)
            (_, b, _) = try await Self.get(client, "/fhir/Observation/hba1c-1/_history", bob)
            Self.expectHistory(b, "corrected")
            #expect(b["total"]?.numberText == "2")
            let update = try #require(b["entry"]?[0])
            #expect(update["request"]?["method"]?.stringValue == "PUT" && update["request"]?["url"]?.stringValue == "Observation/hba1c-1")
            #expect(update["response"]?["status"]?.stringValue == "200 OK")
            #expect(update["resource"]?["meta"]?["versionId"]?.stringValue == "2")
            #expect(update["resource"]?["valueQuantity"]?["value"]?.numberText == "6.4")
            #expect(b["entry"]?[1]?["resource"]?["valueQuantity"]?["value"]?.numberText == "6.1")
            // the current record is the correction
            let (_, search, _) = try await Self.get(client, "/fhir/Observation?patient=p1&code=4548-4", bob)
            #expect(search["total"]?.numberText == "1")
            #expect(search["entry"]?[0]?["resource"]?["valueQuantity"]?["value"]?.numberText == "6.4")
            let (status, v1, _) = try await Self.get(client, "/fhir/Observation/hba1c-1/_history/1", bob)
            #expect(status == .ok && v1["valueQuantity"]?["value"]?.numberText == "6.1")

            // the type's history: the two readings and the two versions, newest first, a page at a time
            let (_, all, _) = try await Self.get(client, "/fhir/Observation/_history", bob)
            Self.expectHistory(all, "type history")
            #expect(all["total"]?.numberText == "4")
            let stamps = all["entry"]?.list.compactMap { $0["response"]?["lastModified"]?.stringValue } ?? []
            #expect(stamps.count == 4 && stamps == stamps.sorted(by: >), "\(stamps)")
            let (_, page, _) = try await Self.get(client, "/fhir/Observation/_history?_count=3", bob)
            #expect(page["total"]?.numberText == "4" && page["entry"]?.list.count == 3)
            let next = try #require(page["link"]?.list.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue)
            let start = try #require(next.range(of: "/fhir/")?.lowerBound)
            let nextPath = String(next[start...])
            let (_, rest, _) = try await Self.get(client, nextPath, bob)
            #expect(rest["entry"]?.list.count == 1)
            #expect(rest["entry"]?[0]?["response"]?["lastModified"]?.stringValue == stamps[3])
            #expect(rest["link"]?.list.contains { $0["relation"]?.stringValue == "next" } == false)
            // _since: only the correction (recorded after the first version)
            let since = try #require(all["entry"]?[1]?["response"]?["lastModified"]?.stringValue)
            let (_, recent, _) = try await Self.get(client, "/fhir/Observation/_history?_since=\(since.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? since)", bob)
            #expect(recent["total"]?.numberText == "2", "the correction and the version at _since itself")
            let (_, none, _) = try await Self.get(client, "/fhir/Observation/_history?patient=p2", bob)
            #expect(none["total"]?.numberText == "0" && none["entry"] == nil)
            let (_, conditions, _) = try await Self.get(client, "/fhir/Condition/_history", bob)
            #expect(conditions["total"]?.numberText == "0")
        }
    }

    @Test func aPatientsVersionsAreItsDefinitionsCommits() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let json: [HTTPField.Name: String] = [.contentType: "application/json"]
        try await f.test { client in
            // never committed: one version, the definition now, without a recorded time
            var (status, b, _) = try await Self.get(client, "/fhir/Patient/p1/_history", alice)
            #expect(status == .ok)
            Self.expectHistory(b, "uncommitted")
            #expect(b["total"]?.numberText == "1")
            #expect(b["entry"]?[0]?["resource"]?["meta"]?["lastUpdated"] == nil && b["entry"]?[0]?["response"]?["lastModified"] == nil)
            try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, json), body: body(#"{"message":"three people"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            let etag = try await client.execute(uri: "/api/v1/twins/p1", method: .get, headers: .auth(alice)) { r throws in try #require(r.headers[.eTag]) }
            try await client.execute(uri: "/api/v1/twins/p1", method: .put, headers: .auth(alice, json.merging([.ifMatch: etag]) { a, _ in a }),
                                     body: body(#"{"kind":"person","attributes":{"name":{"type":"text","value":"Renamed"}}}"#)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            (_, b, _) = try await Self.get(client, "/fhir/Patient/p1/_history", alice)
            Self.expectHistory(b, "committed, then changed")
            #expect(b["total"]?.numberText == "2")
            #expect(b["entry"]?[0]?["resource"]?["name"]?[0]?["text"]?.stringValue == "Renamed")
            #expect(b["entry"]?[0]?["response"]?["lastModified"] == nil, "not committed yet")
            #expect(b["entry"]?[1]?["response"]?["lastModified"]?.stringValue != nil, "the commit's time")
            try await client.execute(uri: "/api/v1/commits", method: .post, headers: .auth(alice, json), body: body(#"{"message":"renamed"}"#)) { r throws in
                #expect(r.status == .created)
            }
            (_, b, _) = try await Self.get(client, "/fhir/Patient/p1/_history", alice)
            #expect(b["total"]?.numberText == "2")
            #expect(b["entry"]?[0]?["request"]?["method"]?.stringValue == "PUT" && b["entry"]?[0]?["response"]?["lastModified"] != nil)
            (status, b, _) = try await Self.get(client, "/fhir/Patient/p1/_history/1", alice)
            #expect(status == .ok && b["name"]?[0]?["text"]?.stringValue == "Person p1")
            FHIRFacadeTests.expectValid(b, "Patient vread")
            // every Patient's versions: p1's two, p2's and p3's one each
            (_, b, _) = try await Self.get(client, "/fhir/Patient/_history", alice)
            Self.expectHistory(b, "Patient type history")
            #expect(b["total"]?.numberText == "4")
        }
    }

    @Test func refusalsAreOperationOutcomes() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for (uri, status, type) in [
                ("/fhir/Basic/x/_history", HTTPResponse.Status.notFound, "not-found"),
                ("/fhir/Basic/_history", .notFound, "not-found"),
                ("/fhir/Observation/nothing-here/_history", .notFound, "not-found"),
                ("/fhir/Patient/nobody/_history", .notFound, "not-found"),
                ("/fhir/Observation/_history?_count=0", .badRequest, "invalid"),
                ("/fhir/Observation/_history?_count=x", .badRequest, "invalid"),
                ("/fhir/Observation/_history?_offset=-1", .badRequest, "invalid"),
                ("/fhir/Observation/_history?_since=yesterday-ish", .badRequest, "invalid"),
                ("/fhir/Observation/_history?code=x", .badRequest, "invalid"),
                ("/fhir/Patient/p1/_history?patient=p1", .badRequest, "invalid"),
                ("/fhir/Patient/bad%20id/_history", .badRequest, "invalid"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in
                    try FHIRFacadeTests.expectOutcome(r, status, type, uri)
                }
            }
            for uri in ["/fhir/Patient/p1/_history", "/fhir/Observation/_history", "/fhir/Patient/p1/_history/1"] {
                try await client.execute(uri: uri, method: .get) { r throws in try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "\(uri) without a token") }
                try await client.execute(uri: uri, method: .get, headers: .auth(mallory)) { r throws in
                    try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "\(uri) for a subject the policy does not know")
                }
            }
            // a token claiming a role the policy does not give its subject
            let claimed = try await f.token("bob", .admin)
            try await client.execute(uri: "/fhir/Patient/p1/_history", method: .get, headers: .auth(claimed)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "a role the policy does not give")
            }
        }
    }
}
