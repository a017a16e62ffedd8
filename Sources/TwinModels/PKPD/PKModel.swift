import TwinSimulation

/// A compartmental pharmacokinetic model: one or two compartments (central + peripheral), elimination from the
/// central compartment, optional first-order absorption from a depot (oral or other extravascular dosing).
///
/// Source: M. Rowland, T. N. Tozer, *Clinical Pharmacokinetics and Pharmacodynamics*, 4th ed. (2011), chapters
/// 3-4, 6 and 11; M. Gibaldi, D. Perrier, *Pharmacokinetics*, 2nd ed. (1982), chapters 1-2 (the closed forms
/// used in the tests).
///
/// Units: amounts in mg, volumes in L, clearances in L/h, rate constants in 1/h, time in h, concentrations in
/// mg/L. States: `depot` (mg), `central` (mg), and for two compartments `peripheral` (mg).
public struct PKModel: Sendable, Hashable, DescribedModel {
    /// Clearance from the central compartment, L/h.
    public var clearance: Double
    /// Central volume of distribution, L.
    public var centralVolume: Double
    /// Inter-compartmental clearance, L/h (two-compartment only; `nil` = one compartment).
    public var intercompartmentalClearance: Double?
    /// Peripheral volume, L (two-compartment only).
    public var peripheralVolume: Double?
    /// First-order absorption rate constant, 1/h (needed for oral doses).
    public var absorptionRate: Double?
    /// Bioavailability of oral doses, 0...1.
    public var bioavailability: Double

    /// A one-compartment model.
    public static func oneCompartment(clearance: Double, volume: Double, absorptionRate: Double? = nil,
                                      bioavailability: Double = 1) throws(ModelError) -> PKModel {
        let m = PKModel(clearance: clearance, centralVolume: volume, intercompartmentalClearance: nil,
                        peripheralVolume: nil, absorptionRate: absorptionRate, bioavailability: bioavailability)
        try m.validate()
        return m
    }

    /// A two-compartment model.
    public static func twoCompartment(clearance: Double, centralVolume: Double, intercompartmentalClearance: Double,
                                      peripheralVolume: Double, absorptionRate: Double? = nil,
                                      bioavailability: Double = 1) throws(ModelError) -> PKModel {
        let m = PKModel(clearance: clearance, centralVolume: centralVolume,
                        intercompartmentalClearance: intercompartmentalClearance, peripheralVolume: peripheralVolume,
                        absorptionRate: absorptionRate, bioavailability: bioavailability)
        try m.validate()
        return m
    }

    /// Throws `invalidParameter` naming the first volume, clearance or rate that is not positive and finite, or a
    /// bioavailability outside (0, 1].
    public func validate() throws(ModelError) {
        try ModelError.requirePositive(clearance, "clearance", in: "PK model")
        try ModelError.requirePositive(centralVolume, "centralVolume", in: "PK model")
        if let q = intercompartmentalClearance { try ModelError.requirePositive(q, "intercompartmentalClearance", in: "PK model") }
        if let v = peripheralVolume { try ModelError.requirePositive(v, "peripheralVolume", in: "PK model") }
        if (intercompartmentalClearance == nil) != (peripheralVolume == nil) {
            throw ModelError(.invalidParameter, "PK model: a two-compartment model needs both intercompartmentalClearance and peripheralVolume")
        }
        if let ka = absorptionRate { try ModelError.requirePositive(ka, "absorptionRate", in: "PK model") }
        guard bioavailability.isFinite, bioavailability > 0, bioavailability <= 1 else {
            throw ModelError(.invalidParameter, "PK model: parameter 'bioavailability' must be in (0, 1], got \(bioavailability)",
                             value: "\(bioavailability)")
        }
    }

    public var isTwoCompartment: Bool { peripheralVolume != nil }
    /// Number of states: depot, central (and peripheral).
    public var dimension: Int { isTwoCompartment ? 3 : 2 }
    public var stateNames: [String] { isTwoCompartment ? ["depot", "central", "peripheral"] : ["depot", "central"] }
    /// Elimination rate constant `CL / V`, 1/h.
    public var eliminationRate: Double { clearance / centralVolume }

    public var modelDescription: ModelDescription {
        var ps: [ModelDescription.Parameter] = [.init("CL", clearance, "L/h"), .init("V1", centralVolume, "L")]
        if let q = intercompartmentalClearance, let v2 = peripheralVolume { ps += [.init("Q", q, "L/h"), .init("V2", v2, "L")] }
        if let ka = absorptionRate { ps.append(.init("ka", ka, "1/h")) }
        ps.append(.init("F", bioavailability, "1"))
        return ModelDescription(id: isTwoCompartment ? "pk-two-compartment" : "pk-one-compartment", version: "1",
                                parameters: ps, states: stateNames.map { .init($0, "mg") },
                                source: "Rowland & Tozer 2011; Gibaldi & Perrier 1982")
    }
}

/// The ODE of a `PKModel` with a piecewise-constant infusion rate (mg/h into the central compartment).
struct PKSystem: ODESystem, Sendable {
    let model: PKModel
    /// Infusions as (start, end, rate mg/h); the rate at t is the sum over `start <= t < end`.
    let infusions: [(start: Double, end: Double, rate: Double)]

    var dimension: Int { model.dimension }
    var variableNames: [String] { model.stateNames }

    func infusionRate(at t: Double) -> Double {
        var r = 0.0
        for i in infusions where t >= i.start && t < i.end { r += i.rate }
        return r
    }

    func derivatives(t: Double, y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        let ka = model.absorptionRate ?? 0
        let absorbed = ka * y[0]
        dy[0] = -absorbed
        var central = absorbed + infusionRate(at: t) - model.eliminationRate * y[1]
        if let q = model.intercompartmentalClearance, let v2 = model.peripheralVolume {
            let flow = q / model.centralVolume * y[1] - q / v2 * y[2]
            central -= flow
            dy[2] = flow
        }
        dy[1] = central
    }

    func jacobian(t: Double, y: UnsafeBufferPointer<Double>, into j: UnsafeMutableBufferPointer<Double>) -> Bool {
        let n = dimension
        for i in 0..<(n * n) { j[i] = 0 }
        let ka = model.absorptionRate ?? 0
        j[0] = -ka
        j[n] = ka
        j[n + 1] = -model.eliminationRate
        if let q = model.intercompartmentalClearance, let v2 = model.peripheralVolume {
            j[n + 1] -= q / model.centralVolume
            j[n + 2] = q / v2
            j[2 * n + 1] = q / model.centralVolume
            j[2 * n + 2] = -q / v2
        }
        return true
    }
}
