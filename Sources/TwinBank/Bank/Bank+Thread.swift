import Foundation
import TwinCore

/// What an append wrote.
public struct AppendResult: Sendable, Hashable, Codable {
    public var count: Int
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var recorded: Instant
    /// Content hashes of the appended events, in input order.
    public var ids: [ContentHash]
}

/// A query over a twin's thread, with forks resolved and both time axes.
public struct ThreadQuery: Sendable, Hashable {
    public var twin: TwinID
    public var code: CodeKey?
    public var category: Event.Category?
    /// Effective start `>= from`.
    public var from: Instant?
    /// Effective start `<= to`.
    public var to: Instant?
    /// Replay what was known at this recorded time (nil: now).
    public var knownAt: Instant?
    /// Replay what was known after this sequence number (a commit's thread pin); combined with `knownAt`
    /// by taking the earlier.
    public var knownAtSequence: Int64?
    /// Include retracted events (marked with ``TwinCore/Event/retractedAtSequence``).
    public var includeRetracted: Bool

    public init(twin: TwinID, code: CodeKey? = nil, category: Event.Category? = nil, from: Instant? = nil, to: Instant? = nil,
                knownAt: Instant? = nil, knownAtSequence: Int64? = nil, includeRetracted: Bool = false) {
        self.twin = twin; self.code = code; self.category = category; self.from = from; self.to = to
        self.knownAt = knownAt; self.knownAtSequence = knownAtSequence; self.includeRetracted = includeRetracted
    }
}

/// The code of retraction events.
public let retractionCode = Concept(system: "urn:twinbank", code: "retraction", display: "retraction of a data source")

/// One segment of a twin's lineage: its own rows, or an ancestor's rows up to a cut-off.
struct LineageSegment {
    var twin: TwinID
    var maxSequence: Int64?
    var maxEffective: Instant?
}

extension Bank {
    /// Appends events to twins' threads as one all-or-nothing batch.
    ///
    /// Each event is checked: the twin exists; values are finite; a quantity's unit parses as UCUM, fits the
    /// code if the code is well known (``TwinCore/CodeUnits``) and converts (``TwinCore/AnalyteConversion``: glucose
    /// mg/dL and mmol/L, HbA1c % and mmol/mol ...) to the first unit this bank saw for the code; the value is stored
    /// as given, in its own unit; the effective time is not before the twin existed (``TwinCore/Twin/existenceStart``); the event is
    /// not a duplicate (same content hash) of one in the batch or the thread; the category is not `retraction`
    /// (use ``retract(source:reason:erase:)``). The first failure rejects the whole batch with an error naming
    /// the row (1-based) and the value.
    ///
    /// All events of a batch share one recorded time, strictly after the previous batch's, and get consecutive
    /// sequence numbers.
    /// An empty batch writes nothing.
    @discardableResult
    public func append(_ drafts: [EventDraft]) throws -> AppendResult {
        if drafts.isEmpty {
            let last = try lastSequence()
            return AppendResult(count: 0, firstSequence: last + 1, lastSequence: last, recorded: clock.now(), ids: [])
        }
        var twinsSeen = Set<TwinID>()
        for d in drafts where twinsSeen.insert(d.twin).inserted { try authorize(.write, d.twin) }
        return try storage.write { tx in try appendInTransaction(drafts, tx) }
    }

