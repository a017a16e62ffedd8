/// Parameters of the UVA/Padova type 1 diabetes model as simglucose 0.2.11 stores them per virtual patient
/// (`simglucose/params/vpatient_params.csv`). Names follow the papers and the CSV so they can be checked
/// against the source one by one.
///
/// Units (Dalla Man et al. 2007, Kovatchev et al. 2009; masses per kg body weight):
/// `BW` kg; `EGPb` mg/kg/min; `Gb` mg/dL; `Ib` pmol/L; `kabs`, `kmax`, `kmin` 1/min; `b`, `d` dimensionless;
/// `Vg` dL/kg; `Vi` L/kg; `Ipb` pmol/kg; `Vmx` mg/kg/min per pmol/L; `Km0` mg/kg; `k1`, `k2` 1/min; `p2u` 1/min;
/// `m1`, `m2`, `m4`, `m30` 1/min; `m5` min·kg/pmol; `CL` L/min; `HEb` dimensionless; `Ilb` pmol/kg; `ki` 1/min;
/// `kp1` mg/kg/min; `kp2` 1/min; `kp3` mg/kg/min per pmol/L; `f` dimensionless; `Gpb`, `Gtb` mg/kg; `ke1` 1/min;
/// `ke2` mg/kg; `Fsnc` mg/kg/min; `Vm0` mg/kg/min; `Rdb` mg/kg/min; `PCRb` 1/min; `kd`, `ksc`, `ka1`, `ka2` 1/min;
/// `dosekempt` mg; `u2ss` pmol/kg/min; `isc1ss`, `isc2ss` pmol/kg.
public struct UVAPadovaParameters: Sendable, Hashable {
    public var BW, EGPb, Gb, Ib, kabs, kmax, kmin, b, d, Vg, Vi, Ipb, Vmx, Km0, k2, k1, p2u, m1, m5, CL, HEb, m2, m4,
               m30, Ilb, ki, kp2, kp3, f, Gpb, ke1, ke2, Fsnc, Gtb, Vm0, Rdb, PCRb, kd, ksc, ka1, ka2, dosekempt, u2ss,
               isc1ss, isc2ss, kp1: Double

    public init(BW: Double, EGPb: Double, Gb: Double, Ib: Double, kabs: Double, kmax: Double, kmin: Double, b: Double,
                d: Double, Vg: Double, Vi: Double, Ipb: Double, Vmx: Double, Km0: Double, k2: Double, k1: Double,
                p2u: Double, m1: Double, m5: Double, CL: Double, HEb: Double, m2: Double, m4: Double, m30: Double,
                Ilb: Double, ki: Double, kp2: Double, kp3: Double, f: Double, Gpb: Double, ke1: Double, ke2: Double,
                Fsnc: Double, Gtb: Double, Vm0: Double, Rdb: Double, PCRb: Double, kd: Double, ksc: Double,
                ka1: Double, ka2: Double, dosekempt: Double, u2ss: Double, isc1ss: Double, isc2ss: Double,
                kp1: Double) {
        self.BW = BW; self.EGPb = EGPb; self.Gb = Gb; self.Ib = Ib; self.kabs = kabs; self.kmax = kmax
        self.kmin = kmin; self.b = b; self.d = d; self.Vg = Vg; self.Vi = Vi; self.Ipb = Ipb; self.Vmx = Vmx
        self.Km0 = Km0; self.k2 = k2; self.k1 = k1; self.p2u = p2u; self.m1 = m1; self.m5 = m5; self.CL = CL
        self.HEb = HEb; self.m2 = m2; self.m4 = m4; self.m30 = m30; self.Ilb = Ilb; self.ki = ki; self.kp2 = kp2
        self.kp3 = kp3; self.f = f; self.Gpb = Gpb; self.ke1 = ke1; self.ke2 = ke2; self.Fsnc = Fsnc; self.Gtb = Gtb
        self.Vm0 = Vm0; self.Rdb = Rdb; self.PCRb = PCRb; self.kd = kd; self.ksc = ksc; self.ka1 = ka1
        self.ka2 = ka2; self.dosekempt = dosekempt; self.u2ss = u2ss; self.isc1ss = isc1ss; self.isc2ss = isc2ss
        self.kp1 = kp1
    }

