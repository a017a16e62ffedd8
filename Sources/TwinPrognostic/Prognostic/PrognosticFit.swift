import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// Fits a ``PrognosticModel`` to people's histories, evaluating on people not used in fitting.
///
/// The people with at least one example are shuffled with the seed and split 60 / 20 / 20 into fitting,
/// validation and test people. On the fitting people: ridge regression (λ chosen among 0.1, 1, 10, 100 by validation
/// RMSE), the same with a random intercept per person, and gradient-boosted trees. The candidate with the lowest
/// validation RMSE is chosen; its 90 % interval is split-conformal: ± the ⌈(n + 1) × 0.9⌉-th smallest absolute
/// residual of the n validation examples (the validation people serve both to choose and to calibrate, a small
/// optimism this report does not correct). The test people, used for nothing else, give the reported MAE, RMSE and
/// coverage, beside the baseline that predicts the last value. Missing features take their fitting mean.
public enum PrognosticFit {
    public static let intervalLevel = 0.9

    /// - Throws: ``PrognosticError`` `tooFewData` with fewer than 5 people having an example or too few examples
    ///   in a split.
    public static func fit(histories: [PersonHistory], units: [CodeKey: String], spec: PrognosticSpec, aggregate: String,
                           members: [TwinID], seed: UInt64) throws -> PrognosticModel {
        let extractor = FeatureExtractor(spec: spec)
        var byPerson: [TwinID: [PrognosticExample]] = [:]
        for h in histories {
            let e = extractor.examples(h)
            if !e.isEmpty { byPerson[h.twin] = e }
        }
        let people = histories.map(\.twin).filter { byPerson[$0] != nil }
        guard people.count >= 5 else {
            throw PrognosticError(.tooFewData, "only \(people.count) people of \(aggregate) have a \(spec.outcome) value followed by another \(Int(spec.horizonSeconds / 86_400)) ± \(Int(spec.windowSeconds / 86_400)) days later; at least 5 are needed (choose a shorter --horizon or a larger aggregate)", value: "\(people.count)")
        }
        var rng = Xoshiro256StarStar(seed: seed)
        var shuffled = people
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            shuffled.swapAt(i, j)
        }
        let nTest = max(1, shuffled.count / 5), nValidation = max(1, shuffled.count / 5)
        let test = Array(shuffled.prefix(nTest))
        let validation = Array(shuffled.dropFirst(nTest).prefix(nValidation))
        let fitting = Array(shuffled.dropFirst(nTest + nValidation))
        let fitExamples = fitting.flatMap { byPerson[$0]! }
        let valExamples = validation.flatMap { byPerson[$0]! }
        let testExamples = test.flatMap { byPerson[$0]! }
        guard fitExamples.count >= 10 else {
            throw PrognosticError(.tooFewData, "the fitting people have only \(fitExamples.count) examples; at least 10 are needed", value: "\(fitExamples.count)")
        }

        let names = spec.featureNames
        var imputation = [Double](repeating: 0, count: names.count)
        for j in names.indices {
            let present = fitExamples.compactMap { $0.features.values[j] }
            imputation[j] = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
        }
        let ranges: [PrognosticModel.FeatureRange] = names.indices.compactMap { j in
            let present = fitExamples.compactMap { $0.features.values[j] }
            guard let lo = present.min(), let hi = present.max() else { return nil }
            return PrognosticModel.FeatureRange(feature: names[j], min: lo, max: hi)
        }
        let memberIDs = members.map(\.description)
        let membersHash = EventHasher.sha256(Array(memberIDs.joined(separator: "\n").utf8)).hex
        let template = PrognosticModel(
            spec: spec, units: Dictionary(uniqueKeysWithValues: units.map { ($0.key.description, $0.value) }), features: names,
            imputation: imputation, ranges: ranges, kind: .ridge, ridge: nil, randomIntercept: nil, boosted: nil,
            intervalLevel: intervalLevel, intervalHalfWidth: 0,
            cohort: .init(aggregate: aggregate, members: memberIDs, membersHash: membersHash, fitting: fitting.map(\.description),
                          validation: validation.map(\.description), test: test.map(\.description)),
            codeVersion: TwinbankVersion.current, seed: seed, generator: Xoshiro256StarStar.streamLabel, metrics: [])
        let x = fitExamples.map { template.complete($0.features.values) }, y = fitExamples.map(\.target)

