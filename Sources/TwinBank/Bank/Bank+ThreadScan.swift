import TwinCore

/// What ``Bank/scanThreads(holding:limit:_:)`` did: how many twins it considered and which it read or left out.
public struct ThreadScan: Sendable, Hashable {
    /// The twins considered before the gate was asked (the bulk read's answer, or every twin): what the limit bounds.
    public var candidates: Int
    /// The twins whose threads were given to the body, in twin-id order.
    public var read: [TwinID]
    /// The twins the gate refused (each refusal audited), or permitted only in part (a definition cannot be filtered):
    /// left out, not an error.
    public var refused: [TwinID]
}

extension Bank {
    /// The most twins ``scanThreads(holding:limit:_:)`` considers unless told otherwise.
    public static let defaultScanLimit = 10_000

    /// Twins decided and read per read transaction of a scan.
    static let scanChunk = 256

    /// Reads, one twin at a time in twin-id order, the threads of the bank's twins (not forks, which repeat their
    /// parent's records, nor templates) that this bank's actor may read: with `codes`, only the twins whose own rows
    /// hold one of them (the storage's bulk read ``StorageReader/twins(withCode:)``, so twins without them cost
    /// nothing); without, every twin. The gate is asked for a bank-wide `read` first (a deny throws), then for each
    /// twin (action `read`, audited): a twin refused, or permitted only in part by the gate, is left out and listed in
    /// ``ThreadScan/refused`` (the bank's ``restriction`` narrows the events the reader gives, not the definition). `body` gets each permitted twin's definition and a reader of its thread (as
    /// ``reading(_:_:)`` gives one), valid only during the call. Twins are decided and read in read transactions of
    /// a few hundred, so each chunk is a consistent snapshot; the decisions of a chunk are recorded before the next
    /// starts and all of them before this returns, so a caller answers nothing it read before it returns.
    ///
    /// With `among` (an actor whose grants cover only the twins linked to it: a patient's own), only those twins are
    /// considered and no bank-wide read is asked (the actor may not read across the bank; each twin is still decided
    /// and audited as above).
    /// - Throws: ``BankError`` `invalidQuery` when more than `limit` twins would be considered (nothing is read:
    ///   name one twin, or narrow the scan); `accessDenied` for the bank-wide read; what `body` throws.
    @discardableResult
    public func scanThreads(holding codes: Set<CodeKey>? = nil, among: Set<TwinID>? = nil, limit: Int = Bank.defaultScanLimit,
                            _ body: (TwinRecord, ThreadReader) throws -> Void) throws -> ThreadScan {
        if among == nil { try authorize(.read, nil) }
        let candidates: [TwinID] = try storage.read { tx in
            var found: Set<TwinID>
            if let codes {
                found = []
                for c in codes { found.formUnion(try tx.twins(withCode: c)) }
                if let among { found.formIntersection(among) }
            } else if let among {
                found = among
            } else {
                return try tx.refs(prefix: "twin/").compactMap { try? TwinID(String($0.name.dropFirst("twin/".count))) }.sorted()
            }
            return found.sorted()
        }
        guard candidates.count <= limit else {
            throw BankError(.invalidQuery, "the scan would consider \(candidates.count) twins, over the limit of \(limit): name one twin, or narrow the scan to a code fewer twins hold (nothing was read)",
                            value: String(candidates.count))
        }
        var scan = ThreadScan(candidates: candidates.count, read: [], refused: [])
        for start in stride(from: 0, to: candidates.count, by: Self.scanChunk) {
            try readAsking { tx in
                for id in candidates[start..<min(start + Self.scanChunk, candidates.count)] {
                    // an erased twin (no record), a fork or a template is not scanned, and not asked about
                    guard let record = try loadRecord(id, tx), record.fork == nil, !record.twin.isTemplate else { continue }
                    let filter: (any AccessFilter)?
                    do { filter = try decideInTransaction(.read, id, tx, narrowing: false) } catch let e as BankError where e.code == .accessDenied {
                        scan.refused.append(id)
                        continue
                    }
                    guard filter == nil else { scan.refused.append(id); continue }
                    // the credential's restriction narrows the thread's events, not the definition
                    try body(record, ThreadReader(twin: id, bank: self, filter: narrowed(nil, .read, id), tx: tx))
                    scan.read.append(id)
                }
            }
        }
        return scan
    }
}
