import Foundation
import Testing
@testable import TwinBank
import TwinCore

/// The fast streaming CSV import (issue 23 item 5): it reads field bytes instead of strings, parses times and
/// plain numbers from the bytes, looks codes, units and sources up by their bytes and checks plausibility with
/// a range chosen once per code and unit. These tests hold it to what the string-based path did.
@Suite struct CSVStreamingImportTests {
    func bankWithAlice(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        return bank
    }

    /// The rows as the string-based import read them: `CSVReader.next()` records, every field trimmed with
    /// Foundation's `.whitespaces`, each parsed by the general parsers (the code of `CSVThread.next()` before).
    func referenceDrafts(_ text: String, twin: TwinID, defaultSource: Source) throws -> [EventDraft] {
        let reader = CSVReader(text: text)
        var header: CSVReader.Record?
        repeat { header = try reader.next() } while header?.isBlank == true
        var index: [String: Int] = [:]
        for (i, f) in try #require(header).fields.enumerated() { index[f.trimmingCharacters(in: .whitespaces).lowercased()] = i }
        var out: [EventDraft] = []
        while let r = try reader.next() {
            if r.isBlank { continue }
            func field(_ c: String) -> String? { index[c].map { r.fields[$0].trimmingCharacters(in: .whitespaces) } }
            let effective = try EffectiveTime(parsing: field("time")!)
            let code = try Concept(parsing: field("code")!)
            let valueText = field("value")!, unit = field("unit") ?? ""
            let value: Value
            if let v = Double(valueText), v.isFinite { value = .quantity(Quantity(v, unit.isEmpty ? "1" : unit)) } else {
                value = try Value.parse(valueText, unit: unit)
            }
            var source = defaultSource
            if let s = field("source"), !s.isEmpty { source = try Source(parsing: s) }
            var category = Event.Category.observation
            if let c = field("category"), !c.isEmpty { category = try Event.Category(parsing: c) }
            out.append(EventDraft(twin: twin, effective: effective, category: category, code: code, value: value, source: source))
        }
        return out
    }

    /// Every kind of row: columns in another order and case, spaces and no-break spaces around fields, quoted
    /// fields, CRLF, zones and fractions in times, a period, numbers the byte parser reads and numbers it
    /// leaves to the general one (exponent, `+`, 16 digits, leading zeros), implausible values, text, dates,
    /// codes, booleans, vectors, sources, categories in any case, a duplicate row and a blank line.
    static let mixed = [
        "Code, TIME ,value,Unit,source,CATEGORY",
        "loinc:2339-0,2024-01-01T07:00:00Z,101.5,mg/dL,,",
        " loinc:8867-4 ,2024-01-01T07:01:00+02:00, 72 ,/min,device:watch-1,",
        "local:mood,2024-01-01T07:02Z,\"calm, then \"\"tired\"\"\",,person:self,annotation",
        "loinc:2339-0,2024-01-01 07:03:00.25Z,0.5e2,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:04:00Z,-0,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:05:00Z,007.250,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:06:00Z,+95,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:07:00Z,5000,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:08:00Z,6.1,mmol/L,,",
        "loinc:9059-7,2024-01-01T07:00:00Z/2024-01-01T07:20:00Z,45,g,,Intervention",
        "local:note,2024-01-01T07:09:00Z,text:hello,,,annotation",
        "local:flag,2024-01-01T07:10:00Z,true,,,annotation",
        "local:when,2024-01-01T07:11:00Z,2023-12-31,,,annotation",
        "local:code,2024-01-01T07:12:00Z,snomed:44054006,,,annotation",
        "local:vec,2024-01-01T07:13:00Z,\"[1,2,3]\",mV,,annotation",
        "\u{00A0}loinc:2339-0\u{00A0},2024-01-01T07:14:00Z,\u{00A0}120\u{00A0},mg/dL,,",
        "loinc:2339-0,2024-01-01T07:15:00Z,123456789012345,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:16:00Z,0.1234567890123456,mg/dL,,",
        "loinc:2339-0,2024-01-01T07:17:00Z,99.99999999999999,mg/dL,,",
        "local:score,2024-01-01T07:18:00Z,7,,,",
        "loinc:8867-4,2024-01-01T07:19:00Z,900,/min,device:watch-1,",
        "loinc:8867-4,2024-01-01T07:19:00Z,900,/min,device:watch-1,",
        "",
        "loinc:2339-0,2024-01-01T07:20:00Z,-3.5,mg/dL,device:cgm-7,observation",
        "local:café,2024-01-01T07:21:00Z,\"dîner à 19 h\",,,annotation",
        "",
    ].joined(separator: "\r\n")

