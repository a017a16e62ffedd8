import Foundation

/// Arithmetic shared by the rest solve in Swift (`Double`) and its written-out copy in the SBML (MathML), so the
/// two are the same equations.
protocol AveragedRestAlgebra {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static func constant(_ x: Double) -> Self
    /// The ventricle's end-diastolic volume after filling for `td` from `esv` (see ``CirculationSBML/TwoCircuit``).
    static func filled(esv: Self, pressure: Self, p0: Self, k: Self, r: Self, td: Self) -> Self
}

extension Double: AveragedRestAlgebra {
    static func constant(_ x: Double) -> Double { x }
    static func filled(esv: Double, pressure: Double, p0: Double, k: Double, r: Double, td: Double) -> Double {
        let a = Swift.max(pressure + p0, 1e-3), u = p0 / a
        return -Foundation.log(u + (Foundation.exp(-k * esv) - u) * Foundation.exp(-k * a * td / r)) / k
    }
}

extension CirculationSBML.M: AveragedRestAlgebra {
    static func constant(_ x: Double) -> CirculationSBML.M { CirculationSBML.n(x) }
    static func filled(esv: Self, pressure: Self, p0: Self, k: Self, r: Self, td: Self) -> Self {
        CirculationSBML.call("fillVolume", esv, pressure, p0, k, r, td)
    }
}

extension CirculationSBML {
    /// The beat-averaged two-circuit circulation (``CirculationModel/Parameters/pulmonary`` set, with or without
    /// ``CirculationModel/Parameters/refill``), averaged as the one-reservoir model is:
    ///
    /// - each ventricle ejects to its end-systolic line, `ESV = V0 + (P + κ)/Emax` (left: arterial pressure `Pa`,
    ///   `κ`; right: pulmonary arterial pressure `Ppa`, `κr`, the right Emax following the left's reflex change in
    ///   Ursino's ratio of gains), then fills over the diastole `Td` through its inflow valve (mitral `Rmv` from the
    ///   pulmonary veins; tricuspid `Rtv` from the systemic veins) along the exponential end-diastolic curve
    ///   `P0·(exp(kE·V) − 1)` that ``PulmonaryCirculation`` uses: `R·dV/dt = Pfill − P0·(exp(kE·V) − 1)` is linear
    ///   in `u = exp(−kE·V)`, so `EDV = −ln(u∞ + (exp(−kE·ESV) − u∞)·exp(−kE·A·Td/R))/kE` with `A = Pfill + P0`,
    ///   `u∞ = P0/A` (`fillVolume`); each ventricle's volume follows `(EDV + ESV)/2` with a lag of one beat (so
    ///   the blood volume is conserved);
    /// - states: arterial, pulmonary arterial and pulmonary venous volumes, the two ventricles' mean volumes and the
    ///   refill; the systemic veins hold the rest of the circulating volume;
    /// - flows: left output `SV/T` into the arteries, right output `SVr/T` into the pulmonary arteries, peripheral
    ///   `(Pa − Pv)/R`, pulmonary `(Ppa − Ppv)/Rpul`, refill `Kf·(Pc,rest − Pc)` with `Pc = Pv + fc·(Pa − Pv)`.
    ///
    /// Rest is not closed form (the filling curves are exponential): it is the root of two equations in `Pa` and
    /// `Ppv` (the two ventricles' stroke volumes equal; the compartments' volumes sum to `Vblood`), solved by
    /// Newton's method in Swift at the document's parameters, then refined by ``restIterations`` Newton steps
    /// written out as initial assignments (finite-difference Jacobian), so the start follows the `Vblood` or `Rp`
    /// an estimator tries.
    enum TwoCircuit {
        /// End-systolic pressure's excess over the mean compartment pressure, mmHg: left (`κ`) and right (`κr`).
        /// Chosen on rest only: the averaged rest is nearly insensitive to them (κ 5-25 and κr -10-20 move it by
        /// under 4 mmHg); with these it is MAP 100.3 mmHg and stroke volume 71.6 mL against the pulsatile rest's
        /// 100.2 and 71.5 (the pulsatile end-systolic volume gives κ ≈ 15, within that flat range).
        static let endSystolicExcess = 13.0, rightEndSystolicExcess = 5.0
        /// The sensed pressure's swing (`s`): the one-reservoir value, unchanged.
        static let sensedSwing = 0.67
        /// Newton steps written into the SBML.
        static let restIterations = 6

