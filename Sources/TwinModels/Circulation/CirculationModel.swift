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
/// With a ``Baroreflex`` (Ursino 1998), the arterial pressure is held by the reflex: heart rate, contractility
/// (Emax), peripheral resistance and venous unstressed volume answer it, and the heart period varies beat by beat
/// (a cardiac phase state `φ`, `dφ/dt = 1/T(t)`, sets where in its beat the ventricle is). Without one, responses
/// are the uncompensated, open-loop ones: a 10 % haemorrhage roughly halves stroke volume and mean pressure.
///
/// Limits: no right heart or pulmonary circulation (the venous reservoir stands for the whole capacitance side),
/// no cardiopulmonary reflex, no autoregulation or fluid shifts from the tissues. Use it for the direction and
/// size of acute responses over minutes.
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
    /// The arterial baroreflex, or nil for the open-loop circulation.
    public let baroreflex: Baroreflex?
    /// The resting heart period, s (`60 / heartRate`).
    let period: Double
    let tmax: Double
    let elastanceScale: Double
    /// The reflex's efferent signals at rest (mean sympathetic effector signal, mean vagal firing), which the
    /// effectors answer deviations from.
    public let reference: (sympathetic: Double, vagal: Double)

    /// A circulation; with a baroreflex, `reference` is its resting efferent activity (from
    /// ``CirculationSimulator/rest(_:_:)``; nil: the activity for a steady pressure at the sigmoid's centre, which a
    /// pulsatile circulation is not at, so the reflex then moves the resting state).
    public init(parameters: Parameters = Parameters(), resistanceChanges: [(time: Double, factor: Double)] = [],
                bleeding: [(start: Double, end: Double, rate: Double)] = [], baroreflex: Baroreflex? = nil,
                reference: (sympathetic: Double, vagal: Double)? = nil) {
        self.parameters = parameters
        self.resistanceChanges = resistanceChanges.sorted { $0.time < $1.time }
        self.bleeding = bleeding
        self.baroreflex = baroreflex
        period = 60 / parameters.heartRate
        tmax = 0.2 + 0.15 * period
        // Normalise the double-Hill curve to a peak of exactly 1.
        var peak = 0.0
        for i in 0...4000 { peak = max(peak, Self.doubleHill(Double(i) / 2000)) }
        elastanceScale = 1 / peak
        if let reference {
            self.reference = reference
        } else if let b = baroreflex {
            let fcs = b.sinusFiring(b.centre)
            self.reference = (b.sympatheticSignal(b.sympatheticFiring(fcs)), b.vagalFiring(fcs))
        } else {
            self.reference = (0, 0)
        }
    }

    public static let stateNames = ["Vlv", "Va", "Vv"]
    /// The states the baroreflex adds: the cardiac phase (beats), the sensed pressure (mmHg), the delayed
    /// sympathetic (two lags for the 2 s delay, two for the 5 s one) and vagal firings (spikes/s), and the
    /// effectors' deviations: heart period sympathetic and vagal parts (s), Emax (mmHg/mL), relative resistance,
    /// venous unstressed volume (mL).
    public static let baroreflexStateNames = ["phase", "Psensed", "fesD1", "fesD2", "fesVu1", "fesVu2", "fevD",
                                              "dTs", "dTv", "dEmax", "dR", "dVu"]
    public var dimension: Int { baroreflex == nil ? 3 : 3 + Self.baroreflexStateNames.count }
    public var variableNames: [String] { baroreflex == nil ? Self.stateNames : Self.stateNames + Self.baroreflexStateNames }

    public var modelDescription: ModelDescription {
        if baroreflex != nil {
            return ModelDescription(id: "circulation-elastance-windkessel-baroreflex", version: "1", parameters: parameters.described,
                                    states: Self.stateNames.map { .init($0, "mL") } + Self.baroreflexStateNames.map { .init($0, "1") },
                                    source: "Suga et al. 1973; Stergiopulos et al. 1996; Smith et al. 2004; Ursino 1998 (baroreflex)")
        }
        return ModelDescription(id: "circulation-elastance-windkessel", version: "1", parameters: parameters.described,
                                states: Self.stateNames.map { .init($0, "mL") },
                                source: "Suga et al. 1973; Stergiopulos et al. 1996; Smith et al. 2004")
    }

    static func doubleHill(_ tn: Double) -> Double {
        let a = pow(tn / 0.7, 1.9)
        return a / (1 + a) / (1 + pow(tn / 1.17, 21.9))
    }

    /// Normalised activation `e(t)` in [0, 1], periodic with the cardiac period.
    public func activation(at t: Double) -> Double {
        // max: at a whole number of periods, rounding can leave tc a hair below 0, where the double-Hill's
        // fractional power is NaN (seen as a NaN mean pressure in a beat sampled exactly there)
        let tc = max(t - (t / period).rounded(.down) * period, 0)
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

    /// Pressures (mmHg) and flows (mL/s) at (t, y) of the open-loop model (the resting heart period, Emax,
    /// resistance and unstressed volumes).
    public func haemodynamics(t: Double, vlv: Double, va: Double, vv: Double)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let p = parameters
        return haemodynamics(vlv: vlv, va: va, vv: vv, activation: activation(at: t), emax: p.emax,
                             resistance: peripheralResistance(at: t), venousUnstressedVolume: p.venousUnstressedVolume)
    }

    /// The effectors' values in state `y` (with the baroreflex: its deviations added; without: the parameters).
    public func effectors(t: Double, y: UnsafeBufferPointer<Double>)
        -> (period: Double, emax: Double, resistance: Double, venousUnstressedVolume: Double, activation: Double) {
        let p = parameters
        guard baroreflex != nil else {
            return (period, p.emax, peripheralResistance(at: t), p.venousUnstressedVolume, activation(at: t))
        }
        let heartPeriod = max(period + y[10] + y[11], 0.2)           // at most 300 beats/min
        let emax = max(p.emax + y[12], p.emin * 2)
        let resistance = peripheralResistance(at: t) * max(1 + y[13], 0.1)
        let unstressed = max(p.venousUnstressedVolume + y[14], 0)
        let phase = y[3]
        let tc = (phase - phase.rounded(.down)) * heartPeriod
        let act = elastanceScale * Self.doubleHill(tc / (0.2 + 0.15 * heartPeriod))
        return (heartPeriod, emax, resistance, unstressed, act)
    }

    func haemodynamics(vlv: Double, va: Double, vv: Double, activation: Double, emax: Double, resistance: Double,
                       venousUnstressedVolume: Double)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let p = parameters
        let e = p.emin + (emax - p.emin) * activation
        let plv = e * (vlv - p.v0)
        let pa = (va - p.arterialUnstressedVolume) / p.arterialCompliance
        let pv = (vv - venousUnstressedVolume) / p.venousCompliance
        let qao = max(plv - pa, 0) / (p.aorticValveResistance + p.characteristicImpedance)
        let qmv = max(pv - plv, 0) / p.mitralValveResistance
        let qp = (pa - pv) / resistance
        return (plv, pa, pv, pa + p.characteristicImpedance * qao, qao, qmv, qp)
    }

    /// Pressures (mmHg) and flows (mL/s) in state `y` at time `t`, with the baroreflex's effectors when there is one.
    public func haemodynamics(t: Double, y: UnsafeBufferPointer<Double>)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let e = effectors(t: t, y: y)
        return haemodynamics(vlv: y[0], va: y[1], vv: y[2], activation: e.activation, emax: e.emax, resistance: e.resistance,
                             venousUnstressedVolume: e.venousUnstressedVolume)
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let e = effectors(t: t, y: y)
        let h = haemodynamics(vlv: y[0], va: y[1], vv: y[2], activation: e.activation, emax: e.emax, resistance: e.resistance,
                              venousUnstressedVolume: e.venousUnstressedVolume)
        dy[0] = h.qmv - h.qao
        dy[1] = h.qao - h.qp
        dy[2] = h.qp - h.qmv - bleedingRate(at: t)
        guard let b = baroreflex else { return }
        // cardiac phase and the afferent pathway: the sensed arterial pressure with its rate of change
        dy[3] = 1 / e.period
        let dPa = dy[1] / parameters.arterialCompliance
        dy[4] = (h.pa + b.tauZ * dPa - y[4]) / b.tauP
        let fcs = b.sinusFiring(y[4])
        let fes = b.sympatheticFiring(fcs), fev = b.vagalFiring(fcs)
        // the delays as lags: two of half the delay each (sympathetic 2 s, venous unstressed volume 5 s), one vagal
        let half = max(b.sympatheticDelay / 2, 1e-3), halfVu = max(b.unstressedVolumeDelay / 2, 1e-3), vagal = max(b.vagalDelay, 1e-3)
        dy[5] = (fes - y[5]) / half
        dy[6] = (y[5] - y[6]) / half
        dy[7] = (fes - y[7]) / halfVu
        dy[8] = (y[7] - y[8]) / halfVu
        dy[9] = (fev - y[9]) / vagal
        // effectors: first-order answers to their efferent signal's deviation from the set point's
        let sympathetic = b.sensitivity * (b.sympatheticSignal(y[6]) - reference.sympathetic)
        let sympatheticVu = b.sensitivity * (b.sympatheticSignal(y[8]) - reference.sympathetic)
        let vagalSignal = b.sensitivity * (y[9] - reference.vagal)
        dy[10] = (b.periodSympatheticGain * sympathetic - y[10]) / b.periodSympatheticTime
        dy[11] = (b.periodVagalGain * vagalSignal - y[11]) / b.periodVagalTime
        dy[12] = (b.emaxGain * sympathetic - y[12]) / b.emaxTime
        dy[13] = (b.resistanceGain * sympathetic - y[13]) / b.resistanceTime
        dy[14] = (b.unstressedVolumeGain * sympatheticVu - y[14]) / b.unstressedVolumeTime
    }

    /// A starting state: LV at 120 mL, arteries at 90 mmHg, the rest of the blood in the veins; with the baroreflex,
    /// the sensed pressure at the sigmoid's centre and every effector at rest (``CirculationSimulator/rest(_:_:)``
    /// gives the periodic resting state instead).
    public var initialState: [Double] {
        let p = parameters
        let vlv = 120.0
        let va = p.arterialUnstressedVolume + 90 * p.arterialCompliance
        let volumes = [vlv, va, p.bloodVolume - vlv - va]
        guard let b = baroreflex else { return volumes }
        let fcs = b.sinusFiring(b.centre)
        let fes = b.sympatheticFiring(fcs), fev = b.vagalFiring(fcs)
        return volumes + [0, b.centre, fes, fes, fes, fes, fev, 0, 0, 0, 0, 0]
    }
}
