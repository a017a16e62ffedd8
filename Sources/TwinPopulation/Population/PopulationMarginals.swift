import Foundation

/// The marginal distributions a synthetic population is drawn from: an age pyramid, household sizes, school
/// and workplace enrolment and sizes, and the number of daily contacts in each layer.
///
/// The defaults reproduce the population Covasim 3/4 builds for `pop_type='hybrid'` without a location
/// (Covasim 4.0.1, the version `bench_covasim.py` runs; C. C. Kerr et al., "Covasim: an agent-based model of COVID-19 dynamics and interventions", PLoS Comput.
/// Biol. 17 (2021) e1009149; `covasim/defaults.py` `default_age_data` and `covasim/population.py`
/// `make_hybrid_contacts`):
/// - ages: Covasim's default age pyramid (`default_age_data`, "based on Seattle 2018 census data", as Covasim
///   4.0.1 ships it) in 5-year bands, 90-99 last, uniform within a band;
/// - households: Covasim draws household ("cluster") sizes from a Poisson distribution with mean 2, so a
///   person has 2 household contacts on average; the default here is that Poisson law truncated at 1
///   (empty households do not exist), which keeps the mean of 2 contacts per person;
/// - school: everyone aged 6-21 (Covasim's `school_ages = [6, 22)`), 20 contacts a day;
/// - work: everyone aged 22-64 (`work_ages = [22, 65)`), 16 contacts a day;
/// - community: 20 random contacts, drawn once (Covasim's hybrid layers are static by default).
/// Covasim puts all pupils in one school and all workers in one workplace; the default school and workplace
/// sizes here (500-1,500 pupils, 20-500 workers) are assumptions, not census figures, chosen large enough
/// that every pupil and worker gets the same mean number of contacts as in Covasim.
///
/// The JSON format (every key optional; unknown keys are refused):
/// ```json
/// {"ageBands": [{"min": 0, "max": 4, "weight": 0.0605}, ...],
///  "householdSizes": [0.313, 0.313, 0.209, ...],
///  "adultAge": 18,
///  "school": {"minAge": 6, "maxAge": 21, "enrolment": 1.0, "contacts": 20,
///             "sizes": [{"min": 500, "max": 1500, "weight": 1}]},
///  "work": {"minAge": 22, "maxAge": 64, "employment": 1.0, "contacts": 16,
///           "sizes": [{"min": 20, "max": 500, "weight": 1}]},
///  "community": {"contacts": 20, "daily": false}}
/// ```
/// `householdSizes[k]` is the share of households with k+1 members; size bands are drawn per school or
/// workplace by `weight`, uniformly between `min` and `max` inclusive.
public struct PopulationMarginals: Sendable, Hashable {
    /// A band of whole numbers (ages in years, or sizes) drawn with probability proportional to `weight`.
    public struct Band: Sendable, Hashable {
        public var min: Int
        public var max: Int
        public var weight: Double
        public init(min: Int, max: Int, weight: Double) { self.min = min; self.max = max; self.weight = weight }
    }

    public var ageBands: [Band]
    /// Share of households of each size, from 1 member up.
    public var householdSizes: [Double]
    /// Each household is headed by someone at least this old while such people remain.
    public var adultAge: Int
    public var schoolMinAge: Int
    public var schoolMaxAge: Int
    /// Probability that a person of school age goes to school.
    public var enrolment: Double
    public var schoolSizes: [Band]
    /// Mean daily contacts at school (a school no larger than this is a clique).
    public var schoolContacts: Double
    public var workMinAge: Int
    public var workMaxAge: Int
    /// Probability that a person of working age works.
    public var employment: Double
    public var workplaceSizes: [Band]
    /// Mean daily contacts at work (a workplace no larger than this is a clique).
    public var workContacts: Double
    /// Mean daily community contacts.
    public var communityContacts: Double
    /// Whether community contacts are drawn afresh every day (true) or once for the run (false, Covasim's default).
    public var communityDaily: Bool

