import Foundation

/// Inter-individual variability of a PK model for virtual cohorts: each individual's clearance, volumes and
/// absorption rate are the typical value times `exp(eta)`, `eta ~ Normal(0, omega^2)` (log-normal), as in
/// population PK (Sheiner, Rosenberg, Marathe, J. Pharmacokinet. Biopharm. 5 (1977) 445-479; NONMEM's
/// exponential model). The generator is passed in, so a seeded generator makes the cohort reproducible.
public struct PopulationPK: Sendable, Hashable {
    /// The typical individual.
    public var typical: PKModel
    /// Standard deviations of eta (log scale) for CL, V1, Q, V2, ka; 0 = no variability.
    public var omegaClearance: Double, omegaCentralVolume: Double, omegaIntercompartmental: Double,
               omegaPeripheralVolume: Double, omegaAbsorption: Double

    public init(typical: PKModel, omegaClearance: Double = 0, omegaCentralVolume: Double = 0,
                omegaIntercompartmental: Double = 0, omegaPeripheralVolume: Double = 0,
                omegaAbsorption: Double = 0) throws(ModelError) {
        try typical.validate()
        for (name, v) in [("omegaClearance", omegaClearance), ("omegaCentralVolume", omegaCentralVolume),
                          ("omegaIntercompartmental", omegaIntercompartmental),
                          ("omegaPeripheralVolume", omegaPeripheralVolume), ("omegaAbsorption", omegaAbsorption)] {
            try ModelError.requireNonNegative(v, name, in: "population PK")
        }
        self.typical = typical; self.omegaClearance = omegaClearance; self.omegaCentralVolume = omegaCentralVolume
        self.omegaIntercompartmental = omegaIntercompartmental; self.omegaPeripheralVolume = omegaPeripheralVolume
        self.omegaAbsorption = omegaAbsorption
    }

    /// One standard normal deviate (Box-Muller; two uniforms from `rng`).
    static func standardNormal(_ rng: inout some RandomNumberGenerator) -> Double {
        var u1 = 0.0
        repeat { u1 = Double.random(in: 0..<1, using: &rng) } while u1 <= 0
        let u2 = Double.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Draws `count` individuals. Each draws five deviates in a fixed order (CL, V1, Q, V2, ka) whether or not
    /// the model uses them, so adding variability to one parameter does not reshuffle the others.
    public func sample(_ count: Int, using rng: inout some RandomNumberGenerator) -> [PKModel] {
        (0..<max(0, count)).map { _ in
            let e = (0..<5).map { _ in Self.standardNormal(&rng) }
            var m = typical
            m.clearance *= exp(omegaClearance * e[0])
            m.centralVolume *= exp(omegaCentralVolume * e[1])
            if let q = m.intercompartmentalClearance { m.intercompartmentalClearance = q * exp(omegaIntercompartmental * e[2]) }
            if let v = m.peripheralVolume { m.peripheralVolume = v * exp(omegaPeripheralVolume * e[3]) }
            if let ka = m.absorptionRate { m.absorptionRate = ka * exp(omegaAbsorption * e[4]) }
            return m
        }
    }
}
