import Foundation
import PostgresNIO
import TwinBank
import TwinCore

/// SQL text with `$n` placeholders and their bound values, built piece by piece (values are bound, never spliced).
struct SQLBuilder {
    var sql: String
    var binds = PostgresBindings()
    init(_ sql: String = "") { self.sql = sql }

    /// Binds `value` and returns its placeholder.
    mutating func bind<V: PostgresDynamicTypeEncodable>(_ value: V) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }
    mutating func bindNull() -> String {
        binds.appendNull()
        return "$\(binds.count)"
    }
    mutating func bind<V: PostgresDynamicTypeEncodable>(_ value: V?) -> String {
        if let value { bind(value) } else { bindNull() }
    }
    static func += (b: inout SQLBuilder, s: String) { b.sql += s }
    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// One read or write transaction on a ``PostgresStorage``: the same semantics as SQLite's, query for query.
final class PostgresTransaction: StorageWriter {
    let c: BlockingConnection
    let shared: PostgresDictionary
    var maps: PostgresDictionary.Maps
    /// Dictionary entries created (or discovered) here, merged into the shared cache on commit.
    var local = PostgresDictionary.Maps()
    /// Whether this transaction dropped dictionary entries (an erasure): the shared cache is then reloaded.
    var droppedDictionaryEntries = false
    /// Whether this transaction appended, retracted or erased: its commit then notifies the bank's listeners
    /// (``PostgresStorage/changeChannel``).
    var changedEvents = false
    /// A write transaction (it checked the dictionary generation under the write lock, so its cached name-to-id
    /// entries are current). A read trusts only cached id-to-name entries (ids are never reused), and twin ids
    /// (twins are never dropped), so it needs no generation check: one round trip less per read.
    let writable: Bool

    init(_ c: BlockingConnection, shared: PostgresDictionary, writable: Bool) {
        self.c = c
        self.shared = shared
        self.writable = writable
        self.maps = shared.snapshot
    }

    static let columnNames = ["seq", "twin", "code", "eff", "eff_end", "recorded", "category", "vkind", "num", "unit", "txt", "bin", "source", "prov",
                              "h0", "h1", "h2", "h3", "retracted", "erasure"]
    static let columns = "seq, twin, code, eff, eff_end, recorded, category, vkind, num, unit, txt, bin, source, prov, h0, h1, h2, h3, retracted, erasure"
    static let retractionCategory = Int64(Event.Category.retraction.index)

    func decoding<T>(_ body: () throws -> T) throws -> T { try PostgresFailure.decoding(c.location, body) }

    // MARK: Dictionaries

    func reloadDictionary() throws {
        let m = try PostgresDictionary.load(c)
        maps.merge(m)
        local.merge(m)
    }

    func twinID(_ t: TwinID, create: Bool) throws -> Int64? {
        if let id = maps.twinID[t.rawValue] { return id }
        // found or created in one round trip (writes are serialised, so no other transaction creates it meanwhile)
        let id = create
            ? try c.one(Int64.self, """
                WITH ins AS (INSERT INTO twins (name) VALUES (\(t.rawValue)) ON CONFLICT (name) DO NOTHING RETURNING id)
                SELECT id FROM ins UNION ALL SELECT id FROM twins WHERE name = \(t.rawValue)
                """)
            : try c.one(Int64.self, "SELECT id FROM twins WHERE name = \(t.rawValue)")
        guard let id else { return nil }
        maps.twinID[t.rawValue] = id; maps.twinName[id] = t
        local.twinID[t.rawValue] = id; local.twinName[id] = t
        return id
    }

    func codeID(_ concept: Concept) throws -> Int64 {
        if let id = maps.codeID[concept] { return id }
        let display = concept.display ?? "", has = concept.display != nil
        guard let id = try c.one(Int64.self, """
            WITH ins AS (INSERT INTO codes (system, code, display, has_display) VALUES (\(concept.system), \(concept.code), \(display), \(has))
                         ON CONFLICT (system, code, display, has_display) DO NOTHING RETURNING id)
            SELECT id FROM ins UNION ALL
            SELECT id FROM codes WHERE system = \(concept.system) AND code = \(concept.code) AND display = \(display) AND has_display = \(has)
            """) else {
            throw BankError(.storageFailure, "cannot record the code \(concept.system)|\(concept.code) in \(c.location)")
        }
        maps.codeID[concept] = id; maps.codeByID[id] = concept
        local.codeID[concept] = id; local.codeByID[id] = concept
        return id
    }

    /// All dictionary ids of a code key (one per display variant).
    func codeIDs(_ key: CodeKey) throws -> [Int64] {
        let ids = try c.all(Int64.self, "SELECT id FROM codes WHERE system = \(key.system) AND code = \(key.code) ORDER BY id")
        for id in ids where maps.codeByID[id] == nil { try reloadDictionary(); break }
        return ids
    }

    func sourceID(_ s: Source, create: Bool) throws -> Int64? {
        // (a source an erasure dropped and a later write recorded again has a new id: only a write's cache is current)
        if writable, let id = maps.sourceID[s] { return id }
        let text = s.description
        let id = create
            ? try c.one(Int64.self, """
                WITH ins AS (INSERT INTO sources (text) VALUES (\(text)) ON CONFLICT (text) DO NOTHING RETURNING id)
                SELECT id FROM ins UNION ALL SELECT id FROM sources WHERE text = \(text)
                """)
            : try c.one(Int64.self, "SELECT id FROM sources WHERE text = \(text)")
        guard let id else { return nil }
        cacheSource(s, id)
        return id
    }

