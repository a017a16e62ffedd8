import Foundation
import TwinCore

/// Symptomatic (and background) testing: every day from `start` to `end`, each infectious person who is not
/// yet diagnosed is tested with `symptomaticProbability` when they have symptoms, else with
/// `asymptomaticProbability`; an infectious person tests positive with probability `sensitivity` and is
/// diagnosed `delay` days later. Diagnosed people isolate (their transmission is multiplied by the layers'
/// isolation factors) and leave quarantine. As Covasim's `test_prob` (people who are not infectious never test
/// positive, so only infectious people are drawn here).
public struct TestingPolicy: Sendable, Hashable {
    public var symptomaticProbability: Double = 0.1
    public var asymptomaticProbability: Double = 0.001
    public var delay: Int = 1
    public var sensitivity: Double = 1
    public var start: Int = 0
    public var end: Int? = nil
    public init() {}
}

/// Contact tracing of people diagnosed that day: each of their contacts in layer `l` is found with probability
/// `coverage[l]`, `delay[l]` days later, and quarantined from then for max(1, `quarantineDays` - `delay[l]`)
/// days, i.e. until `quarantineDays` after the diagnosis (as Covasim's `contact_tracing` with its default
/// 14-day quarantine). Quarantined people's transmission and
/// susceptibility are multiplied by the layers' quarantine factors. Recovered, dead and diagnosed people are
/// not quarantined; a quarantined person found again has the quarantine extended.
public struct TracingPolicy: Sendable, Hashable {
    /// Per layer h, s, w, c.
    public var coverage: [Double] = [1.0, 0.5, 0.5, 0.1]
    /// Per layer h, s, w, c, days.
    public var delay: [Int] = [0, 1, 1, 2]
    public var quarantineDays: Int = 14
    public var start: Int = 0
    public var end: Int? = nil
    /// When the community layer is observed (``ObservedCommunity``): the probability that an observed contact
    /// of a diagnosed person is found (an app with this uptake), nil for `coverage[community]`. Observed contacts
    /// are found with the community layer's delay.
    public var observedCoverage: Double? = nil
    /// When the community layer is observed: the observed contacts of the diagnosis day and of the
    /// `observedDays - 1` simulated days before it are traced (an exposure-notification app's look-back).
    public var observedDays: Int = 14
    public init() {}
}

/// A vaccination campaign: from day `start`, `dailyDoses` people a day are vaccinated, in the order of the
/// priority groups (random within a group; people in no group are not offered); each accepts with probability
/// `uptake`. Vaccination multiplies susceptibility by `1 - efficacy` from the day it is given (against
/// infection only: the course of a breakthrough infection is not changed). At most 255 campaigns.
public struct VaccinationPolicy: Sendable, Hashable {
    public struct Group: Sendable, Hashable {
        public var minAge: Int
        public var maxAge: Int
        public init(minAge: Int, maxAge: Int) { self.minAge = minAge; self.maxAge = maxAge }
    }
    public var start: Int = 0
    public var dailyDoses: Int = 0
    public var priority: [Group] = [Group(minAge: 0, maxAge: 120)]
    public var uptake: Double = 1
    public var efficacy: Double = 0.9
    public init() {}
}

/// Distancing: layer `layer`'s transmission is multiplied by `factor` on days `start ..< end`.
public struct DistancingPolicy: Sendable, Hashable {
    public var layer: ContactLayerKind
    public var start: Int
    public var end: Int
    public var factor: Double
    public init(layer: ContactLayerKind, start: Int, end: Int, factor: Double) {
        self.layer = layer; self.start = start; self.end = end; self.factor = factor
    }
}

