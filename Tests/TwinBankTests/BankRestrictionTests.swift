import Foundation
import Testing
import TwinBank
import TwinCore

/// A credential's restriction (``Bank/restriction``) narrows every read of a twin's events, on every storage, as a
/// consent's filter does, and leaves definitions, bank-wide reads and writes alone.
@Suite struct BankRestrictionTests {
    /// Admits observations only (a stand-in for a token whose scopes read one resource type).
    struct ObservationsOnly: AccessFilter {
        func admits(_ event: Event) -> Bool { event.category == .observation }
        var description: String { "observations only" }
    }

    /// Admits what the consent lets through: events of device sources.
    struct DevicesOnly: AccessFilter {
        func admits(_ event: Event) -> Bool { event.source.kind == .device }
        var description: String { "devices only" }
    }

    /// A gate that permits everything, with `filter` on reads of a twin.
    struct FilteringGate: AccessGate {
        let filter: (any AccessFilter)?
        func authorize(_ request: AccessRequest) throws {
            if try decide(request) != nil { throw BankError(.accessDenied, "filtered", value: request.actor) }
        }
        func decide(_ request: AccessRequest) throws -> (any AccessFilter)? { request.twin == nil || request.action != .read ? nil : filter }
    }

    static func filled(_ kind: StorageKind, gate: any AccessGate = PermitAll()) throws -> Bank {
        let bank = try makeBank(kind, gate: gate, now: "2026-02-01T00:00:00Z")
        try bank.createTwin(person("p1"))
        try bank.append([
            obs("p1", "2026-01-01T08:00:00Z", 95),
            obs("p1", "2026-01-01T09:00:00Z", 140, source: lab),
            EventDraft(twin: "p1", effective: EffectiveTime(t("2026-01-01T09:05:00Z")), category: .alert,
                       code: Concept.loinc("2339-0"), value: .text("high"), source: Source(.model, "watch")),
            EventDraft(twin: "p1", effective: EffectiveTime(t("2026-01-01T09:10:00Z")), category: .intervention,
                       code: Concept(system: "http://snomed.info/sct", code: "225908003"), value: nil, source: Source(.person, "dr-1")),
        ])
        return bank
    }

    @Test(arguments: StorageKind.allCases)
    func readsAreNarrowedDefinitionsAndWritesAreNot(_ kind: StorageKind) throws {
        let base = try Self.filled(kind)
        let bank = base.acting(as: "app", purpose: "care", claimedRole: nil, restriction: ObservationsOnly())
        // the thread, its state, a page of it, a reader: observations only
        #expect(try base.events(ThreadQuery(twin: "p1")).count == 4)
        #expect(try bank.events(ThreadQuery(twin: "p1")).map(\.category) == [.observation, .observation])
        #expect(try bank.state(of: "p1", asOf: nil, knownAt: nil, code: nil).allSatisfy { $0.category == .observation })
        var q = ThreadQuery(twin: "p1"); q.limit = 1
        let first = try bank.events(q)
        #expect(first.count == 1 && first[0].category == .observation)
        #expect(try bank.reading("p1") { try $0.events(ThreadQuery(twin: "p1")) }.count == 2)
        // the definition and bank-wide reads are not events: not narrowed
        #expect(try bank.twin("p1").twin.id == "p1")
        #expect(try bank.twinIDs() == ["p1"])
        // an entry point that cannot apply a filter refuses (fail closed), naming the restriction
        #expect(throws: BankError.self) { try bank.authorize(.simulate, "p1") }
        do { _ = try bank.exportBundle(twin: "p1"); Issue.record("an export under a restriction was not refused") } catch let e as BankError {
            #expect(e.code == .accessDenied && e.message.contains("observations only"), "\(e.message)")
        }
        // writes are not narrowed, nor are the reads a write makes in its own transaction
        try bank.append([obs("p1", "2026-01-02T08:00:00Z", 101)])
        let seen = try bank.write { w in try w.events(ThreadQuery(twin: "p1")) }
        #expect(seen.count == 5)
        // acting for another purpose keeps the restriction (it only narrows)
        #expect(try bank.acting(as: "app", purpose: "research").events(ThreadQuery(twin: "p1")).count == 3)
        // a scan gives the definition and a narrowed reader
        var scanned: [Event] = []
        let scan = try bank.scanThreads { _, reader in scanned += try reader.events(ThreadQuery(twin: "p1")) }
        #expect(scan.read == ["p1"] && scan.refused.isEmpty)
        #expect(scanned.count == 3 && scanned.allSatisfy { $0.category == .observation })
    }

    @Test(arguments: StorageKind.allCases)
    func theRestrictionAndTheGatesFilterBothApply(_ kind: StorageKind) throws {
        let base = try Self.filled(kind, gate: FilteringGate(filter: DevicesOnly()))
        let unrestricted = base.acting(as: "app", purpose: "care")
        // the gate alone: the device's events (the observation from cgm-7 only; the lab's is a record)
        #expect(try unrestricted.events(ThreadQuery(twin: "p1")).map(\.source) == [cgm])
        // both: observations from devices
        let bank = base.acting(as: "app", purpose: "care", claimedRole: nil, restriction: ObservationsOnly())
        let events = try bank.events(ThreadQuery(twin: "p1"))
        #expect(events.count == 1 && events[0].source == cgm && events[0].category == .observation)
        let filter = try #require(try bank.decide(.read, "p1"))
        #expect(filter.description.contains("devices only") && filter.description.contains("observations only"))
        // a bank-wide decision is the gate's alone
        #expect(try bank.decide(.read, nil) == nil)
        // a write decision is not narrowed; a decision for another action that reads is
        #expect(try bank.decide(.write, "p1") == nil)
        #expect(try bank.decide(.simulate, "p1")?.description == "observations only")
    }
}
