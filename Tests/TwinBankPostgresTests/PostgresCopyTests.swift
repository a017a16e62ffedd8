import Foundation
import NIOCore
import TwinBank
import TwinCore
import TwinTesting
import Testing
@testable import TwinBankPostgres

/// The `COPY` text rows ingest sends (no server needed): integers are written digit by digit into the buffer.
@Suite struct PostgresCopyTests {
    static func row(_ write: (inout CopyTextRow) -> Void) -> String {
        var w = CopyTextRow(into: ByteBuffer())
        write(&w)
        w.end()
        return String(buffer: w.buffer)
    }

    @Test(arguments: [Int64(0), 1, -1, 9, 10, -10, 1_234_567_890, 1_733_500_800_000_000, -1_733_500_800_000_000, .max, .min])
    func integersAsDecimal(_ v: Int64) {
        #expect(PostgresCopyTests.row { $0.int(v) } == "\(v)\n")
    }

    @Test func fieldsSeparatedAndEscaped() {
        let text = PostgresCopyTests.row { w in
            w.int(Int64(42)); w.int(Int64?.none); w.double(2.5); w.text("a\tb\\c\nd"); w.bytes([0x00, 0xAB] as [UInt8]); w.int(Int64(-7))
        }
        #expect(text == "42\t\\N\t2.5\ta\\tb\\\\c\\nd\t\\\\x00ab\t-7\n")
    }
}

/// A write transaction remembers the last sequence number and recorded time it read or wrote (no round trip for the
/// bank's repeated asks): what it answers follows its own appends, and a later transaction reads the same.
@Suite struct PostgresWriteTransactionMemoryTests {
    static func events(_ seqs: ClosedRange<Int64>, recorded: Int64) -> [Event] {
        seqs.map { seq in
            var h = EventHasher()
            let d = EventDraft(twin: "a", effective: EffectiveTime(Instant(microseconds: seq * 10)), code: .loinc("2339-0", "Glucose"),
                               value: .quantity(Quantity(Double(seq), "mg/dL")), source: Source(.device, "cgm"))
            return Event(id: h.hash(d), twin: "a", effective: d.effective, recorded: Instant(microseconds: recorded), sequence: seq,
                         category: d.category, code: d.code, value: d.value, source: d.source, provenance: d.provenance)
        }
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipMessage)))
    func lastSequenceAndRecordedFollowTheTransactionsAppends() throws {
        let scratch = try ScratchDatabases()
        defer { scratch.dropAll() }
        let storage = try PostgresStorage(location: try scratch.create())
        defer { storage.close() }
        try storage.write { (tx) throws in
            #expect(try tx.lastSequence() == 0)
            #expect(try tx.lastRecorded() == nil)
            try tx.append(Self.events(1...2, recorded: 1000), batch: BatchRecord(firstSequence: 1, lastSequence: 2, recorded: Instant(microseconds: 1000)))
            #expect(try tx.lastSequence() == 2)
            #expect(try tx.lastRecorded() == Instant(microseconds: 1000))
            try tx.append(Self.events(3...5, recorded: 2000), batch: BatchRecord(firstSequence: 3, lastSequence: 5, recorded: Instant(microseconds: 2000)))
            #expect(try tx.lastSequence() == 5)
            #expect(try tx.lastRecorded() == Instant(microseconds: 2000))
        }
        try storage.write { (tx) throws in
            #expect(try tx.lastSequence() == 5)
            #expect(try tx.lastRecorded() == Instant(microseconds: 2000))
            // an append that is refused (its sequence numbers repeat stored ones) leaves the next transaction's answers alone
            #expect(throws: (any Error).self) {
                try tx.append(Self.events(5...6, recorded: 3000), batch: BatchRecord(firstSequence: 5, lastSequence: 6, recorded: Instant(microseconds: 3000)))
            }
        }
        try storage.read { (tx) throws in
            #expect(try tx.lastSequence() == 5)
            #expect(try tx.lastRecorded() == Instant(microseconds: 2000))
        }
        try storage.read { (tx) throws in #expect(try tx.events(EventQuery(twin: "a")).map(\.sequence) == [1, 2, 3, 4, 5]) }
    }
}