        func predictions(_ m: PrognosticModel, _ examples: [PrognosticExample]) -> [Double] {
            examples.map { e in m.predict(e.features, earlier: byPerson[e.twin] ?? []) }
        }
        func metrics(_ name: String, _ split: String, _ examples: [PrognosticExample], _ predicted: [Double], halfWidth: Double?) -> PrognosticModel.Metrics {
            let errors = zip(examples, predicted).map { $0.target - $1 }
            let n = Double(max(errors.count, 1))
            let coverage = halfWidth.map { h in Double(errors.filter { abs($0) <= h }.count) / n }
            return .init(model: name, split: split, people: Set(examples.map(\.twin)).count, examples: examples.count,
                         meanAbsoluteError: errors.reduce(0) { $0 + abs($1) } / n,
                         rootMeanSquaredError: (errors.reduce(0) { $0 + $1 * $1 } / n).squareRoot(), coverage: coverage)
        }
        func rmse(_ m: PrognosticModel) -> Double {
            let p = predictions(m, valExamples)
            return (zip(valExamples, p).reduce(0) { $0 + ($1.0.target - $1.1) * ($1.0.target - $1.1) } / Double(max(valExamples.count, 1))).squareRoot()
        }

        // ridge: λ by validation RMSE
        var ridgeModel = template
        var bestRMSE = Double.infinity
        for lambda in [0.1, 1, 10, 100] {
            var m = template
            m.kind = .ridge
            m.ridge = try RidgeRegression.fit(x, y, lambda: lambda)
            let r = rmse(m)
            if r < bestRMSE { bestRMSE = r; ridgeModel = m }
        }
        var mixedModel = ridgeModel
        mixedModel.kind = .mixed
        let residualsByPerson = fitting.map { p in (byPerson[p] ?? []).map { $0.target - ridgeModel.fixedPrediction($0.features.values) } }
        mixedModel.randomIntercept = RandomIntercept.estimate(residualsByPerson)
        var boostedModel = template
        boostedModel.kind = .boosted
        boostedModel.boosted = try GradientBoostedTrees.fit(x, y, seed: seed)

        let candidates = [ridgeModel, mixedModel, boostedModel]
        var all: [PrognosticModel.Metrics] = []
        for c in candidates { all.append(metrics(c.kind.rawValue, "validation", valExamples, predictions(c, valExamples), halfWidth: nil)) }
        var chosen = candidates.min { rmse($0) < rmse($1) }!
        // split-conformal half-width from the validation residuals
        let absResiduals = zip(valExamples, predictions(chosen, valExamples)).map { abs($0.target - $1) }.sorted()
        guard absResiduals.count >= 9 else {
            throw PrognosticError(.tooFewData, "the validation people have only \(absResiduals.count) examples; at least 9 are needed to calibrate a 90 % interval", value: "\(absResiduals.count)")
        }
        let k = min(absResiduals.count, Int((Double(absResiduals.count + 1) * intervalLevel).rounded(.up)))
        chosen.intervalHalfWidth = absResiduals[k - 1]
        all.append(metrics(chosen.kind.rawValue, "test", testExamples, predictions(chosen, testExamples), halfWidth: chosen.intervalHalfWidth))
        let lastValue = testExamples.map { $0.features.values[0] ?? .nan }
        all.append(metrics("last-value", "test", testExamples, lastValue, halfWidth: nil))
        chosen.metrics = all
        return chosen
    }
}
