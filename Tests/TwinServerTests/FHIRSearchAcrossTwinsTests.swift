import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
import TwinGovernance
import TwinServer

/// Searches not by patient (`GET /fhir/Observation?code=...`, any searched type without `patient`): across the twins
/// the caller may read, the gate deciding per twin (a twin it refuses is left out and audited), only twins holding the
/// code scanned, paged across twins, and bounded by the server's cap on twins scanned.
@Suite struct FHIRSearchAcrossTwinsTests {
    static let glucose = "http://loinc.org%7C2339-0"

    /// The fixture's p1 (two glucose readings) plus a glucose reading and a heart rate of p2; p3 records nothing.
    static func prepare(_ f: ServerFixture) throws {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        try bank.append([
            .observation("p2", at: try Instant(parsing: "2026-01-01T10:00:00Z"), code: ServerFixture.glucose, Quantity(120, "mg/dL"), source: Source(.device, "cgm-2")),
            .observation("p2", at: try Instant(parsing: "2026-01-01T10:05:00Z"), code: Concept(system: "http://loinc.org", code: "8867-4"), Quantity(70, "/min"), source: Source(.device, "hr-2")),
        ])
    }

    static func subjects(_ b: JSONValue) -> [String] {
        b["entry"]?.list.compactMap { $0["resource"]?["subject"]?["reference"]?.stringValue } ?? []
    }

    @Test func aSearchByCodeAloneFindsEveryPatientsRecords() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, b, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)", bob)
            #expect(status == .ok)
            FHIRFacadeTests.expectValid(b, "searchset across twins")
            #expect(b["type"]?.stringValue == "searchset" && b["total"]?.numberText == "3")
            #expect(Self.subjects(b) == ["Patient/p1", "Patient/p1", "Patient/p2"], "twin by twin, each in thread order")
            #expect(b["entry"]?.list.allSatisfy { $0["search"]?["mode"]?.stringValue == "match" } == true)
            // the code alone (any system), a date bound, no parameter at all: across twins too
            let (_, bare, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=2339-0", bob)
            #expect(bare["total"]?.numberText == "3")
            let (_, late, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)&date=ge2026-01-01T08:30:00Z", bob)
            #expect(Self.subjects(late) == ["Patient/p1", "Patient/p2"])
            let (_, every, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation", bob)
            #expect(every["total"]?.numberText == "4", "p1's two readings, p2's reading and heart rate")
            // another type with nothing anywhere: an empty searchset
            let (_, none, _) = try await FHIRHistoryTests.get(client, "/fhir/Condition?code=http://snomed.info/sct%7C44054006", bob)
            #expect(none["total"]?.numberText == "0" && none["entry"] == nil)
            // with patient: that patient's only, as before
            let (_, one, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)&patient=p2", bob)
            #expect(Self.subjects(one) == ["Patient/p2"])
        }
        // the audit log: a read of each twin holding the code, none of p3 (it holds none)
        let reads = try f.server.gate.log.entries(matching: AuditQuery()).filter { $0.actor == "bob" && $0.action == "read" }
        #expect(reads.contains { $0.twin == "p1" && $0.decision == .permit } && reads.contains { $0.twin == "p2" && $0.decision == .permit })
    }

    @Test func aTwinTheGateRefusesIsLeftOutAndAudited() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        // p1 refuses bob (a consent's deny rule for treatment): the gate allows him p2 (and p3) only
        let now = try Instant(parsing: "2026-06-01T12:00:00Z")
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updateConsent(for: "p1", by: "p1", at: now) { c in
            _ = c.add(ConsentRule(id: "", effect: .deny, purposes: [.treatment], actors: ["bob"], granted: now))
        }
        let bob = try await f.token("bob", .clinician)
        let alice = try await f.token("alice", .admin)
        let logged = try f.server.gate.log.entries(matching: AuditQuery()).count
        try await f.test { client in
            let (status, b, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)", bob)
            #expect(status == .ok, "a refused twin is left out, not an error")
            #expect(b["total"]?.numberText == "1" && Self.subjects(b) == ["Patient/p2"])
            // p1 by patient: refused outright
            try await client.execute(uri: "/fhir/Observation?code=\(Self.glucose)&patient=p1", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "p1 by patient")
            }
            // the admin sees both
            let (_, all, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)", alice)
            #expect(Self.subjects(all) == ["Patient/p1", "Patient/p1", "Patient/p2"])
        }
        let entries = try f.server.gate.log.entries(matching: AuditQuery()).dropFirst(logged).filter { $0.actor == "bob" }
        #expect(entries.contains { $0.twin == "p1" && $0.action == "read" && $0.decision == .deny }, "the refusal audited")
        #expect(entries.contains { $0.twin == "p2" && $0.action == "read" && $0.decision == .permit })
        #expect(!entries.contains { $0.twin == "p1" && $0.decision == .permit })
    }

    @Test func countPagesAcrossTwins() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            var uri: String? = "/fhir/Observation?code=\(Self.glucose)&_count=2"
            var pages: [[String]] = []
            var ids: [String] = []
            while let next = uri {
                let (status, page, _) = try await FHIRHistoryTests.get(client, next, bob)
                #expect(status == .ok)
                #expect(page["total"]?.numberText == "3", "every page tells the total")
                pages.append(Self.subjects(page))
                ids += page["entry"]?.list.compactMap { $0["resource"]?["id"]?.stringValue } ?? []
                uri = FHIRSearchPagingTests.link(page, "next")
                #expect(pages.count <= 3)
            }
            #expect(pages == [["Patient/p1", "Patient/p1"], ["Patient/p2"]], "the second page crosses to the next twin")
            #expect(Set(ids).count == 3)
            let (_, back, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)&_count=2&_offset=2", bob)
            #expect(FHIRSearchPagingTests.link(back, "previous") == "/fhir/Observation?code=http://loinc.org%7C2339-0&_count=2")
            let (_, beyond, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)&_offset=10", bob)
            #expect(beyond["total"]?.numberText == "3" && beyond["entry"] == nil)
        }
    }

    @Test func aSearchOverTheCapAsksForAPatient() async throws {
        // a cap of 2 twins scanned: a code two twins hold is searched, every twin (3) is over it
        let f = try await ServerFixture.make(fhirSearchTwinLimit: 2); defer { f.remove() }
        try Self.prepare(f)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, b, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)", bob)
            #expect(status == .ok && b["total"]?.numberText == "3")
            for uri in ["/fhir/Observation", "/fhir/Observation?code=2339-0", "/fhir/Condition"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in
                    let text = try FHIRFacadeTests.expectOutcome(r, .unprocessableContent, "processing", uri)
                    #expect(text.contains("patient") && text.contains("3 twins") && text.contains("2"), "\(text)")
                    #expect(FHIRDeleteTests.detailsCode(try FHIRFacadeTests.fhir(r)) == "searchTooBroad")
                }
            }
            // with patient, the cap does not apply
            let (_, one, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1", bob)
            #expect(one["total"]?.numberText == "2")
        }
        // nothing was read for the refused searches: no twin asked about beyond the one search and the patient's
        let reads = try f.server.gate.log.entries(matching: AuditQuery()).filter { $0.actor == "bob" && $0.twin == "p3" }
        #expect(reads.isEmpty, "p3 holds no glucose and the broad searches stopped before the gate: \(reads)")
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try Self.prepare(f)
        _ = try BankGovernanceStore(storage: try BankLocation(f.path).open(create: false).storage).updatePolicy(initial: .default(owner: "alice")) { p in
            try p.assign(Caller(id: "pat", role: .patient, twins: ["p2"]))
        }
        let mallory = try await f.token("mallory", .clinician)
        let pat = try await f.token("pat", .patient)
        try await f.test { client in
            try await client.execute(uri: "/fhir/Observation?code=\(Self.glucose)", method: .get) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "no token")
            }
            // a subject the policy does not know: the bank-wide read refused
            try await client.execute(uri: "/fhir/Observation?code=\(Self.glucose)", method: .get, headers: .auth(mallory)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "bank-wide read refused")
            }
            // a patient (who may not read the bank's list) searches their own twins, with or without patient
            let (across, mine, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)", pat)
            #expect(across == .ok && Self.subjects(mine) == ["Patient/p2"])
            let (status, own, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(Self.glucose)&patient=p2", pat)
            #expect(status == .ok && Self.subjects(own) == ["Patient/p2"])
            for uri in ["/fhir/Observation?code=loinc%7C", "/fhir/Observation?colour=red", "/fhir/Observation?date=sa2026", "/fhir/Observation?_count=0"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(try await f.token("bob", .clinician))) { r throws in
                    try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", uri)
                }
            }
        }
    }
}

