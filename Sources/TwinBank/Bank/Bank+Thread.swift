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
    /// The events stored with the implausible flag (``TwinCore/Provenance/implausibleFlag``): 1-based row in
    /// the batch and why. They are kept, but are not model inputs.
    public var flagged: [FlaggedRow] = []
}

/// A row of a batch stored with the implausible flag.
public struct FlaggedRow: Sendable, Hashable, Codable {
    /// 1-based row in the batch.
    public var row: Int
    /// The event's content hash.
    public var id: ContentHash
    /// Why the value is implausible.
    public var reason: String
}

/// What a CSV import did.
public struct CSVImportResult: Sendable, Hashable, Codable {
    /// Data rows read from the file.
    public var rows: Int
    /// Events appended (new rows).
    public var count: Int
    /// Rows skipped because the twin already had their events (an earlier import of the same export).
    public var skipped: Int
    /// Sequence numbers of the first and last appended events (nil when nothing was new).
    public var firstSequence: Int64?
    public var lastSequence: Int64?
    /// Rows stored with the implausible flag; ``FlaggedRow/row`` is the file's line.
    public var flagged: [FlaggedRow]
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
    /// Whether to include events stored with the implausible flag (``TwinCore/Provenance/implausibleFlag``).
    /// nil (the default): left out of queries for observations (`category == .observation`, which is how
    /// models, `sync` and watchers read measurements), listed (and marked by the flag) in any other query.
    /// This is the one place that keeps implausible values out of model inputs.
    public var includeImplausible: Bool?
    /// Only events first recorded (``TwinCore/Event/sourceRecordedTime``: the source system's recorded time for an
    /// imported event that carries one, else this bank's) at or after this time.
    public var sourceRecordedFrom: Instant?
    /// Only events first recorded (``TwinCore/Event/sourceRecordedTime``) at or before this time.
    public var sourceRecordedTo: Instant?
    /// Only events after this place in the thread's order (effective start, then sequence): a page's cursor, the place
    /// of the last event of the page before (``TwinBank/EventPosition``).
    public var after: EventPosition?
    /// At most this many events (the first ones in the thread's order, after every other condition and the gate's
    /// filter): a page. The storage is read in pages too, so a page of a long thread costs about its own rows.
    public var limit: Int?

    /// Whether this query leaves flagged events out.
    var excludesImplausible: Bool { !(includeImplausible ?? (category != .observation)) }

    public init(twin: TwinID, code: CodeKey? = nil, category: Event.Category? = nil, from: Instant? = nil, to: Instant? = nil,
                knownAt: Instant? = nil, knownAtSequence: Int64? = nil, includeRetracted: Bool = false, includeImplausible: Bool? = nil,
                sourceRecordedFrom: Instant? = nil, sourceRecordedTo: Instant? = nil, after: EventPosition? = nil, limit: Int? = nil) {
        self.twin = twin; self.code = code; self.category = category; self.from = from; self.to = to
        self.knownAt = knownAt; self.knownAtSequence = knownAtSequence; self.includeRetracted = includeRetracted
        self.includeImplausible = includeImplausible
        self.sourceRecordedFrom = sourceRecordedFrom; self.sourceRecordedTo = sourceRecordedTo
        self.after = after; self.limit = limit
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
    /// Each event is checked: the twin exists; values are finite; an observation, intervention or prediction of a
    /// well-known quantitative code has a quantity (``TwinCore/Plausibility/checkType(_:for:)``); a quantity's unit parses as UCUM, fits the
    /// code if the code is well known (``TwinCore/CodeUnits``) and converts (``TwinCore/AnalyteConversion``: glucose
    /// mg/dL and mmol/L, HbA1c % and mmol/mol ...) to the first unit this bank saw for the code; the value is stored
    /// as given, in its own unit; the effective time is not before the twin existed (``TwinCore/Twin/existenceStart``); the event is
    /// not a duplicate (same content hash) of one in the batch or the thread; the category is not `retraction`
    /// (use ``retract(source:reason:erase:)``); a number is finite and at most
    /// ``TwinCore/Plausibility/maximumMagnitude`` (1e15) in its unit, for any code; an observation is not effective
    /// (its end, for a period) beyond the bank's clock plus ``observationSkew`` (`futureObservation`: predictions,
    /// recommendations and interventions, which may be plans, may lie in the future). The first failure rejects
    /// the whole batch with an error naming the row (1-based) and the value.
    ///
    /// An observation whose value is outside the possible range of its code (``TwinCore/Plausibility``) is not
    /// refused: it is stored with the ``TwinCore/Provenance/implausibleFlag`` note (part of its content, so the same
    /// row imported again is the same event), listed in ``AppendResult/flagged``, and left out of queries for
    /// observations (``ThreadQuery/includeImplausible``, ``state(of:asOf:knownAt:knownAtSequence:code:category:)``),
    /// so models never read it.
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
        // a message names a batch's draft by its row; a single event is "the event" (no rows to count)
        let codeOf = drafts.count == 1 ? drafts[0].code.key.description : nil
        return try storage.write { tx in
            try appendInTransaction(drafts, tx, label: { i in codeOf.map { "the event (\($0))" } ?? "row \(i + 1)" })
        }
    }

