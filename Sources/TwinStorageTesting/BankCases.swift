import Foundation
import Testing
import TwinBank
import TwinCore

/// The cases through a ``TwinBank/Bank`` on the storage: what the bank promises must hold whatever stores it.
extension StorageConformance {
    /// Reads inside a write see that write's earlier changes (the seam's second guarantee).
    static func readsInsideAWriteSeeItsChanges(_ subject: StorageSubject) throws {
        let s = try subject.make()
        let h = EventHasher.sha256([7])
        try s.write { (tx) throws in
            try tx.append([event(1, eff: 10), event(2, twin: "b", eff: 20, source: lab)], batch: BatchRecord(firstSequence: 1, lastSequence: 2, recorded: Instant(microseconds: 500)))
            #expect(try tx.lastSequence() == 2)
            #expect(try tx.lastRecorded() == Instant(microseconds: 500))
            #expect(try tx.events(EventQuery(twin: "a")).map(\.sequence) == [1])
            #expect(try tx.latest(twin: "b", code: glucose.key, category: nil, atOrBefore: Instant(microseconds: 99), maxSequence: nil, visibility: .current)?.sequence == 2)
            #expect(try tx.twins(withSource: lab) == ["b"])
            try tx.setRef("twin/a", "x")
            #expect(try tx.ref("twin/a") == "x")
            try tx.putObject(h, kind: "twin", bytes: [7])
            #expect(try tx.object(h) == [7])
            #expect(try tx.objectHashes(kind: "twin") == [h])
            try tx.setUnit("mg/dL", for: glucose.key)
            #expect(try tx.unit(for: glucose.key) == "mg/dL")
            #expect(try tx.retract(sequences: [1], atSequence: 3, erasure: nil) == 1)
            #expect(try tx.events(EventQuery(twin: "a")).isEmpty)
        }
        // and they were committed together
        try s.read { (tx) throws in
            #expect(try tx.ref("twin/a") == "x" && tx.object(h) == [7] && tx.unit(for: glucose.key) == "mg/dL")
            #expect(try tx.events(EventQuery(twin: "a", visibility: .all)).map(\.retractedAtSequence) == [3])
        }
    }

    static func bankTwins(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice", ["sex": .text("female")]))
        try bank.createTwin(person("bob"))
        try bank.createTemplate(Twin(id: "adult", kind: .person, attributes: ["species": .text("human")]))
        let first = try bank.commit(message: "two people")
        var alice = try bank.twin("alice").twin
        alice.attributes["weight"] = .quantity(Quantity(61.5, "kg"))
        try bank.updateTwin(alice)
        #expect(try bank.twinIDs() == ["adult", "alice", "bob"])
        #expect(try bank.twin("alice").twin == alice)
        #expect(try bank.twin("alice").twin.attributes["sex"] == .text("female"))
        // at the first commit, the definition before the update
        #expect(try bank.twin("alice", at: first.id.hex).twin.attributes["weight"] == nil)
        #expect(try bank.twinIDs(at: first.id.hex) == ["adult", "alice", "bob"])
        #expect(try bank.templateVersions("adult").count == 1)
        // a second bank on another fresh storage shares nothing
        #expect(try subject.bank().twinIDs().isEmpty)
        let duplicate = try #require(throws: BankError.self) { try bank.createTwin(person("alice")) }
        #expect(duplicate.code == .duplicateTwin && duplicate.value == "alice")
        #expect(throws: BankError.self) { try bank.twin("carol") }
        #expect(throws: BankError.self) { try bank.updateTwin(person("carol")) }
    }

