import Foundation

/// A two-arm randomized trial's treatment effect on a continuous outcome, unadjusted and adjusted for a prognostic
/// score (PROCOVA).
///
/// - **Unadjusted**: the difference in means (treated − control) with Welch's standard error
///   √(s₁²/n₁ + s₀²/n₀), Welch–Satterthwaite degrees of freedom, a 95 % t interval and a two-sided t p-value.
/// - **Adjusted** (given a prognostic score per participant): the coefficient of the arm in the ordinary least squares
///   fit outcome ~ 1 + arm + score (ANCOVA), with the model-based standard error σ̂² (XᵀX)⁻¹ (σ̂² the residual
///   sum of squares over n − 3) and n − 3 degrees of freedom, as in Schuler A, Walsh D, Hall D, Walsh J, Fisher C,
///   "Increasing the efficiency of randomized trial estimates via linear adjustment for a prognostic score",
///   The International Journal of Biostatistics 18(2):329-356, 2022 (doi:10.1515/ijb-2021-0072), the method the
///   European Medicines Agency qualified in 2022. The score is centred before the fit (the arm's coefficient and
///   its standard error do not change; the intercept is then the control mean at the average score).
///
/// The promise of the method: randomization keeps the adjusted test at its nominal level whatever the score, and
/// the variance of the adjusted estimate is about (1 − ρ²) times the unadjusted one, ρ the correlation of the score
/// with the outcome within arms (``scoreOutcomeCorrelation`` reports it). The simulation study in the tests checks
/// both.
public struct TrialAnalysis: Sendable, Hashable, Codable {
    /// One estimate of the treatment effect.
    public struct Estimate: Sendable, Hashable, Codable {
        /// Treated minus control.
        public var effect: Double
        public var standardError: Double
        public var degreesOfFreedom: Double
        /// effect / standardError.
        public var t: Double
        /// Two-sided, from Student's t with ``degreesOfFreedom``.
        public var pValue: Double
        /// The 95 % confidence interval.
        public var lower: Double
        public var upper: Double

        init(effect: Double, standardError: Double, degreesOfFreedom: Double) {
            self.effect = effect
            self.standardError = standardError
            self.degreesOfFreedom = degreesOfFreedom
            let dist = StudentT(degreesOfFreedom: degreesOfFreedom)
            t = effect / standardError
            pValue = dist.twoSidedTail(t)
            let q = dist.quantile(0.975)
            lower = effect - q * standardError
            upper = effect + q * standardError
        }
    }

    /// Participants in each arm.
    public var treated: Int
    public var control: Int
    /// The arms' outcome means.
    public var treatedMean: Double
    public var controlMean: Double
    /// Difference in means with Welch's standard error.
    public var unadjusted: Estimate
    /// The ANCOVA estimate (nil without scores).
    public var adjusted: Estimate?
    /// The score's coefficient in the ANCOVA fit (nil without scores).
    public var scoreCoefficient: Double?
    /// The pooled within-arm correlation of score and outcome (nil without scores, or when either is constant
    /// within both arms).
    public var scoreOutcomeCorrelation: Double?
    /// (SE adjusted / SE unadjusted)²: the share of the unadjusted variance left after adjustment, as estimated in
    /// this trial (nil without scores).
    public var varianceRatio: Double? {
        adjusted.map { ($0.standardError / unadjusted.standardError) * ($0.standardError / unadjusted.standardError) }
    }

