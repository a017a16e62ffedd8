import TwinCore

extension Bank {
    /// Every aggregate's definition, now or at a commit, sorted by id.
    /// - Throws: ``BankError`` `unknownCommit`, `ambiguousCommit`.
    public func aggregates(at commit: String? = nil) throws -> [AggregateDefinition] {
        try authorize(.read, nil)
        return try storage.read { tx in
            let entries: [(String, String)]
            if let commit {
                let (_, c) = try resolveCommit(commit, tx)
                entries = try loadTree(c.tree, tx).filter { $0.key.hasPrefix("aggregate/") }.map { ($0.key, $0.value) }
            } else {
                entries = try tx.refs(prefix: "aggregate/").map { ($0.name, $0.value) }
            }
            return try entries.sorted { $0.0 < $1.0 }.map { try loadObject(AggregateDefinition.self, hex: $0.1, tx) }
        }
    }

    /// Deletes an aggregate's current definition, the way every definition changes in this bank: the change is
    /// in the working state at once (``aggregates(at:)`` and ``members(of:at:asOf:)`` no longer find it) and is
    /// recorded by the next ``commit(message:author:)``, whose tree no longer holds it (``diff(_:_:)`` lists it as
    /// removed). Earlier commits keep it: `members(of: id, at: earlierCommit)` still shows it as it was. The
    /// definition object itself stays in the bank (content-addressed, shared with those commits). The id may be
    /// used again afterwards.
    /// - Returns: the definition that was deleted.
    /// - Throws: ``BankError`` `unknownAggregate` naming the id and the aggregates that exist (nothing changed).
    @discardableResult
    public func deleteAggregate(_ id: AggregateID) throws -> AggregateDefinition {
        try authorize(.write, nil)
        return try storage.write { tx in
            guard let hex = try tx.ref(Bank.aggregateRef(id)) else {
                let existing = try tx.refs(prefix: "aggregate/").map { String($0.name.dropFirst(10)) }
                let known = existing.isEmpty ? "the bank has no aggregates" : "aggregates: " + existing.joined(separator: ", ")
                throw BankError(.unknownAggregate, "unknown aggregate '\(id)' (\(known)); nothing deleted", value: id.rawValue)
            }
            let definition = try loadObject(AggregateDefinition.self, hex: hex, tx)
            try tx.setRef(Bank.aggregateRef(id), nil)
            return definition
        }
    }
}
