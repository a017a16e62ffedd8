import Foundation
import Testing
import TwinBank
import TwinCore

/// The storage-level cases: what every ``BankStorage`` answers through its readers and writers (moved from
/// `Tests/TwinBankTests/StorageConformance.swift`, unchanged but for the storage coming from the subject).
extension StorageConformance {
    static func event(_ seq: Int64, twin: TwinID = "a", eff: Int64, code: Concept = glucose, value: Double = 1, source: Source = cgm,
               category: Event.Category = .observation, notes: String? = nil) -> Event {
        var h = EventHasher()
        let d = EventDraft(twin: twin, effective: EffectiveTime(Instant(microseconds: eff)), category: category, code: code,
                           value: .quantity(Quantity(value, "mg/dL")), source: source, provenance: Provenance(notes: notes ?? "n\(seq)"))
        return Event(id: h.hash(d), twin: twin, effective: d.effective, recorded: Instant(microseconds: 1000 + seq), sequence: seq,
                     category: category, code: code, value: d.value, source: source, provenance: d.provenance)
    }

    static func appendAndQuery(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let events = [event(1, eff: 30), event(2, eff: 10), event(3, eff: 20, code: heartRate), event(4, twin: "b", eff: 5),
                      event(5, eff: 10, value: 2, category: .prediction)]
        try s.write { tx in try tx.append(events, batch: BatchRecord(firstSequence: 1, lastSequence: 5, recorded: Instant(microseconds: 1000))) }
        try s.read { (tx) throws in
            #expect(try tx.lastSequence() == 5)
            #expect(try tx.lastRecorded() == Instant(microseconds: 1000))
            let all = try tx.events(EventQuery(twin: "a"))
            #expect(all.map(\.sequence) == [2, 5, 3, 1])
            #expect(all == events.filter { $0.twin == "a" }.sorted(by: EventQuery.order))
            #expect(try tx.events(EventQuery(twin: "a", code: glucose.key)).map(\.sequence) == [2, 5, 1])
            #expect(try tx.events(EventQuery(twin: "a", category: .prediction)).map(\.sequence) == [5])
            #expect(try tx.events(EventQuery(twin: "a", from: Instant(microseconds: 15), to: Instant(microseconds: 30))).map(\.sequence) == [3, 1])
            #expect(try tx.events(EventQuery(twin: "a", maxSequence: 2)).map(\.sequence) == [2, 1])
            #expect(try tx.events(EventQuery(twin: "a", descending: true, limit: 2)).map(\.sequence) == [1, 3])
            #expect(try tx.events(EventQuery(twin: "nobody")).isEmpty)
            // latest: ties on effective time go to the higher sequence
            #expect(try tx.latest(twin: "a", code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 29), maxSequence: nil, visibility: .current)?.sequence == 5)
            #expect(try tx.latest(twin: "a", code: glucose.key, category: .observation, atOrBefore: Instant(microseconds: 29), maxSequence: nil, visibility: .current)?.sequence == 2)
            #expect(try tx.latest(twin: "a", code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 9), maxSequence: nil, visibility: .current) == nil)
            #expect(try tx.latest(twin: "a", code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 100), maxSequence: 4, visibility: .current)?.sequence == 1)
            #expect(Set(try tx.codes(of: "a")) == [glucose.key, heartRate.key])
            #expect(try tx.twins(withSource: cgm) == ["a", "b"])
            #expect(try tx.twins(withSource: lab).isEmpty)
            #expect(try tx.events(sequences: 2...4, limit: 10).map(\.sequence) == [2, 3, 4])
            #expect(try tx.events(sequences: 2...4, limit: 2).map(\.sequence) == [2, 3])
            #expect(try tx.eventHashes(of: "a") == Set(events.filter { $0.twin == "a" }.map(\.id)))
        }
    }