    func appendInTransaction(_ drafts: [EventDraft], _ tx: any StorageWriter) throws -> AppendResult {
        var records: [TwinID: Instant?] = [:]
        var unitCache: [String: UCUMUnit] = [:]
        var fitCache: [CodeKey: [String: Bool]] = [:]
        var firstUnits: [CodeKey: (unit: String, parsed: UCUMUnit)?] = [:]
        var newUnits: [(CodeKey, String)] = []
        var hasher = EventHasher()
        var ids: [ContentHash] = []
        ids.reserveCapacity(drafts.count)
        var seen = Set<ContentHash>(minimumCapacity: drafts.count)
        struct RangeKey: Hashable { var twin: TwinID; var code: CodeKey }
        struct Range { var key: RangeKey; var lo: Instant; var hi: Instant; var rows: [Int] }
        var rangeIndex: [RangeKey: Int] = [:]
        var ranges: [Range] = []
        var lastRange = -1

        for (i, d) in drafts.enumerated() {
            let row = i + 1
            // twin and existence
            let start: Instant?
            if let s = records[d.twin] { start = s } else {
                let r = try tx.ref(Bank.twinRef(d.twin)) == nil ? nil : try requireRecord(d.twin, tx)
                guard let r else {
                    throw BankError(.unknownTwin, "row \(row): unknown twin '\(d.twin)'", value: d.twin.rawValue)
                }
                start = r.twin.existenceStart
                records[d.twin] = start
            }
            if d.category == .retraction {
                throw BankError(.invalidEvent, "row \(row): events of category 'retraction' are written by retract, not appended", value: d.category.rawValue)
            }
            if let end = d.effective.end, end < d.effective.start {
                throw BankError(.invalidEvent, "row \(row): effective period ends (\(end)) before it starts (\(d.effective.start))", value: d.effective.description)
            }
            if let start, d.effective.start < start {
                throw BankError(.beforeTwinExisted, "row \(row): effective time \(d.effective.start) is before twin '\(d.twin)' existed (\(start))", value: d.effective.start.iso8601)
            }
            // value and unit
            var unitText: String?
            switch d.value {
            case .quantity(let q)?:
                guard q.value.isFinite else {
                    throw BankError(.invalidEvent, "row \(row): value \(q.value) is not a finite number", value: "\(q.value)")
                }
                unitText = q.unit
            case .vector(let v)?:
                guard v.values.allSatisfy(\.isFinite) else {
                    throw BankError(.invalidEvent, "row \(row): vector contains a value that is not finite", value: v.description)
                }
                unitText = v.unit
            default: break
            }
            if let u = unitText {
                let key = d.code.key
                if fitCache[key]?[u] == nil {
                    let parsed: UCUMUnit
                    if let p = unitCache[u] { parsed = p } else {
                        do { parsed = try UCUMUnit(parsing: u) } catch let e as TwinError {
                            throw BankError(.unitMismatch, "row \(row): \(e.message)", value: u)
                        }
                        unitCache[u] = parsed
                    }
                    do { try CodeUnits.check(parsed, for: key) } catch let e as TwinError {
                        throw BankError(.unitMismatch, "row \(row): \(e.message)", value: u)
                    }
                    if firstUnits[key] == nil {
                        if let f = try tx.unit(for: key) {
                            firstUnits[key] = .some((f, try UCUMUnit(parsing: f)))
                        } else {
                            firstUnits[key] = .some((u, parsed))
                            newUnits.append((key, u))
                        }
                    }
                    if let first = firstUnits[key]! {
                        do { try AnalyteConversion.checkConvertible(from: parsed, to: first.parsed, for: key) } catch let e as TwinError {
                            throw BankError(.unitMismatch, "row \(row): unit '\(u)' does not fit \(key): this bank records \(key) in '\(first.unit)', and \(e.message)", value: u)
                        }
                    }
                    fitCache[key, default: [:]][u] = true
                }
            }
            let id = hasher.hash(d)
            guard seen.insert(id).inserted else {
                throw BankError(.duplicateEvent, "row \(row): duplicate event: the same event (\(d.code.key) at \(d.effective) from \(d.source)) appears earlier in this batch (event \(id.hex))", value: id.hex)
            }
            ids.append(id)
            // (twin, code) ranges for the duplicate check; runs of the same pair skip the dictionary
            let idx: Int
            if lastRange >= 0, ranges[lastRange].key.twin == d.twin, ranges[lastRange].key.code.code == d.code.code,
               ranges[lastRange].key.code.system == d.code.system {
                idx = lastRange
            } else {
                let rk = RangeKey(twin: d.twin, code: d.code.key)
                if let found = rangeIndex[rk] { idx = found } else {
                    idx = ranges.count
                    rangeIndex[rk] = idx
                    ranges.append(Range(key: rk, lo: d.effective.start, hi: d.effective.start, rows: []))
                }
                lastRange = idx
            }
            if d.effective.start < ranges[idx].lo { ranges[idx].lo = d.effective.start }
            if d.effective.start > ranges[idx].hi { ranges[idx].hi = d.effective.start }
            ranges[idx].rows.append(i)
        }
        // duplicates against the stored thread: one range query per (twin, code)
        for r in ranges {
            let (twin, code) = (r.key.twin, r.key.code)
            let existing = try tx.events(EventQuery(twin: twin, code: code, from: r.lo, to: r.hi, visibility: .all))
            guard !existing.isEmpty else { continue }
            let stored = Set(existing.map(\.id))
            for i in r.rows where stored.contains(ids[i]) {
                let d = drafts[i]
                throw BankError(.duplicateEvent, "row \(i + 1): duplicate event: twin '\(twin)' already has this event (\(code) at \(d.effective) from \(d.source), event \(ids[i].hex))", value: ids[i].hex)
            }
        }
        let recorded = try nextRecorded(tx)
        let first = try tx.lastSequence() + 1
        var events: [Event] = []
        events.reserveCapacity(drafts.count)
        for (i, d) in drafts.enumerated() {
            events.append(Event(id: ids[i], twin: d.twin, effective: d.effective, recorded: recorded, sequence: first + Int64(i),
                                category: d.category, code: d.code, value: d.value, source: d.source, provenance: d.provenance))
        }
        let last = first + Int64(drafts.count) - 1
        try tx.append(events, batch: BatchRecord(firstSequence: first, lastSequence: max(last, first - 1), recorded: recorded))
        for (k, u) in newUnits { try tx.setUnit(u, for: k) }
        return AppendResult(count: drafts.count, firstSequence: first, lastSequence: last, recorded: recorded, ids: ids)
    }

