import Foundation
import TwinBank
import TwinCore
import TwinPrognostic
import TwinServerAPI

/// Prognostic twins over HTTP, as `twinbank prognostic fit | predict` and `trial analyze` do them:
/// ``TwinPrognostic/Prognostic/fit(bank:aggregate:spec:seed:)`` (asked as `aggregate`, the model stored in the bank),
/// ``TwinPrognostic/Prognostic/predict(bank:twin:model:allowOutside:write:)`` (written to the twin's thread) and
/// ``TwinPrognostic/Prognostic/analyzeTrial(bank:aggregate:arm:treatedValue:model:)`` (PROCOVA); each answered at once.
extension TwinAPI {
    func postTwinPrognosis(_ input: Operations.PostTwinPrognosis.Input) async throws -> Operations.PostTwinPrognosis.Output {
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let write = body.write ?? true
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: write)
        let id = try Self.twinID(input.path.id)
        let model = try Self.modelReference(body.model, field: "model")
        let allowOutside = body.allowOutside ?? false
        let p: PrognosticPrediction
        do {
            p = try await served.run(call) { bank in try Prognostic.predict(bank: bank, twin: id, model: model, allowOutside: allowOutside, write: write) }
        } catch let e as PrognosticError {
            throw Self.prognosticError(e, modelField: "model")
        }
        return .ok(.init(body: .json(.init(
            twin: p.twin.rawValue, model: p.model, outcome: p.outcome, unit: p.unit, index: p.index.iso8601, time: p.time.iso8601,
            value: p.value, lower: p.lower, upper: p.upper, intervalLevel: p.intervalLevel,
            features: p.features.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value ?? nil) },
            outsideTrainingRange: p.outsideTrainingRange, event: p.event?.hex))))
    }

    func postAggregatePrognosticModel(_ input: Operations.PostAggregatePrognosticModel.Input) async throws -> Operations.PostAggregatePrognosticModel.Output {
        // the model is stored in the bank: a write
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        let outcome = try Self.codeKey(body.outcome, field: "outcome")
        let horizon = try Self.span(body.horizon, field: "horizon")
        let window = try body.window.map { try Self.span($0, field: "window") }
        let covariates = try body.covariates.map { list in
            try list.enumerated().map { i, c in try Self.codeKey(c, field: "covariates[\(i)]") }
        } ?? PrognosticSpec.defaultCovariates(for: outcome)
        let seed = body.seed ?? 1
        guard seed >= 0 else { throw ServerError(.badRequest, "seed is a whole number of at least 0, not \(seed)", field: "seed", value: String(seed)) }
        let spec: PrognosticSpec
        do {
            spec = try PrognosticSpec(outcome: outcome, horizonSeconds: Double(horizon.microseconds) / 1e6,
                                      windowSeconds: window.map { Double($0.microseconds) / 1e6 }, covariates: covariates)
        } catch let e as PrognosticError {
            throw ServerError(.badRequest, e.message, field: e.message.contains("window") ? "window" : e.message.contains("covariate") ? "covariates" : "horizon", value: e.value)
        }
        let (hash, model): (ContentHash, PrognosticModel)
        do {
            (hash, model) = try await served.run(call) { bank in try Prognostic.fit(bank: bank, aggregate: id, spec: spec, seed: UInt64(seed)) }
        } catch let e as PrognosticError {
            throw Self.prognosticError(e, modelField: nil)
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        let c = model.cohort
        return .created(.init(body: .json(.init(
            hash: hash.hex, kind: model.kind.rawValue, outcome: model.spec.outcome.description, horizonSeconds: model.spec.horizonSeconds,
            windowSeconds: model.spec.windowSeconds, covariates: model.spec.covariates.map(\.description), units: .init(additionalProperties: model.units),
            features: model.features, ranges: model.ranges.map { .init(feature: $0.feature, min: $0.min, max: $0.max) },
            intervalLevel: model.intervalLevel, intervalHalfWidth: model.intervalHalfWidth, intervalSDMultiple: model.intervalSDMultiple,
            cohort: .init(aggregate: c.aggregate, members: c.members, membersHash: c.membersHash, fitting: c.fitting, validation: c.validation,
                          test: c.test, calibration: c.calibration),
            codeVersion: model.codeVersion, seed: Int64(model.seed), generator: model.generator,
            metrics: model.metrics.map { .init(model: $0.model, split: $0.split, people: $0.people, examples: $0.examples,
                                               meanAbsoluteError: $0.meanAbsoluteError, rootMeanSquaredError: $0.rootMeanSquaredError, coverage: $0.coverage) }))))
    }

    func postAggregateTrialAnalysis(_ input: Operations.PostAggregateTrialAnalysis.Input) async throws -> Operations.PostAggregateTrialAnalysis.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let id = try Self.aggregateID(input.path.id)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard !body.arm.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ServerError(.badRequest, "name the attribute holding each member's arm", field: "arm")
        }
        let outcome = try Self.codeKey(body.outcome, field: "outcome")
        let model = try Self.modelReference(body.prognostic, field: "prognostic")
        let (arm, treated) = (body.arm, body.treated)
        let r: TrialReport
        do {
            r = try await served.run(call) { bank in
                // as the command: the outcome must be the model's
                let stored = try PrognosticStore(bank: bank).load(model).model
                guard outcome == stored.spec.outcome else {
                    throw ServerError(.badRequest, "the outcome \(outcome) is not the outcome of model \(model) (\(stored.spec.outcome))", field: "outcome", value: outcome.description)
                }
                return try Prognostic.analyzeTrial(bank: bank, aggregate: id, arm: arm, treatedValue: treated, model: model)
            }
        } catch let e as PrognosticError {
            throw Self.prognosticError(e, modelField: "prognostic")
        } catch let e as BankError where e.code == .unknownAggregate {
            throw ServerError(ServerError.Code("unknownAggregate", .notFound), e.message, field: "id", value: e.value)
        }
        func estimate(_ e: TwinPrognostic.TrialAnalysis.Estimate) -> S.TrialEstimate {
            .init(effect: e.effect, standardError: e.standardError, degreesOfFreedom: e.degreesOfFreedom, t: e.t, pValue: e.pValue, lower: e.lower, upper: e.upper)
        }
        let a = r.analysis
        return .ok(.init(body: .json(.init(
            aggregate: r.aggregate, arm: r.arm, treatedValue: r.treatedValue, controlValue: r.controlValue, outcome: r.outcome, model: r.model,
            treated: a.treated, control: a.control, treatedMean: a.treatedMean, controlMean: a.controlMean,
            unadjusted: estimate(a.unadjusted), adjusted: a.adjusted.map(estimate), scoreCoefficient: a.scoreCoefficient,
            scoreOutcomeCorrelation: a.scoreOutcomeCorrelation, varianceRatio: a.varianceRatio,
            leftOut: r.leftOut.sorted { $0.key < $1.key }.map { .init(twin: $0.key, reason: $0.value) },
            outsideTrainingRange: r.outsideTrainingRange))))
    }

    /// A model's hash or prefix as the store takes it: at least 8 hex digits (the store says which model it names).
    static func modelReference(_ text: String, field: String) throws -> String {
        guard text.count >= 8, text.count <= 64, text.allSatisfy(\.isHexDigit) else {
            throw ServerError(.badRequest, "\(field) is a stored model's hash or its first 8 or more hex digits, not '\(text.prefix(80))'", field: field, value: String(text.prefix(80)))
        }
        return text
    }

    static func codeKey(_ text: String, field: String) throws -> CodeKey {
        do { return try CodeKey(parsing: text) } catch let e as TwinError {
            throw ServerError(.badRequest, "\(field): \(e.message)", field: field, value: e.value ?? text)
        }
    }

    static func span(_ text: String, field: String) throws -> TimeSpan {
        do { return try TimeSpan(parsing: text) } catch let e as TwinError {
            throw ServerError(.badRequest, "\(field): \(e.message)", field: field, value: e.value ?? text)
        }
    }

    /// A prognostic error as an answer: a model that is not stored, 400 naming `modelField`; data that cannot give
    /// what was asked (too few people, no outcome value, outside the training ranges, not two arms), 422.
    static func prognosticError(_ e: PrognosticError, modelField: String?) -> ServerError {
        if e.code == .unknownModel, let modelField {
            return ServerError(ServerError.Code("unknownModel", .badRequest), e.message, field: modelField, value: e.value)
        }
        if e.code == .corruptModel { return ServerError(ServerError.Code("corruptModel", .internalServerError), e.message, value: e.value) }
        return ServerError(ServerError.Code(e.code.description, .unprocessableContent), e.message, value: e.value)
    }
}
