import Testing
import TwinBank
import TwinCore

/// Replaying what the bank knew (`knownAt`) shows an event retracted later as it was then: visible and not
/// marked retracted. Found by the issue 22 walkthrough: `thread query --known-at T` marked such events
/// `(retracted)` though the retraction came after T.
@Suite struct KnownAtRetractionTests {
    @Test(arguments: StorageKind.allCases)
    func aLaterRetractionIsNotShownInAnEarlierReplay(kind: StorageKind) throws {
        let bank = try makeBank(kind)
        try bank.createTwin(person("ann"))
        let first = try bank.append([obs("ann", "2025-06-01T08:00:00Z", 120), obs("ann", "2025-06-01T08:05:00Z", 124, source: lab)])
        let before = first.lastSequence
        _ = try bank.retract(source: cgm, reason: "faulty sensor")

        // as known before the retraction: both events, neither marked
        let then = try bank.events(ThreadQuery(twin: "ann", knownAtSequence: before))
        #expect(then.count == 2)
        #expect(then.allSatisfy { $0.retractedAtSequence == nil })
        let stateThen = try bank.state(of: "ann", asOf: t("2025-06-01T08:02:00Z"), knownAtSequence: before)
        #expect(stateThen.count == 1 && stateThen[0].source == cgm && stateThen[0].retractedAtSequence == nil)

        // now: the cgm event is gone from the current view, and marked when retracted events are asked for
        let now = try bank.events(ThreadQuery(twin: "ann", code: glucose.key))
        #expect(now.map(\.source) == [lab])
        let all = try bank.events(ThreadQuery(twin: "ann", code: glucose.key, includeRetracted: true))
        #expect(all.count == 2)
        #expect(all.filter { $0.retractedAtSequence != nil }.map(\.source) == [cgm])
    }
}