    /// Imports a CSV thread for one twin (columns `time,code,value,unit,source`; a header line starting with
    /// `time` is skipped; `unit` and `source` may be empty, `source` then defaults to `defaultSource`). A numeric
    /// value becomes a quantity in `unit` (or `1`); any other value is parsed like a command-line attribute value.
    /// Fields may be double-quoted. The whole file is one batch: all rows or none.
    /// - Throws: ``BankError`` `invalidCSV` naming the line, or any error of ``append(_:)`` (row = data row).
    @discardableResult
    public func importCSV(twin: TwinID, text: String, defaultSource: Source) throws -> AppendResult {
        let drafts = try CSVThread.parse(text, twin: twin, defaultSource: defaultSource)
        return try append(drafts)
    }

    // MARK: Queries

    func lineage(_ id: TwinID, _ tx: any StorageReader) throws -> [LineageSegment] {
        var segments = [LineageSegment(twin: id, maxSequence: nil, maxEffective: nil)]
        var record = try requireRecord(id, tx)
        var maxSeq: Int64? = nil
        var maxEff: Instant? = nil
        var guardCount = 0
        while let f = record.fork {
            maxSeq = min(maxSeq ?? .max, f.parentSequence)
            maxEff = min(maxEff ?? Instant(microseconds: .max), f.forkPoint)
            segments.append(LineageSegment(twin: f.parent, maxSequence: maxSeq, maxEffective: maxEff))
            record = try requireRecord(f.parent, tx)
            guardCount += 1
            if guardCount > 10_000 { throw BankError(.invalidFork, "fork chain of '\(id)' is cyclic", value: id.rawValue) }
        }
        return segments
    }

    func visibility(knownAt: Instant?, knownAtSequence: Int64?, includeRetracted: Bool, _ tx: any StorageReader) throws -> Visibility {
        var k: Int64? = knownAtSequence
        if let knownAt { k = min(k ?? .max, try tx.sequence(knownAt: knownAt)) }
        if let k { return includeRetracted ? .knownAt(k) : .knownAt(k) }
        return includeRetracted ? .all : .current
    }

    /// The events of a twin's thread matching the query, oldest first (by effective start, then sequence).
    /// For a fork: the parent's events up to the fork's cut-off and fork point (not retracted), then its own.
    /// - Throws: ``BankError`` `unknownTwin`.
    public func events(_ q: ThreadQuery) throws -> [Event] {
        try authorize(.read, q.twin)
        return try storage.read { tx in try eventsInTransaction(q, tx) }
    }

