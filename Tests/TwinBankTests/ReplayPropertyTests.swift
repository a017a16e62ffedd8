import Foundation
import Testing
import TwinBank
import TwinCore

/// Property test: for random sequences of appends, forks, retractions and erasures (seeded), every thread,
/// as-of and known-at query of the bank equals a naive replay of the operation log.
@Suite struct ReplayPropertyTests {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// The naive model: a flat log.
    struct ModelEvent {
        var twin: TwinID
        var eff: Int64
        var seq: Int64
        var code: CodeKey
        var value: Value?
        var source: Source
        var category: Event.Category
        var retractedAt: Int64?
    }
    struct ModelFork { var parent: TwinID; var cutoff: Int64; var point: Int64 }
    struct Model {
        var events: [ModelEvent] = []
        var forks: [TwinID: ModelFork] = [:]
        var batches: [(recorded: Int64, last: Int64)] = []
        var seq: Int64 = 0

        func knownSeq(_ k: Int64) -> Int64 { batches.filter { $0.recorded <= k }.map(\.last).max() ?? 0 }

        /// The thread of a twin: the naive definition, straight from the log.
        func thread(_ twin: TwinID, knownAt: Int64?) -> [ModelEvent] {
            var segments: [(TwinID, Int64, Int64)] = [(twin, .max, .max)]
            var cur = twin, maxSeq = Int64.max, maxEff = Int64.max
            while let f = forks[cur] {
                maxSeq = min(maxSeq, f.cutoff); maxEff = min(maxEff, f.point)
                segments.append((f.parent, maxSeq, maxEff)); cur = f.parent
            }
            let k = knownAt.map(knownSeq)
            return events.filter { e in
                segments.contains { s in e.twin == s.0 && e.seq <= s.1 && e.eff <= s.2 } &&
                    (k.map { k in e.seq <= k && (e.retractedAt.map { $0 > k } ?? true) } ?? (e.retractedAt == nil))
            }.sorted { ($0.eff, $0.seq) < ($1.eff, $1.seq) }
        }

        func state(_ twin: TwinID, asOf: Int64, knownAt: Int64?) -> [ModelEvent] {
            var best: [CodeKey: ModelEvent] = [:]
            for e in thread(twin, knownAt: knownAt) where e.eff <= asOf && e.code != retractionCode.key {
                if let b = best[e.code], (b.eff, b.seq) > (e.eff, e.seq) { continue }
                best[e.code] = e
            }
            return best.keys.sorted().map { best[$0]! }
        }
    }

    static let day: Int64 = 86_400_000_000

    @Test(arguments: [(StorageKind.memory, UInt64(1)), (.memory, 2), (.memory, 3), (.sqlite, 4), (.sqlite, 5)])
    func queriesEqualNaiveReplay(kind: StorageKind, seed: UInt64) throws {
        var rng = Rng(s: seed)
        let clock = ManualClock(Instant(microseconds: 1_700_000_000_000_000))
        let bank = Bank(storage: try kind.make(), clock: clock)
        var model = Model()
        var twins: [TwinID] = ["p0", "p1", "p2"]
        for t in twins { try bank.createTwin(Twin(id: t, kind: .person, origin: Instant(microseconds: 0))) }
        let codes = [glucose, heartRate]
        let units = ["mg/dL", "/min"]
        let sources = [Source(.device, "a"), Source(.device, "b"), Source(.record, "c")]
        var counter = 0.0
        var recordedTimes: [Int64] = []

        for step in 0..<70 {
            clock.advance(byMicroseconds: 1_000_000)
            let now = clock.now().microseconds
            let op = rng.int(10)
            if op < 6 {
                // append a batch of 1-5 events to one twin
                let twin = twins[rng.int(twins.count)]
                var drafts: [EventDraft] = []
                for _ in 0..<(1 + rng.int(5)) {
                    let c = rng.int(2)
                    counter += 1
                    drafts.append(EventDraft(twin: twin, effective: EffectiveTime(Instant(microseconds: Int64(rng.int(100)) * Self.day + Int64(rng.int(3)))),
                                             category: rng.int(4) == 0 ? .prediction : .observation, code: codes[c],
                                             value: .quantity(Quantity(counter, units[c])), source: sources[rng.int(3)]))
                }
                let r = try bank.append(drafts)
                for d in drafts {
                    model.seq += 1
                    model.events.append(ModelEvent(twin: twin, eff: d.effective.start.microseconds, seq: model.seq, code: d.code.key,
                                                   value: d.value, source: d.source, category: d.category))
                }
                model.batches.append((now, model.seq))
                #expect(r.lastSequence == model.seq)
            } else if op < 8 {
                let parent = twins[rng.int(twins.count)]
                let name = try TwinID("f\(step)")
                let point = Int64(rng.int(100)) * Self.day
                try bank.fork(parent, at: Instant(microseconds: point), as: name)
                model.forks[name] = ModelFork(parent: parent, cutoff: model.seq, point: point)
                twins.append(name)
            } else {
                let source = sources[rng.int(3)]
                let erase = rng.int(3) == 0
                let affected = Array(Set(model.events.filter { $0.source == source }.map(\.twin))).sorted()
                let current = model.events.filter { $0.source == source && $0.retractedAt == nil && $0.category != .retraction }.count
                if affected.isEmpty || (current == 0 && !erase) {
                    let before = try bank.lastSequence()
                    #expect(throws: BankError.self) { try bank.retract(source: source, reason: "r\(step)", erase: erase) }
                    #expect(try bank.lastSequence() == before)
                } else {
                    let r = try bank.retract(source: source, reason: "r\(step)", erase: erase)
                    #expect(r.twins == affected)
                    #expect(r.eventsRetracted == current)
                    let first = model.seq + 1
                    for i in model.events.indices where model.events[i].source == source && model.events[i].category != .retraction {
                        if model.events[i].retractedAt == nil { model.events[i].retractedAt = first }
                        if erase { model.events[i].value = nil }
                    }
                    for t in affected {
                        model.seq += 1
                        model.events.append(ModelEvent(twin: t, eff: now, seq: model.seq, code: retractionCode.key, value: .text("r\(step)"),
                                                       source: Source(.bank, "retraction"), category: .retraction))
                    }
                    model.batches.append((now, model.seq))
                }
            }
            recordedTimes.append(now)

            // compare a handful of random queries against the naive replay
            for _ in 0..<4 {
                let twin = twins[rng.int(twins.count)]
                let knownAt: Int64? = rng.int(2) == 0 ? nil : recordedTimes[rng.int(recordedTimes.count)] + Int64(rng.int(2)) * 500_000
                let asOf = Int64(rng.int(101)) * Self.day + Int64(rng.int(3))
                let expected = model.thread(twin, knownAt: knownAt)
                let actual = try bank.events(ThreadQuery(twin: twin, knownAt: knownAt.map(Instant.init(microseconds:))))
                #expect(actual.map(\.sequence) == expected.map(\.seq), "thread \(twin) knownAt \(String(describing: knownAt)) step \(step)")
                #expect(actual.map(\.value) == expected.map(\.value))
                let es = model.state(twin, asOf: asOf, knownAt: knownAt)
                let s = try bank.state(of: twin, asOf: Instant(microseconds: asOf), knownAt: knownAt.map(Instant.init(microseconds:)))
                #expect(s.map(\.sequence) == es.map(\.seq), "state \(twin) asOf \(asOf) knownAt \(String(describing: knownAt)) step \(step)")
            }
        }
    }
}
