import Foundation
import TwinSimulation

/// A contact layer of a population: household, school, work or community.
public enum ContactLayerKind: Int, Sendable, Hashable, CaseIterable, Codable {
    case household = 0, school, work, community

    /// Covasim's one-letter key: `h`, `s`, `w`, `c` (used in scenario files).
    public var key: String { ["h", "s", "w", "c"][rawValue] }

    public init?(key: String) {
        guard let k = Self.allCases.first(where: { $0.key == key }) else { return nil }
        self = k
    }
}

/// A contact network as compressed sparse rows: the contacts of person `i` are
/// `neighbours[offsets[i] ..< offsets[i + 1]]`. Undirected: every edge is stored at both ends.
public struct ContactLayer: Sendable {
    public let kind: ContactLayerKind
    /// `count + 1` row starts.
    public let offsets: [Int32]
    public let neighbours: [Int32]

    /// Number of people the layer covers.
    public var count: Int { offsets.count - 1 }
    /// Undirected edges (each stored twice).
    public var edgeCount: Int { neighbours.count / 2 }
    /// Mean number of contacts per person.
    public var meanDegree: Double { count == 0 ? 0 : Double(neighbours.count) / Double(count) }

    /// The contacts of person `i`.
    public func contacts(of i: Int) -> ArraySlice<Int32> { neighbours[Int(offsets[i])..<Int(offsets[i + 1])] }

    /// A layer from an undirected edge list (`p1[k]`-`p2[k]`); self-loops are dropped.
    init(kind: ContactLayerKind, count: Int, p1: [Int32], p2: [Int32]) {
        var degree = [Int32](repeating: 0, count: count + 1)
        for k in 0..<p1.count where p1[k] != p2[k] {
            degree[Int(p1[k]) + 1] += 1
            degree[Int(p2[k]) + 1] += 1
        }
        for i in 0..<count { degree[i + 1] += degree[i] }
        var fill = degree
        var nb = [Int32](repeating: 0, count: Int(degree[count]))
        for k in 0..<p1.count where p1[k] != p2[k] {
            let a = Int(p1[k]), b = Int(p2[k])
            nb[Int(fill[a])] = p2[k]; fill[a] += 1
            nb[Int(fill[b])] = p1[k]; fill[b] += 1
        }
        self.kind = kind
        self.offsets = degree
        self.neighbours = nb
    }
}

/// A synthetic population as a struct of arrays (no object per person): ages, household, school and
/// workplace of each person, and the contact layers between them.
///
/// Built by ``generate(size:seed:marginals:)``: the same size, seed and marginals give the same population,
/// person for person. People are numbered household by household (members of a household are consecutive),
/// which keeps the household loops cache-friendly.
public struct SyntheticPopulation: Sendable {
    /// Number of people.
    public let count: Int
    /// Age in whole years.
    public let ages: [UInt8]
    /// Household number of each person (0-based, consecutive people).
    public let household: [Int32]
    /// School number, or -1.
    public let school: [Int32]
    /// Workplace number, or -1.
    public let workplace: [Int32]
    /// Household, school, work and community layers, indexed by `ContactLayerKind.rawValue`. The community
    /// layer is empty when its contacts are drawn daily (`marginals.communityDaily`).
    public let layers: [ContactLayer]
    public let marginals: PopulationMarginals
    public let seed: UInt64
    /// Per person: the multiplier of their probability of severe disease (``SevereRisk``: conditions and sex),
    /// empty for 1 for everyone (a synthetic population). The outbreak model caps the product at 1.
    public var severeRisk: [Double] = []

    /// The largest population this generator accepts (the ids are 32-bit).
    public static let maximumSize = 200_000_000

    public func layer(_ kind: ContactLayerKind) -> ContactLayer { layers[kind.rawValue] }

    /// Approximate bytes held by the arrays (ages, memberships, layers).
    public var memoryBytes: Int {
        count * (1 + 4 * 3) + layers.reduce(0) { $0 + 4 * ($1.offsets.count + $1.neighbours.count) }
    }

