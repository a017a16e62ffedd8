import TwinCore

/// The members of an aggregate that the gate let a computation over the cohort use (``Bank/cohort(of:where:for:)``):
/// a computation of aggregate values (a differentially private count, a de-identified release, a representativeness
/// profile) asks with its own action (`aggregate`, `release`), never `read`, and a member whose consent or the
/// policy refuses that use is left out rather than failing the whole computation: a revocation reaches the
/// aggregates computed from then on.
///
/// Only the bank makes one, after asking: holding a `Cohort` is the proof that each member's use was decided and
/// audited. Its reads (``Bank/latestValues(code:in:)``, ``Bank/holders(of:in:)``) ask nothing more and apply the
/// filter of each member whose permit holds part of the data back.
public struct Cohort: Sendable {
    /// The aggregate.
    public let aggregate: AggregateID
    /// The action the members were asked for.
    public let action: AccessRequest.Action
    /// Who asked, and why: the cohort's reads answer only a bank acting for the same.
    public let actor: String
    public let purpose: String
    /// The permitted members' definitions, in member order.
    public let records: [TwinRecord]
    /// The members the gate refused (each refusal is in the audit log), in member order: not in ``records``.
    public let refused: [TwinID]
    /// The filters of members permitted only in part.
    let filters: [TwinID: any AccessFilter]

    /// The permitted members' ids, in member order.
    public var members: [TwinID] { records.map(\.id) }
    /// The filter a member was permitted with (nil: all of its data).
    public func filter(for twin: TwinID) -> (any AccessFilter)? { filters[twin] }
}

extension Bank {
    /// The members of aggregate `id` now (that also satisfy `expression`, the aggregate query language) that this
    /// bank's actor may use for `action`, with their definitions. The gate is asked for `action` bank-wide (a deny
    /// throws ``BankError`` `accessDenied`) and then for every member inside one read transaction (so the
    /// decisions are audited in one batch); members refused are listed in ``Cohort/refused`` and left out.
    /// - Throws: ``BankError`` `unknownAggregate`, `invalidQuery`, `accessDenied` (bank-wide).
    public func cohort(of id: AggregateID, where expression: String? = nil, for action: AccessRequest.Action) throws -> Cohort {
        var members = try self.members(of: id, at: nil, asOf: nil, reading: .bulk, action: action, perMember: false).members
        if let expression { members = try filter(members, by: expression) }
        return try readAsking { tx in
            var records: [TwinRecord] = []
            var refused: [TwinID] = []
            var filters: [TwinID: any AccessFilter] = [:]
            for m in members {
                do {
                    if let f = try decideInTransaction(action, m, tx) { filters[m] = f }
                } catch let e as BankError where e.code == .accessDenied {
                    refused.append(m)
                    continue
                }
                guard let hex = try tx.ref(Bank.twinRef(m)) else { continue }
                records.append(try loadObject(TwinRecord.self, hex: hex, tx))
            }
            return Cohort(aggregate: id, action: action, actor: actor, purpose: purpose, records: records, refused: refused, filters: filters)
        }
    }

    /// Each permitted member's latest current, plausible value of `code` now (its own rows, as
    /// ``StorageReader/latestValues(code:category:atOrBefore:from:maxSequence:visibility:plausibleOnly:)`` reads
    /// them; for a member permitted in part, the latest such event its filter admits). Members without one are
    /// absent. One bulk query, plus a thread read per member permitted in part.
    public func latestValues(code: CodeKey, in cohort: Cohort) throws -> [TwinID: LatestValue] {
        try check(cohort)
        let now = clock.now()
        return try storage.read { tx in
            let all = try tx.latestValues(code: code, category: nil, atOrBefore: now, from: nil, maxSequence: nil, visibility: .current, plausibleOnly: true)
            var out: [TwinID: LatestValue] = [:]
            for m in cohort.members {
                if let f = cohort.filter(for: m) {
                    let events = try tx.events(EventQuery(twin: m, code: code, to: now, visibility: .current))
                    if let e = events.last(where: { $0.category != .retraction && !$0.isFlaggedImplausible && f.admits($0) }) {
                        out[m] = LatestValue(e)
                    }
                } else if let v = all[m] {
                    out[m] = v
                }
            }
            return out
        }
    }

    /// A permitted member's current thread (as ``events(_:)`` with a default ``ThreadQuery``: forks resolved,
    /// flagged values listed), with its filter applied: for a computation or release that needs a member's records
    /// (a de-identified release of clinical resources). Asks nothing more.
    /// - Throws: ``BankError`` `accessDenied` for a twin the cohort does not hold (refused, or not a member).
    public func events(of twin: TwinID, in cohort: Cohort) throws -> [Event] {
        try events(ThreadQuery(twin: twin), in: cohort)
    }

    /// A permitted member's events that `query` selects (as ``events(_:)`` answers it), with the member's filter
    /// applied: for a computation over the cohort that needs some codes of each member's thread (a risk map's
    /// locations and cases, a population's statistics). Asks nothing more.
    /// - Throws: ``BankError`` `accessDenied` for a twin the cohort does not hold (refused, or not a member).
    public func events(_ query: ThreadQuery, in cohort: Cohort) throws -> [Event] {
        try check(cohort)
        guard cohort.records.contains(where: { $0.id == query.twin }) else {
            throw BankError(.accessDenied, "access denied: twin \(query.twin) is not among the members of \(cohort.aggregate) permitted to \(actor) for \(cohort.action)", value: actor)
        }
        let events = try storage.read { tx in try eventsInTransaction(query, tx) }
        return cohort.filter(for: query.twin).map { $0.apply(to: events) } ?? events
    }

    /// The permitted members whose own rows hold `code` (current or not, as ``StorageReader/twins(withCode:)``
    /// answers; for a member permitted in part, an event of the code its filter admits).
    public func holders(of code: CodeKey, in cohort: Cohort) throws -> Set<TwinID> {
        try check(cohort)
        return try storage.read { tx in
            let all = try tx.twins(withCode: code)
            var out = Set<TwinID>()
            for m in cohort.members where all.contains(m) {
                if let f = cohort.filter(for: m) {
                    if try tx.events(EventQuery(twin: m, code: code, visibility: .all)).contains(where: f.admits) { out.insert(m) }
                } else {
                    out.insert(m)
                }
            }
            return out
        }
    }

    /// For every code in the permitted members' own rows (current or not, as ``StorageReader/codes(of:)`` answers;
    /// for a member permitted in part, the codes of the events its filter admits), how many members hold it: what a
    /// summary of the cohort can offer to chart. One read.
    public func memberCounts(ofCodesIn cohort: Cohort) throws -> [CodeKey: Int] {
        try check(cohort)
        return try storage.read { tx in
            var counts: [CodeKey: Int] = [:]
            for m in cohort.members {
                let codes: Set<CodeKey>
                if let f = cohort.filter(for: m) {
                    codes = Set(try tx.events(EventQuery(twin: m, visibility: .all)).filter(f.admits).map(\.code.key))
                } else {
                    codes = Set(try tx.codes(of: m))
                }
                for c in codes { counts[c, default: 0] += 1 }
            }
            return counts
        }
    }

    /// A cohort answers only the actor and purpose it was decided for.
    func check(_ cohort: Cohort) throws {
        guard cohort.actor == actor, cohort.purpose == purpose else {
            throw BankError(.accessDenied, "access denied: the cohort of \(cohort.aggregate) was decided for \(cohort.actor) (\(cohort.purpose)), not for \(actor) (\(purpose))", value: actor)
        }
    }
}
