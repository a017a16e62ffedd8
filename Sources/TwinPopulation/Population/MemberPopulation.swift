import Foundation
import TwinBank
import TwinCore
import TwinSimulation

/// A population made of real bank members: the person twins of an aggregate, each with its own attributes,
/// as a ``SyntheticPopulation`` the outbreak model runs on (person `i` is ``members``[i]).
///
/// What each member brings, read from its twin's attributes:
/// - **age**: whole years at ``asOf`` from `birthDate` (as the aggregate query's `age`; at death when
///   `deceased` is earlier), capped at 120;
/// - **sex**: `sex` or `gender` (text) as recorded;
/// - **household**, **school**, **workplace**: the attributes `household`, `school` and `workplace` (any value;
///   members with equal values share the place). A member without `household` gets a household of their own
///   (a household of one); a member without `school` (`workplace`) goes to no school (workplace);
/// - **home location**: `home_lat` and `home_lon` (numbers or quantities in degrees), as risk maps read them;
/// - **conditions that change risk**: every `condition` attribute value (a concept or text); with the sex they make
///   each person's multiplier of the probability of severe disease (``SevereRisk``, in ``SyntheticPopulation/severeRisk``).
///
/// Contacts: everyone in a household meets everyone else in it; schools and workplaces get contacts as the
/// synthetic generator makes them (a clique when a place is no larger than its mean contacts + 1, else random
/// partners), with the contact numbers of ``SyntheticPopulation/marginals``; community contacts are random
/// over all members (or drawn daily by the model when the marginals say so). The draws use ``seed``, so the
/// same members, attributes, marginals and seed give the same contacts. Members are numbered household by
/// household (in the order of the first member of each household by id), as the model requires.
public struct MemberPopulation: Sendable {
    /// The member of each person number.
    public let members: [TwinID]
    public let population: SyntheticPopulation
    /// `sex`/`gender` of each person, nil when not recorded.
    public let sex: [String?]
    /// Home latitude and longitude of each person (degrees), nil when not recorded.
    public let home: [(lat: Double, lon: Double)?]
    /// Conditions of each person (`condition` attribute values).
    public let conditions: [[String]]
    /// How many members were given a household of their own (they had no `household` attribute).
    public let ownHouseholds: Int
    /// Members of the aggregate that are not in the population: twins that are not persons, or persons
    /// without a `birthDate` (their age is unknown).
    public let skipped: [TwinID]
    /// The time ages are computed at.
    public let asOf: Instant

    /// Attribute names read from the member twins.
    public static let householdAttribute = "household", schoolAttribute = "school", workplaceAttribute = "workplace"

