import Foundation
import Testing
@testable import TwinBank
import TwinCore
import TwinBankSQLite
import TwinTesting

/// `Bank.erase(twin:reason:)` on both storages: what it takes along, what it refuses, and what the bank shows after.
@Suite struct BankErasureTests {
    /// p1 (a person with an organ twin as its part, from a template), its fork and a fork of that fork, p2 and a fork
    /// of p2, a population twin with an event derived from p1's, an explicit aggregate; committed.
    func bank(_ kind: StorageKind) throws -> Bank {
        let bank = try makeBank(kind)
        _ = try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["species": .text("human")]))
        _ = try bank.createTwin(Twin(id: "liver-1", kind: .organ))
        _ = try bank.createTwin(Twin(id: "p1", kind: .person, attributes: ["name": .text("Ada")], parts: [.init(role: "liver", twin: "liver-1")],
                                     template: .init(id: "adult", version: 0)))
        _ = try bank.createTwin(Twin(id: "p2", kind: .person))
        _ = try bank.createTwin(Twin(id: "town", kind: .population))
        let r = try bank.append([obs("p1", "2025-12-01T08:00:00Z", glucose, 101), obs("liver-1", "2025-12-01T08:00:00Z", heartRate, 70, "/min"),
                                 obs("p2", "2025-12-01T08:00:00Z", glucose, 90)])
        _ = try bank.fork("p1", at: t("2025-12-01T09:00:00Z"), as: "p1-a")
        _ = try bank.fork("p1-a", at: t("2025-12-01T09:00:00Z"), as: "p1-a-b")
        _ = try bank.fork("p2", at: t("2025-12-01T09:00:00Z"), as: "p2-a")
        _ = try bank.append([obs("p1-a-b", "2025-12-01T10:00:00Z", glucose, 150)])
        var derived = obs("town", "2025-12-01T08:00:00Z", glucose, 95.5)
        derived.provenance = Provenance(derivedFrom: [r.ids[0], r.ids[2]])
        let d = try bank.append([derived])
        // derived from the derived one: purged too (transitively)
        var second = obs("town", "2025-12-01T08:30:00Z", glucose, 96)
        second.provenance = Provenance(derivedFrom: [d.ids[0]])
        _ = try bank.append([second, obs("town", "2025-12-01T09:00:00Z", glucose, 97)])
        _ = try bank.createAggregate("study", members: ["p1", "p2", "p1-a"])
        _ = try bank.createAggregate("people", where: "kind = person")
        try bank.commit(message: "setup")
        return bank
    }

    @Test(arguments: StorageKind.allCases)
    func eraseTakesForksPartsAndDerivedValues(kind: StorageKind) throws {
        let bank = try bank(kind)
        let report = try bank.erase(twin: "p1", reason: "request 1")
        #expect(report.twins.map(\.twin) == ["p1", "p1-a", "p1-a-b", "liver-1"])
        #expect(report.twins.map(\.why) == ["requested", "fork of p1", "fork of p1-a", "part liver of p1"])
        #expect(report.twins.map(\.eventsPurged) == [1, 0, 1, 1])
        #expect(report.derivedEventsPurged == ["town": 2])
        #expect(report.aggregatesChanged == ["study"])
        #expect(report.physical?.applies == (kind == .sqlite))
        #expect(try bank.twinIDs() == ["adult", "p2", "p2-a", "town"])
        #expect(try bank.members(of: "study").members == ["p2"])
        // a query at an old commit does not find the erased twin's tombstone either
        #expect(try bank.members(of: "people", at: "HEAD").members == ["p2"])
        #expect(try bank.members(of: "people", at: "HEAD").unknown.isEmpty)
        // the template is not taken; p2 and its fork are untouched
        #expect(try bank.twin("adult").twin.attributes["species"] == .text("human"))
        #expect(try bank.events(ThreadQuery(twin: "p2-a")).count == 1)
        // (a tombstone's effective time is its recorded time)
        let town = try bank.events(ThreadQuery(twin: "town")).sorted { $0.sequence < $1.sequence }
        #expect(town.map(\.value) == [nil, nil, .quantity(Quantity(97, "mg/dL"))])
        #expect(town.prefix(2).allSatisfy { $0.erasure == "request 1" && $0.code == Erasure.tombstoneCode && $0.provenance.derivedFrom.isEmpty })
        // the state of the population no longer has the derived values
        #expect(try bank.state(of: "town", code: glucose.key).first?.value == .quantity(Quantity(97, "mg/dL")))
        #expect(try bank.state(of: "town").map(\.code.key) == [glucose.key])   // a tombstone is no state
        #expect(try bank.effectiveRange(of: "town") == t("2025-12-01T09:00:00Z")...t("2025-12-01T09:00:00Z"))
        // old commits resolve to tombstones; a switch back to them does not bring the twins back
        let old = try bank.twin("p1", at: "HEAD")
        #expect(old.erased != nil && old.twin.attributes.isEmpty && old.twin.template == nil)
        // the erased twins' absence is no uncommitted change; the aggregate's new version is
        #expect(try bank.uncommittedChanges().map(\.path) == ["aggregate/study"])
        try bank.commit(message: "after the erasure")
        try bank.createBranch("old", at: "HEAD~1")
        try bank.switchBranch("old")
        #expect(try !bank.twinIDs().contains("p1"))
        let refused = #expect(throws: BankError.self) { try bank.twin("p1") }
        #expect(refused?.code == .erasedTwin && refused?.message.contains("request 1") == true)
    }

    /// Erasing a fork takes the fork (and its forks), not the parts it shares with its parent.
    @Test(arguments: StorageKind.allCases)
    func erasingAForkLeavesTheParentsParts(kind: StorageKind) throws {
        let bank = try bank(kind)
        let report = try bank.erase(twin: "p1-a", reason: "the what-if held a guess about Ada")
        #expect(report.twins.map(\.twin) == ["p1-a", "p1-a-b"])
        #expect(report.derivedEventsPurged.isEmpty)
        #expect(try bank.twin("liver-1").id == "liver-1")
        #expect(try bank.events(ThreadQuery(twin: "p1")).count == 1)
        #expect(try bank.members(of: "study").members == ["p1", "p2"])
    }

    /// Erasing an organ twin alone leaves the person's twin, whose definitions (every version) no longer list it as a
    /// part, so the person's twin still exports.
    @Test(arguments: StorageKind.allCases)
    func erasingAPartUnlinksItFromTheTwinsListingIt(kind: StorageKind) throws {
        let bank = try bank(kind)
        let report = try bank.erase(twin: "liver-1", reason: "organ donation record withdrawn")
        #expect(report.twins.map(\.twin) == ["liver-1"])
        #expect(report.partsUnlinked == ["p1", "p1-a", "p1-a-b"])
        #expect(try bank.twin("p1").twin.parts.isEmpty && bank.twin("p1").twin.attributes["name"] == .text("Ada"))
        #expect(try bank.twin("p1", at: "HEAD").twin.parts.isEmpty)
        let (data, result) = try bank.exportBundle(twin: "p1-a-b")
        #expect(result.twins == ["p1", "p1-a", "p1-a-b"])
        #expect(try makeBank(kind).importBundle(data).twinsCreated.count == 3)
    }

    @Test(arguments: StorageKind.allCases)
    func refusals(kind: StorageKind) throws {
        let bank = try bank(kind)
        let template = #expect(throws: BankError.self) { try bank.erase(twin: "adult", reason: "r") }
        #expect(template?.code == .notErasable && template?.value == "adult")
        let unknown = #expect(throws: BankError.self) { try bank.erase(twin: "nobody", reason: "r") }
        #expect(unknown?.code == .unknownTwin && unknown?.value == "nobody")
        let empty = #expect(throws: BankError.self) { try bank.erase(twin: "p1", reason: "  ") }
        #expect(empty?.code == .notErasable)
        _ = try bank.erase(twin: "p2", reason: "request 2")
        for attempt in [{ _ = try bank.erase(twin: "p2", reason: "again") },
                        { _ = try bank.createTwin(Twin(id: "p2", kind: .person)) },
                        { _ = try bank.createTemplate(Twin(id: "p2", kind: .person)) },
                        { _ = try bank.fork("p1", at: t("2025-12-01T09:00:00Z"), as: "p2") },
                        { _ = try bank.append([obs("p2", "2025-12-01T08:00:00Z", glucose, 1)]) },
                        { _ = try bank.updateTwin(Twin(id: "p2", kind: .person)) }] as [() throws -> Void] {
            let e = #expect(throws: BankError.self) { try attempt() }
            #expect(e?.code == .erasedTwin && e?.message.contains("request 2") == true, "\(String(describing: e))")
            #expect(e?.value == "p2")
        }
    }

    /// A bank-exchange export made after an erasure carries no erased twin and still verifies on import.
    @Test(arguments: StorageKind.allCases)
    func exportsAfterAnErasureSkipTheTwinAndVerify(kind: StorageKind) throws {
        let bank = try bank(kind)
        _ = try bank.erase(twin: "p1", reason: "request 3")
        let (data, result) = try bank.exportBundle(aggregate: "study")
        #expect(result.twins == ["p2"])
        #expect(!String(decoding: data, as: UTF8.self).contains("\"p1\""))
        let target = try makeBank(kind)
        let imported = try target.importBundle(data)
        #expect(imported.twinsCreated == ["p2"])
        #expect(try target.members(of: "study").members == ["p2"])
        // a bundle made before the erasure cannot bring the twin back
        let fresh = try self.bank(kind)
        let (before, _) = try fresh.exportBundle(twin: "p1")
        let refused = #expect(throws: BankError.self) { try bank.importBundle(before) }
        #expect(refused?.code == .erasedTwin)
    }
}

