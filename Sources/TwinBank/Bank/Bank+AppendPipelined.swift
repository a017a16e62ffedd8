import Foundation
import TwinCore

/// One batch of ``Bank/appendPipelined(_:depth:acknowledge:)`` once its transaction has committed.
public struct PipelinedAppend: Sendable, Hashable {
    /// The batch's place in the sequence, from 1.
    public var batch: Int
    /// What its append wrote, exactly as ``Bank/append(_:)`` answers.
    public var result: AppendResult
}

/// Why ``Bank/appendPipelined(_:depth:acknowledge:)`` stopped at a batch: the batches before it are appended and were
/// acknowledged; it and every later batch are not written.
public struct AppendPipelineError: Error, CustomStringConvertible {
    /// The batch that failed, from 1 (its place in the sequence).
    public var batch: Int
    /// What failed: the ``BankError`` that ``Bank/append(_:)`` would have thrown for this batch (a check, the
    /// storage) or the gate's own error.
    public var error: any Error
    /// The code of ``error`` when it is a ``BankError``.
    public var code: BankError.Code? { (error as? BankError)?.code }
    public var description: String {
        "batch \(batch) was not appended (\(batch > 1 ? "batches 1-\(batch - 1) are, " : "")none after it is): \(error)"
    }
}

extension Bank {
    /// Appends a sequence of batches, each exactly as ``append(_:)`` would one after the other, with the checks and
    /// content hashes of later batches made on another thread while earlier ones are written.
    ///
    /// Each batch is its own transaction, as with ``append(_:)``: same checks, same errors, same recorded times
    /// (strictly increasing) and consecutive sequence numbers in the order of the sequence. What overlaps: a thread
    /// of its own iterates `batches`, asks the gate and checks and hashes each batch up to `depth` batches ahead of
    /// the calling thread, which writes and commits them in order. A batch's checks read the twin's record and the
    /// code's first unit before the transaction; inside it, before writing, the storage is read again to confirm
    /// them (the twin's record unchanged, the first units as assumed): if another writer changed one meanwhile, or
    /// if a check failed, the batch is checked again inside its transaction, as ``append(_:)`` does, so what is
    /// written or refused is what the sequential appends would write or refuse.
    ///
    /// Promises:
    /// - `acknowledge` is called on the calling thread for each batch, in order, only after that batch's
    ///   transaction has committed (an empty batch writes nothing and is acknowledged as ``append(_:)`` answers it).
    /// - The gate is asked for every batch (``AccessRequest/Action/write`` on each of its twins, as ``append(_:)``
    ///   asks), on the checking thread before the batch is checked: possibly before the previous batch commits.
    /// - A batch that fails (the gate, a check, the storage) stops everything: the batches before it are written
    ///   and acknowledged, it and every later batch are not written; the call throws ``AppendPipelineError``
    ///   naming the batch. An error thrown by `acknowledge` stops the appends after that batch and is rethrown.
    /// - The call returns or throws only once the checking thread has ended.
    ///
    /// `batches` is iterated on the checking thread (hence `Sendable`). Batches are not appended with an
    /// idempotency key (use ``append(_:idempotencyKey:)``).
    /// - Parameters:
    ///   - depth: how many checked batches may wait for their write (memory grows with it; at least 1).
    ///   - acknowledge: called after each batch's commit.
    /// - Returns: the number of batches appended.
    @discardableResult
    public func appendPipelined<Batches: Sequence & Sendable>(_ batches: Batches, depth: Int = 2,
                                                             acknowledge: (PipelinedAppend) throws -> Void = { _ in }) throws -> Int
    where Batches.Element == [EventDraft] {
        let stale = StaleChecks()
        let pipeline = ImportPipeline<PipelineItem>(depth: depth)
        pipeline.start { [self] put in
            let lookups = RecordingLookups(bank: self)
            var checker = AppendChecker(bank: self, lookups: lookups.lookups)
            var index = 0
            for drafts in batches {
                index += 1
                if drafts.isEmpty {
                    // as append([]) answers: the gate asked for a read, the clock read in the batch's turn
                    do { try authorize(.read, nil) } catch { throw AppendPipelineError(batch: index, error: error) }
                    guard put(PipelineItem(index: index, drafts: drafts, work: .empty(clock.now()))) else { return }
                    continue
                }
                var twinsSeen = Set<TwinID>()
                do {
                    for d in drafts where twinsSeen.insert(d.twin).inserted { try authorize(.write, d.twin) }
                } catch {
                    throw AppendPipelineError(batch: index, error: error)
                }
                if stale.take() {
                    // a transaction found the bank other than the checks assumed: forget what they learnt
                    lookups.forget()
                    checker = AppendChecker(bank: self, lookups: lookups.lookups)
                }
                let work: PipelineItem.Work
                do {
                    let checked = try checker.check(drafts, skipExisting: false, label: Bank.appendLabel(drafts))
                    // a batch whose twin's record the lookups did not see (none: the checker knew it) is checked again
                    work = lookups.assumptions(for: checked, checker).map { .checked(checked, $0) } ?? .inTransaction
                } catch {
                    // checked again inside its transaction, against the bank as the earlier batches left it: the
                    // error (or, if the bank changed meanwhile, the append) is the sequential append's
                    lookups.forget()
                    checker = AppendChecker(bank: self, lookups: lookups.lookups)
                    work = .inTransaction
                }
                guard put(PipelineItem(index: index, drafts: drafts, work: work)) else { return }
            }
        }
        var appended = 0
        try pipeline.consume { item in
            let result: AppendResult
            do {
                result = try writePipelined(item, stale: stale)
            } catch {
                throw AppendPipelineError(batch: item.index, error: error)
            }
            appended += 1
            try acknowledge(PipelinedAppend(batch: item.index, result: result))
        }
        return appended
    }

