import Foundation
import TwinBank
import TwinCore

/// A population twin in the bank: a twin of kind `population` that stands for a synthetic population and
/// holds its thread. The population itself is not stored person by person: the twin records its size, seed
/// and marginals (from which ``SyntheticPopulation/generate(size:seed:marginals:)`` redraws it exactly) and
/// its summary statistics.
public enum PopulationTwin {
    /// Attribute names on the twin.
    public static let sizeAttribute = "populationSize", seedAttribute = "populationSeed", marginalsAttribute = "marginals"

    /// Draws the population and records it as population twin `id`: attributes `populationSize`,
    /// `populationSeed` (text, the full 64-bit seed), `marginals` (the marginals as JSON text) and the summary
    /// statistics `households`, `schools`, `workplaces`, `pupils`, `workers`, `meanAge`, `contacts.h|s|w|c`.
    ///
    /// - Parameter replace: replace the definition of an existing population twin (its thread is kept).
    /// - Throws: `PopulationError` for a bad size or marginals, or when `id` exists and is not a population twin
    ///   (or exists and `replace` is false); the bank's errors. Nothing is written then.
    @discardableResult
    public static func synthesize(in bank: Bank, id: TwinID, size: Int, seed: UInt64, marginals: PopulationMarginals,
                                  replace: Bool = false) throws -> SyntheticPopulation {
        let existing = try? bank.twin(id)
        if let existing {
            guard existing.twin.kind == .population else {
                throw PopulationError(.invalidArgument, "twin '\(id)' exists and is a \(existing.twin.kind) twin, not a population twin", value: id.rawValue)
            }
            guard replace else {
                throw PopulationError(.invalidArgument, "population twin '\(id)' exists: give another id, or replace its population (its thread is kept)", value: id.rawValue)
            }
        }
        let population = try SyntheticPopulation.generate(size: size, seed: seed, marginals: marginals)
        var attributes: [String: Value] = [
            sizeAttribute: .quantity(Quantity(Double(size), "1")),
            seedAttribute: .text(String(seed)),
            marginalsAttribute: .text(marginals.json),
        ]
        for (key, value) in summary(population) { attributes[key] = .quantity(Quantity(value, "1")) }
        let twin = Twin(id: id, kind: .population, attributes: attributes)
        if existing != nil { try bank.updateTwin(twin) } else { try bank.createTwin(twin) }
        return population
    }

    /// Summary statistics of a population (the attributes ``synthesize(in:id:size:seed:marginals:replace:)`` records).
    public static func summary(_ p: SyntheticPopulation) -> [(String, Double)] {
        let pupils = p.school.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }, workers = p.workplace.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let meanAge = p.ages.reduce(0.0) { $0 + Double($1) } / Double(max(p.count, 1))
        var out: [(String, Double)] = [
            ("households", Double((p.household.last ?? -1) + 1)),
            ("schools", Double((p.school.max() ?? -1) + 1)), ("workplaces", Double((p.workplace.max() ?? -1) + 1)),
            ("pupils", Double(pupils)), ("workers", Double(workers)), ("meanAge", (meanAge * 100).rounded() / 100),
        ]
        for layer in p.layers { out.append(("contacts.\(layer.kind.key)", (layer.meanDegree * 1000).rounded() / 1000)) }
        return out
    }

    /// Whether the twin records a population (it was made by `synthesize`).
    public static func holdsPopulation(_ twin: Twin) -> Bool { twin.attributes[sizeAttribute] != nil }

    /// Redraws the population a population twin records (the same people, contact for contact).
    /// - Throws: `PopulationError.invalidArgument` when the twin is not a population twin or records no population.
    /// A twin made from an aggregate's members (``fromAggregate(_:in:id:seed:asOf:marginals:replace:)``) gives
    /// its members' population (``memberPopulation(of:in:)``).
    public static func population(of id: TwinID, in bank: Bank) throws -> SyntheticPopulation {
        let twin = try bank.twin(id).twin
        guard twin.kind == .population else {
            throw PopulationError(.invalidArgument, "twin '\(id)' is a \(twin.kind) twin, not a population twin", value: id.rawValue)
        }
        if let members = try memberPopulation(of: id, in: bank) { return members.population }
        guard case .quantity(let size)? = twin.attributes[sizeAttribute], case .text(let seedText)? = twin.attributes[seedAttribute],
              let seed = UInt64(seedText), case .text(let json)? = twin.attributes[marginalsAttribute] else {
            throw PopulationError(.invalidArgument, "population twin '\(id)' records no population: make one with twinbank population synthesize", value: id.rawValue)
        }
        let marginals = try PopulationMarginals.parse(Data(json.utf8))
        return try SyntheticPopulation.generate(size: Int(size.value), seed: seed, marginals: marginals)
    }
}

extension PopulationMarginals {
    /// The marginals in the documented JSON format (sorted keys), which ``parse(_:)`` reads back to an equal value.
    public var json: String {
        func bands(_ b: [Band]) -> [[String: Any]] { b.map { ["min": $0.min, "max": $0.max, "weight": $0.weight] } }
        let root: [String: Any] = [
            "ageBands": bands(ageBands), "householdSizes": householdSizes, "adultAge": adultAge,
            "school": ["minAge": schoolMinAge, "maxAge": schoolMaxAge, "enrolment": enrolment, "contacts": schoolContacts, "sizes": bands(schoolSizes)],
            "work": ["minAge": workMinAge, "maxAge": workMaxAge, "employment": employment, "contacts": workContacts, "sizes": bands(workplaceSizes)],
            "community": ["contacts": communityContacts, "daily": communityDaily],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
