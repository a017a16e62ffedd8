import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwinCore
import TwinFHIR
import TwinServer
import TwinTesting

/// `GET /fhir/_history` (every versioned resource of the twins the caller may read, paged, `_since`) and the history
/// and read of the types the export writes from a model's output (RiskAssessment, Provenance).
@Suite struct FHIRSystemHistoryTests {
    /// An alert of p1 from a model, imported as CSV: a RiskAssessment and its Provenance.
    static let alertCSV = "time,code,value,unit,source,category\n2026-01-01T10:25:00Z,urn:twinbank:alert|hypoglycaemia-predicted,Glucose predicted below 70 mg/dL,,model:uva-padova,alert\n"

    @Test func theSystemHistoryHoldsEveryVersionedResourceAPageAtATime() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            // three Patients (not committed: no time) and p1's two readings
            var (status, b, _) = try await FHIRHistoryTests.get(client, "/fhir/_history", bob)
            #expect(status == .ok)
            FHIRHistoryTests.expectHistory(b, "system history")
            #expect(b["total"]?.numberText == "5", "\(b)")
            let types = b["entry"]?.list.compactMap { $0["resource"]?["resourceType"]?.stringValue } ?? []
            #expect(types.filter { $0 == "Patient" }.count == 3 && types.filter { $0 == "Observation" }.count == 2, "\(types)")

            // the model's alert: a RiskAssessment and its Provenance, each with a version, read and history
            try await client.execute(uri: "/api/v1/twins/p1/events/csv", method: .post, headers: .auth(alice, [.contentType: "text/csv"]),
                                     body: body(Self.alertCSV)) { r throws in
                #expect(r.status == .ok || r.status == .created, "\(String(buffer: r.body))")
            }
            (_, b, _) = try await FHIRHistoryTests.get(client, "/fhir/RiskAssessment/_history", bob)
            FHIRHistoryTests.expectHistory(b, "RiskAssessment history")
            #expect(b["total"]?.numberText == "1")
            let risk = try #require(b["entry"]?[0]?["resource"])
            #expect(risk["prediction"]?[0]?["rationale"]?.stringValue == "Glucose predicted below 70 mg/dL")
            let riskID = try #require(risk["id"]?.stringValue)
            var headers: HTTPFields
            (status, b, headers) = try await FHIRHistoryTests.get(client, "/fhir/RiskAssessment/\(riskID)", bob)
            #expect(status == .ok && headers[.eTag] == "W/\"1\"" && b["meta"]?["versionId"]?.stringValue == "1")
            (_, b, _) = try await FHIRHistoryTests.get(client, "/fhir/Provenance/prov-\(riskID)/_history?patient=p1", bob)
            #expect(b["total"]?.numberText == "1" && b["entry"]?[0]?["resource"]?["target"] != nil, "\(b)")

            // every version now: 5 + the alert's two; paged by 3, the next links reach all of them once, newest first
            (_, b, _) = try await FHIRHistoryTests.get(client, "/fhir/_history", bob)
            #expect(b["total"]?.numberText == "7")
            var seen: [String] = []
            var uri: String? = "/fhir/_history?_count=3"
            var pages = 0
            while let next = uri, pages < 10 {
                let (_, page, _) = try await FHIRHistoryTests.get(client, next, bob)
                FHIRHistoryTests.expectHistory(page, "page \(pages)")
                #expect(page["total"]?.numberText == "7")
                seen += page["entry"]?.list.map { "\($0["fullUrl"]?.stringValue ?? "")@\($0["response"]?["etag"]?.stringValue ?? "")" } ?? []
                uri = page["link"]?.list.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue.map { url in
                    String(url[url.range(of: "/fhir/")!.lowerBound...])
                }
                pages += 1
            }
            #expect(pages == 3 && seen.count == 7 && Set(seen).count == 7, "\(seen)")
            let stamps = b["entry"]?.list.compactMap { $0["response"]?["lastModified"]?.stringValue } ?? []
            #expect(stamps == stamps.sorted(by: >), "newest first: \(stamps)")

            // _since the alert's recording: the alert's two versions and the Patients not committed (no time)
            let alertTime = try #require(b["entry"]?.list.first { $0["resource"]?["resourceType"]?.stringValue == "RiskAssessment" }?["response"]?["lastModified"]?.stringValue)
            (_, b, _) = try await FHIRHistoryTests.get(client, "/fhir/_history?_since=\(alertTime.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? alertTime)", bob)
            let recent = b["entry"]?.list.compactMap { $0["resource"]?["resourceType"]?.stringValue } ?? []
            #expect(Set(recent) == ["RiskAssessment", "Provenance", "Patient"] && recent.count == 5, "\(recent)")
            // one twin
            (_, b, _) = try await FHIRHistoryTests.get(client, "/fhir/_history?patient=p2", bob)
            #expect(b["total"]?.numberText == "1" && b["entry"]?[0]?["fullUrl"]?.stringValue?.hasSuffix("/fhir/Patient/p2") == true)
        }
    }

    @Test func theSystemHistoryRefusesAsOperationOutcomes() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        let mallory = try await f.token("mallory", .clinician)
        try await f.test { client in
            for (uri, status, type) in [
                ("/fhir/_history?_count=0", HTTPResponse.Status.badRequest, "invalid"),
                ("/fhir/_history?_offset=x", .badRequest, "invalid"),
                ("/fhir/_history?_since=soon", .badRequest, "invalid"),
                ("/fhir/_history?code=x", .badRequest, "invalid"),
                ("/fhir/_history?patient=nobody", .notFound, "not-found"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in try FHIRFacadeTests.expectOutcome(r, status, type, uri) }
            }
            try await client.execute(uri: "/fhir/_history", method: .get) { r throws in try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "no token") }
            try await client.execute(uri: "/fhir/_history", method: .get, headers: .auth(mallory)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "a subject the policy does not know")
            }
            let claimed = try await f.token("bob", .admin)
            try await client.execute(uri: "/fhir/_history", method: .get, headers: .auth(claimed)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "a role the policy does not give")
            }
        }
    }
}