    static func bankThreadAsOfAndKnownAt(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100), obs("alice", "2025-01-02T08:00:00Z", 110),
                         obs("alice", "2025-01-01T09:00:00Z", heartRate, 70, "/min")])
        let firstSequence = try bank.lastSequence()
        let firstRecorded = try #require(try bank.events(ThreadQuery(twin: "alice")).map(\.recorded).max())
        // a late-arriving value with an earlier effective time, and a correction
        try bank.append([obs("alice", "2025-01-01T12:00:00Z", 105), obs("alice", "2025-01-03T08:00:00Z", heartRate, 80, "/min", source: lab)])
        func glucoseNow(_ state: [Event]) -> Value? { state.first { $0.code.key == glucose.key }?.value }
        // now: the latest by effective time
        #expect(glucoseNow(try bank.state(of: "alice")) == .quantity(Quantity(110, "mg/dL")))
        #expect(try bank.state(of: "alice").count == 2)
        // as of an effective time: the late value counts for that time now
        #expect(glucoseNow(try bank.state(of: "alice", asOf: t("2025-01-01T13:00:00Z"))) == .quantity(Quantity(105, "mg/dL")))
        // as known at the first batch, it was not there: a replay gives what was known then
        #expect(glucoseNow(try bank.state(of: "alice", asOf: t("2025-01-01T13:00:00Z"), knownAt: firstRecorded)) == .quantity(Quantity(100, "mg/dL")))
        #expect(glucoseNow(try bank.state(of: "alice", asOf: t("2025-01-01T13:00:00Z"), knownAtSequence: firstSequence)) == .quantity(Quantity(100, "mg/dL")))
        #expect(try bank.state(of: "alice", asOf: t("2024-12-31T00:00:00Z")).isEmpty)
        #expect(try bank.events(ThreadQuery(twin: "alice", knownAtSequence: firstSequence)).count == 3)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 5)
        #expect(try bank.events(ThreadQuery(twin: "alice", code: heartRate.key)).map(\.value) == [.quantity(Quantity(70, "/min")), .quantity(Quantity(80, "/min"))])
        #expect(try bank.events(ThreadQuery(twin: "alice", from: t("2025-01-01T10:00:00Z"), to: t("2025-01-02T23:00:00Z"))).count == 2)
        #expect(try bank.effectiveRange(of: "alice") == t("2025-01-01T08:00:00Z")...t("2025-01-03T08:00:00Z"))
        // the same event appended again is refused (the duplicate check reads the storage's index)
        let duplicate = try #require(throws: BankError.self) { try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100)]) }
        #expect(duplicate.code == .duplicateEvent)
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 5)
    }

    static func bankRetractionAndErasure(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice"))
        try bank.createTwin(person("bob"))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100), obs("alice", "2025-01-02T08:00:00Z", 110, source: lab),
                         obs("bob", "2025-01-01T08:00:00Z", 90, source: lab)])
        let before = try bank.lastSequence()
        let r = try bank.retract(source: lab, reason: "wrong patient")
        #expect(Set(r.twins) == ["alice", "bob"] && !r.erased)
        #expect(try bank.events(ThreadQuery(twin: "alice")).filter { $0.category == .observation }.map(\.value) == [.quantity(Quantity(100, "mg/dL"))])
        #expect(try bank.state(of: "bob").filter { $0.category == .observation }.isEmpty)
        // known before the retraction: still there
        #expect(try bank.events(ThreadQuery(twin: "bob", knownAtSequence: before)).map(\.value) == [.quantity(Quantity(90, "mg/dL"))])
        // erased: the payload is gone in every view, the row stays retracted with the reason
        try bank.retract(source: lab, reason: "privacy", erase: true)
        let bob = try bank.events(ThreadQuery(twin: "bob", includeRetracted: true)).filter { $0.source == lab }
        #expect(bob.count == 1 && bob.allSatisfy { $0.value == nil && $0.erasure == "privacy" && $0.retractedAtSequence != nil })
        #expect(try bank.events(ThreadQuery(twin: "bob", knownAtSequence: before)).allSatisfy { $0.value == nil })
        // one event by sequence
        let aliceFirst = try #require(try bank.events(ThreadQuery(twin: "alice")).first { $0.source == cgm })
        try bank.retract(event: try EventReference(parsing: "\(aliceFirst.sequence)"), reason: "sensor fault")
        #expect(try bank.events(ThreadQuery(twin: "alice")).filter { $0.category == .observation }.isEmpty)
        #expect(try bank.events(ThreadQuery(twin: "alice", includeRetracted: true)).filter { $0.category == .observation }.count == 2)
    }

    static func bankCommitsBranchesAndTags(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100)])
        #expect(try !bank.uncommittedChanges().isEmpty)
        let c1 = try bank.commit(message: "alice", author: "ada")
        #expect(try bank.uncommittedChanges().isEmpty)
        #expect(c1.commit.message == "alice" && c1.commit.author == "ada" && c1.commit.parents.isEmpty)
        try bank.tag("v1")
        try bank.createBranch("trial")
        try bank.createTwin(person("bob"))
        let c2 = try bank.commit(message: "bob")
        #expect(c2.commit.parents == [c1.id])
        #expect(c2.commit.threadPin >= c1.commit.threadPin)
        #expect(try bank.log().map(\.commit.message) == ["bob", "alice"])
        #expect(try bank.log().map(\.id) == [c2.id, c1.id])
        #expect(try bank.resolveCommit("v1").id == c1.id)
        #expect(try bank.resolveCommit("HEAD").id == c2.id)
        #expect(try bank.resolveCommit(c1.id.hex).id == c1.id)
        #expect(try bank.tags().map(\.name) == ["v1"] && bank.tags().map(\.commit) == [c1.id])
        #expect(try bank.twinIDs(at: "v1") == ["alice"])
        #expect(try bank.branches().current == "main")
        #expect(Set(try bank.branches().all) == ["main", "trial"])
        // switching branch restores that branch's definitions; the thread is shared
        try bank.switchBranch("trial")
        #expect(try bank.twinIDs() == ["alice"])
        #expect(try bank.events(ThreadQuery(twin: "alice")).count == 1)
        try bank.switchBranch("main")
        #expect(try bank.twinIDs() == ["alice", "bob"])
        #expect(throws: BankError.self) { try bank.resolveCommit("nowhere") }
        #expect(throws: BankError.self) { try bank.switchBranch("nowhere") }
    }

    static func bankForks(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100), obs("alice", "2025-01-02T08:00:00Z", 110)])
        let fork = try bank.fork("alice", at: t("2025-01-01T12:00:00Z"), as: "alice-sim")
        #expect(fork.fork?.parent == "alice" && fork.fork?.forkPoint == t("2025-01-01T12:00:00Z"))
        var d = EventDraft(twin: "alice-sim", effective: EffectiveTime(t("2025-01-01T20:00:00Z")), category: .prediction, code: glucose,
                           value: .quantity(Quantity(150, "mg/dL")), source: Source(.model, "uva-padova@1"))
        d.provenance = Provenance(model: "uva-padova", modelVersion: "1", seed: 7)
        try bank.append([d, obs("alice", "2025-01-01T10:00:00Z", 104)])
        // the fork: the parent's events up to the point known when forked, then its own
        let forked = try bank.events(ThreadQuery(twin: "alice-sim"))
        #expect(forked.map(\.value) == [.quantity(Quantity(100, "mg/dL")), .quantity(Quantity(150, "mg/dL"))])
        #expect(forked.map(\.twin) == ["alice", "alice-sim"])
        // the parent never sees the fork's events
        #expect(try bank.events(ThreadQuery(twin: "alice")).map(\.value) == [100, 104, 110].map { .quantity(Quantity($0, "mg/dL")) })
        // a fork of a fork
        try bank.fork("alice-sim", at: t("2025-01-01T21:00:00Z"), as: "alice-sim-2")
        #expect(try bank.events(ThreadQuery(twin: "alice-sim-2")).count == 2)
        #expect(try bank.twin("alice-sim-2").fork?.parent == "alice-sim")
        // not before the twin existed (its birth date)
        let early = try #require(throws: BankError.self) { try bank.fork("alice", at: t("1970-01-01T00:00:00Z"), as: "too-early") }
        #expect(early.code == .beforeTwinExisted)
        #expect(throws: BankError.self) { try bank.fork("alice", at: t("2025-01-02T00:00:00Z"), as: "alice-sim") }
    }

    static func bankAggregates(_ subject: StorageSubject) throws {
        let bank = try subject.bank()
        try bank.createTwin(person("ann", birth: "1981-07-23", ["sex": .text("female")]))
        try bank.createTwin(person("bea", birth: "1996-12-18", ["sex": .text("female")]))
        try bank.createTwin(person("cid", birth: "1975-10-12", ["sex": .text("male")]))
        try bank.createTwin(Twin(id: "clinic", kind: .organisation))
        try bank.append([obs("ann", "2025-06-01T08:00:00Z", 160), obs("bea", "2025-06-01T08:00:00Z", 95), obs("cid", "2025-06-01T08:00:00Z", 180),
                         obs("cid", "2025-06-02T08:00:00Z", 90)])
        try bank.createAggregate("women", where: "kind = person and sex = female")
        try bank.createAggregate("high", where: "loinc:2339-0 > 140 mg/dL within 365d")
        try bank.createAggregate("study", members: ["ann", "cid"])
        try bank.commit(message: "aggregates")
        let asOf = t("2025-12-01T00:00:00Z")
        #expect(try bank.aggregateIDs() == ["high", "study", "women"])
        #expect(try bank.members(of: "women", asOf: asOf).members == ["ann", "bea"])
        // the thread's latest value per twin: cid's latest (90) is not high
        #expect(try bank.members(of: "high", asOf: asOf).members == ["ann"])
        #expect(try bank.members(of: "high", asOf: t("2025-06-01T12:00:00Z")).members == ["ann", "cid"])
        #expect(try bank.members(of: "study", asOf: asOf).members == ["ann", "cid"])
        #expect(try bank.members(of: "study", where: "sex = female") == ["ann"])
        // a retraction leaves the aggregate; the commit before still answers as it was
        try bank.retract(source: cgm, from: t("2025-06-01T00:00:00Z"), to: t("2025-06-01T23:00:00Z"), twin: "ann", reason: "wrong meter")
        #expect(try bank.members(of: "high", asOf: asOf).members.isEmpty)
        #expect(try bank.members(of: "high", at: "HEAD", asOf: asOf).members == ["ann"])
        try bank.deleteAggregate("study")
        #expect(try bank.aggregateIDs() == ["high", "women"])
        #expect(throws: BankError.self) { try bank.members(of: "study", asOf: asOf) }
    }

    static func bankExportImport(_ subject: StorageSubject) throws {
        let source = try subject.bank()
        try source.createTemplate(Twin(id: "adult", kind: .person, attributes: ["sex": .text("female")]))
        var alice = person("alice")
        alice.template = Twin.TemplateReference(id: "adult", version: 1)
        try source.createTwin(alice)
        try source.append([obs("alice", "2024-01-01T08:00:00Z", 100), obs("alice", "2024-01-02T08:00:00Z", 110, source: lab),
                           obs("alice", "2024-01-03T08:00:00Z", heartRate, 70, "/min")])
        try source.commit(message: "one")
        try source.retract(source: lab, reason: "wrong patient", erase: true)
        try source.fork("alice", at: t("2024-01-02T12:00:00Z"), as: "alice-sim")
        try source.append([obs("alice", "2024-01-05T08:00:00Z", 120)])
        try source.createAggregate("women", where: "sex = female", includeForks: true)
        try source.commit(message: "two")
        let (data, exported) = try source.exportBundle(twin: "alice-sim")
        #expect(exported.twins == ["alice", "alice-sim"])
        let target = try subject.bank()
        let first = try target.importBundle(data)
        #expect(Set(first.twinsCreated) == ["alice", "alice-sim"])
        #expect(first.eventsAdded == exported.events)
        // the fork's and the parent's views are reproduced, retraction and erasure included
        let cutoff = try #require(try source.twin("alice-sim").fork).parentSequence
        func view(_ bank: Bank, _ twin: TwinID) throws -> [Event] {
            try bank.events(ThreadQuery(twin: twin, includeRetracted: true))
        }
        #expect(try view(target, "alice-sim").map(\.id) == view(source, "alice-sim").map(\.id))
        #expect(try view(target, "alice-sim").map(\.value) == view(source, "alice-sim").map(\.value))
        #expect(try view(target, "alice").map(\.id) == view(source, "alice").filter { $0.sequence <= cutoff }.map(\.id))
        #expect(try view(target, "alice").map(\.erasure) == view(source, "alice").filter { $0.sequence <= cutoff }.map(\.erasure))
        #expect(try target.twin("alice-sim").twin == source.twin("alice-sim").twin)
        // importing again adds nothing
        let again = try target.importBundle(data)
        #expect(again.twinsCreated.isEmpty && again.eventsAdded == 0 && again.eventsAlreadyPresent == exported.events)
        // an aggregate travels with its members
        let (agg, aggResult) = try source.exportBundle(aggregate: "women")
        let third = try subject.bank()
        let r3 = try third.importBundle(agg)
        #expect(r3.aggregates == ["women"] && Set(r3.twinsCreated) == Set(aggResult.twins))
        #expect(try third.aggregateIDs() == ["women"])
        #expect(throws: (any Error).self) { try target.importBundle(Data("not a bundle".utf8)) }
    }

    static func bankEraseTwin(_ subject: StorageSubject) throws {
        let storage = try subject.make()
        let bank = Bank(storage: storage, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000))
        try bank.createTwin(person("p1", ["name": .text("Ada Lovelace-Secret")]))
        try bank.createTwin(person("p2", ["name": .text("Grace")]))
        try bank.append([obs("p1", "2025-12-01T08:00:00Z", 101), obs("p2", "2025-12-01T08:00:00Z", 90)])
        try bank.fork("p1", at: t("2025-12-01T09:00:00Z"), as: "p1-a")
        try bank.createAggregate("study", members: ["p1", "p2"])
        try bank.commit(message: "setup")
        var p1 = try bank.twin("p1").twin
        p1.attributes["note"] = .text("second version")
        try bank.updateTwin(p1)
        let report = try bank.erase(twin: "p1", reason: "request 1")
        #expect(report.twins.map(\.twin) == ["p1", "p1-a"] && !report.dryRun)
        #expect(report.twins.first?.eventsPurged == 1)
        #expect(try bank.twinIDs() == ["p2"])
        #expect(try bank.erasedTwinIDs() == ["p1", "p1-a"])
        #expect(try bank.erasure(of: "p1")?.reason == "request 1")
        #expect(try bank.members(of: "study").members == ["p2"])
        // a query at the commit before does not find it either (its definition there is a tombstone)
        #expect(try bank.members(of: "study", at: "HEAD").members == ["p2"])
        #expect(throws: BankError.self) { try bank.createTwin(person("p1")) }
        // no stored object and no row keeps the erased data; p2's are untouched
        let secret = Array("Lovelace-Secret".utf8), second = Array("second version".utf8)
        try storage.read { (tx) throws in
            for kind in ["twin", "twin-version", "tree", "aggregate", "commit"] {
                for h in try tx.objectHashes(kind: kind) {
                    let bytes = try #require(try tx.object(h))
                    #expect(!contains(bytes, secret) && !contains(bytes, second), "object \(h.hex) of kind \(kind)")
                }
            }
            let rows = try tx.events(EventQuery(twin: "p1", visibility: .all))
            #expect(rows.count == 1 && rows.allSatisfy { $0.value == nil && $0.erasure == "request 1" && $0.code == Erasure.tombstoneCode })
            #expect(try tx.events(EventQuery(twin: "p2")).map(\.value) == [.quantity(Quantity(90, "mg/dL"))])
        }
        #expect(try bank.twin("p2").twin.attributes["name"] == .text("Grace"))
    }

    /// Durability: what committed survives reopening, in full; a write that failed left nothing.
    static func reopenedStorageKeepsEverything(_ subject: StorageSubject) throws {
        let reopen = try #require(subject.reopen)
        let storage = try subject.make()
        let bank = Bank(storage: storage, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000))
        try bank.createTwin(person("alice"))
        try bank.append([obs("alice", "2025-01-01T08:00:00Z", 100), obs("alice", "2025-01-02T08:00:00Z", heartRate, 70, "/min", source: lab)])
        try bank.retract(source: lab, reason: "wrong patient", erase: true)
        try bank.fork("alice", at: t("2025-01-01T12:00:00Z"), as: "alice-sim")
        try bank.createAggregate("all", where: "kind = person")
        let c = try bank.commit(message: "one")
        try bank.tag("v1")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try storage.write { (tx) throws in
                try tx.setRef("twin/ghost", "abc")
                try tx.putObject(EventHasher.sha256([42]), kind: "twin", bytes: [42])
                throw Boom()
            }
        }
        let (events, objects, refs, units, last, recorded) = try storage.read { tx in
            (try tx.events(sequences: 1...Int64.max, limit: 1000), try tx.objects(try ["twin", "tree", "commit", "aggregate"].flatMap { try tx.objectHashes(kind: $0) }),
             try tx.refs(prefix: "").map { "\($0.name)=\($0.value)" }, try tx.units(), try tx.lastSequence(), try tx.lastRecorded())
        }
        let again = try reopen(storage)
        try again.read { (tx) throws in
            #expect(try tx.events(sequences: 1...Int64.max, limit: 1000) == events)
            #expect(try tx.objects(Array(objects.keys)) == objects)
            #expect(try tx.refs(prefix: "").map { "\($0.name)=\($0.value)" } == refs)
            #expect(try tx.units() == units)
            #expect(try tx.lastSequence() == last && tx.lastRecorded() == recorded)
            #expect(try tx.ref("twin/ghost") == nil && tx.object(EventHasher.sha256([42])) == nil)
        }
        let reopened = Bank(storage: again, clock: ManualClock(t("2026-02-01T00:00:00Z"), stepMicroseconds: 1_000_000))
        #expect(try reopened.log().map(\.id) == [c.id])
        #expect(try reopened.twinIDs() == ["alice", "alice-sim"])
        #expect(try reopened.members(of: "all", asOf: t("2025-06-01T00:00:00Z")).members == ["alice"])
        #expect(try reopened.events(ThreadQuery(twin: "alice-sim")).count == 1)
        // and it takes new writes after what was there
        try reopened.append([obs("alice", "2025-01-03T08:00:00Z", 120)])
        #expect(try reopened.lastSequence() > last)
        #expect(try reopened.state(of: "alice").first { $0.code.key == glucose.key }?.value == .quantity(Quantity(120, "mg/dL")))
    }
}

