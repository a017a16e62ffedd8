import Foundation
import TwinBank
import TwinCore
import TwinFHIR
import TwinServerAPI

/// Clinical-trial matching (`twinbank match --json`): a criteria document over the bank's people or an aggregate's
/// members, as of a time; the bank asks `match` bank-wide, then per twin, as for the command. `POST /api/v1/match`
/// answers at once; `POST /api/v1/match/jobs` runs the same matching as a job (a large bank), 200 twins at a time.
/// With `saveAggregate` either saves the matched twins as an aggregate, as `match --save-aggregate` does (the gate's
/// `write`, as ``TwinBank/Bank/createAggregate(_:members:description:replace:)`` asks).
extension TwinAPI {
    /// A matching's settings, parsed before it runs (and kept in a job's record).
    struct MatchSettings: Sendable, Codable, Hashable {
        /// The criteria document as given (JSON).
        var criteria: String
        var asOf: Instant
        var aggregate: String?
        var saveAggregate: String?
        var includePossible = false
        var replace = false
    }

    /// How many twins a match job judges between two progress reports (and cancellation checks).
    static let matchChunk = 200

    static func matchSettings(_ document: S.MatchCriteria, aggregate: String?, asOf: String?, saveAggregate: String?,
                              includePossible: Bool?, replace: Bool?, now: Instant) throws -> MatchSettings {
        let data = try JSONEncoder().encode(document)
        var criteria = try Self.criteria(data)
        if let asOf = try Self.instant(asOf, "asOf", now, .instant) { criteria.asOf = asOf }
        if let aggregate { _ = try aggregateID(aggregate, field: "aggregate") }
        if let saveAggregate { _ = try aggregateID(saveAggregate, field: "saveAggregate") }
        if saveAggregate == nil, includePossible != nil || replace != nil {
            throw ServerError(.badRequest, "includePossible and replace apply to the aggregate saveAggregate saves: give saveAggregate",
                              field: includePossible != nil ? "includePossible" : "replace")
        }
        return MatchSettings(criteria: String(decoding: data, as: UTF8.self), asOf: criteria.asOf ?? now, aggregate: aggregate,
                             saveAggregate: saveAggregate, includePossible: includePossible ?? false, replace: replace ?? false)
    }

    static func criteria(_ data: Data) throws -> Criteria {
        do {
            return try Criteria(json: try JSONReader().read([UInt8](data)))
        } catch let e as FHIRError {
            throw ServerError(.badRequest, "the criteria: \(e.message)", field: "body", value: e.value)
        }
    }

    static func aggregateID(_ text: String, field: String) throws -> AggregateID {
        do { return try AggregateID(text) } catch let e as TwinError { throw ServerError(.badRequest, e.message, field: field, value: e.value) }
    }

