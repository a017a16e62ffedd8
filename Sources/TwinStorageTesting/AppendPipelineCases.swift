import Foundation
import Testing
import TwinBank
import TwinCore

/// `Bank.appendPipelined`: batches checked on one thread while earlier ones are written on another must be appended,
/// refused and authorised exactly as the same batches appended one after the other with `Bank.append`.
extension StorageConformance {
    /// `count` readings of `twin` a minute apart from `minute` (before the suite's clock), the codes in turn.
    static func readings(_ twin: TwinID, from minute: Int, count: Int, codes: [(Concept, String)] = [(glucose, "mg/dL")],
                         value: (Int) -> Double = { 80 + Double($0 % 50) }) -> [EventDraft] {
        (minute..<(minute + count)).map { m in
            let (code, unit) = codes[m % codes.count]
            return EventDraft.observation(twin, at: t("2025-12-20T00:00:00Z").advanced(bySeconds: Double(m * 60)), code: code,
                                          Quantity(value(m), unit), source: cgm)
        }
    }

    /// Every event of the storage, in sequence order.
    static func allEvents(_ storage: any BankStorage) throws -> [Event] {
        try storage.read { tx in
            let last = try tx.lastSequence()
            return last == 0 ? [] : try tx.events(sequences: 1...last, limit: Int(last))
        }
    }

    /// The batches of the cases: one twin's block, a mix of twins and codes (a second unit of glucose that converts, a
    /// code's first unit), an empty batch, a single implausible event (flagged), a long block with a flagged value.
    static var pipelineBatches: [[EventDraft]] {
        let mixed = zip(readings("alice", from: 100, count: 30, codes: [(glucose, "mmol/L")], value: { 4 + Double($0 % 30) / 10 }),
                        readings("bob", from: 100, count: 30, codes: [(heartRate, "/min")])).flatMap { [$0, $1] }
        return [
            readings("alice", from: 0, count: 40),
            mixed,
            [],
            [EventDraft.observation("bob", at: t("2025-12-21T00:00:00Z"), code: heartRate, Quantity(900, "/min"), source: cgm)],
            readings("carol", from: 0, count: 300, codes: [(glucose, "mg/dL"), (heartRate, "/min")], value: { $0 == 77 ? 4000 : 90 }),
            readings("alice", from: 200, count: 5),
        ]
    }