/// Whether `needle` occurs in `bytes`.
func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, bytes.count >= needle.count else { return needle.isEmpty }
    for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i ..< i + needle.count]) == needle { return true }
    return false
}

// MARK: - Pages of a thread

/// A gate that lets reads through with a filter (no heart rate), as a consent's data scope does.
private struct NoHeartRateGate: AccessGate {
    struct Filter: AccessFilter {
        func admits(_ event: Event) -> Bool { event.code.key != heartRate.key }
        var description: String { "all but heart rate" }
    }
    func authorize(_ request: AccessRequest) throws {
        if request.action == .read { throw BankError(.accessDenied, "reads carry a filter", value: request.actor) }
    }
    func decide(_ request: AccessRequest) throws -> (any AccessFilter)? { request.action == .read ? Filter() : nil }
}

extension StorageConformance {
    /// A thread read page by page (``TwinBank/ThreadQuery/after`` and ``TwinBank/ThreadQuery/limit``) gives, page after
    /// page, exactly the events of the whole query, in order: on a fork (its parent's events and its own), with equal
    /// effective times (ordered by sequence), implausible values left out of observation queries, retractions, a replay
    /// as known before, a code, and a gate's filter; and the storage's own keyset query both ways.
    static func bankThreadPages(_ subject: StorageSubject) throws {
        let storage = try subject.make()
        let bank = Bank(storage: storage, clock: ManualClock(t("2026-01-01T00:00:00Z"), stepMicroseconds: 1_000_000))
        try bank.createTwin(person("alice"))
        var rng: UInt64 = 0x5EED
        func next(_ n: UInt64) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((rng >> 33) % n) }
        func drafts(_ twin: TwinID, _ count: Int) -> [EventDraft] {
            (0 ..< count).map { i in
                // 30 effective times for many events: ties ordered by sequence
                let time = t("2025-03-01T00:00:00Z").advanced(bySeconds: Double(next(30)) * 600)
                let heart = next(3) == 0
                var d = EventDraft.observation(twin, at: time, code: heart ? heartRate : glucose, Quantity(Double(80 + i), heart ? "/min" : "mg/dL"), source: cgm)
                if next(5) == 0 { d.category = .prediction }
                if next(7) == 0 { d.provenance = Provenance(notes: Provenance.implausibleFlag + " out of range") }
                return d
            }
        }
        try bank.append(drafts("alice", 70))
        let known = try bank.lastSequence()
        let fork = try bank.fork("alice", at: t("2025-03-01T02:30:00Z"), as: "alice-f")
        try bank.append(drafts("alice", 30))
        try bank.append(drafts("alice-f", 40))
        for s in [Int64(3), 11, 42, known + 5] { _ = try bank.retract(event: .sequence(s), reason: "meter fault") }
        #expect(fork.fork?.parent == "alice")