    @Test func theFastPathReadsWhatTheStringPathRead() throws {
        let fast = try CSVThread.parse(Self.mixed, twin: "alice", defaultSource: cgm)
        let reference = try referenceDrafts(Self.mixed, twin: "alice", defaultSource: cgm)
        #expect(fast.count == 24)
        #expect(fast == reference)
        // Double equality does not see the sign of zero; the content hash does
        var h1 = EventHasher(), h2 = EventHasher()
        #expect(fast.map { h1.hash($0) } == reference.map { h2.hash($0) })
        #expect(fast[4].value?.quantity?.value.sign == .minus)
    }

    @Test(arguments: StorageKind.allCases)
    func theImportStoresTheEventsThatAppendStores(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let r = try bank.importCSV(twin: "alice", reader: CSVReader(text: Self.mixed, name: "mixed.csv"), defaultSource: cgm, batchSize: 5)
        let other = try bankWithAlice(kind)
        var reference = try referenceDrafts(Self.mixed, twin: "alice", defaultSource: cgm)
        reference.remove(at: 21) // the duplicate row, which the import skips
        let a = try other.append(reference)
        #expect(r.rows == 24 && r.count == 23 && r.skipped == 1)
        let mine = try bank.events(ThreadQuery(twin: "alice", includeImplausible: true))
        let theirs = try other.events(ThreadQuery(twin: "alice", includeImplausible: true))
        #expect(mine.map(\.id) == theirs.map(\.id))
        #expect(Set(mine.map(\.id)) == Set(a.ids))
        // the same rows flagged, for the same reasons (rows are lines of the file: the header is line 1)
        #expect(r.flagged.map(\.id) == a.flagged.map(\.id))
        #expect(r.flagged.map(\.reason) == a.flagged.map(\.reason))
        #expect(r.flagged.map(\.row) == [6, 7, 9, 18, 19, 22, 25])
    }