    func eventsInTransaction(_ q: ThreadQuery, _ tx: any StorageReader) throws -> [Event] {
        let segments = try lineage(q.twin, tx)
        let vis = try visibility(knownAt: q.knownAt, knownAtSequence: q.knownAtSequence, includeRetracted: q.includeRetracted, tx)
        var out: [Event] = []
        for s in segments {
            var to = q.to
            if let m = s.maxEffective { to = min(to ?? m, m) }
            if let from = q.from, let to, from > to { continue }
            out += try tx.events(EventQuery(twin: s.twin, code: q.code, category: q.category, from: q.from, to: to,
                                            maxSequence: s.maxSequence, visibility: vis))
        }
        if segments.count > 1 { out.sort(by: EventQuery.order) }
        return out
    }

    /// The state of a twin as of an effective time: the latest event per code with effective start `<= asOf`
    /// (ties: the later recorded), as known now or at `knownAt`. Retraction events are not state.
    /// Uses one indexed lookup per code. Sorted by code.
    /// - Parameters:
    ///   - asOf: effective time (nil: latest of all).
    ///   - knownAt: recorded time to replay (nil: now).
    ///   - code: restrict to one code.
    ///   - category: restrict to one category (nil: any).
    public func state(of twin: TwinID, asOf: Instant? = nil, knownAt: Instant? = nil, knownAtSequence: Int64? = nil,
                      code: CodeKey? = nil, category: Event.Category? = nil) throws -> [Event] {
        try authorize(.read, twin)
        return try storage.read { tx in
            try stateInTransaction(twin, asOf: asOf, vis: visibility(knownAt: knownAt, knownAtSequence: knownAtSequence, includeRetracted: false, tx), code: code, category: category, tx)
        }
    }

    func stateInTransaction(_ twin: TwinID, asOf: Instant?, vis: Visibility, code: CodeKey?, category: Event.Category?, _ tx: any StorageReader) throws -> [Event] {
        let segments = try lineage(twin, tx)
        var codes = Set<CodeKey>()
        if let code { codes.insert(code) } else {
            for s in segments { codes.formUnion(try tx.codes(of: s.twin)) }
            codes.remove(retractionCode.key)
        }
        var out: [Event] = []
        for c in codes.sorted() {
            if let e = try latestInTransaction(segments, code: c, category: category, asOf: asOf, vis: vis, tx) { out.append(e) }
        }
        return out
    }

    func latestInTransaction(_ segments: [LineageSegment], code: CodeKey, category: Event.Category?, asOf: Instant?, vis: Visibility, _ tx: any StorageReader) throws -> Event? {
        var best: Event?
        for s in segments {
            var t = asOf ?? Instant(microseconds: .max)
            if let m = s.maxEffective { t = min(t, m) }
            if let e = try tx.latest(twin: s.twin, code: code, category: category, atOrBefore: t, maxSequence: s.maxSequence, visibility: vis) {
                if best == nil || EventQuery.order(best!, e) { best = e }
            }
        }
        return best
    }

    /// The last sequence number of the bank (the thread pin a commit would record now).
    public func lastSequence() throws -> Int64 { try storage.read { try $0.lastSequence() } }

    /// The events appended to a twin's own thread with sequence numbers in `range` (a fork's inherited
    /// history is not included), in sequence order, retracted ones included with their retraction marked.
    /// For following a twin: ask for `(last seen + 1)...lastSequence()` on each poll; the cost is that of
    /// the new events of the whole bank in the range, not of the twin's history.
    public func events(of twin: TwinID, sequences range: ClosedRange<Int64>) throws -> [Event] {
        try authorize(.read, twin)
        return try storage.read { tx in
            try tx.events(sequences: range, limit: Int(clamping: range.upperBound - range.lowerBound + 1)).filter { $0.twin == twin }
        }
    }

    // MARK: Forks

