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

extension InsulinPump: ExpressibleByArgument {
    /// A pump by name (``InsulinPump/named(_:)``: Insulet or Cozmo).
    public init?(argument: String) { guard let p = try? InsulinPump.named(argument) else { return nil }; self = p }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { [InsulinPump.insulet.name, InsulinPump.cozmo.name] }
}
