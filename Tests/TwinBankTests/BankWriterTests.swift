import Foundation
import Testing
import TwinBank
import TwinCore

/// `Bank.write`: several writes in one transaction, all or nothing, on every storage.
@Suite struct BankWriterTests {
    struct Boom: Error {}

    @Test(arguments: StorageKind.allCases)
    func everythingCommitsTogether(kind: StorageKind) throws {
        let bank = try makeBank(kind, now: "2026-01-02T00:00:00Z")
        let (r1, r2) = try bank.write { w in
            try w.createTwin(person("ann"))
            // reads see the transaction's own writes
            #expect(try w.twin("ann") != nil)
            let r1 = try w.append([obs("ann", "2026-01-01T08:00:00Z", 100)])
            let r2 = try w.append([obs("ann", "2026-01-01T09:00:00Z", 110), obs("ann", "2026-01-01T10:00:00Z", 120)])
            #expect(try w.events(ThreadQuery(twin: "ann")).count == 3)
            #expect(try w.storeRecordIfAbsent(named: "fhir/Practitioner/p1", kind: "fhir", bytes: Array("{\"a\":1}".utf8)))
            #expect(try !w.storeRecordIfAbsent(named: "fhir/Practitioner/p1", kind: "fhir", bytes: Array("{\"a\":2}".utf8)))
            return (r1, r2)
        }
        // two batches: consecutive sequences, strictly increasing recorded times
        #expect(r1.lastSequence + 1 == r2.firstSequence)
        #expect(r1.recorded < r2.recorded)
        #expect(try bank.events(ThreadQuery(twin: "ann")).map(\.sequence) == [1, 2, 3])
        #expect(try bank.record(named: "fhir/Practitioner/p1") == Array("{\"a\":1}".utf8))
        #expect(try bank.recordNames(prefix: "fhir/") == ["fhir/Practitioner/p1"])
        #expect(try bank.record(named: "fhir/none") == nil)
        // records are not twins
        #expect(try bank.twinIDs() == ["ann"])
    }

    @Test(arguments: StorageKind.allCases)
    func aFailureWritesNothing(kind: StorageKind) throws {
        let bank = try makeBank(kind, now: "2026-01-02T00:00:00Z")
        try bank.createTwin(person("bob"))
        _ = try bank.append([obs("bob", "2026-01-01T08:00:00Z", 100)])
        let before = try bank.lastSequence()
        // a bank error in the middle (unit that does not fit the code) rolls back the twin, the first batch and the record
        #expect(throws: BankError.self) {
            try bank.write { w in
                try w.createTwin(person("ann"))
                try w.updateTwin(person("bob", ["note": .text("changed")]))
                try w.append([obs("ann", "2026-01-01T08:00:00Z", 100)])
                try w.storeRecordIfAbsent(named: "r", kind: "fhir", bytes: [1])
                try w.append([obs("ann", "2026-01-01T09:00:00Z", 5, "kg")])
            }
        }
        // any other error from the closure too
        #expect(throws: Boom.self) {
            try bank.write { w in
                try w.createTwin(person("cy"))
                throw Boom()
            }
        }
        #expect(try bank.twinIDs() == ["bob"])
        #expect(try bank.twin("bob").twin.attributes["note"] == nil)
        #expect(try bank.lastSequence() == before)
        #expect(try bank.record(named: "r") == nil)
        // and the bank is usable afterwards
        try bank.createTwin(person("ann"))
        #expect(try bank.append([obs("ann", "2026-01-01T08:00:00Z", 100)]).count == 1)
    }

    @Test(arguments: StorageKind.allCases)
    func theGateIsAskedInsideTheTransaction(kind: StorageKind) throws {
        struct DenyWritesTo: AccessGate {
            let twin: TwinID
            func authorize(_ r: AccessRequest) throws {
                if r.twin == twin, r.action == .write { throw BankError(.accessDenied, "denied", value: twin.rawValue) }
            }
        }
        let bank = try makeBank(kind, gate: DenyWritesTo(twin: "eve"), now: "2026-01-02T00:00:00Z")
        let e = #expect(throws: BankError.self) {
            try bank.write { w in
                try w.createTwin(person("ann"))
                try w.createTwin(person("eve"))
            }
        }
        #expect(e?.code == .accessDenied)
        #expect(try bank.twinIDs().isEmpty)
    }

    @Test func recordNamesAreChecked() throws {
        let bank = try makeBank(.memory, now: "2026-01-02T00:00:00Z")
        for bad in ["", "a\u{0}b", "tab\there"] {
            let e = #expect(throws: BankError.self) {
                try bank.write { w in try w.storeRecordIfAbsent(named: bad, kind: "k", bytes: [1]) }
            }
            #expect(e?.code == .invalidRecordName)
            #expect(e?.value == bad)
        }
    }
}

/// `Bank.events(of:sequences:)`: what a follower of one twin reads on each poll.
@Suite struct FollowingATwinTests {
    @Test(arguments: StorageKind.allCases)
    func onlyTheTwinsNewEventsInTheRange(kind: StorageKind) throws {
        let bank = try makeBank(kind, now: "2026-01-02T00:00:00Z")
        try bank.createTwin(person("ann"))
        try bank.createTwin(person("bob"))
        try bank.append([obs("ann", "2026-01-01T08:00:00Z", 100), obs("bob", "2026-01-01T08:00:00Z", 90)])
        let seen = try bank.lastSequence()
        try bank.append([obs("bob", "2026-01-01T09:00:00Z", 95), obs("ann", "2026-01-01T09:00:00Z", 110, source: lab)])
        try bank.append([obs("ann", "2026-01-01T10:00:00Z", 120)])
        let new = try bank.events(of: "ann", sequences: (seen + 1)...bank.lastSequence())
        #expect(new.map(\.sequence) == [4, 5])
        #expect(new.allSatisfy { $0.twin == "ann" })
        // a retraction shows on the event it retracted
        let r = try bank.retract(source: lab, reason: "wrong strip")
        let after = try bank.events(of: "ann", sequences: (seen + 1)...bank.lastSequence())
        #expect(after.first { $0.sequence == 4 }?.retractedAtSequence == r.sequence)
        #expect(try bank.events(of: "ann", sequences: 100...200).isEmpty)
    }
}