    /// Covasim's hybrid population (see the type's documentation for the sources).
    public static let covasimHybrid = PopulationMarginals(
        ageBands: [
            Band(min: 0, max: 4, weight: 0.0605), Band(min: 5, max: 9, weight: 0.0607), Band(min: 10, max: 14, weight: 0.0566),
            Band(min: 15, max: 19, weight: 0.0557), Band(min: 20, max: 24, weight: 0.0612), Band(min: 25, max: 29, weight: 0.0843),
            Band(min: 30, max: 34, weight: 0.0848), Band(min: 35, max: 39, weight: 0.0764), Band(min: 40, max: 44, weight: 0.0697),
            Band(min: 45, max: 49, weight: 0.0701), Band(min: 50, max: 54, weight: 0.0681), Band(min: 55, max: 59, weight: 0.0653),
            Band(min: 60, max: 64, weight: 0.0591), Band(min: 65, max: 69, weight: 0.0453), Band(min: 70, max: 74, weight: 0.0312),
            Band(min: 75, max: 79, weight: 0.02016), Band(min: 80, max: 84, weight: 0.01344), Band(min: 85, max: 89, weight: 0.01008),
            Band(min: 90, max: 99, weight: 0.00672),
        ],
        householdSizes: PopulationMarginals.truncatedPoisson(mean: 2, maxSize: 12),
        adultAge: 18,
        schoolMinAge: 6, schoolMaxAge: 21, enrolment: 1, schoolSizes: [Band(min: 500, max: 1500, weight: 1)], schoolContacts: 20,
        workMinAge: 22, workMaxAge: 64, employment: 1, workplaceSizes: [Band(min: 20, max: 500, weight: 1)], workContacts: 16,
        communityContacts: 20, communityDaily: false)

    public init(ageBands: [Band], householdSizes: [Double], adultAge: Int, schoolMinAge: Int, schoolMaxAge: Int,
                enrolment: Double, schoolSizes: [Band], schoolContacts: Double, workMinAge: Int, workMaxAge: Int,
                employment: Double, workplaceSizes: [Band], workContacts: Double, communityContacts: Double,
                communityDaily: Bool) {
        self.ageBands = ageBands; self.householdSizes = householdSizes; self.adultAge = adultAge
        self.schoolMinAge = schoolMinAge; self.schoolMaxAge = schoolMaxAge; self.enrolment = enrolment
        self.schoolSizes = schoolSizes; self.schoolContacts = schoolContacts
        self.workMinAge = workMinAge; self.workMaxAge = workMaxAge; self.employment = employment
        self.workplaceSizes = workplaceSizes; self.workContacts = workContacts
        self.communityContacts = communityContacts; self.communityDaily = communityDaily
    }

    /// P(size = k | size >= 1) for k = 1...maxSize of a Poisson law with the given mean (renormalised).
    public static func truncatedPoisson(mean: Double, maxSize: Int) -> [Double] {
        var p = Foundation.exp(-mean), out: [Double] = []
        for k in 1...maxSize { p *= mean / Double(k); out.append(p) }
        let total = out.reduce(0, +)
        return out.map { $0 / total }
    }

    /// Checks every value; the error names the key and the value.
    public func validate() throws(PopulationError) {
        func bad(_ key: String, _ value: String, _ problem: String) -> PopulationError {
            PopulationError(.invalidMarginals, "marginals: '\(key)' is \(value); \(problem)", value: value)
        }
        func check(_ bands: [Band], _ key: String, minimum: Int) throws(PopulationError) {
            guard !bands.isEmpty else { throw bad(key, "empty", "give at least one band") }
            for (i, b) in bands.enumerated() {
                guard b.min >= minimum, b.max >= b.min else { throw bad("\(key)[\(i)]", "\(b.min)-\(b.max)", "it needs \(minimum) <= min <= max") }
                guard b.weight.isFinite, b.weight >= 0 else { throw bad("\(key)[\(i)].weight", "\(b.weight)", "weights must be >= 0") }
            }
            guard bands.contains(where: { $0.weight > 0 }) else { throw bad(key, "all zero weights", "at least one weight must be > 0") }
        }
        try check(ageBands, "ageBands", minimum: 0)
        if let over = ageBands.first(where: { $0.max > 120 }) { throw bad("ageBands", "\(over.max)", "ages must be at most 120") }
        guard !householdSizes.isEmpty, householdSizes.allSatisfy({ $0.isFinite && $0 >= 0 }), householdSizes.contains(where: { $0 > 0 }) else {
            throw bad("householdSizes", "\(householdSizes)", "give non-negative shares of households of 1, 2, ... members, not all zero")
        }
        for (key, v) in [("adultAge", adultAge), ("school.minAge", schoolMinAge), ("school.maxAge", schoolMaxAge),
                         ("work.minAge", workMinAge), ("work.maxAge", workMaxAge)] where !(0...120).contains(v) {
            throw bad(key, "\(v)", "ages must be in 0...120")
        }
        guard schoolMaxAge >= schoolMinAge else { throw bad("school.maxAge", "\(schoolMaxAge)", "it must be >= school.minAge \(schoolMinAge)") }
        guard workMaxAge >= workMinAge else { throw bad("work.maxAge", "\(workMaxAge)", "it must be >= work.minAge \(workMinAge)") }
        for (key, v) in [("school.enrolment", enrolment), ("work.employment", employment)] where !(v.isFinite && (0...1).contains(v)) {
            throw bad(key, "\(v)", "it is a probability in 0...1")
        }
        for (key, v) in [("school.contacts", schoolContacts), ("work.contacts", workContacts), ("community.contacts", communityContacts)]
        where !(v.isFinite && v >= 0 && v <= 10_000) {
            throw bad(key, "\(v)", "it must be in 0...10000")
        }
        try check(schoolSizes, "school.sizes", minimum: 1)
        try check(workplaceSizes, "work.sizes", minimum: 1)
    }

