import Foundation
import TwinCore
import TwinServerAPI

/// The server's long jobs (a sync of a twin, a sync over a cohort): queued, run at most ``concurrency`` at a time off
/// the event loops (each job's bank calls go through `Bank.run`), their state and progress kept **in this process's
/// memory only** (a restart forgets them; their effects are in the bank). At most ``capacity`` jobs wait or run at
/// once (beyond, a submission is refused: ``ServerError/Code/busy``); of the finished ones the newest ``retained``
/// are kept for clients to read.
actor JobQueue {
    typealias Outcome = Components.Schemas.SyncOutcome
    /// A job's work: it reports its progress (0 to 1) and returns one outcome per twin.
    typealias Work = @Sendable (_ progress: @escaping @Sendable (Double) async -> Void) async throws -> [Outcome]

    enum State: String, Sendable { case queued, running, succeeded, failed }

    struct Job: Sendable {
        var id: String
        var kind: Components.Schemas.Job.KindPayload
        var target: String
        /// The token subject who started it: only they (or an admin) may read it.
        var owner: String
        var state: State = .queued
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

    init(concurrency: Int = 2, capacity: Int = 64, retained: Int = 1000, clock: any Clock) {
        self.concurrency = max(1, concurrency); self.capacity = max(1, capacity); self.retained = max(1, retained); self.clock = clock
    }

    /// Queues `work`; returns the job as queued (or already started).
    /// - Throws: ``ServerError`` `busy` when ``capacity`` jobs wait or run.
    func submit(kind: Components.Schemas.Job.KindPayload, target: String, owner: String, work: @escaping Work) throws -> Job {
        guard waiting.count + running < capacity else {
            throw ServerError(.busy, "the server is running or holding \(capacity) jobs, its most: try again when some have finished")
        }
        let job = Job(id: UUID().uuidString.lowercased(), kind: kind, target: target, owner: owner, submitted: clock.now())
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

    private func startWaiting() {
        while running < concurrency, !waiting.isEmpty {
            let (id, work) = waiting.removeFirst()
            running += 1
            jobs[id]?.state = .running
            jobs[id]?.started = clock.now()
            Task.detached { [self] in
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
        switch outcome {
        case .success(let r): jobs[id]?.state = .succeeded; jobs[id]?.result = r; jobs[id]?.progress = 1
        case .failure(let e): jobs[id]?.state = .failed; jobs[id]?.error = ErrorMapping.serverError(e)
        }
        jobs[id]?.finished = clock.now()
        finishedOrder.append(id)
        while finishedOrder.count > retained { jobs[finishedOrder.removeFirst()] = nil }
        startWaiting()
    }
}
