import Foundation
import GRDB
import TwinBank
import TwinCore

/// One read or write transaction on a ``SQLiteStorage``.
final class SQLiteTransaction: StorageWriter {
    let db: Database
    let shared: SharedDictionary
    var maps: SharedDictionary.Maps
    /// Dictionary entries created (or discovered) in this transaction, merged into the shared cache on commit.
    var local = SharedDictionary.Maps()
    /// Whether this transaction dropped dictionary entries (an erasure): the shared cache is then reloaded on
    /// commit rather than merged, so it names no dropped entry.
    var droppedDictionaryEntries = false

    init(db: Database, shared: SharedDictionary) {
        self.db = db
        self.shared = shared
        self.maps = shared.snapshot
    }

    static let columns = "seq, twin, code, eff, eff_end, recorded, category, vkind, num, unit, txt, bin, source, prov, h0, h1, h2, h3, retracted, erasure"
    static let retractionCategory = Int64(Event.Category.retraction.index)

    // MARK: SQL helpers (interpolated values are bound, never spliced)

    // `one` reuses the connection's prepared statement for its SQL text (GRDB's statement cache: no parse, no
    // authorizer callbacks per read), so its SQL text must come from a bounded set: values are bound, never spliced,
    // and a list of variable length (`IN \(ids)`) goes through `oneUncached`.
    func one<T: DatabaseValueConvertible & StatementColumnConvertible>(_ t: T.Type, _ sql: SQL) throws -> T? {
        try SQLRequest<T>(literal: sql, cached: true).fetchOne(db)
    }
    func one(_ t: Row.Type, _ sql: SQL) throws -> Row? { try SQLRequest<Row>(literal: sql, cached: true).fetchOne(db) }
    func oneUncached<T: DatabaseValueConvertible & StatementColumnConvertible>(_ t: T.Type, _ sql: SQL) throws -> T? {
        try SQLRequest<T>(literal: sql).fetchOne(db)
    }
    func all<T: DatabaseValueConvertible & StatementColumnConvertible>(_ t: T.Type, _ sql: SQL) throws -> [T] {
        try SQLRequest<T>(literal: sql).fetchAll(db)
    }
    func all(_ t: Row.Type, _ sql: SQL) throws -> [Row] { try SQLRequest<Row>(literal: sql).fetchAll(db) }
    func cursor<T: DatabaseValueConvertible & StatementColumnConvertible>(_ t: T.Type, _ sql: SQL) throws -> FastDatabaseValueCursor<T> {
        try SQLRequest<T>(literal: sql).fetchCursor(db)
    }

    // MARK: Dictionaries

    func reloadDictionary() throws {
        let m = try SharedDictionary.load(db)
        maps.merge(m)
        local.merge(m)
    }

