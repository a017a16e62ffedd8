import Foundation
import TwinCore
import TwinServerAPI

/// The server's long jobs (a sync of a twin, a sync over a cohort): queued, run at most ``concurrency`` at a time off
/// the event loops (each job's bank calls go through `Bank.run`), their state and progress kept **in this process's
/// memory only** (a restart forgets them; their effects are in the bank). At most ``capacity`` jobs wait or run at
/// once (beyond, a submission is refused: ``ServerError/Code/busy``); of the finished ones the newest ``retained``
/// are kept for clients to read. A job can be cancelled (``cancel(_:subject:admin:)``): a queued one is never run; a
/// running one's task is cancelled, and the work checks cancellation between its units (a twin's sync), so it stops
/// after the unit it is in and ends ``State/cancelled`` with the outcomes of the units it finished (what they wrote
/// stays in the bank).
actor JobQueue {
    typealias Outcome = Components.Schemas.SyncOutcome
    /// A job's work: it reports its progress (0 to 1) and returns one outcome per twin.
    typealias Work = @Sendable (_ progress: @escaping @Sendable (Double) async -> Void) async throws -> [Outcome]

    enum State: String, Sendable {
        case queued, running, succeeded, failed, cancelled
        /// Whether the job has ended (it will not change again).
        var ended: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    struct Job: Sendable {
        var id: String
        var kind: Components.Schemas.Job.KindPayload
        var target: String
        /// The token subject who started it: only they (or an admin) may read it.
        var owner: String
        /// The order of submission (the newest has the highest): lists are newest first.
        var ordinal: Int
        var state: State = .queued
        /// Whether a client asked to cancel it.
        var cancelRequested = false
        var progress = 0.0
        var submitted: Instant
        var started: Instant?
        var finished: Instant?
        var result: [Outcome]?
        var error: ServerError?
    }

    let concurrency: Int
    let capacity: Int
    let retained: Int
    let clock: any Clock
    private var jobs: [String: Job] = [:]
    private var waiting: [(id: String, work: Work)] = []
    private var running = 0
    private var finishedOrder: [String] = []
    /// The tasks of the running jobs, to cancel them.
    private var tasks: [String: Task<Void, Never>] = [:]
    private var submissions = 0

    init(concurrency: Int = 2, capacity: Int = 64, retained: Int = 1000, clock: any Clock) {
        self.concurrency = max(1, concurrency); self.capacity = max(1, capacity); self.retained = max(1, retained); self.clock = clock
    }

    /// Queues `work`; returns the job as queued (or already started).
    /// - Throws: ``ServerError`` `busy` when ``capacity`` jobs wait or run.
    func submit(kind: Components.Schemas.Job.KindPayload, target: String, owner: String, work: @escaping Work) throws -> Job {
        guard waiting.count + running < capacity else {
            throw ServerError(.busy, "the server is running or holding \(capacity) jobs, its most: try again when some have finished")
        }
        submissions += 1
        let job = Job(id: UUID().uuidString.lowercased(), kind: kind, target: target, owner: owner, ordinal: submissions, submitted: clock.now())
        jobs[job.id] = job
        waiting.append((job.id, work))
        startWaiting()
        return jobs[job.id] ?? job
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
    func cancel(_ id: String, subject: String, admin: Bool) throws -> Job? {
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
        return jobs[id]
    }

    private func startWaiting() {
        while running < concurrency, !waiting.isEmpty {
            let (id, work) = waiting.removeFirst()
            running += 1
            jobs[id]?.state = .running
            jobs[id]?.started = clock.now()
            tasks[id] = Task.detached { [self] in
                let outcome: Result<[Outcome], any Error>
                do { outcome = .success(try await work { p in await self.progress(id, p) }) } catch { outcome = .failure(error) }
                await self.finish(id, outcome)
            }
        }
    }

    private func progress(_ id: String, _ fraction: Double) {
        guard var job = jobs[id], job.state == .running, fraction.isFinite else { return }
        job.progress = min(1, max(job.progress, fraction))
        jobs[id] = job
    }

    private func finish(_ id: String, _ outcome: Result<[Outcome], any Error>) {
        running -= 1
        tasks[id] = nil
        if jobs[id]?.cancelRequested == true {
            // cancelled while running: the outcomes of the units it finished (their writes stay); an error other than
            // the cancellation itself is kept too
            jobs[id]?.state = .cancelled
            switch outcome {
            case .success(let r): jobs[id]?.result = r
            case .failure(let e): if !(e is CancellationError) { jobs[id]?.error = ErrorMapping.serverError(e) }
            }
        } else {
            switch outcome {
            case .success(let r): jobs[id]?.state = .succeeded; jobs[id]?.result = r; jobs[id]?.progress = 1
            case .failure(let e): jobs[id]?.state = .failed; jobs[id]?.error = ErrorMapping.serverError(e)
            }
        }
        jobs[id]?.finished = clock.now()
        retire(id)
        startWaiting()
    }

    /// Keeps only the newest ``retained`` ended jobs.
    private func retire(_ id: String) {
        finishedOrder.append(id)
        while finishedOrder.count > retained { jobs[finishedOrder.removeFirst()] = nil }
    }
}