/// Everything an outbreak run needs besides its size, length and seed: the disease, the population's
/// marginals and the interventions.
///
/// The JSON format (every key optional; unknown keys, unknown intervention types and negative or
/// out-of-range values are refused, naming the key and the value):
/// ```json
/// {"beta": 0.016, "initialInfections": 20,
///  "layers": {"h": {"beta": 3.0, "isolation": 0.3, "quarantine": 0.6}, "s": {...}, "w": {...}, "c": {...}},
///  "disease": {"asymptomaticFactor": 1.0, "overdispersion": 0.45,
///              "viralLoad": {"ratio": 2, "earlyFraction": 0.3, "capDays": 4},
///              "durations": {"exposedToInfectious": {"mean": 4.5, "sd": 1.5}, ...},
///              "prognoses": {"ageCutoffs": [0, 10, ...], "susceptibility": [...], "symptomatic": [...],
///                            "severe": [...], "critical": [...], "death": [...]}},
///  "population": { marginals, see PopulationMarginals },
///  "interventions": [
///    {"type": "testing", "symptomaticProbability": 0.1, "asymptomaticProbability": 0.001, "delay": 1,
///     "sensitivity": 1.0, "start": 0, "end": 180},
///    {"type": "tracing", "coverage": {"h": 1.0, "s": 0.5, "w": 0.5, "c": 0.1},
///     "delay": {"h": 0, "s": 1, "w": 1, "c": 2}, "quarantineDays": 14, "start": 0,
///     "observedCoverage": 0.9, "observedDays": 14},
///    {"type": "vaccination", "start": 30, "dailyDoses": 500, "uptake": 0.8, "efficacy": 0.9,
///     "priority": [{"minAge": 65, "maxAge": 120}, {"minAge": 18, "maxAge": 64}]},
///    {"type": "distancing", "layer": "w", "start": 20, "end": 60, "factor": 0.5}]}
/// ```
/// plus, for a population of bank members with location pings, `"observedContacts": {"distance": 10,
/// "window": 900, "start": "2026-03-02"}` (see ``ObservedContactSettings``, ``ObservedCommunity``).
/// A file without `interventions` has none ("overdispersion": null turns individual variation off).
/// `OutbreakScenario.covasimFull` is the scenario `twinbank outbreak` runs without `--scenario`.
public struct OutbreakScenario: Sendable, Hashable {
    public var disease = DiseaseParameters()
    public var marginals = PopulationMarginals.covasimHybrid
    public var testing: TestingPolicy? = nil
    public var tracing: TracingPolicy? = nil
    public var vaccinations: [VaccinationPolicy] = []
    public var distancing: [DistancingPolicy] = []
    /// How the contacts in members' pings are found and placed on the simulated days (used when the population
    /// is made of bank members who have pings).
    public var observedContacts = ObservedContactSettings()

    public init() {}

    /// Covasim's hybrid population and disease defaults with no intervention.
    public static let uncontrolled = OutbreakScenario()

    /// The workload of `bench_covasim.py --full`: Covasim's hybrid defaults with symptomatic testing (10 % a day,
    /// 0.1 % for people without symptoms, 1-day delay) and contact tracing (household 100 % the same day,
    /// school and work 50 % after 1 day, community 10 % after 2 days) with the 14-day quarantine it triggers.
    ///
    /// One difference remains: Covasim 4 by default lets immunity wane (`use_waning=True`: neutralising
    /// antibodies, reinfections), while here recovery gives lasting immunity, so Covasim's cumulative count
    /// includes reinfections. With `use_waning=False` Covasim 4.0.1 gives 47,135 and 47,234 infections, peaks of
    /// 816 and 720 a day and 240 and 260 deaths on seeds 1 and 2 (100,000 agents, 180 days), the range this
    /// scenario gives (its peak comes 10-20 days later).
    public static let covasimFull: OutbreakScenario = {
        var s = OutbreakScenario()
        s.testing = TestingPolicy()
        s.tracing = TracingPolicy()
        return s
    }()

