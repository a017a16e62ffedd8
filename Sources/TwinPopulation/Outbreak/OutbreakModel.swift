import Foundation
import TwinSimulation

/// The agent-based outbreak model: one run of a scenario on a synthetic population.
///
/// Each day `t = 0 ... days`, in Covasim's order: people move along their disease course (exposed ->
/// infectious -> symptoms -> severe -> critical -> recovered or dead, every date drawn at infection); people
/// whose diagnosis falls due are isolated and leave quarantine; infectious people are tested; the contacts of
/// people diagnosed today are traced and quarantined (today for a 0-day delay, later otherwise); scheduled
/// quarantines start; vaccines are given; then every infectious person infects each susceptible contact in
/// each layer with probability
/// `beta · layerBeta · distancing · relTrans · viralLoad · asymptomaticFactor · (isolation | quarantine) ·
/// relSus(age) · quarantine · (1 - efficacy)`. A person infected on day `t` is exposed from `t`.
///
/// The day loop touches only exposed and infectious people and their contacts (a compacted active list), so
/// a day costs in proportion to the epidemic, not the population. State is a struct of arrays of 1- and
/// 4-byte fields (about 40 bytes a person); nothing is allocated per person or per day beyond the
/// active list and the schedules of diagnoses and quarantines.
///
/// With contacts observed in pings (``ObservedCommunity``), the community layer of a simulated day that maps to a
/// ping day is that day's observed pairs, plus the random community contacts of people without a ping that day
/// (a random contact between two people who both pinged is dropped); tracing finds a diagnosed person's observed
/// contacts of the last ``TracingPolicy/observedDays`` days with ``TracingPolicy/observedCoverage``.
///
/// Deterministic: the same population, scenario, days and seed give the same run, counts for counts.
public enum OutbreakModel {
    /// The seed of run `index` of an ensemble seeded with `seed` (SplitMix64 of both), so a run can be
    /// repeated alone and a shard computes exactly the runs the whole sweep would.
    public static func runSeed(_ seed: UInt64, index: Int) -> UInt64 {
        var m = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        return m.next()
    }

    /// Runs one epidemic of `days` days (days 0...days are recorded).
    ///
    /// - Parameter observed: the contacts observed in the people's pings, which replace the random community
    ///   contacts on the simulated days they cover (see ``ObservedCommunity``); nil (or nothing observed) gives
    ///   the run without them, draw for draw.
    /// - Throws: `PopulationError.invalidScenario` for a scenario that does not validate,
    ///   `.invalidArgument` for a negative `days` or more than 3,650 days, or observed contacts of another
    ///   number of people.
    public static func run(population: SyntheticPopulation, scenario: OutbreakScenario, days: Int, seed: UInt64,
                           runIndex: Int = 0, observed: ObservedCommunity? = nil) throws(PopulationError) -> OutbreakRun {
        try check(population: population, scenario: scenario, days: days, observed: observed)
        var kernel = Kernel(population: population, scenario: scenario, days: days, seed: seed, observed: observed)
        defer { kernel.deallocate() }
        let counts = kernel.simulate()
        return OutbreakRun(agents: population.count, days: days, runIndex: runIndex, seed: seed, counts: counts)
    }

    /// The checks of ``run(population:scenario:days:seed:runIndex:observed:)``.
    static func check(population: SyntheticPopulation, scenario: OutbreakScenario, days: Int,
                      observed: ObservedCommunity?) throws(PopulationError) {
        try scenario.validate()
        guard (0...3650).contains(days) else {
            throw PopulationError(.invalidArgument, "days \(days): give 0...3650", value: "\(days)")
        }
        let risk = population.severeRisk
        if !risk.isEmpty, risk.count != population.count || risk.contains(where: { !($0.isFinite && $0 >= 0) }) {
            let bad = risk.count != population.count ? "\(risk.count) values" : "\(risk.first { !($0.isFinite && $0 >= 0) }!)"
            throw PopulationError(.invalidArgument, "severe-disease multipliers: \(bad); give one finite number >= 0 per person of the \(population.count)",
                                  value: bad)
        }
        if let observed, observed.contacts.count != population.count {
            throw PopulationError(.invalidArgument, "observed contacts of \(observed.contacts.count) people for a population of \(population.count)",
                                  value: "\(observed.contacts.count)")
        }
    }

