import TwinCore

/// What the checks of ``AppendChecker`` read from the bank: a twin's existence and the first unit recorded for a
/// code. Within a write transaction they read it (``reading(_:bank:)``); a pipelined import reads them once
/// beforehand and answers from memory, so its checks can run beside the transaction.
struct AppendLookups {
    /// The existence start of a twin (``TwinCore/Twin/existenceStart``): `.none` for an unknown twin,
    /// `.some(nil)` for a twin without one.
    var twinStart: (TwinID) throws -> Instant??
    /// The first unit recorded for a code in the bank (nil: none yet).
    var storedUnit: (CodeKey) throws -> String?

    /// Lookups answered by a transaction.
    static func reading(_ tx: any StorageReader, bank: Bank) -> AppendLookups {
        AppendLookups(
            twinStart: { id in
                guard try tx.ref(Bank.twinRef(id)) != nil else {
                    try bank.refuseErased(id, tx)
                    return .none
                }
                return .some(try bank.requireRecord(id, tx).twin.existenceStart)
            },
            storedUnit: { try tx.unit(for: $0) })
    }
}

/// A batch of drafts that passed ``AppendChecker/check(_:skipExisting:label:)``: what ``Bank/store(_:_:skipExisting:label:)``
/// needs to write it.
struct CheckedBatch: Sendable {
    struct RangeKey: Hashable, Sendable { var twin: TwinID; var code: CodeKey }
    /// The (twin, code) pairs of the batch with the span of their effective starts and their drafts (indexes), for
    /// the duplicate check against the stored thread: one range read per pair.
    struct Range: Sendable { var key: RangeKey; var lo: Instant; var hi: Instant; var rows: [Int] }

    /// The drafts as events (implausible observations flagged, content hashes set), not yet numbered nor given
    /// their recorded time (``Bank/store(_:_:skipExisting:label:)`` does, when it writes them).
    var events: [Event]
    /// Drafts repeating an earlier one of the batch (only with `skipExisting`).
    var skip: Set<Int>
    var flagged: [FlaggedRow]
    var ranges: [Range]
    /// Codes whose first unit this batch sets.
    var newUnits: [(CodeKey, String)]
    /// The clock's reading taken during the checks (nil: none), which gives the batch its recorded time.
    var now: Instant?
}

/// The checks ``Bank/append(_:)`` makes on every draft before anything is written (see its documentation): the
/// twin exists and existed then, the category, the period, an observation not in the future, the value's type and
/// magnitude, the unit parses, fits the code and converts to the bank's first unit for it, implausible
/// observations flagged, duplicates within the batch. Pure apart from its ``AppendLookups`` and the bank's clock.
///
/// A checker keeps what it learnt (twins, parsed units, first units) from one batch to the next, so one checker
/// serves the batches of one transaction in order; the first units set by a batch are in its
/// ``CheckedBatch/newUnits`` and must be stored with it.
struct AppendChecker {
    let bank: Bank
    let lookups: AppendLookups
    private var records: [TwinID: Instant?] = [:]
    private var unitCache: [String: UCUMUnit] = [:]
    /// (code, unit) pairs already checked, with the plausibility range of the pair.
    private var fitCache: [CodeKey: [String: PlausibilityChecker]] = [:]
    /// The last few (code, unit) pairs, compared without hashing (a file cycles through a few codes).
    private var recentFits: [(system: String, code: String, unit: String, checker: PlausibilityChecker)] = []
    private var firstUnits: [CodeKey: (unit: String, parsed: UCUMUnit)?] = [:]
    private var hasher = EventHasher()

    init(bank: Bank, lookups: AppendLookups) {
        self.bank = bank
        self.lookups = lookups
    }

    /// The first unit of a code as the checks know it (recorded in the bank, or set by a batch checked before), or
    /// nil when no check has needed it yet.
    func firstUnit(of code: CodeKey) -> String? { firstUnits[code]??.unit }