    /// Every parameter as (name, value, unit), in the CSV's order.
    public var described: [ModelDescription.Parameter] {
        [("BW", BW, "kg"), ("EGPb", EGPb, "mg/kg/min"), ("Gb", Gb, "mg/dL"), ("Ib", Ib, "pmol/L"),
         ("kabs", kabs, "1/min"), ("kmax", kmax, "1/min"), ("kmin", kmin, "1/min"), ("b", b, "1"), ("d", d, "1"),
         ("Vg", Vg, "dL/kg"), ("Vi", Vi, "L/kg"), ("Ipb", Ipb, "pmol/kg"), ("Vmx", Vmx, "mg/kg/min/(pmol/L)"),
         ("Km0", Km0, "mg/kg"), ("k2", k2, "1/min"), ("k1", k1, "1/min"), ("p2u", p2u, "1/min"),
         ("m1", m1, "1/min"), ("m5", m5, "min.kg/pmol"), ("CL", CL, "L/min"), ("HEb", HEb, "1"),
         ("m2", m2, "1/min"), ("m4", m4, "1/min"), ("m30", m30, "1/min"), ("Ilb", Ilb, "pmol/kg"),
         ("ki", ki, "1/min"), ("kp2", kp2, "1/min"), ("kp3", kp3, "mg/kg/min/(pmol/L)"), ("f", f, "1"),
         ("Gpb", Gpb, "mg/kg"), ("ke1", ke1, "1/min"), ("ke2", ke2, "mg/kg"), ("Fsnc", Fsnc, "mg/kg/min"),
         ("Gtb", Gtb, "mg/kg"), ("Vm0", Vm0, "mg/kg/min"), ("Rdb", Rdb, "mg/kg/min"), ("PCRb", PCRb, "1/min"),
         ("kd", kd, "1/min"), ("ksc", ksc, "1/min"), ("ka1", ka1, "1/min"), ("ka2", ka2, "1/min"),
         ("dosekempt", dosekempt, "mg"), ("u2ss", u2ss, "pmol/kg/min"), ("isc1ss", isc1ss, "pmol/kg"),
         ("isc2ss", isc2ss, "pmol/kg"), ("kp1", kp1, "mg/kg/min")].map { ModelDescription.Parameter($0.0, $0.1, $0.2) }
    }

    /// The basal insulin rate that keeps the patient at steady state, `u2ss * BW / 6000`, in U/min.
    public var basalInsulinRate: Double { u2ss * BW / 6000 }

    /// Throws if a parameter that the equations divide by or that is a rate constant is not positive and finite.
    public func validate() throws(ModelError) {
        for p in described where !p.value.isFinite {
            throw ModelError(.invalidParameter, "UVA/Padova: parameter '\(p.name)' is not finite (\(p.value))", value: "\(p.value)")
        }
        for (name, v) in [("BW", BW), ("Vg", Vg), ("Vi", Vi), ("kmax", kmax), ("kabs", kabs), ("Km0", Km0)] {
            try ModelError.requirePositive(v, name, in: "UVA/Padova")
        }
        for (name, v) in [("kmin", kmin), ("k1", k1), ("k2", k2), ("ksc", ksc), ("ka1", ka1), ("ka2", ka2),
                          ("kd", kd), ("ki", ki), ("p2u", p2u), ("m1", m1), ("m2", m2), ("m4", m4), ("m30", m30),
                          ("u2ss", u2ss)] {
            try ModelError.requireNonNegative(v, name, in: "UVA/Padova")
        }
        guard b < 1, d > 0 else {
            throw ModelError(.invalidParameter, "UVA/Padova: gastric emptying shape needs b < 1 and d > 0, got b = \(b), d = \(d)",
                             value: "b=\(b), d=\(d)")
        }
    }
}
