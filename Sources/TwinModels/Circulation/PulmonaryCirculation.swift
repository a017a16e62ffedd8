import Foundation

/// The right heart and the pulmonary circulation, an optional part of ``CirculationModel``: with it, the systemic
/// veins fill a right ventricle, which ejects into the pulmonary arteries; they drain through the pulmonary
/// resistance into the pulmonary veins (with the left atrium), which fill the left ventricle. Without it the
/// systemic veins fill the left ventricle directly (one reservoir for all the capacitance).
///
/// Compartments and values are M. Ursino's, "Interaction between carotid baroregulation and the pulsating heart:
/// a mathematical model", Am. J. Physiol. 275 (1998) H1733-H1747, his Table 1 (human adult), lumped as stated:
/// - both ventricles fill along Ursino's exponential end-diastolic curves, `P = P0·(exp(kE·V) - 1)` (left: P0 1.5
///   mmHg, kE 0.014 /mL; right: P0 1.5 mmHg, kE 0.011 /mL), and contract along `Emax·(V - Vu)` (right: Vu 40.8
///   mL and Emax 1.75 mmHg/mL, a resting value: Ursino's basal 1.412 plus what his reflex adds at rest, 0.282 per
///   unit of the sympathetic signal, taken here as ~0.34 and not checked against a resting figure of his; the
///   left's are ``CirculationModel/Parameters``' `emax` and `v0`), mixed by the
///   activation `a(t)` of the double-Hill curve both ventricles share (as B. W. Smith et al., Med. Eng. Phys. 26
///   (2004) 131-139, drive both): `P = a·Emax·(V - Vu) + (1 - a)·P0·(exp(kE·V) - 1)`, Ursino's own mixing;
/// - tricuspid and pulmonary valves: diodes with Smith et al.'s open resistances (0.0237 and 0.0055 mmHg·s/mL);
/// - pulmonary arteries: Ursino's pulmonary arterial and pulmonary peripheral (capillary) compartments lumped,
///   compliance 0.76 + 5.80 = 6.56 mL/mmHg, unstressed volume 0 + 123 = 123 mL (as public reimplementations of
///   Ursino's model give it; one has 223 mL, and the paper could not be checked here);
/// - pulmonary resistance: his three in series, 0.023 + 0.0894 + 0.0056 = 0.1180 mmHg·s/mL;
/// - pulmonary veins: his pulmonary veins and left atrium lumped, compliance 25.37 + 19.23 = 44.6 mL/mmHg,
///   unstressed volume 120 + 25 = 145 mL.
///
/// At rest (``CirculationModel/Parameters/withPulmonaryCirculation``) it holds about 13 % of the blood, with a mean
/// pulmonary arterial pressure of ~18 mmHg and a pulmonary venous (left atrial) pressure of ~8 mmHg.
public struct PulmonaryCirculation: Sendable, Hashable {
    /// Right-ventricular end-systolic elastance (mmHg/mL) and its unstressed volume (mL).
    public var rightEmax = 1.75, rightV0 = 40.8
    /// End-diastolic pressure-volume curves `P0·(exp(kE·V) - 1)`: P0 (mmHg) and kE (1/mL) of each ventricle.
    public var leftFillingPressure = 1.5, leftFillingStiffness = 0.014
    public var rightFillingPressure = 1.5, rightFillingStiffness = 0.011
    /// Tricuspid and pulmonary valve resistances when open, mmHg·s/mL.
    public var tricuspidValveResistance = 0.0237, pulmonaryValveResistance = 0.0055
    /// Pulmonary arterial compliance (mL/mmHg) and unstressed volume (mL).
    public var arterialCompliance = 6.56, arterialUnstressedVolume = 123.0
    /// Pulmonary vascular resistance, pulmonary arteries to pulmonary veins, mmHg·s/mL.
    public var resistance = 0.1180
    /// Pulmonary venous (with left atrial) compliance (mL/mmHg) and unstressed volume (mL).
    public var venousCompliance = 44.6, venousUnstressedVolume = 145.0

