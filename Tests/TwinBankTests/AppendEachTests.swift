import Foundation
import Testing
import TwinBank
import TwinCore
import TwinTesting

/// `Bank.appendEach`: several batches in one transaction answer exactly as the appends one after the other would.
@Suite struct AppendEachTests {
    let p1 = try! TwinID("p1"), p2 = try! TwinID("p2")

    func bank(_ kind: StorageKind, gate: any AccessGate = PermitAll()) throws -> Bank {
        let b = try makeBank(kind, gate: gate)
        try b.createTwin(person(p1))
        try b.createTwin(person(p2))
        return b
    }

    /// The batches of a stream: the third repeats the first's event (a duplicate), the fourth reuses the second's key
    /// with the same drafts (a replay), the fifth reuses it with other drafts (a conflict), the sixth is for a twin
    /// that does not exist.
    var requests: [AppendRequest] {
        [AppendRequest([obs(p1, "2025-12-31T10:00:00Z", 100), obs(p1, "2025-12-31T10:05:00Z", 104)]),
         AppendRequest([obs(p1, "2025-12-31T10:10:00Z", 110)], idempotencyKey: "msg-2"),
         AppendRequest([obs(p1, "2025-12-31T10:15:00Z", 115), obs(p1, "2025-12-31T10:00:00Z", 100)]),
         AppendRequest([obs(p1, "2025-12-31T10:10:00Z", 110)], idempotencyKey: "msg-2"),
         AppendRequest([obs(p1, "2025-12-31T10:20:00Z", 120)], idempotencyKey: "msg-2"),
         AppendRequest([obs(try! TwinID("nobody"), "2025-12-31T10:20:00Z", 120)]),
         AppendRequest([obs(p2, "2025-12-31T10:25:00Z", 90, "mmol/L")]),
         AppendRequest([obs(p2, "2025-12-31T10:30:00Z", 95)])]
    }

    @Test(arguments: StorageKind.allCases)
    func answersAsTheAppendsOneAfterTheOther(_ kind: StorageKind) throws {
        let together = try bank(kind)
        let answers = try together.appendEach(requests)
        let apart = try bank(kind)
        let expected: [Result<AppendResult, any Error>] = requests.map { r in Result { try apart.append(r.drafts, idempotencyKey: r.idempotencyKey) } }
        #expect(answers.count == expected.count)
        for (i, (a, e)) in zip(answers, expected).enumerated() {
            switch (a, e) {
            case (.success(let x), .success(let y)):
                // the same sequences and ids; recorded times differ only by the clock each bank read
                #expect(x.firstSequence == y.firstSequence && x.lastSequence == y.lastSequence && x.ids == y.ids && x.count == y.count, "batch \(i + 1)")
            case (.failure(let x as BankError), .failure(let y as BankError)):
                #expect(x.code == y.code && x.message == y.message, "batch \(i + 1)")
            default:
                Issue.record("batch \(i + 1): \(a) together, \(e) one after the other")
            }
        }
        // what each refused batch is
        let codes = answers.map { r -> String in if case .failure(let e as BankError) = r { return e.code.description } else { return "ok" } }
        #expect(codes[2] == BankError.Code.duplicateEvent.description)
        #expect(codes[4] == BankError.Code.idempotencyConflict.description)
        #expect(codes[5] == BankError.Code.unknownTwin.description)
        #expect(codes[0] == "ok" && codes[1] == "ok" && codes[6] == "ok" && codes[7] == "ok")
        // the replay answers the first use of its key: nothing appended twice
        if case .success(let second) = answers[1], case .success(let replay) = answers[3] { #expect(second == replay) } else { Issue.record("the key's batches") }
        // the threads hold the same events
        for twin in [p1, p2] {
            #expect(try together.events(ThreadQuery(twin: twin)).map(\.id) == apart.events(ThreadQuery(twin: twin)).map(\.id))
        }
        // recorded times strictly increase from batch to batch (the replay, the fourth, answers the second's)
        let recorded = answers.enumerated().compactMap { i, r -> Instant? in if i != 3, case .success(let a) = r, a.count > 0 { return a.recorded } else { return nil } }
        #expect(recorded.count == 4)
        #expect(zip(recorded, recorded.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test(arguments: StorageKind.allCases)
    func aRefusalOfTheGateIsItsBatchsAnswerOnly(_ kind: StorageKind) throws {
        let b = try bank(kind, gate: DenyTwin(denied: p2))
        let answers = try b.acting(as: "device", purpose: "care").appendEach([AppendRequest([obs(p1, "2025-12-31T10:00:00Z", 100)]),
                                        AppendRequest([obs(p2, "2025-12-31T10:00:00Z", 100)]),
                                        AppendRequest([obs(p1, "2025-12-31T10:05:00Z", 105)])])
        guard case .success(let first) = answers[0], case .failure(let denied as BankError) = answers[1], case .success(let third) = answers[2] else {
            Issue.record("answers: \(answers)"); return
        }
        #expect(denied.code == .accessDenied)
        #expect(third.firstSequence == first.lastSequence + 1)
        #expect(try unguarded(b).events(ThreadQuery(twin: p2)).isEmpty)
    }

    @Test func noBatchesWriteNothing() throws {
        let b = try bank(.memory)
        let before = try b.lastSequence()
        #expect(try b.appendEach([]).isEmpty)
        #expect(try b.lastSequence() == before)
    }
}

/// A gate that refuses the actor `device` writes to one twin.
struct DenyTwin: AccessGate {
    let denied: TwinID
    func authorize(_ request: AccessRequest) throws {
        if request.actor == "device", request.twin == denied, request.action == .write {
            throw BankError(.accessDenied, "access denied: \(request.actor) may not write twin \(denied)", value: request.actor)
        }
    }
}

/// The same bank's storage with a gate that permits everything (to look at what was written).
func unguarded(_ bank: Bank) -> Bank { Bank(storage: bank.storage, clock: bank.clock) }