    /// `latestValues` reads each kind of value as the event holds it (the value's columns only, not the event),
    /// and an erased value as none.
    static func latestValuesReadEveryKindOfValue(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let values: [Value?] = [.quantity(Quantity(6.5, "%")), .concept(Concept(system: "http://snomed.info/sct", code: "1", display: "a b é")),
                                .concept(Concept(system: "s", code: "c")), .text("female 😀"), .date(Instant(microseconds: -86_400_000_001)),
                                .vector(Vector([1.5, -2, 1e300], unit: "mV")), .boolean(true), .boolean(false), nil, .quantity(Quantity(99, "%"))]
        // the last is erased below
        let expected = values.dropLast() + [nil]
        var events: [Event] = []
        for (i, v) in values.enumerated() {
            var e = event(Int64(i + 1), twin: try TwinID("t\(i)"), eff: Int64(10 * i))
            e.value = v
            events.append(e)
        }
        try s.write { try $0.append(events, batch: BatchRecord(firstSequence: 1, lastSequence: Int64(events.count), recorded: Instant(microseconds: 100))) }
        try s.write { _ = try $0.retract(sequences: [Int64(events.count)], atSequence: Int64(events.count) + 1, erasure: "erased on request") }
        try s.read { tx in
            let all = try tx.latestValues(code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 1000), from: nil, maxSequence: nil,
                                          visibility: .all, plausibleOnly: false)
            #expect(all.count == values.count)
            for (i, e) in events.enumerated() {
                let latest = try #require(try tx.latest(twin: e.twin, code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 1000),
                                                        maxSequence: nil, visibility: .all))
                #expect(all[e.twin] == LatestValue(latest))
                #expect(all[e.twin]?.value == expected[i] && all[e.twin]?.effective == e.effective.start && all[e.twin]?.sequence == e.sequence)
            }
        }
    }

    /// The bulk reads answer for all twins what the per-twin reads answer for each (aggregates at scale, issue 23
    /// item 6): `latestValues` is `latest` for every twin, with a lower bound and skipping flagged values.
    static func bulkReads(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let flagged = Provenance.implausibleFlag + " (above 1500 mg/dL); n2"
        let events = [event(1, eff: 10), event(2, eff: 30, notes: flagged), event(3, eff: 20), event(4, eff: 5, code: heartRate),
                      event(5, twin: "b", eff: 30), event(6, twin: "b", eff: 30, notes: "seen with flag:implausible elsewhere"),
                      event(7, twin: "b", eff: 40, category: .prediction), event(8, twin: "c", eff: 1, code: heartRate),
                      event(9, twin: "d", eff: 50), event(10, twin: "e", eff: 60, notes: flagged)]
        try s.write { try $0.append(events, batch: BatchRecord(firstSequence: 1, lastSequence: 10, recorded: Instant(microseconds: 100))) }
        #expect(try s.write { try $0.retract(sequences: [9], atSequence: 11, erasure: nil) } == 1)
        try s.write { try $0.append([], batch: BatchRecord(firstSequence: 11, lastSequence: 11, recorded: Instant(microseconds: 200))) }
        try s.read { (tx) throws in
            func latest(_ at: Int64, from: Int64? = nil, category: Event.Category? = nil, max: Int64? = nil, _ vis: Visibility = .current,
                        plausible: Bool = false) throws -> [TwinID: Int64] {
                try tx.latestValues(code: glucose.key, category: category, atOrBefore: Instant(microseconds: at), from: from.map(Instant.init(microseconds:)),
                                    maxSequence: max, visibility: vis, plausibleOnly: plausible).mapValues(\.sequence)
            }
            #expect(try latest(100) == ["a": 2, "b": 7, "e": 10])
            #expect(try latest(100, plausible: true) == ["a": 3, "b": 7])
            #expect(try latest(100, category: .observation, plausible: true) == ["a": 3, "b": 6])
            #expect(try latest(25) == ["a": 3])
            #expect(try latest(100, from: 25, plausible: true) == ["b": 7])
            #expect(try latest(100, from: 30, category: .observation) == ["a": 2, "b": 6, "e": 10])
            #expect(try latest(100, max: 5) == ["a": 2, "b": 5])
            #expect(try latest(100, .knownAt(10), plausible: true) == ["a": 3, "b": 7, "d": 9])
            #expect(try latest(100, .all) == ["a": 2, "b": 7, "d": 9, "e": 10])
            #expect(try latest(0).isEmpty)
            // for every twin and every combination, what `latest` gives twin by twin
            for at: Int64 in [0, 10, 25, 30, 100] {
                for category: Event.Category? in [nil, .observation, .prediction] {
                    for max: Int64? in [nil, 2, 6] {
                        for vis: Visibility in [.current, .knownAt(9), .knownAt(11), .all] {
                            var one: [TwinID: LatestValue] = [:]
                            for twin: TwinID in ["a", "b", "c", "d", "e", "nobody"] {
                                one[twin] = try tx.latest(twin: twin, code: glucose.key, category: category, atOrBefore: Instant(microseconds: at),
                                                          maxSequence: max, visibility: vis).map(LatestValue.init)
                            }
                            #expect(try tx.latestValues(code: glucose.key, category: category, atOrBefore: Instant(microseconds: at), from: nil,
                                                        maxSequence: max, visibility: vis, plausibleOnly: false) == one,
                                    "at \(at), \(String(describing: category)), max \(String(describing: max)), \(vis)")
                        }
                    }
                }
            }
            #expect(try tx.latestValues(code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 100), from: nil, maxSequence: nil,
                                        visibility: .current, plausibleOnly: false)["a"] == LatestValue(events[1]))
            #expect(try tx.twins(withCode: glucose.key) == ["a", "b", "d", "e"])
            #expect(try tx.twins(withCode: heartRate.key) == ["a", "c"])
            #expect(try tx.twins(withCode: Concept.loinc("4548-4").key).isEmpty)
        }
        // objects in bulk, beyond one batch of bound values
        let stored = (0..<10_005).map { i in (EventHasher.sha256(Array("object \(i)".utf8)), Array("bytes \(i)".utf8)) }
        try s.write { tx in for (h, b) in stored { try tx.putObject(h, kind: "twin", bytes: b) } }
        let missing = EventHasher.sha256([0])
        let found = try s.read { try $0.objects(stored.map(\.0) + [missing]) }
        #expect(found.count == stored.count)
        #expect(stored.allSatisfy { found[$0.0] == $0.1 })
        #expect(found[missing] == nil)
        #expect(try s.read { try $0.objects([]) }.isEmpty)
    }

    static func batchesAndKnownAt(_ subject: StorageSubject) throws {
        let s = try subject.make()
        try s.write { try $0.append([event(1, eff: 1)], batch: BatchRecord(firstSequence: 1, lastSequence: 1, recorded: Instant(microseconds: 100))) }
        try s.write { try $0.append([event(2, eff: 2), event(3, eff: 3)], batch: BatchRecord(firstSequence: 2, lastSequence: 3, recorded: Instant(microseconds: 200))) }
        try s.read { (tx) throws in
            #expect(try tx.sequence(knownAt: Instant(microseconds: 99)) == 0)
            #expect(try tx.sequence(knownAt: Instant(microseconds: 100)) == 1)
            #expect(try tx.sequence(knownAt: Instant(microseconds: 199)) == 1)
            #expect(try tx.sequence(knownAt: Instant(microseconds: 5000)) == 3)
            #expect(try tx.events(EventQuery(twin: "a", visibility: .knownAt(1))).map(\.sequence) == [1])
        }
    }

    static func retractionAndErasure(_ subject: StorageSubject) throws {
        let s = try subject.make()
        try s.write { try $0.append([event(1, eff: 1), event(2, eff: 2, source: lab), event(3, eff: 3)], batch: BatchRecord(firstSequence: 1, lastSequence: 3, recorded: Instant(microseconds: 100))) }
        let n = try s.write { try $0.retract(source: cgm, atSequence: 4, erasure: nil) }
        #expect(n == 2)
        try s.write { try $0.append([], batch: BatchRecord(firstSequence: 4, lastSequence: 4, recorded: Instant(microseconds: 200))) }
        try s.read { (tx) throws in
            #expect(try tx.events(EventQuery(twin: "a")).map(\.sequence) == [2])
            #expect(try tx.events(EventQuery(twin: "a", visibility: .knownAt(3))).map(\.sequence) == [1, 2, 3])
            #expect(try tx.events(EventQuery(twin: "a", visibility: .knownAt(4))).map(\.sequence) == [2])
            #expect(try tx.events(EventQuery(twin: "a", visibility: .all)).map(\.retractedAtSequence) == [4, nil, 4])
            #expect(try tx.lastSequence() == 4)
        }
        #expect(try s.write { try $0.retract(source: cgm, atSequence: 5, erasure: nil) } == 0)
        try s.write { _ = try $0.retract(source: cgm, atSequence: 5, erasure: "privacy breach") }
        try s.read { (tx) throws in
            let all = try tx.events(EventQuery(twin: "a", visibility: .all))
            let erased = all.filter { $0.source == cgm }
            #expect(erased.count == 2)
            #expect(erased.allSatisfy { $0.value == nil && $0.erasure == "privacy breach" && $0.provenance.notes == nil && $0.retractedAtSequence == 4 })
            #expect(all.first { $0.source == lab }?.value != nil)
        }
    }

    static func retractionOfChosenRows(_ subject: StorageSubject) throws {
        let s = try subject.make()
        try s.write { try $0.append([event(1, eff: 1), event(2, eff: 2), event(3, eff: 3, source: lab), event(4, twin: "b", eff: 4)],
                                   batch: BatchRecord(firstSequence: 1, lastSequence: 4, recorded: Instant(microseconds: 100))) }
        #expect(try s.write { try $0.retract(sequences: [2, 4, 99], atSequence: 5, erasure: nil) } == 2)
        try s.write { try $0.append([], batch: BatchRecord(firstSequence: 5, lastSequence: 5, recorded: Instant(microseconds: 200))) }
        try s.read { (tx) throws in
            #expect(try tx.events(EventQuery(twin: "a")).map(\.sequence) == [1, 3])
            #expect(try tx.events(EventQuery(twin: "b")).isEmpty)
            #expect(try tx.events(EventQuery(twin: "a", visibility: .knownAt(4))).map(\.sequence) == [1, 2, 3])
            #expect(try tx.events(EventQuery(twin: "a", visibility: .all)).map(\.retractedAtSequence) == [nil, 5, nil])
        }
        // again: nothing newly marked; with erasure the payload goes, the retraction sequence stays
        #expect(try s.write { try $0.retract(sequences: [2], atSequence: 6, erasure: nil) } == 0)
        #expect(try s.write { try $0.retract(sequences: [2, 3], atSequence: 6, erasure: "privacy") } == 1)
        try s.read { (tx) throws in
            let all = try tx.events(EventQuery(twin: "a", visibility: .all))
            #expect(all.map(\.retractedAtSequence) == [nil, 5, 6])
            #expect(all.map(\.erasure) == [nil, "privacy", "privacy"])
            #expect(all[1].value == nil && all[1].provenance.notes == nil && all[0].value != nil)
        }
    }

    static func writesAreAllOrNothing(_ subject: StorageSubject) throws {
        let s = try subject.make()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try s.write { (tx) throws in
                try tx.append([event(1, eff: 1)], batch: BatchRecord(firstSequence: 1, lastSequence: 1, recorded: Instant(microseconds: 1)))
                try tx.setRef("twin/x", "abc")
                try tx.putObject(EventHasher.sha256([1]), kind: "twin", bytes: [1])
                try tx.setUnit("mg/dL", for: glucose.key)
                throw Boom()
            }
        }
        try s.read { (tx) throws in
            #expect(try tx.lastSequence() == 0)
            #expect(try tx.events(EventQuery(twin: "a", visibility: .all)).isEmpty)
            #expect(try tx.ref("twin/x") == nil)
            #expect(try tx.object(EventHasher.sha256([1])) == nil)
            #expect(try tx.unit(for: glucose.key) == nil)
        }
        // and the storage still works afterwards (dictionary caches were not polluted)
        try s.write { try $0.append([event(1, eff: 1)], batch: BatchRecord(firstSequence: 1, lastSequence: 1, recorded: Instant(microseconds: 1))) }
        #expect(try s.read { try $0.events(EventQuery(twin: "a")).count } == 1)
    }

    /// The right to erasure's row tombstones: everything but sequence, twin, recorded time and retraction state is
    /// replaced, the indexes and the first units keep nothing only the erased rows had, other rows are untouched.
    static func erasureTombstonesRowsAndIndexes(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let keep = event(2, twin: "b", eff: 20, code: heartRate, source: lab)
        let events = [event(1, eff: 10, code: Concept.loinc("1234-5"), value: 42.125, source: Source(.record, "fhir-secret"), notes: "secret note"),
                      keep, event(3, eff: 30, notes: "also secret")]
        try s.write { tx in
            try tx.append(events, batch: BatchRecord(firstSequence: 1, lastSequence: 3, recorded: Instant(microseconds: 1000)))
            try tx.setUnit("mg/dL", for: Concept.loinc("1234-5").key)
            try tx.setUnit("/min", for: heartRate.key)
        }
        try s.write { _ = try $0.retract(sequences: [3], atSequence: 4, erasure: nil) }
        let counts = try s.write { try $0.erase(sequences: [1, 3, 99], reason: "GDPR art. 17 request 7") }
        #expect(counts.rows == 2)
        // twin a lost (code 1234-5, glucose) and (source fhir-secret, cgm): four index pairs
        #expect(counts.indexRowsRemoved == 4)
        #expect(counts.dictionaryEntriesDropped >= 1)
        try s.read { (tx) throws in
            let rows = try tx.events(EventQuery(twin: "a", visibility: .all))
            #expect(rows.count == 2)
            for (row, original) in zip(rows.sorted { $0.sequence < $1.sequence }, [events[0], events[2]]) {
                #expect(row.sequence == original.sequence && row.twin == original.twin && row.recorded == original.recorded)
                #expect(row.value == nil && row.provenance == Provenance() && row.erasure == "GDPR art. 17 request 7")
                #expect(row.code == Erasure.tombstoneCode && row.source == Erasure.tombstoneSource)
                #expect(row.effective == EffectiveTime(original.recorded))
                #expect(row.id == Erasure.tombstoneID(twin: "a", sequence: original.sequence) && row.id != original.id)
            }
            #expect(rows.first { $0.sequence == 3 }?.retractedAtSequence == 4)
            #expect(rows.first { $0.sequence == 1 }?.retractedAtSequence == nil)
            #expect(try tx.codes(of: "a") == [Erasure.tombstoneCode.key])
            #expect(try tx.twins(withCode: glucose.key).isEmpty)
            #expect(try tx.twins(withSource: Source(.record, "fhir-secret")).isEmpty)
            #expect(try tx.twins(withSource: cgm).isEmpty)
            #expect(try tx.eventHashes(of: "a") == Set(rows.map(\.id)))
            // the first unit of a code no row has any more is gone; the kept twin's stays
            #expect(try tx.units() == [heartRate.key: "/min"])
            #expect(try tx.events(EventQuery(twin: "b", visibility: .all)) == [keep])
            #expect(try tx.twins(withSource: lab) == ["b"])
        }
        // the storage still works afterwards (dictionary caches name no dropped entry)
        try s.write { try $0.append([event(5, eff: 50, code: Concept.loinc("1234-5"), source: Source(.record, "fhir-secret"))],
                                    batch: BatchRecord(firstSequence: 5, lastSequence: 5, recorded: Instant(microseconds: 2000))) }
        try s.read { (tx) throws in
            #expect(try tx.events(EventQuery(twin: "a", code: Concept.loinc("1234-5").key)).map(\.sequence) == [5])
            #expect(try tx.twins(withSource: Source(.record, "fhir-secret")) == ["a"])
        }
    }

    static func objectsReplacedDeletedAndListedByKind(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let h1 = EventHasher.sha256([1]), h2 = EventHasher.sha256([2]), h3 = EventHasher.sha256([3])
        try s.write { tx in
            try tx.putObject(h1, kind: "twin", bytes: [1]); try tx.putObject(h2, kind: "aggregate", bytes: [2]); try tx.putObject(h3, kind: "twin", bytes: [3])
        }
        try s.read { (tx) throws in
            #expect(Set(try tx.objectHashes(kind: "twin")) == [h1, h3])
            #expect(try tx.objectHashes(kind: "aggregate") == [h2])
            #expect(try tx.objectHashes(kind: "fhir").isEmpty)
        }
        try s.write { tx in try tx.replaceObject(h1, kind: "twin", bytes: [9, 9]); try tx.deleteObject(h3) }
        try s.read { (tx) throws in
            #expect(try tx.object(h1) == [9, 9])
            #expect(try tx.object(h3) == nil)
            #expect(try tx.objectHashes(kind: "twin") == [h1])
        }
    }

    static func refsObjectsUnits(_ subject: StorageSubject) throws {
        let s = try subject.make()
        try s.write { (tx) throws in
            try tx.setRef("twin/b", "2"); try tx.setRef("twin/a", "1"); try tx.setRef("tag/v1", "3"); try tx.setRef("twinx", "4")
            try tx.putObject(EventHasher.sha256([1, 2]), kind: "twin", bytes: [1, 2])
            try tx.putObject(EventHasher.sha256([1, 2]), kind: "twin", bytes: [1, 2])
            try tx.setUnit("mg/dL", for: glucose.key)
            try tx.setUnit("mmol/L", for: glucose.key)
        }
        try s.read { (tx) throws in
            #expect(try tx.refs(prefix: "twin/").map(\.name) == ["twin/a", "twin/b"])
            #expect(try tx.ref("tag/v1") == "3")
            #expect(try tx.object(EventHasher.sha256([1, 2])) == [1, 2])
            #expect(try tx.unit(for: glucose.key) == "mg/dL")
            #expect(try tx.units() == [glucose.key: "mg/dL"])
        }
        try s.write { try $0.setRef("twin/a", nil) }
        #expect(try s.read { try $0.ref("twin/a") } == nil)
    }

    static func valuesRoundTrip(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let values: [Value?] = [nil, .quantity(Quantity(5.25, "mmol/L")), .concept(Concept(system: "http://snomed.info/sct", code: "1", display: "x")),
                                .concept(Concept(system: "http://snomed.info/sct", code: "2")), .text("hello, \"world\""),
                                .date(t("2024-01-01T07:45:30.123456Z")), .vector(Vector([0.1, -2, 3e-9], unit: "mV")), .boolean(true)]
        var h = EventHasher()
        var events: [Event] = []
        for (i, v) in values.enumerated() {
            let d = EventDraft(twin: "a", effective: EffectiveTime(Instant(microseconds: Int64(i)), end: i == 2 ? Instant(microseconds: 99) : nil),
                               category: .annotation, code: Concept(system: "urn:x", code: "c\(i)", display: i == 1 ? "d" : nil), value: v, source: lab,
                               provenance: i == 3 ? Provenance(derivedFrom: [EventHasher.sha256([9])], model: "m", modelVersion: "1", parametersHash: "p", seed: 42, notes: "n") : Provenance())
            events.append(Event(id: h.hash(d), twin: "a", effective: d.effective, recorded: Instant(microseconds: 7), sequence: Int64(i + 1),
                                category: .annotation, code: d.code, value: v, source: lab, provenance: d.provenance))
        }
        try s.write { try $0.append(events, batch: BatchRecord(firstSequence: 1, lastSequence: Int64(events.count), recorded: Instant(microseconds: 7))) }
        #expect(try s.read { try $0.events(EventQuery(twin: "a")) } == events)
    }
}
