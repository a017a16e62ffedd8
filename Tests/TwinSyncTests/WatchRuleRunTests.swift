import Synchronization
import Testing
import TwinBank
import TwinCore
@testable import TwinSync

/// A gate that permits everything and counts the reads it is asked to decide.
final class ReadCountingGate: AccessGate {
    private let count = Mutex(0)
    var reads: Int { count.withLock { $0 } }
    func authorize(_ request: AccessRequest) throws {
        if request.action == .read { count.withLock { $0 += 1 } }
    }
}

/// NEWS2 as a watcher that is not a ``RuleWatcher``: the watch evaluates it on each update through the bank, one update
/// at a time, as it evaluates any model.
struct NEWS2AsModel: ThreadWatcher {
    let rule: NEWS2ThreadWatcher
    var name: String { rule.name }
    func isTrigger(_ event: Event) -> Bool { rule.isTrigger(event) }
    func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] { try await rule.evaluate(update, in: bank) }
}

/// The watch evaluates rule watchers on a run of updates in one read transaction under one decision of the gate, and
/// writes exactly what it writes when it evaluates them one update at a time.
@Suite struct WatchRuleRunTests {
    /// A ward patient's vital signs every 5 minutes, one append each: normal sets, a deterioration to NEWS2 5 at 60 min
    /// and to 8 at 70 min (an escalation within the quiet period), normal again, a red 3 (voice) at 150 min.
    static func history(_ v: VitalsTwin) -> [[EventDraft]] {
        (0..<36).map { k -> [EventDraft] in
            let m = Double(k * 5)
            switch k {
            case 12, 13: return v.set(rr: 22, spo2: 95, systolic: 120, pulse: 95, temperature: 38.5, at: m)
            case 14, 15: return v.set(rr: 25, spo2: 93, systolic: 105, pulse: 115, temperature: 37, at: m)
            case 30: return v.set(rr: 16, spo2: 97, systolic: 120, pulse: 70, level: "Voice", temperature: 37, at: m)
            default: return v.set(rr: 16, spo2: 97, systolic: 120, pulse: 70, temperature: 37, at: m)
            }
        }
    }

    @Test func quietUpdatesCostNoReadOfTheirOwn() async throws {
        let gate = ReadCountingGate()
        let v = try VitalsTwin(gate: gate)
        for batch in Self.history(v) { try v.append(batch) }
        let service = try WatchService(bank: v.bank, twins: [v.twin], watchers: [try NEWS2ThreadWatcher()])
        let before = gate.reads
        let notices = try await service.runOnce()
        let reads = gate.reads - before
        // alerts at 60 (medium), 70 (escalates to high) and 150 min (a red 3, outside the quiet period), each with its response
        #expect(notices.count == 6 && notices.allSatisfy { $0.error == nil })
        // 36 updates: one decision per run of updates up to an alert, one per alert's write (its held check and
        // append in one transaction), the start's reads (the last sequence, the resume point's three); one per code
        // per update before (36 x 11)
        #expect(reads <= 3 + 1 + 3 + 4 * 1 + 3, "\(reads) read decisions for 36 updates")
        #expect(try await service.runOnce().isEmpty)
    }

    @Test func aRunWritesWhatUpdateByUpdateWrites() async throws {
        var written: [[String]] = []
        for watcher in [try NEWS2ThreadWatcher() as any ThreadWatcher, NEWS2AsModel(rule: try NEWS2ThreadWatcher())] {
            let v = try VitalsTwin()
            for batch in Self.history(v) { try v.append(batch) }
            let service = try WatchService(bank: v.bank, twins: [v.twin], watchers: [watcher])
            _ = try await service.runOnce()
            let raised = try v.events(.alert) + v.events(.recommendation)
            written.append(raised.map { "\($0.id) \($0.effective.start.iso8601) \($0.provenance.notes ?? "")" }.sorted())
        }
        #expect(written[0].count == 6)
        #expect(written[0] == written[1])
    }

    /// A rule and a model on the same twin: the model still runs on every update that triggers it, in order, and the
    /// rule's alerts are the same as alone.
    @Test func aRuleBesideAModel() async throws {
        let v = try VitalsTwin()
        for batch in Self.history(v) { try v.append(batch) }
        let service = try WatchService(bank: v.bank, twins: [v.twin], watchers: [try NEWS2ThreadWatcher(), FailingWatcher()])
        let notices = try await service.runOnce()
        #expect(notices.filter { $0.error != nil }.count == 36)
        #expect(notices.filter { $0.error == nil }.count == 6)
        #expect(notices.map(\.update) == notices.map(\.update).sorted())
    }
}
