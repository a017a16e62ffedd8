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

/// Versions on FHIR reads and writes: `read` and `vread` answer `ETag: W/"versionId"` (304 for a matching
/// `If-None-Match`), a transaction entry's `request.ifMatch` that is not the current version answers 412 and writes
/// nothing (the whole transaction), a batch's such entry answers 412 alone, and created entries answer 201.
@Suite struct FHIRVersionTests {
    static let fhirJSON = [HTTPField.Name.contentType: "application/fhir+json"]

    /// A transaction or batch of the HbA1c record `hba1c-1` of p1 with `value`, its `request.ifMatch` when given, and
    /// `more` entries after it.
    static func hba1c(_ value: String, ifMatch: String? = nil, kind: String = "transaction", more: [String] = []) -> String {
        let match = ifMatch.map { #","ifMatch":"\#($0.replacingOccurrences(of: "\"", with: "\\\""))""# } ?? ""
        let entry = #"{"fullUrl":"urn:uuid:4f0c7a52-3f5e-4c1e-9c55-0d0e6f3a1b21","resource":{"resourceType":"Observation","id":"hba1c-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01T10:00:00Z","valueQuantity":{"value":\#(value),"unit":"%","system":"http://unitsofmeasure.org","code":"%"}},"request":{"method":"PUT","url":"Observation/hba1c-1"\#(match)}}"#
        return #"{"resourceType":"Bundle","type":"\#(kind)","entry":[\#(([entry] + more).joined(separator: ","))]}"#
    }

    /// A new weight Observation of p1 (no If-Match).
    static let weight = #"{"fullUrl":"urn:uuid:0b9a4c7e-1d2f-4a3b-8c5d-6e7f8a9b0c1d","resource":{"resourceType":"Observation","id":"weight-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01T11:00:00Z","valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}},"request":{"method":"PUT","url":"Observation/weight-1"}}"#

    static func post(_ client: some TestClientProtocol, _ bundle: String, _ token: String) async throws -> (HTTPResponse.Status, JSONValue) {
        try await client.execute(uri: "/fhir", method: .post, headers: .auth(token, fhirJSON), body: body(bundle)) { r throws in
            #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true)
            let b = try FHIRHistoryTests.fhir(r)
            FHIRFacadeTests.expectValid(b, "POST /fhir answer")
            return (r.status, b)
        }
    }

    @Test func readsAnswerTheCurrentVersionWithItsETagAndNotModified() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, answer) = try await Self.post(client, Self.hba1c("6.1"), alice)
            #expect(status == .ok)
            let created = try #require(answer["entry"]?[0]?["response"])
            #expect(created["status"]?.stringValue == "201 Created", "\(created)")
            #expect(created["location"]?.stringValue == "Observation/hba1c-1/_history/1")
            #expect(created["etag"]?.stringValue == "W/\"1\"")
            #expect(created["lastModified"]?.stringValue != nil)

            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] == "W/\"1\"")
                #expect(r.headers[.lastModified]?.hasSuffix("GMT") == true)
                let o = try FHIRHistoryTests.fhir(r)
                FHIRFacadeTests.expectValid(o, "read")
                #expect(o["meta"]?["versionId"]?.stringValue == "1" && o["valueQuantity"]?["value"]?.numberText == "6.1")
            }
            // If-None-Match: the current version is 304 without a body, another version (or none) the resource
            for (tag, expected) in [("W/\"1\"", HTTPResponse.Status.notModified), ("*", .notModified), ("W/\"2\", W/\"1\"", .notModified), ("W/\"2\"", .ok)] {
                try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .get, headers: .auth(bob, [.ifNoneMatch: tag])) { r throws in
                    #expect(r.status == expected, "If-None-Match \(tag)")
                    #expect(r.headers[.eTag] == "W/\"1\"")
                    #expect((r.body.readableBytes == 0) == (expected == .notModified), "If-None-Match \(tag)")
                }
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1/_history/1", method: .get, headers: .auth(bob, [.ifNoneMatch: "W/\"1\""])) { r throws in
                #expect(r.status == .notModified, "vread")
            }
            // read with patient (one twin's thread), a device reading by id, a Patient with its version
            let (_, search, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&code=2339-0", bob)
            let reading = try #require(search["entry"]?[0]?["resource"]?["id"]?.stringValue)
            let (readingStatus, r, headers) = try await FHIRHistoryTests.get(client, "/fhir/Observation/\(reading)?patient=p1", bob)
            #expect(readingStatus == .ok && r["id"]?.stringValue == reading && headers[.eTag] == "W/\"1\"")
            let (patientStatus, p, patientHeaders) = try await FHIRHistoryTests.get(client, "/fhir/Patient/p1", bob)
            #expect(patientStatus == .ok && p["meta"]?["versionId"]?.stringValue == "1" && patientHeaders[.eTag] == "W/\"1\"")
            FHIRFacadeTests.expectValid(p, "Patient read")

            // retracted: the read answers 410, its history stays
            try await client.execute(uri: "/api/v1/twins/p1/retractions", method: .post, headers: .auth(alice, [.contentType: "application/json"]),
                                     body: body(#"{"event":"\#(reading)","reason":"meter not calibrated"}"#)) { r throws in
                #expect(r.status == .created, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/fhir/Observation/\(reading)", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .gone, "deleted", "a retracted reading's read")
            }
            for (uri, status, type) in [
                ("/fhir/Observation/nothing-here", HTTPResponse.Status.notFound, "not-found"),
                ("/fhir/Patient/nobody", .notFound, "not-found"),
                ("/fhir/Basic/x", .notFound, "not-found"),
                ("/fhir/Observation/hba1c-1?code=x", .badRequest, "invalid"),
                ("/fhir/Patient/p1?patient=p1", .badRequest, "invalid"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in try FHIRFacadeTests.expectOutcome(r, status, type, uri) }
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .get) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "no token")
            }
            let mallory = try await f.token("mallory", .clinician)
            try await client.execute(uri: "/fhir/Observation/hba1c-1?patient=p1", method: .get, headers: .auth(mallory)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "a subject the policy does not know")
            }
        }
    }

    @Test func aTransactionWhoseIfMatchIsNotCurrentIs412AndWritesNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            _ = try await Self.post(client, Self.hba1c("6.1"), alice)
            // a version that is not the current one: 412, naming both, nothing written (the weight neither)
            var (status, answer) = try await Self.post(client, Self.hba1c("6.4", ifMatch: "W/\"2\"", more: [Self.weight]), alice)
            #expect(status == .preconditionFailed)
            #expect(answer["resourceType"]?.stringValue == "OperationOutcome")
            #expect(answer["issue"]?[0]?["code"]?.stringValue == "conflict")
            let text = answer["issue"]?[0]?["details"]?["text"]?.stringValue ?? ""
            #expect(text.contains("expects version 2") && text.contains("current version is 1"), "\(text)")
            #expect(answer["issue"]?[0]?["expression"]?[0]?.stringValue == "Bundle.entry[0].request.ifMatch")
            var (_, history, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1/_history", alice)
            #expect(history["total"]?.numberText == "1")
            let (_, weights, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&code=29463-7", alice)
            #expect(weights["total"]?.numberText == "0", "a transaction is all or nothing")

            // the current version: written, 200 (an update) with the new version's ETag; the weight 201
            (status, answer) = try await Self.post(client, Self.hba1c("6.4", ifMatch: "W/\"1\"", more: [Self.weight]), alice)
            #expect(status == .ok, "\(answer)")
            #expect(answer["entry"]?[0]?["response"]?["status"]?.stringValue == "200 OK")
            #expect(answer["entry"]?[0]?["response"]?["etag"]?.stringValue == "W/\"2\"")
            #expect(answer["entry"]?[0]?["response"]?["location"]?.stringValue == "Observation/hba1c-1/_history/2")
            #expect(answer["entry"]?[1]?["response"]?["status"]?.stringValue == "201 Created")
            let (_, now, headers) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1", alice)
            #expect(now["valueQuantity"]?["value"]?.numberText == "6.4" && headers[.eTag] == "W/\"2\"")

            // the same write again with the now stale version: 412
            (status, _) = try await Self.post(client, Self.hba1c("6.9", ifMatch: "W/\"1\""), alice)
            #expect(status == .preconditionFailed)
            (_, history, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1/_history", alice)
            #expect(history["total"]?.numberText == "2")

            // If-Match on a resource that does not exist, or on a Patient at a version it does not have: 412
            (status, answer) = try await Self.post(client, Self.hba1c("6.1", ifMatch: "W/\"1\"").replacingOccurrences(of: "hba1c-1", with: "hba1c-9"), alice)
            #expect(status == .preconditionFailed)
            #expect(answer["issue"]?[0]?["details"]?["text"]?.stringValue?.contains("no version here") == true, "\(answer)")
            let patient = #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:9d7c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b","resource":{"resourceType":"Patient","id":"p1","name":[{"text":"Renamed"}]},"request":{"method":"PUT","url":"Patient/p1","ifMatch":"W/\"3\""}}]}"#
            (status, answer) = try await Self.post(client, patient, alice)
            #expect(status == .preconditionFailed, "\(answer)")
            let (_, p, _) = try await FHIRHistoryTests.get(client, "/fhir/Patient/p1", alice)
            #expect(p["name"]?[0]?["text"]?.stringValue == "Person p1", "nothing written")

            // a malformed If-Match, or one on a type the facade does not version: 400 naming the entry
            (status, answer) = try await Self.post(client, Self.hba1c("6.1", ifMatch: "yesterday"), alice)
            #expect(status == .badRequest)
            #expect(answer["issue"]?[0]?["expression"]?[0]?.stringValue == "Bundle.entry[0].request.ifMatch")
            let practitioner = #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1d7c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b","resource":{"resourceType":"Practitioner","id":"dr-1"},"request":{"method":"PUT","url":"Practitioner/dr-1","ifMatch":"W/\"1\""}}]}"#
            (status, _) = try await Self.post(client, practitioner, alice)
            #expect(status == .badRequest)
        }
    }

    /// The HbA1c Observation `hba1c-1` of p1 alone, with `value`.
    static func observation(_ value: String, id: String = "hba1c-1") -> String {
        #"{"resourceType":"Observation","id":"\#(id)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01T10:00:00Z","valueQuantity":{"value":\#(value),"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}"#
    }

    @Test func aPutCreatesThenUpdatesAtTheVersionItsIfMatchNames() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        func put(_ uri: String, _ text: String, _ token: String, ifMatch: String? = nil) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
            var headers = HTTPFields.auth(token, Self.fhirJSON)
            if let ifMatch { headers[.ifMatch] = ifMatch }
            let sent = headers
            return try await f.test { client in
                try await client.execute(uri: uri, method: .put, headers: sent, body: body(text)) { r throws in
                    #expect(r.headers[.contentType]?.hasPrefix("application/fhir+json") == true, "\(uri)")
                    let b = try FHIRHistoryTests.fhir(r)
                    FHIRFacadeTests.expectValid(b, "PUT \(uri)")
                    return (r.status, b, r.headers)
                }
            }
        }
        // created: 201, the resource as read, its ETag and Location
        var (status, b, headers) = try await put("/fhir/Observation/hba1c-1", Self.observation("6.1"), alice)
        #expect(status == .created, "\(b)")
        #expect(b["meta"]?["versionId"]?.stringValue == "1" && b["valueQuantity"]?["value"]?.numberText == "6.1")
        #expect(headers[.eTag] == "W/\"1\"" && headers[.location]?.hasSuffix("/fhir/Observation/hba1c-1/_history/1") == true, "\(headers)")
        // a stale If-Match: 412 naming both versions, nothing written
        (status, b, _) = try await put("/fhir/Observation/hba1c-1", Self.observation("6.4"), alice, ifMatch: "W/\"2\"")
        #expect(status == .preconditionFailed && b["issue"]?[0]?["code"]?.stringValue == "conflict")
        let text = b["issue"]?[0]?["details"]?["text"]?.stringValue ?? ""
        #expect(text.contains("expects version 2") && text.contains("current version is 1") && text.contains("If-Match"), "\(text)")
        // the current one: 200, version 2
        (status, b, headers) = try await put("/fhir/Observation/hba1c-1", Self.observation("6.4"), alice, ifMatch: "W/\"1\"")
        #expect(status == .ok && b["meta"]?["versionId"]?.stringValue == "2" && b["valueQuantity"]?["value"]?.numberText == "6.4", "\(b)")
        #expect(headers[.eTag] == "W/\"2\"")
        // without If-Match: unconditional, the same content again changes nothing (still version 2)
        (status, b, headers) = try await put("/fhir/Observation/hba1c-1", Self.observation("6.4"), alice)
        #expect(status == .ok && headers[.eTag] == "W/\"2\"")
        // refusals
        for (uri, text, match, expected) in [
            ("/fhir/Observation/other-id", Self.observation("6.1"), nil as String?, HTTPResponse.Status.badRequest),
            ("/fhir/Condition/hba1c-1", Self.observation("6.1"), nil, .badRequest),
            ("/fhir/Observation/hba1c-1", "{not json", nil, .badRequest),
            ("/fhir/Observation/hba1c-1", Self.observation("6.1"), "yesterday", .badRequest),
            ("/fhir/RiskAssessment/r1", #"{"resourceType":"RiskAssessment","id":"r1"}"#, nil, .methodNotAllowed),
            ("/fhir/Basic/b1", #"{"resourceType":"Basic","id":"b1"}"#, nil, .notFound),
            ("/fhir/Observation/hba1c-2", Self.observation("6.1", id: "hba1c-2").replacingOccurrences(of: "Patient/p1", with: "Patient/nobody"), nil, .unprocessableContent),
        ] {
            (status, b, _) = try await put(uri, text, alice, ifMatch: match)
            #expect(status == expected && b["resourceType"]?.stringValue == "OperationOutcome", "\(uri): \(b)")
        }
        let bob = try await f.token("bob", .clinician, scopes: ["user/*.rs"])
        (status, b, _) = try await put("/fhir/Observation/hba1c-1", Self.observation("7.0"), bob)
        #expect(status == .forbidden, "a token that may not write")
        let mallory = try await f.token("mallory", .clinician)
        (status, b, _) = try await put("/fhir/Observation/hba1c-1", Self.observation("7.0"), mallory)
        #expect(status == .forbidden, "a subject the policy does not know")
        try await f.test { client in
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .put, headers: Self.fhirJSON.reduce(into: HTTPFields()) { $0[$1.key] = $1.value }, body: body(Self.observation("7.0"))) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "no token")
            }
            let (_, history, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1/_history", alice)
            #expect(history["total"]?.numberText == "2", "only the two writes that were allowed")
        }
    }

    @Test func aBatchAnswers412ForTheEntryWhoseIfMatchFailsAndWritesTheOthers() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            _ = try await Self.post(client, Self.hba1c("6.1"), alice)
            let (status, answer) = try await Self.post(client, Self.hba1c("6.4", ifMatch: "W/\"5\"", kind: "batch", more: [Self.weight]), alice)
            #expect(status == .ok, "\(answer)")
            #expect(answer["type"]?.stringValue == "batch-response")
            let refused = try #require(answer["entry"]?[0]?["response"])
            #expect(refused["status"]?.stringValue == "412 Precondition Failed")
            #expect(refused["outcome"]?["issue"]?[0]?["code"]?.stringValue == "conflict")
            #expect(answer["entry"]?[1]?["response"]?["status"]?.stringValue == "201 Created")
            let (_, history, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1/_history", alice)
            #expect(history["total"]?.numberText == "1")
            let (_, weights, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&code=29463-7", alice)
            #expect(weights["total"]?.numberText == "1")
        }
    }
}
