import Foundation
import NIOPosix
import Synchronization
import TwinBank
import TwinBankAccess
import TwinCore
import TwinGovernance
import TwinSync

/// The bank a server serves, opened once: its storage behind the ``TwinGovernance/GovernedGate`` with the bank's
/// signed audit log, as the command opens a bank (`BankOptions`), so every request's decision is audited. Each
/// request acts through ``run(_:_:_:_:)`` as its token's subject for its declared purpose.
final class ServedBank: Sendable {
    let base: Bank
    let gate: GovernedGate
    /// The server's long jobs (their records in the bank's storage, `server_jobs`).
    let jobs: JobQueue
    /// Held while a twin definition is checked against `If-Match` and written, so two updates made from the same
    /// ETag cannot both pass (in this process; another process writing the same bank is not covered).
    let definitionLock = Mutex<Void>(())

    /// The ETags of twin definitions served (``ServedETag``), by the content hash the record is stored under.
    let etags = ObjectCache(capacity: 10_000)

    /// The audit log's public key (which checks its signed heads), when the server opened the signing key.
    let auditKey: AuditSigner.PublicKey?

    /// Where the bank's keys are kept (``TwinBankAccess/BankLocation/keyBase(environment:)``: the pseudonym key of a
    /// release is `KEYBASE.keys/pseudonym.key`, as for the command), when the server opened the bank from a location.
    let keyBase: String?

    init(base: Bank, gate: GovernedGate, auditKey: AuditSigner.PublicKey? = nil, journal: JobJournal = .memory(), keyBase: String? = nil) {
        self.base = base; self.gate = gate; self.auditKey = auditKey; self.keyBase = keyBase
        self.jobs = JobQueue(clock: base.clock, journal: journal)
    }

    /// Opens the bank at `location` (it must exist) on NIO's blocking pool. `owner` is the admin of a bank that has
    /// neither a stored policy nor a recorded owner (a bank made before governance), as for the command; the bank
    /// acts as its admin (the recorded owner, else `owner`) until a request acts as its token's subject.
    /// The bank's storage is given a change feed (``TwinSync/LocalChangeFeed``, unless it has one: PostgreSQL) so the
    /// live link and the watch wake on each write made through the server, and see other processes' writes within
    /// `pollInterval`. The jobs recorded in the bank by an earlier server are reloaded (``JobQueue/restore(resume:)``).
    static func open(_ location: BankLocation, owner: String, pollInterval: Duration = .seconds(1)) async throws -> ServedBank {
        let served = try await NIOThreadPool.singleton.runIfActive {
            let opened = try location.open(create: false)
            let signer = try AuditSigner(keyFile: location.auditKeyFile())
            let log = try AuditLog(store: opened.auditStore, signer: signer)
            let gate = GovernedGate(store: BankGovernanceStore(storage: opened.storage), log: log, owner: owner)
            let storage = LocalChangeFeed.wrapping(opened.storage, pollInterval: pollInterval)
            // the server's own work (the live feed, the watch) acts as the bank's admin: its recorded owner, else `owner`
            let admin = try gate.store.recordedOwner() ?? owner
            let journal = BankLocation.jobRecordStore(of: opened.storage).map { JobJournal(store: $0, storage: opened.storage) } ?? .memory()
            return ServedBank(base: Bank(storage: storage, gate: gate, actor: admin, purpose: "treatment"), gate: gate, auditKey: signer.publicKey,
                              journal: journal, keyBase: location.keyBase())
        }
        try await served.jobs.restore { served.resumableWork($0) }
        return served
    }