/// `_include=TYPE:patient`: the Patients of the page's records, each once, with `search.mode` `include`; `total` counts
/// the matches only.
@Suite struct FHIRSearchIncludeTests {
    static func modes(_ b: JSONValue) -> [String] {
        b["entry"]?.list.compactMap { e in
            e["search"]?["mode"]?.stringValue.map { "\($0) \(e["resource"]?["resourceType"]?.stringValue ?? "")/\(e["resource"]?["id"]?.stringValue ?? "")" }
        } ?? []
    }

    @Test func theMatchedRecordsPatientsAreIncluded() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        try FHIRSearchAcrossTwinsTests.prepare(f)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let glucose = FHIRSearchAcrossTwinsTests.glucose
            let (status, b, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(glucose)&_include=Observation:patient", bob)
            #expect(status == .ok)
            FHIRFacadeTests.expectValid(b, "searchset with includes")
            #expect(b["total"]?.numberText == "3", "the total counts the matches, not the includes")
            let modes = Self.modes(b)
            #expect(modes.filter { $0.hasPrefix("match ") }.count == 3)
            #expect(modes.filter { $0.hasPrefix("include ") } == ["include Patient/p1", "include Patient/p2"], "\(modes)")
            // a page holding only p1's records includes p1 only; its next link keeps _include
            let (_, first, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?code=\(glucose)&_include=Observation:patient&_count=2", bob)
            #expect(Self.modes(first).filter { $0.hasPrefix("include ") } == ["include Patient/p1"])
            let next = try #require(FHIRSearchPagingTests.link(first, "next"))
            #expect(next.contains("_include=Observation:patient"))
            let (_, second, _) = try await FHIRHistoryTests.get(client, next, bob)
            #expect(Self.modes(second).filter { $0.hasPrefix("include ") } == ["include Patient/p2"])
            // by patient
            let (_, one, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&_include=Observation:patient", bob)
            #expect(Self.modes(one).filter { $0.hasPrefix("include ") } == ["include Patient/p1"] && one["total"]?.numberText == "2")
            // nothing matched: nothing included
            let (_, none, _) = try await FHIRHistoryTests.get(client, "/fhir/Condition?patient=p1&_include=Condition:patient", bob)
            #expect(none["entry"] == nil)
            // an include not offered
            for uri in ["/fhir/Observation?patient=p1&_include=Observation:performer", "/fhir/Observation?patient=p1&_include=Condition:patient"] {
                try await client.execute(uri: uri, method: .get, headers: .auth(bob)) { r throws in
                    let text = try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", uri)
                    #expect(text.contains("_include"), "\(text)")
                }
            }
        }
    }
}
