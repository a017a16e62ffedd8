import Foundation

/// A state or daily flow the outbreak model counts, one value per day.
public enum OutbreakSeries: Int, Sendable, Hashable, CaseIterable, Codable {
    case susceptible = 0, exposed, asymptomatic, presymptomatic, mild, severe, critical, recovered, dead
    /// People infected that day (day 0 includes the initial infections).
    case newInfections
    /// People diagnosed that day.
    case newDiagnoses
    /// People in quarantine at the end of the day.
    case quarantined
    /// People vaccinated so far.
    case vaccinated

    /// The column name in tables and JSON.
    public var name: String {
        ["susceptible", "exposed", "asymptomatic", "presymptomatic", "mild", "severe", "critical", "recovered", "dead",
         "new_infections", "new_diagnoses", "quarantined", "vaccinated"][rawValue]
    }

    /// The nine disease states (people in each add up to the population every day).
    public static let states: [OutbreakSeries] = [.susceptible, .exposed, .asymptomatic, .presymptomatic, .mild, .severe, .critical, .recovered, .dead]
}

/// The headline numbers of an epidemic.
public struct OutbreakHeadline: Sendable, Hashable, Codable {
    /// Everyone ever infected, the initial infections included.
    public var cumulativeInfections: Int
    /// `cumulativeInfections` / population.
    public var attackRate: Double
    /// The most new infections on one day, and the first day it happened.
    public var peakDailyInfections: Int
    public var peakDay: Int
    public var deaths: Int
    public var diagnoses: Int
}

/// One simulated epidemic: the daily counts of every ``OutbreakSeries`` for days 0...`days`.
public struct OutbreakRun: Sendable, Hashable {
    public let agents: Int
    public let days: Int
    /// The run's index in its ensemble and the seed its randomness came from.
    public let runIndex: Int
    public let seed: UInt64
    /// `counts[series.rawValue][day]`.
    public let counts: [[Int32]]

    public func series(_ s: OutbreakSeries) -> [Int32] { counts[s.rawValue] }

    public var headline: OutbreakHeadline {
        let new = series(.newInfections)
        var peak = 0, peakDay = 0
        for (d, v) in new.enumerated() where Int(v) > peak { peak = Int(v); peakDay = d }
        let cumulative = new.reduce(0) { $0 + Int($1) }
        return OutbreakHeadline(cumulativeInfections: cumulative, attackRate: Double(cumulative) / Double(max(agents, 1)),
                                peakDailyInfections: peak, peakDay: peakDay, deaths: Int(series(.dead).last ?? 0),
                                diagnoses: series(.newDiagnoses).reduce(0) { $0 + Int($1) })
    }
}
