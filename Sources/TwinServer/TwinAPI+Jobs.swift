import Foundation
import TwinBank
import TwinCore
import TwinGovernance
import TwinServerAPI
import TwinSync

/// Synchronisation and forecasts as jobs (the bank's `sync`, one twin or every member of an aggregate): the request is
/// checked and the gate asked before the job is queued (400, 403, 404 at once); the job then runs in the server's
/// ``JobQueue`` acting as the token's subject for the request's purpose, and a client polls `/api/v1/jobs/{id}`. The
/// job's record (with the purpose and the parsed settings) is in the bank, so a restarted server runs it again
/// (``ServedBank/resumableWork(_:)``).
extension TwinAPI {
    /// The sync settings of a request, parsed before the job is queued.
    struct SyncSettings: Sendable, Codable, Hashable {
        var from: Instant?, to: Instant?, knownAt: Instant?
        var horizon: Int?
        var seed: UInt64 = 1
        var dryRun = false
    }

    static func syncSettings(_ body: S.SyncRequest?, now: Instant) throws -> SyncSettings {
        var s = SyncSettings()
        guard let body else { return s }
        s.from = try instant(body.from, "from", now, .lower)
        s.to = try instant(body.to, "to", now, .upper)
        s.knownAt = try instant(body.knownAt, "knownAt", now, .instant)
        if let from = s.from, let to = s.to, to < from {
            throw ServerError(.badRequest, "the window ends (to) before it starts (from)", field: "to", value: body.to)
        }
        if let h = body.horizon {
            guard h > 0, h % 5 == 0, h <= 5000 else {
                throw ServerError(.badRequest, "horizon is in minutes, a positive multiple of 5 up to 5000, not \(h)", field: "horizon", value: String(h))
            }
            s.horizon = h
        }
        if let seed = body.seed {
            guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
            s.seed = UInt64(seed)
        }
        s.dryRun = body.dryRun ?? false
        return s
    }