    /// Reads the JSON format in the type's documentation over the defaults and validates the result.
    public static func parse(_ data: Data) throws(PopulationError) -> PopulationMarginals {
        let root = try StrictJSONObject.parse(data, code: .invalidMarginals, what: "marginals")
        return try read(root)
    }

    /// Reads a marginals object (also used inline in outbreak scenarios).
    static func read(_ root: StrictJSONObject) throws(PopulationError) -> PopulationMarginals {
        var o = root
        var m = PopulationMarginals.covasimHybrid
        func bands(_ list: [(path: String, value: StrictJSONValue)], code: PopulationError.Code) throws(PopulationError) -> [Band] {
            var out: [Band] = []
            for (path, value) in list {
                var b = try StrictJSONObject(value, path: path, code: code, what: root.what)
                let lo = try b.int("min", 0, in: 0...1_000_000_000)
                let hi = try b.int("max", lo, in: 0...1_000_000_000)
                let w = try b.double("weight", 1)
                try b.finish()
                out.append(Band(min: lo, max: hi, weight: w))
            }
            return out
        }
        if let list = try o.array("ageBands") { m.ageBands = try bands(list, code: root.code) }
        if let list = try o.array("householdSizes") {
            m.householdSizes = []
            for (path, value) in list {
                guard case .number(let d) = value, d.isFinite, d >= 0 else {
                    throw PopulationError(root.code, "\(root.what): '\(path)' is \(value.shown); household shares must be numbers >= 0", value: value.shown)
                }
                m.householdSizes.append(d)
            }
        }
        m.adultAge = try o.int("adultAge", m.adultAge, in: 0...120)
        if var s = try o.object("school") {
            m.schoolMinAge = try s.int("minAge", m.schoolMinAge, in: 0...120)
            m.schoolMaxAge = try s.int("maxAge", m.schoolMaxAge, in: 0...120)
            m.enrolment = try s.double("enrolment", m.enrolment, in: 0...1)
            m.schoolContacts = try s.double("contacts", m.schoolContacts, in: 0...10_000)
            if let list = try s.array("sizes") { m.schoolSizes = try bands(list, code: root.code) }
            try s.finish()
        }
        if var w = try o.object("work") {
            m.workMinAge = try w.int("minAge", m.workMinAge, in: 0...120)
            m.workMaxAge = try w.int("maxAge", m.workMaxAge, in: 0...120)
            m.employment = try w.double("employment", m.employment, in: 0...1)
            m.workContacts = try w.double("contacts", m.workContacts, in: 0...10_000)
            if let list = try w.array("sizes") { m.workplaceSizes = try bands(list, code: root.code) }
            try w.finish()
        }
        if var c = try o.object("community") {
            m.communityContacts = try c.double("contacts", m.communityContacts, in: 0...10_000)
            m.communityDaily = try c.bool("daily", m.communityDaily)
            try c.finish()
        }
        try o.finish()
        do { try m.validate() } catch {
            let prefix = root.path.isEmpty ? "" : root.path + "."
            throw PopulationError(root.code, error.message.replacingOccurrences(of: "marginals: '", with: "\(root.what): '\(prefix)"), value: error.value)
        }
        return m
    }
}
