import Testing
import TwinBank
import TwinCore
import TwinSync
@testable import TwinPopulation

/// The live link of tracing: a close contact in a person's thread raises an alert and quarantine advice, once per
/// quiet period, never for a retracted contact.
@Suite struct CloseContactWatcherTests {
    static func at(_ s: String) -> Instant { Instant.parse(s)! }

    static func contact(_ twin: TwinID, case index: String, from: String, to: String) -> EventDraft {
        EventDraft(twin: twin, effective: EffectiveTime(at(from), end: at(to)), code: LocationEvents.closeContact,
                   value: .text(index), source: Source(.model, "proximity tracing"), provenance: Provenance(model: "proximity tracing", notes: "10 m, 900 s"))
    }

    static func update(_ bank: Bank, _ twin: TwinID, _ result: AppendResult) throws -> ThreadUpdate {
        let events = try bank.events(ThreadQuery(twin: twin)).filter { $0.sequence >= result.firstSequence && $0.sequence <= result.lastSequence }
        return ThreadUpdate(twin: twin, sequence: result.lastSequence, recorded: result.recorded, events: events)
    }

    @Test func alertsOncePerQuietPeriodWithQuarantineAdvice() async throws {
        let bank = Bank(storage: MemoryStorage())
        _ = try bank.createTwin(Twin(id: "bob", kind: .person))
        let watcher = try CloseContactWatcher()
        let first = try bank.append([Self.contact("bob", case: "alice", from: "2024-06-01T10:00:00Z", to: "2024-06-01T10:20:00Z"),
                                     Self.contact("bob", case: "dan", from: "2024-06-01T09:00:00Z", to: "2024-06-01T09:05:00Z")])
        let u1 = try Self.update(bank, "bob", first)
        #expect(u1.events.allSatisfy(watcher.isTrigger))
        let drafts = try await watcher.evaluate(u1, in: bank)
        #expect(drafts.map(\.category) == [.alert, .recommendation])
        let alert = drafts[0]
        #expect(alert.effective.start == Self.at("2024-06-01T10:20:00Z"))
        guard case .text(let text)? = alert.value else { Issue.record("alert value \(String(describing: alert.value))"); return }
        #expect(text.contains("alice") && text.contains("dan") && text.contains("10 m, 900 s"), "\(text)")
        #expect(Set(alert.provenance.derivedFrom) == Set(u1.events.map(\.id)))
        #expect(alert.provenance.notes?.contains(u1.marker(watcher: watcher.name)) == true)
        guard case .text(let advice)? = drafts[1].value else { Issue.record("advice \(String(describing: drafts[1].value))"); return }
        #expect(advice.contains("2024-06-15T10:20:00"), "\(advice)")
        // deterministic
        #expect(try await watcher.evaluate(u1, in: bank) == drafts)
        _ = try bank.append(drafts)

        // another case the same evening: within the 24 h quiet period, no new alert
        let second = try bank.append([Self.contact("bob", case: "erin", from: "2024-06-01T18:00:00Z", to: "2024-06-01T18:10:00Z")])
        #expect(try await watcher.evaluate(try Self.update(bank, "bob", second), in: bank).isEmpty)
        // two days later: a new exposure alerts again
        let third = try bank.append([Self.contact("bob", case: "fay", from: "2024-06-03T12:00:00Z", to: "2024-06-03T12:30:00Z")])
        let again = try await watcher.evaluate(try Self.update(bank, "bob", third), in: bank)
        #expect(again.count == 2)
    }

    @Test func ignoresOtherEventsAndRejectsABadQuarantine() async throws {
        let watcher = try CloseContactWatcher(quietPeriod: .off)
        let bank = Bank(storage: MemoryStorage())
        _ = try bank.createTwin(Twin(id: "bob", kind: .person))
        let ping = try bank.append([LocationEvents.ping("bob", at: Self.at("2024-06-01T10:00:00Z"), latitude: 45.5, longitude: -73.6,
                                                        source: Source(.device, "phone"))])
        let u = try Self.update(bank, "bob", ping)
        #expect(!u.events.contains(where: watcher.isTrigger))
        #expect(try await watcher.evaluate(u, in: bank).isEmpty)
        #expect(throws: PopulationError.self) { try CloseContactWatcher(quarantineDays: -1) }
        #expect(throws: PopulationError.self) { try CloseContactWatcher(quarantineDays: .nan) }
    }
}
