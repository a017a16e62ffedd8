import Foundation
import TwinCore
import TwinSimulation

/// An outbreak run on a synthetic population, counted per region: the input of ``RegionalRisk`` and ``RiskMap``
/// when the people are simulated agents rather than person twins with a home location.
///
/// A synthetic population has no addresses, so its households are placed: each household (all its members
/// together) goes to one region drawn at random with probability proportional to the region's area (square
/// degrees, holes excluded), from a generator seeded with `seed`, so the same population, regions and seed
/// place everyone the same way. A region's residents are the people placed there. A person diagnosed on day
/// `d` of the run (``OutbreakModel/Outcomes/dayDiagnosed``) is a confirmed case of that day in their region;
/// the run has no test counts or admissions per person, so those stay 0 (positivity and hospital load are
/// then not computable and the risk level rests on incidence and growth).
public enum OutbreakRegions {
    /// The region index of each household of `population`, drawn as the type describes.
    /// - Throws: ``PopulationError/Code/invalidArgument`` when the regions have no area.
    public static func placeHouseholds(_ population: SyntheticPopulation, regions: GeoRegions, seed: UInt64) throws(PopulationError) -> [Int32] {
        let weights = regions.regions.map { $0.polygons.reduce(0) { $0 + $1.area } }
        let total = weights.reduce(0, +)
        guard total > 0, total.isFinite else {
            throw PopulationError(.invalidArgument, "the regions have no area to place people in", value: regions.names.first)
        }
        var cumulative: [Double] = []
        var s = 0.0
        for w in weights { s += w / total; cumulative.append(s) }
        let households = Int((population.household.max() ?? -1) + 1)
        var rng = Xoshiro256StarStar(seed: seed)
        var out = [Int32](repeating: 0, count: households)
        for h in 0..<households {
            let u = rng.nextUniform()
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
            }
            out[h] = Int32(lo)
        }
        return out
    }

    /// Daily confirmed cases per region from one run's outcomes, days `0...days` of the run from `start`, with
    /// each region's residents as its population (households placed by ``placeHouseholds(_:regions:seed:)``).
    /// - Throws: ``PopulationError/Code/invalidArgument`` when the outcomes are not of this population, or as
    ///   ``placeHouseholds(_:regions:seed:)``.
    public static func counts(_ population: SyntheticPopulation, outcomes: OutbreakModel.Outcomes, days: Int, regions: GeoRegions,
                              start: Instant, seed: UInt64) throws(PopulationError) -> RegionalCounts {
        guard outcomes.dayDiagnosed.count == population.count, outcomes.finalState.count == population.count else {
            throw PopulationError(.invalidArgument, "the outcomes are of \(outcomes.dayDiagnosed.count) people, the population has \(population.count)",
                                  value: "\(outcomes.dayDiagnosed.count)")
        }
        let place = try placeHouseholds(population, regions: regions, seed: seed)
        var residents = [Int](repeating: 0, count: regions.regions.count)
        for i in 0..<population.count { residents[Int(place[Int(population.household[i])])] += 1 }
        var counts = try RegionalCounts(regions: regions.names, population: residents, start: start, days: days + 1)
        for i in 0..<population.count where outcomes.dayDiagnosed[i] >= 0 {
            counts.add(.cases, region: Int(place[Int(population.household[i])]), day: Int(outcomes.dayDiagnosed[i]))
        }
        return counts
    }
}