    func cacheSource(_ s: Source, _ id: Int64) {
        guard maps.sourceID.count < PostgresDictionary.sourceCacheLimit else { return }
        maps.sourceID[s] = id; maps.sourceByID[id] = s
        if local.sourceID.count < PostgresDictionary.sourceCacheLimit { local.sourceID[s] = id; local.sourceByID[id] = s }
    }

    func source(id: Int64) throws -> Source? {
        if let s = maps.sourceByID[id] { return s }
        guard let text = try c.one(String.self, "SELECT text FROM sources WHERE id = \(id)") else { return nil }
        let s = try Source(parsing: text)
        cacheSource(s, id)
        return s
    }

    func unitID(_ u: String) throws -> Int64 {
        if let id = maps.unitID[u] { return id }
        guard let id = try c.one(Int64.self, """
            WITH ins AS (INSERT INTO units (text) VALUES (\(u)) ON CONFLICT (text) DO NOTHING RETURNING id)
            SELECT id FROM ins UNION ALL SELECT id FROM units WHERE text = \(u)
            """) else {
            throw BankError(.storageFailure, "cannot record the unit '\(u)' in \(c.location)")
        }
        maps.unitID[u] = id; maps.unitByID[id] = u
        local.unitID[u] = id; local.unitByID[id] = u
        return id
    }

    // MARK: Rows

    func decode(_ row: PostgresRow) throws -> Event {
        let r = row.makeRandomAccess()
        return try decoding {
            let seq = try r[0].decode(Int64.self)
            let twinKey = try r[1].decode(Int64.self), codeKey = try r[2].decode(Int64.self), sourceKey = try r[12].decode(Int64.self)
            if maps.twinName[twinKey] == nil || maps.codeByID[codeKey] == nil { try reloadDictionary() }
            guard let twin = maps.twinName[twinKey], let code = maps.codeByID[codeKey], let source = try source(id: sourceKey) else {
                throw BankError(.storageFailure, "event \(seq) refers to a missing dictionary entry")
            }
            let value = try decodeValue(r, at: 7)
            var provenance = Provenance()
            if let p = try r[13].decode(Data?.self) { provenance = try JSONDecoder().decode(Provenance.self, from: p) }
            let id = ContentHash(w0: UInt64(bitPattern: try r[14].decode(Int64.self)), w1: UInt64(bitPattern: try r[15].decode(Int64.self)),
                                 w2: UInt64(bitPattern: try r[16].decode(Int64.self)), w3: UInt64(bitPattern: try r[17].decode(Int64.self)))
            guard let category = Event.Category(index: Int(try r[6].decode(Int64.self))) else {
                throw BankError(.storageFailure, "event \(seq) has a malformed category")
            }
            let end = try r[4].decode(Int64?.self)
            return Event(id: id, twin: twin, effective: EffectiveTime(Instant(microseconds: try r[3].decode(Int64.self)), end: end.map(Instant.init(microseconds:))),
                         recorded: Instant(microseconds: try r[5].decode(Int64.self)), sequence: seq, category: category, code: code, value: value,
                         source: source, provenance: provenance, retractedAtSequence: try r[18].decode(Int64?.self), erasure: try r[19].decode(String?.self))
        }
    }

