import Foundation

/// The arterial (carotid sinus) baroreflex of M. Ursino, "Interaction between carotid baroregulation and the
/// pulsating heart: a mathematical model", Am. J. Physiol. 275 (Heart Circ. Physiol. 44) (1998) H1733-H1747.
///
/// Afferent pathway: the arterial pressure `P` is sensed through a first-order filter with a derivative term,
/// `dP̃/dt = (P + τz·dP/dt - P̃)/τp`, and turned into the sinus nerve's firing `fcs` by a sigmoid centred on `Pn`
/// (slope set by `ka`, between `fmin` and `fmax` spikes/s). Efferent pathways: sympathetic firing
/// `fes = fes∞ + (fes0 - fes∞)·exp(-kes·fcs)` and vagal firing
/// `fev = (fev0 + fev∞·exp((fcs - fcs0)/kev)) / (1 + exp((fcs - fcs0)/kev))`. Effectors: each sympathetic effector
/// answers `σ = G·ln(fes(t - D) - fesmin + 1)` (0 below `fesmin`) through a first-order lag `τ`; the heart period's
/// vagal part answers `G·fev(t - D)`. Values are Ursino's (his Table 2), for a human adult.
///
/// Adapted to this one-ventricle model, and said so here:
/// - the effectors act on the ventricle's end-systolic elastance (`Emax`, contractility), on the peripheral
///   resistance (Ursino's splanchnic and extrasplanchnic gains, 0.695 and 0.53 mmHg·s/mL on resistances of 3.307
///   and 1.407, combined as the relative gain of their parallel resistance, linearised: 0.327), on the venous unstressed volume
///   (his two venous beds' gains summed, -265.4 - 132.5 mL) and on the heart period (sympathetic -0.13 s, vagal
///   0.09 s per spike/s);
/// - each effector acts on the deviation of its efferent signal from the signal at rest (the circulation at its
///   own parameters, pulsatile, found by ``CirculationSimulator/rest(_:_:)``), so at rest the circulation keeps its
///   calibrated heart rate, Emax, resistance and unstressed volume: the person is at equilibrium with the reflex;
/// - Ursino's pure delays (2 s sympathetic, 5 s venous unstressed volume, 0.2 s vagal) are approximated by two
///   first-order lags of half the delay each (one for the vagal 0.2 s), so the model stays an ODE; their phase at
///   the 0.05-0.15 Hz of baroreflex oscillations is within a few degrees of a pure delay's;
/// - the sensed pressure is the arterial compartment's pressure (the carotid sinus sees central arterial pressure);
/// - with a ``PulmonaryCirculation``, the right ventricle's Emax follows the left's change in Ursino's ratio of
///   gains (0.282 / 0.475), and the venous unstressed volume is the systemic veins' (his splanchnic and
///   extrasplanchnic veins, lumped).
public struct Baroreflex: Sendable, Hashable {
    /// Afferent filter: time constants of the pole and zero, s.
    public var tauP = 2.076, tauZ = 6.37
    /// Afferent sigmoid: centre (mmHg), slope (mmHg) and firing limits (spikes/s).
    public var centre = 92.0, slope = 11.758, minimumFiring = 2.52, maximumFiring = 47.78
    /// Sympathetic efferent: `fes∞`, `fes0`, `kes` (s), and the threshold `fesmin` (spikes/s).
    public var sympatheticAsymptote = 2.10, sympatheticAtZero = 16.11, sympatheticDecay = 0.0675, sympatheticThreshold = 2.66
    /// Vagal efferent: `fev0`, `fev∞`, `kev`, `fcs0` (spikes/s).
    public var vagalAtZero = 3.2, vagalAsymptote = 6.3, vagalSlope = 7.06, vagalCentre = 25.0
    /// Effector gains: Emax (mmHg/mL), relative peripheral resistance (fraction), venous unstressed volume (mL),
    /// heart period sympathetic and vagal (s), each per unit of its efferent signal.
    public var emaxGain = 0.475, resistanceGain = 0.327, unstressedVolumeGain = -397.9
    /// Right-ventricular Emax gain, mmHg/mL per unit of the sympathetic signal (Ursino's 0.282), used with a
    /// ``PulmonaryCirculation``: the right ventricle's Emax moves with the left's in the ratio of the two gains.
    public var rightEmaxGain = 0.282
    public var periodSympatheticGain = -0.13, periodVagalGain = 0.09
    /// Effector time constants, s.
    public var emaxTime = 8.0, resistanceTime = 6.0, unstressedVolumeTime = 20.0, periodSympatheticTime = 2.0, periodVagalTime = 1.5
    /// Effector delays, s (sympathetic; venous unstressed volume; vagal).
    public var sympatheticDelay = 2.0, unstressedVolumeDelay = 5.0, vagalDelay = 0.2
    /// Gain on every effector (1 intact, 0 denervated): a person's baroreflex sensitivity relative to Ursino's.
    public var sensitivity = 1.0

