import Foundation
import TwinSimulation

/// A closed-loop lumped model of the systemic circulation: a time-varying elastance left ventricle, a
/// three-element Windkessel arterial tree and a venous (capacitance) reservoir that fills the ventricle.
///
/// Sources: H. Suga, K. Sagawa, A. A. Shoukas, "Load independence of the instantaneous pressure-volume ratio of
/// the canine left ventricle", Circ. Res. 32 (1973) 314-322 (time-varying elastance);
/// N. Stergiopulos, J.-J. Meister, N. Westerhof, "Determinants of stroke volume and systolic and diastolic aortic
/// pressure", Am. J. Physiol. 270 (1996) H2050-H2059 (normalised double-Hill elastance curve and 3-element
/// Windkessel); B. W. Smith et al., "Minimal haemodynamic system model including ventricular interaction and
/// valve dynamics", Med. Eng. Phys. 26 (2004) 131-139 (closed loop with diode valves). Default values are
/// typical healthy-adult values of these papers, slightly adjusted so that the resting output is ~120/80 mmHg,
/// SV ~70 mL at 75 beats/min.
///
/// States (mL): `Vlv` left-ventricular volume, `Va` arterial volume, `Vv` venous volume.
/// `Plv = E(t)(Vlv - V0)`, `Pa = (Va - Va0)/Ca`, `Pv = (Vv - Vv0)/Cv`; mitral flow `max(Pv - Plv, 0)/Rmv`,
/// aortic flow `max(Plv - Pa, 0)/(Rav + Zc)`, peripheral flow `(Pa - Pv)/Rp`; aortic pressure `Pa + Zc·Qao`.
/// Pressures in mmHg, flows in mL/s, time in s. Total blood volume is conserved except for haemorrhage.
///
/// Limits: there is no baroreflex, no right heart or pulmonary circulation (the venous reservoir stands for the
/// whole capacitance side) and no autoregulation, so responses are the uncompensated, open-loop ones: a 10 %
/// haemorrhage roughly halves stroke volume and mean pressure here, where an intact person compensates with heart
/// rate and venous tone. Use it for the direction and relative size of acute responses, not for absolute values
/// after compensation.
public struct CirculationModel: ODESystem, Sendable, DescribedModel {
    public struct Parameters: Sendable, Hashable {
        /// Heart rate, beats/min.
        public var heartRate = 75.0
        /// End-systolic (maximum) and diastolic (minimum) LV elastance, mmHg/mL; LV unstressed volume, mL.
        public var emax = 2.3, emin = 0.06, v0 = 10.0
        /// Systemic peripheral resistance, mmHg·s/mL.
        public var peripheralResistance = 1.05
        /// Characteristic impedance of the aorta, mmHg·s/mL.
        public var characteristicImpedance = 0.04
        /// Aortic and mitral valve resistances when open, mmHg·s/mL.
        public var aorticValveResistance = 0.004, mitralValveResistance = 0.01
        /// Arterial compliance (mL/mmHg) and unstressed volume (mL).
        public var arterialCompliance = 1.4, arterialUnstressedVolume = 700.0
        /// Venous compliance (mL/mmHg) and unstressed volume (mL).
        public var venousCompliance = 100.0, venousUnstressedVolume = 3300.0
        /// Total blood volume at the start, mL.
        public var bloodVolume = 5000.0

        public init() {}

        public var described: [ModelDescription.Parameter] {
            [.init("HR", heartRate, "1/min"), .init("Emax", emax, "mm[Hg]/mL"), .init("Emin", emin, "mm[Hg]/mL"),
             .init("V0", v0, "mL"), .init("Rp", peripheralResistance, "mm[Hg].s/mL"),
             .init("Zc", characteristicImpedance, "mm[Hg].s/mL"), .init("Rav", aorticValveResistance, "mm[Hg].s/mL"),
             .init("Rmv", mitralValveResistance, "mm[Hg].s/mL"), .init("Ca", arterialCompliance, "mL/mm[Hg]"),
             .init("Va0", arterialUnstressedVolume, "mL"), .init("Cv", venousCompliance, "mL/mm[Hg]"),
             .init("Vv0", venousUnstressedVolume, "mL"), .init("Vblood", bloodVolume, "mL")]
        }

