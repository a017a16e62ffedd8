import ArgumentParser
import Foundation
import TwinCore
import TwinModels
import TwinPopulation
import TwinSimulation

// Option values that are a closed set: ArgumentParser lists the values in --help and refuses any other with the
// allowed ones. The sets and their parsing live in the libraries; these conformances only connect them.

extension Event.Category: ExpressibleByArgument {
    /// Case-insensitive, as ``Event/Category/init(parsing:)``.
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension Twin.Kind: ExpressibleByArgument {
    /// Case-insensitive and with the synonyms of ``Twin/Kind/init(parsing:)`` (organization, human, ...).
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension GlucoseIntegration: ExpressibleByArgument {}

extension GlucoseTherapy: ExpressibleByArgument {}

extension RiskLevel: ExpressibleByArgument {
    /// Case-insensitive, as ``RiskLevel/init(parsing:)``.
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SolverMethod: ExpressibleByArgument {}
