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

/// A patient's (or a device's) token lists and searches across its own twins (the policy's links to its subject),
/// not the bank: the twin list and a FHIR search without `patient` answer what it may read, and ask the gate about
/// no one else's twin (no deny audited for them).
@Suite struct OwnTwinsRouteTests {
    /// The fixture with pat a patient linked to p1 (and to p9, which does not exist), and nia a patient linked to none.
    static func fixture() async throws -> ServerFixture {
        let f = try await ServerFixture.make()
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        let g = Governance(bank: bank, actor: "alice", owner: "alice")
        _ = try g.assign(Caller(id: "pat", role: .patient, twins: ["p1", "p9"]))
        _ = try g.assign(Caller(id: "nia", role: .patient))
        return f
    }

    @Test func aPatientListsAndSearchesTheirOwnTwins() async throws {
        let f = try await Self.fixture(); defer { f.remove() }
        let pat = try await f.token("pat", .patient, scopes: ["patient/*.rs"])
        let nia = try await f.token("nia", .patient, scopes: ["patient/*.rs"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            try await client.execute(uri: "/api/v1/twins", method: .get, headers: .auth(pat)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let items = try #require(try json(r)["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["id"] as? String } == ["p1"], "own twins that exist, not p2, p3 or the missing p9")
            }
            try await client.execute(uri: "/api/v1/twins", method: .get, headers: .auth(nia)) { r throws in
                #expect(r.status == .ok)
                #expect(try #require(try json(r)["items"] as? [Any]).isEmpty)
            }
            try await client.execute(uri: "/fhir/Observation?code=http://loinc.org%7C2339-0", method: .get, headers: .auth(pat)) { r throws in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(try FHIRFacadeTests.fhir(r)["total"]?.numberText == "2")
            }
            try await client.execute(uri: "/fhir/Observation", method: .get, headers: .auth(nia)) { r throws in
                #expect(r.status == .ok)
                #expect(try FHIRFacadeTests.fhir(r)["total"]?.numberText == "0")
            }
            // a clinician still lists the bank
            try await client.execute(uri: "/api/v1/twins", method: .get, headers: .auth(bob)) { r throws in
                #expect(try #require(try json(r)["items"] as? [Any]).count == 3)
            }
        }
        // no one else's twin was asked about for the patients (only their own, p1 and the missing p9): no deny in their name, and no bank-wide ask
        let entries = try f.server.gate.log.entries(matching: AuditQuery())
        let theirs = entries.filter { $0.actor == "pat" || $0.actor == "nia" }
        #expect(!theirs.isEmpty)
        #expect(theirs.allSatisfy { $0.twin == "p1" || $0.twin == "p9" }, "\(theirs.map { "\($0.actor) \($0.action) \($0.twin ?? "-") \($0.decision)" })")
        #expect(theirs.allSatisfy { $0.decision != .deny })
    }
}
