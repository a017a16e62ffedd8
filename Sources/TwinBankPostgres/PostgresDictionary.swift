import Foundation
import PostgresNIO
import TwinBank
import TwinCore

/// The dictionary tables (twins, codes, sources, units) cached in memory, shared by a storage's transactions.
/// Ids come from identity columns and are never reused; entries a transaction creates are merged only after it
/// commits. An erasure drops entries and increments `meta.dictionary_generation`; every transaction compares it with
/// the generation the cache was loaded at and reloads when it changed (in any process).
///
/// At most ``sourceCacheLimit`` sources are cached (sources can be as many as events); others are looked up.
final class PostgresDictionary: @unchecked Sendable {
    static let sourceCacheLimit = DictionaryMaps.sourceLimit

    typealias Maps = DictionaryMaps

    private let lock = NSLock()
    private var maps = Maps()
    private var generation: Int64 = -1

    var snapshot: Maps { lock.withLock { maps } }

    /// Merges what a committed write recorded or looked up, unless the cache was reloaded for a later generation
    /// meanwhile (an erasure committed after this write may have dropped some of these entries).
    func merge(_ local: Maps, loadedAt g: Int64) { lock.withLock { if generation == g { maps.merge(local) } } }

    /// Merges what a read learnt that stays true whatever later erasures drop: ids to names (ids are never reused)
    /// and twins (never dropped); not names to ids of codes, sources and units, which an erasure can drop and a later
    /// write record again under a new id.
    func mergePermanent(_ local: Maps) {
        var permanent = Maps()
        permanent.twinID = local.twinID; permanent.twinName = local.twinName
        permanent.codeByID = local.codeByID; permanent.sourceByID = local.sourceByID; permanent.unitByID = local.unitByID
        lock.withLock { maps.merge(permanent) }
    }

    static func generation(_ c: BlockingConnection) throws -> Int64 {
        try c.one(Int64.self, "SELECT value FROM meta WHERE key = 'dictionary_generation'") ?? 0
    }

    /// Reloads the cache when the bank's dictionary generation differs from the one it was loaded at; returns the
    /// generation.
    @discardableResult
    func refreshIfStale(_ c: BlockingConnection) throws -> Int64 {
        let current = try PostgresDictionary.generation(c)
        if current != lock.withLock({ generation }) { try reload(c, generation: current) }
        return current
    }

    func reload(_ c: BlockingConnection, generation g: Int64? = nil) throws {
        let g = try g ?? PostgresDictionary.generation(c)
        let m = try PostgresDictionary.load(c)
        lock.withLock { maps = m; generation = g }
    }

    static func load(_ c: BlockingConnection) throws -> Maps {
        var m = Maps()
        try PostgresFailure.decoding(c.location) {
            for row in try c.query("SELECT id, name FROM twins").rows {
                let (id, name) = try row.decode((Int64, String).self)
                m.twinID[name] = id
                if let t = try? TwinID(name) { m.twinName[id] = t }
            }
            for row in try c.query("SELECT id, system, code, display, has_display FROM codes").rows {
                let (id, system, code, display, has) = try row.decode((Int64, String, String, String, Bool).self)
                let concept = Concept(system: system, code: code, display: has ? display : nil)
                m.codeID[concept] = id; m.codeByID[id] = concept
            }
            for row in try c.query("SELECT id, text FROM sources ORDER BY id LIMIT \(sourceCacheLimit)").rows {
                let (id, text) = try row.decode((Int64, String).self)
                if let s = try? Source(parsing: text) { m.sourceID[s] = id; m.sourceByID[id] = s }
            }
            for row in try c.query("SELECT id, text FROM units").rows {
                let (id, text) = try row.decode((Int64, String).self)
                m.unitID[text] = id; m.unitByID[id] = text
            }
        }
        return m
    }
}