    /// Appends one batch as ``append(_:)`` does, at most once for `idempotencyKey`: the first call with a key appends and
    /// records the key with the batch (with a digest of the drafts); a later call with the same key and the same
    /// drafts (a retry after a lost answer, a dropped connection, a crashed client) appends nothing and returns the
    /// first call's result (same sequences, recorded time and ids); the same key with other drafts is refused. Keys
    /// are unique in the bank and kept with their batches (in backups too). The check and the append are one
    /// transaction, so concurrent retries append once. Without a key (nil), exactly ``append(_:)``. An empty batch
    /// records no key.
    /// - Throws: ``BankError`` `invalidIdempotencyKey` (empty, over 200 characters, or with control characters),
    ///   `idempotencyConflict` (the key was used for other drafts: nothing written), and the errors of ``append(_:)``.
    @discardableResult
    public func append(_ drafts: [EventDraft], idempotencyKey: String?) throws -> AppendResult {
        guard let key = idempotencyKey, !drafts.isEmpty else { return try append(drafts) }
        try Bank.checkIdempotencyKey(key)
        var twinsSeen = Set<TwinID>()
        for d in drafts where twinsSeen.insert(d.twin).inserted { try authorize(.write, d.twin) }
        let digest = Bank.digest(of: drafts)
        let codeOf = drafts.count == 1 ? drafts[0].code.key.description : nil
        return try storage.write { tx in
            if let prior = try tx.batch(idempotencyKey: key) {
                guard prior.idempotency?.digest == digest else {
                    throw BankError(.idempotencyConflict, "the idempotency key '\(key)' was used for another batch (sequences \(prior.firstSequence)-\(prior.lastSequence), recorded \(prior.recorded)): nothing written; use a new key for new data", value: key)
                }
                return try replayed(prior, tx)
            }
            return try appendInTransaction(drafts, tx, label: { i in codeOf.map { "the event (\($0))" } ?? "row \(i + 1)" },
                                           idempotency: BatchRecord.Idempotency(key: key, digest: digest))
        }
    }

    /// The most characters an idempotency key may have.
    public static let idempotencyKeyLimit = 200