    func startTwinSync(_ input: Operations.StartTwinSync.Input) async throws -> Operations.StartTwinSync.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.twinID(input.path.id)
        let body: S.SyncRequest? = if case .json(let b)? = input.body { b } else { nil }
        let settings = try Self.syncSettings(body, now: served.base.clock.now())
        // the gate (and the token's role) decide now, so a refusal is a 403 rather than a failed job
        _ = try await served.run(call) { bank in try bank.authorize(.sync, id); return try bank.twin(id) }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, sync: settings)
        let job = try await served.jobs.submit(kind: .twinSync, target: id.rawValue, owner: call.identity.subject, spec: spec,
                                               work: Self.twinSyncWork(id, bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    func startAggregateSync(_ input: Operations.StartAggregateSync.Input) async throws -> Operations.StartAggregateSync.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.aggregateID(input.path.id)
        let body: S.SyncRequest? = if case .json(let b)? = input.body { b } else { nil }
        let settings = try Self.syncSettings(body, now: served.base.clock.now())
        let members: [TwinID]
        do {
            members = try await served.run(call) { bank in try bank.members(of: id).members.sorted() }
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, sync: settings, members: members.map(\.rawValue))
        let job = try await served.jobs.submit(kind: .aggregateSync, target: id.rawValue, owner: call.identity.subject, spec: spec,
                                               work: Self.aggregateSyncWork(members, done: 0, total: members.count, bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// A single twin's sync as a job's work.
    static func twinSyncWork(_ id: TwinID, bank: Bank, settings: SyncSettings) -> JobQueue.Work {
        { progress in
            try Task.checkCancellation()  // cancelled while queued behind others
            let outcome = try await Self.synchronise(id, bank: bank, settings: settings)
            await progress(1)
            return [outcome]
        }
    }

    /// An aggregate's sync as a job's work: `members` in turn, each recorded as started before it runs and with its
    /// outcome when it ends (a restart finds the member in progress); `done` of the job's `total` members were
    /// synchronised before (a job resumed after a restart).
    static func aggregateSyncWork(_ members: [TwinID], done: Int, total: Int, bank: Bank, settings: SyncSettings) -> JobQueue.Work {
        { context in
            for (i, twin) in members.enumerated() {
                // cancelled: stop between members; those done (and what they wrote) stay
                if Task.isCancelled { break }
                await context.starting(twin.rawValue)
                // one member's refusal or failure is its outcome; the others go on
                let outcome: S.SyncOutcome
                do {
                    outcome = try await Self.synchronise(twin, bank: bank, settings: settings)
                } catch {
                    let e = ErrorMapping.serverError(error)
                    outcome = .init(twin: twin.rawValue, error: .init(code: e.code.rawValue, message: e.message, field: e.field))
                }
                await context.finished(outcome, progress: Double(done + i + 1) / Double(max(1, total)))
            }
            return []
        }
    }

    /// The jobs the caller started, or every job for the bank's admin (a token whose admin role the bank's policy
    /// gives its subject, and whom the gate lets `administer`), newest first, paged (the cursor: the last served
    /// job's submission order).
    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let limit = try Self.pageSize(input.query.limit)
        let before = try input.query.cursor.map { c -> Int in
            guard let text = Self.decodeCursor(c), let n = Int(text), n > 0 else { throw Self.badCursor(c) }
            return n
        }
        let admin = try await isAdmin(call)
        let all = await served.jobs.jobs(subject: call.identity.subject, admin: admin)
        let rest = before.map { b in all.filter { $0.ordinal < b } } ?? all
        let page = Array(rest.prefix(limit))
        let next = rest.count > limit ? page.last.map { Self.encodeCursor(String($0.ordinal)) } : nil
        return .ok(.init(body: .json(.init(items: page.map(Self.job), nextCursor: next))))
    }

    /// Cancels a queued or running job of the caller's (or any, for the bank's admin): see ``JobQueue/cancel(_:subject:admin:)``.
    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let admin = try await isAdmin(call)
        guard let job = try await served.jobs.cancel(input.path.jobId, subject: call.identity.subject, admin: admin) else {
            throw Self.unknownJob(input.path.jobId)
        }
        return .ok(.init(body: .json(Self.job(job))))
    }

    /// Whether the call may see and cancel every job: its token claims the admin role, the bank's policy gives its
    /// subject that role (a token claiming another role is refused, 403, in the audit log), and the gate lets it
    /// `administer` the bank (decided and audited). Anyone else sees only their own jobs.
    func isAdmin(_ call: ServedBank.Call) async throws -> Bool {
        try await served.run(call) { bank in
            guard call.identity.role == .admin else { return false }
            try bank.authorize(.administer, nil)
            return true
        }
    }

    static func unknownJob(_ id: String) -> ServerError {
        ServerError(.unknownJob, "no job '\(id.prefix(100))' of yours: only a job's starter, or an admin, sees it, and only the newest 1,000 ended jobs are kept", field: "jobId", value: String(id.prefix(100)))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        guard let identity = RequestIdentity.current else {
            throw ServerError(.unauthorized, "this route needs a bearer token", field: "Authorization")
        }
        // every job only for the bank's admin as the list and cancel routes decide it (the policy gives the subject
        // the admin role and the gate lets it administer, audited); a token merely claiming admin sees its own jobs
        var admin = false
        if identity.role == .admin, let call = try? caller(purpose: nil, write: false) {
            admin = (try? await isAdmin(call)) ?? false
        }
        guard let job = await served.jobs.job(input.path.jobId, subject: identity.subject, admin: admin) else {
            throw Self.unknownJob(input.path.jobId)
        }
        return .ok(.init(body: .json(Self.job(job))))
    }

    static func job(_ j: JobQueue.Job) -> S.Job {
        let state: S.Job.StatePayload = switch j.state {
        case .queued: .queued
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
        return S.Job(id: j.id, kind: j.kind, target: j.target, state: state, cancelRequested: j.cancelRequested ? true : nil, progress: j.progress, submitted: j.submitted.iso8601,
                     started: j.started?.iso8601, finished: j.finished?.iso8601, result: j.result, comparison: j.comparison, outbreak: j.outbreak, simulation: j.simulation, match: j.match,
                     calibration: j.calibration, error: j.error.map { .init(code: $0.code, message: $0.message, field: $0.field) })
    }

    /// One twin's sync as the command makes it (`twinbank sync --twin ID`): through its only thread binding, or the
    /// glucose twin when it has none (or a glucose binding).
    static func synchronise(_ id: TwinID, bank: Bank, settings s: SyncSettings) async throws -> S.SyncOutcome {
        let definition = try await bank.run { try $0.twin(id).twin }
        var glucoseBinding: ThreadBinding?
        if !(try ThreadBinding.bindings(of: definition)).isEmpty {
            let chosen = try ThreadBinding.binding(of: definition, named: nil)
            if chosen.model.kind != .glucose {
                var options = BindingSynchroniser.Options()
                options.from = s.from; options.to = s.to; options.knownAt = s.knownAt; options.seed = s.seed
                let r = s.dryRun ? try await BindingSynchroniser.compute(id, in: bank, binding: chosen, options: options)
                                 : try await BindingSynchroniser.synchronise(id, in: bank, binding: chosen, options: options)
                return .init(twin: id.rawValue, observationsUsed: r.readingsUsed,
                             forecast: r.forecast.map { .init(time: $0.time.iso8601, mean: $0.mean, lower: $0.lower, upper: $0.upper) },
                             reliable: r.health?.reliable, written: r.written?.count ?? 0)
            }
            glucoseBinding = chosen
        }
        var options = glucoseBinding.map(GlucoseSynchroniser.Options.init(binding:)) ?? GlucoseSynchroniser.Options()
        options.from = s.from; options.to = s.to; options.knownAt = s.knownAt; options.seed = s.seed
        if let h = s.horizon { options.horizon = h }
        let r = s.dryRun ? try await GlucoseSynchroniser.compute(id, in: bank, options: options)
                         : try await GlucoseSynchroniser.synchronise(id, in: bank, options: options)
        return .init(twin: id.rawValue, observationsUsed: r.observationsUsed, glucoseNow: r.glucoseNow.isFinite ? r.glucoseNow : nil,
                     forecast: r.points.filter { $0.mean.isFinite && $0.lower.isFinite && $0.upper.isFinite }
                        .map { .init(time: $0.time.iso8601, mean: $0.mean, lower: $0.lower, upper: $0.upper) },
                     alert: r.alert ?? r.lowReadingAlert, reliable: r.health.reliable, written: r.written?.count ?? 0)
    }
}
