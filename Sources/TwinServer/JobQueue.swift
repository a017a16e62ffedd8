import Foundation
import Logging
import TwinBank
import TwinCore
import TwinServerAPI

/// The server's long jobs (a sync of a twin, a sync over a cohort): queued, run at most ``concurrency`` at a time off
/// the event loops (each job's bank calls go through `Bank.run`). Each job's record (its kind, target, owner, the
/// request's purpose and parsed settings, state, progress, times, the outcome of each unit as it finishes, error) is
/// kept in the bank's own storage through a ``JobJournal`` (``TwinBank/JobRecordStore``: the table `server_jobs` of a
/// SQLite or PostgreSQL bank), written off the event loops through the storage's `runBlocking`, so a restarted server
/// finds its jobs again (``restore(resume:)``). At most ``capacity`` jobs wait or run at once (beyond, a submission is
/// refused: ``ServerError/Code/busy``); of the finished ones the newest ``retained`` are kept for clients to read (the
/// records of older ones are deleted). A job can be cancelled (``cancel(_:subject:admin:)``): a queued one is never
/// run; a running one's task is cancelled, and the work checks cancellation between its units (a twin's sync), so it
/// stops after the unit it is in and ends ``State/cancelled`` with the outcomes of the units it finished (what they
/// wrote stays in the bank).
actor JobQueue {
    typealias Outcome = Components.Schemas.SyncOutcome
    /// A job's work: it reports its progress and its units through the context, and returns the outcomes it did not
    /// report (a job's result is the outcomes reported, then those returned).
    typealias Work = @Sendable (_ context: JobContext) async throws -> [Outcome]

    /// What a job's work reports to the queue while it runs.
    struct JobContext: Sendable {
        let queue: JobQueue
        let id: String
        /// Reports the progress, 0 to 1 (recorded, not waited for).
        func callAsFunction(_ fraction: Double) async { await queue.progress(id, fraction) }
        /// Records durably that the work starts on `unit` (a twin), before it writes anything for it: a restart finds
        /// the unit that was in progress.
        func starting(_ unit: String) async { await queue.starting(id, unit) }
        /// Records durably the outcome of the unit in progress and the progress after it.
        func finished(_ outcome: Outcome, progress: Double) async { await queue.finished(id, outcome, progress: progress) }
        /// Records durably the comparison a comparison job recorded in the twin's thread.
        func compared(_ comparison: Components.Schemas.Comparison) async { await queue.record(id, \.comparison, comparison) }
        /// Records durably the report of an outbreak job.
        func reported(_ outbreak: Components.Schemas.OutbreakReport) async { await queue.record(id, \.outbreak, outbreak) }
        /// Records durably the trajectories of a simulation job.
        func simulated(_ simulation: Components.Schemas.SimulationResult) async { await queue.record(id, \.simulation, simulation) }
        /// Records durably the report of a match job.
        func matched(_ report: Components.Schemas.MatchReport) async { await queue.record(id, \.match, report) }
        /// Records durably the result of a calibration job.
        func calibrated(_ result: Components.Schemas.CalibrationResult) async { await queue.record(id, \.calibration, result) }
    }

    enum State: String, Sendable, Codable {
        case queued, running, succeeded, failed, cancelled
        /// Whether the job has ended (it will not change again).
        var ended: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    /// What a job needs to run again after a restart: the request's purpose and its parsed settings.
    struct Spec: Sendable, Codable, Hashable {
        var purpose: String
        /// A sync's settings.
        var sync: TwinAPI.SyncSettings?
        /// An aggregate sync's members as they were when it was submitted, in the order it synchronises them.
        var members: [String]?
        /// A comparison's settings.
        var comparison: TwinAPI.ComparisonSettings?
        /// An outbreak's settings.
        var outbreak: TwinAPI.OutbreakSettings?
        /// A simulation's settings.
        var simulation: TwinAPI.SimulationSettings?
        /// A matching's settings (with its criteria document).
        var match: TwinAPI.MatchSettings?
        /// A calibration's settings (with its problem's files).
        var calibration: TwinAPI.CalibrationSettings?
    }

    struct Job: Sendable, Codable {
        var id: String
        var kind: Components.Schemas.Job.KindPayload
        var target: String
        /// The token subject who started it: only they (or an admin) may read it.
        var owner: String
        /// The order of submission (the newest has the highest): lists are newest first.
        var ordinal: Int
        var spec: Spec?
        var state: State = .queued
        /// Whether a client asked to cancel it.
        var cancelRequested = false
        var progress = 0.0
        var submitted: Instant
        var started: Instant?
        var finished: Instant?
        /// The unit (twin) the work has started and not finished.
        var inProgress: String?
        var result: [Outcome]?
        /// A comparison job's result: the comparison it recorded.
        var comparison: Components.Schemas.Comparison?
        /// An outbreak job's result: the command's JSON report.
        var outbreak: Components.Schemas.OutbreakReport?
        /// A simulation job's result: the trajectories.
        var simulation: Components.Schemas.SimulationResult?
        /// A match job's result: the report `POST /api/v1/match` answers.
        var match: Components.Schemas.MatchReport?
        /// A calibration job's result: what `twinbank calibrate --json` prints.
        var calibration: Components.Schemas.CalibrationResult?
        var error: StoredError?
    }

    /// A job's error as recorded: the code, the message and the field of the ``ServerError``.
    struct StoredError: Sendable, Codable, Hashable {
        var code: String
        var message: String
        var field: String?
        init(_ e: ServerError) { code = e.code.rawValue; message = e.message; field = e.field }
    }

    /// The error of a job (or of the unit of an aggregate's job) that was running when the server stopped.
    static let interrupted = ServerError(.interrupted, "the server stopped while it ran; what it wrote is in the thread; submit again")

    let concurrency: Int
    let capacity: Int
    let retained: Int
    let clock: any Clock
    let journal: JobJournal
    private var jobs: [String: Job] = [:]
    private var waiting: [(id: String, work: Work)] = []
    private var running = 0
    private var finishedOrder: [String] = []
    /// The tasks of the running jobs, to cancel them.
    private var tasks: [String: Task<Void, Never>] = [:]
    private var submissions = 0

    // the journal's writer: the jobs changed (saved) or dropped (deleted) since the last write, written in order by
    // one task at a time, the newest state of each job at the time of the write
    private var dirty: Set<String> = []
    private var dropped: Set<String> = []
    private var generation = 0
    private var written = 0
    private var writing = false
    private var flushWaiters: [(generation: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private let logger = Logger(label: "twinbank.jobs")

    init(concurrency: Int = 2, capacity: Int = 64, retained: Int = 1000, clock: any Clock, journal: JobJournal = .memory()) {
        self.concurrency = max(1, concurrency); self.capacity = max(1, capacity); self.retained = max(1, retained); self.clock = clock
        self.journal = journal
    }

    /// Queues `work`; returns the job as queued (or already started) once its record is durable.
    /// - Throws: ``ServerError`` `busy` when ``capacity`` jobs wait or run.
    func submit(kind: Components.Schemas.Job.KindPayload, target: String, owner: String, spec: Spec? = nil, work: @escaping Work) async throws -> Job {
        guard waiting.count + running < capacity else {
            throw ServerError(.busy, "the server is running or holding \(capacity) jobs, its most: try again when some have finished")
        }
        submissions += 1
        let job = Job(id: UUID().uuidString.lowercased(), kind: kind, target: target, owner: owner, ordinal: submissions, spec: spec, submitted: clock.now())
        jobs[job.id] = job
        touch(job.id)
        waiting.append((job.id, work))
        startWaiting()
        let answer = jobs[job.id] ?? job
        await flush()
        return answer
    }

    /// The job, if it exists and `subject` may read it (its owner, or anyone when `admin`).
    func job(_ id: String, subject: String, admin: Bool) -> Job? {
        guard let job = jobs[id], admin || job.owner == subject else { return nil }
        return job
    }

    /// The jobs `subject` may read (theirs, or every job when `admin`), newest first.
    func jobs(subject: String, admin: Bool) -> [Job] {
        jobs.values.filter { admin || $0.owner == subject }.sorted { $0.ordinal > $1.ordinal }
    }

    /// Cancels the job: a queued one ends ``State/cancelled`` now and is never run; a running one is marked
    /// ``Job/cancelRequested`` and its task cancelled, and it ends ``State/cancelled`` when its work returns (after
    /// its current unit). Returns the job as it is now, or nil when there is no such job `subject` may read.
    /// - Throws: ``ServerError`` `jobFinished` (409) when the job has already ended; nothing changes.
    func cancel(_ id: String, subject: String, admin: Bool) async throws -> Job? {
        guard var job = self.job(id, subject: subject, admin: admin) else { return nil }
        guard !job.state.ended else {
            throw ServerError(.jobFinished, "job '\(id)' has already ended (\(job.state.rawValue)): there is nothing to cancel", field: "jobId", value: id)
        }
        job.cancelRequested = true
        if job.state == .queued {
            waiting.removeAll { $0.id == id }
            job.state = .cancelled
            job.finished = clock.now()
            jobs[id] = job
            retire(id)
        } else {
            jobs[id] = job
            tasks[id]?.cancel()
        }
        touch(id)
        let answer = jobs[id]
        await flush()
        return answer
    }

    /// Reloads the jobs recorded in the journal, once, before the server takes requests (a restarted server): ended
    /// jobs are kept as they were (the newest ``retained``); queued ones are queued again (they never ran); a job that
    /// was running when the server stopped does not silently redo its writes: its unit in progress gets the outcome
    /// error ``interrupted``, and when `resume` gives work for the units it had not started (an aggregate's members)
    /// it is queued again with that work, else it ends `failed` with the error ``interrupted`` (a single twin's sync),
    /// or `cancelled` when a client had asked to cancel it. A queued job `resume` gives no work for ends `failed`
    /// (``interrupted``) too. Records the journal cannot decode are left in it and logged.
    /// - Parameter resume: the work of a job from its record (its kind, target, owner and ``Spec``), given what it
    ///   has already done (``Job/result``); nil when the job cannot be run again.
    /// - Throws: the storage's error when the records cannot be read.
    func restore(resume: @Sendable (Job) -> Work?) async throws {
        let records = try await journal.records()
        let decoder = JSONDecoder()
        var ended: [Job] = []
        for record in records {
            guard var job = try? decoder.decode(Job.self, from: Data(record.bytes)), job.id == record.id else {
                logger.error("a job record that cannot be read was left in the bank", metadata: ["job": "\(record.id)"])
                continue
            }
            guard jobs[job.id] == nil else { continue }
            submissions = max(submissions, job.ordinal)
            switch job.state {
            case .succeeded, .failed, .cancelled:
                jobs[job.id] = job
                ended.append(job)
                continue
            case .queued:
                break
            case .running:
                if let unit = job.inProgress {
                    let e = Self.interrupted
                    job.result = (job.result ?? []) + [Outcome(twin: unit, error: .init(code: e.code.rawValue, message: e.message, field: e.field))]
                    job.inProgress = nil
                }
                if job.cancelRequested {
                    job.state = .cancelled
                    job.finished = clock.now()
                    if job.kind != .aggregateSync { job.error = StoredError(Self.interrupted) }
                    jobs[job.id] = job
                    touch(job.id)
                    ended.append(job)
                    continue
                }
                // only an aggregate's sync runs in units that can be resumed
                job.state = job.kind == .aggregateSync ? .queued : .failed
            }
            if job.state == .queued, let work = resume(job) {
                jobs[job.id] = job
                waiting.append((job.id, work))
            } else {
                job.state = .failed
                job.error = StoredError(Self.interrupted)
                job.finished = clock.now()
                jobs[job.id] = job
                ended.append(job)
            }
            touch(job.id)
        }
        waiting.sort { (jobs[$0.id]?.ordinal ?? 0) < (jobs[$1.id]?.ordinal ?? 0) }
        for job in ended.sorted(by: { ($0.finished ?? $0.submitted, $0.ordinal) < ($1.finished ?? $1.submitted, $1.ordinal) }) {
            retire(job.id)
        }
        await flush()
        startWaiting()
    }

    private func startWaiting() {
        while running < concurrency, !waiting.isEmpty {
            let (id, work) = waiting.removeFirst()
            running += 1
            jobs[id]?.state = .running
            if jobs[id]?.started == nil { jobs[id]?.started = clock.now() }
            touch(id)
            let context = JobContext(queue: self, id: id)
            tasks[id] = Task.detached { [self] in
                let outcome: Result<[Outcome], any Error>
                do { outcome = .success(try await work(context)) } catch { outcome = .failure(error) }
                await self.finish(id, outcome)
            }
        }
    }

    fileprivate func progress(_ id: String, _ fraction: Double) {
        guard var job = jobs[id], job.state == .running, fraction.isFinite else { return }
        job.progress = min(1, max(job.progress, fraction))
        jobs[id] = job
        touch(id)
    }

    fileprivate func starting(_ id: String, _ unit: String) async {
        guard jobs[id]?.state == .running else { return }
        jobs[id]?.inProgress = unit
        touch(id)
        await flush()
    }

    fileprivate func finished(_ id: String, _ outcome: Outcome, progress fraction: Double) async {
        guard var job = jobs[id], job.state == .running else { return }
        job.inProgress = nil
        job.result = (job.result ?? []) + [outcome]
        jobs[id] = job
        progress(id, fraction)
        touch(id)
        await flush()
    }

    /// Stores a job's result `field` (its comparison, report, trajectories...) if the job is still running (one that has
    /// ended, or was never known, keeps what it has), then writes the record durably before returning.
    fileprivate func record<Value: Sendable>(_ id: String, _ field: WritableKeyPath<Job, Value?> & Sendable, _ value: Value) async {
        guard jobs[id]?.state == .running else { return }
        jobs[id]?[keyPath: field] = value
        touch(id)
        await flush()
    }

    private func finish(_ id: String, _ outcome: Result<[Outcome], any Error>) async {
        running -= 1
        tasks[id] = nil
        let reported = jobs[id]?.result
        let kind = jobs[id]?.kind
        jobs[id]?.inProgress = nil
        if jobs[id]?.cancelRequested == true {
            // cancelled while running: the outcomes of the units it finished (their writes stay); an error other than
            // the cancellation itself is kept too
            jobs[id]?.state = .cancelled
            switch outcome {
            case .success(let r): jobs[id]?.result = Self.result(kind, reported, r)
            case .failure(let e): if !(e is CancellationError) { jobs[id]?.error = StoredError(ErrorMapping.serverError(e)) }
            }
        } else {
            switch outcome {
            case .success(let r): jobs[id]?.state = .succeeded; jobs[id]?.result = Self.result(kind, reported, r); jobs[id]?.progress = 1
            case .failure(let e): jobs[id]?.state = .failed; jobs[id]?.error = StoredError(ErrorMapping.serverError(e))
            }
        }
        jobs[id]?.finished = clock.now()
        touch(id)
        retire(id)
        startWaiting()
        await flush()
    }

    /// A job's `result`: the outcomes reported, then those returned; none for a job whose result is not a list of
    /// sync outcomes (a comparison, an outbreak) and that has none.
    private static func result(_ kind: Components.Schemas.Job.KindPayload?, _ reported: [Outcome]?, _ returned: [Outcome]) -> [Outcome]? {
        let all = (reported ?? []) + returned
        return kind != .twinSync && kind != .aggregateSync && all.isEmpty ? nil : all
    }

    /// Keeps only the newest ``retained`` ended jobs (and their records).
    private func retire(_ id: String) {
        finishedOrder.append(id)
        while finishedOrder.count > retained {
            let old = finishedOrder.removeFirst()
            jobs[old] = nil
            dirty.remove(old)
            dropped.insert(old)
            generation += 1
        }
        startWriter()
    }

    // MARK: The journal

    /// Marks the job's record as changed: the writer saves its state as it is when it writes.
    private func touch(_ id: String) {
        dirty.insert(id)
        generation += 1
        startWriter()
    }

    /// Waits until every change made so far is written (or its write has failed, which is logged).
    func flush() async {
        let target = generation
        guard written < target else { return }
        await withCheckedContinuation { c in flushWaiters.append((target, c)) }
    }

    private func startWriter() {
        guard !writing, !dirty.isEmpty || !dropped.isEmpty else { return }
        writing = true
        Task { await self.drain() }
    }

    private func drain() async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        while !dirty.isEmpty || !dropped.isEmpty {
            let target = generation
            var saves: [JobRecord] = []
            for id in dirty.sorted() {
                guard let job = jobs[id] else { continue }
                do {
                    saves.append(JobRecord(id: id, ordinal: Int64(job.ordinal), bytes: Array(try encoder.encode(job))))
                } catch {
                    logger.error("a job's record could not be encoded: \(error)", metadata: ["job": "\(id)"])
                }
            }
            let deletes = dropped.sorted()
            dirty = []; dropped = []
            do {
                try await journal.write(saves: saves, deletes: deletes)
            } catch {
                // the jobs go on in memory; the next change writes their records again
                logger.error("the job records could not be written to the bank: \(error)", metadata: ["jobs": "\(saves.count + deletes.count)"])
                for r in saves where jobs[r.id] != nil { dirty.insert(r.id) }
                dropped.formUnion(deletes)
                written = generation  // every change so far was tried: nobody waits on a write that will not come
                resumeWaiters()
                break
            }
            written = max(written, target)
            resumeWaiters()
        }
        writing = false
    }

    private func resumeWaiters() {
        let ready = flushWaiters.filter { $0.generation <= written }
        flushWaiters.removeAll { $0.generation <= written }
        for w in ready { w.continuation.resume() }
    }
}

/// Where a ``JobQueue`` keeps its jobs' records: a ``TwinBank/JobRecordStore`` reached through the bank storage's
/// `runBlocking` (off the event loops and the cooperative pool).
struct JobJournal: Sendable {
    let store: any JobRecordStore
    let storage: any BankStorage

    /// A journal in memory (a memory bank's, the tests').
    static func memory() -> JobJournal { JobJournal(store: MemoryJobRecordStore(), storage: MemoryStorage()) }

    func records() async throws -> [JobRecord] {
        let store = self.store
        return try await storage.runBlocking { try store.records() }
    }

    func write(saves: [JobRecord], deletes: [String]) async throws {
        let store = self.store
        try await storage.runBlocking {
            try store.delete(deletes)
            try store.save(saves)
        }
    }
}
