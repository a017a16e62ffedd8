import Foundation
import Testing
@testable import TwinBank
import TwinCore

/// The two-thread CSV import (issue 23 item 5): rows are read and checked on one thread, one batch or two ahead of
/// the transaction that writes them; what it writes and refuses must be what the one-thread import did.
@Suite struct ImportPipelineTests {
    struct Failure: Error, Equatable { var at: Int }

    @Test func itemsArriveInOrderAndTheProducersErrorAfterThem() throws {
        let pipeline = ImportPipeline<Int>(depth: 2)
        pipeline.start { put in
            for i in 0..<1000 { guard put(i) else { return } }
            throw Failure(at: 1000)
        }
        var seen: [Int] = []
        #expect(throws: Failure(at: 1000)) { try pipeline.consume { seen.append($0) } }
        #expect(seen == Array(0..<1000))
    }

    @Test func aConsumersErrorStopsTheProducerBeforeItReturns() throws {
        let pipeline = ImportPipeline<Int>(depth: 2)
        let produced = Counter()
        pipeline.start { put in
            var i = 0
            // would run for ever: only the consumer's stop ends it
            while put(i) { produced.add(); i += 1 }
        }
        #expect(throws: Failure(at: 10)) {
            try pipeline.consume { i in if i == 10 { throw Failure(at: 10) } }
        }
        // consume returned only after the producer's thread ended: the count no longer moves, and the producer
        // never ran more than `depth` items (plus the one it was putting) ahead of the consumer
        let after = produced.value
        Thread.sleep(forTimeInterval: 0.05)
        #expect(produced.value == after)
        #expect(after <= 10 + 1 + 2)
    }

    @Test func aProducerWithNothingEndsTheConsumer() throws {
        let pipeline = ImportPipeline<Int>(depth: 1)
        pipeline.start { _ in }
        var count = 0
        try pipeline.consume { _ in count += 1 }
        #expect(count == 0)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }

    /// The checks keep what they learnt across batches: the first unit of a code set by an early batch, or
    /// recorded in the bank before the import, decides what later batches may use; an error in a late batch
    /// names its line and leaves nothing written, the first units included.
    @Test(arguments: StorageKind.allCases)
    func firstUnitsHoldAcrossBatches(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        // the bank records heart rate in /min already; glucose is new
        try bank.append([obs("alice", "2023-01-01T00:00Z", heartRate, 60, "/min")])
        var csv = "time,code,value,unit\n"
        let start = t("2024-01-01T00:00Z")
        for i in 0..<40 {
            let time = start.advanced(bySeconds: Double(i) * 60).iso8601
            // glucose first in mg/dL, later batches in mmol/L (convertible): all accepted
            csv += i % 2 == 0 ? "\(time),loinc:2339-0,\(i < 20 ? "\(90 + i)" : "5.\(i % 10)"),\(i < 20 ? "mg/dL" : "mmol/L")\n"
                              : "\(time),loinc:8867-4,\(60 + i),/min\n"
        }
        let r = try bank.importCSV(twin: "alice", reader: CSVReader(text: csv, name: "u.csv"), defaultSource: cgm, batchSize: 3)
        #expect(r.count == 40)
        #expect(try bank.storage.read { try $0.units() } == [glucose.key: "mg/dL", heartRate.key: "/min"])

        // a second bank: the glucose unit of batch 1 is new; batch 5 has a unit that does not convert to it
        let other = try makeBank(kind)
        try other.createTwin(person("alice"))
        var bad = "time,code,value,unit\n"
        for i in 0..<14 { bad += "\(start.advanced(bySeconds: Double(i) * 60).iso8601),loinc:2339-0,\(90 + i),mg/dL\n" }
        bad += "\(start.advanced(bySeconds: 3600).iso8601),loinc:2339-0,90,mmol/mol\n"
        #expect {
            try other.importCSV(twin: "alice", reader: CSVReader(text: bad, name: "bad.csv"), defaultSource: cgm, batchSize: 3)
        } throws: { error in
            guard let e = error as? BankError else { return false }
            return e.code == .unitMismatch && e.message.hasPrefix("bad.csv: line 16") && e.value == "mmol/mol"
        }
        #expect(try other.lastSequence() == 0)
        #expect(try other.storage.read { try $0.units() }.isEmpty)
    }

    /// An import for an unknown twin is refused at its first row, as before.
    @Test func anUnknownTwinIsNamed() throws {
        let bank = try makeBank(.memory)
        #expect {
            try bank.importCSV(twin: "nobody", reader: CSVReader(text: "time,code,value,unit\n2024-01-01T00:00:00Z,loinc:8867-4,60,/min\n", name: "x.csv"), defaultSource: cgm)
        } throws: { error in
            guard let e = error as? BankError else { return false }
            return e.code == .unknownTwin && e.message.contains("x.csv: line 2") && e.value == "nobody"
        }
    }
}