        /// Throws `invalidParameter` naming the first parameter that is not positive (or, for unstressed
        /// volumes, negative) and finite, or when the unstressed volumes exceed the blood volume.
        public func validate() throws(ModelError) {
            for p in described {
                if p.name == "Va0" || p.name == "Vv0" || p.name == "V0" {
                    try ModelError.requireNonNegative(p.value, p.name, in: "circulation")
                } else {
                    try ModelError.requirePositive(p.value, p.name, in: "circulation")
                }
            }
            guard emax > emin else {
                throw ModelError(.invalidParameter, "circulation: Emax (\(emax)) must exceed Emin (\(emin))", value: "\(emax)")
            }
            guard bloodVolume > arterialUnstressedVolume + venousUnstressedVolume + v0 else {
                throw ModelError(.invalidParameter, "circulation: blood volume \(bloodVolume) mL does not exceed the unstressed volumes",
                                 value: "\(bloodVolume)")
            }
        }
    }

    public var parameters: Parameters
    /// Multiplier of the peripheral resistance over time (a vasoactive drug): (time s, factor) changes.
    public var resistanceChanges: [(time: Double, factor: Double)]
    /// Bleeding: (start s, end s, rate mL/s) out of the venous reservoir.
    public var bleeding: [(start: Double, end: Double, rate: Double)]
    let period: Double
    let tmax: Double
    let elastanceScale: Double

    public init(parameters: Parameters = Parameters(), resistanceChanges: [(time: Double, factor: Double)] = [],
                bleeding: [(start: Double, end: Double, rate: Double)] = []) {
        self.parameters = parameters
        self.resistanceChanges = resistanceChanges.sorted { $0.time < $1.time }
        self.bleeding = bleeding
        period = 60 / parameters.heartRate
        tmax = 0.2 + 0.15 * period
        // Normalise the double-Hill curve to a peak of exactly 1.
        var peak = 0.0
        for i in 0...4000 { peak = max(peak, Self.doubleHill(Double(i) / 2000)) }
        elastanceScale = 1 / peak
    }

    public static let stateNames = ["Vlv", "Va", "Vv"]
    public var dimension: Int { 3 }
    public var variableNames: [String] { Self.stateNames }

    public var modelDescription: ModelDescription {
        ModelDescription(id: "circulation-elastance-windkessel", version: "1", parameters: parameters.described,
                         states: Self.stateNames.map { .init($0, "mL") },
                         source: "Suga et al. 1973; Stergiopulos et al. 1996; Smith et al. 2004")
    }

    static func doubleHill(_ tn: Double) -> Double {
        let a = pow(tn / 0.7, 1.9)
        return a / (1 + a) / (1 + pow(tn / 1.17, 21.9))
    }

    /// Normalised activation `e(t)` in [0, 1], periodic with the cardiac period.
    public func activation(at t: Double) -> Double {
        let tc = t - (t / period).rounded(.down) * period
        return elastanceScale * Self.doubleHill(tc / tmax)
    }

    /// Peripheral resistance at time t, with the drug's factor.
    public func peripheralResistance(at t: Double) -> Double {
        var f = 1.0
        for c in resistanceChanges { if c.time <= t { f = c.factor } else { break } }
        return parameters.peripheralResistance * f
    }

    func bleedingRate(at t: Double) -> Double {
        var r = 0.0
        for b in bleeding where t >= b.start && t < b.end { r += b.rate }
        return r
    }

    /// Pressures (mmHg) and flows (mL/s) at (t, y).
    public func haemodynamics(t: Double, vlv: Double, va: Double, vv: Double)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let p = parameters
        let e = p.emin + (p.emax - p.emin) * activation(at: t)
        let plv = e * (vlv - p.v0)
        let pa = (va - p.arterialUnstressedVolume) / p.arterialCompliance
        let pv = (vv - p.venousUnstressedVolume) / p.venousCompliance
        let qao = max(plv - pa, 0) / (p.aorticValveResistance + p.characteristicImpedance)
        let qmv = max(pv - plv, 0) / p.mitralValveResistance
        let qp = (pa - pv) / peripheralResistance(at: t)
        return (plv, pa, pv, pa + p.characteristicImpedance * qao, qao, qmv, qp)
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let h = haemodynamics(t: t, vlv: y[0], va: y[1], vv: y[2])
        dy[0] = h.qmv - h.qao
        dy[1] = h.qao - h.qp
        dy[2] = h.qp - h.qmv - bleedingRate(at: t)
    }

    /// A starting state: LV at 120 mL, arteries at 90 mmHg, the rest of the blood in the veins.
    public var initialState: [Double] {
        let p = parameters
        let vlv = 120.0
        let va = p.arterialUnstressedVolume + 90 * p.arterialCompliance
        return [vlv, va, p.bloodVolume - vlv - va]
    }
}
