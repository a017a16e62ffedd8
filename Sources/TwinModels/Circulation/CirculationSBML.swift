import Foundation

/// The beat-averaged circulation with the arterial baroreflex, written as an SBML model (Level 3 Version 2, time
/// in **minutes**), so that any SBML tool (TwinSync's `SBMLEstimator`, its forecasts and the hypotension rule) runs
/// it over hours where the pulsatile ``CirculationModel`` resolves every beat.
///
/// It describes the same person as ``CirculationModel`` with the same ``CirculationModel/Parameters`` and
/// ``Baroreflex`` (the SBML parameters carry the ``CirculationModel/Parameters/described`` ids: `HR`, `Emax`,
/// `Emin`, `V0`, `Rp`, `Zc`, `Rmv`, `Ca`, `Va0`, `Cv`, `Vv0`, `Vblood`), but has no beat: its states are the
/// arterial volume `Va`, the sensed pressure and the reflex's lags and effectors; the venous volume is what the
/// circulating volume `V = Vblood + fluidGiven − bloodLoss` leaves. In seconds (the SBML multiplies each rate by 60):
///
/// - pressures through the compliances, `Pa = (Va − Va0)/Ca`, `Pv = (Vv − Vu)/Cv`, `Vv = V − Va − Vlv`;
/// - the ventricle over one beat of period `T = 60/HR`: it ejects to the end-systolic pressure-volume relation,
///   `ESV = V0 + (Pa + κ)/Emax`, then fills from `ESV` towards `V0 + Pv/Emin` through the mitral valve with time
///   constant `τf = Rmv/Emin` over the diastole `Td = T − kd·(0.2 + 0.15·T)` (the double-Hill elastance has relaxed
///   by `kd = 1.3` times its time to peak): `EDV = (1 − c)(V0 + Pv/Emin) + c·ESV`, `c = exp(−Td/τf)`, so the stroke
///   volume `SV = EDV − ESV` rises with filling pressure (Frank-Starling), falls with afterload and rises with
///   contractility and with a longer diastole; `Vlv = (EDV + ESV)/2`, solved with `Pv` in closed form;
/// - flows: cardiac output `CO = SV/T`, peripheral flow `(Pa − Pv)/R`, `dVa/dt = CO − (Pa − Pv)/R`; mean arterial
///   (aortic) pressure `MAP = Pa + Zc·CO`;
/// - the reflex of ``Baroreflex`` (Ursino 1998) on the mean pressure: `dP̃/dt = (Pa + τz·dPa/dt − P̃)/τp`; since
///   the pulsatile reflex senses the beat's swing (its derivative term amplifies it `τz/τp` ≈ 3 times, to about
///   ±50 mmHg at rest) through the nerve's sigmoid, the averaged firing is the sigmoid averaged over a swing of
///   standard deviation `σ = s·SV/Ca` around `P̃` (a sinusoid, 12-point rule), with `s = 0.67`; the sympathetic
///   and vagal firings, the delays (two lags each), the effectors (heart period, Emax, resistance, venous unstressed
///   volume) and their rest reference as in ``Baroreflex``, without the 0.2 s vagal delay (shorter than a beat).
///
/// Rest is closed form (the ventricle's relation is linear in `Pa` and `Pv` at the resting heart period and Emax),
/// so the model starts at the person's rest, with the reflex at equilibrium there, for any parameter values
/// (initial assignments: an estimator may change `Vblood` or `Rp` and the start follows).
///
/// Fitted, not derived: `κ = 24` mmHg (the end-systolic pressure's excess over mean `Pa`) and `s = 0.67` (the swing
/// of the sensed pressure, measured on the pulsatile model: its standard deviation is 0.47-0.49 mL⁻¹·SV·Ca at rest,
/// after a 375 mL loss and under a vasodilator), both on the pulsatile model at its default parameters.
///
/// Inputs (species in mL, amounts only): `bloodLoss` (cumulative loss, dosed as an infusion over the bleed's
/// period) and `fluidGiven` (cumulative fluid, dosed likewise). A vasoactive drug: `resistanceChanges` (time in
/// minutes, factor on `Rp`), else the constant `resistanceFactor` (1). Outputs: `MAP` (mmHg), `heartRate` (/min), `CO`
/// (mL/s), `SV` (mL), `Pv` (mmHg).
///
/// With ``CirculationModel/Parameters/pulmonary`` set (the two-circuit person,
/// ``CirculationModel/Parameters/withPulmonaryCirculation``), the document has the right ventricle, the pulmonary
/// arteries and veins and transcapillary refill, averaged the same way (``TwoCircuit``); its rest is solved by
/// Newton's method written into the initial assignments. The one-reservoir document is unchanged.
///
/// Limits: those of ``CirculationModel`` (no autoregulation, no cardiopulmonary reflex; the one-reservoir layout
/// has no pulmonary side and no fluid shifts) and of the averaging (no beat-to-beat variability; the reflex's
/// sub-beat dynamics averaged).
public enum CirculationSBML {
    /// The model's id and version, for a binding's model reference and provenance.
    public static let modelID = "beat-averaged-circulation"
    public static let modelVersion = "1"
    /// The two-circuit layout's model id (``CirculationModel/Parameters/withPulmonaryCirculation``), same version.
    public static let twoCircuitModelID = "beat-averaged-circulation-two-circuit"