        func pages(_ bank: Bank, _ q: ThreadQuery, size: Int) throws -> [Event] {
            var all: [Event] = [], query = q, rounds = 0
            query.limit = size
            while true {
                let page = try bank.events(query)
                #expect(page.count <= size)
                all += page
                rounds += 1
                if page.count < size || rounds > 1_000 { return all }
                query.after = EventPosition(page[page.count - 1])
            }
        }
        let queries: [(String, ThreadQuery)] = [
            ("the thread", ThreadQuery(twin: "alice")),
            ("observations (no implausible)", ThreadQuery(twin: "alice", category: .observation)),
            ("with retracted", ThreadQuery(twin: "alice", includeRetracted: true)),
            ("known before", ThreadQuery(twin: "alice", knownAtSequence: known)),
            ("a code", ThreadQuery(twin: "alice", code: glucose.key)),
            ("a window", ThreadQuery(twin: "alice", from: t("2025-03-01T01:00:00Z"), to: t("2025-03-01T03:00:00Z"))),
            ("the fork", ThreadQuery(twin: "alice-f")),
            ("the fork's observations", ThreadQuery(twin: "alice-f", category: .observation)),
        ]
        let filtered = Bank(storage: storage, gate: NoHeartRateGate(), clock: ManualClock(t("2026-01-01T00:00:00Z")))
        for (name, q) in queries {
            for (which, b) in [("permit", bank), ("filter", filtered)] {
                let whole = try b.events(q)
                #expect(whole.count > 3, "\(name), \(which): too few events to page")
                for size in [1, 2, 7, 50, 1_000] {
                    let paged = try pages(b, q, size: size)
                    #expect(paged.map(\.sequence) == whole.map(\.sequence), "\(name), \(which), pages of \(size)")
                    #expect(paged == whole, "\(name), \(which), pages of \(size): the same events")
                }
                // a page after an event: the events after it in the order
                let middle = EventPosition(whole[whole.count / 2])
                var after = q
                after.after = middle
                #expect(try b.events(after).map(\.sequence) == whole.filter { middle < EventPosition($0) }.map(\.sequence), "\(name), \(which), after the middle")
            }
        }
        #expect(try filtered.events(ThreadQuery(twin: "alice")).allSatisfy { $0.code.key != heartRate.key })
        // the storage's keyset query, both directions, matches its reference semantics
        try storage.read { (tx) throws in
            let all = try tx.events(EventQuery(twin: "alice", visibility: .all))
            let middle = EventPosition(all[all.count / 3])
            let up = try tx.events(EventQuery(twin: "alice", visibility: .all, limit: 10, after: middle))
            #expect(up.map(\.sequence) == Array(all.filter { middle < EventPosition($0) }.prefix(10)).map(\.sequence))
            let down = try tx.events(EventQuery(twin: "alice", visibility: .all, descending: true, limit: 10, after: middle))
            #expect(down.map(\.sequence) == Array(all.filter { EventPosition($0) < middle }.reversed().prefix(10)).map(\.sequence))
        }
    }
}