@Suite struct ErasureRecordMatchingTests {
    @Test(arguments: [
        (#"{"resourceType": "Device", "patient": {"reference": "Patient/p1"}}"#, true),
        (#"{"resourceType": "Device", "patient": {"reference": "https://ehr.example/fhir/Patient/p1"}}"#, true),
        (#"{"resourceType": "Device", "patient": {"reference": "urn:uuid:p1"}}"#, true),
        (#"{"resourceType": "Device", "note": [{"x": [{"reference": "Patient/p1"}]}]}"#, true),
        (#"{"resourceType": "Device", "patient": {"reference": "Patient/p2"}}"#, false),
        (#"{"resourceType": "Practitioner", "managingOrganization": {"reference": "Organization/p1"}}"#, false),
        (#"{"resourceType": "Practitioner", "name": [{"family": "p1"}]}"#, false),
    ])
    func aRecordIsThePatientsWhenAReferenceNamesThem(json: String, expected: Bool) {
        #expect(Bank.refersToTwin(Array(json.utf8), ["p1"]) == expected)
    }
}

/// SQLite caches dictionary ids per open storage; an erasure drops entries, and SQLite may give a dropped id to a new
/// entry: every other open storage (another process) must notice before it uses a cached id.
@Suite struct ErasureDictionaryGenerationTests {
    func event(_ seq: Int64, twin: TwinID, code: Concept) -> Event {
        var h = EventHasher()
        let d = EventDraft(twin: twin, effective: EffectiveTime(Instant(microseconds: seq)), category: .observation, code: code,
                           value: .quantity(Quantity(1, "1")), source: Source(.device, "d-\(seq)"))
        return Event(id: h.hash(d), twin: twin, effective: d.effective, recorded: Instant(microseconds: 1000 + seq), sequence: seq,
                     category: .observation, code: code, value: d.value, source: d.source)
    }

    @Test func anotherStoragesCachedIdsAreRefreshedAfterAnErasure() throws {
        let path = try TemporaryFiles.path("bank.sqlite")
        let a = try SQLiteStorage(path: path), b = try SQLiteStorage(path: path)
        let x = Concept(system: "urn:test", code: "x"), y = Concept(system: "urn:test", code: "y")
        func add(_ s: SQLiteStorage, _ e: Event) throws {
            try s.write { try $0.append([e], batch: BatchRecord(firstSequence: e.sequence, lastSequence: e.sequence, recorded: e.recorded)) }
        }
        try add(a, event(1, twin: "a", code: x))                   // a caches x's id (the highest code id)
        _ = try b.read { try $0.events(EventQuery(twin: "a")) }
        try b.write { _ = try $0.erase(sequences: [1], reason: "r") }  // drops x
        try add(b, event(2, twin: "b", code: y))                   // y may take x's old id
        try add(a, event(3, twin: "c", code: x))                   // a must not use its stale id for x
        for s in [a, b] {
            try s.read { (tx) throws in
                #expect(try tx.events(EventQuery(twin: "c")).map(\.code) == [x])
                #expect(try tx.events(EventQuery(twin: "b")).map(\.code) == [y])
                #expect(try tx.codes(of: "c") == [x.key])
            }
        }
    }
}