    /// A row's value from its columns `vkind, num, unit, txt, bin`, the first at index `k` (nil: none, or erased).
    func decodeValue(_ r: PostgresRandomAccessRow, at k: Int) throws -> Value? {
        func unit() throws -> String {
            let key = try r[k + 2].decode(Int64.self)
            if maps.unitByID[key] == nil { try reloadDictionary() }
            return maps.unitByID[key] ?? "1"
        }
        switch try r[k].decode(Int64.self) {
        case 1: return .quantity(Quantity(try r[k + 1].decode(Double.self), try unit()))
        case 2:
            let parts = try text(r[k + 3]).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            return .concept(Concept(system: parts[0], code: parts.count > 1 ? parts[1] : "", display: parts.count > 2 ? parts[2] : nil))
        case 3: return .text(try text(r[k + 3]))
        case 4: return .date(Instant(microseconds: Int64(try r[k + 1].decode(Double.self))))
        case 5:
            let buffer = try r[k + 4].decode(ByteBuffer.self)
            var values = [Double](repeating: 0, count: buffer.readableBytes / 8)
            values.withUnsafeMutableBytes { dst in buffer.withUnsafeReadableBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(dst.count))) } }
            return .vector(Vector(values, unit: try unit()))
        case 6: return .boolean(try r[k + 1].decode(Double.self) != 0)
        default: return nil
        }
    }

    /// A `txt` cell: UTF-8 bytes (a `bytea`, since PostgreSQL's `text` cannot hold NUL).
    func text(_ cell: PostgresCell) throws -> String {
        let b = try cell.decode(ByteBuffer.self)
        return String(decoding: b.readableBytesView, as: UTF8.self)
    }

    func decodeEvents(_ q: PostgresQuery) throws -> [Event] {
        try c.query(q).rows.map(decode)
    }

    func hash(_ r: PostgresRandomAccessRow, at k: Int) throws -> ContentHash {
        try decoding {
            ContentHash(w0: UInt64(bitPattern: try r[k].decode(Int64.self)), w1: UInt64(bitPattern: try r[k + 1].decode(Int64.self)),
                        w2: UInt64(bitPattern: try r[k + 2].decode(Int64.self)), w3: UInt64(bitPattern: try r[k + 3].decode(Int64.self)))
        }
    }

    func visibility(_ v: Visibility, _ b: inout SQLBuilder) -> String {
        switch v {
        case .current: return "retracted IS NULL"
        case .knownAt(let k):
            let p = b.bind(k)
            return "seq <= \(p) AND (retracted IS NULL OR retracted > \(p))"
        case .all: return "TRUE"
        }
    }

    // MARK: StorageReader

    /// In a write transaction, the last sequence number and the last batch's recorded time once read or written here:
    /// the transaction holds the write lock, and only its own ``append(_:batch:)`` changes them, so an append's
    /// repeated asks (the bank's numbering, the storage's check) cost one round trip, not three.
    private var knownLastSequence: Int64?
    private var knownLastRecorded: Instant??

    func lastSequence() throws -> Int64 {
        if let known = knownLastSequence { return known }
        let last = try c.one(Int64.self, "SELECT value FROM meta WHERE key = 'last_seq'") ?? 0
        if writable { knownLastSequence = last }
        return last
    }
    func lastRecorded() throws -> Instant? {
        if let known = knownLastRecorded { return known }
        let last = try c.one(Int64.self, "SELECT recorded FROM batches ORDER BY last_seq DESC LIMIT 1").map(Instant.init(microseconds:))
        if writable { knownLastRecorded = .some(last) }
        return last
    }
    func sequence(knownAt instant: Instant) throws -> Int64 {
        try c.one(Int64.self, "SELECT max(last_seq) FROM batches WHERE recorded <= \(instant.microseconds)") ?? 0
    }
    func ref(_ name: String) throws -> String? {
        try c.one(String.self, "SELECT value FROM refs WHERE name = \(name)")
    }
    func refs(prefix: String) throws -> [(name: String, value: String)] {
        // a range scan on the primary key (collation "C": byte order): prefix <= name < prefix + U+10FFFF
        let rows = try c.query("SELECT name, value FROM refs WHERE name >= \(prefix) AND name < \(prefix + "\u{10FFFF}") ORDER BY name").rows
        return try decoding {
            try rows.map { try $0.decode((String, String).self) }.filter { $0.0.hasPrefix(prefix) }.map { (name: $0.0, value: $0.1) }
        }
    }
    func object(_ hash: ContentHash) throws -> [UInt8]? {
        try c.one(ByteBuffer.self, "SELECT bytes FROM objects WHERE hash = \(ByteBuffer(bytes: hash.bytes))").map { Array($0.readableBytesView) }
    }

    func events(_ q: EventQuery) throws -> [Event] {
        guard let twin = try twinID(q.twin, create: false) else { return [] }
        var b = SQLBuilder("SELECT \(PostgresTransaction.columns) FROM events WHERE ")
        b += "twin = \(b.bind(twin))"
        if let code = q.code {
            let ids = try codeIDs(code)
            if ids.isEmpty { return [] }
            b += " AND code = ANY(\(b.bind(ids)))"
        }
        if let cat = q.category { b += " AND category = \(b.bind(Int64(cat.index)))" }
        if let from = q.from { b += " AND eff >= \(b.bind(from.microseconds))" }
        if let to = q.to { b += " AND eff <= \(b.bind(to.microseconds))" }
        if let m = q.maxSequence { b += " AND seq <= \(b.bind(m))" }
        if let a = q.after {
            // a row comparison: one index range on (eff, seq) within the twin
            b += q.descending ? " AND (eff, seq) < (\(b.bind(a.effective.microseconds)), \(b.bind(a.sequence)))"
                              : " AND (eff, seq) > (\(b.bind(a.effective.microseconds)), \(b.bind(a.sequence)))"
        }
        b += " AND " + visibility(q.visibility, &b)
        b += q.descending ? " ORDER BY eff DESC, seq DESC" : " ORDER BY eff, seq"
        if let limit = q.limit { b += " LIMIT \(b.bind(Int64(limit)))" }
        return try decodeEvents(b.query)
    }

    func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?, visibility v: Visibility) throws -> Event? {
        guard let t = try twinID(twin, create: false) else { return nil }
        // one round trip: for each dictionary id of the code (one per display variant, usually one), one backward seek
        // in the twin's partition of events (twin, code, eff, seq); the latest of those
        var b = SQLBuilder()
        var inner = "SELECT \(PostgresTransaction.columns) FROM events WHERE twin = \(b.bind(t)) AND code = k.id AND eff <= \(b.bind(instant.microseconds))"
        if let category { inner += " AND category = \(b.bind(Int64(category.index)))" }
        if let m = maxSequence { inner += " AND seq <= \(b.bind(m))" }
        inner += " AND " + visibility(v, &b) + " ORDER BY eff DESC, seq DESC LIMIT 1"
        b += "SELECT e.* FROM codes k CROSS JOIN LATERAL (\(inner)) e WHERE k.system = \(b.bind(code.system)) AND k.code = \(b.bind(code.code))"
        b += " ORDER BY e.eff DESC, e.seq DESC LIMIT 1"
        return try decodeEvents(b.query).first
    }

    func codes(of twin: TwinID) throws -> [CodeKey] {
        guard let t = try twinID(twin, create: false) else { return [] }
        var keys = Set<CodeKey>()
        for id in try c.all(Int64.self, "SELECT code FROM twin_codes WHERE twin = \(t)") {
            if maps.codeByID[id] == nil { try reloadDictionary() }
            if let concept = maps.codeByID[id] { keys.insert(concept.key) }
        }
        return keys.sorted()
    }

    func twins(withSource source: Source) throws -> [TwinID] {
        guard let s = try sourceID(source, create: false) else { return [] }
        return try c.all(String.self, "SELECT t.name FROM twin_sources ts JOIN twins t ON t.id = ts.twin WHERE ts.source = \(s) ORDER BY t.name")
            .compactMap { try? TwinID($0) }
    }

    func events(sequences range: ClosedRange<Int64>, limit: Int) throws -> [Event] {
        try decodeEvents("SELECT \(unescaped: PostgresTransaction.columns) FROM events WHERE seq >= \(range.lowerBound) AND seq <= \(range.upperBound) ORDER BY seq LIMIT \(Int64(limit))")
    }

    func eventHashes(of twin: TwinID) throws -> Set<ContentHash> {
        guard let t = try twinID(twin, create: false) else { return [] }
        return Set(try c.query("SELECT h0, h1, h2, h3 FROM events WHERE twin = \(t)").rows.map { try hash($0.makeRandomAccess(), at: 0) })
    }

    func eventHashes(twin: TwinID, code: CodeKey, from: Instant, to: Instant) throws -> Set<ContentHash> {
        guard let t = try twinID(twin, create: false) else { return [] }
        // one round trip (the append's duplicate check makes one call per (twin, code) of a batch): the code's ids
        // (one per display variant) found by the subquery, not by a query of their own
        return Set(try c.query("""
            SELECT h0, h1, h2, h3 FROM events WHERE twin = \(t) AND code IN (SELECT id FROM codes WHERE system = \(code.system) AND code = \(code.code))
            AND eff >= \(from.microseconds) AND eff <= \(to.microseconds)
            """).rows.map { try hash($0.makeRandomAccess(), at: 0) })
    }

    func unit(for code: CodeKey) throws -> String? {
        try c.one(String.self, "SELECT unit FROM code_units WHERE system = \(code.system) AND code = \(code.code)")
    }

    func units() throws -> [CodeKey: String] {
        var out: [CodeKey: String] = [:]
        for row in try c.query("SELECT system, code, unit FROM code_units").rows {
            let (system, code, unit) = try decoding { try row.decode((String, String, String).self) }
            out[CodeKey(system: system, code: code)] = unit
        }
        return out
    }

    // MARK: Bulk reads

    /// The most values bound in one array parameter of a bulk read.
    static let bindBatch = 10_000

    func objects(_ hashes: [ContentHash]) throws -> [ContentHash: [UInt8]] {
        var out: [ContentHash: [UInt8]] = [:]
        out.reserveCapacity(hashes.count)
        var start = 0
        while start < hashes.count {
            let end = min(start + PostgresTransaction.bindBatch, hashes.count)
            let keys = hashes[start..<end].map { ByteBuffer(bytes: $0.bytes) }
            for row in try c.query("SELECT hash, bytes FROM objects WHERE hash = ANY(\(keys))").rows {
                let (h, bytes) = try decoding { try row.decode((ByteBuffer, ByteBuffer).self) }
                guard let hash = h.withUnsafeReadableBytes({ ContentHash(raw: $0) }) else { continue }
                out[hash] = Array(bytes.readableBytesView)
            }
            start = end
        }
        return out
    }

    func twins(withCode code: CodeKey) throws -> Set<TwinID> {
        let ids = try codeIDs(code)
        if ids.isEmpty { return [] }
        let twins = try c.all(Int64.self, "SELECT DISTINCT twin FROM twin_codes WHERE code = ANY(\(ids))")
        var out = Set<TwinID>(minimumCapacity: twins.count)
        for t in twins {
            if maps.twinName[t] == nil { try reloadDictionary() }
            if let name = maps.twinName[t] { out.insert(name) }
        }
        return out
    }

    func latestValues(code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, from: Instant?, maxSequence: Int64?,
                      visibility v: Visibility, plausibleOnly: Bool) throws -> [TwinID: LatestValue] {
        var out: [TwinID: LatestValue] = [:]
        // one query: for each dictionary id of the code (usually one) and each twin having it (twin_codes by its index
        // on code), one backward seek in that twin's partition of events (twin, code, eff, seq) to its latest matching row
        var b = SQLBuilder()
        var inner = "SELECT seq, eff, vkind, num, unit, txt, bin FROM events WHERE twin = tc.twin AND code = k.id AND eff <= \(b.bind(instant.microseconds))"
        if let from { inner += " AND eff >= \(b.bind(from.microseconds))" }
        if let category { inner += " AND category = \(b.bind(Int64(category.index)))" }
        if let m = maxSequence { inner += " AND seq <= \(b.bind(m))" }
        inner += " AND " + visibility(v, &b)
        if plausibleOnly {
            inner += " AND NOT (prov IS NOT NULL AND starts_with(coalesce(convert_from(prov, 'UTF8')::jsonb ->> 'notes', ''), \(b.bind(Provenance.implausibleFlag))))"
        }
        inner += " ORDER BY eff DESC, seq DESC LIMIT 1"
        b += """
            SELECT tc.twin, e.seq, e.eff, e.vkind, e.num, e.unit, e.txt, e.bin
            FROM codes k JOIN twin_codes tc ON tc.code = k.id CROSS JOIN LATERAL (\(inner)) e
            WHERE k.system = \(b.bind(code.system)) AND k.code = \(b.bind(code.code))
            """
        for row in try c.query(b.query).rows {
            let r = row.makeRandomAccess()
            let (twinKey, seq, eff) = try decoding { (try r[0].decode(Int64.self), try r[1].decode(Int64.self), try r[2].decode(Int64.self)) }
            if maps.twinName[twinKey] == nil { try reloadDictionary() }
            guard let twin = maps.twinName[twinKey] else {
                throw BankError(.storageFailure, "event \(seq) refers to a missing dictionary entry")
            }
            let value = LatestValue(value: try decoding { try decodeValue(r, at: 3) }, effective: Instant(microseconds: eff), sequence: seq)
            if let best = out[twin], !best.isBefore(value) { continue }
            out[twin] = value
        }
        return out
    }

    func objectHashes(kind: String) throws -> [ContentHash] {
        try c.all(ByteBuffer.self, "SELECT hash FROM objects WHERE kind = \(kind) ORDER BY hash").compactMap { b in b.withUnsafeReadableBytes { ContentHash(raw: $0) } }
    }

    func batches(after: Int64, limit: Int) throws -> [BatchRecord] {
        try c.query("SELECT first_seq, last_seq, recorded, idem_key, idem_digest FROM batches WHERE last_seq > \(after) ORDER BY last_seq LIMIT \(max(0, limit))").rows.map(batchRecord)
    }

    func batch(idempotencyKey key: String) throws -> BatchRecord? {
        try c.query("SELECT first_seq, last_seq, recorded, idem_key, idem_digest FROM batches WHERE idem_key = \(key)").rows.first.map(batchRecord)
    }

    /// A batch record from a row of (first_seq, last_seq, recorded, idem_key, idem_digest).
    func batchRecord(_ row: PostgresRow) throws -> BatchRecord {
        let (first, last, recorded, key, digest) = try decoding { try row.decode((Int64, Int64, Int64, String?, ByteBuffer?).self) }
        var idempotency: BatchRecord.Idempotency?
        if let key {
            guard let digest, let hash = digest.withUnsafeReadableBytes({ ContentHash(raw: $0) }) else {
                throw BankError(.storageFailure, "the batch ending at sequence \(last) in \(c.location) has the idempotency key '\(key)' without a 32-byte digest", value: key)
            }
            idempotency = BatchRecord.Idempotency(key: key, digest: hash)
        }
        return BatchRecord(firstSequence: first, lastSequence: last, recorded: Instant(microseconds: recorded), idempotency: idempotency)
    }

    func objects(after: ContentHash?, limit: Int) throws -> [StoredObject] {
        // bytea compares as memcmp of the bytes: the order of the hash's bytes, as the other storages
        let rows: PostgresQueryResult
        if let after {
            rows = try c.query("SELECT hash, kind, bytes FROM objects WHERE hash > \(ByteBuffer(bytes: after.bytes)) ORDER BY hash LIMIT \(max(0, limit))")
        } else {
            rows = try c.query("SELECT hash, kind, bytes FROM objects ORDER BY hash LIMIT \(max(0, limit))")
        }
        return try rows.rows.map { row in
            let (raw, kind, bytes) = try decoding { try row.decode((ByteBuffer, String, ByteBuffer).self) }
            guard let hash = raw.withUnsafeReadableBytes({ ContentHash(raw: $0) }) else {
                throw BankError(.storageFailure, "an object's hash in \(c.location) has \(raw.readableBytes) bytes, not 32", value: Array(raw.readableBytesView).map { String(format: "%02x", $0) }.joined())
            }
            return StoredObject(hash: hash, kind: kind, bytes: Array(bytes.readableBytesView))
        }
    }

    // MARK: StorageWriter

    /// One event as the columns of its row.
    struct Row {
        var seq: Int64, twin: Int64, code: Int64, eff: Int64, effEnd: Int64?, recorded: Int64, category: Int64
        var vkind: Int64 = 0, num: Double?, unit: Int64?, txt: String?, bin: [UInt8]?
        var source: Int64, prov: Data?, h: (Int64, Int64, Int64, Int64), retracted: Int64?, erasure: String?
    }

    /// Batches of at least this many events are sent with `COPY` (fewer: one multi-row `INSERT`, a single round trip).
    static let copyThreshold = 64
    /// Events per `COPY` statement, and rows per buffer sent (each sent once full, while the next is made).
    static let rowsPerCopy = 50_000, rowsPerCopyBuffer = 1_000
    /// Events per multi-row `INSERT` (20 bound values each; PostgreSQL allows 65,535 per statement).
    static let rowsPerInsert = 1000
    static let rowCasts = ["int8", "int8", "int8", "int8", "int8", "int8", "int2", "int2", "float8", "int8", "bytea", "bytea", "int8", "bytea",
                           "int8", "int8", "int8", "int8", "int8", "text"]

    /// Appends with `COPY` (text format) when the batch has ``copyThreshold`` events or more, else with one multi-row
    /// `INSERT` (measured in a debug build on the loaded 2-core machine: `COPY` took 19,900 events in 0.17 s, multi-row
    /// `INSERT`s of 1,000 rows took 5 s). Dictionary ids are resolved first, on this thread; the rows are then sent.
    func append(_ events: [Event], batch: BatchRecord) throws {
        changedEvents = true
        var previous = try lastSequence()
        var pairsCodes = Set<SIMD2<Int64>>(), pairsSources = Set<SIMD2<Int64>>()
        var lastTwin: (TwinID, Int64)?, lastSource: (Source, Int64)?
        var recentCodes: [(Concept, Int64)] = [], recentUnits: [(String, Int64)] = []
        let encoder = JSONEncoder()
        func unit(_ u: String) throws -> Int64 {
            for ru in recentUnits where ru.0 == u { return ru.1 }
            let id = try unitID(u)
            if recentUnits.count < 8 { recentUnits.append((u, id)) }
            return id
        }
        func row(_ e: Event) throws -> Row {
            guard e.sequence > previous else {
                throw BankError(.storageFailure, "sequence \(e.sequence) is not above \(previous)")
            }
            previous = e.sequence
            let twin: Int64
            if let lt = lastTwin, lt.0 == e.twin { twin = lt.1 } else { twin = try twinID(e.twin, create: true)!; lastTwin = (e.twin, twin) }
            var code: Int64 = -1
            for rc in recentCodes where rc.0 == e.code { code = rc.1; break }
            if code < 0 {
                code = try codeID(e.code)
                if recentCodes.count < 8 { recentCodes.append((e.code, code)) }
            }
            let source: Int64
            if let ls = lastSource, ls.0 == e.source { source = ls.1 } else { source = try sourceID(e.source, create: true)!; lastSource = (e.source, source) }
            pairsCodes.insert(SIMD2(twin, code)); pairsSources.insert(SIMD2(source, twin))
            var r = Row(seq: e.sequence, twin: twin, code: code, eff: e.effective.start.microseconds, effEnd: e.effective.end?.microseconds,
                        recorded: e.recorded.microseconds, category: Int64(e.category.index), source: source,
                        prov: e.provenance.isEmpty ? nil : try encoder.encode(e.provenance),
                        h: (Int64(bitPattern: e.id.w0), Int64(bitPattern: e.id.w1), Int64(bitPattern: e.id.w2), Int64(bitPattern: e.id.w3)),
                        retracted: e.retractedAtSequence, erasure: e.erasure)
            switch e.value {
            case nil: break
            case .quantity(let q)?: r.vkind = 1; r.num = q.value; r.unit = try unit(q.unit)
            case .concept(let cc)?: r.vkind = 2; r.txt = cc.display.map { "\(cc.system)\u{1F}\(cc.code)\u{1F}\($0)" } ?? "\(cc.system)\u{1F}\(cc.code)"
            case .text(let t)?: r.vkind = 3; r.txt = t
            case .date(let d)?: r.vkind = 4; r.num = Double(d.microseconds)
            case .vector(let v)?: r.vkind = 5; r.bin = v.values.withUnsafeBytes { Array($0) }; r.unit = try unit(v.unit)
            case .boolean(let x)?: r.vkind = 6; r.num = x ? 1 : 0
            }
            return r
        }
        if events.count >= PostgresTransaction.copyThreshold, #available(macOS 15, *), BlockingConnection.canCopy {
            var start = 0
            let allocator = ByteBufferAllocator()
            while start < events.count {
                let end = min(start + PostgresTransaction.rowsPerCopy, events.count)
                // the dictionary ids first: a lookup is a query on this connection, which cannot run during the COPY
                let rows = try events[start..<end].map(row)
                // each buffer is sent as soon as it is full: the server parses it while the next one is made
                try c.copy(into: "events", columns: PostgresTransaction.columnNames) { send in
                    var w = CopyTextRow(into: allocator.buffer(capacity: PostgresTransaction.rowsPerCopyBuffer * 200))
                    for (k, r) in rows.enumerated() {
                        w.int(r.seq); w.int(r.twin); w.int(r.code); w.int(r.eff); w.int(r.effEnd); w.int(r.recorded); w.int(r.category)
                        w.int(r.vkind); w.double(r.num); w.int(r.unit); w.bytes(r.txt?.utf8); w.bytes(r.bin); w.int(r.source); w.bytes(r.prov)
                        w.int(r.h.0); w.int(r.h.1); w.int(r.h.2); w.int(r.h.3); w.int(r.retracted); w.text(r.erasure)
                        w.end()
                        if (k + 1) % PostgresTransaction.rowsPerCopyBuffer == 0 {
                            send(w.buffer)
                            w = CopyTextRow(into: allocator.buffer(capacity: PostgresTransaction.rowsPerCopyBuffer * 200))
                        }
                    }
                    if w.buffer.readableBytes > 0 { send(w.buffer) }
                }
                start = end
            }
        } else {
            var start = 0
            while start < events.count {
                let end = min(start + PostgresTransaction.rowsPerInsert, events.count)
                var b = SQLBuilder("INSERT INTO events (\(PostgresTransaction.columns)) VALUES ")
                for i in start..<end {
                    let r = try row(events[i])
                    let placeholders: [String] = [
                        b.bind(r.seq), b.bind(r.twin), b.bind(r.code), b.bind(r.eff), b.bind(r.effEnd), b.bind(r.recorded), b.bind(r.category),
                        b.bind(r.vkind), b.bind(r.num), b.bind(r.unit), b.bind(r.txt.map { ByteBuffer(string: $0) }), b.bind(r.bin.map { ByteBuffer(bytes: $0) }), b.bind(r.source),
                        b.bind(r.prov.map { ByteBuffer(bytes: $0) }), b.bind(r.h.0), b.bind(r.h.1), b.bind(r.h.2), b.bind(r.h.3),
                        b.bind(r.retracted), b.bind(r.erasure),
                    ]
                    if i > start { b += "," }
                    b += "(" + zip(placeholders, PostgresTransaction.rowCasts).map { "\($0)::\($1)" }.joined(separator: ",") + ")"
                }
                try c.execute(b.query)
                start = end
            }
        }
        // the indexes, the batch and the last sequence number in one statement (one round trip under the write lock)
        let codes = Array(pairsCodes), sources = Array(pairsSources)
        let newLast = max(previous, batch.lastSequence)
        let key = batch.idempotency?.key, digest = batch.idempotency.map { ByteBuffer(bytes: $0.digest.bytes) }
        if let key, try self.batch(idempotencyKey: key) != nil {
            throw BankError(.storageFailure, "the idempotency key '\(key)' is already the key of another batch", value: key)
        }
        try c.execute("""
            WITH tc AS (INSERT INTO twin_codes (twin, code) SELECT * FROM unnest(\(codes.map { $0[0] }), \(codes.map { $0[1] })) ON CONFLICT DO NOTHING),
                 ts AS (INSERT INTO twin_sources (source, twin) SELECT * FROM unnest(\(sources.map { $0[0] }), \(sources.map { $0[1] })) ON CONFLICT DO NOTHING),
                 b AS (INSERT INTO batches (last_seq, first_seq, recorded, idem_key, idem_digest)
                       VALUES (\(newLast), \(batch.firstSequence), \(batch.recorded.microseconds), \(key), \(digest))
                       ON CONFLICT (last_seq) DO UPDATE SET first_seq = EXCLUDED.first_seq, recorded = EXCLUDED.recorded,
                                                            idem_key = EXCLUDED.idem_key, idem_digest = EXCLUDED.idem_digest)
            UPDATE meta SET value = \(newLast) WHERE key = 'last_seq'
            """)
        // this batch's row has the highest last_seq (newLast is at least the stored last sequence number)
        knownLastSequence = newLast
        knownLastRecorded = .some(batch.recorded)
    }

    /// Removes the notes from the provenance of each of these rows (seq, prov) that has provenance.
    func purgeNotes(_ rows: [PostgresRow]) throws {
        for row in rows {
            let (seq, prov) = try decoding { try row.decode((Int64, Data).self) }
            var p = try JSONDecoder().decode(Provenance.self, from: prov)
            p.notes = nil
            let bytes: ByteBuffer? = p.isEmpty ? nil : ByteBuffer(bytes: try JSONEncoder().encode(p))
            try c.execute("UPDATE events SET prov = \(bytes) WHERE seq = \(seq)")
        }
    }

    func retract(source: Source, atSequence sequence: Int64, erasure: String?) throws -> Int {
        changedEvents = true
        guard let s = try sourceID(source, create: false) else { return 0 }
        let retraction = PostgresTransaction.retractionCategory
        var n = 0
        // per twin (each one partition of events), found by twin_sources
        for t in try c.all(Int64.self, "SELECT twin FROM twin_sources WHERE source = \(s) ORDER BY twin") {
            n += try c.execute("UPDATE events SET retracted = \(sequence) WHERE twin = \(t) AND source = \(s) AND category <> \(retraction) AND retracted IS NULL")
            if let erasure {
                try purgeNotes(try c.query("SELECT seq, prov FROM events WHERE twin = \(t) AND source = \(s) AND category <> \(retraction) AND erasure IS NULL AND prov IS NOT NULL").rows)
                try c.execute("UPDATE events SET vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL, erasure = \(erasure) WHERE twin = \(t) AND source = \(s) AND category <> \(retraction) AND erasure IS NULL")
            }
        }
        return n
    }

    func retract(sequences: [Int64], atSequence sequence: Int64, erasure: String?) throws -> Int {
        changedEvents = true
        let seqs = Set(sequences).sorted()
        if seqs.isEmpty { return 0 }
        let retraction = PostgresTransaction.retractionCategory
        let n = try c.execute("UPDATE events SET retracted = \(sequence) WHERE seq = ANY(\(seqs)) AND category <> \(retraction) AND retracted IS NULL")
        if let erasure {
            try purgeNotes(try c.query("SELECT seq, prov FROM events WHERE seq = ANY(\(seqs)) AND category <> \(retraction) AND erasure IS NULL AND prov IS NOT NULL").rows)
            try c.execute("UPDATE events SET vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL, erasure = \(erasure) WHERE seq = ANY(\(seqs)) AND category <> \(retraction) AND erasure IS NULL")
        }
        return n
    }

    func replaceObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws {
        try c.execute("""
            INSERT INTO objects (hash, kind, bytes) VALUES (\(ByteBuffer(bytes: hash.bytes)), \(kind), \(ByteBuffer(bytes: bytes)))
            ON CONFLICT (hash) DO UPDATE SET kind = EXCLUDED.kind, bytes = EXCLUDED.bytes
            """)
    }

    func deleteObject(_ hash: ContentHash) throws {
        try c.execute("DELETE FROM objects WHERE hash = \(ByteBuffer(bytes: hash.bytes))")
    }

    func erase(sequences: [Int64], reason: String) throws -> StorageErasure {
        changedEvents = true
        var out = StorageErasure()
        let code = try codeID(Erasure.tombstoneCode)
        guard let source = try sourceID(Erasure.tombstoneSource, create: true) else {
            throw BankError(.storageFailure, "cannot record the source of erased rows")
        }
        let seqs = Set(sequences).sorted()
        var twins = Set<Int64>()
        for row in try c.query("SELECT seq, twin, recorded FROM events WHERE seq = ANY(\(seqs)) ORDER BY seq").rows {
            let (seq, twinKey, recorded) = try decoding { try row.decode((Int64, Int64, Int64).self) }
            if maps.twinName[twinKey] == nil { try reloadDictionary() }
            guard let twin = maps.twinName[twinKey] else {
                throw BankError(.storageFailure, "event \(seq) refers to a missing dictionary entry")
            }
            let id = Erasure.tombstoneID(twin: twin, sequence: seq)
            out.rows += try c.execute("""
                UPDATE events SET code = \(code), eff = \(recorded), eff_end = NULL, vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL,
                    source = \(source), prov = NULL, h0 = \(Int64(bitPattern: id.w0)), h1 = \(Int64(bitPattern: id.w1)), h2 = \(Int64(bitPattern: id.w2)),
                    h3 = \(Int64(bitPattern: id.w3)), erasure = \(reason) WHERE twin = \(twinKey) AND seq = \(seq)
                """)
            twins.insert(twinKey)
        }
        // the indexes hold what the rows of these twins still have
        for t in twins.sorted() {
            let codesBefore = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_codes WHERE twin = \(t)") ?? 0
            try c.execute("DELETE FROM twin_codes WHERE twin = \(t)")
            try c.execute("INSERT INTO twin_codes (twin, code) SELECT DISTINCT twin, code FROM events WHERE twin = \(t) ON CONFLICT DO NOTHING")
            let codesAfter = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_codes WHERE twin = \(t)") ?? 0
            let sourcesBefore = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_sources WHERE twin = \(t)") ?? 0
            try c.execute("DELETE FROM twin_sources WHERE twin = \(t)")
            try c.execute("INSERT INTO twin_sources (source, twin) SELECT DISTINCT source, twin FROM events WHERE twin = \(t) ON CONFLICT DO NOTHING")
            let sourcesAfter = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_sources WHERE twin = \(t)") ?? 0
            // the tombstone pair added back is not counted as kept
            let hasTombCode = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_codes WHERE twin = \(t) AND code = \(code)") ?? 0
            let hasTombSource = try c.one(Int.self, "SELECT count(*)::int8 FROM twin_sources WHERE twin = \(t) AND source = \(source)") ?? 0
            out.indexRowsRemoved += max(0, codesBefore - (codesAfter - hasTombCode)) + max(0, sourcesBefore - (sourcesAfter - hasTombSource))
        }
        // dictionary entries no row uses any more (the tombstone's own were just used)
        out.dictionaryEntriesDropped += try c.execute("DELETE FROM codes WHERE NOT EXISTS (SELECT 1 FROM twin_codes tc WHERE tc.code = codes.id)")
        out.dictionaryEntriesDropped += try c.execute("DELETE FROM sources WHERE NOT EXISTS (SELECT 1 FROM twin_sources ts WHERE ts.source = sources.id)")
        out.dictionaryEntriesDropped += try c.execute("DELETE FROM units WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.unit = units.id)")
        out.dictionaryEntriesDropped += try c.execute("DELETE FROM code_units WHERE NOT EXISTS (SELECT 1 FROM codes c WHERE c.system = code_units.system AND c.code = code_units.code)")
        droppedDictionaryEntries = true
        // other connections (other processes too) reload their caches before they use an id again
        try c.execute("UPDATE meta SET value = value + 1 WHERE key = 'dictionary_generation'")
        maps = PostgresDictionary.Maps()
        local = PostgresDictionary.Maps()
        try reloadDictionary()
        return out
    }

    func setRef(_ name: String, _ value: String?) throws {
        if let value {
            try c.execute("INSERT INTO refs (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value")
        } else {
            try c.execute("DELETE FROM refs WHERE name = \(name)")
        }
    }
    func putObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws {
        try c.execute("INSERT INTO objects (hash, kind, bytes) VALUES (\(ByteBuffer(bytes: hash.bytes)), \(kind), \(ByteBuffer(bytes: bytes))) ON CONFLICT DO NOTHING")
    }
    func setUnit(_ unit: String, for code: CodeKey) throws {
        try c.execute("INSERT INTO code_units (system, code, unit) VALUES (\(code.system), \(code.code), \(unit)) ON CONFLICT DO NOTHING")
    }
}
