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
/// Two layouts. By default (`Parameters()`) one venous reservoir stands for the whole capacitance side and fills
/// the left ventricle; with ``Parameters/pulmonary`` (``Parameters/withPulmonaryCirculation`` is the calibrated
/// person) the systemic veins fill a right ventricle that pumps through the pulmonary circulation into the
/// pulmonary veins, which fill the left ventricle (``PulmonaryCirculation``, Ursino 1998's compartments), and
/// ``Parameters/refill`` adds fluid from the tissues when capillary pressure falls (``TranscapillaryRefill``).
/// The states the pulmonary circulation adds (`Vrv`, `Vpa`, `Vpv`) follow the baroreflex's, and the refill's
/// (`Vrefill`) come last, so the one-reservoir model's states and figures are unchanged.
///
/// Limits: no cardiopulmonary (low-pressure) reflex, no autoregulation, no ventricular interaction, atria lumped
/// into the veins; the one-reservoir layout loses about twice the stroke volume a person loses to a given bleed
/// (`BaroreflexTests`). Use it for the direction and size of acute responses over minutes.
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
        /// The right heart and pulmonary circulation between the systemic veins and the left ventricle, or nil for
        /// the one-reservoir layout (the systemic veins fill the left ventricle). With it the left ventricle fills
        /// along Ursino's exponential end-diastolic curve (``PulmonaryCirculation``), so `emin` is not used.
        /// Setting it alone moves blood into new unstressed volumes; ``withPulmonaryCirculation`` is the
        /// calibrated two-circuit person.
        public var pulmonary: PulmonaryCirculation? = nil
        /// Fluid shift from the tissues (``TranscapillaryRefill``), or nil for none.
        public var refill: TranscapillaryRefill? = nil

        public init() {}

        /// A resting adult with the right heart and pulmonary circulation and transcapillary refill, Ursino 1998's
        /// compartments (``PulmonaryCirculation``). From his Table 1: blood volume 5300 mL; systemic venous
        /// unstressed volume 2521 mL and compliance 142.36 mL/mmHg (his splanchnic, extrasplanchnic and right
        /// atrial 1121 + 1375 + 25 mL and 61.11 + 50 + 31.25 mL/mmHg); left-ventricular unstressed volume 16.77 mL.
        /// The unstressed volumes then sum to 3547 mL, a stressed volume of 1753 mL. Tuned on resting values only
        /// (~120/80 mmHg, stroke volume ~70 mL at 75 beats/min): Emax 2.95 mmHg/mL, peripheral resistance
        /// 1.0 mmHg·s/mL, arterial compliance 1.6 mL/mmHg (the arterial unstressed volume stays 700 mL). The blood
        /// then sits ~16 % in the arteries, ~66 % in the systemic veins, ~13 % in the pulmonary circulation and
        /// ~5 % in the ventricles.
        public static var withPulmonaryCirculation: Parameters {
            var p = Parameters()
            p.pulmonary = PulmonaryCirculation()
            p.refill = TranscapillaryRefill()
            p.bloodVolume = 5300
            p.venousUnstressedVolume = 2521
            p.venousCompliance = 142.36
            p.v0 = 16.77
            p.emax = 2.95
            p.peripheralResistance = 1.0
            p.arterialCompliance = 1.6
            return p
        }

        /// The unstressed volumes of every compartment, mL; the blood volume less this is the stressed volume.
        public var unstressedVolume: Double {
            arterialUnstressedVolume + venousUnstressedVolume + v0 + (pulmonary?.unstressedVolume ?? 0)
        }

        public var described: [ModelDescription.Parameter] {
            [.init("HR", heartRate, "1/min"), .init("Emax", emax, "mm[Hg]/mL"), .init("Emin", emin, "mm[Hg]/mL"),
             .init("V0", v0, "mL"), .init("Rp", peripheralResistance, "mm[Hg].s/mL"),
             .init("Zc", characteristicImpedance, "mm[Hg].s/mL"), .init("Rav", aorticValveResistance, "mm[Hg].s/mL"),
             .init("Rmv", mitralValveResistance, "mm[Hg].s/mL"), .init("Ca", arterialCompliance, "mL/mm[Hg]"),
             .init("Va0", arterialUnstressedVolume, "mL"), .init("Cv", venousCompliance, "mL/mm[Hg]"),
             .init("Vv0", venousUnstressedVolume, "mL"), .init("Vblood", bloodVolume, "mL")] + (pulmonary?.described ?? [])
                + (refill?.described ?? [])
        }

        /// Throws `invalidParameter` naming the first parameter that is not positive (or, for unstressed
        /// volumes, negative) and finite, or when the unstressed volumes exceed the blood volume.
        public func validate() throws(ModelError) {
            for p in described {
                if ["Va0", "Vv0", "V0", "V0_rv", "Vpa0", "Vpv0"].contains(p.name) {
                    try ModelError.requireNonNegative(p.value, p.name, in: "circulation")
                } else {
                    try ModelError.requirePositive(p.value, p.name, in: "circulation")
                }
            }
            guard emax > emin else {
                throw ModelError(.invalidParameter, "circulation: Emax (\(emax)) must exceed Emin (\(emin))", value: "\(emax)")
            }
            if let r = refill, r.capillaryFraction > 1 {
                throw ModelError(.invalidParameter, "circulation: the capillary fraction fc must be in (0, 1], got \(r.capillaryFraction)",
                                 value: "\(r.capillaryFraction)")
            }
            guard bloodVolume > unstressedVolume else {
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
    /// The capillary pressure at rest (mmHg), which transcapillary refill answers deviations from.
    public let restingCapillaryPressure: Double

    /// A circulation; with a baroreflex, `reference` is its resting efferent activity (from
    /// ``CirculationSimulator/rest(_:_:)``; nil: the activity for a steady pressure at the sigmoid's centre, which a
    /// pulsatile circulation is not at, so the reflex then moves the resting state). With transcapillary refill,
    /// `restingCapillaryPressure` is the capillary pressure at which no fluid shifts (``CirculationSimulator`` finds
    /// it at rest).
    public init(parameters: Parameters = Parameters(), resistanceChanges: [(time: Double, factor: Double)] = [],
                bleeding: [(start: Double, end: Double, rate: Double)] = [], baroreflex: Baroreflex? = nil,
                reference: (sympathetic: Double, vagal: Double)? = nil, restingCapillaryPressure: Double = 0) {
        self.restingCapillaryPressure = restingCapillaryPressure
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
    /// The states the pulmonary circulation adds (mL), after the baroreflex's: right ventricle, pulmonary
    /// arteries, pulmonary veins.
    public static let pulmonaryStateNames = ["Vrv", "Vpa", "Vpv"]

    /// The state transcapillary refill adds, last: the volume that has entered the blood from the tissues (mL).
    public static let refillStateNames = ["Vrefill"]

    /// Index of the first pulmonary state (`Vrv`), or nil without a pulmonary circulation.
    public var pulmonaryIndex: Int? {
        parameters.pulmonary == nil ? nil : 3 + (baroreflex == nil ? 0 : Self.baroreflexStateNames.count)
    }

    /// Index of the refill state (`Vrefill`), or nil without transcapillary refill.
    public var refillIndex: Int? {
        parameters.refill == nil ? nil : dimension - 1
    }

    public var dimension: Int { variableNames.count }
    public var variableNames: [String] {
        Self.stateNames + (baroreflex == nil ? [] : Self.baroreflexStateNames) + (parameters.pulmonary == nil ? [] : Self.pulmonaryStateNames)
            + (parameters.refill == nil ? [] : Self.refillStateNames)
    }

    public var modelDescription: ModelDescription {
        let lungs = parameters.pulmonary != nil
        let volumes = Self.stateNames.map { ModelDescription.State($0, "mL") }
        let reflex = baroreflex == nil ? [] : Self.baroreflexStateNames.map { ModelDescription.State($0, "1") }
        let pulmonary = lungs ? Self.pulmonaryStateNames.map { ModelDescription.State($0, "mL") } : []
        let refill = parameters.refill == nil ? [] : Self.refillStateNames.map { ModelDescription.State($0, "mL") }
        let id = "circulation-elastance-windkessel" + (lungs ? "-pulmonary" : "") + (parameters.refill == nil ? "" : "-refill")
            + (baroreflex == nil ? "" : "-baroreflex")
        let source = "Suga et al. 1973; Stergiopulos et al. 1996; Smith et al. 2004" + (lungs ? "; Ursino 1998 (pulmonary circulation)" : "")
            + (parameters.refill == nil ? "" : "; Guyton & Hall (capillary filtration)") + (baroreflex == nil ? "" : "; Ursino 1998 (baroreflex)")
        return ModelDescription(id: id, version: "1", parameters: parameters.described, states: volumes + reflex + pulmonary + refill,
                                source: source)
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

    /// Pressures (mmHg) and flows (mL/s) at (t, y) of the open-loop one-reservoir model (the resting heart
    /// period, Emax, resistance and unstressed volumes).
    public func haemodynamics(t: Double, vlv: Double, va: Double, vv: Double)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let p = parameters
        return haemodynamics(vlv: vlv, va: va, vv: vv, activation: activation(at: t), emax: p.emax,
                             resistance: peripheralResistance(at: t), venousUnstressedVolume: p.venousUnstressedVolume)
    }

    /// The effectors' values in state `y` (with the baroreflex: its deviations added; without: the parameters).
    /// `emax` is the left ventricle's; the right ventricle's moves with it in Ursino's ratio of gains.
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
        let plv: Double
        if let r = p.pulmonary {
            plv = PulmonaryCirculation.ventricularPressure(volume: vlv, activation: activation, emax: emax, v0: p.v0,
                                                           fillingPressure: r.leftFillingPressure, stiffness: r.leftFillingStiffness)
        } else {
            plv = (p.emin + (emax - p.emin) * activation) * (vlv - p.v0)
        }
        let pa = (va - p.arterialUnstressedVolume) / p.arterialCompliance
        let pv = (vv - venousUnstressedVolume) / p.venousCompliance
        let qao = max(plv - pa, 0) / (p.aorticValveResistance + p.characteristicImpedance)
        let qmv = max(pv - plv, 0) / p.mitralValveResistance
        let qp = (pa - pv) / resistance
        return (plv, pa, pv, pa + p.characteristicImpedance * qao, qao, qmv, qp)
    }

    /// Pressures (mmHg) and flows (mL/s) of the right heart and pulmonary circulation.
    struct PulmonaryFlows {
        var prv = 0.0, ppa = 0.0, ppv = 0.0
        /// Tricuspid, pulmonary valve, pulmonary vascular and mitral flows.
        var qtv = 0.0, qpvalve = 0.0, qpul = 0.0, qmv = 0.0
    }

    /// The right heart's and pulmonary circulation's pressures and flows in state `y` (with `index` its first
    /// state), given the systemic venous and left-ventricular pressures.
    func pulmonaryFlows(_ r: PulmonaryCirculation, y: UnsafeBufferPointer<Double>, index: Int, activation: Double, leftEmax: Double,
                        pv: Double, plv: Double) -> PulmonaryFlows {
        var f = PulmonaryFlows()
        // the right ventricle's contractility follows the left's reflex change in Ursino's ratio of gains (0.282/0.475)
        let reflexShare = baroreflex.map { $0.emaxGain == 0 ? 0 : $0.rightEmaxGain / $0.emaxGain } ?? 0
        let rightEmax = max(r.rightEmax + reflexShare * (leftEmax - parameters.emax), 0.1 * r.rightEmax)
        f.prv = PulmonaryCirculation.ventricularPressure(volume: y[index], activation: activation, emax: rightEmax, v0: r.rightV0,
                                                         fillingPressure: r.rightFillingPressure, stiffness: r.rightFillingStiffness)
        f.ppa = (y[index + 1] - r.arterialUnstressedVolume) / r.arterialCompliance
        f.ppv = (y[index + 2] - r.venousUnstressedVolume) / r.venousCompliance
        f.qtv = max(pv - f.prv, 0) / r.tricuspidValveResistance
        f.qpvalve = max(f.prv - f.ppa, 0) / r.pulmonaryValveResistance
        f.qpul = (f.ppa - f.ppv) / r.resistance
        f.qmv = max(f.ppv - plv, 0) / parameters.mitralValveResistance
        return f
    }

    /// Pressures (mmHg) and flows (mL/s) in state `y` at time `t`, with the baroreflex's effectors when there is one.
    /// `pv` is the systemic venous pressure; `qmv` the mitral flow (from the pulmonary veins when there are some).
    public func haemodynamics(t: Double, y: UnsafeBufferPointer<Double>)
        -> (plv: Double, pa: Double, pv: Double, pao: Double, qao: Double, qmv: Double, qp: Double) {
        let e = effectors(t: t, y: y)
        var h = haemodynamics(vlv: y[0], va: y[1], vv: y[2], activation: e.activation, emax: e.emax, resistance: e.resistance,
                              venousUnstressedVolume: e.venousUnstressedVolume)
        if let r = parameters.pulmonary, let i = pulmonaryIndex {
            h.qmv = pulmonaryFlows(r, y: y, index: i, activation: e.activation, leftEmax: e.emax, pv: h.pv, plv: h.plv).qmv
        }
        return h
    }

    /// The right-ventricular, pulmonary arterial and pulmonary venous pressures (mmHg) in state `y` at time `t`,
    /// or nil without a pulmonary circulation.
    public func pulmonaryPressures(t: Double, y: UnsafeBufferPointer<Double>) -> (prv: Double, ppa: Double, ppv: Double)? {
        guard let r = parameters.pulmonary, let i = pulmonaryIndex else { return nil }
        let e = effectors(t: t, y: y)
        let h = haemodynamics(vlv: y[0], va: y[1], vv: y[2], activation: e.activation, emax: e.emax, resistance: e.resistance,
                              venousUnstressedVolume: e.venousUnstressedVolume)
        let f = pulmonaryFlows(r, y: y, index: i, activation: e.activation, leftEmax: e.emax, pv: h.pv, plv: h.plv)
        return (f.prv, f.ppa, f.ppv)
    }

    public func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let e = effectors(t: t, y: y)
        let h = haemodynamics(vlv: y[0], va: y[1], vv: y[2], activation: e.activation, emax: e.emax, resistance: e.resistance,
                              venousUnstressedVolume: e.venousUnstressedVolume)
        dy[1] = h.qao - h.qp
        if let r = parameters.pulmonary, let i = pulmonaryIndex {
            let f = pulmonaryFlows(r, y: y, index: i, activation: e.activation, leftEmax: e.emax, pv: h.pv, plv: h.plv)
            dy[0] = f.qmv - h.qao
            dy[2] = h.qp - f.qtv - bleedingRate(at: t)
            dy[i] = f.qtv - f.qpvalve
            dy[i + 1] = f.qpvalve - f.qpul
            dy[i + 2] = f.qpul - f.qmv
        } else {
            dy[0] = h.qmv - h.qao
            dy[2] = h.qp - h.qmv - bleedingRate(at: t)
        }
        if let r = parameters.refill, let i = refillIndex {
            let inflow = r.filtrationCoefficient * (restingCapillaryPressure - r.capillaryPressure(arterial: h.pa, venous: h.pv))
            dy[2] += inflow
            dy[i] = inflow
        }
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

    /// A starting state: LV at 120 mL, arteries at 90 mmHg (with a pulmonary circulation: RV at 120 mL, pulmonary
    /// arteries at 14 and veins at 5 mmHg), the rest of the blood in the systemic veins; with the baroreflex, the
    /// sensed pressure at the sigmoid's centre and every effector at rest (``CirculationSimulator/rest(_:_:)`` gives
    /// the periodic resting state instead).
    public var initialState: [Double] {
        let p = parameters
        let vlv = 120.0
        let va = p.arterialUnstressedVolume + 90 * p.arterialCompliance
        var lungs: [Double] = []
        if let r = p.pulmonary {
            lungs = [120, r.arterialUnstressedVolume + 14 * r.arterialCompliance, r.venousUnstressedVolume + 5 * r.venousCompliance]
        }
        let volumes = [vlv, va, p.bloodVolume - vlv - va - lungs.reduce(0, +)]
        let refill: [Double] = p.refill == nil ? [] : [0]
        guard let b = baroreflex else { return volumes + lungs + refill }
        let fcs = b.sinusFiring(b.centre)
        let fes = b.sympatheticFiring(fcs), fev = b.vagalFiring(fcs)
        return volumes + [0, b.centre, fes, fes, fes, fes, fev, 0, 0, 0, 0, 0] + lungs + refill
    }
}