    /// Builds the population from `members` (their twins read from `bank` as they are now).
    /// - Throws: ``PopulationError/Code/invalidArgument`` when no member is a person with a birth date, or a
    ///   `home_lat`/`home_lon` is not a number in range (naming the twin and value); the bank's errors (an
    ///   unknown twin ...).
    public static func build(members ids: [TwinID], in bank: Bank, asOf: Instant, seed: UInt64,
                             marginals: PopulationMarginals = .covasimHybrid) throws -> MemberPopulation {
        try marginals.validate()
        struct Person { var id: TwinID; var age: UInt8; var sex: String?; var household: String?; var school: String?; var workplace: String?
                        var home: (lat: Double, lon: Double)?; var conditions: [String] }
        func key(_ v: Value?) -> String? {
            switch v {
            case nil: return nil
            case .concept(let c)?: return "\(c.system)|\(c.code)"
            case let other?: return other.description
            }
        }
        var people: [Person] = []
        var skipped: [TwinID] = []
        for id in Set(ids).sorted() {
            let twin = try bank.twin(id).twin
            guard twin.kind == .person, case .quantity(let years)? = QueryVocabulary.Derived.age.value(of: twin, at: asOf) else {
                skipped.append(id); continue
            }
            var sex: String?
            if case .text(let s)? = QueryVocabulary.attribute("sex", of: twin) { sex = s }
            var home: (lat: Double, lon: Double)?
            if let lat = try RiskTwins.number(twin.attributes["home_lat"], "home_lat", id),
               let lon = try RiskTwins.number(twin.attributes["home_lon"], "home_lon", id) {
                guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                    throw PopulationError(.invalidArgument, "twin '\(id)': the home location home_lat \(lat), home_lon \(lon) is out of range", value: "\(lat),\(lon)")
                }
                home = (lat, lon)
            }
            var conditions: [String] = []
            for (name, value) in twin.attributes.sorted(by: { $0.key < $1.key }) where name == "condition" || name.hasPrefix("condition.") {
                conditions.append(key(value) ?? "")
            }
            people.append(Person(id: id, age: UInt8(min(120, max(0, years.value))), sex: sex,
                                 household: key(twin.attributes[householdAttribute]), school: key(twin.attributes[schoolAttribute]),
                                 workplace: key(twin.attributes[workplaceAttribute]), home: home, conditions: conditions))
        }
        guard !people.isEmpty else {
            throw PopulationError(.invalidArgument, "no member is a person twin with a birthDate (\(skipped.count) members skipped): a population needs people with an age",
                                  value: skipped.first?.rawValue)
        }
        // Households: members sharing a `household` value, in the order of their first member; others alone.
        var groups: [[Int]] = []
        var groupOf: [String: Int] = [:]
        var own = 0
        for (i, p) in people.enumerated() {
            if let h = p.household {
                if let g = groupOf[h] { groups[g].append(i) } else { groupOf[h] = groups.count; groups.append([i]) }
            } else {
                groups.append([i]); own += 1
            }
        }
        let order = groups.flatMap { $0 }
        let n = order.count
        var household = [Int32](repeating: 0, count: n)
        var hp1: [Int32] = [], hp2: [Int32] = []
        var at = 0
        for (h, g) in groups.enumerated() {
            for k in 0..<g.count {
                household[at + k] = Int32(h)
                for m in (k + 1)..<max(k + 1, g.count) { hp1.append(Int32(at + k)); hp2.append(Int32(at + m)) }
            }
            at += g.count
        }
        let sorted = order.map { people[$0] }
        var rng = Xoshiro256StarStar(seed: seed)
        func places(_ name: (Person) -> String?, kind: ContactLayerKind, contacts: Double) -> ([Int32], ContactLayer) {
            var index: [String: Int32] = [:]
            var member = [Int32](repeating: -1, count: n)
            var groups: [[Int32]] = []
            for (i, p) in sorted.enumerated() {
                guard let v = name(p) else { continue }
                let g = index[v] ?? { let g = Int32(groups.count); index[v] = g; groups.append([]); return g }()
                member[i] = g
                groups[Int(g)].append(Int32(i))
            }
            var p1: [Int32] = [], p2: [Int32] = []
            for g in groups { SyntheticPopulation.appendContacts(g, contacts: contacts, p1: &p1, p2: &p2, rng: &rng) }
            return (member, ContactLayer(kind: kind, count: n, p1: p1, p2: p2))
        }
        let (school, schoolLayer) = places({ $0.school }, kind: .school, contacts: marginals.schoolContacts)
        let (workplace, workLayer) = places({ $0.workplace }, kind: .work, contacts: marginals.workContacts)
        var cp1: [Int32] = [], cp2: [Int32] = []
        if !marginals.communityDaily {
            SyntheticPopulation.appendRandomContacts(count: n, map: nil, contacts: marginals.communityContacts, p1: &cp1, p2: &cp2, rng: &rng)
        }
        let population = SyntheticPopulation(
            count: n, ages: sorted.map(\.age), household: household, school: school, workplace: workplace,
            layers: [ContactLayer(kind: .household, count: n, p1: hp1, p2: hp2), schoolLayer, workLayer,
                     ContactLayer(kind: .community, count: n, p1: cp1, p2: cp2)],
            marginals: marginals, seed: seed,
            severeRisk: { let r = sorted.map { SevereRisk.multiplier(conditions: $0.conditions, sex: $0.sex) }; return r.allSatisfy { $0 == 1 } ? [] : r }())
        return MemberPopulation(members: sorted.map(\.id), population: population, sex: sorted.map(\.sex), home: sorted.map(\.home),
                                conditions: sorted.map(\.conditions), ownHouseholds: own, skipped: skipped, asOf: asOf)
    }
}

