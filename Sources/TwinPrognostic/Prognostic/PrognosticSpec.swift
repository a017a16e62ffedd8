import TwinCore

/// What a prognostic model predicts and from what: the outcome code a `horizon` ahead (a target observation counts
/// when it falls within ± `window` of index + horizon), from the person's history up to the index time: the latest
/// outcome value and its slope over the preceding two years, the latest value of each covariate code (with a flag
/// when there is none), age, sex and the time to the target.
public struct PrognosticSpec: Sendable, Hashable, Codable {
    public var outcome: CodeKey
    /// Seconds from the index time to the predicted time.
    public var horizonSeconds: Double
    /// Seconds either side of index + horizon within which an observation is a target.
    public var windowSeconds: Double
    /// Codes whose latest value is a feature (besides the outcome's).
    public var covariates: [CodeKey]

    /// - Throws: ``PrognosticError`` `invalidArgument` when the horizon is not positive or the window is negative or
    ///   not shorter than the horizon, or a covariate repeats the outcome.
    public init(outcome: CodeKey, horizonSeconds: Double, windowSeconds: Double? = nil, covariates: [CodeKey] = []) throws {
        guard horizonSeconds.isFinite, horizonSeconds > 0 else {
            throw PrognosticError(.invalidArgument, "the horizon must be a positive time span (e.g. 365d)", value: "\(horizonSeconds)")
        }
        let window = windowSeconds ?? horizonSeconds / 4
        guard window.isFinite, window >= 0, window < horizonSeconds else {
            throw PrognosticError(.invalidArgument, "the window must be at least 0 and shorter than the horizon (\(horizonSeconds / 86_400) days)", value: "\(window)")
        }
        if covariates.contains(outcome) {
            throw PrognosticError(.invalidArgument, "the outcome \(outcome) is already a feature: leave it out of the covariates", value: outcome.description)
        }
        self.outcome = outcome
        self.horizonSeconds = horizonSeconds
        self.windowSeconds = window
        self.covariates = covariates
    }

    /// The features' names, in the order of a feature vector.
    public var featureNames: [String] {
        ["outcome.last", "outcome.slopePerYear"] + covariates.map { "\($0).last" } + covariates.map { "\($0).missing" }
            + ["ageYears", "sexMale", "yearsToTarget"]
    }

    /// The common covariates of the two outcomes the issue names, when none are given: for systolic blood pressure
    /// (LOINC 8480-6) diastolic pressure, BMI and HbA1c; for HbA1c (4548-4) glucose, BMI and systolic pressure;
    /// otherwise BMI and systolic pressure.
    public static func defaultCovariates(for outcome: CodeKey) -> [CodeKey] {
        let candidates: [CodeKey]
        switch (outcome.system, outcome.code) {
        case ("http://loinc.org", "8480-6"): candidates = [.loinc("8462-4"), .loinc("39156-5"), .loinc("4548-4")]
        case ("http://loinc.org", "4548-4"): candidates = [.loinc("2339-0"), .loinc("39156-5"), .loinc("8480-6")]
        default: candidates = [.loinc("39156-5"), .loinc("8480-6")]
        }
        return candidates.filter { $0 != outcome }
    }
}