    /// What became of each person in one run: the input of maps and reports that place people somewhere
    /// (a person's region is not the model's business).
    public struct Outcomes: Sendable, Hashable {
        /// Each person's state after the last day (``OutbreakSeries/states`` order: 0 susceptible ... 8 dead).
        public let finalState: [UInt8]
        /// The day each person was diagnosed (0...days), or -1 when not diagnosed within the run.
        public let dayDiagnosed: [Int32]
        /// Whether person `i` was ever infected (any state but susceptible at the end).
        public func everInfected(_ i: Int) -> Bool { finalState[i] != AgentState.susceptible }
    }

    /// The same run as ``run(population:scenario:days:seed:runIndex:observed:)`` (the same counts, draw for draw), and
    /// each person's outcome.
    /// - Throws: as ``run(population:scenario:days:seed:runIndex:observed:)``.
    public static func runWithOutcomes(population: SyntheticPopulation, scenario: OutbreakScenario, days: Int, seed: UInt64,
                                       runIndex: Int = 0, observed: ObservedCommunity? = nil) throws(PopulationError) -> (run: OutbreakRun, outcomes: Outcomes) {
        try check(population: population, scenario: scenario, days: days, observed: observed)
        var kernel = Kernel(population: population, scenario: scenario, days: days, seed: seed, observed: observed)
        defer { kernel.deallocate() }
        let counts = kernel.simulate()
        let n = population.count
        let last = Int32(days)
        let outcomes = Outcomes(finalState: Array(kernel.state.prefix(n)),
                                dayDiagnosed: kernel.dayDiagnosed.prefix(n).map { $0 <= last ? $0 : -1 })
        return (OutbreakRun(agents: n, days: days, runIndex: runIndex, seed: seed, counts: counts), outcomes)
    }
}

/// Disease states as stored per person.
enum AgentState {
    static let susceptible: UInt8 = 0, exposed: UInt8 = 1, asymptomatic: UInt8 = 2, presymptomatic: UInt8 = 3
    static let mild: UInt8 = 4, severe: UInt8 = 5, critical: UInt8 = 6, recovered: UInt8 = 7, dead: UInt8 = 8
}

/// Where a person's course ends.
enum AgentFate {
    static let asymptomatic: UInt8 = 0, mild: UInt8 = 1, severe: UInt8 = 2, critical: UInt8 = 3, dies: UInt8 = 4
}

/// One run's working state.
struct Kernel {
    let n: Int
    let days: Int
    let disease: DiseaseParameters
    let scenario: OutbreakScenario
    let population: SyntheticPopulation
    var rng: Xoshiro256StarStar
    /// Observed community contacts, and the observed day of each simulated day (-1: none, the random contacts).
    let observed: ObservedContacts?
    let observedDay: [Int32]

    // Per person (unsafe buffers: no copy-on-write checks in the hot loops).
    let state: UnsafeMutableBufferPointer<UInt8>
    let fate: UnsafeMutableBufferPointer<UInt8>
    let band: UnsafeMutableBufferPointer<UInt8>
    let vaccinated: UnsafeMutableBufferPointer<UInt8>
    let dayInfectious: UnsafeMutableBufferPointer<Int32>
    let daySymptomatic: UnsafeMutableBufferPointer<Int32>
    let daySevere: UnsafeMutableBufferPointer<Int32>
    let dayCritical: UnsafeMutableBufferPointer<Int32>
    let dayEnd: UnsafeMutableBufferPointer<Int32>
    let dayDiagnosed: UnsafeMutableBufferPointer<Int32>
    let quarantineUntil: UnsafeMutableBufferPointer<Int32>
    let relTrans: UnsafeMutableBufferPointer<Float>
    let highUntil: UnsafeMutableBufferPointer<Float>

    // Per age band.
    let susceptibility: [Float]
    let pSymptomatic: [Double], pSevere: [Double], pCritical: [Double], pDeath: [Double]
    /// Per person: the multiplier of the probability of severe disease, empty for none.
    let severeRisk: [Double]
    let laws: [(mu: Double, sigma: Double, fixed: Int32?)]