    /// Checks every value (the disease, the marginals, each intervention).
    public func validate() throws(PopulationError) {
        try disease.validate()
        do { try marginals.validate() } catch {
            throw PopulationError(.invalidScenario, error.message.replacingOccurrences(of: "marginals: '", with: "scenario: 'population."), value: error.value)
        }
        func bad(_ key: String, _ value: String, _ problem: String) -> PopulationError {
            PopulationError(.invalidScenario, "scenario: '\(key)' is \(value); \(problem)", value: value)
        }
        if let t = testing {
            for (k, v) in [("symptomaticProbability", t.symptomaticProbability), ("asymptomaticProbability", t.asymptomaticProbability),
                           ("sensitivity", t.sensitivity)] where !(v.isFinite && (0...1).contains(v)) {
                throw bad("testing.\(k)", "\(v)", "it is a probability in 0...1")
            }
            guard (0...365).contains(t.delay) else { throw bad("testing.delay", "\(t.delay)", "it must be in 0...365 days") }
            guard t.start >= 0 else { throw bad("testing.start", "\(t.start)", "it must be >= 0") }
        }
        if let t = tracing {
            guard t.coverage.count == 4, t.delay.count == 4 else { throw bad("tracing.coverage", "\(t.coverage.count) values", "give one per layer h, s, w, c") }
            for (k, v) in t.coverage.enumerated() where !(v.isFinite && (0...1).contains(v)) {
                throw bad("tracing.coverage.\(ContactLayerKind.allCases[k].key)", "\(v)", "it is a probability in 0...1")
            }
            for (k, v) in t.delay.enumerated() where !(0...365).contains(v) {
                throw bad("tracing.delay.\(ContactLayerKind.allCases[k].key)", "\(v)", "it must be in 0...365 days")
            }
            guard (0...365).contains(t.quarantineDays) else { throw bad("tracing.quarantineDays", "\(t.quarantineDays)", "it must be in 0...365") }
            guard t.start >= 0 else { throw bad("tracing.start", "\(t.start)", "it must be >= 0") }
            if let c = t.observedCoverage, !(c.isFinite && (0...1).contains(c)) { throw bad("tracing.observedCoverage", "\(c)", "it is a probability in 0...1") }
            guard (1...365).contains(t.observedDays) else { throw bad("tracing.observedDays", "\(t.observedDays)", "it must be in 1...365 days") }
        }
        guard vaccinations.count <= 255 else { throw bad("interventions", "\(vaccinations.count) vaccination campaigns", "give at most 255") }
        for v in vaccinations {
            guard v.start >= 0 else { throw bad("vaccination.start", "\(v.start)", "it must be >= 0") }
            guard v.dailyDoses >= 0 else { throw bad("vaccination.dailyDoses", "\(v.dailyDoses)", "it must be >= 0") }
            guard (0...1).contains(v.uptake) else { throw bad("vaccination.uptake", "\(v.uptake)", "it is a probability in 0...1") }
            guard (0...1).contains(v.efficacy) else { throw bad("vaccination.efficacy", "\(v.efficacy)", "it must be in 0...1") }
            for g in v.priority where !(0...120).contains(g.minAge) || g.maxAge < g.minAge {
                throw bad("vaccination.priority", "\(g.minAge)-\(g.maxAge)", "an age group needs 0 <= minAge <= maxAge")
            }
        }
        _ = try observedContacts.criteria()
        for d in distancing {
            guard d.start >= 0, d.end >= d.start else { throw bad("distancing.start", "\(d.start)-\(d.end)", "it needs 0 <= start <= end") }
            guard d.factor.isFinite, d.factor >= 0 else { throw bad("distancing.factor", "\(d.factor)", "it must be >= 0") }
        }
    }

