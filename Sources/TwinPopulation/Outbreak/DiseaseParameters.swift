import Foundation

/// A duration in days drawn as Covasim's `lognormal_int`: a lognormal deviate with the given mean and standard
/// deviation (of the lognormal itself, not of its logarithm), rounded to the nearest whole day. `sd = 0`
/// gives the rounded mean every time.
public struct DurationLaw: Sendable, Hashable {
    public var mean: Double
    public var sd: Double
    public init(mean: Double, sd: Double) { self.mean = mean; self.sd = sd }

    /// μ and σ of the underlying normal.
    var logParameters: (mu: Double, sigma: Double) {
        guard mean > 0 else { return (-Double.infinity, 0) }
        let s2 = Foundation.log(sd * sd / (mean * mean) + 1)
        return (Foundation.log(mean) - s2 / 2, s2.squareRoot())
    }
}

/// The natural history and transmission of the disease in the outbreak model, with Covasim's published
/// defaults for SARS-CoV-2 (Covasim 3.1/4.0 `covasim/parameters.py`; Kerr et al., PLoS Comput. Biol. 17 (2021)
/// e1009149):
/// - `beta` 0.016 per contact per day, layer weights household 3.0, school 0.6, work 0.6, community 0.3
///   (Covasim's hybrid `beta_layer`); isolation factors (applied to diagnosed people) h 0.3, s/w/c 0.1 and
///   quarantine factors h 0.6, s/w/c 0.2 (`iso_factor`, `quar_factor`);
/// - 20 initial infections (`pop_infected`); asymptomatic people as infectious as symptomatic ones
///   (`asymp_factor` 1.0); individual infectiousness overdispersed with Covasim's negative binomial of mean 1
///   and dispersion 0.45 (`beta_dist`), drawn here from its gamma mixing law;
/// - viral load twice as high in the first 30 % of the infectious period, at most 4 days (`viral_dist`);
/// - durations (mean, sd, days; `dur`): exposed to infectious 4.5, 1.5; infectious to symptomatic 1.1, 0.9;
///   symptomatic to severe 6.6, 4.9; severe to critical 1.5, 2.0; recovery after asymptomatic 8.0, 2.0, mild
///   8.0, 2.0, severe 18.1, 6.3, critical 18.1, 6.3; critical to death 10.7, 4.8;
/// - by age band 0-9, 10-19, ..., 90+: relative susceptibility 0.34, 0.67, 1, 1, 1, 1, 1.24, 1.47, 1.47, 1.47
///   (Zhang et al., Science 368 (2020) 1481); the overall probabilities of symptoms (0.50 ... 0.90), of severe
///   disease and of critical disease (Verity et al., Lancet Infect. Dis. 20 (2020) 669 and Ferguson et al.,
///   Imperial College report 9) and of death (O'Driscoll et al., Nature 590 (2021) 140; Brazeau et al.,
///   Imperial College report 34 for 90+), turned into probabilities conditional on the previous stage as
///   Covasim does (`relative_prognoses`).
public struct DiseaseParameters: Sendable, Hashable {
    /// Transmission probability per contact per day before layer weights.
    public var beta: Double = 0.016
    /// Relative transmission per layer, indexed by `ContactLayerKind.rawValue`.
    public var layerBeta: [Double] = [3.0, 0.6, 0.6, 0.3]
    /// Transmission factor for diagnosed (isolating) people, per layer.
    public var isolationFactor: [Double] = [0.3, 0.1, 0.1, 0.1]
    /// Transmission and susceptibility factor for quarantined people, per layer.
    public var quarantineFactor: [Double] = [0.6, 0.2, 0.2, 0.2]
    /// People infected on day 0.
    public var initialInfections: Int = 20
    /// Relative infectiousness of asymptomatic people.
    public var asymptomaticFactor: Double = 1.0
    /// Dispersion k of individual infectiousness (gamma of mean 1, variance 1/k); `nil` for none.
    public var overdispersion: Double? = 0.45
    /// How much more infectious the early phase is than the late one (1 = flat).
    public var viralLoadRatio: Double = 2
    /// Fraction of the infectious period that is early.
    public var viralLoadEarlyFraction: Double = 0.3
    /// Longest early phase, days.
    public var viralLoadCapDays: Double = 4