    /// The person a built-in model id stands for: ``modelID`` the default one-reservoir circulation,
    /// ``twoCircuitModelID`` the two-circuit person; nil for another id.
    public static func parameters(forModel id: String) -> CirculationModel.Parameters? {
        switch id {
        case modelID: return .init()
        case twoCircuitModelID: return .withPulmonaryCirculation
        default: return nil
        }
    }
    /// The output ids: mean arterial pressure (mmHg) and heart rate (/min).
    public static let meanArterialPressure = "MAP", heartRate = "heartRate"
    /// The cardiac output id, mL/s.
    public static let cardiacOutput = "CO"
    /// The input species: cumulative blood lost and fluid given, mL.
    public static let bloodLoss = "bloodLoss", fluidGiven = "fluidGiven"
    /// The diastole's start as a multiple of the elastance's time to peak (`kd`).
    public static let fillingStart = 1.3
    /// End-systolic pressure's excess over mean arterial compartment pressure, mmHg (`κ`).
    public static let endSystolicExcess = 24.0
    /// The sensed pressure's swing: its standard deviation per mL of stroke volume, times `Ca` (`s`).
    public static let sensedSwing = 0.67

    /// The SBML document for a person with `parameters` and `baroreflex`; `resistanceChanges` (minutes, factor),
    /// when given, multiply `Rp` from each time on (the first change at time 0 sets the factor at rest).
    /// - Throws: ``ModelError`` `invalidParameter` (the parameters' or the reflex's own checks), `invalidArgument`
    ///   (a change at a negative or non-finite time, or a factor that is not positive).
    public static func document(parameters: CirculationModel.Parameters = .init(), baroreflex: Baroreflex = Baroreflex(),
                                resistanceChanges: [(time: Double, factor: Double)] = []) throws(ModelError) -> String {
        try parameters.validate()
        try baroreflex.validate()
        for c in resistanceChanges where !(c.time.isFinite && c.time >= 0 && c.factor.isFinite && c.factor > 0) {
            throw ModelError(.invalidArgument, "averaged circulation: resistance factor must be > 0 at a time >= 0, got \(c.factor) at \(c.time)",
                             value: "\(c.factor)")
        }
        let changes = resistanceChanges.sorted { $0.time < $1.time }
        let p = parameters, b = baroreflex
        var constants: [(String, Double)] = [
            ("HR", p.heartRate), ("Emax", p.emax), ("Emin", p.emin), ("V0", p.v0), ("Rp", p.peripheralResistance),
            ("Zc", p.characteristicImpedance), ("Rmv", p.mitralValveResistance), ("Ca", p.arterialCompliance),
            ("Va0", p.arterialUnstressedVolume), ("Cv", p.venousCompliance), ("Vv0", p.venousUnstressedVolume), ("Vblood", p.bloodVolume),
            ("kd", fillingStart), ("kappa", p.pulmonary == nil ? endSystolicExcess : TwoCircuit.endSystolicExcess),
            ("swing", p.pulmonary == nil ? sensedSwing : TwoCircuit.sensedSwing),
            ("tauP", b.tauP), ("tauZ", b.tauZ), ("Pn", b.centre), ("ka", b.slope), ("fmin", b.minimumFiring), ("fmax", b.maximumFiring),
            ("fesInf", b.sympatheticAsymptote), ("fes0", b.sympatheticAtZero), ("kes", b.sympatheticDecay), ("fesMin", b.sympatheticThreshold),
            ("fev0", b.vagalAtZero), ("fevInf", b.vagalAsymptote), ("kev", b.vagalSlope), ("fcs0", b.vagalCentre),
            ("GEmax", b.emaxGain), ("GR", b.resistanceGain), ("GVu", b.unstressedVolumeGain), ("GTs", b.periodSympatheticGain),
            ("GTv", b.periodVagalGain), ("tauEmax", b.emaxTime), ("tauR", b.resistanceTime), ("tauVu", b.unstressedVolumeTime),
            ("tauTs", b.periodSympatheticTime), ("tauTv", b.periodVagalTime),
            ("lagS", Swift.max(b.sympatheticDelay / 2, 1e-3)), ("lagVu", Swift.max(b.unstressedVolumeDelay / 2, 1e-3)), ("sensitivity", b.sensitivity),
        ]
        if changes.isEmpty { constants.append(("resistanceFactor", 1)) }
        let restFactor: M = changes.isEmpty ? v("resistanceFactor") : n(changes.last { $0.time <= 0 }?.factor ?? 1)

        // the sigmoids as functions
        var functions = [
            ("sinusFiring", ["P", "Pn", "ka", "fmin", "fmax"],
             (v("fmin") + v("fmax") * exp((v("P") - v("Pn")) / v("ka"))) / (n(1) + exp((v("P") - v("Pn")) / v("ka")))),
            ("sympatheticFiring", ["f", "fesInf", "fes0", "kes"], v("fesInf") + (v("fes0") - v("fesInf")) * exp(n(0) - v("kes") * v("f"))),
            ("vagalFiring", ["f", "fev0", "fevInf", "kev", "fcs0"],
             (v("fev0") + v("fevInf") * exp((v("f") - v("fcs0")) / v("kev"))) / (n(1) + exp((v("f") - v("fcs0")) / v("kev")))),
            ("sympatheticSignal", ["fes", "fesMin"], piecewise(ln(v("fes") - v("fesMin") + n(1)), geq(v("fes"), v("fesMin")), n(0))),
        ]
        if p.pulmonary != nil { functions.append(TwoCircuit.fillingFunction) }
        func sinus(_ x: M) -> M { call("sinusFiring", x, v("Pn"), v("ka"), v("fmin"), v("fmax")) }
        func sympathetic(_ f: M) -> M { call("sympatheticFiring", f, v("fesInf"), v("fes0"), v("kes")) }
        func vagal(_ f: M) -> M { call("vagalFiring", f, v("fev0"), v("fevInf"), v("kev"), v("fcs0")) }
        func signal(_ f: M) -> M { call("sympatheticSignal", f, v("fesMin")) }
        // the 12-point average over a sinusoidal swing of standard deviation sd around p
        let points = (0..<12).map { sin(2 * Double.pi * (Double($0) + 0.5) / 12) * 2.0.squareRoot() }
        func averaged(_ f: (M) -> M, around p: M, sd: M) -> M {
            points.map { f(sinus(p + n($0) * sd)) }.reduce(n(0), +) / n(12)
        }

        // rest, closed form (one reservoir) or Newton's method written out (two circuits)
        var initial: [(String, M)] = []
        var restParameters: [String] = []
        func rest(_ id: String, _ m: M) { initial.append((id, m)); restParameters.append(id) }
        if let r = p.pulmonary {
            constants += TwoCircuit.constants(r, p.refill, b)
            try TwoCircuit.rest(constants: constants, restFactor: restFactor,
                                restFactorValue: changes.last { $0.time <= 0 }?.factor ?? 1, rest: rest)
        } else {
            rest("tauF", v("Rmv") / v("Emin"))
            rest("T0", n(60) / v("HR"))
            rest("R0", v("Rp") * restFactor)
            rest("c0", exp(n(0) - max(v("T0") - v("kd") * (n(0.2) + n(0.15) * v("T0")), n(1e-3)) / v("tauF")))
            rest("a11", n(0) - (n(1) - v("c0")) / (v("T0") * v("Emax")) - n(1) / v("R0"))
            rest("a12", (n(1) - v("c0")) / (v("T0") * v("Emin")) + n(1) / v("R0"))
            rest("b1", (n(1) - v("c0")) / v("T0") * v("kappa") / v("Emax"))
            rest("a21", v("Ca") + (n(1) + v("c0")) / (n(2) * v("Emax")))
            rest("a22", v("Cv") + (n(1) - v("c0")) / (n(2) * v("Emin")))
            rest("b2", v("Vblood") - v("Va0") - v("Vv0") - ((n(1) - v("c0")) * v("V0") + (n(1) + v("c0")) * (v("V0") + v("kappa") / v("Emax"))) / n(2))
            rest("det", v("a11") * v("a22") - v("a12") * v("a21"))
            rest("PaRest", (v("b1") * v("a22") - v("a12") * v("b2")) / v("det"))
            rest("PvRest", (v("a11") * v("b2") - v("a21") * v("b1")) / v("det"))
            rest("SVRest", (n(1) - v("c0")) * (v("PvRest") / v("Emin") - (v("PaRest") + v("kappa")) / v("Emax")))
        }
        rest("swingRest", v("swing") * v("SVRest") / v("Ca"))
        rest("fesRest", averaged(sympathetic, around: v("PaRest"), sd: v("swingRest")))
        rest("fevRest", averaged(vagal, around: v("PaRest"), sd: v("swingRest")))
        rest("refS", signal(v("fesRest")))
        rest("refV", v("fevRest"))

        // the states (rate rules, per minute) and their starts
        var states: [(String, M, M)] = [
            ("Va", v("Va0") + v("Ca") * v("PaRest"), v("CO") - v("Qp")),
            ("Psensed", v("PaRest"), (v("Pa") + v("tauZ") * v("dPa") - v("Psensed")) / v("tauP")),
            ("fesD1", v("fesRest"), (v("fesMean") - v("fesD1")) / v("lagS")),
            ("fesD2", v("fesRest"), (v("fesD1") - v("fesD2")) / v("lagS")),
            ("fesVu1", v("fesRest"), (v("fesMean") - v("fesVu1")) / v("lagVu")),
            ("fesVu2", v("fesRest"), (v("fesVu1") - v("fesVu2")) / v("lagVu")),
            ("dTs", n(0), (v("GTs") * v("sympathetic") - v("dTs")) / v("tauTs")),
            ("dTv", n(0), (v("GTv") * v("vagal") - v("dTv")) / v("tauTv")),
            ("dEmax", n(0), (v("GEmax") * v("sympathetic") - v("dEmax")) / v("tauEmax")),
            ("dR", n(0), (v("GR") * v("sympathetic") - v("dR")) / v("tauR")),
            ("dVu", n(0), (v("GVu") * v("sympatheticVu") - v("dVu")) / v("tauVu")),
        ]
        if p.pulmonary != nil { states += TwoCircuit.states }
        for s in states { initial.append((s.0, s.1)) }

        // the algebraic part, in order
        var resistanceFactor: [(String, M)] = []
        if !changes.isEmpty {
            // piecewise in time (minutes): the latest change at or before t
            var m = n(1)
            for c in changes { m = piecewise(n(c.factor), geq(time, n(c.time)), m) }
            resistanceFactor = [("resistanceFactor", m)]
        }
        var assignments: [(String, M)] = resistanceFactor + [
            ("T", max(v("T0") + v("dTs") + v("dTv"), n(0.2))),
            ("heartRate", n(60) / v("T")),
            ("EmaxNow", max(v("Emax") + v("dEmax"), n(2) * v("Emin"))),
            ("R", v("Rp") * v("resistanceFactor") * max(n(1) + v("dR"), n(0.1))),
            ("Vu", max(v("Vv0") + v("dVu"), n(0))),
            ("V", v("Vblood") + v(fluidGiven) - v(bloodLoss)),
        ]
        let oneReservoir: [(String, M)] = [
            ("Pa", (v("Va") - v("Va0")) / v("Ca")),
            ("c", exp(n(0) - max(v("T") - v("kd") * (n(0.2) + n(0.15) * v("T")), n(1e-3)) / v("tauF"))),
            ("ESV", v("V0") + (v("Pa") + v("kappa")) / v("EmaxNow")),
            ("Pv", (v("V") - v("Va") - v("Vu") - ((n(1) - v("c")) * v("V0") + (n(1) + v("c")) * v("ESV")) / n(2))
                / (v("Cv") + (n(1) - v("c")) / (n(2) * v("Emin")))),
            ("EDV", (n(1) - v("c")) * (v("V0") + v("Pv") / v("Emin")) + v("c") * v("ESV")),
            ("SV", max(v("EDV") - v("ESV"), n(0))),
            ("CO", v("SV") / v("T")),
            ("Qp", (v("Pa") - v("Pv")) / v("R")),
        ]
        assignments += p.pulmonary == nil ? oneReservoir : TwoCircuit.haemodynamics
        assignments += [
            ("MAP", v("Pa") + v("Zc") * v("CO")),
            ("dPa", (v("CO") - v("Qp")) / v("Ca")),
            ("swingNow", v("swing") * v("SV") / v("Ca")),
            ("fesMean", averaged(sympathetic, around: v("Psensed"), sd: v("swingNow"))),
            ("fevMean", averaged(vagal, around: v("Psensed"), sd: v("swingNow"))),
            ("sympathetic", v("sensitivity") * (signal(v("fesD2")) - v("refS"))),
            ("sympatheticVu", v("sensitivity") * (signal(v("fesVu2")) - v("refS"))),
            ("vagal", v("sensitivity") * (v("fevMean") - v("refV"))),
        ]
        if p.pulmonary != nil { assignments += TwoCircuit.refillRate }

        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
              <model id="beat_averaged_circulation" name="Beat-averaged circulation with the arterial baroreflex (Twinbank \(modelID) \(modelVersion); time in minutes)">
                <listOfFunctionDefinitions>

            """
        for (id, args, body) in functions {
            xml += "      <functionDefinition id=\"\(id)\">\(math("<lambda>" + args.map { "<bvar><ci> \($0) </ci></bvar>" }.joined() + body.text + "</lambda>"))</functionDefinition>\n"
        }
        xml += """
                </listOfFunctionDefinitions>
                <listOfCompartments><compartment id="body" size="1" constant="true"/></listOfCompartments>
                <listOfSpecies>
                  <species id="\(bloodLoss)" name="blood lost (mL, cumulative)" compartment="body" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
                  <species id="\(fluidGiven)" name="fluid given (mL, cumulative)" compartment="body" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
                </listOfSpecies>
                <listOfParameters>

            """
        for (id, value) in constants { xml += "      <parameter id=\"\(id)\" value=\"\(value)\" constant=\"true\"/>\n" }
        for id in restParameters { xml += "      <parameter id=\"\(id)\" constant=\"true\"/>\n" }
        for s in states { xml += "      <parameter id=\"\(s.0)\" constant=\"false\"/>\n" }
        for (id, _) in assignments { xml += "      <parameter id=\"\(id)\" constant=\"false\"/>\n" }
        xml += "    </listOfParameters>\n    <listOfInitialAssignments>\n"
        for (id, m) in initial { xml += "      <initialAssignment symbol=\"\(id)\">\(math(m.text))</initialAssignment>\n" }
        xml += "    </listOfInitialAssignments>\n    <listOfRules>\n"
        for (id, m) in assignments {
            xml += "      <assignmentRule variable=\"\(id)\">\(math(m.text))</assignmentRule>\n"
        }
        for s in states { xml += "      <rateRule variable=\"\(s.0)\">\(math((n(60) * s.2).text))</rateRule>\n" }
        xml += "    </listOfRules>\n  </model>\n</sbml>\n"
        return xml
    }

    // MARK: - MathML

    /// A MathML expression (its content markup).
    struct M {
        let text: String
        static func + (a: M, b: M) -> M { apply("plus", a, b) }
        static func - (a: M, b: M) -> M { apply("minus", a, b) }
        static func * (a: M, b: M) -> M { apply("times", a, b) }
        static func / (a: M, b: M) -> M { apply("divide", a, b) }
    }
    static func n(_ x: Double) -> M { M(text: "<cn> \(x) </cn>") }
    static func v(_ id: String) -> M { M(text: "<ci> \(id) </ci>") }
    static let time = M(text: "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\"> time </csymbol>")
    static func apply(_ op: String, _ args: M...) -> M { M(text: "<apply><\(op)/>" + args.map(\.text).joined() + "</apply>") }
    static func call(_ f: String, _ args: M...) -> M { M(text: "<apply><ci> \(f) </ci>" + args.map(\.text).joined() + "</apply>") }
    static func exp(_ a: M) -> M { apply("exp", a) }
    static func ln(_ a: M) -> M { apply("ln", a) }
    static func max(_ a: M, _ b: M) -> M { apply("max", a, b) }
    static func geq(_ a: M, _ b: M) -> M { apply("geq", a, b) }
    static func piecewise(_ value: M, _ condition: M, _ otherwise: M) -> M {
        M(text: "<piecewise><piece>\(value.text)\(condition.text)</piece><otherwise>\(otherwise.text)</otherwise></piecewise>")
    }
    static func math(_ content: String) -> String { "<math xmlns=\"http://www.w3.org/1998/Math/MathML\">\(content)</math>" }
}
