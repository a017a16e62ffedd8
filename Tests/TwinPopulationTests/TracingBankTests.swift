import Foundation
import Testing
import TwinBank
import TwinCore
@testable import TwinPopulation

/// Issue 24 item 3 over the bank: pings as location events in twins' threads; close contacts written back to
/// the contacts' threads, once.
@Suite("tracing: pings in the bank")
struct TracingBankTests {
    static let t0 = Instant(microseconds: 1_717_236_000_000_000)   // 2024-06-01T10:00:00Z

    /// alice (the case) at a café; bob 4 m away 10 minutes later; carol at the café 20 minutes after alice left
    /// (outside the 15-minute window); dave 40 m away; erin not in the aggregate but 1 m away.
    func bank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage(), clock: ManualClock(Self.t0.advanced(bySeconds: 86_400), stepMicroseconds: 1000))
        for id in ["alice", "bob", "carol", "dave", "erin"] { _ = try bank.createTwin(Twin(id: TwinID(id), kind: .person)) }
        try bank.createAggregate(try AggregateID("street"), members: ["alice", "bob", "carol", "dave"])
        let src = Source(.device, "phone")
        func at(_ minutes: Double) -> Instant { Self.t0.advanced(bySeconds: minutes * 60) }
        try bank.append([
            LocationEvents.ping("alice", at: at(0), latitude: 45.5, longitude: -73.6, source: src),
            LocationEvents.ping("alice", at: at(5), latitude: 45.5, longitude: -73.6, source: src),
            LocationEvents.ping("bob", at: at(10), latitude: 45.500036, longitude: -73.6, source: src),
            LocationEvents.ping("bob", at: at(15), latitude: 45.500036, longitude: -73.6, source: src),
            LocationEvents.ping("carol", at: at(25), latitude: 45.5, longitude: -73.6, source: src),
            LocationEvents.ping("dave", at: at(1), latitude: 45.50036, longitude: -73.6, source: src),
            LocationEvents.ping("erin", at: at(1), latitude: 45.500009, longitude: -73.6, source: src),
        ])
        return bank
    }

    @Test func closeContactsAreWrittenOnce() throws {
        let bank = try bank()
        let c = try ProximityCriteria(distance: 10, window: 900)
        let r = try ContactTracer.trace(bank: bank, aggregate: "street", cases: ["alice"], criteria: c)
        #expect(r.contacts.map(\.contact) == ["bob"])
        #expect(r.twins == 4 && r.pings == 6)
        let first = try #require(r.contacts.first)
        #expect(first.from == Self.t0.advanced(bySeconds: 600) && first.to == Self.t0.advanced(bySeconds: 900))
        #expect(r.written == 1)
        let events = try bank.events(ThreadQuery(twin: "bob", code: LocationEvents.closeContact.key))
        #expect(events.count == 1)
        #expect(events.first?.value == .text("alice"))
        #expect(events.first?.effective == EffectiveTime(Self.t0.advanced(bySeconds: 600), end: Self.t0.advanced(bySeconds: 900)))
        #expect(try bank.events(ThreadQuery(twin: "carol", code: LocationEvents.closeContact.key)).isEmpty)
        #expect(try bank.events(ThreadQuery(twin: "erin", code: LocationEvents.closeContact.key)).isEmpty)

        let again = try ContactTracer.trace(bank: bank, aggregate: "street", cases: ["alice"], criteria: c)
        #expect(again.written == 0 && again.alreadyInThreads == 1)
        #expect(try bank.events(ThreadQuery(twin: "bob", code: LocationEvents.closeContact.key)).count == 1)

        // a wider window reaches carol; a case outside the aggregate is traced too (erin's contacts)
        let wider = try ContactTracer.trace(bank: bank, aggregate: "street", cases: ["alice", "erin"],
                                            criteria: try ProximityCriteria(distance: 10, window: 1500), write: false)
        #expect(wider.contacts.map { "\($0.indexCase)>\($0.contact)" } == ["alice>bob", "alice>carol", "alice>erin", "erin>alice", "erin>bob", "erin>carol"])
        #expect(wider.written == 0)
    }

    @Test func badLocationAndUnknownCaseAreNamed() throws {
        let bank = try bank()
        try bank.append([EventDraft(twin: "dave", effective: EffectiveTime(Self.t0), code: LocationEvents.location,
                                    value: .vector(Vector([95, 10], unit: "deg")), source: Source(.device, "phone"))])
        let c = try ProximityCriteria(distance: 10, window: 900)
        let e = tracingError { _ = try ContactTracer.trace(bank: bank, aggregate: "street", cases: ["alice"], criteria: c) }
        #expect(e?.code == .invalidPings && e?.message.contains("dave") == true && e?.message.contains("95") == true, "\(String(describing: e))")
        #expect(try bank.events(ThreadQuery(twin: "bob", code: LocationEvents.closeContact.key)).isEmpty)
        let u = tracingError { _ = try ContactTracer.trace(bank: bank, aggregate: "street", cases: ["zoe"], criteria: c) }
        #expect(u?.code == .invalidCases && u?.value == "zoe")
    }
}