    /// Analyses a trial: `outcomes[i]` of participant i, `treated[i]` whether i was in the treated arm, and
    /// `scores[i]` i's prognostic score (the outcome a model trained on other people predicts under control), or nil
    /// for the unadjusted estimate only.
    /// - Throws: ``PrognosticError`` `invalidArgument` (lengths differ, a value is not finite), `tooFewData` (an arm
    ///   with fewer than 2 participants, or fewer than 4 in all with scores), `singular` (both arms constant, or the
    ///   score collinear with the arm).
    public static func analyze(outcomes: [Double], treated: [Bool], scores: [Double]? = nil) throws -> TrialAnalysis {
        guard outcomes.count == treated.count else {
            throw PrognosticError(.invalidArgument, "there are \(outcomes.count) outcomes but \(treated.count) arm assignments: give one of each per participant", value: "\(treated.count)")
        }
        if let scores, scores.count != outcomes.count {
            throw PrognosticError(.invalidArgument, "there are \(outcomes.count) outcomes but \(scores.count) prognostic scores: give one of each per participant", value: "\(scores.count)")
        }
        if let i = outcomes.firstIndex(where: { !$0.isFinite }) {
            throw PrognosticError(.invalidArgument, "the outcome of participant \(i + 1) is not a finite number", value: "\(outcomes[i])")
        }
        if let scores, let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw PrognosticError(.invalidArgument, "the prognostic score of participant \(i + 1) is not a finite number", value: "\(scores[i])")
        }
        let y1 = zip(outcomes, treated).filter { $0.1 }.map(\.0)
        let y0 = zip(outcomes, treated).filter { !$0.1 }.map(\.0)
        guard y1.count >= 2, y0.count >= 2 else {
            throw PrognosticError(.tooFewData, "each arm needs at least 2 participants with an outcome; treated has \(y1.count), control \(y0.count)", value: "\(min(y1.count, y0.count))")
        }
        let (m1, v1) = meanVariance(y1), (m0, v0) = meanVariance(y0)
        let n1 = Double(y1.count), n0 = Double(y0.count)
        let a = v1 / n1, b = v0 / n0
        guard a + b > 0 else {
            throw PrognosticError(.singular, "the outcome is constant within both arms: no standard error can be estimated", value: "\(m0)")
        }
        let welchDF = (a + b) * (a + b) / (a * a / (n1 - 1) + b * b / (n0 - 1))
        guard welchDF.isFinite, welchDF > 0, (a + b).isFinite, (m1 - m0).isFinite else {
            throw PrognosticError(.invalidArgument, "the outcomes are too large to analyse in double precision (their variance overflows): rescale them", value: "\(max(abs(m1), abs(m0)))")
        }
        let unadjusted = Estimate(effect: m1 - m0, standardError: (a + b).squareRoot(), degreesOfFreedom: welchDF)
        var result = TrialAnalysis(treated: y1.count, control: y0.count, treatedMean: m1, controlMean: m0,
                                   unadjusted: unadjusted, adjusted: nil, scoreCoefficient: nil, scoreOutcomeCorrelation: nil)
        guard let scores else { return result }
        let n = outcomes.count
        guard n >= 4 else {
            throw PrognosticError(.tooFewData, "the adjusted estimate needs at least 4 participants (3 coefficients and a residual), not \(n)", value: "\(n)")
        }
        let fit = try ancova(outcomes: outcomes, treated: treated, scores: scores)
        result.adjusted = fit.arm
        result.scoreCoefficient = fit.scoreCoefficient
        result.scoreOutcomeCorrelation = pooledWithinArmCorrelation(outcomes: outcomes, treated: treated, scores: scores)
        return result
    }

    /// OLS of outcome on (1, arm, centred score); the arm's estimate with its model-based standard error.
    static func ancova(outcomes: [Double], treated: [Bool], scores: [Double]) throws -> (arm: Estimate, scoreCoefficient: Double) {
        let n = outcomes.count
        let meanScore = scores.reduce(0, +) / Double(n)
        var xtx = [Double](repeating: 0, count: 9), xty = [Double](repeating: 0, count: 3)
        for i in 0..<n {
            let x = [1, treated[i] ? 1 : 0, scores[i] - meanScore]
            for r in 0..<3 {
                xty[r] += x[r] * outcomes[i]
                for c in 0..<3 { xtx[r * 3 + c] += x[r] * x[c] }
            }
        }
        guard let l = LinearSystem.cholesky(xtx, 3) else {
            throw PrognosticError(.singular, "the prognostic score is constant or collinear with the arm: the adjusted estimate cannot be computed", value: "\(meanScore)")
        }
        let beta = LinearSystem.solve(cholesky: l, 3, xty)
        var rss = 0.0
        for i in 0..<n {
            let r = outcomes[i] - beta[0] - beta[1] * (treated[i] ? 1 : 0) - beta[2] * (scores[i] - meanScore)
            rss += r * r
        }
        let df = Double(n - 3)
        let sigma2 = rss / df
        let inverse = LinearSystem.inverse(cholesky: l, 3)
        let se = (sigma2 * inverse[4]).squareRoot()
        guard se.isFinite, beta.allSatisfy(\.isFinite) else {
            throw PrognosticError(.invalidArgument, "the outcomes or scores are too large to analyse in double precision: rescale them", value: "\(rss)")
        }
        guard se > 0 else {
            throw PrognosticError(.singular, "the ANCOVA fit is exact (no residual variance): the outcome is a linear function of arm and score, so no standard error can be estimated", value: "\(rss)")
        }
        return (Estimate(effect: beta[1], standardError: se, degreesOfFreedom: df), beta[2])
    }

    static func meanVariance(_ x: [Double]) -> (mean: Double, variance: Double) {
        let m = x.reduce(0, +) / Double(x.count)
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
        return (m, v)
    }

    static func pooledWithinArmCorrelation(outcomes: [Double], treated: [Bool], scores: [Double]) -> Double? {
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for arm in [true, false] {
            let idx = treated.indices.filter { treated[$0] == arm }
            let mx = idx.reduce(0) { $0 + scores[$1] } / Double(idx.count)
            let my = idx.reduce(0) { $0 + outcomes[$1] } / Double(idx.count)
            for i in idx {
                sxy += (scores[i] - mx) * (outcomes[i] - my)
                sxx += (scores[i] - mx) * (scores[i] - mx)
                syy += (outcomes[i] - my) * (outcomes[i] - my)
            }
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }
}