    func matchCriteria(_ input: Operations.MatchCriteria.Input) async throws -> Operations.MatchCriteria.Output {
        let q = input.query
        // saving an aggregate writes: a write scope
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: q.saveAggregate != nil)
        guard case .json(let document) = input.body else { throw ServerError(.badRequest, "the body must be a JSON criteria document", field: "body") }
        let settings = try Self.matchSettings(document, aggregate: q.aggregate, asOf: q.asOf, saveAggregate: q.saveAggregate,
                                              includePossible: q.includePossible, replace: q.replace, now: served.base.clock.now())
        let report = try await Self.matchErrors {
            try await served.run(call) { bank in
                try Self.checkSaveAggregate(settings, bank: bank)
                let criteria = try Self.criteria(Data(settings.criteria.utf8))
                let twins = try settings.aggregate.map { try bank.members(of: try AggregateID($0)).members.sorted() }
                let matcher = Matcher(criteria: Self.judged(criteria, settings))
                let results = try matcher.evaluate(bank: bank, twins: twins)
                let saved = try Self.save(results, criteria: criteria, settings: settings, bank: bank)
                return Self.matchReport(results, matcher: matcher, settings: settings, saved: saved)
            }
        }
        return settings.saveAggregate == nil ? .ok(.init(body: .json(report))) : .created(.init(body: .json(report)))
    }

    func startMatch(_ input: Operations.StartMatch.Input) async throws -> Operations.StartMatch.Output {
        let q = input.query
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: q.saveAggregate != nil)
        guard case .json(let document) = input.body else { throw ServerError(.badRequest, "the body must be a JSON criteria document", field: "body") }
        let settings = try Self.matchSettings(document, aggregate: q.aggregate, asOf: q.asOf, saveAggregate: q.saveAggregate,
                                              includePossible: q.includePossible, replace: q.replace, now: served.base.clock.now())
        // the gate (and the token's role), the aggregate and the saved aggregate's id decide now: a 403, 404 or 409
        // rather than a failed job
        try await Self.matchErrors {
            try await served.run(call) { bank in
                try bank.authorize(.match, nil)
                if settings.saveAggregate != nil { try bank.authorize(.write, nil) }
                if let a = settings.aggregate { _ = try bank.members(of: try AggregateID(a)) }
                try Self.checkSaveAggregate(settings, bank: bank)
            }
        }
        let bank = served.acting(call)
        let spec = JobQueue.Spec(purpose: call.purpose, match: settings)
        let job = try await served.jobs.submit(kind: .match, target: settings.aggregate ?? "bank", owner: call.identity.subject, spec: spec,
                                               work: Self.matchWork(bank: bank, settings: settings))
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(job.id)"), body: .json(Self.job(job))))
    }

    /// Matching as a job's work: the twins (the aggregate's members, else the bank's), judged ``matchChunk`` at a
    /// time (progress: twins judged; cancelled, it stops between chunks and saves nothing), then the aggregate saved.
    static func matchWork(bank: Bank, settings s: MatchSettings) -> JobQueue.Work {
        { context in
            try Task.checkCancellation()  // cancelled while queued behind others
            let criteria = try Self.criteria(Data(s.criteria.utf8))
            let matcher = Matcher(criteria: Self.judged(criteria, s))
            let report = try await Self.matchErrors {
                let ids = try await bank.run { bank in
                    try bank.authorize(.match, nil)
                    return try s.aggregate.map { try bank.members(of: try AggregateID($0)).members.sorted() } ?? bank.twinIDs()
                }
                var results: [Matcher.TwinResult] = []
                var done = 0
                while done < ids.count {
                    try Task.checkCancellation()
                    let chunk = Array(ids[done..<min(ids.count, done + matchChunk)])
                    results += try await bank.run { try matcher.evaluate(bank: $0, twins: chunk) }
                    done += chunk.count
                    await context(Double(done) / Double(ids.count) * 0.99)
                }
                try Task.checkCancellation()
                let judged = results
                let saved = try await bank.run { bank in
                    try Self.checkSaveAggregate(s, bank: bank)
                    return try Self.save(judged, criteria: criteria, settings: s, bank: bank)
                }
                return Self.matchReport(judged, matcher: matcher, settings: s, saved: saved)
            }
            await context.matched(report)
            await context(1)
            return []
        }
    }

    /// The criteria judged as of the settings' time.
    static func judged(_ criteria: Criteria, _ s: MatchSettings) -> Criteria {
        var c = criteria
        c.asOf = s.asOf
        return c
    }

    /// Refuses a `saveAggregate` id that is taken (unless `replace`), before any matching, as the command does.
    static func checkSaveAggregate(_ s: MatchSettings, bank: Bank) throws {
        guard let text = s.saveAggregate, !s.replace else { return }
        let id = try AggregateID(text)
        if try bank.aggregateIDs().contains(id) {
            throw takenAggregate(text)
        }
    }

    static func takenAggregate(_ id: String) -> ServerError {
        ServerError(ServerError.Code("duplicateAggregate", .conflict),
                    "saveAggregate: an aggregate '\(id)' exists; choose another id or add replace=true to redefine it", field: "saveAggregate", value: id)
    }

    /// Saves the eligible twins (and the possibly eligible with `includePossible`) as `match --save-aggregate` does.
    static func save(_ results: [Matcher.TwinResult], criteria c: Criteria, settings s: MatchSettings, bank: Bank) throws -> S.SavedMatchAggregate? {
        guard let text = s.saveAggregate else { return nil }
        let id = try AggregateID(text)
        let existed = s.replace ? try bank.aggregateIDs().contains(id) : false
        let members = results.filter { $0.eligible == true || (s.includePossible && $0.eligible == nil) }.map(\.twin)
        let def = try bank.createAggregate(id, members: members,
                                           description: "candidates for trial \(c.id)\(c.title.map { " (\($0))" } ?? "") as of \(s.asOf)",
                                           replace: s.replace)
        return .init(id: def.id.rawValue, members: def.members?.count ?? members.count, replaced: s.replace ? existed : nil)
    }

    /// The errors matching may end with, as answers: an unknown aggregate (404 naming `aggregate`), an id taken (409
    /// naming `saveAggregate`), the matcher's refusal by the gate (403).
    static func matchErrors<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "aggregate", value: e.value)
        } catch let e as BankError where e.code == .duplicateAggregate {
            throw takenAggregate(e.value ?? "")
        } catch let e as FHIRError where e.code == .accessDenied {
            throw ServerError(.accessDenied, e.message, value: e.value)
        }
    }

    static func matchReport(_ results: [Matcher.TwinResult], matcher: Matcher, settings s: MatchSettings, saved: S.SavedMatchAggregate?) -> S.MatchReport {
        let twins: [S.MatchedTwin] = results.map { r in
            let verdict: S.MatchedTwin.VerdictPayload = r.eligible.map { $0 ? .eligible : .notEligible } ?? .possiblyEligible
            return .init(twin: r.twin.rawValue, verdict: verdict, criteria: r.results.map { c in
                let outcome: S.MatchedCriterion.OutcomePayload = switch c.outcome {
                case .met: .met
                case .notMet: .notMet
                case .unknown: .unknown
                }
                return .init(id: c.criterion.id, description: c.criterion.description, outcome: outcome, reason: c.reason,
                             evidence: c.evidence.map { e in
                                 .init(event: e.id.hex, time: e.effective.description, code: e.code.key.description, display: e.code.display,
                                       value: e.value?.description, source: e.source.description)
                             })
            })
        }
        return .init(trial: matcher.criteria.id, title: matcher.criteria.title, asOf: FHIRTime.text(s.asOf), criteria: matcher.descriptions,
                     eligible: results.filter { $0.eligible == true }.map(\.twin.rawValue),
                     possiblyEligible: results.filter { $0.eligible == nil }.map(\.twin.rawValue),
                     twins: twins, savedAggregate: saved)
    }
}