    public var exposedToInfectious = DurationLaw(mean: 4.5, sd: 1.5)
    public var infectiousToSymptomatic = DurationLaw(mean: 1.1, sd: 0.9)
    public var symptomaticToSevere = DurationLaw(mean: 6.6, sd: 4.9)
    public var severeToCritical = DurationLaw(mean: 1.5, sd: 2.0)
    public var asymptomaticToRecovered = DurationLaw(mean: 8.0, sd: 2.0)
    public var mildToRecovered = DurationLaw(mean: 8.0, sd: 2.0)
    public var severeToRecovered = DurationLaw(mean: 18.1, sd: 6.3)
    public var criticalToRecovered = DurationLaw(mean: 18.1, sd: 6.3)
    public var criticalToDeath = DurationLaw(mean: 10.7, sd: 4.8)

    /// Lower age of each band (the last band is open).
    public var ageCutoffs: [Int] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    public var relativeSusceptibility: [Double] = [0.34, 0.67, 1.00, 1.00, 1.00, 1.00, 1.24, 1.47, 1.47, 1.47]
    /// P(symptoms | infected).
    public var symptomaticProbability: [Double] = [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.90]
    /// P(severe | infected) (overall, as published).
    public var severeProbability: [Double] = [0.00050, 0.00165, 0.00720, 0.02080, 0.03430, 0.07650, 0.13280, 0.20655, 0.24570, 0.24570]
    /// P(critical | infected).
    public var criticalProbability: [Double] = [0.00003, 0.00008, 0.00036, 0.00104, 0.00216, 0.00933, 0.03639, 0.08923, 0.17420, 0.17420]
    /// P(death | infected).
    public var deathProbability: [Double] = [0.00002, 0.00002, 0.00010, 0.00032, 0.00098, 0.00265, 0.00766, 0.02439, 0.08292, 0.16190]

    public init() {}

    /// The age band of `age`.
    func band(of age: Int) -> Int {
        var b = 0
        while b + 1 < ageCutoffs.count && age >= ageCutoffs[b + 1] { b += 1 }
        return b
    }