    /// Reads the JSON format in the type's documentation over Covasim's defaults and validates it.
    public static func parse(_ data: Data) throws(PopulationError) -> OutbreakScenario {
        var o = try StrictJSONObject.parse(data, code: .invalidScenario, what: "scenario")
        var s = OutbreakScenario()
        s.disease.beta = try o.double("beta", s.disease.beta)
        s.disease.initialInfections = try o.int("initialInfections", s.disease.initialInfections)
        if var layers = try o.object("layers") {
            for kind in ContactLayerKind.allCases {
                guard var l = try layers.object(kind.key) else { continue }
                s.disease.layerBeta[kind.rawValue] = try l.double("beta", s.disease.layerBeta[kind.rawValue])
                s.disease.isolationFactor[kind.rawValue] = try l.double("isolation", s.disease.isolationFactor[kind.rawValue], in: 0...1)
                s.disease.quarantineFactor[kind.rawValue] = try l.double("quarantine", s.disease.quarantineFactor[kind.rawValue], in: 0...1)
                try l.finish()
            }
            try layers.finish()
        }
        if var d = try o.object("disease") {
            s.disease.asymptomaticFactor = try d.double("asymptomaticFactor", s.disease.asymptomaticFactor)
            if d.isExplicitNull("overdispersion") { s.disease.overdispersion = nil } else if d.fields["overdispersion"] != nil {
                s.disease.overdispersion = try d.double("overdispersion", 0.45, in: 1e-6...1e6)
            }
            if var v = try d.object("viralLoad") {
                s.disease.viralLoadRatio = try v.double("ratio", s.disease.viralLoadRatio, in: 1e-6...1e6)
                s.disease.viralLoadEarlyFraction = try v.double("earlyFraction", s.disease.viralLoadEarlyFraction, in: 0...1)
                s.disease.viralLoadCapDays = try v.double("capDays", s.disease.viralLoadCapDays)
                try v.finish()
            }
            if var durations = try d.object("durations") {
                for (key, law) in s.disease.durationLaws {
                    guard var x = try durations.object(key) else { continue }
                    let mean = try x.double("mean", law.mean, in: 0...1000)
                    let sd = try x.double("sd", law.sd, in: 0...1000)
                    try x.finish()
                    s.disease.setDuration(key, DurationLaw(mean: mean, sd: sd))
                }
                try durations.finish()
            }
            if var p = try d.object("prognoses") {
                func list(_ key: String, _ upper: Double) throws(PopulationError) -> [Double]? {
                    guard let items = try p.array(key) else { return nil }
                    var out: [Double] = []
                    for (path, value) in items {
                        guard case .number(let x) = value, x.isFinite, x >= 0, x <= upper else {
                            throw PopulationError(.invalidScenario, "scenario: '\(path)' is \(value.shown); it must be a number in 0...\(StrictJSONValue.number(upper).shown)",
                                                  value: value.shown)
                        }
                        out.append(x)
                    }
                    return out
                }
                if let c = try list("ageCutoffs", 120) { s.disease.ageCutoffs = c.map { Int($0) } }
                if let v = try list("susceptibility", 1000) { s.disease.relativeSusceptibility = v }
                if let v = try list("symptomatic", 1) { s.disease.symptomaticProbability = v }
                if let v = try list("severe", 1) { s.disease.severeProbability = v }
                if let v = try list("critical", 1) { s.disease.criticalProbability = v }
                if let v = try list("death", 1) { s.disease.deathProbability = v }
                try p.finish()
            }
            try d.finish()
        }
        if let p = try o.object("population") { s.marginals = try PopulationMarginals.read(p) }
        if var c = try o.object("observedContacts") {
            s.observedContacts.distance = try c.double("distance", s.observedContacts.distance, in: 0...(Double.pi * ProximityCriteria.earthRadius))
            s.observedContacts.window = try c.double("window", s.observedContacts.window)
            if let text = try c.string("start") {
                guard let start = try? Instant(parsing: text) else {
                    throw PopulationError(.invalidScenario, "scenario: 'observedContacts.start' is '\(text)', not a date (YYYY-MM-DD or an ISO 8601 instant)", value: text)
                }
                s.observedContacts.start = start
            }
            try c.finish()
        }
        if let items = try o.array("interventions") {
            for (path, value) in items {
                var iv = try StrictJSONObject(value, path: path, code: .invalidScenario, what: "scenario")
                guard let type = try iv.string("type") else {
                    throw PopulationError(.invalidScenario, "scenario: '\(path)' has no 'type' (testing, tracing, vaccination or distancing)", value: path)
                }
                switch type {
                case "testing":
                    guard s.testing == nil else { throw PopulationError(.invalidScenario, "scenario: '\(path)' is a second testing intervention; give one", value: type) }
                    var t = TestingPolicy()
                    t.symptomaticProbability = try iv.double("symptomaticProbability", t.symptomaticProbability, in: 0...1)
                    t.asymptomaticProbability = try iv.double("asymptomaticProbability", t.asymptomaticProbability, in: 0...1)
                    t.delay = try iv.int("delay", t.delay, in: 0...365)
                    t.sensitivity = try iv.double("sensitivity", t.sensitivity, in: 0...1)
                    t.start = try iv.int("start", t.start)
                    t.end = iv.fields["end"] == nil ? nil : try iv.int("end", 0)
                    s.testing = t
                case "tracing":
                    guard s.tracing == nil else { throw PopulationError(.invalidScenario, "scenario: '\(path)' is a second tracing intervention; give one", value: type) }
                    var t = TracingPolicy()
                    if var c = try iv.object("coverage") {
                        for k in ContactLayerKind.allCases { t.coverage[k.rawValue] = try c.double(k.key, t.coverage[k.rawValue], in: 0...1) }
                        try c.finish()
                    }
                    if var c = try iv.object("delay") {
                        for k in ContactLayerKind.allCases { t.delay[k.rawValue] = try c.int(k.key, t.delay[k.rawValue], in: 0...365) }
                        try c.finish()
                    }
                    t.quarantineDays = try iv.int("quarantineDays", t.quarantineDays, in: 0...365)
                    t.observedCoverage = iv.fields["observedCoverage"] == nil ? nil : try iv.double("observedCoverage", 0, in: 0...1)
                    t.observedDays = try iv.int("observedDays", t.observedDays, in: 1...365)
                    t.start = try iv.int("start", t.start)
                    t.end = iv.fields["end"] == nil ? nil : try iv.int("end", 0)
                    s.tracing = t
                case "vaccination":
                    var v = VaccinationPolicy()
                    v.start = try iv.int("start", v.start)
                    v.dailyDoses = try iv.int("dailyDoses", v.dailyDoses)
                    v.uptake = try iv.double("uptake", v.uptake, in: 0...1)
                    v.efficacy = try iv.double("efficacy", v.efficacy, in: 0...1)
                    if let groups = try iv.array("priority") {
                        v.priority = []
                        for (gpath, g) in groups {
                            var go = try StrictJSONObject(g, path: gpath, code: .invalidScenario, what: "scenario")
                            let lo = try go.int("minAge", 0, in: 0...120)
                            let hi = try go.int("maxAge", 120, in: 0...120)
                            try go.finish()
                            guard hi >= lo else { throw PopulationError(.invalidScenario, "scenario: '\(gpath).maxAge' is \(hi); it must be >= minAge \(lo)", value: "\(hi)") }
                            v.priority.append(.init(minAge: lo, maxAge: hi))
                        }
                    }
                    s.vaccinations.append(v)
                case "distancing":
                    guard let key = try iv.string("layer") else {
                        throw PopulationError(.invalidScenario, "scenario: '\(path)' has no 'layer' (h, s, w or c)", value: path)
                    }
                    guard let layer = ContactLayerKind(key: key) else {
                        throw PopulationError(.invalidScenario, "scenario: '\(path).layer' is '\(key)'; layers are h, s, w and c", value: key)
                    }
                    let start = try iv.int("start", 0)
                    let end = try iv.int("end", Int(Int32.max))
                    guard end >= start else { throw PopulationError(.invalidScenario, "scenario: '\(path).end' is \(end); it must be >= start \(start)", value: "\(end)") }
                    s.distancing.append(DistancingPolicy(layer: layer, start: start, end: end, factor: try iv.double("factor", 1)))
                default:
                    throw PopulationError(.invalidScenario, "scenario: '\(path).type' is '\(type)', an unknown intervention; known: testing, tracing, vaccination, distancing",
                                          value: type)
                }
                try iv.finish()
            }
        }
        try o.finish()
        try s.validate()
        return s
    }
}