    /// Forks a twin at an effective time into a new twin (an instance): copy-on-write, so this writes one
    /// object and one reference whatever the size of the thread. The fork sees the parent's events with
    /// effective time `<= point` known now (and not later retracted), and receives its own events, which never
    /// appear in the parent. Forks of forks work.
    /// - Throws: ``BankError`` `unknownTwin`, `duplicateTwin`, `beforeTwinExisted` (the point is before the
    ///   twin's existence start or, when that is unknown, before its first event).
    @discardableResult
    public func fork(_ twin: TwinID, at point: Instant, as newID: TwinID) throws -> TwinRecord {
        try authorize(.fork, twin)
        try authorize(.write, newID)
        return try storage.write { tx in
            let parent = try requireRecord(twin, tx)
            guard try tx.ref(Bank.twinRef(newID)) == nil else {
                throw BankError(.duplicateTwin, "duplicate twin id '\(newID)': a twin with this id already exists", value: newID.rawValue)
            }
            var start = parent.twin.existenceStart
            if start == nil {
                let segs = try lineage(twin, tx)
                for s in segs {
                    if let e = try tx.events(EventQuery(twin: s.twin, maxSequence: s.maxSequence, limit: 1)).first {
                        start = min(start ?? e.effective.start, e.effective.start)
                    }
                }
            }
            if let start, point < start {
                throw BankError(.beforeTwinExisted, "fork point \(point) is before twin '\(twin)' existed (\(start))", value: point.iso8601)
            }
            var t = parent.twin
            t.id = newID
            t.templateVersion = nil
            let record = TwinRecord(twin: t, fork: ForkInfo(parent: twin, parentSequence: try tx.lastSequence(), forkPoint: point), created: clock.now())
            try storeRecord(record, tx)
            return record
        }
    }

    // MARK: Retraction

    /// Retracts a data source across the whole bank: its events leave every current view and aggregate;
    /// a retraction event (category `retraction`, value = the reason) is appended to each affected twin's
    /// thread; queries known at a time before the retraction still see the events. With `erase`, the events'
    /// payloads (value, provenance notes) are purged and only a tombstone with the reason remains.
    /// - Throws: ``BankError`` `invalidEvent` if the reason is empty or the source has nothing to retract.
    @discardableResult
    public func retract(source: Source, reason: String, erase: Bool = false) throws -> RetractionResult {
        let reasonText = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reasonText.isEmpty else {
            throw BankError(.invalidEvent, "a retraction needs a reason", value: reason)
        }
        try authorize(.retract, nil)
        return try storage.write { tx in
            let twins = try tx.twins(withSource: source)
            guard !twins.isEmpty else {
                throw BankError(.invalidEvent, "nothing to retract: no events from source '\(source)'", value: source.description)
            }
            for t in twins { try authorize(.retract, t) }
            let recorded = try nextRecorded(tx)
            let first = try tx.lastSequence() + 1
            var hasher = EventHasher()
            var events: [Event] = []
            let code = Concept(system: retractionCode.system, code: retractionCode.code, display: "retraction of \(source)")
            for (i, t) in twins.enumerated() {
                let d = EventDraft(twin: t, effective: EffectiveTime(recorded), category: .retraction, code: code,
                                   value: .text(reasonText), source: Source(.bank, "retraction"),
                                   provenance: Provenance(notes: "source=\(source) erase=\(erase)"))
                events.append(Event(id: hasher.hash(d), twin: t, effective: d.effective, recorded: recorded, sequence: first + Int64(i),
                                    category: .retraction, code: code, value: d.value, source: d.source, provenance: d.provenance))
            }
            try tx.append(events, batch: BatchRecord(firstSequence: first, lastSequence: first + Int64(events.count) - 1, recorded: recorded))
            let n = try tx.retract(source: source, atSequence: first, erasure: erase ? reasonText : nil)
            if n == 0 && !erase {
                throw BankError(.invalidEvent, "nothing to retract: every event from source '\(source)' is already retracted", value: source.description)
            }
            return RetractionResult(source: source, reason: reasonText, erased: erase, twins: twins, eventsRetracted: n, sequence: first, recorded: recorded)
        }
    }
}

/// What a retraction did.
public struct RetractionResult: Sendable, Hashable, Codable {
    public var source: Source
    public var reason: String
    public var erased: Bool
    /// Twins whose threads held events from the source (each received a retraction event).
    public var twins: [TwinID]
    /// Events newly removed from the current view.
    public var eventsRetracted: Int
    /// Sequence number of the (first) retraction event.
    public var sequence: Int64
    public var recorded: Instant
}