    /// How ``append(_:)`` names a draft in its messages: `row N`, or for a batch of one, `the event (CODE)`.
    static func appendLabel(_ drafts: [EventDraft]) -> (Int) -> String {
        let codeOf = drafts.count == 1 ? drafts[0].code.key.description : nil
        return { i in codeOf.map { "the event (\($0))" } ?? "row \(i + 1)" }
    }

    /// Writes one batch of the pipeline in its own transaction.
    private func writePipelined(_ item: PipelineItem, stale: StaleChecks) throws -> AppendResult {
        let label = Bank.appendLabel(item.drafts)
        switch item.work {
        case .empty(let now):
            let last = try storage.read { try $0.lastSequence() }
            return AppendResult(count: 0, firstSequence: last + 1, lastSequence: last, recorded: now, ids: [])
        case .inTransaction:
            return try storage.write { tx in try appendInTransaction(item.drafts, tx, label: label) }
        case .checked(let batch, let assumptions):
            return try storage.write { tx in
                if try assumptions.hold(in: tx) { return try store(batch, tx, skipExisting: false, label: label) }
                stale.set()
                return try appendInTransaction(item.drafts, tx, label: label)
            }
        }
    }
}

/// A batch on its way from the checking thread to the writing one.
struct PipelineItem: Sendable {
    enum Work: Sendable {
        /// Checked beforehand, under these assumptions about the bank.
        case checked(CheckedBatch, AppendAssumptions)
        /// To be checked inside its transaction (its check beforehand failed).
        case inTransaction
        /// Nothing to write; the clock's reading in the batch's turn.
        case empty(Instant)
    }
    var index: Int
    var drafts: [EventDraft]
    var work: Work
}

/// What a batch's checks read from the bank before its transaction: each twin's record (by the hash its reference
/// named) and each code's first unit (nil: none was recorded, the batch records it).
struct AppendAssumptions: Sendable {
    var twins: [(TwinID, String)]
    var units: [(CodeKey, String?)]

    /// Whether the bank, read in the batch's transaction, is as the checks assumed.
    func hold(in tx: any StorageReader) throws -> Bool {
        for (twin, hex) in twins where try tx.ref(Bank.twinRef(twin)) != hex { return false }
        if units.count <= 2 {
            for (code, unit) in units where try tx.unit(for: code) != unit { return false }
        } else {
            // one read for all (the table of first units is small: one row per code)
            let stored = try tx.units()
            for (code, unit) in units where stored[code] != unit { return false }
        }
        return true
    }
}

/// Set by the writing thread when a batch's assumptions no longer held; taken by the checking thread.
final class StaleChecks: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    func take() -> Bool { lock.withLock { defer { flag = false }; return flag } }
}

/// The lookups of the checking thread: each read in a read transaction of its own, remembering what the checks
/// relied on (the hash of each twin's record) so that the write transaction can confirm it. Used by one thread.
final class RecordingLookups: @unchecked Sendable {
    let bank: Bank
    private var recordHashes: [TwinID: String] = [:]

    init(bank: Bank) { self.bank = bank }

    var lookups: AppendLookups {
        AppendLookups(
            twinStart: { [self] id in
                try bank.storage.read { tx in
                    guard let hex = try tx.ref(Bank.twinRef(id)) else {
                        try bank.refuseErased(id, tx)
                        return .none
                    }
                    let start = try bank.loadObject(TwinRecord.self, hex: hex, tx).twin.existenceStart
                    recordHashes[id] = hex
                    return .some(start)
                }
            },
            storedUnit: { [bank] code in try bank.storage.read { tx in try tx.unit(for: code) } })
    }

    /// Forgets the records read (a new checker reads them again).
    func forget() { recordHashes = [:] }

    /// What the checks of `batch` assumed: the records of its twins, and the first unit of each of its codes that
    /// has one (the one recorded before, or none where the batch records it).
    /// Nil if a twin's record was not read through these lookups.
    func assumptions(for batch: CheckedBatch, _ checker: AppendChecker) -> AppendAssumptions? {
        var twins: [(TwinID, String)] = []
        var twinsSeen = Set<TwinID>()
        var codes = Set<CodeKey>()
        var units: [(CodeKey, String?)] = []
        let setHere = Set(batch.newUnits.map(\.0))
        for r in batch.ranges {
            if twinsSeen.insert(r.key.twin).inserted {
                guard let hex = recordHashes[r.key.twin] else { return nil }
                twins.append((r.key.twin, hex))
            }
            guard codes.insert(r.key.code).inserted, let unit = checker.firstUnit(of: r.key.code) else { continue }
            units.append((r.key.code, setHere.contains(r.key.code) ? nil : unit))
        }
        return AppendAssumptions(twins: twins, units: units)
    }
}
