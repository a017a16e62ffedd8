import Foundation
import Testing
import TwinBank
import TwinCore

/// Bad values, their removal and CSV import at the bank (issue 22, defects 6 and 7), on every storage.
@Suite struct ThreadInputTests {
    func bankWithAlice(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        try bank.createTwin(person("alice"))
        return bank
    }

    // MARK: Defect 6: values

    @Test(arguments: StorageKind.allCases)
    func aValueOfTheWrongTypeWritesNothing(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        for value in [Value.text("abc"), .text("abc mg/dL"), .boolean(true)] {
            let d = EventDraft(twin: "alice", effective: EffectiveTime(t("2024-01-01T07:00Z")), code: glucose, value: value, source: cgm)
            expectBankError(.invalidEvent, naming: value.description) { try bank.append([obs("alice", "2024-01-01T06:00Z", 100), d]) }
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
        // an annotation may carry text on any code
        try bank.append([EventDraft(twin: "alice", effective: EffectiveTime(t("2024-01-01T07:00Z")), category: .annotation, code: glucose,
                                    value: .text("sensor fell off"), source: cgm)])
    }

    @Test(arguments: StorageKind.allCases)
    func implausibleValuesAreKeptFlaggedAndOutOfModelInputs(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let r = try bank.append([obs("alice", "2024-01-01T07:00Z", 110), obs("alice", "2024-01-01T07:05Z", 5000),
                                 obs("alice", "2024-01-01T07:10Z", 6.5)])
        #expect(r.count == 3)
        #expect(r.flagged.map(\.row) == [2, 3])
        #expect(r.flagged[0].reason.contains("5000 mg/dL") && r.flagged[0].reason.contains("10-1500 mg/dL"))
        // listed (flagged) in a general query, left out of an observation query and of the state
        let all = try bank.events(ThreadQuery(twin: "alice"))
        #expect(all.count == 3)
        #expect(all.filter(\.isFlaggedImplausible).map { $0.value?.quantity?.value } == [5000, 6.5])
        #expect(all[1].provenance.notes?.hasPrefix(Provenance.implausibleFlag) == true)
        let inputs = try bank.events(ThreadQuery(twin: "alice", code: glucose.key, category: .observation))
        #expect(inputs.map { $0.value?.quantity?.value } == [110])
        #expect(inputs.allSatisfy { $0.isModelInput })
        #expect(try bank.state(of: "alice", code: glucose.key, category: .observation).first?.value == .quantity(Quantity(110, "mg/dL")))
        #expect(try bank.events(ThreadQuery(twin: "alice", category: .observation, includeImplausible: true)).count == 3)
        #expect(try bank.effectiveRange(of: "alice") == t("2024-01-01T07:00Z")...t("2024-01-01T07:00Z"))
    }

    // MARK: Defect 6: retraction

    @Test(arguments: StorageKind.allCases)
    func retractOneEventBySequenceOrId(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let r = try bank.append([obs("alice", "2024-01-01T07:00Z", 110), obs("alice", "2024-01-01T07:05Z", 120),
                                 obs("alice", "2024-01-01T07:10Z", 130)])
        let one = try bank.retract(event: .sequence(r.firstSequence + 1), reason: "typed 120 for 102")
        #expect(one.eventsRetracted == 1 && one.events == [r.ids[1]] && one.twins == ["alice"])
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).map { $0.value?.quantity?.value } == [110, 130])
        // the history still knows it
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key, knownAtSequence: r.lastSequence)).count == 3)
        let retraction = try bank.events(ThreadQuery(twin: "alice", category: .retraction))
        #expect(retraction.count == 1 && retraction[0].value == .text("typed 120 for 102") && retraction[0].provenance.derivedFrom == [r.ids[1]])
        // by id prefix
        let byID = try bank.retract(event: try EventReference(parsing: String(r.ids[2].hex.prefix(12))), reason: "sensor")
        #expect(byID.events == [r.ids[2]])
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 1)
        expectBankError(.invalidEvent, naming: "sequence \(r.firstSequence + 1)") { try bank.retract(event: .sequence(r.firstSequence + 1), reason: "again") }
        expectBankError(.invalidEvent, naming: "999") { try bank.retract(event: .sequence(999), reason: "x") }
        #expect(throws: BankError.self) { try bank.retract(event: .sequence(r.firstSequence), reason: "  ") }
        #expect(throws: BankError.self) { try EventReference(parsing: "xyz") }
        #expect(try EventReference(parsing: "42") == .sequence(42))
        #expect(try EventReference(parsing: "ABCDEF12") == .id("abcdef12"))
    }

    @Test(arguments: StorageKind.allCases)
    func retractATimeRangeOfASource(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        try bank.createTwin(person("bob"))
        try bank.append([obs("alice", "2024-01-01T07:00Z", 110), obs("alice", "2024-01-01T08:00Z", 120),
                         obs("alice", "2024-01-01T09:00Z", 130), obs("alice", "2024-01-01T08:30Z", 125, source: lab),
                         obs("bob", "2024-01-01T08:15Z", 140)])
        let r = try bank.retract(source: cgm, from: t("2024-01-01T08:00Z"), to: t("2024-01-01T08:59Z"), reason: "sensor off the skin")
        #expect(r.eventsRetracted == 2 && r.twins == ["alice", "bob"])
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).map { $0.value?.quantity?.value } == [110, 125, 130])
        #expect(try bank.events(ThreadQuery(twin: "bob", code: glucose.key)).isEmpty)
        // one twin only; nothing left in the range
        expectBankError(.invalidEvent, naming: "device:cgm-7") {
            try bank.retract(source: cgm, from: t("2024-01-01T08:00Z"), to: t("2024-01-01T08:59Z"), twin: "alice", reason: "x")
        }
        #expect(throws: BankError.self) { try bank.retract(source: cgm, from: t("2024-01-02"), to: t("2024-01-01"), reason: "x") }
        // erasure of a range purges payloads
        let erased = try bank.retract(source: cgm, from: t("2024-01-01T09:00Z"), to: t("2024-01-01T09:00Z"), twin: "alice", reason: "privacy", erase: true)
        #expect(erased.eventsRetracted == 1)
        let tomb = try bank.events(ThreadQuery(twin: "alice", code: glucose.key, includeRetracted: true)).first { $0.effective.start == t("2024-01-01T09:00Z") }
        #expect(tomb?.isErased == true && tomb?.value == nil)
    }

    /// A retraction through a ``BankWriter`` commits with the transaction's other writes and the checks made before
    /// it, or not at all: a precondition that throws after it leaves nothing retracted and no retraction event.
    @Test(arguments: StorageKind.allCases)
    func aWritersRetractionCommitsWithItsTransactionOrNotAtAll(kind: StorageKind) throws {
        struct Stale: Error {}
        let bank = try bankWithAlice(kind)
        let r = try bank.append([obs("alice", "2024-01-01T07:00Z", 110), obs("alice", "2024-01-01T08:00Z", 120), obs("alice", "2024-01-01T09:00Z", 130)])
        let before = try bank.lastSequence()
        // the check fails after the retraction: nothing of the transaction stays
        #expect(throws: Stale.self) {
            try bank.write { w in
                let one = try w.retract(event: .sequence(r.firstSequence), reason: "typo", twin: "alice")
                #expect(one.eventsRetracted == 1)
                // the writer's reads see the retraction made before them
                #expect(try w.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 2)
                throw Stale()
            }
        }
        #expect(try bank.lastSequence() == before)
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 3)
        #expect(try bank.events(ThreadQuery(twin: "alice", category: .retraction)).isEmpty)
        #expect(throws: Stale.self) {
            try bank.write { w in
                _ = try w.retract(source: cgm, from: t("2024-01-01T08:00Z"), to: t("2024-01-01T09:00Z"), twin: "alice", reason: "sensor off")
                throw Stale()
            }
        }
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 3)
        // a check that holds: the precondition's read, the retraction and an append commit together
        let done = try bank.write { w in
            guard try w.events(ThreadQuery(twin: "alice", code: glucose.key)).count == 3 else { throw Stale() }
            let range = try w.retract(source: cgm, from: t("2024-01-01T08:00Z"), to: t("2024-01-01T09:00Z"), twin: "alice", reason: "sensor off")
            try w.append([obs("alice", "2024-01-01T08:30Z", 125, source: lab)])
            return range
        }
        #expect(done.eventsRetracted == 2 && done.twins == ["alice"])
        #expect(try bank.events(ThreadQuery(twin: "alice", code: glucose.key)).map { $0.value?.quantity?.value } == [110, 125])
        // the writer's checks are the bank's: a blank reason, a range ending before it starts, nothing to retract
        #expect(throws: BankError.self) { try bank.write { w in try w.retract(event: .sequence(r.firstSequence), reason: " ") } }
        #expect(throws: BankError.self) { try bank.write { w in try w.retract(source: cgm, from: t("2024-01-02"), to: t("2024-01-01"), reason: "x") } }
        expectBankError(.invalidEvent, naming: "sequence \(r.firstSequence + 1)") {
            _ = try bank.write { w in try w.retract(event: .sequence(r.firstSequence + 1), reason: "again", twin: "alice") }
        }
    }

    // MARK: Defect 7: CSV

    @Test(arguments: StorageKind.allCases)
    func csvByHeaderWithCategoryCRLFAndSemicolons(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let csv = "\u{FEFF}Value;Unit;Time;Code;Category\r\n110;mg/dL;2024-01-01T07:00Z;loinc:2339-0;\r\n45;g;2024-01-01T07:30Z;loinc:9059-7;intervention\r\n\"hello; \"\"world\"\"\";;2024-01-01T08:00Z;local:note;annotation\r\n"
        let r = try bank.importCSV(twin: "alice", text: csv, defaultSource: Source(.import, "x.csv"))
        #expect(r.count == 3 && r.rows == 3 && r.skipped == 0)
        let meals = try bank.events(ThreadQuery(twin: "alice", category: .intervention))
        #expect(meals.map(\.value) == [.quantity(Quantity(45, "g"))])
        #expect(try bank.events(ThreadQuery(twin: "alice", category: .annotation)).first?.value == .text("hello; \"world\""))
        #expect(try bank.events(ThreadQuery(twin: "alice", category: .observation)).first?.source == Source(.import, "x.csv"))
    }

    @Test(arguments: StorageKind.allCases)
    func aGrowingExportAddsOnlyWhatIsNew(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        var csv = "time,code,value,unit,source\n"
        for i in 0..<30 { csv += "2024-01-01T07:\(10 + i):00Z,loinc:2339-0,\(100 + i),mg/dL,device:cgm-7\n" }
        let first = try bank.importCSV(twin: "alice", text: csv, defaultSource: cgm)
        #expect(first.count == 30)
        for i in 30..<40 { csv += "2024-01-01T07:\(10 + i):00Z,loinc:2339-0,\(100 + i),mg/dL,device:cgm-7\n" }
        // small batches: the already-imported rows are found through the bank's index across batches
        let again = try bank.importCSV(twin: "alice", reader: CSVReader(text: csv), defaultSource: cgm, batchSize: 7)
        #expect(again.count == 10 && again.skipped == 30 && again.rows == 40)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 40)
        let none = try bank.importCSV(twin: "alice", text: csv, defaultSource: cgm)
        #expect(none.count == 0 && none.skipped == 40 && none.firstSequence == nil)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 40)
    }

    @Test(arguments: [
        ("time,code,value,colour\n2024-01-01,loinc:2339-0,1,red\n", "'colour'"),
        ("time,code,unit\n2024-01-01,loinc:2339-0,mg/dL\n", "missing required column 'value'"),
        ("time,code,value,value\n", "appears twice"),
        ("time,code,value,unit\n", "no rows"),
        ("", "is empty"),
        ("time,code,value,unit\n2024-01-01T07:00Z,loinc:2339-0,100,mg/dL\n2024-01-01T25:00Z,loinc:2339-0,100,mg/dL\n", "line 3, column 'time'"),
        ("time,code,value,unit\n2024-01-01T07:00Z,loinc:2339-0,100\n", "line 2: expected 4 fields"),
        ("time;code;value;unit\n2024-01-01T07:00Z;loinc:2339-0;abc;mg/dL\n", "t.csv: line 2"),
        ("time,code,value,unit,category\n2024-01-01T07:00Z,loinc:2339-0,100,mg/dL,meal\n", "line 2, column 'category'"),
    ])
    func badFilesAreRefusedNamingWhere(text: String, expected: String) throws {
        let bank = try bankWithAlice(.memory)
        #expect {
            try bank.importCSV(twin: "alice", reader: CSVReader(text: text, name: "t.csv"), defaultSource: cgm)
        } throws: { error in
            guard let e = error as? BankError else { return false }
            return e.message.contains(expected)
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
    }
}
