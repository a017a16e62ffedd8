import TwinCore

/// The dictionary tables of a SQL storage (twins, codes, sources, units: names to ids and back) as a storage
/// caches them in memory, shared by its transactions. For storage implementations: SQLite and PostgreSQL keep
/// the same maps and merge them the same way.
///
/// Sources can be as many as events (every FHIR record is its own source), so a merge keeps at most
/// ``sourceLimit`` of them in each direction; a source not cached is looked up in its table.
public struct DictionaryMaps: Sendable {
    /// The most sources a cache keeps, in each direction.
    public static let sourceLimit = 50_000

    public var twinID: [String: Int64] = [:], twinName: [Int64: TwinID] = [:]
    public var codeID: [Concept: Int64] = [:], codeByID: [Int64: Concept] = [:]
    public var sourceID: [Source: Int64] = [:], sourceByID: [Int64: Source] = [:]
    public var unitID: [String: Int64] = [:], unitByID: [Int64: String] = [:]

    public init() {}

    /// Adds the entries of `other` this cache lacks (an entry it has wins: ids are never reused), sources only
    /// while the result stays within ``sourceLimit``.
    public mutating func merge(_ other: DictionaryMaps) {
        twinID.merge(other.twinID) { a, _ in a }; twinName.merge(other.twinName) { a, _ in a }
        codeID.merge(other.codeID) { a, _ in a }; codeByID.merge(other.codeByID) { a, _ in a }
        if sourceID.count + other.sourceID.count <= Self.sourceLimit { sourceID.merge(other.sourceID) { a, _ in a } }
        if sourceByID.count + other.sourceByID.count <= Self.sourceLimit { sourceByID.merge(other.sourceByID) { a, _ in a } }
        unitID.merge(other.unitID) { a, _ in a }; unitByID.merge(other.unitByID) { a, _ in a }
    }
}
