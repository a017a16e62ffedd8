import Foundation

/// The (sigmoid) Emax pharmacodynamic model: `E = E0 + Emax · C^n / (EC50^n + C^n)`; `n = 1` is the hyperbolic
/// Emax model. Source: N. H. G. Holford, L. B. Sheiner, "Understanding the dose-effect relationship", Clin.
/// Pharmacokinet. 6 (1981) 429-453; Rowland & Tozer 2011, chapter 8.
public struct EmaxModel: Sendable, Hashable, DescribedModel {
    /// Baseline effect (units of the effect).
    public var baseline: Double
    /// Maximum drug effect (may be negative for an inhibitory drug).
    public var emax: Double
    /// Concentration giving half the maximum effect, mg/L.
    public var ec50: Double
    /// Hill coefficient (sigmoidicity), > 0.
    public var hill: Double

    public init(baseline: Double = 0, emax: Double, ec50: Double, hill: Double = 1) throws(ModelError) {
        guard baseline.isFinite else { throw ModelError(.invalidParameter, "Emax: parameter 'baseline' must be finite", value: "\(baseline)") }
        guard emax.isFinite else { throw ModelError(.invalidParameter, "Emax: parameter 'emax' must be finite", value: "\(emax)") }
        try ModelError.requirePositive(ec50, "ec50", in: "Emax")
        try ModelError.requirePositive(hill, "hill", in: "Emax")
        self.baseline = baseline; self.emax = emax; self.ec50 = ec50; self.hill = hill
    }

    /// The effect at concentration `c` (mg/L, clamped at 0).
    public func effect(at c: Double) -> Double {
        let x = max(c, 0)
        if hill == 1 { return baseline + emax * x / (ec50 + x) }
        let cn = pow(x, hill), en = pow(ec50, hill)
        return baseline + emax * cn / (en + cn)
    }

    public var modelDescription: ModelDescription {
        ModelDescription(id: "pd-sigmoid-emax", version: "1",
                         parameters: [.init("E0", baseline, "effect"), .init("Emax", emax, "effect"),
                                      .init("EC50", ec50, "mg/L"), .init("n", hill, "1")],
                         states: [], source: "Holford & Sheiner 1981")
    }
}
