import Foundation
import TwinBank
import TwinCore
import TwinGovernance
import TwinServerAPI

/// The privacy-preserving releases over an aggregate as routes: `twinbank release` (k-anonymity, l-diversity),
/// `twinbank dp count|sum|histogram` (differential privacy, the requester's budget spent as the command spends it) and
/// `twinbank representativeness`. The gate decides, as for the commands: `release`, or `aggregate`, bank-wide and per
/// member (a member whose consent refuses the use is left out).
extension TwinAPI {
    func releaseAggregate(_ input: Operations.ReleaseAggregate.Input) async throws -> Operations.ReleaseAggregate.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let quasi = body.quasiIdentifiers ?? ["birthYear", "sex", "zip3"]
        let maxSuppression = body.maxSuppression ?? 0.05
        guard body.k >= 1 else { throw ServerError(.badRequest, "k must be at least 1, not \(body.k)", field: "k", value: String(body.k)) }
        if let l = body.l {
            guard l >= 1 else { throw ServerError(.badRequest, "l must be at least 1, not \(l)", field: "l", value: String(l)) }
            guard body.sensitive != nil else { throw ServerError(.badRequest, "l-diversity (l = \(l)) needs a sensitive attribute", field: "sensitive") }
        }
        guard !quasi.isEmpty, !quasi.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }), Set(quasi).count == quasi.count else {
            throw ServerError(.badRequest, "quasiIdentifiers: name at least one attribute, each once (default birthYear, sex, zip3)", field: "quasiIdentifiers", value: quasi.joined(separator: ","))
        }
        if let s = body.sensitive, s.isEmpty || quasi.contains(s) {
            throw ServerError(.badRequest, "sensitive: an attribute that is not a quasi-identifier", field: "sensitive", value: s)
        }
        guard maxSuppression.isFinite, (0...1).contains(maxSuppression) else {
            throw ServerError(.badRequest, "maxSuppression is a fraction of the records, 0 to 1, not \(maxSuppression)", field: "maxSuppression", value: "\(maxSuppression)")
        }
        let anonymity: KAnonymity
        do { anonymity = try KAnonymity(k: body.k, quasiIdentifiers: quasi, l: body.l, sensitive: body.sensitive, maxSuppression: maxSuppression) } catch let e as GovernanceError {
            throw ServerError(.badRequest, e.message, field: "body", value: e.value)
        }
        guard let keyBase = served.keyBase else {
            throw ServerError(.unavailable, "the server knows no key folder for the bank's pseudonym key")
        }
        let result: KAnonymityResult
        do {
            result = try await served.run(call) { bank in
                let key = try PseudonymKey.loadOrCreate(at: PseudonymKey.defaultPath(forBank: keyBase))
                return try Release.make(bank: bank, aggregate: id, key: key, anonymity: anonymity)
            }
        } catch let e as GovernanceError where e.code == .invalidRelease {
            throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, field: "body", value: e.value)
        }
        let r = result.report
        func stats(_ s: ClassStatistics) -> S.ClassStatistics {
            .init(records: s.records, classes: s.classes, smallestClass: s.smallestClass, unique: s.unique)
        }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue,
            records: result.records.map { .init(id: $0.id, fields: .init(additionalProperties: $0.fields)) },
            refused: result.refused, k: r.k, l: r.l, sensitive: r.sensitive, quasiIdentifiers: r.quasiIdentifiers,
            before: stats(r.before), after: stats(r.after), suppressed: r.suppressed, maxSuppressed: r.maxSuppressed,
            levels: r.levels.map { .init(attribute: $0.attribute, level: $0.level, name: $0.name) }, informationLoss: r.informationLoss))))
    }

    func queryAggregatePrivately(_ input: Operations.QueryAggregatePrivately.Input) async throws -> Operations.QueryAggregatePrivately.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard body.epsilon.isFinite, body.epsilon > 0 else {
            throw ServerError(.badRequest, "epsilon, the privacy loss of the answer, must be a positive number, not \(body.epsilon)", field: "epsilon", value: "\(body.epsilon)")
        }
        // the fields of the other kinds of query are refused, not ignored: the client meant something else
        let given: [(String, Bool)] = [("value", body.value != nil), ("lower", body.lower != nil), ("upper", body.upper != nil),
                                       ("by", body.by != nil), ("bins", body.bins != nil)]
        let allowed: Set<String> = switch body.query {
        case .count: []
        case .sum: ["value", "lower", "upper"]
        case .histogram: ["by", "bins"]
        }
        if let stray = given.first(where: { $0.1 && !allowed.contains($0.0) }) {
            throw ServerError(.badRequest, "\(stray.0) is not a field of a \(body.query.rawValue) query", field: stray.0)
        }
        enum Kind: Sendable { case count, sum(String, Int, Int), histogram(String, [String]) }
        let kind: Kind
        switch body.query {
        case .count: kind = .count
        case .sum:
            guard let value = body.value, !value.isEmpty else { throw ServerError(.badRequest, "a sum needs value: a code (loinc:...) or an attribute (age, ...)", field: "value") }
            guard let lower = body.lower else { throw ServerError(.badRequest, "a sum needs lower, the lower clamp", field: "lower") }
            guard let upper = body.upper else { throw ServerError(.badRequest, "a sum needs upper, the upper clamp", field: "upper") }
            guard lower <= upper else { throw ServerError(.badRequest, "lower (\(lower)) is above upper (\(upper))", field: "lower", value: String(lower)) }
            kind = .sum(value, lower, upper)
        case .histogram:
            guard let by = body.by, !by.isEmpty else { throw ServerError(.badRequest, "a histogram needs by, the attribute (sex, ageBand, state, zip3, ...)", field: "by") }
            let bins: [String]
            if let b = body.bins { bins = b }
            else if QueryVocabulary.isGender(by) { bins = QueryVocabulary.genderValues }
            else if by == "ageBand" { bins = (0..<10).map { Representativeness.ageBand($0 * 10) } }
            else {
                throw ServerError(.badRequest, "bins are needed for '\(by)': bins must not come from the data (a value seen only in the data would disclose someone)", field: "bins")
            }
            guard !bins.isEmpty, Set(bins).count == bins.count, !bins.contains(PrivateAnswer.otherBin) else {
                throw ServerError(.badRequest, "bins must be distinct, not empty, and not '\(PrivateAnswer.otherBin)'", field: "bins", value: bins.joined(separator: ","))
            }
            kind = .histogram(QueryVocabulary.isGender(by) ? "sex" : by, bins)
        }
        let requester = call.identity.subject
        let store = served.gate.store
        let owner = served.gate.owner
        let epsilon = body.epsilon
        let expression = body._where
        let answer: PrivateAnswer
        do {
            answer = try await served.run(call) { bank in
                // the budget is the bank's policy's, as for the command (default epsilon 1 per 30 days)
                let privacy = try store.policy(orDefaultFor: owner).privacy
                let budget = PrivacyBudget(epsilon: privacy.epsilonPerAggregate, windowSeconds: Double(privacy.budgetWindowDays) * 86_400)
                let queries = PrivateQueries(bank: bank, ledger: PrivacyLedger(storage: bank.storage, budget: budget, clock: bank.clock))
                var g = SystemRandomNumberGenerator()
                switch kind {
                case .count:
                    return try queries.count(aggregate: id, where: expression, requester: requester, epsilon: epsilon, using: &g)
                case .sum(let value, let lower, let upper):
                    return try queries.sum(aggregate: id, where: expression, value: value, lower: lower, upper: upper, requester: requester, epsilon: epsilon, using: &g)
                case .histogram(let by, let bins):
                    return try queries.histogram(aggregate: id, where: expression, by: by, bins: bins, requester: requester, epsilon: epsilon, using: &g)
                }
            }
        } catch let e as GovernanceError where e.code == .budgetExhausted {
            throw ServerError(ServerError.Code(e.code.description, .tooManyRequests), e.message, field: "epsilon", value: e.value)
        } catch let e as GovernanceError where e.code == .invalidRelease {
            throw ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, field: "body", value: e.value)
        }
        let b = answer.budget
        return .ok(.init(body: .json(.init(query: answer.query, value: answer.value, bins: answer.bins?.map { .init(value: $0.value, count: $0.count) },
                                           epsilon: answer.epsilon, sensitivity: answer.sensitivity,
                                           budget: .init(requester: b.requester, aggregate: b.aggregate, limit: b.limit, spent: b.spent, remaining: b.remaining)))))
    }

    func assessRepresentativeness(_ input: Operations.AssessRepresentativeness.Input) async throws -> Operations.AssessRepresentativeness.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard (body.reference == nil) != (body.marginals == nil) else {
            throw ServerError(.badRequest, "give either reference (an aggregate) or marginals (a table), one of them", field: "body")
        }
        let threshold = body.threshold ?? 0.5
        guard threshold > 0, threshold <= 1 else {
            throw ServerError(.badRequest, "threshold must be in (0, 1], not \(threshold)", field: "threshold", value: "\(threshold)")
        }
        let conditions = body.conditions ?? []
        for (i, c) in conditions.enumerated() {
            do { _ = try MemberRecords.code(c) } catch let e as GovernanceError {
                throw ServerError(.badRequest, e.message, field: "conditions[\(i)]", value: c)
            }
        }
        let reference = try body.reference.map { try Self.aggregateID($0, field: "reference") }
        var table: Representativeness.Marginals?
        if let marginals = body.marginals {
            guard !marginals.isEmpty else { throw ServerError(.badRequest, "marginals: the table is empty", field: "marginals") }
            var shares: [String: [String: Double]] = [:]
            for (i, m) in marginals.enumerated() {
                guard !m.attribute.isEmpty else { throw ServerError(.badRequest, "marginals[\(i)]: name the attribute", field: "marginals[\(i)].attribute") }
                guard !m.value.isEmpty else { throw ServerError(.badRequest, "marginals[\(i)]: name the value", field: "marginals[\(i)].value") }
                guard m.share.isFinite, (0...1).contains(m.share) else {
                    throw ServerError(.badRequest, "marginals[\(i)]: the share is a fraction from 0 to 1, not \(m.share)", field: "marginals[\(i)].share", value: "\(m.share)")
                }
                guard shares[m.attribute]?[m.value] == nil else {
                    throw ServerError(.badRequest, "marginals[\(i)]: '\(m.attribute),\(m.value)' is given twice", field: "marginals[\(i)]", value: m.value)
                }
                shares[m.attribute, default: [:]][m.value] = m.share
            }
            table = .init(shares: shares)
        }
        let given = table
        let report = try await served.run(call) { bank in
            let refShares = try given ?? Representativeness.profile(bank: bank, aggregate: reference!, conditions: conditions).marginals
            let sample = try Representativeness.profile(bank: bank, aggregate: id, conditions: conditions)
            return Representativeness(threshold: threshold).compare(sample, with: refShares)
        }
        return .ok(.init(body: .json(.init(
            aggregate: id.rawValue, people: report.people, threshold: report.threshold,
            groups: report.groups.map {
                .init(attribute: $0.attribute, value: $0.value, count: $0.count, share: $0.share, referenceShare: $0.referenceShare,
                      ratio: $0.ratio, low: $0.low, high: $0.high, flag: .init(rawValue: $0.flag.rawValue) ?? .ok, significant: $0.significant)
            }))))
    }
}
