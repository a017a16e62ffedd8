import TwinCore

/// One batch for ``Bank/appendEach(_:)``: its drafts and, optionally, its idempotency key.
public struct AppendRequest: Sendable, Hashable {
    public var drafts: [EventDraft]
    /// As ``Bank/append(_:idempotencyKey:)``'s: a retry with the same key and drafts appends nothing again.
    public var idempotencyKey: String?

    public init(_ drafts: [EventDraft], idempotencyKey: String? = nil) {
        self.drafts = drafts; self.idempotencyKey = idempotencyKey
    }
}

extension Bank {
    /// Appends several batches in **one** storage transaction, each as ``append(_:idempotencyKey:)`` would append
    /// it after the ones before it, and answers each: its result, or the error that refused it.
    ///
    /// What it promises:
    /// - Each batch gets the answer the calls one after the other would give: the same checks and errors (naming
    ///   the batch's own rows), recorded times strictly increasing from batch to batch, consecutive sequences in
    ///   the order of `requests`, an idempotency key's replay (the first result again, nothing appended) or
    ///   conflict, within the call too (a key used twice in `requests`).
    /// - A batch that is refused (the gate, its key, a check: ``BankError`` other than `storageFailure`) writes
    ///   nothing and the others are still written: its answer is its error.
    /// - The gate is asked for each batch (``AccessRequest/Action/write`` on each of its twins; an empty batch asks
    ///   for a read, as ``append(_:)``) inside the transaction; the decisions are recorded together when it ends
    ///   (``AccessGate/transactionEnded()``), before this returns. If they cannot be recorded, the call throws
    ///   although the batches it wrote stand (a retry with their idempotency keys appends nothing twice).
    /// - The storage failing throws and writes nothing (no batch is answered).
    ///
    /// What it saves: one transaction, one commit (one `fsync`) and one audit commit for all the batches instead of
    /// one each: what a stream of small batches (a device's live link) needs to keep up.
    public func appendEach(_ requests: [AppendRequest]) throws -> [Result<AppendResult, any Error>] {
        guard !requests.isEmpty else { return [] }
        return try writeAsking { tx in
            var out: [Result<AppendResult, any Error>] = []
            out.reserveCapacity(requests.count)
            for r in requests {
                do {
                    out.append(.success(try appendOne(r, tx)))
                } catch let e as BankError where e.code != .storageFailure {
                    out.append(.failure(e))
                }
            }
            return out
        }
    }

    /// One batch of ``appendEach(_:)`` inside its transaction: refusals (a ``BankError``) are thrown before it writes.
    private func appendOne(_ r: AppendRequest, _ tx: any StorageWriter) throws -> AppendResult {
        let drafts = r.drafts
        if drafts.isEmpty {
            try authorizeInTransaction(.read, nil, tx)
            let last = try tx.lastSequence()
            return AppendResult(count: 0, firstSequence: last + 1, lastSequence: last, recorded: clock.now(), ids: [])
        }
        if let key = r.idempotencyKey { try Bank.checkIdempotencyKey(key) }
        var twinsSeen = Set<TwinID>()
        for d in drafts where twinsSeen.insert(d.twin).inserted { try authorizeInTransaction(.write, d.twin, tx) }
        var idempotency: BatchRecord.Idempotency? = nil
        if let key = r.idempotencyKey {
            let digest = Bank.digest(of: drafts)
            if let prior = try tx.batch(idempotencyKey: key) {
                guard prior.idempotency?.digest == digest else {
                    throw BankError(.idempotencyConflict, "the idempotency key '\(key)' was used for another batch (sequences \(prior.firstSequence)-\(prior.lastSequence), recorded \(prior.recorded)): nothing written; use a new key for new data", value: key)
                }
                return try replayed(prior, tx)
            }
            idempotency = BatchRecord.Idempotency(key: key, digest: digest)
        }
        return try appendInTransaction(drafts, tx, label: Bank.appendLabel(drafts), idempotency: idempotency)
    }
}