        static func v(_ id: String) -> M { CirculationSBML.v(id) }
        static func n(_ x: Double) -> M { CirculationSBML.n(x) }

        static func constants(_ r: PulmonaryCirculation, _ refill: TranscapillaryRefill?, _ b: Baroreflex) -> [(String, Double)] {
            [("Emax_rv", r.rightEmax), ("V0_rv", r.rightV0), ("P0_lv", r.leftFillingPressure), ("kE_lv", r.leftFillingStiffness),
             ("P0_rv", r.rightFillingPressure), ("kE_rv", r.rightFillingStiffness), ("Rtv", r.tricuspidValveResistance),
             ("Cpa", r.arterialCompliance), ("Vpa0", r.arterialUnstressedVolume), ("Rpul", r.resistance),
             ("Cpv", r.venousCompliance), ("Vpv0", r.venousUnstressedVolume),
             ("Kf", refill?.filtrationCoefficient ?? 0), ("fc", refill?.capillaryFraction ?? 0.2),
             ("kappaR", rightEndSystolicExcess), ("rightShare", b.emaxGain == 0 ? 0 : b.rightEmaxGain / b.emaxGain)]
        }

        /// The filling function `fillVolume(esv, pf, p0, k, r, td)`.
        static var fillingFunction: (String, [String], M) {
            let a = CirculationSBML.max(v("pf") + v("p0"), n(1e-3))
            let u = v("p0") / a
            let body = (n(0) - CirculationSBML.ln(u + (CirculationSBML.exp(n(0) - v("k") * v("esv")) - u)
                                                      * CirculationSBML.exp(n(0) - v("k") * a * v("td") / v("r")))) / v("k")
            return ("fillVolume", ["esv", "pf", "p0", "k", "r", "td"], body)
        }

        /// The rest equations' residuals at (`pa`, `ppv`): right minus left stroke volume, and the compartments'
        /// volumes minus `Vblood` (mL). `k` gives a parameter; `bind` names an intermediate.
        static func residual<X: AveragedRestAlgebra>(pa: X, ppv: X, _ k: (String) -> X, bind: (String, X) -> X) -> (X, X) {
            let two = X.constant(2)
            let esvL = bind("ESVl", k("V0") + (pa + k("kappa")) / k("Emax"))
            let edvL = bind("EDVl", X.filled(esv: esvL, pressure: ppv, p0: k("P0_lv"), k: k("kE_lv"), r: k("Rmv"), td: k("Td0")))
            let sv = bind("SV", edvL - esvL)
            let q = sv / k("T0")
            let pv = bind("Pv", pa - q * k("R0"))
            let ppa = bind("Ppa", ppv + q * k("Rpul"))
            let esvR = bind("ESVr", k("V0_rv") + (ppa + k("kappaR")) / k("Emax_rv"))
            let edvR = bind("EDVr", X.filled(esv: esvR, pressure: pv, p0: k("P0_rv"), k: k("kE_rv"), r: k("Rtv"), td: k("Td0")))
            let volume = k("Va0") + k("Ca") * pa + k("Vv0") + k("Cv") * pv + k("Vpa0") + k("Cpa") * ppa + k("Vpv0") + k("Cpv") * ppv
                + (edvL + esvL) / two + (edvR + esvR) / two
            return (edvR - esvR - sv, volume - k("Vblood"))
        }