    public init() {}

    /// Firing of the carotid sinus nerve, spikes/s, for a filtered pressure `p` (mmHg).
    public func sinusFiring(_ p: Double) -> Double {
        let e = exp((p - centre) / slope)
        return (minimumFiring + maximumFiring * e) / (1 + e)
    }

    /// Sympathetic efferent firing, spikes/s, for a sinus firing `fcs`.
    public func sympatheticFiring(_ fcs: Double) -> Double {
        sympatheticAsymptote + (sympatheticAtZero - sympatheticAsymptote) * exp(-sympatheticDecay * fcs)
    }

    /// Vagal efferent firing, spikes/s, for a sinus firing `fcs`.
    public func vagalFiring(_ fcs: Double) -> Double {
        let e = exp((fcs - vagalCentre) / vagalSlope)
        return (vagalAtZero + vagalAsymptote * e) / (1 + e)
    }

    /// The sympathetic effector signal `ln(fes - fesmin + 1)`, 0 below the threshold.
    public func sympatheticSignal(_ fes: Double) -> Double {
        fes >= sympatheticThreshold ? log(fes - sympatheticThreshold + 1) : 0
    }

    /// Throws `invalidParameter` naming the first value that is not finite, or not positive where it must be.
    public func validate() throws(ModelError) {
        let positive: [(String, Double)] = [("tauP", tauP), ("tauZ", tauZ), ("slope", slope), ("emaxTime", emaxTime),
                                            ("resistanceTime", resistanceTime), ("unstressedVolumeTime", unstressedVolumeTime),
                                            ("periodSympatheticTime", periodSympatheticTime), ("periodVagalTime", periodVagalTime),
                                            ("vagalSlope", vagalSlope)]
        for (name, value) in positive { try ModelError.requirePositive(value, name, in: "baroreflex") }
        let nonNegative: [(String, Double)] = [("sympatheticDelay", sympatheticDelay), ("unstressedVolumeDelay", unstressedVolumeDelay),
                                               ("vagalDelay", vagalDelay), ("sensitivity", sensitivity),
                                               ("minimumFiring", minimumFiring), ("sympatheticDecay", sympatheticDecay)]
        for (name, value) in nonNegative { try ModelError.requireNonNegative(value, name, in: "baroreflex") }
        guard maximumFiring > minimumFiring, maximumFiring.isFinite else {
            throw ModelError(.invalidParameter, "baroreflex: maximumFiring (\(maximumFiring)) must exceed minimumFiring (\(minimumFiring))",
                             value: "\(maximumFiring)")
        }
        for (name, value) in [("centre", centre), ("emaxGain", emaxGain), ("resistanceGain", resistanceGain),
                              ("unstressedVolumeGain", unstressedVolumeGain), ("rightEmaxGain", rightEmaxGain), ("periodSympatheticGain", periodSympatheticGain),
                              ("periodVagalGain", periodVagalGain), ("sympatheticAsymptote", sympatheticAsymptote),
                              ("sympatheticAtZero", sympatheticAtZero), ("sympatheticThreshold", sympatheticThreshold),
                              ("vagalAtZero", vagalAtZero), ("vagalAsymptote", vagalAsymptote), ("vagalCentre", vagalCentre)]
        where !value.isFinite {
            throw ModelError(.invalidParameter, "baroreflex: \(name) must be finite, got \(value)", value: "\(value)")
        }
    }
}
