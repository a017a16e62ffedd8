import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwinBank
import TwinBankAccess
import TwinCore
import TwinFHIR
@testable import TwinServer

/// A FHIR `DELETE`'s `If-Match` is checked in the retraction's own bank transaction
/// (`FHIRFacade.retractRecord(_:twin:type:id:ifMatch:reason:)` over a `BankWriter`): the version check and the
/// retraction commit together or not at all, and a second delete from the same version, serialised after the first
/// by the bank's writer, finds the deletion and is refused.
@Suite struct FHIRDeleteTransactionTests {
    struct Stale: Error {}

    static func bank(_ f: ServerFixture) throws -> Bank {
        Bank(storage: try BankLocation(f.path).open(create: false).storage, actor: "alice")
    }

    static func status(_ error: any Error) -> HTTPResponse.Status? { (error as? ServerError)?.code.status }

    @Test func theVersionCheckAndTheRetractionCommitTogetherOrNotAtAll() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        try await f.test { client in
            let (status, _) = try await FHIRVersionTests.post(client, FHIRVersionTests.hba1c("6.1"), alice)
            #expect(status == .ok)
        }
        let bank = try Self.bank(f)
        // the check passes and the retraction is made, then something after it in the transaction throws: nothing stays
        #expect(throws: Stale.self) {
            try bank.write { w in
                let d = try FHIRFacade.retractRecord(w, twin: "p1", type: "Observation", id: "hba1c-1", ifMatch: 1, reason: "entered in error")
                #expect(d.retraction?.eventsRetracted == 1 && d.version.versionId == 2 && d.version.isDeletion)
                throw Stale()
            }
        }
        #expect(try bank.events(ThreadQuery(twin: "p1", category: .retraction)).isEmpty)
        #expect(try FHIRFacade.recordVersions(bank, "p1", skipRefused: false)?.filter { $0.id == "hba1c-1" }.count == 1)
        // a stale version: 412 from inside the transaction, nothing retracted
        #expect(throws: ServerError.self) {
            try bank.write { w in try FHIRFacade.retractRecord(w, twin: "p1", type: "Observation", id: "hba1c-1", ifMatch: 2, reason: "x") }
        }
        #expect(try bank.events(ThreadQuery(twin: "p1", category: .retraction)).isEmpty)
        // two deletes from version 1, one after the other as the bank's writer serialises them: the first retracts, the
        // second reads the deletion through the same kind of writer and is refused (412), and the first stays
        let first = try bank.write { w in
            let d = try FHIRFacade.retractRecord(w, twin: "p1", type: "Observation", id: "hba1c-1", ifMatch: 1, reason: "first")
            var refused: (any Error)?
            do { _ = try FHIRFacade.retractRecord(w, twin: "p1", type: "Observation", id: "hba1c-1", ifMatch: 1, reason: "second") } catch { refused = error }
            #expect(refused.flatMap(Self.status) == .preconditionFailed, "\(String(describing: refused))")
            return d
        }
        #expect(first.retraction?.eventsRetracted == 1 && first.version.versionId == 2)
        let retractions = try bank.events(ThreadQuery(twin: "p1", category: .retraction))
        #expect(retractions.map(\.value) == [.text("first")])
        var again: (any Error)?
        do { _ = try bank.write { w in try FHIRFacade.retractRecord(w, twin: "p1", type: "Observation", id: "hba1c-1", ifMatch: 1, reason: "later") } } catch { again = error }
        #expect(again.flatMap(Self.status) == .preconditionFailed)
        #expect(try bank.events(ThreadQuery(twin: "p1", category: .retraction)).count == 1)
    }

    /// Two DELETE requests with the same `If-Match` at once: exactly one deletes, the other answers 412 (whichever
    /// order the bank's writer gives them), and one retraction is written.
    @Test func twoDeletesFromTheSameVersionDoNotBothPass() async throws {
        let f = try await ServerFixture.make(); defer { f.remove() }
        let alice = try await f.token("alice", .admin)
        let statuses = try await f.test { client in
            let (status, _) = try await FHIRVersionTests.post(client, FHIRVersionTests.hba1c("6.1"), alice)
            #expect(status == .ok)
            return try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for reason in ["one", "two"] {
                    group.addTask {
                        try await client.execute(uri: "/fhir/Observation/hba1c-1", method: .delete,
                                                 headers: .auth(alice, [.ifMatch: "W/\"1\"", FHIRDeleteTests.reasonHeader: reason])) { r in r.status }
                    }
                }
                var all: [HTTPResponse.Status] = []
                for try await s in group { all.append(s) }
                return all
            }
        }
        #expect(statuses.sorted { $0.code < $1.code } == [.ok, .preconditionFailed])
        #expect(try Self.bank(f).events(ThreadQuery(twin: "p1", category: .retraction)).count == 1)
    }
}