extension PopulationTwin {
    /// Attribute names of a population twin made of members: the members (ids separated by spaces, in person
    /// order), the aggregate they came from, and the time their ages are computed at.
    public static let membersAttribute = "populationMembers", aggregateAttribute = "populationAggregate", asOfAttribute = "populationAsOf"

    /// Makes population twin `id` from the members of aggregate `aggregate` (as of `asOf`, which is also when
    /// ages are computed): records `populationMembers`, `populationAggregate`, `populationAsOf`, `populationSize`,
    /// `populationSeed`, `marginals` and the summary statistics. ``population(of:in:)`` rebuilds the population
    /// from the member twins as they are then (see ``MemberPopulation``), so `twinbank outbreak --population`
    /// runs on the real members.
    /// - Throws: as ``MemberPopulation/build(members:in:asOf:seed:marginals:)``; `PopulationError.invalidArgument`
    ///   when `id` exists and is not a population twin, or exists and `replace` is false. Nothing is written then.
    @discardableResult
    public static func fromAggregate(_ aggregate: AggregateID, in bank: Bank, id: TwinID, seed: UInt64, asOf: Instant? = nil,
                                     marginals: PopulationMarginals = .covasimHybrid, replace: Bool = false) throws -> MemberPopulation {
        let existing = try? bank.twin(id)
        if let existing {
            guard existing.twin.kind == .population else {
                throw PopulationError(.invalidArgument, "twin '\(id)' exists and is a \(existing.twin.kind) twin, not a population twin", value: id.rawValue)
            }
            guard replace else {
                throw PopulationError(.invalidArgument, "population twin '\(id)' exists: give another id, or replace its population (its thread is kept)", value: id.rawValue)
            }
        }
        let membership = try bank.members(of: aggregate, asOf: asOf)
        let built = try MemberPopulation.build(members: membership.members, in: bank, asOf: membership.asOf, seed: seed, marginals: marginals)
        var attributes: [String: Value] = [
            sizeAttribute: .quantity(Quantity(Double(built.population.count), "1")),
            seedAttribute: .text(String(seed)),
            marginalsAttribute: .text(marginals.json),
            membersAttribute: .text(built.members.map(\.rawValue).joined(separator: " ")),
            aggregateAttribute: .text(aggregate.rawValue),
            asOfAttribute: .date(membership.asOf),
        ]
        for (key, value) in summary(built.population) { attributes[key] = .quantity(Quantity(value, "1")) }
        attributes["ownHouseholds"] = .quantity(Quantity(Double(built.ownHouseholds), "1"))
        let twin = Twin(id: id, kind: .population, attributes: attributes)
        if existing != nil { try bank.updateTwin(twin) } else { try bank.createTwin(twin) }
        return built
    }

    /// The members' population a population twin made by ``fromAggregate(_:in:id:seed:asOf:marginals:replace:)``
    /// records, nil for a twin without members.
    public static func memberPopulation(of id: TwinID, in bank: Bank) throws -> MemberPopulation? {
        let twin = try bank.twin(id).twin
        guard case .text(let list)? = twin.attributes[membersAttribute] else { return nil }
        guard case .text(let seedText)? = twin.attributes[seedAttribute], let seed = UInt64(seedText),
              case .text(let json)? = twin.attributes[marginalsAttribute], case .date(let asOf)? = twin.attributes[asOfAttribute] else {
            throw PopulationError(.invalidArgument, "population twin '\(id)' lists members but not its seed, marginals and date: make it again with twinbank population from-aggregate --replace", value: id.rawValue)
        }
        let members = try list.split(separator: " ").map { try TwinID(String($0)) }
        return try MemberPopulation.build(members: members, in: bank, asOf: asOf, seed: seed, marginals: try PopulationMarginals.parse(Data(json.utf8)))
    }
}
