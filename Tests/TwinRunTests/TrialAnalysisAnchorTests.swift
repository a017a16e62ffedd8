import Foundation
import Testing
import TwinSimulation
import TwinTesting
@testable import TwinPrognostic

/// `TrialAnalysis` against an outside reference: the anchor Python's scipy (`ttest_ind(equal_var=False)` and its
/// confidence interval for Welch) and numpy (`lstsq` for the ANCOVA, the covariance σ̂² (XᵀX)⁻¹ and scipy's t for
/// its p-value and interval) on the same seeded, unbalanced data. Skipped, saying why, without the anchor Python.
@Suite("TrialAnalysis against scipy/numpy",
       .enabled(if: SharedFolder.hasAnchorPython,
                "skipped: the anchor Python (with numpy and scipy) is missing (set TWINBANK_ANCHOR_PYTHON or run ../shared/anchors/setup.sh)"))
struct TrialAnalysisAnchorTests {
    static let script = #"""
    import sys, json, numpy as np
    from scipy import stats
    d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
    y, arm, m = d[:, 0], d[:, 1], d[:, 2]
    y1, y0 = y[arm == 1], y[arm == 0]
    w = stats.ttest_ind(y1, y0, equal_var=False)
    ci = w.confidence_interval(0.95)
    v1, v0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
    X = np.column_stack([np.ones_like(y), arm, m])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = len(y) - 3
    s2 = np.sum((y - X @ beta) ** 2) / df
    se = np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1])
    q = stats.t.ppf(0.975, df)
    print(json.dumps({
        "welch_effect": y1.mean() - y0.mean(), "welch_se": float(np.sqrt(v1 + v0)), "welch_df": float(w.df),
        "welch_p": float(w.pvalue), "welch_lower": float(ci.low), "welch_upper": float(ci.high),
        "ols_effect": float(beta[1]), "ols_se": float(se), "ols_p": float(2 * stats.t.sf(abs(beta[1] / se), df)),
        "ols_lower": float(beta[1] - q * se), "ols_upper": float(beta[1] + q * se), "ols_score": float(beta[2])}))
    """#

    @Test(arguments: [(UInt64(1), 0.3), (UInt64(2), 0.7), (UInt64(3), 0.0)])
    func sameEstimatesAsScipy(seed: UInt64, effect: Double) throws {
        let python = try #require(SharedFolder.anchorPython)
        var rng = Xoshiro256StarStar(seed: seed)
        var y: [Double] = [], arm: [Bool] = [], score: [Double] = []
        // 23 treated and 14 control, unequal variances: Welch and the model-based SE differ
        for i in 0..<37 {
            let treated = i % 8 < 5
            let m = 130 + 15 * rng.normal()
            y.append(0.6 * m + 40 + (treated ? effect * 10 + 6 * rng.normal() : 12 * rng.normal()))
            arm.append(treated); score.append(m)
        }
        let ours = try TrialAnalysis.analyze(outcomes: y, treated: arm, scores: score)
        let adjusted = try #require(ours.adjusted)
        let reference = try TemporaryFiles.withDirectory("procova-anchor") { dir -> [String: Double] in
            let csv = dir.appendingPathComponent("trial.csv")
            var text = "outcome,arm,score\n"
            for i in y.indices { text += "\(y[i]),\(arm[i] ? 1 : 0),\(score[i])\n" }
            try text.write(to: csv, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["-c", Self.script, csv.path]
            let pipe = Pipe(), errors = Pipe()
            p.standardOutput = pipe; p.standardError = errors
            try p.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            try #require(p.terminationStatus == 0, "the anchor script failed: \(err.suffix(600))")
            return try JSONDecoder().decode([String: Double].self, from: out)
        }
        func close(_ a: Double, _ key: String, _ tolerance: Double = 1e-9) {
            let b = reference[key] ?? .nan
            #expect(abs(a - b) <= tolerance * max(1, abs(b)), "\(key): ours \(a), scipy/numpy \(b)")
        }
        close(ours.unadjusted.effect, "welch_effect")
        close(ours.unadjusted.standardError, "welch_se")
        close(ours.unadjusted.degreesOfFreedom, "welch_df")
        close(ours.unadjusted.pValue, "welch_p")
        close(ours.unadjusted.lower, "welch_lower")
        close(ours.unadjusted.upper, "welch_upper")
        close(adjusted.effect, "ols_effect")
        close(adjusted.standardError, "ols_se")
        close(adjusted.pValue, "ols_p")
        close(adjusted.lower, "ols_lower")
        close(adjusted.upper, "ols_upper")
        close(try #require(ours.scoreCoefficient), "ols_score")
    }
}