    /// Refuses an empty key, one over ``idempotencyKeyLimit`` characters, or one with control characters.
    static func checkIdempotencyKey(_ key: String) throws {
        guard !key.isEmpty, key.count <= idempotencyKeyLimit, !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw BankError(.invalidIdempotencyKey, "the idempotency key \(String(reflecting: String(key.prefix(40)))) must have 1 to \(idempotencyKeyLimit) characters and no control characters", value: String(key.prefix(idempotencyKeyLimit)))
        }
    }

    /// SHA-256 over the drafts' content hashes, in order: what an idempotent retry must ask again.
    static func digest(of drafts: [EventDraft]) -> ContentHash {
        var hasher = EventHasher()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(drafts.count * 32)
        for d in drafts { bytes += hasher.hash(d).bytes }
        return EventHasher.sha256(bytes)
    }

    /// What the batch `prior` answered when it was appended: its events read back (its sequences, recorded time,
    /// ids and flagged rows).
    func replayed(_ prior: BatchRecord, _ tx: any StorageReader) throws -> AppendResult {
        let count = Int(prior.lastSequence - prior.firstSequence + 1)
        let events = count > 0 ? try tx.events(sequences: prior.firstSequence...prior.lastSequence, limit: count) : []
        var flagged: [FlaggedRow] = []
        for (i, e) in events.enumerated() where e.provenance.isFlaggedImplausible {
            flagged.append(FlaggedRow(row: i + 1, id: e.id, reason: e.provenance.implausibleReason ?? ""))
        }
        return AppendResult(count: events.count, firstSequence: prior.firstSequence, lastSequence: prior.lastSequence,
                            recorded: prior.recorded, ids: events.map(\.id), flagged: flagged)
    }

    /// - Parameters:
    ///   - skipExisting: skip (instead of refusing) a draft whose event the twin already has, or that repeats
    ///     an earlier draft of the batch; ``AppendResult/ids`` then lists only the appended events.
    ///   - label: how messages name a draft (by 0-based index): `row N` by default, a file's line for an import.
    ///   - idempotency: the key and digest recorded with the batch (``append(_:idempotencyKey:)``).
    func appendInTransaction(_ input: [EventDraft], _ tx: any StorageWriter, skipExisting: Bool = false,
                             label: (Int) -> String = { "row \($0 + 1)" }, idempotency: BatchRecord.Idempotency? = nil) throws -> AppendResult {
        var checker = AppendChecker(bank: self, lookups: .reading(tx, bank: self))
        let batch = try checker.check(input, skipExisting: skipExisting, label: label)
        return try store(batch, tx, skipExisting: skipExisting, label: label, idempotency: idempotency)
    }

    /// Imports a CSV thread for one twin from text (see ``importCSV(twin:reader:defaultSource:batchSize:)``).
    @discardableResult
    public func importCSV(twin: TwinID, text: String, defaultSource: Source, separator: UInt8? = nil) throws -> CSVImportResult {
        try importCSV(twin: twin, reader: CSVReader(text: text, separator: separator), defaultSource: defaultSource)
    }

    /// Imports a CSV thread for one twin (the format of ``CSVThread``: a header naming the columns `time`,
    /// `code`, `value` and optionally `unit`, `source`, `category`), streaming: the rows are read and appended
    /// in batches of `batchSize`, never the whole file in memory.
    ///
    /// The whole file is one transaction: all its new rows or none. A row whose event the twin already has
    /// (the same content: time, code, value, source, category; found through the bank's thread index) is
    /// skipped, so a growing export can be imported again, adding only what is new. Every row is still
    /// checked as ``append(_:)`` checks it, and errors name the file's line and column.
    /// - Throws: ``BankError`` `invalidCSV` naming the line (also for a file without data rows), or any error
    ///   of ``append(_:)`` with the row named by its line.
    @discardableResult
    public func importCSV(twin: TwinID, reader: CSVReader, defaultSource: Source, batchSize: Int = 10_000) throws -> CSVImportResult {
        try authorize(.write, twin)
        let batchSize = Swift.max(1, batchSize)
        return try storage.write { tx in
            let thread = try CSVThread(reader: reader, twin: twin, defaultSource: defaultSource)
            // what the checks read from the bank, read once: they run on another thread, beside this transaction
            // (which alone touches storage), one batch ahead of the writes
            let lookups = AppendLookups.reading(tx, bank: self)
            let start = try lookups.twinStart(twin)
            let units = try tx.units()
            let pipeline = ImportPipeline<CheckedImportBatch>(depth: 2)
            let source = UncheckedBox(thread)
            let name = reader.name
            pipeline.start { [self] put in
                var thread = source.value
                var checker = AppendChecker(bank: self, lookups: AppendLookups(
                    twinStart: { id in id == twin ? start : nil },
                    storedUnit: { units[$0] }))
                var drafts: [EventDraft] = []
                var lines: [Int] = []
                drafts.reserveCapacity(Swift.min(batchSize, 100_000))
                while true {
                    drafts.removeAll(keepingCapacity: true)
                    lines.removeAll(keepingCapacity: true)
                    while drafts.count < batchSize, let (d, line) = try thread.next() {
                        drafts.append(d); lines.append(line)
                    }
                    if drafts.isEmpty { return }
                    let checked = try checker.check(drafts, skipExisting: true, label: { [lines] in "\(name): line \(lines[$0])" })
                    guard put(CheckedImportBatch(batch: checked, lines: lines)) else { return }
                }
            }
            var result = CSVImportResult(rows: 0, count: 0, skipped: 0, firstSequence: nil, lastSequence: nil, flagged: [])
            try pipeline.consume { item in
                let lines = item.lines
                let r = try store(item.batch, tx, skipExisting: true, label: { "\(name): line \(lines[$0])" })
                result.rows += lines.count
                result.count += r.count
                result.skipped += lines.count - r.count
                if r.count > 0 {
                    result.firstSequence = result.firstSequence ?? r.firstSequence
                    result.lastSequence = r.lastSequence
                }
                result.flagged += r.flagged.map { FlaggedRow(row: lines[$0.row - 1], id: $0.id, reason: $0.reason) }
            }
            guard result.rows > 0 else {
                throw BankError(.invalidCSV, "\(reader.name) has a header but no rows: nothing to import", value: reader.name)
            }
            return result
        }
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
    /// The gate's filter, if the decision carries one, is applied: events it does not admit are not returned.
    /// - Throws: ``BankError`` `unknownTwin`.
    public func events(_ q: ThreadQuery) throws -> [Event] {
        try answeringRead(.read, q.twin) { filter, tx in try eventsAnswer(q, filter: filter, tx) }
    }

    /// The answer of ``events(_:)`` under a decision's filter, in a transaction.
    func eventsAnswer(_ q: ThreadQuery, filter: (any AccessFilter)?, _ tx: any StorageReader) throws -> [Event] {
        try eventsInTransaction(q, filter: filter, tx)
    }

    /// The events of ``events(_:)`` in a transaction, `filter` (a decision's) applied. With a ``ThreadQuery/limit``, the
    /// storage is read in batches after ``ThreadQuery/after`` until the page is full or the thread ends, so the
    /// conditions applied here (the flag, the recorded times, the filter) still give full pages.
    func eventsInTransaction(_ q: ThreadQuery, filter: (any AccessFilter)? = nil, _ tx: any StorageReader) throws -> [Event] {
        let segments = try lineage(q.twin, tx)
        let vis = try visibility(knownAt: q.knownAt, knownAtSequence: q.knownAtSequence, includeRetracted: q.includeRetracted, tx)
        guard let limit = q.limit else {
            return admitted(try segmentEvents(q, segments, vis, after: q.after, batch: nil, tx).events, q, vis, filter)
        }
        guard limit > 0 else { return [] }
        var out: [Event] = []
        var after = q.after
        // a batch a little larger than the page, so a few events left out here rarely cost a second read
        let batch = limit + max(16, limit / 4)
        while true {
            let (raw, complete) = try segmentEvents(q, segments, vis, after: after, batch: batch, tx)
            out += admitted(raw, q, vis, filter)
            if out.count >= limit || complete || raw.isEmpty { return Array(out.prefix(limit)) }
            after = EventPosition(raw[raw.count - 1])
        }
    }

    /// The events of the lineage's segments after `after`, in the thread's order. With a `batch`, each segment is read
    /// for at most that many, and only the events up to the earliest last event of a segment that filled its batch are
    /// returned (all before it are then known); `complete`: no segment filled its batch (nothing more after these).
    private func segmentEvents(_ q: ThreadQuery, _ segments: [LineageSegment], _ vis: Visibility, after: EventPosition?, batch: Int?,
                               _ tx: any StorageReader) throws -> (events: [Event], complete: Bool) {
        var out: [Event] = []
        var bound: EventPosition? = nil
        for s in segments {
            var to = q.to
            if let m = s.maxEffective { to = min(to ?? m, m) }
            if let from = q.from, let to, from > to { continue }
            let rows = try tx.events(EventQuery(twin: s.twin, code: q.code, category: q.category, from: q.from, to: to,
                                                maxSequence: s.maxSequence, visibility: vis, limit: batch, after: after))
            if let batch, rows.count >= batch, let last = rows.last {
                bound = min(bound ?? EventPosition(last), EventPosition(last))
            }
            out += rows
        }
        if segments.count > 1 { out.sort(by: EventQuery.order) }
        if let bound { out.removeAll { bound < EventPosition($0) } }
        return (out, bound == nil)
    }

    /// The events a query and a decision's filter keep of `events`, as the bank knew them under `vis`.
    private func admitted(_ events: [Event], _ q: ThreadQuery, _ vis: Visibility, _ filter: (any AccessFilter)?) -> [Event] {
        var out = events
        if q.excludesImplausible { out.removeAll(where: \.isFlaggedImplausible) }
        if q.sourceRecordedFrom != nil || q.sourceRecordedTo != nil {
            out.removeAll { e in
                let t = e.sourceRecordedTime
                return (q.sourceRecordedFrom.map { t < $0 } ?? false) || (q.sourceRecordedTo.map { t > $0 } ?? false)
            }
        }
        if let filter { out = filter.apply(to: out) }
        return Self.asKnown(out, vis)
    }

    /// The events as the bank knew them under `vis`: replaying what was known at sequence k, an event retracted
    /// later (after k) was not retracted yet, so it is shown without its retraction mark. (An erased payload stays
    /// erased: erasure removes the data for good.)
    static func asKnown(_ events: [Event], _ vis: Visibility) -> [Event] {
        guard case .knownAt(let k) = vis else { return events }
        return events.map { e in
            guard let r = e.retractedAtSequence, r > k else { return e }
            var known = e
            known.retractedAtSequence = nil
            return known
        }
    }

    /// The state of a twin as of an effective time: the latest event per code with effective start `<= asOf`
    /// (ties: the later recorded), as known now or at `knownAt`. Retraction events are not state. With
    /// `category` `.observation` (how models read measurements), events flagged implausible
    /// (``TwinCore/Provenance/implausibleFlag``) are not state either: it is the latest plausible observation.
    /// Uses one indexed lookup per code. Sorted by code.
    /// - Parameters:
    ///   - asOf: effective time (nil: latest of all).
    ///   - knownAt: recorded time to replay (nil: now).
    ///   - code: restrict to one code.
    ///   - category: restrict to one category (nil: any).
    ///
    /// When the gate's decision carries a filter, the state is that of the events the filter admits (the latest
    /// admitted event per code), read from the thread rather than by indexed lookups.
    public func state(of twin: TwinID, asOf: Instant? = nil, knownAt: Instant? = nil, knownAtSequence: Int64? = nil,
                      code: CodeKey? = nil, category: Event.Category? = nil) throws -> [Event] {
        try answeringRead(.read, twin) { filter, tx in
            try stateAnswer(twin, asOf: asOf, knownAt: knownAt, knownAtSequence: knownAtSequence, code: code, category: category, filter: filter, tx)
        }
    }

    /// The answer of ``state(of:asOf:knownAt:knownAtSequence:code:category:)`` under a decision's filter, in a transaction.
    func stateAnswer(_ twin: TwinID, asOf: Instant?, knownAt: Instant?, knownAtSequence: Int64?, code: CodeKey?, category: Event.Category?,
                     filter: (any AccessFilter)?, _ tx: any StorageReader) throws -> [Event] {
        let vis = try visibility(knownAt: knownAt, knownAtSequence: knownAtSequence, includeRetracted: false, tx)
        guard let filter else { return try stateInTransaction(twin, asOf: asOf, vis: vis, code: code, category: category, tx) }
        return try filteredStateInTransaction(twin, asOf: asOf, knownAt: knownAt, knownAtSequence: knownAtSequence,
                                              code: code, category: category, filter: filter, tx)
    }

    /// ``stateInTransaction`` over only the events a filter admits: the latest admitted event per code (ties:
    /// the later recorded), retraction events and (for observations) flagged implausible values excluded.
    func filteredStateInTransaction(_ twin: TwinID, asOf: Instant?, knownAt: Instant?, knownAtSequence: Int64?, code: CodeKey?,
                                    category: Event.Category?, filter: any AccessFilter, _ tx: any StorageReader) throws -> [Event] {
        let all = try eventsInTransaction(ThreadQuery(twin: twin, code: code, category: category, to: asOf, knownAt: knownAt,
                                                      knownAtSequence: knownAtSequence, includeImplausible: category != .observation), tx)
        var latest: [CodeKey: Event] = [:]
        for e in all where e.category != .retraction && e.code.key != retractionCode.key && e.code.key != Erasure.tombstoneCode.key && filter.admits(e) {
            if let b = latest[e.code.key], !EventQuery.order(b, e) { continue }
            latest[e.code.key] = e
        }
        return latest.keys.sorted().map { latest[$0]! }
    }

    func stateInTransaction(_ twin: TwinID, asOf: Instant?, vis: Visibility, code: CodeKey?, category: Event.Category?, _ tx: any StorageReader) throws -> [Event] {
        let segments = try lineage(twin, tx)
        var codes = Set<CodeKey>()
        if let code { codes.insert(code) } else {
            for s in segments { codes.formUnion(try tx.codes(of: s.twin)) }
            codes.remove(retractionCode.key)
            codes.remove(Erasure.tombstoneCode.key)   // an erased row is no state
        }
        var out: [Event] = []
        for c in codes.sorted() {
            if let e = try latestInTransaction(segments, code: c, category: category, asOf: asOf, vis: vis, tx) { out.append(e) }
        }
        return Self.asKnown(out, vis)
    }

    /// The latest event of a code along a lineage; flagged implausible events are skipped with `plausibleOnly`
    /// (nil: for observations only, as models read them).
    func latestInTransaction(_ segments: [LineageSegment], code: CodeKey, category: Event.Category?, asOf: Instant?, vis: Visibility,
                             plausibleOnly: Bool? = nil, _ tx: any StorageReader) throws -> Event? {
        var best: Event?
        for s in segments {
            var t = asOf ?? Instant(microseconds: .max)
            if let m = s.maxEffective { t = min(t, m) }
            guard var e = try tx.latest(twin: s.twin, code: code, category: category, atOrBefore: t, maxSequence: s.maxSequence, visibility: vis) else { continue }
            if e.isFlaggedImplausible && (plausibleOnly ?? (category == .observation)) {
                // step back past flagged events, a page at a time (they are rare)
                var found: Event?
                var limit = 16
                while found == nil {
                    let page = try tx.events(EventQuery(twin: s.twin, code: code, category: category, to: t, maxSequence: s.maxSequence,
                                                        visibility: vis, descending: true, limit: limit))
                    found = page.first { !$0.isFlaggedImplausible }
                    if page.count < limit { break }
                    limit *= 4
                }
                guard let found else { continue }
                e = found
            }
            if best == nil || EventQuery.order(best!, e) { best = e }
        }
        return best
    }

    /// Where a twin's data lies: the effective start of its first and last current events (of one code and
    /// category, if given; retraction events and implausible values excluded), forks resolved; nil when there
    /// is none. For messages that say where the data is ("readings run from ... to ...") when a window holds
    /// nothing. Two indexed lookups per lineage segment, plus paging past flagged or retraction events.
    public func effectiveRange(of twin: TwinID, code: CodeKey? = nil, category: Event.Category? = nil) throws -> ClosedRange<Instant>? {
        try authorize(.read, twin)
        return try storage.read { tx in
            var lo: Instant?, hi: Instant?
            for s in try lineage(twin, tx) {
                for descending in [false, true] {
                    var limit = 8
                    while true {
                        let page = try tx.events(EventQuery(twin: s.twin, code: code, category: category, to: s.maxEffective,
                                                            maxSequence: s.maxSequence, descending: descending, limit: limit))
                        if let e = page.first(where: { $0.category != .retraction && !$0.isFlaggedImplausible && $0.code.key != Erasure.tombstoneCode.key }) {
                            let t = e.effective.start
                            if descending { hi = Swift.max(hi ?? t, t) } else { lo = Swift.min(lo ?? t, t) }
                            break
                        }
                        if page.count < limit { break }
                        limit *= 4
                    }
                }
            }
            guard let lo, let hi else { return nil }
            return lo...hi
        }
    }

    /// The last sequence number of the bank (the thread pin a commit would record now).
    public func lastSequence() throws -> Int64 {
        try authorize(.read, nil)
        return try storage.read { try $0.lastSequence() }
    }

    /// The events appended to a twin's own thread with sequence numbers in `range` (a fork's inherited
    /// history is not included), in sequence order, retracted ones included with their retraction marked.
    /// For following a twin: ask for `(last seen + 1)...lastSequence()` on each poll; the cost is that of
    /// the new events of the whole bank in the range, not of the twin's history.
    public func events(of twin: TwinID, sequences range: ClosedRange<Int64>) throws -> [Event] {
        try answeringRead(.read, twin) { filter, tx in try ownEventsAnswer(twin, sequences: range, filter: filter, tx) }
    }

    /// The answer of ``events(of:sequences:)`` under a decision's filter, in a transaction.
    func ownEventsAnswer(_ twin: TwinID, sequences range: ClosedRange<Int64>, filter: (any AccessFilter)?, _ tx: any StorageReader) throws -> [Event] {
        try tx.events(sequences: range, limit: Int(clamping: range.upperBound - range.lowerBound + 1))
            .filter { $0.twin == twin && (filter?.admits($0) ?? true) }
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
            try refuseErased(newID, tx)
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
        return try writeAsking { tx in
            let twins = try tx.twins(withSource: source)
            guard !twins.isEmpty else {
                throw BankError(.invalidEvent, "nothing to retract: no events from source '\(source)'", value: source.description)
            }
            for t in twins { try authorizeInTransaction(.retract, t, tx) }
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

/// Which event a single-event retraction names: its bank-wide sequence number, or its content hash (the
/// event's id: the full hex or a unique prefix of at least 8 hex digits).
public enum EventReference: Sendable, Hashable, CustomStringConvertible {
    case sequence(Int64)
    case id(String)

    /// Parses a sequence number (all digits) or an id (hex with at least 8 digits, not all decimal).
    /// - Throws: ``BankError`` `invalidEvent` naming the text.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(t), n > 0 {
            self = .sequence(n)
        } else if t.count >= 8, t.count <= 64, t.allSatisfy(\.isHexDigit) {
            self = .id(t.lowercased())
        } else {
            throw BankError(.invalidEvent, "malformed event reference '\(text)': expected a sequence number (as `thread query --json` shows) or an event id (at least 8 hex digits)", value: text)
        }
    }

    public var description: String {
        switch self {
        case .sequence(let n): "sequence \(n)"
        case .id(let h): "id \(h)"
        }
    }
}

extension Bank {
    /// Retracts one event: it leaves every current view and aggregate; a retraction event (value = the reason)
    /// is appended to its twin's thread; queries known at an earlier time still see it. With `erase`, its
    /// payload is purged. Retraction events themselves cannot be retracted. With `twin`, the event must be in that
    /// twin's thread (a caller who names the twin never retracts another's event by a mistyped id).
    /// - Throws: ``BankError`` `invalidEvent` if the reason is empty, no event matches the reference (or an id
    ///   prefix matches several), or the event is already retracted; `unknownEvent` when the event is not in `twin`'s thread.
    @discardableResult
    public func retract(event reference: EventReference, reason: String, erase: Bool = false, twin: TwinID? = nil) throws -> RetractionResult {
        let reasonText = try Bank.retractionReason(reason)
        try authorize(.retract, twin)
        return try writeAsking { tx in try retractEventInTransaction(reference, reason: reasonText, erase: erase, twin: twin, tx) }
    }

    /// ``retract(event:reason:erase:twin:)``'s work inside a write transaction (the reason already checked, the
    /// caller's bank-wide or per-twin `retract` already asked): finds the event, asks the gate for its twin, retracts it.
    func retractEventInTransaction(_ reference: EventReference, reason reasonText: String, erase: Bool, twin: TwinID?,
                                   _ tx: any StorageWriter) throws -> RetractionResult {
        let event = try findEvent(reference, in: twin, tx)
        guard event.category != .retraction else {
            throw BankError(.invalidEvent, "event \(reference) is a retraction; retractions cannot be retracted", value: reference.description)
        }
        if event.retractedAtSequence != nil && !erase {
            throw BankError(.invalidEvent, "nothing to retract: event \(reference) is already retracted", value: reference.description)
        }
        try authorizeInTransaction(.retract, event.twin, tx)
        return try retractRows([event], scope: "event=\(event.id.hex)", source: event.source, from: nil, to: nil, reason: reasonText, erase: erase, tx)
    }

    /// Retracts the events of a source whose effective start lies in `from...to` (both inclusive), across the
    /// bank (or in one twin), as ``retract(source:reason:erase:)`` does for all of a source's events.
    /// - Throws: ``BankError`` `invalidEvent` if the reason is empty, `to` is before `from`, or nothing matches.
    @discardableResult
    public func retract(source: Source, from: Instant, to: Instant, twin: TwinID? = nil, reason: String, erase: Bool = false) throws -> RetractionResult {
        let reasonText = try Bank.retractionReason(reason)
        try Bank.retractionRange(from, to)
        try authorize(.retract, nil)
        return try writeAsking { tx in try retractRangeInTransaction(source, from: from, to: to, twin: twin, reason: reasonText, erase: erase, tx) }
    }

    /// ``retract(source:from:to:twin:reason:erase:)``'s work inside a write transaction (the reason and the range
    /// already checked, the bank-wide `retract` already asked): finds the source's events in the range, asks the gate
    /// for each twin holding them, retracts them.
    func retractRangeInTransaction(_ source: Source, from: Instant, to: Instant, twin: TwinID?, reason reasonText: String, erase: Bool,
                                   _ tx: any StorageWriter) throws -> RetractionResult {
        var twins = try tx.twins(withSource: source)
        if let twin { twins = twins.filter { $0 == twin } }
        var rows: [Event] = []
        for t in twins {
            rows += try tx.events(EventQuery(twin: t, from: from, to: to, visibility: erase ? .all : .current))
                .filter { $0.source == source && $0.category != .retraction && (erase ? !$0.isErased || $0.retractedAtSequence == nil : true) }
        }
        guard !rows.isEmpty else {
            throw BankError(.invalidEvent, "nothing to retract: no current events from source '\(source)'\(twin.map { " in twin '\($0)'" } ?? "") with effective time in \(from)...\(to)", value: source.description)
        }
        for t in Set(rows.map(\.twin)) { try authorizeInTransaction(.retract, t, tx) }
        return try retractRows(rows, scope: "source=\(source) from=\(from) to=\(to)", source: source, from: from, to: to, reason: reasonText, erase: erase, tx)
    }

    /// Checks a range retraction's range.
    static func retractionRange(_ from: Instant, _ to: Instant) throws {
        guard from <= to else {
            throw BankError(.invalidEvent, "the retraction range ends (\(to)) before it starts (\(from))", value: "\(from)/\(to)")
        }
    }

    static func retractionReason(_ reason: String) throws -> String {
        let reasonText = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reasonText.isEmpty else {
            throw BankError(.invalidEvent, "a retraction needs a reason", value: reason)
        }
        return reasonText
    }

    /// Finds one event by sequence number or id (prefix), in any state.
    /// The event `reference` names; with `twin`, only in that twin's thread (`unknownEvent` otherwise: the message is
    /// the same whether the event is in another thread or nowhere).
    func findEvent(_ reference: EventReference, in twin: TwinID?, _ tx: any StorageReader) throws -> Event {
        guard let twin else { return try findEvent(reference, tx) }
        let missing = BankError(.unknownEvent, "no event \(reference) in the thread of twin \(twin)", value: reference.description)
        switch reference {
        case .sequence(let n):
            guard let e = try tx.events(sequences: n...n, limit: 1).first, e.twin == twin else { throw missing }
            return e
        case .id(let prefix):
            let matches = try tx.eventHashes(of: twin).filter { $0.hex.hasPrefix(prefix) }
            guard let hash = matches.first else { throw missing }
            guard matches.count == 1 else {
                throw BankError(.invalidEvent, "event id prefix \(prefix) is ambiguous: \(matches.count) events of twin \(twin) match; give more digits", value: prefix)
            }
            guard let e = try tx.events(EventQuery(twin: twin, visibility: .all)).first(where: { $0.id == hash }) else { throw missing }
            return e
        }
    }

    func findEvent(_ reference: EventReference, _ tx: any StorageReader) throws -> Event {
        switch reference {
        case .sequence(let n):
            guard let e = try tx.events(sequences: n...n, limit: 1).first else {
                throw BankError(.invalidEvent, "no event with sequence \(n) (the bank's last sequence is \(try tx.lastSequence()))", value: String(n))
            }
            return e
        case .id(let prefix):
            var found: [(TwinID, ContentHash)] = []
            for (name, _) in try tx.refs(prefix: "twin/") {
                guard let twin = try? TwinID(String(name.dropFirst("twin/".count))) else { continue }
                for h in try tx.eventHashes(of: twin) where h.hex.hasPrefix(prefix) { found.append((twin, h)) }
            }
            guard let (twin, hash) = found.first else {
                throw BankError(.invalidEvent, "no event with id \(prefix)", value: prefix)
            }
            guard found.count == 1 else {
                throw BankError(.invalidEvent, "event id prefix \(prefix) is ambiguous: \(found.count) events match; give more digits", value: prefix)
            }
            guard let e = try tx.events(EventQuery(twin: twin, visibility: .all)).first(where: { $0.id == hash }) else {
                throw BankError(.invalidEvent, "no event with id \(prefix)", value: prefix)
            }
            return e
        }
    }

    /// Appends one retraction event per affected twin and marks the rows retracted (and erased).
    func retractRows(_ rows: [Event], scope: String, source: Source, from: Instant?, to: Instant?, reason: String, erase: Bool,
                     _ tx: any StorageWriter) throws -> RetractionResult {
        let twins = Array(Set(rows.map(\.twin))).sorted()
        let recorded = try nextRecorded(tx)
        let first = try tx.lastSequence() + 1
        var hasher = EventHasher()
        var events: [Event] = []
        let code = Concept(system: retractionCode.system, code: retractionCode.code, display: "retraction of \(rows.count == 1 ? "one event" : "events") from \(source)")
        for (i, t) in twins.enumerated() {
            let d = EventDraft(twin: t, effective: EffectiveTime(recorded), category: .retraction, code: code,
                               value: .text(reason), source: Source(.bank, "retraction"),
                               provenance: Provenance(derivedFrom: rows.filter { $0.twin == t }.map(\.id), notes: "\(scope) erase=\(erase)"))
            events.append(Event(id: hasher.hash(d), twin: t, effective: d.effective, recorded: recorded, sequence: first + Int64(i),
                                category: .retraction, code: code, value: d.value, source: d.source, provenance: d.provenance))
        }
        try tx.append(events, batch: BatchRecord(firstSequence: first, lastSequence: first + Int64(events.count) - 1, recorded: recorded))
        let n = try tx.retract(sequences: rows.map(\.sequence), atSequence: first, erasure: erase ? reason : nil)
        return RetractionResult(source: source, reason: reason, erased: erase, twins: twins, eventsRetracted: n, sequence: first,
                                recorded: recorded, events: rows.map(\.id), from: from, to: to,
                                retractedPerTwin: Dictionary(rows.map { ($0.twin, 1) }, uniquingKeysWith: +))
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
    /// For a retraction of one event or of a time range: the events retracted (empty for a whole source).
    public var events: [ContentHash] = []
    /// For a retraction of a time range: its bounds (effective time, inclusive).
    public var from: Instant? = nil
    public var to: Instant? = nil
    /// For a retraction of one event or of a time range: how many events each twin had retracted (empty for a whole
    /// source, retracted without a range).
    public var retractedPerTwin: [TwinID: Int] = [:]
}

/// ``TwinCore/Plausibility/problem(_:for:)`` for many quantities of one code in one unit (a batch): the unit
/// is parsed and the range chosen once, so each value costs a conversion and two comparisons. Gives the
/// same answer as `Plausibility.problem(.quantity(Quantity(value, unit)), for: code)` for every value.
struct PlausibilityChecker {
    let code: Concept
    let unitText: String
    /// The value's unit and the range that applies (nil: no range applies, every value is plausible).
    let applicable: (unit: UCUMUnit, range: Plausibility.Range, rangeUnit: UCUMUnit)?

    init(code: Concept, unit: String) {
        self.code = code
        self.unitText = unit
        guard let ranges = Plausibility.ranges(for: code.key), let parsed = try? UCUMUnit(parsing: unit) else {
            applicable = nil
            return
        }
        // as Plausibility.problem: a range in the value's own unit first, then the first that converts
        let ordered = ranges.filter { $0.unit == unit } + ranges.filter { $0.unit != unit }
        var found: (UCUMUnit, Plausibility.Range, UCUMUnit)?
        for r in ordered {
            if let ru = try? UCUMUnit(parsing: r.unit), ru.isCommensurable(with: parsed) { found = (parsed, r, ru); break }
        }
        applicable = found
    }

    /// Why `value` (in the checker's unit) is implausible for the code, or nil.
    func problem(_ value: Double) -> String? {
        guard let a = applicable, let v = try? a.unit.convert(value, to: a.rangeUnit) else { return nil }
        guard v < a.range.low || v > a.range.high else { return nil }
        return Plausibility.problem(.quantity(Quantity(value, unitText)), for: code)
    }
}