    init(population: SyntheticPopulation, scenario: OutbreakScenario, days: Int, seed: UInt64, observed: ObservedCommunity? = nil) {
        n = population.count
        let schedule = observed?.schedule(days: days)
        if let schedule, schedule.contains(where: { $0 >= 0 }) {
            self.observed = observed?.contacts
            observedDay = schedule
        } else {
            self.observed = nil
            observedDay = []
        }
        self.days = days
        self.population = population
        self.scenario = scenario
        disease = scenario.disease
        rng = Xoshiro256StarStar(seed: seed)
        let size = population.count
        func buffer<T>(_ v: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(size, 1))
            b.initialize(repeating: v)
            return b
        }
        state = buffer(AgentState.susceptible); fate = buffer(0); band = buffer(0); vaccinated = buffer(0)
        dayInfectious = buffer(Int32.max); daySymptomatic = buffer(Int32.max); daySevere = buffer(Int32.max)
        dayCritical = buffer(Int32.max); dayEnd = buffer(Int32.max); dayDiagnosed = buffer(Int32.max)
        quarantineUntil = buffer(-1); relTrans = buffer(1); highUntil = buffer(0)
        var bandOfAge = [UInt8](repeating: 0, count: 256)
        for a in 0..<256 { bandOfAge[a] = UInt8(disease.band(of: a)) }
        for i in 0..<size { band[i] = bandOfAge[Int(population.ages[i])] }
        susceptibility = disease.relativeSusceptibility.map { Float($0) }
        let c = disease.conditional
        pSymptomatic = c.symptomatic; pSevere = c.severe; pCritical = c.critical; pDeath = c.death
        severeRisk = population.severeRisk
        laws = [disease.exposedToInfectious, disease.infectiousToSymptomatic, disease.symptomaticToSevere, disease.severeToCritical,
                disease.asymptomaticToRecovered, disease.mildToRecovered, disease.severeToRecovered, disease.criticalToRecovered,
                disease.criticalToDeath].map { law in
            let (mu, sigma) = law.logParameters
            return (mu, sigma, law.sd == 0 || law.mean <= 0 ? Int32(law.mean.rounded(.toNearestOrEven)) : nil)
        }
    }

    func deallocate() {
        state.deallocate(); fate.deallocate(); band.deallocate(); vaccinated.deallocate()
        dayInfectious.deallocate(); daySymptomatic.deallocate(); daySevere.deallocate(); dayCritical.deallocate()
        dayEnd.deallocate(); dayDiagnosed.deallocate(); quarantineUntil.deallocate(); relTrans.deallocate(); highUntil.deallocate()
    }

    /// A duration drawn from law `k` (Covasim's `lognormal_int`).
    @inline(__always)
    mutating func duration(_ k: Int) -> Int32 {
        let law = laws[k]
        if let fixed = law.fixed { return fixed }
        let x = Foundation.exp(law.mu + law.sigma * rng.nextNormal())
        return Int32(min(x.rounded(.toNearestOrEven), 100_000))
    }

    /// Infects susceptible person `j` on day `t`: draws the whole course at once.
    mutating func infect(_ j: Int, day t: Int32) {
        state[j] = AgentState.exposed
        let b = Int(band[j])
        let start = t + duration(0)
        dayInfectious[j] = start
        var end: Int32
        if rng.nextUniform() >= pSymptomatic[b] {
            fate[j] = AgentFate.asymptomatic
            end = start + duration(4)
        } else {
            let sym = start + duration(1)
            daySymptomatic[j] = sym
            let severe = severeRisk.isEmpty ? pSevere[b] : min(1, pSevere[b] * severeRisk[j])
            if rng.nextUniform() >= severe {
                fate[j] = AgentFate.mild
                end = sym + duration(5)
            } else {
                let sev = sym + duration(2)
                daySevere[j] = sev
                if rng.nextUniform() >= pCritical[b] {
                    fate[j] = AgentFate.severe
                    end = sev + duration(6)
                } else {
                    let crit = sev + duration(3)
                    dayCritical[j] = crit
                    if rng.nextUniform() >= pDeath[b] {
                        fate[j] = AgentFate.critical
                        end = crit + duration(7)
                    } else {
                        fate[j] = AgentFate.dies
                        end = crit + duration(8)
                    }
                }
            }
        }
        dayEnd[j] = end
        if let k = disease.overdispersion {
            relTrans[j] = Float(rng.gamma(shape: k, scale: 1 / k))
        }
        let total = Double(end - start)
        highUntil[j] = Float(Double(start) + min(disease.viralLoadEarlyFraction * total, disease.viralLoadCapDays))
    }

    /// Runs days 0...days and returns the counts.
    mutating func simulate() -> [[Int32]] {
        var run = DayState(kernel: self)
        seed(&run)
        for t in 0...days {
            progress(&run, t)
            test(&run, t)
            diagnoseAndTrace(&run, t)
            startQuarantines(&run, t)
            vaccinate(&run, t)
            transmit(&run, t)
            record(&run, t)
        }
        return run.counts
    }

    /// The bookkeeping of a run besides the per-person arrays: the active list (exposed and infectious
    /// people), state counts, the schedules of diagnoses and quarantines, vaccination queues and the counts.
    struct DayState {
        var counts: [[Int32]]
        var stateCount = [Int](repeating: 0, count: 9)
        var active: [Int32] = []
        var newToday = 0
        var diagnosedToday = 0
        let horizon: Int
        var diagnosisDue: [[Int32]]
        var quarantineDue: [[(person: Int32, until: Int32)]]
        var vaccinatedCount = 0
        var vaccinationOrders: [[Int32]] = []
        var vaccinationNext: [Int]
        /// Distancing multipliers, `[day * 4 + layer]`.
        var distance: [Float]

        init(kernel k: Kernel) {
            counts = [[Int32]](repeating: [Int32](repeating: 0, count: k.days + 1), count: OutbreakSeries.allCases.count)
            stateCount[Int(AgentState.susceptible)] = k.n
            horizon = k.days + 400
            diagnosisDue = [[Int32]](repeating: [], count: horizon + 1)
            quarantineDue = [[(person: Int32, until: Int32)]](repeating: [], count: horizon + 1)
            vaccinationNext = [Int](repeating: 0, count: k.scenario.vaccinations.count)
            distance = [Float](repeating: 1, count: (k.days + 1) * 4)
            for d in k.scenario.distancing where d.start <= k.days {
                for t in d.start..<min(d.end, k.days + 1) { distance[t * 4 + d.layer.rawValue] *= Float(d.factor) }
            }
        }

        mutating func moved(from old: UInt8, to new: UInt8) {
            stateCount[Int(old)] -= 1
            stateCount[Int(new)] += 1
        }
    }

    /// Day 0's infections (distinct people, by a partial Fisher-Yates over a sparse map) and the vaccination
    /// queues (priority groups in order, shuffled within).
    mutating func seed(_ run: inout DayState) {
        let seeds = min(disease.initialInfections, n)
        var swapped: [Int: Int] = [:]
        for k in 0..<seeds {
            let r = k + rng.below(n - k)
            let pick = swapped[r] ?? r
            swapped[r] = swapped[k] ?? k
            infect(pick, day: 0)
            run.active.append(Int32(pick))
            run.moved(from: AgentState.susceptible, to: AgentState.exposed)
        }
        run.newToday = seeds
        for v in scenario.vaccinations {
            var order: [Int32] = []
            var taken = [Bool](repeating: false, count: n)
            for g in v.priority {
                var group: [Int32] = []
                for i in 0..<n where !taken[i] && Int(population.ages[i]) >= g.minAge && Int(population.ages[i]) <= g.maxAge {
                    taken[i] = true
                    group.append(Int32(i))
                }
                rng.shuffle(&group)
                order += group
            }
            run.vaccinationOrders.append(order)
        }
    }

    /// 1. Everyone active moves along the course drawn at infection; the recovered and dead leave the list.
    func progress(_ run: inout DayState, _ day: Int) {
        let state = self.state, fate = self.fate, dayInfectious = self.dayInfectious, daySymptomatic = self.daySymptomatic
        let daySevere = self.daySevere, dayCritical = self.dayCritical, dayEnd = self.dayEnd
        let t = Int32(day)
        var kept = 0
        for k in 0..<run.active.count {
            let i = Int(run.active[k])
            var s = state[i]
            if s == AgentState.exposed && dayInfectious[i] <= t {
                s = fate[i] == AgentFate.asymptomatic ? AgentState.asymptomatic : AgentState.presymptomatic
            }
            if s == AgentState.presymptomatic && daySymptomatic[i] <= t { s = AgentState.mild }
            if s == AgentState.mild && fate[i] >= AgentFate.severe && daySevere[i] <= t { s = AgentState.severe }
            if s == AgentState.severe && fate[i] >= AgentFate.critical && dayCritical[i] <= t { s = AgentState.critical }
            if s != AgentState.exposed && dayEnd[i] <= t {
                s = fate[i] == AgentFate.dies ? AgentState.dead : AgentState.recovered
            }
            if s != state[i] {
                run.moved(from: state[i], to: s)
                state[i] = s
            }
            if s != AgentState.recovered && s != AgentState.dead { run.active[kept] = Int32(i); kept += 1 }
        }
        run.active.removeLast(run.active.count - kept)
    }

    /// 2. Infectious people not yet diagnosed are tested; a positive is diagnosed `delay` days later.
    mutating func test(_ run: inout DayState, _ t: Int) {
        guard let p = scenario.testing, t >= p.start, t <= (p.end ?? Int.max) else { return }
        for k in 0..<run.active.count {
            let i = Int(run.active[k])
            let s = state[i]
            guard s >= AgentState.asymptomatic, dayDiagnosed[i] == Int32.max else { continue }
            let probability = s >= AgentState.mild ? p.symptomaticProbability : p.asymptomaticProbability
            if rng.nextUniform() < probability && (p.sensitivity >= 1 || rng.nextUniform() < p.sensitivity) {
                let due = t + p.delay
                dayDiagnosed[i] = Int32(due)
                if due <= run.horizon { run.diagnosisDue[due].append(Int32(i)) }
            }
        }
    }

    /// 3. Diagnoses falling due today: isolation (from `dayDiagnosed` on), the end of quarantine, and the
    /// tracing of each diagnosed person's contacts, whose quarantine is scheduled.
    mutating func diagnoseAndTrace(_ run: inout DayState, _ t: Int) {
        let due = run.diagnosisDue[t]
        run.diagnosisDue[t] = []
        run.diagnosedToday = due.count
        let tracing = scenario.tracing.flatMap { tr in t >= tr.start && t <= (tr.end ?? Int.max) ? tr : nil }
        let dailyCommunity = population.marginals.communityDaily && n >= 2
        for c in due {
            let i = Int(c)
            if quarantineUntil[i] > Int32(t) { quarantineUntil[i] = -1 }
            guard let tr = tracing else { continue }
            let community = ContactLayerKind.community.rawValue
            // Observed contacts (today's observed day, if any, and those of the look-back days).
            let today = observed == nil ? -1 : Int(observedDay[t])
            let skipObserved = today >= 0 && observed!.pinged(i, day: today)
            if let observed {
                let coverage = tr.observedCoverage ?? tr.coverage[community]
                let start = t + tr.delay[community]
                let until = Int32(start + max(1, tr.quarantineDays - tr.delay[community]))
                var found: [Int32] = []
                for s in max(0, t - tr.observedDays + 1)...t where observedDay[s] >= 0 {
                    found += observed.layers[Int(observedDay[s])].contacts(of: i)
                }
                if coverage > 0 && !found.isEmpty {
                    found.sort()
                    var last: Int32 = -1
                    for j in found where j != last {
                        last = j
                        if (coverage >= 1 || rng.nextUniform() < coverage) && start <= run.horizon { run.quarantineDue[start].append((j, until)) }
                    }
                }
            }
            for l in 0..<4 where tr.coverage[l] > 0 {
                let start = t + tr.delay[l]
                // As Covasim: quarantine from the notification for max(1, quarantineDays - delay) days.
                let until = Int32(start + max(1, tr.quarantineDays - tr.delay[l]))
                let coverage = tr.coverage[l]
                // On an observed day a random community contact between two people with pings that day did not
                // happen (their pings would show it): it is neither traced nor transmits.
                let skip = l == community && skipObserved
                if l == community && dailyCommunity {
                    let m = rng.poisson(population.marginals.communityContacts)
                    for _ in 0..<m {
                        var j = rng.below(n - 1)
                        if j >= i { j += 1 }
                        if skip && observed!.pinged(j, day: today) { continue }
                        if (coverage >= 1 || rng.nextUniform() < coverage) && start <= run.horizon { run.quarantineDue[start].append((Int32(j), until)) }
                    }
                } else {
                    let offsets = population.layers[l].offsets, neighbours = population.layers[l].neighbours
                    for e in Int(offsets[i])..<Int(offsets[i + 1]) {
                        if skip && observed!.pinged(Int(neighbours[e]), day: today) { continue }
                        if (coverage >= 1 || rng.nextUniform() < coverage) && start <= run.horizon {
                            run.quarantineDue[start].append((neighbours[e], until))
                        }
                    }
                }
            }
        }
    }

    /// 4. Quarantines starting today (extended for people already in quarantine; not for the recovered, the
    /// dead and the diagnosed).
    func startQuarantines(_ run: inout DayState, _ day: Int) {
        let state = self.state, quarantineUntil = self.quarantineUntil, dayDiagnosed = self.dayDiagnosed
        let t = Int32(day)
        let starting = run.quarantineDue[day]
        run.quarantineDue[day] = []
        for (person, until) in starting {
            let j = Int(person)
            if quarantineUntil[j] > t {
                quarantineUntil[j] = max(quarantineUntil[j], until)
            } else if state[j] != AgentState.dead && state[j] != AgentState.recovered && dayDiagnosed[j] > t && until > t {
                quarantineUntil[j] = until
            }
        }
    }

    /// 5. Today's vaccine doses, down each campaign's queue (the dead and the vaccinated are skipped).
    mutating func vaccinate(_ run: inout DayState, _ t: Int) {
        for (v, policy) in scenario.vaccinations.enumerated() where t >= policy.start && policy.dailyDoses > 0 {
            var doses = policy.dailyDoses
            let order = run.vaccinationOrders[v]
            while doses > 0 && run.vaccinationNext[v] < order.count {
                let j = Int(order[run.vaccinationNext[v]])
                run.vaccinationNext[v] += 1
                if vaccinated[j] != 0 || state[j] == AgentState.dead { continue }
                doses -= 1
                if policy.uptake >= 1 || rng.nextUniform() < policy.uptake {
                    vaccinated[j] = UInt8(truncatingIfNeeded: v + 1)
                    run.vaccinatedCount += 1
                }
            }
        }
    }

    /// 6. Transmission from every person infectious today to each susceptible contact, layer by layer.
    mutating func transmit(_ run: inout DayState, _ day: Int) {
        let state = self.state, dayDiagnosed = self.dayDiagnosed, quarantineUntil = self.quarantineUntil
        let relTrans = self.relTrans, highUntil = self.highUntil, layers = population.layers
        let t = Int32(day)
        let beta = Float(disease.beta)
        let layerBeta = disease.layerBeta.map { Float($0) }
        let isoFactor = disease.isolationFactor.map { Float($0) }
        let quarFactor = disease.quarantineFactor.map { Float($0) }
        let asymFactor = Float(disease.asymptomaticFactor)
        let ratio = disease.viralLoadRatio, frac = disease.viralLoadEarlyFraction
        let loadHigh = Float(ratio / (1 + frac * (ratio - 1))), loadLow = Float(1 / (1 + frac * (ratio - 1)))
        let vaccineFactor = [Float(1)] + scenario.vaccinations.map { Float(1 - $0.efficacy) }
        let dailyCommunity = population.marginals.communityDaily && n >= 2
        let communityContacts = population.marginals.communityContacts
        let today = observed == nil ? -1 : Int(observedDay[day])
        let infectiousCount = run.active.count
        for k in 0..<infectiousCount {
            let i = Int(run.active[k])
            let s = state[i]
            guard s >= AgentState.asymptomatic && s <= AgentState.critical else { continue }
            let diagnosed = dayDiagnosed[i] <= t
            let quarantined = !diagnosed && quarantineUntil[i] > t
            var base = relTrans[i] * (Float(t) < highUntil[i] ? loadHigh : loadLow)
            if s == AgentState.asymptomatic { base *= asymFactor }
            for l in 0..<4 {
                var p = beta * layerBeta[l] * run.distance[day * 4 + l] * base
                if diagnosed { p *= isoFactor[l] } else if quarantined { p *= quarFactor[l] }
                if p <= 0 { continue }
                var skip = false
                if l == ContactLayerKind.community.rawValue && today >= 0, let observed {
                    // The observed contacts of the day; random ones only with people who have no ping that day.
                    for j in observed.layers[today].contacts(of: i) where state[Int(j)] == AgentState.susceptible {
                        if tryInfect(Int(j), p: p, layer: l, t: t, quarFactor: quarFactor, vaccineFactor: vaccineFactor) {
                            run.active.append(j); run.newToday += 1
                            run.moved(from: AgentState.susceptible, to: AgentState.exposed)
                        }
                    }
                    skip = observed.pinged(i, day: today)
                }
                if l == ContactLayerKind.community.rawValue && dailyCommunity {
                    let m = rng.poisson(communityContacts)
                    for _ in 0..<m {
                        var j = rng.below(n - 1)
                        if j >= i { j += 1 }
                        if skip && observed!.pinged(j, day: today) { continue }
                        if state[j] == AgentState.susceptible
                            && tryInfect(j, p: p, layer: l, t: t, quarFactor: quarFactor, vaccineFactor: vaccineFactor) {
                            run.active.append(Int32(j)); run.newToday += 1
                            run.moved(from: AgentState.susceptible, to: AgentState.exposed)
                        }
                    }
                } else {
                    let offsets = layers[l].offsets, neighbours = layers[l].neighbours
                    var e = Int(offsets[i])
                    let end = Int(offsets[i + 1])
                    while e < end {
                        let j = Int(neighbours[e])
                        e += 1
                        if skip && observed!.pinged(j, day: today) { continue }
                        if state[j] == AgentState.susceptible
                            && tryInfect(j, p: p, layer: l, t: t, quarFactor: quarFactor, vaccineFactor: vaccineFactor) {
                            run.active.append(Int32(j)); run.newToday += 1
                            run.moved(from: AgentState.susceptible, to: AgentState.exposed)
                        }
                    }
                }
            }
        }
    }

    /// 7. The day's counts.
    func record(_ run: inout DayState, _ day: Int) {
        let quarantineUntil = self.quarantineUntil, dayDiagnosed = self.dayDiagnosed, n = self.n
        let t = Int32(day)
        for s in 0..<9 { run.counts[s][day] = Int32(run.stateCount[s]) }
        run.counts[OutbreakSeries.newInfections.rawValue][day] = Int32(run.newToday)
        run.counts[OutbreakSeries.newDiagnoses.rawValue][day] = Int32(run.diagnosedToday)
        var quarantined = 0
        if scenario.tracing != nil {
            for i in 0..<n where quarantineUntil[i] > t && dayDiagnosed[i] > t { quarantined += 1 }
        }
        run.counts[OutbreakSeries.quarantined.rawValue][day] = Int32(quarantined)
        run.counts[OutbreakSeries.vaccinated.rawValue][day] = Int32(run.vaccinatedCount)
        run.newToday = 0
    }

    /// Draws whether susceptible `j` is infected by a contact of strength `p` in layer `layer`, and infects.
    @inline(__always)
    mutating func tryInfect(_ j: Int, p: Float, layer: Int, t: Int32, quarFactor: [Float], vaccineFactor: [Float]) -> Bool {
        var q = p * susceptibility[Int(band[j])]
        if quarantineUntil[j] > t && dayDiagnosed[j] > t { q *= quarFactor[layer] }
        q *= vaccineFactor[Int(vaccinated[j])]
        if rng.uniformFloat() < q {
            infect(j, day: t)
            return true
        }
        return false
    }
}
