import Foundation
import Testing
@testable import TwinBank
import TwinCore

/// Issue 23, item 3 (the gap left): an imported event keeps the time its source recorded it
/// (`Provenance.sourceRecorded`), readable and filterable; known-at in this bank stays this bank's recorded time.
@Suite struct SourceRecordedTests {
    /// The source's recorded time is metadata, not content: the content hash does not change with it, so the
    /// same record from two sources (or a bank export imported elsewhere) keeps its id.
    @Test func theContentHashLeavesTheSourceTimeOut() {
        var h = EventHasher()
        let plain = obs("a", "2024-01-01T08:00:00Z", 100)
        var stamped = plain
        stamped.provenance.sourceRecorded = t("2024-01-01T09:00:00Z")
        #expect(h.hash(plain) == h.hash(stamped))
        var noted = plain
        noted.provenance.notes = "n"
        var notedStamped = noted
        notedStamped.provenance.sourceRecorded = t("2024-01-01T09:00:00Z")
        #expect(h.hash(noted) == h.hash(notedStamped))
        #expect(h.hash(noted) != h.hash(plain))
        #expect(!stamped.provenance.isEmpty && !stamped.provenance.hasContent)
    }

    /// Stored and read back by every storage (alone, so the provenance column is not empty only because of it,
    /// and beside notes); a provenance written before the field existed still reads.
    @Test(arguments: StorageKind.allCases)
    func storedAndReadBack(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("a"))
        var alone = obs("a", "2024-01-01T08:00:00Z", 100)
        alone.provenance.sourceRecorded = t("2024-01-01T08:30:00.25Z")
        var noted = obs("a", "2024-01-01T09:00:00Z", 110)
        noted.provenance = Provenance(notes: "from the lab", sourceRecorded: t("2024-01-01T09:45:00Z"))
        try bank.append([alone, noted, obs("a", "2024-01-01T10:00:00Z", 120)])
        let events = try bank.events(ThreadQuery(twin: "a"))
        #expect(events.map(\.provenance.sourceRecorded) == [t("2024-01-01T08:30:00.25Z"), t("2024-01-01T09:45:00Z"), nil])
        #expect(events[1].provenance.notes == "from the lab")
        #expect(events[2].sourceRecordedTime == events[2].recorded)
        let old = try JSONDecoder().decode(Provenance.self, from: Data(#"{"derivedFrom":[],"notes":"x"}"#.utf8))
        #expect(old == Provenance(notes: "x"))
    }

    /// The bundle's hand-written event lines carry it and decode to the same event.
    @Test func eventLinesCarryIt() throws {
        var writer = EventJSONWriter()
        let e = Event(id: EventHasher.sha256([1]), twin: "a", effective: EffectiveTime(t("2024-01-01")), recorded: t("2026-01-01T00:00:00Z"),
                      sequence: 3, category: .observation, code: glucose, value: .quantity(Quantity(5, "mmol/L")), source: lab,
                      provenance: Provenance(sourceRecorded: t("2024-01-02T03:04:05.5Z")))
        let line = writer.eventLine(e)
        #expect(String(decoding: line, as: UTF8.self).contains(#""sourceRecorded":"2024-01-02T03:04:05.500Z""#))
        #expect(try JSONDecoder().decode(BundleFormat.EventLine.self, from: Data(line)).event == e)
    }

    /// A bank export imported into another bank: the events keep their ids, take this bank's recorded time, and
    /// keep the exporting bank's as the source's; imported again elsewhere, the first bank's time stays.
    @Test(arguments: [StorageKind.memory, .sqlite])
    func anExportImportedElsewhereKeepsTheSourceBanksTime(kind: StorageKind) throws {
        let a = try makeBank(.memory, now: "2026-01-01T00:00:00Z")
        try a.createTwin(person("alice"))
        try a.append([obs("alice", "2024-01-01T08:00:00Z", 100), obs("alice", "2024-01-02T08:00:00Z", 105)])
        let inA = try a.events(ThreadQuery(twin: "alice"))
        let b = try makeBank(kind, now: "2026-06-01T00:00:00Z")
        try b.importBundle(try a.exportBundle(twin: "alice").data)
        let inB = try b.events(ThreadQuery(twin: "alice"))
        #expect(inB.map(\.id) == inA.map(\.id))
        #expect(inB.map(\.provenance.sourceRecorded) == inA.map { Optional($0.recorded) })
        #expect(inB.allSatisfy { $0.recorded >= t("2026-06-01T00:00:00Z") })
        // known-at in this bank is still when this bank learnt it
        #expect(try b.events(ThreadQuery(twin: "alice", knownAt: t("2026-05-01T00:00:00Z"))).isEmpty)
        // on to a third bank: the first bank's time travels on
        let c = try makeBank(.memory, now: "2027-01-01T00:00:00Z")
        try c.importBundle(try b.exportBundle(twin: "alice").data)
        #expect(try c.events(ThreadQuery(twin: "alice")).map(\.provenance.sourceRecorded) == inA.map { Optional($0.recorded) })
    }

    /// `ThreadQuery` filters on the source's recorded time; an event recorded first by this bank counts at
    /// its own recorded time.
    @Test(arguments: StorageKind.allCases)
    func queriesFilterOnTheSourceTime(kind: StorageKind) throws {
        let bank = try makeBank(kind, now: "2026-01-01T00:00:00Z")
        try bank.createTwin(person("a"))
        var early = obs("a", "2024-01-01T08:00:00Z", 100)
        early.provenance.sourceRecorded = t("2024-01-01T09:00:00Z")
        var late = obs("a", "2024-01-02T08:00:00Z", 101)
        late.provenance.sourceRecorded = t("2025-03-01T00:00:00Z")
        try bank.append([early, late, obs("a", "2024-01-03T08:00:00Z", 102)])   // the last recorded by this bank, 2026
        func values(_ from: String?, _ to: String?) throws -> [Double] {
            try bank.events(ThreadQuery(twin: "a", sourceRecordedFrom: from.map(t), sourceRecordedTo: to.map(t))).compactMap { $0.value?.quantity?.value }
        }
        #expect(try values(nil, "2024-12-31T00:00:00Z") == [100])
        #expect(try values("2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z") == [101])
        #expect(try values("2025-12-31T00:00:00Z", nil) == [102])
        #expect(try values(nil, nil) == [100, 101, 102])
    }
}