    /// The peak memory, in bytes, of generating a population of `size` people from `marginals` and running
    /// one outbreak on it: the per-person arrays, each layer's edge list while it is built and its
    /// compressed rows (4 bytes per contact end), and the outbreak's per-person state (about 48 bytes).
    public static func estimatedBytes(size: Int, marginals: PopulationMarginals) -> Int {
        let total = marginals.ageBands.reduce(0) { $0 + $1.weight }
        func share(_ lo: Int, _ hi: Int) -> Double {
            marginals.ageBands.reduce(0) { acc, b in
                let overlap = max(0, min(b.max, hi) - max(b.min, lo) + 1)
                return acc + b.weight * Double(overlap) / Double(b.max - b.min + 1)
            } / total
        }
        let sizes = marginals.householdSizes.enumerated().map { (Double($0.offset + 1), $0.element) }
        let meanSize = sizes.reduce(0) { $0 + $1.0 * $1.1 }, meanSquare = sizes.reduce(0) { $0 + $1.0 * $1.0 * $1.1 }
        let household = meanSize > 0 ? meanSquare / meanSize - 1 : 0
        let degree = household + share(marginals.schoolMinAge, marginals.schoolMaxAge) * marginals.enrolment * marginals.schoolContacts
            + share(marginals.workMinAge, marginals.workMaxAge) * marginals.employment * marginals.workContacts
            + (marginals.communityDaily ? 0 : marginals.communityContacts)
        // Largest layer's edge list (8 bytes an edge) alongside every layer's rows (4 bytes a contact end).
        let perPerson = 13.0 + 48 + 4 * degree + 4 * max(household, marginals.schoolContacts, marginals.workContacts, marginals.communityContacts) * 1.1
        return Int(min(Double(Int.max / 2), (Double(size) * perPerson).rounded(.up)))
    }

    /// Draws a population of `size` people from `marginals` with the project's seeded generator.
    ///
    /// Ages come from the age bands (uniform within a band). Households take sizes from `householdSizes`
    /// until everyone is placed (the last one is cut to fit); each is headed by a person of at least
    /// `adultAge` while such people remain, the other members drawn at random from everyone left, so that
    /// children live with adults and the age marginal is kept exactly as drawn. People of school (work) age
    /// go to school (work) with probability `enrolment` (`employment`); schools and workplaces take sizes
    /// from their bands. Inside a school or workplace no larger than its mean contacts + 1, everyone meets
    /// everyone; in a larger one, as in Covasim's `make_random_contacts`, each member draws
    /// round(Poisson(contacts) / 2) partners uniformly from it (edges count for both ends, so the mean number
    /// of contacts is `contacts`). Community contacts are drawn the same way over the whole population
    /// (unless they are drawn daily by the outbreak model).
    ///
    /// - Throws: `PopulationError.invalidArgument` for a size below 1, `.tooLarge` above ``maximumSize`` or when
    ///   ``estimatedBytes(size:marginals:)`` exceeds 80 % of this machine's memory, `.invalidMarginals` for
    ///   marginals that do not validate.
    public static func generate(size: Int, seed: UInt64, marginals: PopulationMarginals = .covasimHybrid) throws(PopulationError) -> SyntheticPopulation {
        guard size >= 1 else {
            throw PopulationError(.invalidArgument, "population size \(size): give at least 1 person", value: "\(size)")
        }
        guard size <= maximumSize else {
            throw PopulationError(.tooLarge, "population size \(size) is above the \(maximumSize) this generator supports", value: "\(size)")
        }
        try marginals.validate()
        let needed = estimatedBytes(size: size, marginals: marginals)
        let available = Int(min(ProcessInfo.processInfo.physicalMemory, UInt64(Int.max)))
        guard needed <= available / 10 * 8 else {
            throw PopulationError(.tooLarge, "a population of \(size) people with these contacts needs about \(needed >> 20) MiB, more than 80 % of this machine's \(available >> 20) MiB: give fewer people or fewer contacts",
                                  value: "\(size)")
        }
        var rng = Xoshiro256StarStar(seed: seed)

        // Ages.
        let ageCum = cumulativeSums(marginals.ageBands.map(\.weight))
        var drawnAges = [UInt8](repeating: 0, count: size)
        for i in 0..<size {
            let b = marginals.ageBands[rng.categorical(cumulative: ageCum)]
            drawnAges[i] = UInt8(b.min + rng.below(b.max - b.min + 1))
        }

        // Household sizes, then heads, then the other members.
        let sizeCum = cumulativeSums(marginals.householdSizes)
        var sizes: [Int] = []
        var placed = 0
        while placed < size {
            let s = min(rng.categorical(cumulative: sizeCum) + 1, size - placed)
            sizes.append(s)
            placed += s
        }
        var adults: [Int32] = [], others: [Int32] = []
        for i in 0..<size { if Int(drawnAges[i]) >= marginals.adultAge { adults.append(Int32(i)) } else { others.append(Int32(i)) } }
        rng.shuffle(&adults)
        let heads = min(adults.count, sizes.count)
        var rest = Array(adults[heads...]) + others
        rng.shuffle(&rest)
        var order: [Int32] = []
        order.reserveCapacity(size)
        var householdOf = [Int32](repeating: 0, count: size)
        var restIndex = 0, adultIndex = 0
        for (h, s) in sizes.enumerated() {
            for m in 0..<s {
                let person: Int32
                if m == 0 && adultIndex < heads { person = adults[adultIndex]; adultIndex += 1 } else { person = rest[restIndex]; restIndex += 1 }
                order.append(person)
                householdOf[order.count - 1] = Int32(h)
            }
        }
        let ages = order.map { drawnAges[Int($0)] }
        drawnAges = []

        var hp1: [Int32] = [], hp2: [Int32] = []
        var start = 0
        for s in sizes {
            for a in start..<(start + s) { for b in (a + 1)..<(start + s) where b > a { hp1.append(Int32(a)); hp2.append(Int32(b)) } }
            start += s
        }
        let householdLayer = ContactLayer(kind: .household, count: size, p1: hp1, p2: hp2)
        hp1 = []; hp2 = []

        // Schools and workplaces.
        func groups(minAge: Int, maxAge: Int, probability: Double, bands: [PopulationMarginals.Band], contacts: Double,
                    kind: ContactLayerKind, rng: inout Xoshiro256StarStar) -> (member: [Int32], layer: ContactLayer) {
            var eligible: [Int32] = []
            for i in 0..<size where Int(ages[i]) >= minAge && Int(ages[i]) <= maxAge {
                if probability >= 1 || rng.nextUniform() < probability { eligible.append(Int32(i)) }
            }
            rng.shuffle(&eligible)
            var member = [Int32](repeating: -1, count: size)
            var p1: [Int32] = [], p2: [Int32] = []
            let cum = cumulativeSums(bands.map(\.weight))
            var at = 0, g: Int32 = 0
            while at < eligible.count {
                let band = bands[rng.categorical(cumulative: cum)]
                let n = min(band.min + rng.below(band.max - band.min + 1), eligible.count - at)
                let group = eligible[at..<(at + n)]
                for p in group { member[Int(p)] = g }
                appendContacts(Array(group), contacts: contacts, p1: &p1, p2: &p2, rng: &rng)
                at += n
                g += 1
            }
            return (member, ContactLayer(kind: kind, count: size, p1: p1, p2: p2))
        }
        let (school, schoolLayer) = groups(minAge: marginals.schoolMinAge, maxAge: marginals.schoolMaxAge, probability: marginals.enrolment,
                                           bands: marginals.schoolSizes, contacts: marginals.schoolContacts, kind: .school, rng: &rng)
        let (workplace, workLayer) = groups(minAge: marginals.workMinAge, maxAge: marginals.workMaxAge, probability: marginals.employment,
                                            bands: marginals.workplaceSizes, contacts: marginals.workContacts, kind: .work, rng: &rng)

        // Community.
        var cp1: [Int32] = [], cp2: [Int32] = []
        if !marginals.communityDaily {
            appendRandomContacts(count: size, map: nil, contacts: marginals.communityContacts, p1: &cp1, p2: &cp2, rng: &rng)
        }
        let communityLayer = ContactLayer(kind: .community, count: size, p1: cp1, p2: cp2)

        return SyntheticPopulation(count: size, ages: ages, household: householdOf, school: school, workplace: workplace,
                                   layers: [householdLayer, schoolLayer, workLayer, communityLayer], marginals: marginals, seed: seed)
    }

