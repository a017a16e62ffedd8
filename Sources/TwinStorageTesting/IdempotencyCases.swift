import Foundation
import Testing
import TwinBank
import TwinCore

/// Idempotency keys of append batches: kept by the storage, unique, read back; an append retried with its key
/// appends once.
extension StorageConformance {
    static func idempotencyKeysAreKeptAndUnique(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let digest = EventHasher.sha256([1, 2, 3])
        let keyed = BatchRecord(firstSequence: 1, lastSequence: 2, recorded: Instant(microseconds: 100),
                                idempotency: .init(key: "feed-7/batch-1", digest: digest))
        try s.write { try $0.append([event(1, eff: 1), event(2, eff: 2)], batch: keyed) }
        try s.write { try $0.append([event(3, eff: 3)], batch: BatchRecord(firstSequence: 3, lastSequence: 3, recorded: Instant(microseconds: 200))) }
        try s.read { (tx) throws in
            #expect(try tx.batch(idempotencyKey: "feed-7/batch-1") == keyed)
            #expect(try tx.batch(idempotencyKey: "feed-7/batch-2") == nil)
            #expect(try tx.batches(after: 0, limit: 10).map(\.idempotency) == [keyed.idempotency, nil])
        }
        // a second batch with the key is refused, and nothing of it is written
        #expect(throws: (any Error).self) {
            try s.write { try $0.append([event(4, eff: 4)], batch: BatchRecord(firstSequence: 4, lastSequence: 4, recorded: Instant(microseconds: 300),
                                                                             idempotency: .init(key: "feed-7/batch-1", digest: digest))) }
        }
        try s.read { (tx) throws in
            #expect(try tx.lastSequence() == 3)
            #expect(try tx.events(EventQuery(twin: "a", visibility: .all)).map(\.sequence) == [1, 2, 3])
        }
    }

    static func bankAppendIsIdempotentWithAKey(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice"))
        func reading(_ minute: Int, _ value: Double) -> EventDraft {
            EventDraft(twin: "alice", effective: EffectiveTime(t("2025-12-31T08:00:00Z").advanced(bySeconds: Double(minute * 60))),
                       code: glucose, value: .quantity(Quantity(value, "mg/dL")), source: cgm)
        }
        // the second reading is implausible: flagged, and the replay says so too
        let drafts = [reading(0, 95), reading(5, 4000)]
        let first = try bank.append(drafts, idempotencyKey: "cgm-upload-1")
        #expect(first.count == 2 && first.flagged.map(\.row) == [2])
        // a retry (the answer was lost): nothing appended, the first answer returned
        let retry = try bank.append(drafts, idempotencyKey: "cgm-upload-1")
        #expect(retry == first)
        #expect(try bank.lastSequence() == first.lastSequence)
        #expect(try bank.events(ThreadQuery(twin: "alice", includeImplausible: true)).count == 2)
        // the key with other drafts: refused, nothing written
        let conflict = try #require(throws: BankError.self) { try bank.append([reading(10, 101)], idempotencyKey: "cgm-upload-1") }
        #expect(conflict.code == .idempotencyConflict && conflict.value == "cgm-upload-1")
        #expect(try bank.lastSequence() == first.lastSequence)
        // bad keys are refused by name
        for bad in ["", String(repeating: "k", count: Bank.idempotencyKeyLimit + 1), "a\nb"] {
            let e = try #require(throws: BankError.self) { try bank.append([reading(15, 99)], idempotencyKey: bad) }
            #expect(e.code == .invalidIdempotencyKey)
        }
        // a new key appends; without a key, the same drafts are the duplicates they are
        #expect(try bank.append([reading(20, 99)], idempotencyKey: "cgm-upload-2").count == 1)
        #expect(throws: BankError.self) { try bank.append(drafts) }
    }
}