    func twinID(_ t: TwinID, create: Bool) throws -> Int64? {
        if let id = maps.twinID[t.rawValue] { return id }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM twins WHERE name = ?", arguments: [t.rawValue]) {
            maps.twinID[t.rawValue] = id; maps.twinName[id] = t
            local.twinID[t.rawValue] = id; local.twinName[id] = t
            return id
        }
        guard create else { return nil }
        try db.execute(literal: "INSERT INTO twins(name) VALUES (\(t.rawValue))")
        let id = db.lastInsertedRowID
        maps.twinID[t.rawValue] = id; maps.twinName[id] = t
        local.twinID[t.rawValue] = id; local.twinName[id] = t
        return id
    }

    func codeID(_ c: Concept) throws -> Int64 {
        if let id = maps.codeID[c] { return id }
        let display = c.display ?? ""
        let has = c.display != nil
        let id: Int64
        if let found = try one(Int64.self, "SELECT id FROM codes WHERE system = \(c.system) AND code = \(c.code) AND display = \(display) AND has_display = \(has)") {
            id = found
        } else {
            try db.execute(literal: "INSERT INTO codes(system, code, display, has_display) VALUES (\(c.system), \(c.code), \(display), \(has))")
            id = db.lastInsertedRowID
        }
        maps.codeID[c] = id; maps.codeByID[id] = c
        local.codeID[c] = id; local.codeByID[id] = c
        return id
    }

    /// All dictionary ids of a code key (one per display variant).
    func codeIDs(_ key: CodeKey) throws -> [Int64] {
        let ids = try all(Int64.self, "SELECT id FROM codes WHERE system = \(key.system) AND code = \(key.code)")
        for id in ids where maps.codeByID[id] == nil { try reloadDictionary(); break }
        return ids
    }

    func sourceID(_ s: Source, create: Bool) throws -> Int64? {
        if let id = maps.sourceID[s] { return id }
        let text = s.description
        var id = try one(Int64.self, "SELECT id FROM sources WHERE text = \(text)")
        if id == nil && create {
            try db.execute(literal: "INSERT INTO sources(text) VALUES (\(text))")
            id = db.lastInsertedRowID
        }
        guard let id else { return nil }
        cacheSource(s, id)
        return id
    }

    /// Caches a source while the transaction's cache is below ``SharedDictionary/sourceCacheLimit``.
    func cacheSource(_ s: Source, _ id: Int64) {
        guard maps.sourceID.count < SharedDictionary.sourceCacheLimit else { return }
        maps.sourceID[s] = id; maps.sourceByID[id] = s
        if local.sourceID.count < SharedDictionary.sourceCacheLimit { local.sourceID[s] = id; local.sourceByID[id] = s }
    }

    /// The source with this dictionary id, from the cache or the table.
    func source(id: Int64) throws -> Source? {
        if let s = maps.sourceByID[id] { return s }
        guard let text = try one(String.self, "SELECT text FROM sources WHERE id = \(id)") else { return nil }
        let s = try Source(parsing: text)
        cacheSource(s, id)
        return s
    }

    func unitID(_ u: String) throws -> Int64 {
        if let id = maps.unitID[u] { return id }
        let id: Int64
        if let found = try one(Int64.self, "SELECT id FROM units WHERE text = \(u)") { id = found } else {
            try db.execute(literal: "INSERT INTO units(text) VALUES (\(u))")
            id = db.lastInsertedRowID
        }
        maps.unitID[u] = id; maps.unitByID[id] = u
        local.unitID[u] = id; local.unitByID[id] = u
        return id
    }

    // MARK: Rows

    func decode(_ row: Row) throws -> Event {
        let twinKey: Int64 = row[1], codeKey: Int64 = row[2], sourceKey: Int64 = row[12]
        if maps.twinName[twinKey] == nil || maps.codeByID[codeKey] == nil {
            try reloadDictionary()
        }
        guard let twin = maps.twinName[twinKey], let code = maps.codeByID[codeKey], let source = try source(id: sourceKey) else {
            throw BankError(.storageFailure, "event \(row[0] as Int64) refers to a missing dictionary entry")
        }
        let value = try decodeValue(row, at: 7)
        var provenance = Provenance()
        if let p = row[13] as Data? { provenance = try JSONDecoder().decode(Provenance.self, from: p) }
        let id = ContentHash(w0: UInt64(bitPattern: row[14]), w1: UInt64(bitPattern: row[15]), w2: UInt64(bitPattern: row[16]), w3: UInt64(bitPattern: row[17]))
        guard let category = Event.Category(index: Int(row[6] as Int64)) else {
            throw BankError(.storageFailure, "event \(row[0] as Int64) has a malformed category")
        }
        let end: Int64? = row[4]
        return Event(id: id, twin: twin, effective: EffectiveTime(Instant(microseconds: row[3]), end: end.map(Instant.init(microseconds:))),
                     recorded: Instant(microseconds: row[5]), sequence: row[0], category: category, code: code, value: value,
                     source: source, provenance: provenance, retractedAtSequence: row[18], erasure: row[19])
    }

    /// A row's value from its columns `vkind, num, unit, txt, bin`, the first at index `at` (nil: no value, or erased).
    func decodeValue(_ row: Row, at k: Int) throws -> Value? {
        switch row[k] as Int64 {
        case 1:
            let unitKey: Int64 = row[k + 2]
            if maps.unitByID[unitKey] == nil { try reloadDictionary() }
            return .quantity(Quantity(row[k + 1], maps.unitByID[unitKey] ?? "1"))
        case 2:
            let parts = (row[k + 3] as String).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            return .concept(Concept(system: parts[0], code: parts.count > 1 ? parts[1] : "", display: parts.count > 2 ? parts[2] : nil))
        case 3: return .text(row[k + 3])
        case 4: return .date(Instant(microseconds: row[k + 1]))
        case 5:
            let data: Data = row[k + 4]
            var values = [Double](repeating: 0, count: data.count / 8)
            values.withUnsafeMutableBytes { dst in _ = data.copyBytes(to: dst) }
            let unitKey: Int64 = row[k + 2]
            if maps.unitByID[unitKey] == nil { try reloadDictionary() }
            return .vector(Vector(values, unit: maps.unitByID[unitKey] ?? "1"))
        case 6: return .boolean((row[k + 1] as Double) != 0)
        default: return nil
        }
    }

    func visibilitySQL(_ v: Visibility) -> SQL {
        switch v {
        case .current: return "retracted IS NULL"
        case .knownAt(let k): return "seq <= \(k) AND (retracted IS NULL OR retracted > \(k))"
        case .all: return "1"
        }
    }

    // MARK: StorageReader

    func lastSequence() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'last_seq'") ?? 0
    }
    func lastRecorded() throws -> Instant? {
        try Int64.fetchOne(db, sql: "SELECT recorded FROM batches ORDER BY last_seq DESC LIMIT 1").map(Instant.init(microseconds:))
    }
    func sequence(knownAt instant: Instant) throws -> Int64 {
        try one(Int64.self, "SELECT max(last_seq) FROM batches WHERE recorded <= \(instant.microseconds)") ?? 0
    }
    func ref(_ name: String) throws -> String? {
        try one(String.self, "SELECT value FROM refs WHERE name = \(name)")
    }
    func refs(prefix: String) throws -> [(name: String, value: String)] {
        // range scan on the primary key: prefix <= name < prefix + U+10FFFF (read raw: a query reads every twin's)
        let q = try RawStatement(db, sql: "SELECT name, value FROM refs WHERE name >= ? AND name < ? ORDER BY name")
        defer { q.reset() }
        q.bind(1, prefix)
        q.bind(2, prefix + "\u{10FFFF}")
        var out: [(name: String, value: String)] = []
        while try q.step() {
            let name = q.text(0)
            if name.hasPrefix(prefix) { out.append((name, q.text(1))) }
        }
        return out
    }
    func object(_ hash: ContentHash) throws -> [UInt8]? {
        try (one(Data.self, "SELECT bytes FROM objects WHERE hash = \(Data(hash.bytes))")).map { Array($0) }
    }

    func events(_ q: EventQuery) throws -> [Event] {
        guard let twin = try twinID(q.twin, create: false) else { return [] }
        var sql: SQL = "SELECT \(sql: SQLiteTransaction.columns) FROM events WHERE twin = \(twin)"
        if let code = q.code {
            let ids = try codeIDs(code)
            if ids.isEmpty { return [] }
            sql += " AND code IN \(ids)"
        }
        if let c = q.category { sql += " AND category = \(c.index)" }
        if let from = q.from { sql += " AND eff >= \(from.microseconds)" }
        if let to = q.to { sql += " AND eff <= \(to.microseconds)" }
        if let m = q.maxSequence { sql += " AND seq <= \(m)" }
        if let a = q.after {
            let (e, n) = (a.effective.microseconds, a.sequence)
            // a range on eff (the index), then the tie on the same effective start by sequence
            sql += q.descending ? " AND eff <= \(e) AND (eff < \(e) OR seq < \(n))" : " AND eff >= \(e) AND (eff > \(e) OR seq > \(n))"
        }
        sql += " AND \(visibilitySQL(q.visibility))"
        sql += q.descending ? " ORDER BY eff DESC, seq DESC" : " ORDER BY eff, seq"
        if let limit = q.limit { sql += " LIMIT \(limit)" }
        let cursor = try Row.fetchCursor(db, SQLRequest<Row>(literal: sql))
        var out: [Event] = []
        while let row = try cursor.next() { out.append(try decode(row)) }
        return out
    }

    func latest(twin: TwinID, code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, maxSequence: Int64?, visibility: Visibility) throws -> Event? {
        guard let t = try twinID(twin, create: false) else { return nil }
        var best: Event?
        for id in try codeIDs(code) {
            var sql: SQL = "SELECT \(sql: SQLiteTransaction.columns) FROM events WHERE twin = \(t) AND code = \(id) AND eff <= \(instant.microseconds)"
            if let category { sql += " AND category = \(category.index)" }
            if let m = maxSequence { sql += " AND seq <= \(m)" }
            sql += " AND \(visibilitySQL(visibility)) ORDER BY eff DESC, seq DESC LIMIT 1"
            if let row = try Row.fetchOne(db, SQLRequest<Row>(literal: sql)) {
                let e = try decode(row)
                if best == nil || EventQuery.order(best!, e) { best = e }
            }
        }
        return best
    }

    func codes(of twin: TwinID) throws -> [CodeKey] {
        guard let t = try twinID(twin, create: false) else { return [] }
        var keys = Set<CodeKey>()
        for id in try all(Int64.self, "SELECT code FROM twin_codes WHERE twin = \(t)") {
            if maps.codeByID[id] == nil { try reloadDictionary() }
            if let c = maps.codeByID[id] { keys.insert(c.key) }
        }
        return keys.sorted()
    }

    func twins(withSource source: Source) throws -> [TwinID] {
        guard let s = try sourceID(source, create: false) else { return [] }
        return try all(String.self, "SELECT t.name FROM twin_sources ts JOIN twins t ON t.id = ts.twin WHERE ts.source = \(s) ORDER BY t.name")
            .compactMap { try? TwinID($0) }
    }

    func events(sequences range: ClosedRange<Int64>, limit: Int) throws -> [Event] {
        let cursor = try Row.fetchCursor(db, SQLRequest<Row>(literal: "SELECT \(sql: SQLiteTransaction.columns) FROM events WHERE seq >= \(range.lowerBound) AND seq <= \(range.upperBound) ORDER BY seq LIMIT \(limit)"))
        var out: [Event] = []
        while let row = try cursor.next() { out.append(try decode(row)) }
        return out
    }

    func eventHashes(of twin: TwinID) throws -> Set<ContentHash> {
        guard let t = try twinID(twin, create: false) else { return [] }
        let rows = try Row.fetchCursor(db, SQLRequest<Row>(literal: "SELECT h0, h1, h2, h3 FROM events WHERE twin = \(t)"))
        var out = Set<ContentHash>()
        while let r = try rows.next() {
            out.insert(ContentHash(w0: UInt64(bitPattern: r[0]), w1: UInt64(bitPattern: r[1]), w2: UInt64(bitPattern: r[2]), w3: UInt64(bitPattern: r[3])))
        }
        return out
    }

    func eventHashes(twin: TwinID, code: CodeKey, from: Instant, to: Instant) throws -> Set<ContentHash> {
        guard let t = try twinID(twin, create: false) else { return [] }
        let ids = try codeIDs(code)
        if ids.isEmpty { return [] }
        let rows = try Row.fetchCursor(db, SQLRequest<Row>(literal: "SELECT h0, h1, h2, h3 FROM events WHERE twin = \(t) AND code IN \(ids) AND eff >= \(from.microseconds) AND eff <= \(to.microseconds)"))
        var out = Set<ContentHash>()
        while let r = try rows.next() {
            out.insert(ContentHash(w0: UInt64(bitPattern: r[0]), w1: UInt64(bitPattern: r[1]), w2: UInt64(bitPattern: r[2]), w3: UInt64(bitPattern: r[3])))
        }
        return out
    }

    func unit(for code: CodeKey) throws -> String? {
        try one(String.self, "SELECT unit FROM code_units WHERE system = \(code.system) AND code = \(code.code)")
    }

    func units() throws -> [CodeKey: String] {
        var out: [CodeKey: String] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT system, code, unit FROM code_units")
        while let r = try rows.next() { out[CodeKey(system: r[0], code: r[1])] = r[2] }
        return out
    }

    // MARK: Bulk reads

    /// The most values bound in one `IN (...)` list (SQLite allows 32,766 host parameters).
    static let bindBatch = 10_000

    func objects(_ hashes: [ContentHash]) throws -> [ContentHash: [UInt8]] {
        var out: [ContentHash: [UInt8]] = [:]
        out.reserveCapacity(hashes.count)
        var start = 0
        while start < hashes.count {
            let end = min(start + SQLiteTransaction.bindBatch, hashes.count)
            // bound and read through the C API (GRDB's interpolation of 10,000 values cost more than the lookups);
            // the statement of a full batch is cached, a shorter last one prepared for itself
            let sql = "SELECT hash, bytes FROM objects WHERE hash IN (" + String(repeating: "?,", count: end - start - 1) + "?)"
            let q = try RawStatement(db, sql: sql, cached: end - start == SQLiteTransaction.bindBatch)
            defer { q.reset() }
            for (k, h) in hashes[start..<end].enumerated() { q.bind(Int32(k + 1), h) }
            while try q.step() {
                guard let h = ContentHash(raw: q.blob(0)) else { continue }
                out[h] = Array(q.blob(1))
            }
            start = end
        }
        return out
    }

    func twins(withCode code: CodeKey) throws -> Set<TwinID> {
        let ids = try codeIDs(code)
        if ids.isEmpty { return [] }
        let twins = try all(Int64.self, "SELECT DISTINCT twin FROM twin_codes WHERE code IN \(ids)")
        var out = Set<TwinID>(minimumCapacity: twins.count)
        // the index twin_codes_code (code, twin) of migration v2
        for t in twins {
            if maps.twinName[t] == nil { try reloadDictionary() }
            if let name = maps.twinName[t] { out.insert(name) }
        }
        return out
    }

    /// Whether a row's provenance carries the implausible flag (``TwinCore/Provenance/isFlaggedImplausible``:
    /// its notes begin with `flag:implausible`), read in SQL from the stored provenance JSON.
    static let flaggedSQL: SQL = "(prov IS NOT NULL AND substr(coalesce(json_extract(CAST(prov AS TEXT), '$.notes'), ''), 1, \(Provenance.implausibleFlag.count)) = \(Provenance.implausibleFlag))"

    func latestValues(code: CodeKey, category: Event.Category?, atOrBefore instant: Instant, from: Instant?, maxSequence: Int64?,
                      visibility: Visibility, plausibleOnly: Bool) throws -> [TwinID: LatestValue] {
        var out: [TwinID: LatestValue] = [:]
        let ids = try codeIDs(code)
        if ids.isEmpty { return out }
        out.reserveCapacity(try oneUncached(Int.self, "SELECT count(*) FROM twin_codes WHERE code IN \(ids)") ?? 0)
        // one query per dictionary id of the code (one per display variant, usually one): for each twin that has
        // the code (twin_codes, by its index on code), one backward seek in events(twin, code, eff) to its latest
        // matching row, then of that row (by primary key) only what a comparison reads (building whole events
        // was most of the query's time)
        for id in ids {
            var inner: SQL = "SELECT seq FROM events WHERE twin = tc.twin AND code = \(id) AND eff <= \(instant.microseconds)"
            if let from { inner += " AND eff >= \(from.microseconds)" }
            if let category { inner += " AND category = \(category.index)" }
            if let m = maxSequence { inner += " AND seq <= \(m)" }
            inner += " AND \(visibilitySQL(visibility))"
            if plausibleOnly { inner += " AND NOT \(SQLiteTransaction.flaggedSQL)" }
            inner += " ORDER BY eff DESC, seq DESC LIMIT 1"
            // joined on the found row's primary key (a quarter faster than `seq IN (...)`, which builds a temporary index)
            let sql: SQL = """
                SELECT tc.twin, e.seq, e.eff, e.vkind, e.num, e.unit, e.txt, e.bin FROM twin_codes tc JOIN events e ON e.seq = (\(inner))
                WHERE tc.code = \(id)
                """
            let cursor = try Row.fetchCursor(db, SQLRequest<Row>(literal: sql))
            while let row = try cursor.next() {
                let twinKey: Int64 = row[0]
                if maps.twinName[twinKey] == nil { try reloadDictionary() }
                guard let twin = maps.twinName[twinKey] else {
                    throw BankError(.storageFailure, "event \(row[1] as Int64) refers to a missing dictionary entry")
                }
                let v = LatestValue(value: try decodeValue(row, at: 3), effective: Instant(microseconds: row[2]), sequence: row[1])
                if let best = out[twin], !best.isBefore(v) { continue }
                out[twin] = v
            }
        }
        return out
    }

        // MARK: StorageWriter

    /// Rows per multi-row INSERT of ``append(_:batch:)``: one statement execution per this many rows (20 bound
    /// values each) costs less per row than one per row (statement start, cursors, reset).
    static let rowsPerInsert = 32

    func append(_ events: [Event], batch: BatchRecord) throws {
        let last = try lastSequence()
        let row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        let insertOne = try RawStatement(db, sql: "INSERT INTO events(\(SQLiteTransaction.columns)) VALUES \(row)")
        let chunk = SQLiteTransaction.rowsPerInsert
        let insertMany = events.count >= chunk
            ? try RawStatement(db, sql: "INSERT INTO events(\(SQLiteTransaction.columns)) VALUES " + Array(repeating: row, count: chunk).joined(separator: ","))
            : nil
        var pairsCodes = Set<SIMD2<Int64>>(), pairsSources = Set<SIMD2<Int64>>()
        var previous = last
        // memo of the last ids, to skip dictionary hashing for runs of the same twin/code/source/unit
        var lastTwin: (TwinID, Int64)?, lastSource: (Source, Int64)?
        // and of the last few codes and units (a file cycles through a few), compared without hashing
        var recentCodes: [(Concept, Int64)] = [], recentUnits: [(String, Int64)] = [], recentPairs: [SIMD2<Int64>] = []
        var lastPair = SIMD2<Int64>(-1, -1), lastSourcePair = SIMD2<Int64>(-1, -1)
        let encoder = JSONEncoder()
        func unit(_ u: String) throws -> Int64 {
            for ru in recentUnits where ru.0 == u { return ru.1 }
            let id = try unitID(u)
            if recentUnits.count < 8 { recentUnits.append((u, id)) }
            return id
        }
        /// Binds event `e` as the row starting at parameter `base + 1` of `insert`.
        func bind(_ e: Event, _ insert: RawStatement, base: Int32) throws {
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
            let pair = SIMD2(twin, code), sourcePair = SIMD2(source, twin)
            if pair != lastPair, !recentPairs.contains(pair) {
                pairsCodes.insert(pair)
                if recentPairs.count < 8 { recentPairs.append(pair) }
            }
            lastPair = pair
            if sourcePair != lastSourcePair { pairsSources.insert(sourcePair); lastSourcePair = sourcePair }
            insert.bind(base + 1, e.sequence)
            insert.bind(base + 2, twin)
            insert.bind(base + 3, code)
            insert.bind(base + 4, e.effective.start.microseconds)
            insert.bind(base + 5, e.effective.end?.microseconds)
            insert.bind(base + 6, e.recorded.microseconds)
            insert.bind(base + 7, Int64(e.category.index))
            insert.bindNull(base + 9); insert.bindNull(base + 10); insert.bindNull(base + 11); insert.bindNull(base + 12)
            switch e.value {
            case nil: insert.bind(base + 8, Int64(0))
            case .quantity(let q)?: insert.bind(base + 8, Int64(1)); insert.bind(base + 9, q.value); insert.bind(base + 10, try unit(q.unit))
            case .concept(let c)?:
                insert.bind(base + 8, Int64(2))
                insert.bind(base + 11, c.display.map { "\(c.system)\u{1F}\(c.code)\u{1F}\($0)" } ?? "\(c.system)\u{1F}\(c.code)")
            case .text(let s)?: insert.bind(base + 8, Int64(3)); insert.bind(base + 11, s)
            case .date(let d)?: insert.bind(base + 8, Int64(4)); insert.bind(base + 9, Double(d.microseconds))
            case .vector(let v)?:
                insert.bind(base + 8, Int64(5))
                insert.bind(base + 12, v.values.withUnsafeBytes { Data($0) })
                insert.bind(base + 10, try unit(v.unit))
            case .boolean(let b)?: insert.bind(base + 8, Int64(6)); insert.bind(base + 9, b ? 1.0 : 0.0)
            }
            insert.bind(base + 13, source)
            insert.bind(base + 14, e.provenance.isEmpty ? nil : try encoder.encode(e.provenance))
            insert.bind(base + 15, Int64(bitPattern: e.id.w0))
            insert.bind(base + 16, Int64(bitPattern: e.id.w1))
            insert.bind(base + 17, Int64(bitPattern: e.id.w2))
            insert.bind(base + 18, Int64(bitPattern: e.id.w3))
            insert.bind(base + 19, e.retractedAtSequence)
            insert.bind(base + 20, e.erasure)
        }
        var i = 0
        if let insertMany {
            while i + chunk <= events.count {
                for r in 0..<chunk { try bind(events[i + r], insertMany, base: Int32(20 * r)) }
                try insertMany.run()
                i += chunk
            }
        }
        while i < events.count {
            try bind(events[i], insertOne, base: 0)
            try insertOne.run()
            i += 1
        }
        let tc = try db.cachedStatement(sql: "INSERT OR IGNORE INTO twin_codes(twin, code) VALUES (?, ?)")
        for p in pairsCodes { try tc.execute(arguments: [p[0], p[1]]) }
        let ts = try db.cachedStatement(sql: "INSERT OR IGNORE INTO twin_sources(source, twin) VALUES (?, ?)")
        for p in pairsSources { try ts.execute(arguments: [p[0], p[1]]) }
        let newLast = max(previous, batch.lastSequence)
        let key = batch.idempotency?.key, digest = batch.idempotency.map { Data($0.digest.bytes) }
        if let key, try self.batch(idempotencyKey: key) != nil {
            throw BankError(.storageFailure, "the idempotency key '\(key)' is already the key of another batch", value: key)
        }
        try db.execute(literal: "INSERT OR REPLACE INTO batches(last_seq, first_seq, recorded, idem_key, idem_digest) VALUES (\(newLast), \(batch.firstSequence), \(batch.recorded.microseconds), \(key), \(digest))")
        try db.execute(literal: "UPDATE meta SET value = \(newLast) WHERE key = 'last_seq'")
    }

    func retract(source: Source, atSequence sequence: Int64, erasure: String?) throws -> Int {
        guard let s = try sourceID(source, create: false) else { return 0 }
        let twins = try all(Int64.self, "SELECT twin FROM twin_sources WHERE source = \(s)")
        var n = 0
        for t in twins {
            try db.execute(literal: "UPDATE events SET retracted = \(sequence) WHERE twin = \(t) AND source = \(s) AND category != \(SQLiteTransaction.retractionCategory) AND retracted IS NULL")
            n += db.changesCount
            if let erasure {
                let rows = try all(Row.self, "SELECT seq, prov FROM events WHERE twin = \(t) AND source = \(s) AND category != \(SQLiteTransaction.retractionCategory) AND erasure IS NULL AND prov IS NOT NULL")
                for row in rows {
                    var p = try JSONDecoder().decode(Provenance.self, from: row[1] as Data)
                    p.notes = nil
                    let bytes: Data? = p.isEmpty ? nil : try JSONEncoder().encode(p)
                    try db.execute(literal: "UPDATE events SET prov = \(bytes) WHERE seq = \(row[0] as Int64)")
                }
                try db.execute(literal: "UPDATE events SET vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL, erasure = \(erasure) WHERE twin = \(t) AND source = \(s) AND category != \(SQLiteTransaction.retractionCategory) AND erasure IS NULL")
            }
        }
        return n
    }

    func retract(sequences: [Int64], atSequence sequence: Int64, erasure: String?) throws -> Int {
        var n = 0
        for seq in Set(sequences).sorted() {
            try db.execute(literal: "UPDATE events SET retracted = \(sequence) WHERE seq = \(seq) AND category != \(SQLiteTransaction.retractionCategory) AND retracted IS NULL")
            n += db.changesCount
            if let erasure {
                if let prov = try one(Data.self, "SELECT prov FROM events WHERE seq = \(seq) AND category != \(SQLiteTransaction.retractionCategory) AND erasure IS NULL AND prov IS NOT NULL") {
                    var p = try JSONDecoder().decode(Provenance.self, from: prov)
                    p.notes = nil
                    let bytes: Data? = p.isEmpty ? nil : try JSONEncoder().encode(p)
                    try db.execute(literal: "UPDATE events SET prov = \(bytes) WHERE seq = \(seq)")
                }
                try db.execute(literal: "UPDATE events SET vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL, erasure = \(erasure) WHERE seq = \(seq) AND category != \(SQLiteTransaction.retractionCategory) AND erasure IS NULL")
            }
        }
        return n
    }

    func objectHashes(kind: String) throws -> [ContentHash] {
        try all(Data.self, "SELECT hash FROM objects WHERE kind = \(kind) ORDER BY hash").compactMap { d in d.withUnsafeBytes { ContentHash(raw: $0) } }
    }

    func batches(after: Int64, limit: Int) throws -> [BatchRecord] {
        try all(Row.self, "SELECT first_seq, last_seq, recorded, idem_key, idem_digest FROM batches WHERE last_seq > \(after) ORDER BY last_seq LIMIT \(max(0, limit))").map(batchRecord)
    }

    func batch(idempotencyKey key: String) throws -> BatchRecord? {
        try all(Row.self, "SELECT first_seq, last_seq, recorded, idem_key, idem_digest FROM batches WHERE idem_key = \(key)").first.map(batchRecord)
    }

    /// A batch record from a row of (first_seq, last_seq, recorded, idem_key, idem_digest).
    func batchRecord(_ row: Row) throws -> BatchRecord {
        var idempotency: BatchRecord.Idempotency?
        if let key: String = row[3] {
            let raw: Data? = row[4]
            guard let raw, let digest = ContentHash(bytes: raw) else {
                throw BankError(.storageFailure, "the batch ending at sequence \(row[1] as Int64) has the idempotency key '\(key)' without a 32-byte digest", value: key)
            }
            idempotency = BatchRecord.Idempotency(key: key, digest: digest)
        }
        return BatchRecord(firstSequence: row[0], lastSequence: row[1], recorded: Instant(microseconds: row[2]), idempotency: idempotency)
    }

    func objects(after: ContentHash?, limit: Int) throws -> [StoredObject] {
        // the primary key's order (memcmp of the hash bytes)
        let sql: SQL = after.map { "SELECT hash, kind, bytes FROM objects WHERE hash > \(Data($0.bytes)) ORDER BY hash LIMIT \(max(0, limit))" }
            ?? "SELECT hash, kind, bytes FROM objects ORDER BY hash LIMIT \(max(0, limit))"
        return try all(Row.self, sql).map { row in
            let raw: Data = row[0]
            guard let hash = ContentHash(bytes: raw) else {
                throw BankError(.storageFailure, "an object's hash has \(raw.count) bytes, not 32", value: raw.map { String(format: "%02x", $0) }.joined())
            }
            return StoredObject(hash: hash, kind: row[1], bytes: Array(row[2] as Data))
        }
    }

    func replaceObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws {
        try db.execute(literal: "INSERT OR REPLACE INTO objects(hash, kind, bytes) VALUES (\(Data(hash.bytes)), \(kind), \(Data(bytes)))")
    }

    func deleteObject(_ hash: ContentHash) throws {
        try db.execute(literal: "DELETE FROM objects WHERE hash = \(Data(hash.bytes))")
    }

    func erase(sequences: [Int64], reason: String) throws -> StorageErasure {
        var out = StorageErasure()
        let code = try codeID(Erasure.tombstoneCode)
        guard let source = try sourceID(Erasure.tombstoneSource, create: true) else {
            throw BankError(.storageFailure, "cannot record the source of erased rows")
        }
        var twins = Set<Int64>()
        let find = try db.cachedStatement(sql: "SELECT twin, recorded FROM events WHERE seq = ?")
        let update = try db.cachedStatement(sql: """
            UPDATE events SET code = ?, eff = ?, eff_end = NULL, vkind = 0, num = NULL, unit = NULL, txt = NULL, bin = NULL, source = ?,
                prov = NULL, h0 = ?, h1 = ?, h2 = ?, h3 = ?, erasure = ? WHERE seq = ?
            """)
        for seq in Set(sequences).sorted() {
            guard let row = try Row.fetchOne(find, arguments: [seq]) else { continue }
            let twinKey: Int64 = row[0], recorded: Int64 = row[1]
            if maps.twinName[twinKey] == nil { try reloadDictionary() }
            guard let twin = maps.twinName[twinKey] else {
                throw BankError(.storageFailure, "event \(seq) refers to a missing dictionary entry")
            }
            let id = Erasure.tombstoneID(twin: twin, sequence: seq)
            try update.execute(arguments: [code, recorded, source, Int64(bitPattern: id.w0), Int64(bitPattern: id.w1),
                                           Int64(bitPattern: id.w2), Int64(bitPattern: id.w3), reason, seq])
            out.rows += db.changesCount
            twins.insert(twinKey)
        }
        // the indexes hold what the rows of these twins still have
        for t in twins.sorted() {
            let codesBefore = try one(Int.self, "SELECT count(*) FROM twin_codes WHERE twin = \(t)") ?? 0
            try db.execute(literal: "DELETE FROM twin_codes WHERE twin = \(t)")
            try db.execute(literal: "INSERT OR IGNORE INTO twin_codes(twin, code) SELECT DISTINCT twin, code FROM events WHERE twin = \(t)")
            let codesAfter = try one(Int.self, "SELECT count(*) FROM twin_codes WHERE twin = \(t)") ?? 0
            let sourcesBefore = try one(Int.self, "SELECT count(*) FROM twin_sources WHERE twin = \(t)") ?? 0
            try db.execute(literal: "DELETE FROM twin_sources WHERE twin = \(t)")
            try db.execute(literal: "INSERT OR IGNORE INTO twin_sources(source, twin) SELECT DISTINCT source, twin FROM events WHERE twin = \(t)")
            let sourcesAfter = try one(Int.self, "SELECT count(*) FROM twin_sources WHERE twin = \(t)") ?? 0
            // the tombstone pair added back is not counted as kept
            let hasTombCode = try one(Int.self, "SELECT count(*) FROM twin_codes WHERE twin = \(t) AND code = \(code)") ?? 0
            let hasTombSource = try one(Int.self, "SELECT count(*) FROM twin_sources WHERE twin = \(t) AND source = \(source)") ?? 0
            out.indexRowsRemoved += max(0, codesBefore - (codesAfter - hasTombCode)) + max(0, sourcesBefore - (sourcesAfter - hasTombSource))
        }
        // dictionary entries no row uses any more (the tombstone's own were just used)
        try db.execute(sql: "DELETE FROM codes WHERE NOT EXISTS (SELECT 1 FROM twin_codes tc WHERE tc.code = codes.id)")
        out.dictionaryEntriesDropped += db.changesCount
        try db.execute(sql: "DELETE FROM sources WHERE NOT EXISTS (SELECT 1 FROM twin_sources ts WHERE ts.source = sources.id)")
        out.dictionaryEntriesDropped += db.changesCount
        try db.execute(sql: "DELETE FROM units WHERE id NOT IN (SELECT DISTINCT unit FROM events WHERE unit IS NOT NULL)")
        out.dictionaryEntriesDropped += db.changesCount
        try db.execute(sql: "DELETE FROM code_units WHERE NOT EXISTS (SELECT 1 FROM codes c WHERE c.system = code_units.system AND c.code = code_units.code)")
        out.dictionaryEntriesDropped += db.changesCount
        droppedDictionaryEntries = true
        // other connections (other processes too) reload their caches before they use an id again
        try db.execute(sql: """
            INSERT INTO meta(key, value) VALUES ('dictionary_generation', 1)
            ON CONFLICT(key) DO UPDATE SET value = value + 1
            """)
        maps = SharedDictionary.Maps()
        local = SharedDictionary.Maps()
        try reloadDictionary()
        return out
    }

    func setRef(_ name: String, _ value: String?) throws {
        if let value {
            try db.execute(literal: "INSERT OR REPLACE INTO refs(name, value) VALUES (\(name), \(value))")
        } else {
            try db.execute(literal: "DELETE FROM refs WHERE name = \(name)")
        }
    }
    func putObject(_ hash: ContentHash, kind: String, bytes: [UInt8]) throws {
        try db.execute(literal: "INSERT OR IGNORE INTO objects(hash, kind, bytes) VALUES (\(Data(hash.bytes)), \(kind), \(Data(bytes)))")
    }
    func setUnit(_ unit: String, for code: CodeKey) throws {
        try db.execute(literal: "INSERT OR IGNORE INTO code_units(system, code, unit) VALUES (\(code.system), \(code.code), \(unit))")
    }
}