    /// Contacts inside one group: a clique when it is no larger than `contacts + 1`, else random partners.
    static func appendContacts(_ group: [Int32], contacts: Double, p1: inout [Int32], p2: inout [Int32], rng: inout Xoshiro256StarStar) {
        if contacts <= 0 || group.count < 2 { return }
        if Double(group.count - 1) <= contacts {
            for a in 0..<group.count { for b in (a + 1)..<group.count where b > a { p1.append(group[a]); p2.append(group[b]) } }
        } else {
            appendRandomContacts(count: group.count, map: group, contacts: contacts, p1: &p1, p2: &p2, rng: &rng)
        }
    }

    /// Covasim's random contacts: each of `count` people draws round(Poisson(contacts) / 2) partners uniformly
    /// (not itself); `map` turns group positions into person numbers.
    static func appendRandomContacts(count: Int, map: [Int32]?, contacts: Double, p1: inout [Int32], p2: inout [Int32], rng: inout Xoshiro256StarStar) {
        guard count >= 2, contacts > 0 else { return }
        p1.reserveCapacity(p1.count + Int(Double(count) * contacts / 2 * 1.05))
        p2.reserveCapacity(p1.capacity)
        for i in 0..<count {
            let k = Int((Double(rng.poisson(contacts)) / 2).rounded(.toNearestOrEven))
            for _ in 0..<k {
                var j = rng.below(count - 1)
                if j >= i { j += 1 }
                if let map { p1.append(map[i]); p2.append(map[j]) } else { p1.append(Int32(i)); p2.append(Int32(j)) }
            }
        }
    }
}
