import Foundation
import Testing
import TwinBank
import TwinCore

/// Validation at every door (issue 23, item 4): values that do not fit their code, absurd magnitudes and
/// observations from the future, at the bank (`append`, `importCSV`), on every storage.
@Suite struct ThreadDoorTests {
    /// A bank whose clock reads 2026-01-01T00:00Z (and steps a second per reading), with alice.
    func bankWithAlice(_ kind: StorageKind, skew: Double = Bank.defaultObservationSkew) throws -> Bank {
        let bank = Bank(storage: try kind.make(), clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000),
                        observationSkew: skew)
        try bank.createTwin(person("alice"))
        return bank
    }

    // MARK: observations from the future

    @Test(arguments: StorageKind.allCases)
    func anObservationBeyondTheClockIsRefusedNamingRowTimeAndClock(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        #expect {
            try bank.append([obs("alice", "2024-01-01T07:00Z", 110), obs("alice", "2099-01-01T07:00Z", 120)])
        } throws: { e in
            guard let e = e as? BankError else { return false }
            return e.code == .futureObservation && e.value == "2099-01-01T07:00:00Z" && e.message.hasPrefix("row 2:")
                && e.message.contains("2099-01-01T07:00:00Z") && e.message.contains("2026-01-01T00:00")
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
    }

    @Test(arguments: StorageKind.allCases)
    func theSkewAllowsAClockAFewMinutesAhead(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        #expect(bank.observationSkew == 300)
        // 4 minutes ahead of the bank's clock: within the 5-minute skew
        #expect(try bank.append([obs("alice", "2026-01-01T00:04:00Z", 110)]).count == 1)
        // 10 minutes ahead: refused
        expectBankError(.futureObservation, naming: "2026-01-01T00:10:00Z") {
            try bank.append([obs("alice", "2026-01-01T00:10:00Z", 110)])
        }
        // a period whose end lies ahead is not observed yet either
        let period = EventDraft(twin: "alice", effective: EffectiveTime(t("2025-12-31T00:00Z"), end: t("2026-01-02T00:00Z")), category: .observation,
                                code: glucose, value: .quantity(Quantity(120, "mg/dL")), source: cgm)
        expectBankError(.futureObservation, naming: "2026-01-02T00:00:00Z") { try bank.append([period]) }
        // a bank with no skew refuses one minute ahead
        let strict = try bankWithAlice(kind, skew: 0)
        expectBankError(.futureObservation, naming: "2026-01-01T00:01:00Z") {
            try strict.append([obs("alice", "2026-01-01T00:01:00Z", 110)])
        }
        #expect(try strict.events(ThreadQuery(twin: "alice")).isEmpty)
    }

    @Test(arguments: StorageKind.allCases)
    func predictionsAndPlannedInterventionsMayLieInTheFuture(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let later = EffectiveTime(t("2026-06-01T08:00Z"))
        let r = try bank.append([
            EventDraft(twin: "alice", effective: later, category: .prediction, code: glucose, value: .quantity(Quantity(130, "mg/dL")), source: Source(.model, "m")),
            EventDraft(twin: "alice", effective: later, category: .intervention, code: Concept.loinc("9059-7"), value: .quantity(Quantity(45, "g")), source: cgm),
        ])
        #expect(r.count == 2)
        // the clock's reading taken for the check is the batch's recorded time: one reading per batch, as before
        let a = try bank.append([obs("alice", "2024-01-01T07:00Z", 110)])
        let b = try bank.append([obs("alice", "2024-01-01T08:00Z", 120)])
        #expect(b.recorded == a.recorded.advanced(bySeconds: 1) && a.recorded == r.recorded.advanced(bySeconds: 1))
    }

    @Test(arguments: StorageKind.allCases)
    func aCSVObservationFromTheFutureNamesItsLineAndWritesNothing(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let csv = "time,code,value,unit\n2024-01-01T07:00Z,loinc:8867-4,70,/min\n2099-01-01T07:00Z,loinc:8867-4,72,/min\n"
        #expect {
            try bank.importCSV(twin: "alice", text: csv, defaultSource: cgm)
        } throws: { e in
            (e as? BankError)?.code == .futureObservation && (e as? BankError)?.message.hasPrefix("text: line 3") == true
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
    }

    // MARK: magnitudes

    @Test(arguments: StorageKind.allCases)
    func anAbsurdMagnitudeIsRefusedForAnyCode(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        // heart rate 1e308 /min: far beyond its plausible range and any sane magnitude
        expectBankError(.invalidEvent, naming: "1e+308") {
            try bank.append([obs("alice", "2024-01-01T06:00Z", 100), obs("alice", "2024-01-01T07:00Z", heartRate, 1e308, "/min")])
        }
        // a code the bank knows nothing about, and a vector
        expectBankError(.invalidEvent, naming: "-2e+16") {
            try bank.append([obs("alice", "2024-01-01T07:00Z", Concept(system: "urn:x", code: "y"), -2e16, "mg")])
        }
        let vector = EventDraft(twin: "alice", effective: EffectiveTime(t("2024-01-01T07:00Z")), code: Concept(system: "urn:x", code: "ecg"),
                                value: .vector(Vector([1, 2e16], unit: "mV")), source: cgm)
        expectBankError(.invalidEvent, naming: "2e+16") { try bank.append([vector]) }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
        // up to 1e15 in its unit is accepted (red cells are about 5e12 /L)
        #expect(try bank.append([obs("alice", "2024-01-01T07:00Z", Concept.loinc("789-8"), 5e12, "/L")]).count == 1)
        // a heart rate outside its plausible range but of a sane magnitude is kept, flagged
        let r = try bank.append([obs("alice", "2024-01-01T08:00Z", heartRate, 400, "/min")])
        #expect(r.flagged.map(\.row) == [1] && r.flagged[0].reason.contains("10-350 /min"))
    }

    @Test(arguments: StorageKind.allCases)
    func aCSVAbsurdMagnitudeNamesItsLine(kind: StorageKind) throws {
        let bank = try bankWithAlice(kind)
        let csv = "time,code,value,unit\n2024-01-01T07:00Z,loinc:8867-4,70,/min\n2024-01-01T07:05Z,loinc:8867-4,1e308,/min\n"
        #expect {
            try bank.importCSV(twin: "alice", text: csv, defaultSource: cgm)
        } throws: { e in
            (e as? BankError)?.code == .invalidEvent && (e as? BankError)?.message.hasPrefix("text: line 3") == true
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
    }

    // MARK: types

    @Test(arguments: StorageKind.allCases, [
        ("loinc:8867-4", "abc", "/min"),      // heart rate: a quantitative code in the unit table
        ("loinc:99999-9", "abc", "mg"),       // not in the table, but the unit says it is a quantity
        ("local:y", "2024-01-01", "mg"),      // a date with a unit
    ])
    func aCSVTextWithAUnitIsRefusedNamingTheLine(kind: StorageKind, row: (String, String, String)) throws {
        let bank = try bankWithAlice(kind)
        let csv = "time,code,value,unit\n2024-01-01T07:00Z,\(row.0),70,\(row.2)\n2024-01-01T07:05Z,\(row.0),\(row.1),\(row.2)\n"
        #expect {
            try bank.importCSV(twin: "alice", text: csv, defaultSource: cgm)
        } throws: { e in
            guard let e = e as? BankError else { return false }
            return e.code == .invalidCSV && e.message.hasPrefix("text: line 3, column 'value'") && e.message.contains("'\(row.1)'")
                && e.message.contains(row.2) && e.value == row.1
        }
        #expect(try bank.events(ThreadQuery(twin: "alice")).isEmpty)
    }

    @Test func aUnitImpliesAQuantity() throws {
        #expect(try Value.parse("72", unit: "/min") == .quantity(Quantity(72, "/min")))
        #expect(try Value.parse("72", unit: nil) == .quantity(Quantity(72, "1")))
        #expect(try Value.parse("[1,2]", unit: "mV") == .vector(Vector([1, 2], unit: "mV")))
        #expect(try Value.parse("abc", unit: "") == .text("abc"))
        #expect(throws: TwinError.self) { try Value.parse("abc", unit: "/min") }
        // a decimal comma is named, with the value written with a point, not read as a number and a unit ',5 mg/dL'
        for unit in ["mg/dL", ""] {
            let comma = #expect(throws: TwinError.self) { try Value.parse("114,5", unit: unit) }
            #expect(comma?.message.contains("decimal comma") == true && comma?.message.contains("'114.5'") == true, "\(comma?.message ?? "")")
        }
        #expect(try Value.parse("[1,2]", unit: "mV") == .vector(Vector([1, 2], unit: "mV")))
        #expect(throws: TwinError.self) { try Value.parse("inf", unit: "/min") }
        #expect(throws: TwinError.self) { try Value.parse("true", unit: "1") }
    }
}
