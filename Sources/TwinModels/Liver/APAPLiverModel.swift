import TwinSimulation

/// Acetaminophen (APAP, paracetamol) metabolism and toxicity in the liver, with glutathione depletion: the
/// 5-state model of Reddyhoff et al. 2015 plus an N-acetylcysteine (NAC) treatment state.
///
/// Source: D. Reddyhoff, J. Ward, D. Williams, S. Regan, S. Webb, "Timescale analysis of a mathematical model of
/// acetaminophen metabolism and toxicity", J. Theor. Biol. 386 (2015) 132-146; BioModels BIOMD0000000609.
/// Equations and parameter values as in `shared/data/models/apap_reddyhoff2015_reconstructed.xml` (time in
/// hours; amounts in the model's units, ~1e-13): APAP is sulphated (with PAPS, `kS`), glucuronidated (`kG`)
/// and oxidised by CYP450 (`k450`) to NAPQI; NAPQI is reduced back (`kN`), binds protein (`kPSH`, forming
/// adducts, the toxicity marker) or is conjugated by glutathione (`kGSH`); GSH and PAPS are synthesised at
/// constant rates (`bG`, `bS`) and decay (`dG`, `dS`).
///
/// NAC term (the intervention; not part of Reddyhoff's model): NAC is a cysteine donor that raises hepatic GSH
/// synthesis, the mechanism by which it rescues APAP overdose (Lauterburg, Corcoran, Mitchell, J. Clin. Invest.
/// 71 (1983) 980-991; modelled as increased GSH synthesis by Ben-Shachar et al., Theor. Biol. Med. Model. 9 (2012)
/// 55). GSH synthesis is feedback-inhibited by GSH itself (Richman and Meister, J. Biol. Chem. 250 (1975)
/// 1422-1426), so the extra synthesis vanishes as GSH returns to its baseline `Gb = bG/dG`: synthesis is
/// `bG · (1 + nacSynthesisGain · C · max(0, 1 - GSH/Gb))`. `C` is a dimensionless NAC state (1 = one standard
/// dose) eliminated first-order with NAC's plasma half-life (5.6 h; Olsson et al., Eur. J. Clin. Pharmacol. 34
/// (1988) 77-82). The gain (default 3: synthesis up to four-fold when GSH is depleted) is a modelling assumption,
/// not a fitted value. NAC restores GSH towards, never above, its baseline. With no NAC given, `C` stays 0 and
/// the model is exactly Reddyhoff's.
///
/// State order: `APAP`, `NAPQI`, `GSH`, `PAPS`, `Adducts`, `NAC`.
public struct APAPLiverModel: ODESystem, Sendable, DescribedModel {
    /// Parameters of Reddyhoff et al. 2015 (reconstructed SBML) and of the NAC term.
    public struct Parameters: Sendable, Hashable {
        /// APAP dose: initial amount, model units.
        public var P0 = 1.32e-13
        /// GSH decay and synthesis: 1/h, model units/h.
        public var dG = 2.0, bG = 1.374e-14
        /// NAPQI-GSH conjugation, 1/(units·h).
        public var kGSH = 1.6e18
        /// Glucuronidation, 1/h.
        public var kG = 2.99
        /// Sulphation, 1/(units·h); PAPS synthesis (units/h) and decay (1/h).
        public var kS = 2.26e14, bS = 2.65e-14, dS = 2.0
        /// CYP450 oxidation to NAPQI, NAPQI reduction to APAP, NAPQI protein binding: 1/h.
        public var k450 = 0.315, kN = 0.0315, kPSH = 110.0
        /// NAC elimination rate, 1/h (ln 2 / 5.6 h).
        public var kNAC = 0.6931471805599453 / 5.6
        /// Fold increase of GSH synthesis per unit NAC state (assumption, see the type's documentation).
        public var nacSynthesisGain = 3.0

        public init() {}

        public var described: [ModelDescription.Parameter] {
            [.init("P0", P0, "amount"), .init("dG", dG, "1/h"), .init("bG", bG, "amount/h"),
             .init("kGSH", kGSH, "1/(amount.h)"), .init("kG", kG, "1/h"), .init("kS", kS, "1/(amount.h)"),
             .init("bS", bS, "amount/h"), .init("dS", dS, "1/h"), .init("k450", k450, "1/h"), .init("kN", kN, "1/h"),
             .init("kPSH", kPSH, "1/h"), .init("kNAC", kNAC, "1/h"), .init("nacSynthesisGain", nacSynthesisGain, "1")]
        }

        /// Throws `invalidParameter` naming the first parameter that is negative or not finite.
        public func validate() throws(ModelError) {
            for p in described { try ModelError.requireNonNegative(p.value, p.name, in: "APAP liver") }
        }
    }

    public var parameters: Parameters

    public init(parameters: Parameters = Parameters()) { self.parameters = parameters }

    public static let stateNames = ["APAP", "NAPQI", "GSH", "PAPS", "Adducts", "NAC"]
    public var dimension: Int { 6 }
    public var variableNames: [String] { Self.stateNames }

    /// Reddyhoff's initial state: APAP at the dose, GSH and PAPS at their drug-free steady states `bG/dG`,
    /// `bS/dS`, no NAPQI, adducts or NAC.
    public var initialState: [Double] {
        let p = parameters
        return [p.P0, 0, p.bG / p.dG, p.bS / p.dS, 0, 0]
    }

    public var modelDescription: ModelDescription {
        ModelDescription(id: "apap-liver-reddyhoff2015-nac", version: "1", parameters: parameters.described,
                         states: Self.stateNames.map { .init($0, $0 == "NAC" ? "1" : "amount") },
                         source: "Reddyhoff et al. 2015 (BIOMD0000000609); NAC term after Lauterburg 1983, Ben-Shachar 2012")
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let p = parameters
        let a = y[0], n = y[1], g = y[2], s = y[3], c = y[5]
        let sulphation = p.kS * a * s
        let conjugation = p.kGSH * n * g
        dy[0] = -p.k450 * a + p.kN * n - p.kG * a - sulphation
        dy[1] = p.k450 * a - p.kN * n - p.kPSH * n - conjugation
        let gb = p.bG / p.dG
        dy[2] = p.bG * (1 + p.nacSynthesisGain * c * max(0, 1 - g / gb)) - p.dG * g - conjugation
        dy[3] = p.bS - p.dS * s - sulphation
        dy[4] = p.kPSH * n
        dy[5] = -p.kNAC * c
    }

    public func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        let p = parameters
        let a = y[0], n = y[1], g = y[2], s = y[3], c = y[5]
        let gb = p.bG / p.dG
        let deficit = max(0, 1 - g / gb)
        for i in 0..<36 { j[i] = 0 }
        // row 0: APAP
        j[0] = -p.k450 - p.kG - p.kS * s; j[1] = p.kN; j[3] = -p.kS * a
        // row 1: NAPQI
        j[6] = p.k450; j[7] = -p.kN - p.kPSH - p.kGSH * g; j[8] = -p.kGSH * n
        // row 2: GSH
        j[13] = -p.kGSH * g; j[14] = -p.dG - p.kGSH * n; j[17] = p.bG * p.nacSynthesisGain * deficit
        if deficit > 0 { j[14] -= p.bG * p.nacSynthesisGain * c / gb }
        // row 3: PAPS
        j[18] = -p.kS * s; j[21] = -p.dS - p.kS * a
        // row 4: adducts
        j[25] = p.kPSH
        // row 5: NAC
        j[35] = -p.kNAC
        return true
    }
}
