import TwinBank
import TwinCore

/// Evaluates eligibility criteria over twins: for every criterion of every twin, met, not met or unknown (the
/// data needed is missing), with the thread events that decided it.
///
/// Rules: age needs `birthDate` and is the age in whole years at `asOf` (the birthday must have passed); sex
/// needs `gender` (or `sex`); alive is met when no `deceased` is recorded, or a death after `asOf`. A deceased
/// person is never eligible: when the criteria have no `alive` criterion the matcher adds one
/// (``implicitAliveID``), so a twin deceased at or before `asOf` is not eligible whatever the criteria say. A condition or medication counts when its code is one of the criterion's codes or
/// a descendant (`CodeHierarchy`), its time is at or before `asOf` (and within the window), and, for
/// conditions, its verification status is not refuted or entered-in-error; `active` also needs it not abated
/// at `asOf`. When the twin has no record of that kind at all (no Condition, no medication), the outcome is
/// unknown rather than not met. A lab criterion looks at the latest value of the code within the window,
/// converted to the criterion's unit (``TwinCore/AnalyteConversion``: glucose mg/dL and mmol/L, HbA1c % and
/// mmol/mol ...); no value in the window is unknown, a unit that does not convert is unknown with the reason. An exclusion criterion is met when the described thing is absent (not met when
/// present, unknown when unknown). A twin is eligible when every criterion is met, not eligible when any is
/// not met, and possibly eligible otherwise.
public struct Matcher: Sendable {
    public enum Outcome: String, Sendable, Hashable, Codable { case met, notMet = "not-met", unknown }

    public struct CriterionResult: Sendable {
        public var criterion: Criteria.Criterion
        public var outcome: Outcome
        public var reason: String
        public var evidence: [Event]
    }

    public struct TwinResult: Sendable {
        public var twin: TwinID
        public var results: [CriterionResult]
        /// true: every criterion met; false: one not met; nil: none failed but some unknown.
        public var eligible: Bool? {
            if results.contains(where: { $0.outcome == .notMet }) { return false }
            if results.allSatisfy({ $0.outcome == .met }) { return true }
            return nil
        }
    }

    /// The criteria as evaluated: those given, plus ``implicitAliveID`` when they have no `alive` criterion.
    public let criteria: Criteria

    /// The id of the `alive` criterion the matcher adds when the criteria have none.
    public static let implicitAliveID = "alive-at-asOf"

    public init(criteria: Criteria) {
        var c = criteria
        if !c.criteria.contains(where: { if case .alive = $0.kind { return !$0.exclude } else { return false } }) {
            c.criteria.append(Criteria.Criterion(id: Self.implicitAliveID, kind: .alive, exclude: false, withinDays: nil,
                                                 description: Criteria.describe(.alive, exclude: false, withinDays: nil) + " (always applied: a deceased person is never eligible)"))
        }
        self.criteria = c
    }

    /// Each criterion as understood, in evaluation order (`match` echoes them before its results).
    public var descriptions: [String] { criteria.criteria.map(\.description) }

    static let conditionTypes = ["fhir/Condition/", "fhir/AllergyIntolerance/"]
    static let medicationTypes = ["fhir/MedicationRequest/", "fhir/MedicationAdministration/", "fhir/MedicationStatement/"]

    static func isKind(_ e: Event, _ prefixes: [String]) -> Bool {
        prefixes.contains { e.source.id.hasPrefix($0) }
    }

    /// Evaluates one twin given its thread (oldest first).
    public func evaluate(_ twin: Twin, events: [Event], asOf: Instant) -> TwinResult {
        TwinResult(twin: twin.id, results: criteria.criteria.map { evaluate($0, twin, events, asOf) })
    }