        /// Rest in Swift: Newton's method from 90 and 8 mmHg. Returns (Pa, Ppv), or nil when it does not converge.
        static func restInSwift(_ values: [String: Double]) -> (pa: Double, ppv: Double)? {
            let k = { (id: String) -> Double in values[id] ?? .nan }
            var pa = 90.0, ppv = 8.0
            let h = 1e-6
            for _ in 0..<100 {
                let r = residual(pa: pa, ppv: ppv, k, bind: { $1 })
                let ra = residual(pa: pa + h, ppv: ppv, k, bind: { $1 }), rp = residual(pa: pa, ppv: ppv + h, k, bind: { $1 })
                let j11 = (ra.0 - r.0) / h, j12 = (rp.0 - r.0) / h, j21 = (ra.1 - r.1) / h, j22 = (rp.1 - r.1) / h
                let det = j11 * j22 - j12 * j21
                guard det.isFinite, det != 0 else { return nil }
                var dpa = -(j22 * r.0 - j12 * r.1) / det, dppv = -(j11 * r.1 - j21 * r.0) / det
                let longest = Swift.max(abs(dpa), abs(dppv))
                if longest > 20 { dpa *= 20 / longest; dppv *= 20 / longest }
                pa += dpa; ppv += dppv
                guard pa.isFinite, ppv.isFinite else { return nil }
                if longest < 1e-10 { return (pa, ppv) }
            }
            return nil
        }

        /// Writes the rest (initial assignments through `rest`): `T0`, `R0`, `Td0`, the Newton steps, then `PaRest`,
        /// `PpvRest`, `PvRest`, `PpaRest`, `SVRest`, the ventricles' rest volumes and `PcRest`.
        /// - Throws: ``ModelError`` `invalidParameter` when the parameters have no rest (Newton's method does not converge).
        static func rest(constants: [(String, Double)], restFactor: M, restFactorValue: Double, rest: (String, M) -> Void) throws(ModelError) {
            var values = Dictionary(constants, uniquingKeysWith: { $1 })
            let hr = values["HR"] ?? 75, kd = values["kd"] ?? fillingStart
            values["T0"] = 60 / hr
            values["R0"] = (values["Rp"] ?? 1) * restFactorValue
            values["Td0"] = Swift.max(60 / hr - kd * (0.2 + 0.15 * 60 / hr), 1e-3)
            guard let guess = restInSwift(values) else {
                throw ModelError(.invalidParameter, "averaged two-circuit circulation: no resting state for these parameters (blood volume \(values["Vblood"] ?? .nan) mL)",
                                 value: "\(values["Vblood"] ?? .nan)")
            }
            rest("T0", n(60) / v("HR"))
            rest("R0", v("Rp") * restFactor)
            rest("Td0", CirculationSBML.max(v("T0") - v("kd") * (n(0.2) + n(0.15) * v("T0")), n(1e-3)))
            rest("newtonPa0", n(guess.pa))
            rest("newtonPpv0", n(guess.ppv))
            let h = 1e-4
            for i in 0..<restIterations {
                let pa = v("newtonPa\(i)"), ppv = v("newtonPpv\(i)")
                func at(_ tag: String, _ pa: M, _ ppv: M) -> (M, M) {
                    residual(pa: pa, ppv: ppv, v, bind: { id, m in rest("newton\(i)\(tag)\(id)", m); return v("newton\(i)\(tag)\(id)") })
                }
                let r = at("", pa, ppv), ra = at("a", pa + n(h), ppv), rp = at("p", pa, ppv + n(h))
                rest("newton\(i)r1", r.0); rest("newton\(i)r2", r.1)
                rest("newton\(i)j11", (ra.0 - v("newton\(i)r1")) / n(h)); rest("newton\(i)j12", (rp.0 - v("newton\(i)r1")) / n(h))
                rest("newton\(i)j21", (ra.1 - v("newton\(i)r2")) / n(h)); rest("newton\(i)j22", (rp.1 - v("newton\(i)r2")) / n(h))
                let j11 = v("newton\(i)j11"), j12 = v("newton\(i)j12"), j21 = v("newton\(i)j21"), j22 = v("newton\(i)j22")
                let r1 = v("newton\(i)r1"), r2 = v("newton\(i)r2")
                rest("newton\(i)det", j11 * j22 - j12 * j21)
                rest("newtonPa\(i + 1)", pa - (j22 * r1 - j12 * r2) / v("newton\(i)det"))
                rest("newtonPpv\(i + 1)", ppv - (j11 * r2 - j21 * r1) / v("newton\(i)det"))
            }
            rest("PaRest", v("newtonPa\(restIterations)"))
            rest("PpvRest", v("newtonPpv\(restIterations)"))
            _ = residual(pa: v("PaRest"), ppv: v("PpvRest"), v, bind: { id, m in rest(id + "Rest", m); return v(id + "Rest") })
            rest("PcRest", v("PvRest") + v("fc") * (v("PaRest") - v("PvRest")))
        }