    @Test(arguments: StorageKind.allCases)
    func anErrorInTheLastRowLeavesNothingWritten(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        try bank.append([obs("alice", "2023-01-01T00:00Z", 100)])
        let before = try bank.lastSequence()
        var csv = "time,code,value,unit\n"
        let start = t("2024-01-01T00:00Z")
        for i in 0..<25_000 {
            let time = start.advanced(bySeconds: Double(i) * 60).iso8601
            csv += i % 2 == 0 ? "\(time),loinc:2339-0,\(90 + i % 50),mg/dL\n" : "\(time),loinc:8867-4,\(60 + i % 40),/min\n"
        }
        csv += "2024-03-01T00:00:00Z,loinc:8867-4,abc,/min\n"
        // two full batches of 10,000 are appended inside the transaction before the bad row is read
        #expect {
            try bank.importCSV(twin: "alice", reader: CSVReader(text: csv, name: "big.csv"), defaultSource: cgm)
        } throws: { error in
            guard let e = error as? BankError else { return false }
            return e.code == .invalidCSV && e.message.contains("big.csv: line 25002, column 'value'") && e.value == "abc"
        }
        #expect(try bank.lastSequence() == before)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 1)
    }

    @Test(arguments: StorageKind.allCases)
    func reimportSkipsAcrossBatchesOfAnySize(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        var csv = "time,code,value,unit,source\n"
        let start = t("2024-01-01T00:00Z")
        func row(_ i: Int) -> String {
            let time = start.advanced(bySeconds: Double(i) * 60).iso8601
            switch i % 3 {
            case 0: return "\(time),loinc:2339-0,\(90 + i % 50).5,mg/dL,\n"
            case 1: return "\(time),loinc:8867-4,\(60 + i % 40),/min,device:watch-\(i % 2)\n"
            default: return "\(time),local:mood,\(["calm", "tired"][i % 2]),,\n"
            }
        }
        for i in 0..<3000 { csv += row(i) }
        let first = try bank.importCSV(twin: "alice", reader: CSVReader(text: csv), defaultSource: cgm, batchSize: 1000)
        #expect(first.count == 3000 && first.skipped == 0)
        for i in 3000..<3500 { csv += row(i) }
        let again = try bank.importCSV(twin: "alice", reader: CSVReader(text: csv), defaultSource: cgm, batchSize: 777)
        #expect(again.rows == 3500 && again.count == 500 && again.skipped == 3000)
        #expect(again.firstSequence == first.lastSequence.map { $0 + 1 })
        let none = try bank.importCSV(twin: "alice", reader: CSVReader(text: csv), defaultSource: cgm)
        #expect(none.count == 0 && none.skipped == 3500)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 3500)
    }

    /// Whether a text is a plain decimal of at most 15 digits (`-?D+(.D+)?`), what the byte parser reads.
    func isPlainDecimal(_ s: String) -> Bool {
        var body = Substring(s)
        if body.hasPrefix("-") { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else { return false }
        return parts.map(\.count).reduce(0, +) <= 15
    }

    /// The byte parser of plain decimals gives exactly `Double(String)`'s value, bit for bit, and leaves
    /// everything else to it.
    @Test func decimalsAreReadAsDoubleReadsThem() {
        var state: UInt64 = 7
        func next(_ n: Int) -> Int { // a seeded SplitMix64, reduced to 0..<n
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
        var samples = ["0", "-0", "1", "-1", "0.1", "0.2", "0.3", "1.5", "101.5", "99.99999999999999", "123456789012345",
                       "0.00000000000001", "-999999999999999", "5.00000000000001", "9007199254740993", "1e5", "+1", ".5", "5.",
                       "1.2.3", "-", "", "1,5", "inf", "nan", "0x10", "12a", "--1", "1 ", "-.5", "٣"]
        for _ in 0..<50_000 {
            let digits = 1 + next(17)
            var s = (0..<digits).map { _ in String(next(10)) }.joined()
            if next(2) == 0, digits > 1 { s.insert(".", at: s.index(s.startIndex, offsetBy: 1 + next(digits - 1))) }
            if next(2) == 0 { s = "-" + s }
            samples.append(s)
        }
        for s in samples {
            let fast = Array(s.utf8).withUnsafeBufferPointer { CSVThread.decimal($0) }
            #expect((fast != nil) == isPlainDecimal(s), "\(s)")
            if let fast { #expect(fast.bitPattern == Double(s)?.bitPattern, "\(s)") }
        }
    }

    /// The checker a batch keeps per code and unit answers as `Plausibility.problem` does, at the bounds too.
    @Test func theRangeCheckerAgreesWithPlausibility() {
        let codes = ["2339-0", "15074-8", "4548-4", "8867-4", "9279-1", "8480-6", "8462-4", "29463-7", "8302-2", "8310-5", "39156-5", "59408-5", "1234-5"]
        let units = ["mg/dL", "mmol/L", "g/L", "%", "mmol/mol", "/min", "/h", "mm[Hg]", "kPa", "kg", "[lb_av]", "g", "cm", "[in_i]", "m",
                     "Cel", "[degF]", "K", "kg/m2", "1", "mV", "not a unit"]
        var values: [Double] = [0, -0.0, -1, 1, 1e6, -1e6, 1e15, 0.1, 36.6, 98.6, 300]
        for code in codes {
            for r in Plausibility.ranges(for: CodeKey(system: "http://loinc.org", code: code)) ?? [] {
                values += [r.low, r.high, r.low.nextDown, r.high.nextUp, (r.low + r.high) / 2]
            }
        }
        for code in codes {
            let concept = Concept.loinc(code)
            for unit in units {
                let checker = PlausibilityChecker(code: concept, unit: unit)
                for v in values {
                    #expect(checker.problem(v) == Plausibility.problem(.quantity(Quantity(v, unit)), for: concept), "\(code) \(v) \(unit)")
                }
            }
        }
    }

    /// The duplicate check's storage query: the content hashes of one twin's code in a time range, retracted
    /// rows included, other codes, twins and times left out, on every storage.
    @Test(arguments: StorageKind.allCases)
    func hashesOfACodeInARangeComeFromTheIndex(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        try bank.createTwin(person("bob"))
        let a = try bank.append([obs("alice", "2024-01-01T07:00Z", 100), obs("alice", "2024-01-01T08:00Z", 110, source: lab),
                                 obs("alice", "2024-01-01T09:00Z", 120), obs("alice", "2024-01-01T08:30Z", heartRate, 70, "/min"),
                                 obs("bob", "2024-01-01T08:00Z", 130)])
        try bank.retract(source: lab, reason: "wrong patient")
        let found = try bank.storage.read { try $0.eventHashes(twin: "alice", code: glucose.key, from: t("2024-01-01T07:30Z"), to: t("2024-01-01T09:00Z")) }
        #expect(found == [a.ids[1], a.ids[2]])
        let none = try bank.storage.read { try $0.eventHashes(twin: "carol", code: glucose.key, from: t("2024-01-01T00:00Z"), to: t("2024-01-02T00:00Z")) }
        #expect(none.isEmpty)
    }

    /// The hasher appends its integers a word at a time now: the encoding, and so every content hash, is the
    /// one it was (this id is what `thread append` printed for the reading before the change).
    @Test func contentHashesAreUnchanged() throws {
        var h = EventHasher()
        let reading = EventDraft(twin: "p", effective: EffectiveTime(t("2024-01-01T07:00:00Z")), code: try Concept(parsing: "loinc:2339-0"),
                                 value: .quantity(Quantity(101.5, "mg/dL")), source: Source(.device, "x"))
        #expect(h.hash(reading).hex == "81886feeea04a6b1dcea98744867cb9da15c18f3d9bcbae1f4fc18a367831c22")
    }
}