    public init() {}

    /// The parameters by name and unit (the names used in model descriptions and errors).
    public var described: [ModelDescription.Parameter] {
        [.init("Emax_rv", rightEmax, "mm[Hg]/mL"), .init("V0_rv", rightV0, "mL"),
         .init("P0_lv", leftFillingPressure, "mm[Hg]"), .init("kE_lv", leftFillingStiffness, "1/mL"),
         .init("P0_rv", rightFillingPressure, "mm[Hg]"), .init("kE_rv", rightFillingStiffness, "1/mL"),
         .init("Rtv", tricuspidValveResistance, "mm[Hg].s/mL"), .init("Rpv", pulmonaryValveResistance, "mm[Hg].s/mL"),
         .init("Cpa", arterialCompliance, "mL/mm[Hg]"), .init("Vpa0", arterialUnstressedVolume, "mL"),
         .init("Rpul", resistance, "mm[Hg].s/mL"), .init("Cpv", venousCompliance, "mL/mm[Hg]"),
         .init("Vpv0", venousUnstressedVolume, "mL")]
    }

    /// The unstressed volumes of the right ventricle and the pulmonary compartments, mL.
    public var unstressedVolume: Double { rightV0 + arterialUnstressedVolume + venousUnstressedVolume }

    /// Ventricular pressure (mmHg) at volume `v` (mL) and activation `a` in [0, 1]: Ursino's mixing of the
    /// end-systolic line `emax·(v - v0)` and the exponential end-diastolic curve.
    static func ventricularPressure(volume v: Double, activation a: Double, emax: Double, v0: Double,
                                    fillingPressure p0: Double, stiffness k: Double) -> Double {
        // the exponential is capped (at 1000 mL) so a wild trial step cannot overflow
        a * emax * (v - v0) + (1 - a) * p0 * (exp(k * min(v, 1000)) - 1)
    }
}

/// Transcapillary refill: fluid from the tissues enters the blood when capillary pressure falls below its resting
/// value (and leaves when it rises), at `Kf·(Pc,rest - Pc)`, into the systemic veins.
///
/// `Kf` is the whole body's capillary filtration coefficient, 6.67 mL/min/mmHg (A. C. Guyton and J. E. Hall,
/// Textbook of Medical Physiology, chapter "The microcirculation": net filtration pressure 0.3 mmHg x 6.67
/// mL/min/mmHg gives the body's 2 mL/min of net filtration). The capillary pressure is the venous pressure plus a
/// fixed share of the arteriovenous difference, `Pc = Pv + f·(Pa - Pv)`, with `f` 0.2 (a pre- to post-capillary
/// resistance ratio of about 4, J. R. Pappenheimer and A. Soto-Rivera, Am. J. Physiol. 152 (1948) 471-491). The
/// oncotic pressures are held (over minutes the refill dilutes plasma proteins only slightly) and the tissues are
/// an unlimited reservoir: use it for minutes to an hour, not for days.
public struct TranscapillaryRefill: Sendable, Hashable {
    /// Whole-body capillary filtration coefficient, mL/s/mmHg (6.67 mL/min/mmHg).
    public var filtrationCoefficient = 6.67 / 60
    /// The share of the arteriovenous pressure difference above venous pressure at the capillaries.
    public var capillaryFraction = 0.2

    public init() {}

    public var described: [ModelDescription.Parameter] {
        [.init("Kf", filtrationCoefficient, "mL/s/mm[Hg]"), .init("fc", capillaryFraction, "1")]
    }

    /// Capillary pressure (mmHg) for arterial and venous pressures (mmHg).
    public func capillaryPressure(arterial pa: Double, venous pv: Double) -> Double {
        pv + capillaryFraction * (pa - pv)
    }
}
