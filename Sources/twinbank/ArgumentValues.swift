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

/// Parses a duration option through TwinCore's ``TimeSpan`` (`90min`, `24h`, `1.5d`, ...); a bare number is
/// read in `bareUnit` (`h` for `--horizon 24`).
/// - Throws: `ValidationError` naming the option, the text and the grammar.
func parseTimeSpan(_ text: String, option: String, bareUnit: String) throws -> TimeSpan {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    do {
        return try TimeSpan(parsing: Double(t) != nil ? t + bareUnit : t)
    } catch let e as TwinError {
        throw ValidationError("\(option): \(e.message) (a bare number is in \(bareUnit))")
    }
}

extension SolverMethod: ExpressibleByArgument {}
