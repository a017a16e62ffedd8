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

/// Searchsets a page at a time: `_count` (1-1000, default 100), `total` all the matches, `self`, `next` and
/// `previous` links that give the pages in order.
@Suite struct FHIRSearchPagingTests {
    static func link(_ b: JSONValue, _ relation: String) -> String? {
        b["link"]?.list.first { $0["relation"]?.stringValue == relation }?["url"]?.stringValue.map { url in
            String(url[url.range(of: "/fhir/")!.lowerBound...])
        }
    }

    @Test func aSearchIsPagedByCountWithLinksThatWork() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (_, all, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1", bob)
            #expect(all["total"]?.numberText == "2" && all["entry"]?.list.count == 2)
            #expect(Self.link(all, "next") == nil && Self.link(all, "previous") == nil)
            #expect(Self.link(all, "self") == "/fhir/Observation?patient=p1")

            let (status, first, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&_count=1", bob)
            #expect(status == .ok)
            FHIRFacadeTests.expectValid(first, "first page")
            #expect(first["type"]?.stringValue == "searchset" && first["total"]?.numberText == "2" && first["entry"]?.list.count == 1)
            #expect(Self.link(first, "self") == "/fhir/Observation?patient=p1&_count=1")
            let next = try #require(Self.link(first, "next"))
            #expect(Self.link(first, "previous") == nil)
            let (_, second, _) = try await FHIRHistoryTests.get(client, next, bob)
            #expect(second["total"]?.numberText == "2" && second["entry"]?.list.count == 1)
            #expect(Self.link(second, "next") == nil)
            let back = try #require(Self.link(second, "previous"))
            let ids = [first, second].compactMap { $0["entry"]?[0]?["resource"]?["id"]?.stringValue }
            #expect(Set(ids) == Set(all["entry"]?.list.compactMap { $0["resource"]?["id"]?.stringValue } ?? []) && ids.count == 2, "\(ids)")
            let (_, again, _) = try await FHIRHistoryTests.get(client, back, bob)
            #expect(again["entry"]?[0]?["resource"]?["id"]?.stringValue == ids[0])
            // past the end: an empty page with its total
            let (_, beyond, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&_count=1&_offset=5", bob)
            #expect(beyond["total"]?.numberText == "2" && beyond["entry"] == nil)

            // Patients by id, two a page
            let (_, patients, _) = try await FHIRHistoryTests.get(client, "/fhir/Patient?_id=p1,p2,p3&_count=2", bob)
            #expect(patients["total"]?.numberText == "3" && patients["entry"]?.list.count == 2)
            let (_, rest, _) = try await FHIRHistoryTests.get(client, try #require(Self.link(patients, "next")), bob)
            #expect(rest["entry"]?.list.count == 1 && rest["entry"]?[0]?["resource"]?["id"]?.stringValue == "p3")

            for uri in ["/fhir/Observation?patient=p1&_count=0", "/fhir/Observation?patient=p1&_count=1001", "/fhir/Observation?patient=p1&_count=x",
                        "/fhir/Observation?patient=p1&_offset=-1", "/fhir/Patient?_id=p1&_count=0"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in
                    let text = try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", uri)
                    #expect(text.contains("_count") || text.contains("_offset"), "\(text)")
                }
            }
        }
    }
}