    /// The work of a job recorded by an earlier server, from its record: a twin's sync, a comparison, an outbreak, a
    /// simulation or a matching again (it was queued), or an
    /// aggregate's sync over the members it had not synchronised (those with no outcome in ``JobQueue/Job/result``),
    /// acting as the job's owner for its recorded purpose, with its recorded settings; nil for a job without them.
    func resumableWork(_ job: JobQueue.Job) -> JobQueue.Work? {
        guard let spec = job.spec else { return nil }
        let bank = base.acting(as: job.owner, purpose: spec.purpose)
        if job.kind == .outbreak {
            guard let settings = spec.outbreak else { return nil }
            return TwinAPI.outbreakWork(bank: bank, settings: settings)
        }
        if job.kind == .comparison {
            guard let settings = spec.comparison, let id = try? TwinID(job.target) else { return nil }
            return TwinAPI.comparisonWork(id, bank: bank, settings: settings)
        }
        if job.kind == .simulation {
            guard let settings = spec.simulation, let id = try? TwinID(job.target) else { return nil }
            return TwinAPI.simulationWork(id, bank: bank, settings: settings)
        }
        if job.kind == .match {
            guard let settings = spec.match else { return nil }
            return TwinAPI.matchWork(bank: bank, settings: settings)
        }
        if job.kind == .calibration {
            guard let settings = spec.calibration else { return nil }
            return TwinAPI.calibrationWork(bank: bank, settings: settings)
        }
        guard let settings = spec.sync else { return nil }
        switch job.kind {
        case .comparison, .outbreak, .simulation, .match, .calibration:
            return nil
        case .twinSync:
            guard let id = try? TwinID(job.target) else { return nil }
            return TwinAPI.twinSyncWork(id, bank: bank, settings: settings)
        case .aggregateSync:
            guard let names = spec.members else { return nil }
            let members = names.compactMap { try? TwinID($0) }
            guard members.count == names.count else { return nil }
            let done = Set((job.result ?? []).map(\.twin))
            let rest = members.filter { !done.contains($0.rawValue) }
            return TwinAPI.aggregateSyncWork(rest, done: members.count - rest.count, total: members.count, bank: bank, settings: settings)
        }
    }

    /// Who calls (a verified token) and why (the declared purpose).
    struct Call: Sendable {
        let identity: TokenIdentity
        let purpose: String
    }

    /// The threads requests' bank calls run on: more than the storage's own few (SQLite's are NIO's blocking pool, one
    /// per core), because a request spends most of its time waiting, not computing: for its audit entry to be durable.
    /// The audit log commits every entry pending at once (group commit), so the more requests wait together, the fewer
    /// commits (and fsyncs) per request; with one thread per core, two requests would share a commit at most.
    /// One pool per process, started on first use (as `NIOThreadPool.singleton`), never stopped.
    static let requestThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: requestThreadCount)
        pool.start()
        return pool
    }()
    /// How many threads ``requestThreads`` has: how many requests may wait on the bank at once (more queue).
    static let requestThreadCount = 64

    /// Runs `body` on the request threads (``requestThreads``) with the bank acting as the call's subject for its purpose,
    /// claiming the token's role (``TwinBank/AccessRequest/claimedRole``): the gate refuses a token whose role is
    /// not the one the bank's policy gives its subject (403 naming `role`; the deny in the audit log, with the policy's
    /// role), in the same decision, and the same read transaction, as the request itself. A subject the policy does not
    /// know is refused by the gate.
    func run<T: Sendable>(_ call: Call, _ body: @escaping @Sendable (Bank) throws -> T) async throws -> T {
        let bank = acting(call)
        return try await Self.requestThreads.runIfActive { try body(bank) }
    }

    /// The roles whose lists and searches across twins cover their own twins (the policy's links, ``TwinGovernance/GovernedGate/linkedTwins(of:)``),
    /// not the bank: the default policy gives them nothing bank-wide.
    static let ownTwinRoles: Set<Role> = [.patient, .device]

    /// The twins a patient's or a device's token lists and searches across (the policy's links to its subject; the
    /// gate still decides each); nil for the other roles, which list and search the bank (a bank-wide read the gate
    /// decides). Reads the policy from the bank's storage: call it on the request threads (inside ``run(_:_:)``).
    func ownTwins(_ call: Call) throws -> Set<TwinID>? {
        guard Self.ownTwinRoles.contains(call.identity.role) else { return nil }
        return try gate.linkedTwins(of: call.identity.subject)
    }

    /// The bank acting as the call's subject, for its purpose, claiming its token's role, and returning of a twin's
    /// events only the resource types the token's read scopes name (``TokenIdentity/readRestriction``).
    func acting(_ call: Call) -> Bank {
        base.acting(as: call.identity.subject, purpose: call.purpose, claimedRole: call.identity.role.rawValue,
                    restriction: call.identity.readRestriction)
    }
}

/// A twin definition's ETag with the record it was computed from.
struct ServedETag: Sendable {
    let record: TwinRecord
    let etag: String
}
