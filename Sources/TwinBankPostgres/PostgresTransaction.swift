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

    init(_ c: BlockingConnection, shared: PostgresDictionary) {
        self.c = c
        self.shared = shared
        self.maps = shared.snapshot
    }

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
        var id = try c.one(Int64.self, "SELECT id FROM twins WHERE name = \(t.rawValue)")
        if id == nil && create {
            id = try c.one(Int64.self, "INSERT INTO twins (name) VALUES (\(t.rawValue)) RETURNING id")
        }
        guard let id else { return nil }
        maps.twinID[t.rawValue] = id; maps.twinName[id] = t
        local.twinID[t.rawValue] = id; local.twinName[id] = t
        return id
    }

    func codeID(_ concept: Concept) throws -> Int64 {
        if let id = maps.codeID[concept] { return id }
        let display = concept.display ?? "", has = concept.display != nil
        let id: Int64
        if let found = try c.one(Int64.self, "SELECT id FROM codes WHERE system = \(concept.system) AND code = \(concept.code) AND display = \(display) AND has_display = \(has)") {
            id = found
        } else {
            guard let made = try c.one(Int64.self, "INSERT INTO codes (system, code, display, has_display) VALUES (\(concept.system), \(concept.code), \(display), \(has)) RETURNING id") else {
                throw BankError(.storageFailure, "cannot record the code \(concept.system)|\(concept.code) in \(c.location)")
            }
            id = made
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
        if let id = maps.sourceID[s] { return id }
        let text = s.description
        var id = try c.one(Int64.self, "SELECT id FROM sources WHERE text = \(text)")
        if id == nil && create {
            id = try c.one(Int64.self, "INSERT INTO sources (text) VALUES (\(text)) RETURNING id")
        }
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
        let id: Int64
        if let found = try c.one(Int64.self, "SELECT id FROM units WHERE text = \(u)") { id = found } else {
            guard let made = try c.one(Int64.self, "INSERT INTO units (text) VALUES (\(u)) RETURNING id") else {
                throw BankError(.storageFailure, "cannot record the unit '\(u)' in \(c.location)")
            }
            id = made
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
            let parts = try r[k + 3].decode(String.self).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            return .concept(Concept(system: parts[0], code: parts.count > 1 ? parts[1] : "", display: parts.count > 2 ? parts[2] : nil))
        case 3: return .text(try r[k + 3].decode(String.self))
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

    func lastSequence() throws -> Int64 {
        try c.one(Int64.self, "SELECT value FROM meta WHERE key = 'last_seq'") ?? 0
    }
    func lastRecorded() throws -> Instant? {
        try c.one(Int64.self, "SELECT recorded FROM batches ORDER BY last_seq DESC LIMIT 1").map(Instant.init(microseconds:))
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
        b += " AND " + visibility(q.visibility, &b)
        b += q.descending ? " ORDER BY eff DESC, seq DESC" : " ORDER BY eff, seq"
        if let limit = q.limit { b += " LIMIT \(b.bind(Int64(limit)))" }
        return try decodeEvents(b.query)
    }

    func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?, visibility v: Visibility) throws -> Event? {
        guard let t = try twinID(twin, create: false) else { return nil }
        var best: Event?
        // one backward seek in events (twin, code, eff, seq) per dictionary id of the code (usually one)
        for id in try codeIDs(code) {
            var b = SQLBuilder("SELECT \(PostgresTransaction.columns) FROM events WHERE ")
            b += "twin = \(b.bind(t)) AND code = \(b.bind(id)) AND eff <= \(b.bind(instant.microseconds))"
            if let category { b += " AND category = \(b.bind(Int64(category.index)))" }
            if let m = maxSequence { b += " AND seq <= \(b.bind(m))" }
            b += " AND " + visibility(v, &b) + " ORDER BY eff DESC, seq DESC LIMIT 1"
            if let e = try decodeEvents(b.query).first, best == nil || EventQuery.order(best!, e) { best = e }
        }
        return best
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
        let ids = try codeIDs(code)
        if ids.isEmpty { return [] }
        return Set(try c.query("SELECT h0, h1, h2, h3 FROM events WHERE twin = \(t) AND code = ANY(\(ids)) AND eff >= \(from.microseconds) AND eff <= \(to.microseconds)")
            .rows.map { try hash($0.makeRandomAccess(), at: 0) })
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
        // one query per dictionary id of the code (usually one): for each twin having it (twin_codes by its index on
        // code), one backward seek in that twin's partition of events (twin, code, eff, seq) to its latest matching row
        for id in try codeIDs(code) {
            var b = SQLBuilder()
            let codeParam = b.bind(id)
            var inner = "SELECT seq, eff, vkind, num, unit, txt, bin FROM events WHERE twin = tc.twin AND code = \(codeParam) AND eff <= \(b.bind(instant.microseconds))"
            if let from { inner += " AND eff >= \(b.bind(from.microseconds))" }
            if let category { inner += " AND category = \(b.bind(Int64(category.index)))" }
            if let m = maxSequence { inner += " AND seq <= \(b.bind(m))" }
            inner += " AND " + visibility(v, &b)
            if plausibleOnly {
                inner += " AND NOT (prov IS NOT NULL AND starts_with(coalesce(convert_from(prov, 'UTF8')::jsonb ->> 'notes', ''), \(b.bind(Provenance.implausibleFlag))))"
            }
            inner += " ORDER BY eff DESC, seq DESC LIMIT 1"
            b += "SELECT tc.twin, e.seq, e.eff, e.vkind, e.num, e.unit, e.txt, e.bin FROM twin_codes tc CROSS JOIN LATERAL (\(inner)) e WHERE tc.code = \(codeParam)"
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
        }
        return out
    }

    func objectHashes(kind: String) throws -> [ContentHash] {
        try c.all(ByteBuffer.self, "SELECT hash FROM objects WHERE kind = \(kind) ORDER BY hash").compactMap { b in b.withUnsafeReadableBytes { ContentHash(raw: $0) } }
    }

    // MARK: StorageWriter

    /// Events per multi-row `INSERT` of ``append(_:batch:)`` (20 bound values each; PostgreSQL allows 65,535 per
    /// statement).
    static let rowsPerInsert = 1000
    static let rowCasts = ["int8", "int8", "int8", "int8", "int8", "int8", "int2", "int2", "float8", "int8", "text", "bytea", "int8", "bytea",
                           "int8", "int8", "int8", "int8", "int8", "text"]

    func append(_ events: [Event], batch: BatchRecord) throws {
        var previous = try lastSequence()
        var pairsCodes = Set<SIMD2<Int64>>(), pairsSources = Set<SIMD2<Int64>>()
        var lastTwin: (TwinID, Int64)?, lastSource: (Source, Int64)?
        var recentCodes: [(Concept, Int64)] = []
        let encoder = JSONEncoder()
        var start = 0
        while start < events.count {
            let end = min(start + PostgresTransaction.rowsPerInsert, events.count)
            var b = SQLBuilder("INSERT INTO events (\(PostgresTransaction.columns)) VALUES ")
            for i in start..<end {
                let e = events[i]
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
                var vkind: Int64 = 0, num: Double?, unit: Int64?, txt: String?, bin: ByteBuffer?
                switch e.value {
                case nil: break
                case .quantity(let q)?: vkind = 1; num = q.value; unit = try unitID(q.unit)
                case .concept(let cc)?: vkind = 2; txt = cc.display.map { "\(cc.system)\u{1F}\(cc.code)\u{1F}\($0)" } ?? "\(cc.system)\u{1F}\(cc.code)"
                case .text(let s)?: vkind = 3; txt = s
                case .date(let d)?: vkind = 4; num = Double(d.microseconds)
                case .vector(let v)?: vkind = 5; bin = v.values.withUnsafeBytes { ByteBuffer(bytes: $0) }; unit = try unitID(v.unit)
                case .boolean(let x)?: vkind = 6; num = x ? 1 : 0
                }
                let prov: ByteBuffer? = e.provenance.isEmpty ? nil : ByteBuffer(bytes: try encoder.encode(e.provenance))
                let placeholders: [String] = [
                    b.bind(e.sequence), b.bind(twin), b.bind(code), b.bind(e.effective.start.microseconds), b.bind(e.effective.end?.microseconds),
                    b.bind(e.recorded.microseconds), b.bind(Int64(e.category.index)), b.bind(vkind), b.bind(num), b.bind(unit), b.bind(txt), b.bind(bin),
                    b.bind(source), b.bind(prov), b.bind(Int64(bitPattern: e.id.w0)), b.bind(Int64(bitPattern: e.id.w1)),
                    b.bind(Int64(bitPattern: e.id.w2)), b.bind(Int64(bitPattern: e.id.w3)), b.bind(e.retractedAtSequence), b.bind(e.erasure),
                ]
                if i > start { b += "," }
                b += "(" + zip(placeholders, PostgresTransaction.rowCasts).map { "\($0)::\($1)" }.joined(separator: ",") + ")"
            }
            try c.execute(b.query)
            start = end
        }
        if !pairsCodes.isEmpty {
            let p = Array(pairsCodes)
            try c.execute("INSERT INTO twin_codes (twin, code) SELECT * FROM unnest(\(p.map { $0[0] }), \(p.map { $0[1] })) ON CONFLICT DO NOTHING")
        }
        if !pairsSources.isEmpty {
            let p = Array(pairsSources)
            try c.execute("INSERT INTO twin_sources (source, twin) SELECT * FROM unnest(\(p.map { $0[0] }), \(p.map { $0[1] })) ON CONFLICT DO NOTHING")
        }
        let newLast = max(previous, batch.lastSequence)
        try c.execute("""
            INSERT INTO batches (last_seq, first_seq, recorded) VALUES (\(newLast), \(batch.firstSequence), \(batch.recorded.microseconds))
            ON CONFLICT (last_seq) DO UPDATE SET first_seq = EXCLUDED.first_seq, recorded = EXCLUDED.recorded
            """)
        try c.execute("UPDATE meta SET value = \(newLast) WHERE key = 'last_seq'")
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