    /// Checks a batch: the first failure throws a ``BankError`` naming the draft through `label` (0-based index)
    /// and the value.
    /// - Parameter skipExisting: a draft repeating an earlier one of the batch is skipped instead of refused.
    mutating func check(_ input: [EventDraft], skipExisting: Bool, label: (Int) -> String) throws -> CheckedBatch {
        var drafts = input
        var skip = Set<Int>()
        var flagged: [FlaggedRow] = []
        var newUnits: [(CodeKey, String)] = []
        var ids: [ContentHash] = []
        ids.reserveCapacity(drafts.count)
        var seen = Set<ContentHash>(minimumCapacity: drafts.count)
        var rangeIndex: [CheckedBatch.RangeKey: Int] = [:]
        var ranges: [CheckedBatch.Range] = []
        var lastRange = -1
        // the clock is read once, lazily (at the first observation that could be in the future), and the same
        // reading gives the batch its recorded time
        var now: Instant?
        var futureLimit = Instant(microseconds: .min)

        var lastTwin: (twin: TwinID, start: Instant?)?
        for (i, d) in drafts.enumerated() {
            let row = i + 1
            // twin and existence
            let start: Instant?
            if let lt = lastTwin, lt.twin == d.twin { start = lt.start } else if let s = records[d.twin] { start = s; lastTwin = (d.twin, s) } else {
                guard let s = try lookups.twinStart(d.twin) else {
                    throw BankError(.unknownTwin, "\(label(i)): unknown twin '\(d.twin)'", value: d.twin.rawValue)
                }
                start = s
                records[d.twin] = s
                lastTwin = (d.twin, s)
            }
            if d.category == .retraction {
                throw BankError(.invalidEvent, "\(label(i)): events of category 'retraction' are written by retract, not appended", value: d.category.rawValue)
            }
            if let end = d.effective.end, end < d.effective.start {
                throw BankError(.invalidEvent, "\(label(i)): effective period ends (\(end)) before it starts (\(d.effective.start))", value: d.effective.description)
            }
            if let start, d.effective.start < start {
                throw BankError(.beforeTwinExisted, "\(label(i)): effective time \(d.effective.start) is before twin '\(d.twin)' existed (\(start))", value: d.effective.start.iso8601)
            }
            // an observation is of the past: not beyond the bank's clock plus the skew
            if d.category == .observation {
                let latest = d.effective.end ?? d.effective.start
                if latest > futureLimit {
                    let clockNow = now ?? bank.clock.now()
                    now = clockNow
                    let limit = clockNow.advanced(bySeconds: bank.observationSkew)
                    futureLimit = limit
                    if latest > limit {
                        throw BankError(.futureObservation, "\(label(i)): observation effective \(latest) is in the future of the bank's clock (\(clockNow), allowed skew \(Value.format(bank.observationSkew)) s): an observation cannot lie ahead of now (a prediction or a planned intervention may)", value: latest.iso8601)
                    }
                }
            }
            // value type, magnitude and plausibility (a quantity always has the type a code may ask for, and
            // a finite one within the magnitude passes; only other values pay for the general checks)
            var plainQuantity = false
            if case .quantity(let q)? = d.value, q.value.isFinite, abs(q.value) <= Plausibility.maximumMagnitude { plainQuantity = true }
            if !plainQuantity {
                if d.category == .observation || d.category == .intervention || d.category == .prediction {
                    do { try Plausibility.checkType(d.value, for: d.code) } catch let e as TwinError {
                        throw BankError(.invalidEvent, "\(label(i)): \(e.message)", value: e.value)
                    }
                }
                do { try Plausibility.checkMagnitude(d.value) } catch let e as TwinError {
                    throw BankError(.invalidEvent, "\(label(i)): \(e.message)", value: e.value)
                }
            }
            // value and unit
            var unitText: String?
            switch d.value {
            case .quantity(let q)?: unitText = q.unit
            case .vector(let v)?: unitText = v.unit
            default: break
            }
            var checker: PlausibilityChecker?
            if let u = unitText {
                for r in recentFits where r.code == d.code.code && r.unit == u && r.system == d.code.system { checker = r.checker; break }
            }
            if checker == nil, let u = unitText {
                let key = d.code.key
                checker = fitCache[key]?[u]
                if let c = checker, recentFits.count < 8 { recentFits.append((key.system, key.code, u, c)) }
                if checker == nil {
                    let parsed: UCUMUnit
                    if let p = unitCache[u] { parsed = p } else {
                        do { parsed = try UCUMUnit(parsing: u) } catch let e as TwinError {
                            throw BankError(.unitMismatch, "\(label(i)): \(e.message)", value: u)
                        }
                        unitCache[u] = parsed
                    }
                    do { try CodeUnits.check(parsed, for: key) } catch let e as TwinError {
                        throw BankError(.unitMismatch, "\(label(i)): \(e.message)", value: u)
                    }
                    if firstUnits[key] == nil {
                        if let f = try lookups.storedUnit(key) {
                            firstUnits[key] = .some((f, try UCUMUnit(parsing: f)))
                        } else {
                            firstUnits[key] = .some((u, parsed))
                            newUnits.append((key, u))
                        }
                    }
                    if let first = firstUnits[key]! {
                        do { try AnalyteConversion.checkConvertible(from: parsed, to: first.parsed, for: key) } catch let e as TwinError {
                            throw BankError(.unitMismatch, "\(label(i)): unit '\(u)' does not fit \(key): this bank records \(key) in '\(first.unit)', and \(e.message)", value: u)
                        }
                    }
                    checker = PlausibilityChecker(code: d.code, unit: u)
                    fitCache[key, default: [:]][u] = checker
                }
            }
            var flagReason: String?
            if d.category == .observation, !d.provenance.isFlaggedImplausible,
               let why = checker.flatMap({ c in d.value?.quantity.flatMap { c.problem($0.value) } }) {
                drafts[i].provenance.flagImplausible(why)
                flagReason = why
            }
            let id = hasher.hash(drafts[i])
            if let flagReason { flagged.append(FlaggedRow(row: row, id: id, reason: flagReason)) }
            ids.append(id)
            guard seen.insert(id).inserted else {
                if skipExisting { skip.insert(i); continue }
                throw BankError(.duplicateEvent, "\(label(i)): duplicate event: the same event (\(d.code.key) at \(d.effective) from \(d.source)) appears earlier in this batch (event \(id.hex))", value: id.hex)
            }
            // (twin, code) ranges for the duplicate check; the last few pairs skip the dictionary
            var idx = -1
            if lastRange >= 0, ranges[lastRange].key.twin == d.twin, ranges[lastRange].key.code.code == d.code.code,
               ranges[lastRange].key.code.system == d.code.system {
                idx = lastRange
            } else {
                for k in ranges.indices.prefix(8) where ranges[k].key.code.code == d.code.code && ranges[k].key.twin == d.twin
                    && ranges[k].key.code.system == d.code.system { idx = k; break }
            }
            if idx >= 0 { lastRange = idx } else {
                let rk = CheckedBatch.RangeKey(twin: d.twin, code: d.code.key)
                if let found = rangeIndex[rk] { idx = found } else {
                    idx = ranges.count
                    rangeIndex[rk] = idx
                    ranges.append(CheckedBatch.Range(key: rk, lo: d.effective.start, hi: d.effective.start, rows: []))
                }
                lastRange = idx
            }
            if d.effective.start < ranges[idx].lo { ranges[idx].lo = d.effective.start }
            if d.effective.start > ranges[idx].hi { ranges[idx].hi = d.effective.start }
            ranges[idx].rows.append(i)
        }
        // the events, built here (not where they are written: a pipelined import checks on one thread and writes on another)
        var events: [Event] = []
        events.reserveCapacity(drafts.count)
        let unset = Instant(microseconds: 0)
        for (i, d) in drafts.enumerated() {
            events.append(Event(id: ids[i], twin: d.twin, effective: d.effective, recorded: unset, sequence: 0,
                                category: d.category, code: d.code, value: d.value, source: d.source, provenance: d.provenance))
        }
        return CheckedBatch(events: events, skip: skip, flagged: flagged, ranges: ranges, newUnits: newUnits, now: now)
    }
}

