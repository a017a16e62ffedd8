import TwinCore

extension Bank {
    /// The members of aggregate `id` now that also satisfy `expression` (the aggregate query language of
    /// ``AggregateQuery``, with its three-valued logic: a member for whom the expression is unknown is left out), in
    /// member order. Nothing is written. What `twinbank dp ... --where EXPR` restricts its answer to.
    /// - Throws: ``BankError`` `unknownAggregate`, or `invalidQuery` naming what is wrong with the expression (as
    ///   ``createAggregate(_:where:description:includeForks:replace:)`` checks it).
    public func members(of id: AggregateID, where expression: String) throws -> [TwinID] {
        try filter(try members(of: id).members, by: expression)
    }

    /// The twins of `members` that satisfy `expression` now, in their order (no gate: the caller asked).
    func filter(_ members: [TwinID], by expression: String) throws -> [TwinID] {
        let query = try AggregateQuery(parsing: expression)
        let time = clock.now()
        return try storage.read { tx in
            try check(query, tx)
            var hexes: [String] = []
            for m in members { if let h = try tx.ref(Bank.twinRef(m)) { hexes.append(h) } }
            let records = try queryRecords(hexes, attributes: query.attributesRead, tx)
            let kinds = try OperandKinds(query, records, tx)
            let values = try LatestValues(query, records, asOf: time, visibility: .current, reading: .bulk, bank: self, tx)
            let conversions = AggregateQuery.Conversions()
            var out: [TwinID] = []
            for (index, record) in records.enumerated() {
                let ctx = EvaluationContext(record: record, index: index, asOf: time, kinds: kinds, values: values, conversions: conversions)
                if try query.evaluate(ctx).truth == .yes { out.append(record.id) }
            }
            return out
        }
    }
}
