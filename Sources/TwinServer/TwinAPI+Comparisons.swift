import Foundation
import TwinBank
import TwinCore
import TwinRun
import TwinServerAPI

/// In-silico comparisons as jobs (`twinbank compare`): the request is checked and the gate asked (`simulate` of the
/// twin, as the command's engine asks) before the job is queued; the job runs ``TwinRun/InSilicoComparison`` or
/// ``TwinRun/DoseComparison`` acting as the token's subject, which forks the twin per option and records the
/// comparison in its thread; the job's `comparison` is then that record as `comparisons/latest` serves it.
extension TwinAPI {
    /// A comparison's settings, parsed before the job is queued (and kept in the job's record).
    struct ComparisonSettings: Sendable, Codable, Hashable {
        var model: String = "glucose"
        var options: [String] = []
        var hours: Double = 24
        var start: Instant?
        var knownAt: Instant?
        var ensemble = 20
        var seed: UInt64 = 1
    }

    static func comparisonSettings(_ body: S.ComparisonRequest, now: Instant) throws -> ComparisonSettings {
        var s = ComparisonSettings()
        s.model = body.model?.rawValue ?? "glucose"
        let horizonLimit = s.model == "pk" ? DoseComparison.Model.horizonLimit : InSilicoComparison.Model.horizonLimit
        let ensembleLimit = s.model == "pk" ? DoseComparison.Model.ensembleLimit : InSilicoComparison.Model.ensembleLimit
        guard !body.options.isEmpty, body.options.count <= 20 else {
            throw ServerError(.badRequest, "options: give 1 to 20 options NAME=SPEC, not \(body.options.count)", field: "options", value: String(body.options.count))
        }
        var names: Set<String> = []
        for (i, text) in body.options.enumerated() {
            let name: String
            do {
                name = s.model == "pk" ? try DoseComparison.Option(parsing: text).name : try InSilicoComparison.Option(parsing: text).name
            } catch {
                throw ServerError(.badRequest, "options[\(i)]: \(ErrorMapping.serverError(error).message)", field: "options[\(i)]", value: String(text.prefix(200)))
            }
            guard names.insert(name).inserted else {
                throw ServerError(.badRequest, "options[\(i)]: the name '\(name)' is given twice: the options' names must differ", field: "options[\(i)]", value: name)
            }
        }
        s.options = body.options
        if let h = body.horizon {
            guard h.isFinite, h > 0, h <= horizonLimit else {
                throw ServerError(.badRequest, String(format: "horizon is in hours, above 0 and at most %g for the %@ model", horizonLimit, s.model), field: "horizon", value: "\(h)")
            }
            s.hours = h
        }
        s.start = try instant(body.start, "start", now, .instant)
        s.knownAt = try instant(body.knownAt, "knownAt", now, .instant)
        if let e = body.ensemble {
            guard e >= 1, e <= ensembleLimit else {
                throw ServerError(.badRequest, "ensemble is the number of plausible patients, 1 to \(ensembleLimit) for the \(s.model) model, not \(e)", field: "ensemble", value: String(e))
            }
            s.ensemble = e
        }
        if let seed = body.seed {
            guard seed >= 0 else { throw ServerError(.badRequest, "seed must not be negative", field: "seed", value: String(seed)) }
            s.seed = UInt64(seed)
        }
        return s
    }

    func startComparison(_ input: Operations.StartComparison.Input) async throws -> Operations.StartComparison.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.twinID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let settings = try Self.comparisonSettings(body, now: served.base.clock.now())
        // the gate (and the token's role) decide now, so a refusal is a 403 rather than a failed job
        _ = try await served.run(call) { bank in try bank.authorize(.simulate, id); return try bank.twin(id) }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, comparison: settings)
        let job = try await served.jobs.submit(kind: .comparison, target: id.rawValue, owner: call.identity.subject, spec: spec,
                                               work: Self.comparisonWork(id, bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// A comparison as a job's work: the command's (`twinbank compare`), then the comparison it recorded, as
    /// `comparisons/latest` serves it, reported to the queue.
    static func comparisonWork(_ id: TwinID, bank: Bank, settings s: ComparisonSettings) -> JobQueue.Work {
        { context in
            try Task.checkCancellation()  // cancelled while queued behind others
            let from: Instant
            if let start = s.start { from = start } else {
                guard let last = try await bank.run({ try $0.events(ThreadQuery(twin: id, knownAt: s.knownAt)) }).last else {
                    throw ServerError(.badRequest, "twin '\(id)' has no events: give start", field: "start")
                }
                from = Instant(microseconds: last.effective.start.microseconds / 3_600_000_000 * 3_600_000_000)
            }
            let recorded: ContentHash
            if s.model == "pk" {
                let options = try s.options.map { try DoseComparison.Option(parsing: $0) }
                recorded = try await DoseComparison.compare(id, in: bank, options: options, start: from, hours: s.hours, ensemble: s.ensemble,
                                                            seed: s.seed, knownAt: s.knownAt).recordedEvent
            } else {
                let options = try s.options.map { try InSilicoComparison.Option(parsing: $0) }
                recorded = try await InSilicoComparison.compare(id, in: bank, options: options, start: from, hours: s.hours, ensemble: s.ensemble,
                                                                seed: s.seed, knownAt: s.knownAt).recordedEvent
            }
            let found = try await bank.run { bank in
                try bank.events(ThreadQuery(twin: id, code: ComparisonEngine.comparisonCode.key, category: .recommendation))
                    .first { $0.id == recorded }.flatMap(RecordedComparison.init)
            }
            guard let c = found else {
                throw ServerError(.internalError, "the comparison's record \(recorded.hex) is not in twin '\(id)''s thread")
            }
            await context.compared(comparison(c, twin: id))
            await context(1)
            return []
        }
    }

    /// A recorded comparison as the API serves it.
    static func comparison(_ c: RecordedComparison, twin id: TwinID) -> S.Comparison {
        let e = c.event
        return .init(twin: id.rawValue, event: e.id.hex, effective: e.effective.start.iso8601, recorded: e.recorded.iso8601, source: e.source.description,
                     notes: e.provenance.notes,
                     options: c.options.map { .init(rank: $0.rank, name: $0.name, fork: $0.fork?.rawValue, figures: $0.figures) })
    }
}