    /// A bank on a fresh storage with the twins alice, bob, carol and mallory (created past `gate`), and the storage.
    static func pipelineBank(_ subject: StorageSubject, gate: any AccessGate = PermitAll()) throws -> (Bank, any BankStorage) {
        let storage = try subject.make()
        let setup = Bank(storage: storage, clock: ManualClock(t("2026-01-01T00:00:00Z")))
        for id: TwinID in ["alice", "bob", "carol", "mallory"] { try setup.createTwin(person(id)) }
        return (Bank(storage: storage, gate: gate, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000)), storage)
    }

    static func pipelinedAppendIsSequentialAppend(_ subject: StorageSubject) throws {
        let batches = pipelineBatches
        let (sequential, sequentialStorage) = try pipelineBank(subject)
        let expected = try batches.map { try sequential.append($0) }
        #expect(expected.map(\.count) == [40, 60, 0, 1, 300, 5])
        #expect(expected[3].flagged.count == 1 && expected[4].flagged.count == 1)
        for depth in [1, 2, 5] {
            let (pipelined, pipelinedStorage) = try pipelineBank(subject)
            var acks: [PipelinedAppend] = []
            let appended = try pipelined.appendPipelined(batches, depth: depth) { ack in
                // each batch is acknowledged only once its transaction has committed: readable from another transaction
                let committed = try pipelinedStorage.read { try $0.lastSequence() }
                #expect(committed == ack.result.lastSequence)
                acks.append(ack)
            }
            #expect(appended == batches.count)
            #expect(acks.map(\.batch) == Array(1...batches.count))
            // the same answers (sequence numbers, recorded times, ids, flagged rows) and the same thread, event for event
            #expect(acks.map(\.result) == expected, "depth \(depth)")
            #expect(try allEvents(pipelinedStorage) == allEvents(sequentialStorage), "depth \(depth)")
            #expect(try pipelinedStorage.read { try $0.units() } == sequentialStorage.read { try $0.units() })
        }
    }

    static func pipelinedAppendStopsAtAFailingBatch(_ subject: StorageSubject) throws {
        let b1 = readings("alice", from: 0, count: 20), b2 = readings("bob", from: 0, count: 20)
        let later = [readings("alice", from: 100, count: 20), readings("carol", from: 0, count: 20)]
        let failing: [(String, [EventDraft], BankError.Code)] = [
            // found only in the transaction: batch 1 stored it
            ("an event batch 1 appended", readings("alice", from: 10, count: 3), .duplicateEvent),
            // found by the checks
            ("an unknown twin", readings("nobody", from: 0, count: 3), .unknownTwin),
            ("a unit that does not convert to the first one", readings("carol", from: 0, count: 3, codes: [(glucose, "mm[Hg]")]), .unitMismatch),
            ("an observation in the future", [EventDraft.observation("carol", at: t("2027-01-01T00:00:00Z"), code: glucose, Quantity(90, "mg/dL"), source: cgm)], .futureObservation),
        ]
        for (what, b3, code) in failing {
            let (sequential, sequentialStorage) = try pipelineBank(subject)
            _ = try sequential.append(b1); _ = try sequential.append(b2)
            var refusal: BankError?
            do { _ = try sequential.append(b3) } catch let e as BankError { refusal = e }
            #expect(refusal?.code == code, "\(what)")

            let (pipelined, pipelinedStorage) = try pipelineBank(subject)
            var acks: [Int] = []
            do {
                try pipelined.appendPipelined([b1, b2, b3] + later) { acks.append($0.batch) }
                Issue.record("batch 3 with \(what) was appended")
            } catch let e as AppendPipelineError {
                #expect(e.batch == 3, "\(what)")
                #expect(e.code == code, "\(what): \(e)")
                #expect((e.error as? BankError)?.value == refusal?.value, "\(what)")
            }
            #expect(acks == [1, 2], "\(what)")
            // batches 1 and 2 are written as the sequential appends wrote them; nothing of batch 3 or after
            #expect(try allEvents(pipelinedStorage) == allEvents(sequentialStorage), "\(what)")
            #expect(try pipelinedStorage.read { try $0.lastSequence() } == 40, "\(what)")
        }
    }

    /// Records every request and denies those on `mallory`.
    final class RecordingGate: AccessGate, @unchecked Sendable {
        private let lock = NSLock()
        private var asked: [String] = []
        var requests: [String] { lock.withLock { asked } }
        func authorize(_ request: AccessRequest) throws {
            lock.withLock { asked.append("\(request.action) \(request.twin?.rawValue ?? "-")") }
            if request.twin == "mallory" { throw BankError(.accessDenied, "mallory's data is not yours", value: "mallory") }
        }
    }

    static func pipelinedAppendAsksTheGatePerBatch(_ subject: StorageSubject) throws {
        let batches = [readings("alice", from: 0, count: 5) + readings("bob", from: 0, count: 5), [], readings("bob", from: 10, count: 5),
                       readings("alice", from: 10, count: 5), readings("mallory", from: 0, count: 5), readings("carol", from: 0, count: 5)]
        let sequentialGate = RecordingGate()
        let (sequential, sequentialStorage) = try pipelineBank(subject, gate: sequentialGate)
        var refused = 0
        for (i, b) in batches.enumerated() {
            do { _ = try sequential.append(b) } catch { refused = i + 1; break }
        }
        #expect(refused == 5)

        let gate = RecordingGate()
        let (pipelined, pipelinedStorage) = try pipelineBank(subject, gate: gate)
        var acks: [Int] = []
        let failure5 = #expect(throws: AppendPipelineError.self) {
            try pipelined.appendPipelined(batches) { acks.append($0.batch) }
        }
        #expect(failure5?.batch == 5 && failure5?.code == .accessDenied, "\(String(describing: failure5))")
        // asked for every batch (a write on each of its twins, a read for the empty one), as the sequential appends
        // asked, and for none after the refused one
        #expect(gate.requests == sequentialGate.requests)
        #expect(gate.requests == ["write alice", "write bob", "read -", "write bob", "write alice", "write mallory"])
        #expect(acks == [1, 2, 3, 4])
        #expect(try allEvents(pipelinedStorage) == allEvents(sequentialStorage))
    }

    static func pipelinedAppendChecksAgainWhatChanged(_ subject: StorageSubject) throws {
        let batches = (0..<6).map { readings("alice", from: $0 * 10, count: 10) }
        // a change to the twin's record after batch 1 (batches 2 and 3 may be checked already): they are checked again
        // in their transactions, and appended
        let (pipelined, pipelinedStorage) = try pipelineBank(subject)
        var acks: [PipelinedAppend] = []
        try pipelined.appendPipelined(batches) { ack in
            if ack.batch == 1 { try pipelined.updateTwin(person("alice", ["height": .quantity(Quantity(170, "cm"))])) }
            acks.append(ack)
        }
        #expect(acks.map(\.result.firstSequence) == [1, 11, 21, 31, 41, 51])
        #expect(try allEvents(pipelinedStorage).map(\.id) == batches.flatMap { b in b.map { d in var h = EventHasher(); return h.hash(d) } })

        // the twin's existence moved after its readings of batch 3 on: refused as the sequential append refuses it
        let (moved, movedStorage) = try pipelineBank(subject)
        var movedAcks: [Int] = []
        let failure3 = #expect(throws: AppendPipelineError.self) {
            try moved.appendPipelined(batches) { ack in
                if ack.batch == 2 { try moved.updateTwin(person("alice", birth: "2025-12-20T00:25:00Z")) }
                movedAcks.append(ack.batch)
            }
        }
        #expect(failure3?.batch == 3 && failure3?.code == .beforeTwinExisted, "\(String(describing: failure3))")
        #expect(movedAcks == [1, 2])
        #expect(try movedStorage.read { try $0.lastSequence() } == 20)

        // a first unit recorded by another writer after batch 1: a later batch in a unit that does not convert to it
        // is refused (its checks may have run before that unit was recorded)
        let custom = Concept(system: "urn:test", code: "mass")
        let (other, otherStorage) = try pipelineBank(subject)
        var otherAcks: [Int] = []
        let unitBatches = [readings("alice", from: 0, count: 5), readings("bob", from: 0, count: 5, codes: [(custom, "m")]),
                           readings("bob", from: 10, count: 5)]
        let failure2 = #expect(throws: AppendPipelineError.self) {
            try other.appendPipelined(unitBatches) { ack in
                if ack.batch == 1 { try other.append(readings("carol", from: 0, count: 1, codes: [(custom, "kg")])) }
                otherAcks.append(ack.batch)
            }
        }
        #expect(failure2?.batch == 2 && failure2?.code == .unitMismatch, "\(String(describing: failure2))")
        #expect(otherAcks == [1])
        #expect(try otherStorage.read { try $0.unit(for: custom.key) } == "kg")
    }
}
