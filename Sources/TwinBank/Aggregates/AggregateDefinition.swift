import TwinCore

/// An aggregate: a versioned set of twins or instances, given explicitly (``members``) or by a query
/// (``query``, see ``AggregateQuery``). Stored as a content-addressed object and committed like twins.
public struct AggregateDefinition: Sendable, Hashable, Codable {
    public var id: AggregateID
    public var members: [TwinID]?
    public var query: String?
    public var description: String?
    public init(id: AggregateID, members: [TwinID]? = nil, query: String? = nil, description: String? = nil) {
        self.id = id; self.members = members; self.query = query; self.description = description
    }
}

/// An aggregate's membership at a point, with how it was evaluated.
public struct AggregateMembership: Sendable, Hashable, Codable {
    public var definition: AggregateDefinition
    public var members: [TwinID]
    /// The effective time the query's windows are relative to.
    public var asOf: Instant
    /// The commit the definitions and thread were read at (nil: now).
    public var commit: ContentHash?
}

extension Bank {
    static func aggregateRef(_ id: AggregateID) -> String { "aggregate/\(id.rawValue)" }

    /// Creates (or redefines) an aggregate with an explicit member list; every member must be an existing twin.
    /// - Throws: ``BankError`` `unknownTwin` naming the member.
    @discardableResult
    public func createAggregate(_ id: AggregateID, members: [TwinID], description: String? = nil) throws -> AggregateDefinition {
        try authorize(.write, nil)
        return try storage.write { tx in
            for m in members where try tx.ref(Bank.twinRef(m)) == nil {
                throw BankError(.unknownTwin, "unknown twin '\(m)' given as a member of aggregate '\(id)'", value: m.rawValue)
            }
            var unique: [TwinID] = []
            var seen = Set<TwinID>()
            for m in members where seen.insert(m).inserted { unique.append(m) }
            let def = AggregateDefinition(id: id, members: unique, description: description)
            try tx.setRef(Bank.aggregateRef(id), try storeObject(def, kind: "aggregate", tx).hex)
            return def
        }
    }

    /// Creates (or redefines) an aggregate defined by a query expression (see ``AggregateQuery``).
    /// - Throws: ``BankError`` `invalidQuery` naming the expression and the position of the problem.
    @discardableResult
    public func createAggregate(_ id: AggregateID, where expression: String, description: String? = nil) throws -> AggregateDefinition {
        _ = try AggregateQuery(parsing: expression)
        try authorize(.write, nil)
        return try storage.write { tx in
            let def = AggregateDefinition(id: id, query: expression, description: description)
            try tx.setRef(Bank.aggregateRef(id), try storeObject(def, kind: "aggregate", tx).hex)
            return def
        }
    }

    /// The ids of all aggregates (now or at a commit).
    public func aggregateIDs(at commit: String? = nil) throws -> [AggregateID] {
        try storage.read { tx in
            let names: [String]
            if let commit {
                let (_, c) = try resolveCommit(commit, tx)
                names = try loadTree(c.tree, tx).keys.filter { $0.hasPrefix("aggregate/") }.sorted()
            } else {
                names = try tx.refs(prefix: "aggregate/").map(\.name)
            }
            return names.compactMap { try? AggregateID(String($0.dropFirst(10))) }
        }
    }

    /// An aggregate's definition and members, now or at a commit. At a commit, the definitions are those of
    /// the commit, the thread is as known at its pin, and query windows are relative to the commit's time
    /// (unless `asOf` is given). Retracted data never counts.
    /// - Throws: ``BankError`` `unknownAggregate`, `unknownCommit`.
    public func members(of id: AggregateID, at commit: String? = nil, asOf: Instant? = nil) throws -> AggregateMembership {
        try authorize(.read, nil)
        return try storage.read { tx in
            var tree: [String: String]? = nil
            var pin: Int64? = nil
            var commitID: ContentHash? = nil
            var time = asOf ?? clock.now()
            if let commit {
                let (cid, c) = try resolveCommit(commit, tx)
                tree = try loadTree(c.tree, tx)
                pin = c.threadPin
                commitID = cid
                if asOf == nil { time = c.time }
            }
            let defHex: String?
            if let tree { defHex = tree[Bank.aggregateRef(id)] } else { defHex = try tx.ref(Bank.aggregateRef(id)) }
            guard let defHex else {
                throw BankError(.unknownAggregate, "unknown aggregate '\(id)'" + (commit.map { " at commit \($0)" } ?? ""), value: id.rawValue)
            }
            let def = try loadObject(AggregateDefinition.self, hex: defHex, tx)
            var members: [TwinID] = []
            if let explicit = def.members {
                members = explicit
            } else if let q = def.query {
                let query = try AggregateQuery(parsing: q)
                let vis: Visibility = pin.map { .knownAt($0) } ?? .current
                let twinRefs: [(String, String)]
                if let tree {
                    twinRefs = tree.filter { $0.key.hasPrefix("twin/") }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                } else {
                    twinRefs = try tx.refs(prefix: "twin/").map { ($0.name, $0.value) }
                }
                for (path, hex) in twinRefs {
                    let record = try loadObject(TwinRecord.self, hex: hex, tx)
                    if record.twin.isTemplate { continue }
                    let ctx = EvaluationContext(bank: self, tx: tx, record: record, asOf: time, visibility: vis)
                    if try query.matches(ctx) { members.append(record.id) }
                    _ = path
                }
            }
            for m in members { try authorize(.read, m) }
            return AggregateMembership(definition: def, members: members, asOf: time, commit: commitID)
        }
    }
}

/// What a query is evaluated against: one twin, its thread at a visibility, relative to an instant.
struct EvaluationContext {
    let bank: Bank
    let tx: any StorageReader
    let record: TwinRecord
    let asOf: Instant
    let visibility: Visibility

    func latest(_ code: CodeKey, within: TimeSpan?) throws -> Event? {
        let segments = try bank.lineage(record.id, tx)
        guard let e = try bank.latestInTransaction(segments, code: code, category: nil, asOf: asOf, vis: visibility, tx) else { return nil }
        if let within, e.effective.start < asOf.advanced(byMicroseconds: -within.microseconds) { return nil }
        return e
    }
}
