import Foundation
import Testing
import TwinBank
import TwinCore

/// `CSVThread.export`: a thread written as the CSV import reads it; imported again into the same twin it appends
/// nothing (every row is its event again), with values of every kind, a period, a display, quoting, and text that
/// would read as a number; retraction and erased events are left out.
@Suite struct CSVThreadExportTests {
    @Test func anExportImportsBackIntoTheSameTwinAppendingNothing() throws {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(try Instant(parsing: "2026-02-01T00:00:00Z")))
        _ = try bank.createTwin(Twin(id: "ann", kind: .person, attributes: [:], origin: Instant(microseconds: 0)))
        let at = { (t: String) in try Instant(parsing: "2026-01-0\(t)Z") }
        let note = Concept(system: "http://snomed.info/sct", code: "1234", display: "Note, free text")
        let cgm = Source(.device, "cgm-1")
        let drafts: [EventDraft] = [
            .observation("ann", at: try at("1T08:00:00"), code: Concept.loinc("2339-0", "Glucose"), Quantity(95.5, "mg/dL"), source: cgm),
            .observation("ann", at: try at("1T08:05:00"), code: Concept(system: "urn:test", code: "tiny"), Quantity(1e-7, "1"), source: cgm),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("1T12:00:00"), end: try at("1T12:20:00")), category: .intervention,
                       code: .snomed("226379006"), value: .quantity(Quantity(60, "g")), source: Source(.person, "ann")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("2T09:00:00")), category: .annotation, code: note,
                       value: .text("calm, \"rested\""), source: Source(.person, "dr-x")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("2T09:01:00")), category: .annotation, code: note,
                       value: .text("42"), source: Source(.person, "dr-x")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("2T09:02:00")), category: .annotation, code: note,
                       value: .boolean(true), source: Source(.person, "dr-x")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("2T09:03:00")), category: .annotation, code: note,
                       value: .concept(.snomed("44054006", "Diabetes type 2")), source: Source(.person, "dr-x")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("2T09:04:00")), category: .annotation, code: note,
                       value: .date(try at("1T00:00:00")), source: Source(.person, "dr-x")),
            EventDraft(twin: "ann", effective: EffectiveTime(try at("3T10:00:00"), end: try at("3T10:00:01")), category: .observation,
                       code: Concept(system: "urn:test", code: "ecg"), value: .vector(Vector([0.1, -0.25, 3], unit: "mV")), source: Source(.device, "ecg")),
            .observation("ann", at: try at("4T08:00:00"), code: .loinc("2339-0"), Quantity(5000, "mg/dL"), source: cgm),  // implausible: flagged
        ]
        _ = try bank.append(drafts)
        let removed = try bank.append([.observation("ann", at: try at("4T09:00:00"), code: .loinc("2339-0"), Quantity(99, "mg/dL"), source: Source(.device, "bad"))])
        try bank.retract(event: .id(removed.ids[0].hex), reason: "wrong meter")

        let events = try bank.events(ThreadQuery(twin: "ann"))
        let export = CSVThread.export(events)
        #expect(export.text.hasPrefix("time,code,value,unit,source,category\r\n"))
        #expect(export.rows == drafts.count, "\(export.text)")
        #expect(export.leftOut == 1, "the retraction event")
        #expect(export.text.contains("http://loinc.org|2339-0|Glucose"))
        #expect(export.text.contains("text:42"))
        #expect(export.text.contains("\"calm, \"\"rested\"\"\""))
        #expect(!export.text.contains("bad"), "the retracted reading is not in the current thread")

        // read back: every row is its event's draft (the implausible flag is the bank's to set again)
        let read = try CSVThread.parse(export.text, twin: "ann", defaultSource: Source(.import, "x"))
        let current = events.filter { $0.category != .retraction }
        #expect(read.count == current.count)
        #expect(current.filter(\.provenance.isFlaggedImplausible).count == 1)
        for (d, e) in zip(read, current) where !e.provenance.isFlaggedImplausible {
            #expect(d == e.draft, "\(d) read back as another event than \(e.draft)")
        }
        let r = try bank.importCSV(twin: "ann", text: export.text, defaultSource: Source(.import, "x"))
        #expect(r.count == 0 && r.skipped == drafts.count, "\(r)")
    }
}
