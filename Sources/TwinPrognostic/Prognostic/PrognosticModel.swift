import Foundation
import TwinCore
import TwinSimulation

/// A fitted prognostic model with everything needed to reproduce and judge it: what it predicts (``spec``, the
/// outcome's unit), the features and their training ranges, the chosen regressor, the split-conformal interval,
/// the training cohort (aggregate, members, and which people were used to fit, choose and calibrate, and test), the
/// code version, the seed and the held-out metrics. Stored in the bank as a content-addressed object
/// (``PrognosticStore``): its hash is the SHA-256 of this value's canonical JSON, so the same cohort, settings, code
/// and seed give the same hash.
public struct PrognosticModel: Sendable, Hashable, Codable {
    /// The regressor chosen on the validation people.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Ridge regression on the features.
        case ridge
        /// Ridge fixed effects and a random intercept per person (predicted from the person's earlier complete pairs).
        case mixed
        /// Gradient-boosted regression trees.
        case boosted
        /// A probabilistic sequence model of the outcome over the person's whole history (``StateSpaceTrajectory``):
        /// predicts from the sequence, not from the features, with a predictive sd per person.
        case sequence
    }

    /// A feature's range over the training examples (present values only).
    public struct FeatureRange: Sendable, Hashable, Codable {
        public var feature: String
        public var min: Double
        public var max: Double
    }

    /// Who the model was learned from.
    public struct TrainingCohort: Sendable, Hashable, Codable {
        public var aggregate: String
        /// The aggregate's permitted members when the model was fitted, in member order.
        public var members: [String]
        /// SHA-256 (hex) of the member ids joined by newlines.
        public var membersHash: String
        /// The people (with at least one example) whose examples fitted the regressors, chose among them and
        /// calibrated the interval, and tested it.
        public var fitting: [String]
        public var validation: [String]
        public var test: [String]
        /// The people whose examples calibrated the interval (nil in models fitted before the calibration split, whose
        /// validation people calibrated it).
        public var calibration: [String]?
    }

    /// Error and interval coverage of one regressor on one split.
    public struct Metrics: Sendable, Hashable, Codable {
        public var model: String
        public var split: String
        public var people: Int
        public var examples: Int
        public var meanAbsoluteError: Double
        public var rootMeanSquaredError: Double
        /// Share of targets inside the prediction interval (nil where no interval was calibrated yet).
        public var coverage: Double?
    }

    public var format = 1
    public var spec: PrognosticSpec
    /// The unit of the outcome (and of the predictions) and of each covariate.
    public var units: [String: String]
    public var features: [String]
    /// The value a missing feature takes: its training mean.
    public var imputation: [Double]
    public var ranges: [FeatureRange]
    public var kind: Kind
    public var ridge: RidgeRegression?
    public var randomIntercept: RandomIntercept?
    public var boosted: GradientBoostedTrees?
    public var sequence: StateSpaceTrajectory?
    /// Nominal coverage of the interval (0.9) and its half-width: the split-conformal quantile of the calibration
    /// people's absolute residuals.
    public var intervalLevel: Double
    public var intervalHalfWidth: Double
    /// For a model with a predictive sd (``Kind/sequence``): the interval is ± this multiple of the person's predictive
    /// sd, the split-conformal quantile of the calibration people's |residual| / sd (normalised conformal: wider for a
    /// person the model knows less about). Nil: ± ``intervalHalfWidth`` for everyone.
    public var intervalSDMultiple: Double?
    public var cohort: TrainingCohort
    public var codeVersion: String
    public var seed: UInt64
    /// The random generator's stream (`xoshiro256**/v1`), which the seed replays only with.
    public var generator: String
    /// Validation metrics of every candidate, the chosen one's test metrics, and the last-value baseline's.
    public var metrics: [Metrics]

    /// The test metrics of the chosen model.
    public var testMetrics: Metrics? { metrics.first { $0.split == "test" && $0.model == kind.rawValue } }

    func complete(_ values: [Double?]) -> [Double] {
        values.enumerated().map { $0.element ?? imputation[$0.offset] }
    }

    /// The fixed part's prediction (without a person's random intercept); NaN for ``Kind/sequence``, which predicts
    /// from the sequence.
    func fixedPrediction(_ values: [Double?]) -> Double {
        let row = complete(values)
        switch kind {
        case .ridge, .mixed: return ridge?.predict(row) ?? .nan
        case .boosted: return boosted?.predict(row) ?? .nan
        case .sequence: return .nan
        }
    }

    /// The point prediction from a snapshot, adding (for ``Kind/mixed``) the person's intercept predicted from
    /// `earlier` (the person's complete pairs whose target was observed by the snapshot's index time). A
    /// ``Kind/sequence`` model reads the person's outcome values up to the snapshot's index time from `history`
    /// (NaN without it).
    public func predict(_ snapshot: FeatureSnapshot, earlier: [PrognosticExample] = [], history: PersonHistory? = nil) -> Double {
        predictive(snapshot, earlier: earlier, history: history).mean
    }

    /// The point prediction and, for a model that has one (``Kind/sequence``), the predictive sd.
    public func predictive(_ snapshot: FeatureSnapshot, earlier: [PrognosticExample] = [], history: PersonHistory? = nil) -> (mean: Double, sd: Double?) {
        switch kind {
        case .sequence:
            guard let sequence, let history else { return (.nan, nil) }
            let series = history.series[spec.outcome] ?? []
            let end = FeatureExtractor.firstIndex(in: series, after: snapshot.index)
            let ahead = (snapshot.values.last ?? nil).map { $0 * FeatureExtractor.year } ?? spec.horizonSeconds
            guard let p = sequence.predict(series[..<end], birthDate: history.birthDate, male: history.male, aheadSeconds: ahead) else { return (.nan, nil) }
            return (p.mean, p.sd)
        case .mixed:
            let fixed = fixedPrediction(snapshot.values)
            guard let randomIntercept else { return (fixed, nil) }
            let residuals = earlier.filter { $0.targetTime <= snapshot.index }.map { $0.target - fixedPrediction($0.features.values) }
            return (fixed + randomIntercept.intercept(from: residuals), nil)
        case .ridge, .boosted:
            return (fixedPrediction(snapshot.values), nil)
        }
    }

    /// The prediction with its interval at ``intervalLevel``.
    public func interval(_ snapshot: FeatureSnapshot, earlier: [PrognosticExample] = [], history: PersonHistory? = nil) -> (value: Double, lower: Double, upper: Double) {
        let p = predictive(snapshot, earlier: earlier, history: history)
        let half = intervalSDMultiple.flatMap { m in p.sd.map { m * $0 } } ?? intervalHalfWidth
        return (p.mean, p.mean - half, p.mean + half)
    }

    /// The features of `snapshot` outside their training range: (feature, value, range).
    public func outsideTrainingRange(_ snapshot: FeatureSnapshot) -> [(feature: String, value: Double, range: FeatureRange)] {
        var out: [(String, Double, FeatureRange)] = []
        for r in ranges {
            guard let j = features.firstIndex(of: r.feature), let v = snapshot.values[j] else { continue }
            if r.feature == "yearsToTarget" { continue }
            if v < r.min || v > r.max { out.append((r.feature, v, r)) }
        }
        return out
    }
}
