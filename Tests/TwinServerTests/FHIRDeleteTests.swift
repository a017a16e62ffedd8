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

/// `DELETE /fhir/{type}/{id}`: a thread's record leaves it by a retraction (an imported record's events, a device
/// reading's one event), a later read answers 410, a second delete 200 without writing, `If-Match` is honoured (412),
/// and the refusals: an unknown id 404, a type not deleted 405, no token 401, a scope without `d` 403, the gate 403.
@Suite struct FHIRDeleteTests {
    static let reasonHeader = HTTPField.Name("X-Reason")!

    /// The OperationOutcome's first issue's server code (`details.coding`).
    static func detailsCode(_ o: JSONValue) -> String? { o["issue"]?[0]?["details"]?["coding"]?[0]?["code"]?.stringValue }

    static func retractions(_ f: ServerFixture) throws -> [Event] {
        let bank = Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
        return try bank.events(ThreadQuery(twin: "p1", category: .retraction))
    }

    @Test func aDeleteRetractsTheRecordAndASecondChangesNothing() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, _) = try await FHIRVersionTests.post(client, FHIRVersionTests.hba1c("6.1"), alice)
            #expect(status == .ok)
            // a stale If-Match: 412, nothing retracted
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(alice, [.ifMatch: "W/\"2\""])) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .preconditionFailed, "conflict", "a stale If-Match")
                #expect(text.contains("version 2") && text.contains("current version is 1"), "\(text)")
            }
            #expect(try Self.retractions(f).isEmpty)
            // the current version: deleted, with the reason given
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete,
                                     headers: .auth(alice, [.ifMatch: "W/\"1\"", Self.reasonHeader: "entered in error"])) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .ok, "informational", "a delete")
                #expect(Self.detailsCode(try FHIRFacadeTests.fhir(r)) == "deleted")
                #expect(text.contains("1 event(s) of twin 'p1' retracted"), "\(text)")
                #expect(r.headers[.eTag] == "W/\"2\"", "the deletion is version 2")
            }
            let retracted = try Self.retractions(f)
            #expect(retracted.count == 1)
            #expect(retracted.first?.value == .text("entered in error"))
            // a later read: 410; the history: the record, then its deletion
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .gone, "deleted", "the read after the delete")
            }
            let (_, history, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation/hba1c-1/_history", bob)
            FHIRHistoryTests.expectHistory(history, "history after the delete")
            #expect(history["total"]?.numberText == "2")
            #expect(history["entry"]?[0]?["request"]?["method"]?.stringValue == "DELETE")
            // again: 200, already deleted, nothing written; a stale If-Match on the deleted record 412
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(alice)) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .ok, "informational", "a second delete")
                #expect(Self.detailsCode(try FHIRFacadeTests.fhir(r)) == "alreadyDeleted" && text.contains("already deleted"), "\(text)")
                #expect(r.headers[.eTag] == "W/\"2\"")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(alice, [.ifMatch: "W/\"1\""])) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .preconditionFailed, "conflict", "If-Match of the version before the deletion")
            }
            #expect(try Self.retractions(f).count == 1, "a second delete writes nothing")

            // a device reading (one event of its own), found by id in the patient's thread; the default reason
            let (_, search, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&code=2339-0", bob)
            #expect(search["total"]?.numberText == "2")
            let reading = try #require(search["entry"]?[0]?["resource"]?["id"]?.stringValue)
            try await client.execute(uri: "/fhir/Observation/\(reading)?patient=p1", method: .delete, headers: .auth(alice)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .ok, "informational", "a device reading's delete")
            }
            #expect(try Self.retractions(f).last?.value == .text("deleted through FHIR"))
            try await client.execute(uri: "/fhir/Observation/\(reading)?patient=p1", method: .get, headers: .auth(bob)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .gone, "deleted", "the reading's read after the delete")
            }
            let (_, after, _) = try await FHIRHistoryTests.get(client, "/fhir/Observation?patient=p1&code=2339-0", bob)
            #expect(after["total"]?.numberText == "1")
            #expect(after["entry"]?[0]?["resource"]?["id"]?.stringValue != reading)
        }
    }

    @Test func refusals() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let noDelete = try await f.token("alice", .admin, scopes: ["user/*.cru"])
        let bob = try await f.token("bob", .clinician)
        try await f.test { client in
            let (status, _) = try await FHIRVersionTests.post(client, FHIRVersionTests.hba1c("6.1"), alice)
            #expect(status == .ok)
            try await client.execute(uri: "/fhir/Observation/no-such-record", method: .delete, headers: .auth(alice)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .notFound, "not-found", "an unknown id")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1?patient=p2", method: .delete, headers: .auth(alice)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .notFound, "not-found", "another patient's thread")
            }
            for type in ["Patient/p1", "RiskAssessment/r1", "Provenance/p1", "Group/g1"] {
                try await client.execute(uri: "/fhir/\(type)", method: .delete, headers: .auth(alice)) { r throws in
                    let text = try FHIRFacadeTests.expectOutcome(r, .methodNotAllowed, "not-supported", "DELETE \(type)")
                    #expect(text.contains("does not delete"), "\(text)")
                }
            }
            try await client.execute(uri: "/fhir/Basic/b1", method: .delete, headers: .auth(alice)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .notFound, "not-found", "a type the facade does not serve")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(alice, [.ifMatch: "version one"])) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", "a malformed If-Match")
                #expect(text.contains("If-Match"), "\(text)")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1?code=4548-4", method: .delete, headers: .auth(alice)) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .badRequest, "invalid", "a delete by search criteria")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete) { r throws in
                try FHIRFacadeTests.expectOutcome(r, .unauthorized, "login", "no token")
            }
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(noDelete)) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "a scope without d")
                #expect(Self.detailsCode(try FHIRFacadeTests.fhir(r)) == "insufficientScope" && text.contains("deleting"), "\(text)")
            }
            // a clinician: the gate's retract is the admin's in the default policy
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete, headers: .auth(bob)) { r throws in
                let text = try FHIRFacadeTests.expectOutcome(r, .forbidden, "forbidden", "the gate's refusal")
                #expect(Self.detailsCode(try FHIRFacadeTests.fhir(r)) == "accessDenied", "\(text)")
            }
            #expect(try Self.retractions(f).isEmpty, "nothing refused was retracted")
            try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .get, headers: .auth(bob)) { r throws in
                #expect(r.status == .ok && r.headers[.eTag] == "W/\"1\"")
            }
        }
    }
}