extension Bank {
    /// Writes a checked batch in the transaction: refuses (or with `skipExisting`, skips) drafts whose event the
    /// twin already has (one range read of content hashes per (twin, code)), numbers the rest, gives them one
    /// recorded time strictly after the last batch's, and records the first units the batch sets.
    func store(_ batch: CheckedBatch, _ tx: any StorageWriter, skipExisting: Bool, label: (Int) -> String,
               idempotency: BatchRecord.Idempotency? = nil) throws -> AppendResult {
        var events = batch.events
        var skip = batch.skip
        var flagged = batch.flagged
        // duplicates against the stored thread: one range query per (twin, code)
        for r in batch.ranges {
            let (twin, code) = (r.key.twin, r.key.code)
            let stored = try tx.eventHashes(twin: twin, code: code, from: r.lo, to: r.hi)
            guard !stored.isEmpty else { continue }
            for i in r.rows where stored.contains(events[i].id) {
                if skipExisting { skip.insert(i); continue }
                let e = events[i]
                throw BankError(.duplicateEvent, "\(label(i)): duplicate event: twin '\(twin)' already has this event (\(code) at \(e.effective) from \(e.source), event \(e.id.hex))", value: e.id.hex)
            }
        }
        if !skip.isEmpty {
            let kept = events.indices.filter { !skip.contains($0) }
            events = kept.map { events[$0] }
            flagged.removeAll { skip.contains($0.row - 1) }
            if events.isEmpty {
                let last = try tx.lastSequence()
                // the first units the batch saw are still the bank's (a skipped row was stored with them before)
                for (k, u) in batch.newUnits { try tx.setUnit(u, for: k) }
                return AppendResult(count: 0, firstSequence: last + 1, lastSequence: last, recorded: try tx.lastRecorded() ?? clock.now(), ids: [], flagged: [])
            }
        }
        let recorded = try nextRecorded(tx, now: batch.now)
        let first = try tx.lastSequence() + 1
        for i in events.indices {
            events[i].recorded = recorded
            events[i].sequence = first + Int64(i)
        }
        let last = first + Int64(events.count) - 1
        try tx.append(events, batch: BatchRecord(firstSequence: first, lastSequence: max(last, first - 1), recorded: recorded, idempotency: idempotency))
        for (k, u) in batch.newUnits { try tx.setUnit(u, for: k) }
        return AppendResult(count: events.count, firstSequence: first, lastSequence: last, recorded: recorded, ids: events.map(\.id), flagged: flagged)
    }
}