    /// The conditional probabilities (symptoms | infection, severe | symptoms, critical | severe, death | critical).
    var conditional: (symptomatic: [Double], severe: [Double], critical: [Double], death: [Double]) {
        func ratio(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $1 > 0 ? min(1, $0 / $1) : 0 } }
        return (symptomaticProbability, ratio(severeProbability, symptomaticProbability),
                ratio(criticalProbability, severeProbability), ratio(deathProbability, criticalProbability))
    }

    /// Checks ranges and lengths; errors name the key as the scenario format spells it.
    public func validate() throws(PopulationError) {
        func bad(_ key: String, _ value: String, _ problem: String) -> PopulationError {
            PopulationError(.invalidScenario, "scenario: '\(key)' is \(value); \(problem)", value: value)
        }
        guard beta.isFinite, beta >= 0 else { throw bad("beta", "\(beta)", "it must be >= 0") }
        for (name, list, upper) in [("beta", layerBeta, Double.greatestFiniteMagnitude), ("isolation", isolationFactor, 1), ("quarantine", quarantineFactor, 1)] {
            guard list.count == 4 else { throw bad("layers.*.\(name)", "\(list.count) values", "give one per layer h, s, w, c") }
            for (k, v) in list.enumerated() where !(v.isFinite && v >= 0 && v <= upper) {
                throw bad("layers.\(ContactLayerKind.allCases[k].key).\(name)", "\(v)", upper == 1 ? "it must be in 0...1" : "it must be >= 0")
            }
        }
        guard initialInfections >= 0 else { throw bad("initialInfections", "\(initialInfections)", "it must be >= 0") }
        guard asymptomaticFactor.isFinite, asymptomaticFactor >= 0 else { throw bad("disease.asymptomaticFactor", "\(asymptomaticFactor)", "it must be >= 0") }
        if let k = overdispersion, !(k.isFinite && k > 0) { throw bad("disease.overdispersion", "\(k)", "it must be > 0 (or null for none)") }
        guard viralLoadRatio.isFinite, viralLoadRatio > 0 else { throw bad("disease.viralLoad.ratio", "\(viralLoadRatio)", "it must be > 0") }
        guard (0...1).contains(viralLoadEarlyFraction) else { throw bad("disease.viralLoad.earlyFraction", "\(viralLoadEarlyFraction)", "it must be in 0...1") }
        guard viralLoadCapDays.isFinite, viralLoadCapDays >= 0 else { throw bad("disease.viralLoad.capDays", "\(viralLoadCapDays)", "it must be >= 0") }
        for (key, d) in durationLaws {
            guard d.mean.isFinite, d.mean >= 0, d.mean <= 1000 else { throw bad("disease.durations.\(key).mean", "\(d.mean)", "it must be in 0...1000 days") }
            guard d.sd.isFinite, d.sd >= 0, d.sd <= 1000 else { throw bad("disease.durations.\(key).sd", "\(d.sd)", "it must be in 0...1000 days") }
        }
        let bands = ageCutoffs.count
        guard bands >= 1, ageCutoffs.first == 0, zip(ageCutoffs, ageCutoffs.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw bad("disease.prognoses.ageCutoffs", "\(ageCutoffs)", "they must start at 0 and increase")
        }
        for (key, list) in [("susceptibility", relativeSusceptibility), ("symptomatic", symptomaticProbability), ("severe", severeProbability),
                            ("critical", criticalProbability), ("death", deathProbability)] {
            guard list.count == bands else { throw bad("disease.prognoses.\(key)", "\(list.count) values", "give one per age band (\(bands))") }
            for v in list where !(v.isFinite && v >= 0 && (key == "susceptibility" || v <= 1)) {
                throw bad("disease.prognoses.\(key)", "\(v)", key == "susceptibility" ? "it must be >= 0" : "it is a probability in 0...1")
            }
        }
    }

    /// The duration laws by their scenario keys.
    var durationLaws: [(String, DurationLaw)] {
        [("exposedToInfectious", exposedToInfectious), ("infectiousToSymptomatic", infectiousToSymptomatic),
         ("symptomaticToSevere", symptomaticToSevere), ("severeToCritical", severeToCritical),
         ("asymptomaticToRecovered", asymptomaticToRecovered), ("mildToRecovered", mildToRecovered),
         ("severeToRecovered", severeToRecovered), ("criticalToRecovered", criticalToRecovered), ("criticalToDeath", criticalToDeath)]
    }

    mutating func setDuration(_ key: String, _ law: DurationLaw) {
        switch key {
        case "exposedToInfectious": exposedToInfectious = law
        case "infectiousToSymptomatic": infectiousToSymptomatic = law
        case "symptomaticToSevere": symptomaticToSevere = law
        case "severeToCritical": severeToCritical = law
        case "asymptomaticToRecovered": asymptomaticToRecovered = law
        case "mildToRecovered": mildToRecovered = law
        case "severeToRecovered": severeToRecovered = law
        case "criticalToRecovered": criticalToRecovered = law
        default: criticalToDeath = law
        }
    }

    /// The mean number of days an infected person of age band `b` is infectious (from the mean durations;
    /// the rounding of each duration to whole days is ignored).
    func meanInfectiousDays(band b: Int) -> Double {
        let c = conditional
        let ps = c.symptomatic[b], pv = c.severe[b], pc = c.critical[b], pd = c.death[b]
        let critical = severeToCritical.mean + (1 - pd) * criticalToRecovered.mean + pd * criticalToDeath.mean
        let severe = symptomaticToSevere.mean + (1 - pc) * severeToRecovered.mean + pc * critical
        let symptomatic = infectiousToSymptomatic.mean + (1 - pv) * mildToRecovered.mean + pv * severe
        return (1 - ps) * asymptomaticToRecovered.mean + ps * symptomatic
    }
}
