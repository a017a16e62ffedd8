import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// Fits a ``PrognosticModel`` to people's histories, evaluating on people not used in fitting.
///
/// The people with at least one example are shuffled with the seed and split into fitting (the rest, about 50 %),
/// validation (1/6), calibration (1/6) and test (1/5) people. On the fitting people: ridge regression (λ chosen among
/// 0.1, 1, 10, 100 by validation RMSE), the same with a random intercept per person, gradient-boosted trees, and a
/// probabilistic sequence model (``StateSpaceTrajectory``, fitted to the fitting people's whole outcome series). The
/// candidate with the lowest validation RMSE is chosen. Each candidate's 90 % interval is split-conformal on the
/// calibration people, who serve nothing else: ± the ⌈(n + 1) × 0.9⌉-th smallest absolute residual of their n
/// examples, or, for the sequence model, that quantile of |residual| / predictive sd times the person's predictive
/// sd. The test people, used for nothing else, give every candidate's MAE, RMSE and coverage (the choice is made
/// before, on validation), beside the baseline that predicts the last value. Missing features take their fitting
/// mean. Examples of one person are correlated, so the conformal guarantee holds per person drawn, not per example.
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
        let nTest = max(1, shuffled.count / 5), nValidation = max(1, shuffled.count / 6), nCalibration = max(1, shuffled.count / 6)
        let test = Array(shuffled.prefix(nTest))
        let validation = Array(shuffled.dropFirst(nTest).prefix(nValidation))
        let calibration = Array(shuffled.dropFirst(nTest + nValidation).prefix(nCalibration))
        let fitting = Array(shuffled.dropFirst(nTest + nValidation + nCalibration))
        let fitExamples = fitting.flatMap { byPerson[$0]! }
        let valExamples = validation.flatMap { byPerson[$0]! }
        let calExamples = calibration.flatMap { byPerson[$0]! }
        let testExamples = test.flatMap { byPerson[$0]! }
        let historyOf = Dictionary(uniqueKeysWithValues: histories.map { ($0.twin, $0) })
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
                          validation: validation.map(\.description), test: test.map(\.description),
                          calibration: calibration.map(\.description)),
            codeVersion: TwinbankVersion.current, seed: seed, generator: Xoshiro256StarStar.streamLabel, metrics: [])
        let x = fitExamples.map { template.complete($0.features.values) }, y = fitExamples.map(\.target)

        func predictions(_ m: PrognosticModel, _ examples: [PrognosticExample]) -> [Double] {
            examples.map { e in m.predict(e.features, earlier: byPerson[e.twin] ?? [], history: historyOf[e.twin]) }
        }
        func intervals(_ m: PrognosticModel, _ examples: [PrognosticExample]) -> [(value: Double, lower: Double, upper: Double)] {
            examples.map { e in m.interval(e.features, earlier: byPerson[e.twin] ?? [], history: historyOf[e.twin]) }
        }
        func metrics(_ name: String, _ split: String, _ examples: [PrognosticExample], _ predicted: [Double],
                     intervals: [(value: Double, lower: Double, upper: Double)]? = nil) -> PrognosticModel.Metrics {
            let errors = zip(examples, predicted).map { $0.target - $1 }
            let n = Double(max(errors.count, 1))
            let coverage = intervals.map { iv in Double(zip(examples, iv).filter { $1.lower <= $0.target && $0.target <= $1.upper }.count) / n }
            return .init(model: name, split: split, people: Set(examples.map(\.twin)).count, examples: examples.count,
                         meanAbsoluteError: errors.reduce(0) { $0 + abs($1) } / n,
                         rootMeanSquaredError: (errors.reduce(0) { $0 + $1 * $1 } / n).squareRoot(), coverage: coverage)
        }
        func rmse(_ m: PrognosticModel) -> Double {
            let p = predictions(m, valExamples)
            let r = (zip(valExamples, p).reduce(0) { $0 + ($1.0.target - $1.1) * ($1.0.target - $1.1) } / Double(max(valExamples.count, 1))).squareRoot()
            return r.isFinite ? r : .infinity
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

        var sequenceModel = template
        sequenceModel.kind = .sequence
        sequenceModel.sequence = try StateSpaceTrajectory.fit(fitting.compactMap { historyOf[$0] }.map {
            (points: $0.series[spec.outcome] ?? [], birthDate: $0.birthDate, male: $0.male)
        })

        guard calExamples.count >= 9 else {
            throw PrognosticError(.tooFewData, "the calibration people have only \(calExamples.count) examples; at least 9 are needed to calibrate a 90 % interval", value: "\(calExamples.count)")
        }
        // split-conformal on the calibration people: the ⌈(n + 1) × level⌉-th smallest score
        func conformal(_ scores: [Double]) -> Double {
            let sorted = scores.sorted()
            let k = min(sorted.count, Int((Double(sorted.count + 1) * intervalLevel).rounded(.up)))
            return sorted[k - 1]
        }
        var candidates: [PrognosticModel] = []
        for var c in [ridgeModel, mixedModel, boostedModel, sequenceModel] {
            let cal = calExamples.map { e in (e.target, c.predictive(e.features, earlier: byPerson[e.twin] ?? [], history: historyOf[e.twin])) }
            c.intervalHalfWidth = conformal(cal.map { abs($0.0 - $0.1.mean) })
            if c.kind == .sequence {
                c.intervalSDMultiple = conformal(cal.map { abs($0.0 - $0.1.mean) / max($0.1.sd ?? .nan, 1e-12) })
            }
            candidates.append(c)
        }
        // each candidate's validation figures once; the choice is the lowest validation RMSE among them
        var all = candidates.map { metrics($0.kind.rawValue, "validation", valExamples, predictions($0, valExamples)) }
        func finite(_ x: Double) -> Double { x.isFinite ? x : .infinity }
        var chosen = candidates[all.indices.min { finite(all[$0].rootMeanSquaredError) < finite(all[$1].rootMeanSquaredError) }!]
        for c in candidates {
            let iv = intervals(c, testExamples)
            all.append(metrics(c.kind.rawValue, "test", testExamples, iv.map(\.value), intervals: iv))
        }
        let lastValue = testExamples.map { $0.features.values[0] ?? .nan }
        all.append(metrics("last-value", "test", testExamples, lastValue))
        chosen.metrics = all
        return chosen
    }
}