    func evaluate(_ c: Criteria.Criterion, _ twin: Twin, _ events: [Event], _ asOf: Instant) -> CriterionResult {
        let from = c.withinDays.map { asOf.advanced(bySeconds: -$0 * 86_400) }
        let inWindow = events.filter { $0.effective.start <= asOf && (from == nil || ($0.effective.end ?? $0.effective.start) >= from!) }
        func result(_ present: Outcome, _ reason: String, _ evidence: [Event] = []) -> CriterionResult {
            var o = present
            if c.exclude { o = present == .met ? .notMet : present == .notMet ? .met : .unknown }
            return CriterionResult(criterion: c, outcome: o, reason: reason, evidence: evidence)
        }
        switch c.kind {
        case .age(let lo, let hi):
            guard case .date(let birth)? = twin.attributes["birthDate"] else { return result(.unknown, "no birthDate") }
            // not yet born at asOf: no age (before, "age -2"); deceased before asOf: the age at death, as
            // aggregate queries count it (the implicit alive criterion makes such a person ineligible anyway)
            guard let years = asOf.wholeYears(since: birth) else {
                return result(.notMet, "not born by \(FHIRTime.date(asOf)) (birthDate \(FHIRTime.date(birth)))")
            }
            if case .date(let death)? = twin.attributes["deceased"], death < asOf, let atDeath = death.wholeYears(since: birth) {
                let ok = (lo.map { Double(atDeath) >= $0 } ?? true) && (hi.map { Double(atDeath) <= $0 } ?? true)
                return result(ok ? .met : .notMet, "died aged \(atDeath) on \(FHIRTime.date(death))")
            }
            let ok = (lo.map { Double(years) >= $0 } ?? true) && (hi.map { Double(years) <= $0 } ?? true)
            return result(ok ? .met : .notMet, "age \(years) at \(FHIRTime.date(asOf))")
        case .sex(let values):
            let attribute = twin.attributes["gender"] ?? twin.attributes["sex"]
            let g: String
            switch attribute {
            case .text(let t)?: g = t
            case .concept(let c)?: g = c.code
            default: return result(.unknown, "no gender recorded")
            }
            return result(values.contains(g.lowercased()) ? .met : .notMet, "gender \(g)")
        case .alive:
            switch twin.attributes["deceased"] {
            case .date(let d)?: return result(d > asOf ? .met : .notMet, "deceased \(FHIRTime.text(d))")
            case .boolean(let b)?: return result(b ? .notMet : .met, b ? "deceased" : "not deceased")
            default: return result(.met, "no death recorded")
            }
        case .condition(let codes, let active):
            let records = inWindow.filter { Self.isKind($0, Self.conditionTypes) }
            let hits = records.filter { e in
                guard codes.contains(where: { criteria.hierarchy.subsumes($0, e.code.key) }) else { return false }
                if case .concept(let v)? = e.value, ["refuted", "entered-in-error"].contains(v.code) { return false }
                if active, let end = e.effective.end, end <= asOf { return false }
                return true
            }
            if !hits.isEmpty { return result(.met, "\(hits.count) matching condition record(s)", hits) }
            if events.contains(where: { Self.isKind($0, Self.conditionTypes) }) {
                return result(.notMet, "no matching\(active ? " active" : "") condition among \(records.count) condition record(s)")
            }
            return result(.unknown, "no condition records")
        case .medication(let codes):
            let records = inWindow.filter { Self.isKind($0, Self.medicationTypes) }
            let hits = records.filter { e in codes.contains { criteria.hierarchy.subsumes($0, e.code.key) } }
            if !hits.isEmpty { return result(.met, "\(hits.count) matching medication record(s)", hits) }
            if events.contains(where: { Self.isKind($0, Self.medicationTypes) }) {
                return result(.notMet, "no matching medication among \(records.count) medication record(s)")
            }
            return result(.unknown, "no medication records")
        case .lab(let code, let lo, let hi, let unit):
            guard let latest = inWindow.last(where: { $0.code.key == code && $0.value?.quantity != nil }),
                  let q = latest.value?.quantity else {
                return result(.unknown, "no \(code) value\(c.withinDays.map { " within \(Value.format($0)) days" } ?? "")")
            }
            var v = q.value
            var shown = q.description
            if let unit, unit != q.unit {
                do { v = try AnalyteConversion.convert(q, to: unit, for: code).value } catch {
                    return result(.unknown, "value \(q) does not convert to \(unit): \((error as? TwinError)?.message ?? "\(error)")", [latest])
                }
                shown = "\(Value.format((v * 100).rounded() / 100)) \(unit) (recorded as \(q))"
            }
            let ok = (lo.map { v >= $0 } ?? true) && (hi.map { v <= $0 } ?? true)
            return result(ok ? .met : .notMet, "latest \(code) = \(shown) on \(FHIRTime.date(latest.effective.start))", [latest])
        case .unsupported(let why):
            return CriterionResult(criterion: c, outcome: .unknown, reason: why, evidence: [])
        }
    }

    /// Evaluates every person twin of the bank except forks and comparison instances (or exactly the given ones).
    /// - Throws: `FHIRError` `accessDenied` when the gate refuses (naming the actor), `bank` for the bank's other errors.
    public func evaluate(bank: Bank, twins: [TwinID]? = nil) throws(FHIRError) -> [TwinResult] {
        let asOf = criteria.asOf ?? bank.clock.now()
        do {
            // matching asks with its own action (bank-wide, then per candidate), then reads
            try bank.authorize(.match, nil)
            let ids = try twins ?? bank.twinIDs()
            var out: [TwinResult] = []
            for id in ids {
                try bank.authorize(.match, id)
                let record = try bank.twin(id)
                let t = record.twin
                guard t.kind == .person, !t.isTemplate else { continue }
                // A fork or comparison instance is an experiment on a person, not another candidate: screened
                // only when a list given names it (as aggregates count forks only when asked).
                if twins == nil && record.fork != nil { continue }
                out.append(evaluate(t, events: try bank.events(ThreadQuery(twin: id, to: asOf)), asOf: asOf))
            }
            return out
        } catch { throw FHIRError.bank(error) }
    }

    /// The JSON report: matching twins, then for every twin every criterion with outcome, reason and evidence.
    public func report(_ results: [TwinResult], asOf: Instant) -> JSONValue {
        func eventJSON(_ e: Event) -> JSONValue {
            var o: JSONObject = ["event": .string(e.id.hex), "time": .string(e.effective.description),
                                 "code": .string(e.code.key.description)]
            if let d = e.code.display { o["display"] = .string(d) }
            if let v = e.value { o["value"] = .string(v.description) }
            o["source"] = .string(e.source.description)
            return .object(o)
        }
        var twinsJSON: [JSONValue] = []
        for r in results {
            let eligible: JSONValue = r.eligible.map { .bool($0) } ?? .null
            twinsJSON.append(["twin": .string(r.twin.rawValue), "eligible": eligible,
                              "criteria": .array(r.results.map { c in
                                  ["id": .string(c.criterion.id), "description": .string(c.criterion.description),
                                   "outcome": .string(c.outcome.rawValue), "reason": .string(c.reason),
                                   "evidence": .array(c.evidence.map(eventJSON))]
                              })])
        }
        var o: JSONObject = ["trial": .string(criteria.id)]
        if let t = criteria.title { o["title"] = .string(t) }
        o["asOf"] = .string(FHIRTime.text(asOf))
        o["criteria"] = .array(descriptions.map { .string($0) })
        o["eligible"] = .array(results.filter { $0.eligible == true }.map { .string($0.twin.rawValue) })
        o["possiblyEligible"] = .array(results.filter { $0.eligible == nil }.map { .string($0.twin.rawValue) })
        o["twins"] = .array(twinsJSON)
        return .object(o)
    }
}