        /// States after the reflex's: (id, start, rate per second).
        static var states: [(String, M, M)] {
            [("Vpa", v("Vpa0") + v("Cpa") * v("PpaRest"), v("COr") - v("Qpul")),
             ("Vpv", v("Vpv0") + v("Cpv") * v("PpvRest"), v("Qpul") - v("CO")),
             ("Vlv", (v("EDVlRest") + v("ESVlRest")) / n(2), ((v("EDV") + v("ESV")) / n(2) - v("Vlv")) / v("T")),
             ("Vrv", (v("EDVrRest") + v("ESVrRest")) / n(2), ((v("EDVr") + v("ESVr")) / n(2) - v("Vrv")) / v("T")),
             ("Vrefill", n(0), v("refill"))]
        }

        /// The haemodynamics, in order (after `T`, `EmaxNow`, `R`, `Vu`, `V`).
        static var haemodynamics: [(String, M)] {
            let max = CirculationSBML.max
            return [
                ("EmaxR", max(v("Emax_rv") + v("rightShare") * (v("EmaxNow") - v("Emax")), n(0.1) * v("Emax_rv"))),
                ("Pa", (v("Va") - v("Va0")) / v("Ca")),
                ("Ppa", (v("Vpa") - v("Vpa0")) / v("Cpa")),
                ("Ppv", (v("Vpv") - v("Vpv0")) / v("Cpv")),
                ("Td", max(v("T") - v("kd") * (n(0.2) + n(0.15) * v("T")), n(1e-3))),
                ("Pv", (v("V") + v("Vrefill") - v("Va") - v("Vpa") - v("Vpv") - v("Vlv") - v("Vrv") - v("Vu")) / v("Cv")),
                ("ESV", v("V0") + (v("Pa") + v("kappa")) / v("EmaxNow")),
                ("EDV", M.filled(esv: v("ESV"), pressure: v("Ppv"), p0: v("P0_lv"), k: v("kE_lv"), r: v("Rmv"), td: v("Td"))),
                ("SV", max(v("EDV") - v("ESV"), n(0))),
                ("CO", v("SV") / v("T")),
                ("ESVr", v("V0_rv") + (v("Ppa") + v("kappaR")) / v("EmaxR")),
                ("EDVr", M.filled(esv: v("ESVr"), pressure: v("Pv"), p0: v("P0_rv"), k: v("kE_rv"), r: v("Rtv"), td: v("Td"))),
                ("SVr", max(v("EDVr") - v("ESVr"), n(0))),
                ("COr", v("SVr") / v("T")),
                ("Qp", (v("Pa") - v("Pv")) / v("R")),
                ("Qpul", (v("Ppa") - v("Ppv")) / v("Rpul")),
            ]
        }

        /// The refill rate, mL/s, after the reflex's signals.
        static var refillRate: [(String, M)] {
            [("refill", v("Kf") * (v("PcRest") - (v("Pv") + v("fc") * (v("Pa") - v("Pv")))))]
        }
    }
}
