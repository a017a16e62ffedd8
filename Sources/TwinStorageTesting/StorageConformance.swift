import Foundation
import Testing
import TwinBank
import TwinCore
import TwinGovernance

/// What a storage's tests hand the conformance suite: how to open a fresh, empty storage, and optionally how to
/// open the same storage again (durability) and the audit store kept beside it.
///
/// Every hook is synchronous today; when the storage seam becomes asynchronous the hooks and the case bodies
/// become `async throws` and every call in the cases gains an `await`, nothing else.
public struct StorageSubject: Sendable {
    /// Opens a new, empty storage. Called once or more per case (export/import needs two banks).
    public var make: @Sendable () throws -> any BankStorage
    /// Opens a second handle on the data of a storage `make` returned, as a restarted process would (nil: the
    /// storage keeps nothing beyond its handle, as the memory storage; the durability case then does not apply).
    public var reopen: (@Sendable (any BankStorage) throws -> any BankStorage)?
    /// The audit store kept with a storage `make` or `reopen` returned (nil: the storage has no audit log; the
    /// audit cases do not apply). For a storage that keeps its audit log in its own files, the store on a
    /// reopened storage must see what was appended through the first.
    public var auditStore: (@Sendable (any BankStorage) throws -> any AuditStore)?

    public init(make: @escaping @Sendable () throws -> any BankStorage,
                reopen: (@Sendable (any BankStorage) throws -> any BankStorage)? = nil,
                auditStore: (@Sendable (any BankStorage) throws -> any AuditStore)? = nil) {
        self.make = make; self.reopen = reopen; self.auditStore = auditStore
    }

    /// A bank on a fresh storage, with a manual clock (2026-01-01, a second per reading) and every access permitted.
    func bank(now: String = "2026-01-01T00:00:00Z") throws -> Bank {
        Bank(storage: try make(), clock: ManualClock(t(now), stepMicroseconds: 1_000_000))
    }
}

/// One case of the conformance suite: a name (the reported test argument), what it checks, and what of the
/// subject it needs beyond a fresh storage.
public struct StorageConformanceCase: Sendable, CustomStringConvertible, CustomTestStringConvertible {
    /// What a case needs of the ``StorageSubject`` besides ``StorageSubject/make``.
    public struct Needs: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// ``StorageSubject/reopen``.
        public static let reopen = Needs(rawValue: 1)
        /// ``StorageSubject/auditStore``.
        public static let auditStore = Needs(rawValue: 2)
    }

    /// The case's name, as the test reports it.
    public let name: String
    /// What it checks, in a line.
    public let summary: String
    public let needs: Needs
    let body: @Sendable (StorageSubject) throws -> Void

    init(_ name: String, _ summary: String, needs: Needs = [], _ body: @escaping @Sendable (StorageSubject) throws -> Void) {
        self.name = name; self.summary = summary; self.needs = needs; self.body = body
    }
    public var description: String { name }
    public var testDescription: String { name }
}

/// The `BankStorage` (and `AuditStore`) conformance suite: written once, run against every storage. A storage's
/// test file is a few lines:
///
/// ```swift
/// @Suite struct MemoryStorageConformance {
///     @Test(arguments: StorageConformance.cases(for: [.auditStore]))
///     func conforms(_ c: StorageConformanceCase) throws {
///         try StorageConformance.run(c, StorageSubject(make: { MemoryStorage() }, auditStore: { _ in MemoryAuditStore() }))
///     }
/// }
/// ```
///
/// Each case is one reported test (its argument, named by the case); failures are reported by Swift Testing's
/// `#expect`/`#require` inside the case, so they show the failed expression under the case's name.
public enum StorageConformance {
    /// Every case, storage-level first, then through a `Bank` on the storage, then durability and the audit log.
    public static let all: [StorageConformanceCase] = [
        // the storage seam itself
        .init("appendAndQuery", "events appended as a batch are found by every query of the reader", appendAndQuery),
        .init("latestValuesReadEveryKindOfValue", "latestValues reads each kind of value, an erased one as none", latestValuesReadEveryKindOfValue),
        .init("bulkReads", "the bulk reads answer for all twins what the per-twin reads answer for each", bulkReads),
        .init("batchesAndKnownAt", "batches' recorded times give the sequence known at an instant", batchesAndKnownAt),
        .init("retractionAndErasure", "retracting a source hides its rows now, not as known before; erasure purges them", retractionAndErasure),
        .init("retractionOfChosenRows", "retracting chosen sequences marks only current rows, once", retractionOfChosenRows),
        .init("writesAreAllOrNothing", "a write whose body throws leaves nothing behind", writesAreAllOrNothing),
        .init("erasureTombstonesRowsAndIndexes", "erase(sequences:) tombstones rows, indexes and dictionaries", erasureTombstonesRowsAndIndexes),
        .init("objectsReplacedDeletedAndListedByKind", "objects are listed by kind, replaced and deleted", objectsReplacedDeletedAndListedByKind),
        .init("refsObjectsUnits", "references by prefix, objects stored once, the first unit kept", refsObjectsUnits),
        .init("valuesRoundTrip", "every field of an event reads back as written", valuesRoundTrip),
        .init("readsInsideAWriteSeeItsChanges", "a write's reader sees that write's earlier changes", readsInsideAWriteSeeItsChanges),
        .init("enumerationOfTheWholeStorage", "batches and objects are enumerated in pages, in order, as stored", enumerationOfTheWholeStorage),
        .init("idempotencyKeysAreKeptAndUnique", "a batch's idempotency key is kept, found by key, and not given to a second batch", idempotencyKeysAreKeptAndUnique),
        // through a bank on the storage
        .init("bankTwins", "twins created, updated, listed and read at a commit", bankTwins),
        .init("bankThreadAsOfAndKnownAt", "a twin's state as of an effective time and as known at a recorded time", bankThreadAsOfAndKnownAt),
        .init("bankRetractionAndErasure", "retraction and erasure of events through the bank", bankRetractionAndErasure),
        .init("bankCommitsBranchesAndTags", "commits, the log, tags, branches and diffs", bankCommitsBranchesAndTags),
        .init("bankForks", "a fork reads its parent up to the fork point, and only its own rows after", bankForks),
        .init("bankThreadPages", "a thread read in pages after a cursor is the whole thread, on forks, replays, flags and filters", bankThreadPages),
        .init("bankAggregates", "aggregates by members and by query, on attributes and on thread values", bankAggregates),
        .init("bankExportImport", "a bundle exported from one bank imports into another identically, once", bankExportImport),
        .init("bankAppendIsIdempotentWithAKey", "an append retried with its idempotency key appends once and answers as the first time", bankAppendIsIdempotentWithAKey),
        .init("bankEraseTwin", "erasing a twin leaves no object or row with its data", bankEraseTwin),
        .init("pipelinedAppendIsSequentialAppend", "batches appended through the pipeline get the answers, sequence numbers and rows of sequential appends", pipelinedAppendIsSequentialAppend),
        .init("pipelinedAppendStopsAtAFailingBatch", "a batch refused in the pipeline is named; the batches before it are written, none after it", pipelinedAppendStopsAtAFailingBatch),
        .init("pipelinedAppendAsksTheGatePerBatch", "the pipeline asks the gate for every batch as sequential appends do, and stops at a denial", pipelinedAppendAsksTheGatePerBatch),
        .init("pipelinedAppendChecksAgainWhatChanged", "a batch checked before a change to its twin or a code's first unit is checked again in its transaction", pipelinedAppendChecksAgainWhatChanged),
        .init("backupRestoreRoundTrip", "a backup of a whole bank (and its audit log) restores into an empty storage identically, and only there", backupRestoreRoundTrip),
        // durability
        .init("reopenedStorageKeepsEverything", "a reopened storage has every committed write and none of a failed one", needs: .reopen, reopenedStorageKeepsEverything),
        // the audit log kept with the storage
        .init("auditAppendEntriesHeadsNodes", "an audit store keeps batches of entries, nodes and heads", needs: .auditStore, auditAppendEntriesHeadsNodes),
        .init("auditRefusesAMisnumberedBatch", "an audit batch that does not continue the log is refused and writes nothing", needs: .auditStore, auditRefusesAMisnumberedBatch),
        .init("auditLogVerifiesOnTheStore", "an audit log on the store appends, proves and verifies, and reopens", needs: .auditStore, auditLogVerifiesOnTheStore),
        .init("auditLogSurvivesReopening", "an audit log appended before reopening the storage verifies after", needs: [.reopen, .auditStore], auditLogSurvivesReopening),
    ]

    /// The cases a subject with the given hooks can run: those needing nothing, and those whose needs are all in
    /// `hooks` (for example `[.reopen, .auditStore]` for a storage kept in files with an audit log).
    public static func cases(for hooks: StorageConformanceCase.Needs = []) -> [StorageConformanceCase] {
        all.filter { hooks.isSuperset(of: $0.needs) }
    }

    /// Runs one case against a subject. A case whose needs the subject does not provide is reported as an issue
    /// (pass ``cases(for:)`` the hooks the subject has, so it is not chosen).
    public static func run(_ c: StorageConformanceCase, _ subject: StorageSubject) throws {
        if c.needs.contains(.reopen) && subject.reopen == nil {
            Issue.record("case \(c.name) needs StorageSubject.reopen, which this subject does not give")
            return
        }
        if c.needs.contains(.auditStore) && subject.auditStore == nil {
            Issue.record("case \(c.name) needs StorageSubject.auditStore, which this subject does not give")
            return
        }
        try c.body(subject)
    }

    /// Runs one case against storages from `make` (no reopen, no audit store).
    public static func run(_ c: StorageConformanceCase, _ make: @escaping @Sendable () throws -> any BankStorage) throws {
        try run(c, StorageSubject(make: make))
    }
}

// MARK: Fixtures the cases share

func t(_ s: String) -> Instant { try! Instant(parsing: s) }

let glucose = Concept.loinc("2339-0", "Glucose")
let heartRate = Concept.loinc("8867-4")
let cgm = Source(.device, "cgm-7")
let lab = Source(.record, "lab-1")

func obs(_ twin: TwinID, _ time: String, _ code: Concept, _ v: Double, _ unit: String = "mg/dL", source: Source = cgm) -> EventDraft {
    EventDraft.observation(twin, at: t(time), code: code, Quantity(v, unit), source: source)
}
func obs(_ twin: TwinID, _ time: String, _ v: Double, _ unit: String = "mg/dL", source: Source = cgm) -> EventDraft {
    obs(twin, time, glucose, v, unit, source: source)
}

func person(_ id: TwinID, birth: String = "1980-04-02", _ attrs: [String: Value] = [:]) -> Twin {
    var a = attrs
    a["birthDate"] = .date(t(birth))
    return Twin(id: id, kind: .person, attributes: a)
}
