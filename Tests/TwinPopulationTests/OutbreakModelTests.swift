import Foundation
import Testing
import TwinSimulation
@testable import TwinPopulation

/// The outbreak model against the outside world (the SIR final-size equation), its determinism, its
/// interventions, its scenario files and its shards.
@Suite struct OutbreakModelTests {
    /// Homogeneous mixing: nobody shares a household, school or workplace; every infectious person meets
    /// `contacts` random people a day; everyone is equally susceptible, infectious exactly `infectiousDays`
    /// days, with no individual variation. Then R0 = beta · layerBeta_c · contacts · infectiousDays.
    static func homogeneous(r0: Double, contacts: Double = 10, infectiousDays: Double = 8) -> OutbreakScenario {
        var s = OutbreakScenario.uncontrolled
        s.marginals.householdSizes = [1]
        s.marginals.enrolment = 0
        s.marginals.employment = 0
        s.marginals.communityContacts = contacts
        s.marginals.communityDaily = true
        s.disease.layerBeta = [0, 0, 0, 1]
        s.disease.beta = r0 / (contacts * infectiousDays)
        s.disease.overdispersion = nil
        s.disease.viralLoadRatio = 1
        s.disease.relativeSusceptibility = Array(repeating: 1, count: 10)
        s.disease.symptomaticProbability = Array(repeating: 0, count: 10)
        s.disease.asymptomaticToRecovered = DurationLaw(mean: infectiousDays, sd: 0)
        s.disease.exposedToInfectious = DurationLaw(mean: 3, sd: 1)
        s.disease.initialInfections = 20
        return s
    }

    @Test func finalSizeEquationKnownValues() {
        // z = 1 - exp(-R0 z): R0 = 2 -> 0.7968121300200199, R0 = 1.5 -> 0.5828132288...
        #expect(abs(CompartmentalOutbreak.finalSize(r0: 2) - 0.7968121300200199) < 1e-12)
        let z = CompartmentalOutbreak.finalSize(r0: 1.5)
        #expect(abs(z - (1 - Foundation.exp(-1.5 * z))) < 1e-14 && z > 0.5)
        #expect(CompartmentalOutbreak.finalSize(r0: 0.8) == 0)
    }

    @Test(arguments: [(2_000, 0.06), (20_000, 0.02), (100_000, 0.008)])
    func agentModelApproachesTheSIRFinalSize(agents: Int, tolerance: Double) throws {
        let r0 = 2.0
        let scenario = Self.homogeneous(r0: r0)
        let population = try SyntheticPopulation.generate(size: agents, seed: 3, marginals: scenario.marginals)
        #expect(population.layer(.household).neighbours.isEmpty && population.layer(.work).neighbours.isEmpty)
        let runs = agents <= 20_000 ? 8 : 2
        let ensemble = try OutbreakEnsemble.simulate(population: population, scenario: scenario, days: 400, seed: 9, runs: 0..<runs)
        let s0 = 1 - 20 / Double(agents)
        let expected = CompartmentalOutbreak.finalSize(r0: r0, initialSusceptibleFraction: s0)
        let mean = ensemble.runs.map { $0.headline.attackRate }.reduce(0, +) / Double(runs)
        #expect(abs(mean - expected) < tolerance, "N = \(agents): attack rate \(mean), final-size equation \(expected)")
        // Nobody is left infected at day 400 and the states add up to the population every day.
        for run in ensemble.runs {
            #expect(run.series(.exposed).last == 0 && run.series(.asymptomatic).last == 0)
            for d in stride(from: 0, through: 400, by: 50) {
                #expect(OutbreakSeries.states.reduce(0) { $0 + Int(run.series($1)[d]) } == agents)
            }
        }
    }

    @Test(arguments: [1.5, 2.5, 4.0])
    func odeCounterpartMatchesTheFinalSizeToSolverTolerance(r0: Double) throws {
        let n = 1_000_000.0, seeds = 10.0
        let model = try CompartmentalOutbreak(population: n, r0: r0, latentDays: 4.5, infectiousDays: 8)
        let solution = try model.solve(initialInfected: seeds, days: 3000, relativeTolerance: 1e-10)
        let final = solution.finalState
        let z = (n - final[0]) / n
        let expected = CompartmentalOutbreak.finalSize(r0: r0, initialSusceptibleFraction: 1 - seeds / n)
        #expect(abs(z - expected) < 1e-6, "R0 \(r0): ODE \(z), equation \(expected)")
    }

    @Test(arguments: [1, 2, 3, 25])
    func tinyPopulationsRunWithDailyCommunityContacts(agents: Int) throws {
        var s = Self.homogeneous(r0: 3)
        s.testing = TestingPolicy()
        s.tracing = TracingPolicy()
        let population = try SyntheticPopulation.generate(size: agents, seed: 1, marginals: s.marginals)
        let run = try OutbreakModel.run(population: population, scenario: s, days: 30, seed: 2)
        #expect(run.series(.newInfections)[0] == Int32(min(agents, 20)))
        #expect(OutbreakSeries.states.reduce(0) { $0 + Int(run.series($1)[30]) } == agents)
    }

    @Test func sameSeedSameRunOtherSeedOther() throws {
        let population = try SyntheticPopulation.generate(size: 3000, seed: 1)
        let a = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 60, seed: 42)
        let b = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 60, seed: 42)
        let c = try OutbreakModel.run(population: population, scenario: .covasimFull, days: 60, seed: 43)
        #expect(a.counts == b.counts)
        #expect(a.counts != c.counts)
        #expect(a.series(.newInfections)[0] == 20)
        for d in 0...60 { #expect(OutbreakSeries.states.reduce(0) { $0 + Int(a.series($1)[d]) } == 3000) }
    }

    /// Median attack rate of `runs` runs.
    static func medianAttackRate(_ scenario: OutbreakScenario, population: SyntheticPopulation, days: Int = 150, runs: Int = 5) throws -> Double {
        let e = try OutbreakEnsemble.simulate(population: population, scenario: scenario, days: days, seed: 5, runs: 0..<runs)
        return e.headlineBand { $0.attackRate }.median
    }

    @Test func interventionsReduceTheAttackRate() throws {
        let population = try SyntheticPopulation.generate(size: 8000, seed: 4)
        let none = try Self.medianAttackRate(.uncontrolled, population: population)
        #expect(none > 0.3, "uncontrolled attack rate \(none)")
        var testingOnly = OutbreakScenario.uncontrolled
        testingOnly.testing = TestingPolicy()
        testingOnly.testing?.symptomaticProbability = 0.3
        var full = OutbreakScenario.covasimFull
        full.testing?.symptomaticProbability = 0.3
        var vaccination = OutbreakScenario.uncontrolled
        var campaign = VaccinationPolicy()
        campaign.dailyDoses = 400
        campaign.priority = [.init(minAge: 60, maxAge: 120), .init(minAge: 0, maxAge: 59)]
        vaccination.vaccinations = [campaign]
        var distancing = OutbreakScenario.uncontrolled
        distancing.distancing = [DistancingPolicy(layer: .community, start: 0, end: 150, factor: 0.3),
                                 DistancingPolicy(layer: .work, start: 0, end: 150, factor: 0.5)]
        let tested = try Self.medianAttackRate(testingOnly, population: population)
        let traced = try Self.medianAttackRate(full, population: population)
        let vaccinated = try Self.medianAttackRate(vaccination, population: population)
        let distanced = try Self.medianAttackRate(distancing, population: population)
        #expect(tested < none, "testing \(tested) vs none \(none)")
        #expect(traced < tested, "testing + tracing \(traced) vs testing \(tested)")
        #expect(vaccinated < none * 0.8, "vaccination \(vaccinated) vs none \(none)")
        #expect(distanced < none * 0.8, "distancing \(distanced) vs none \(none)")
    }

    @Test func tracingQuarantinesAndVaccinationCounts() throws {
        let population = try SyntheticPopulation.generate(size: 5000, seed: 8)
        var s = OutbreakScenario.covasimFull
        var campaign = VaccinationPolicy()
        campaign.start = 10
        campaign.dailyDoses = 100
        s.vaccinations = [campaign]
        let run = try OutbreakModel.run(population: population, scenario: s, days: 80, seed: 3)
        #expect(run.series(.quarantined).max()! > 0)
        #expect(run.series(.newDiagnoses).reduce(0, +) > 0)
        #expect(run.series(.vaccinated)[9] == 0)
        #expect(run.series(.vaccinated)[10] == 100 && run.series(.vaccinated)[30] == 2100)
        // Days 10...59 give 5,000 doses: everyone alive when their turn came.
        #expect(run.series(.vaccinated)[80] <= 5000 && run.series(.vaccinated)[80] >= 5000 - run.series(.dead)[80])
    }

    @Test func scenarioFileIsReadStrictly() throws {
        let good = #"""
        {"beta": 0.02, "layers": {"h": {"beta": 2.5}}, "disease": {"overdispersion": null, "durations": {"mildToRecovered": {"mean": 7, "sd": 1}}},
         "population": {"community": {"contacts": 12}},
         "interventions": [{"type": "testing", "delay": 2}, {"type": "tracing", "coverage": {"c": 0.2}},
                           {"type": "vaccination", "start": 5, "dailyDoses": 10, "priority": [{"minAge": 65}]},
                           {"type": "distancing", "layer": "s", "start": 10, "end": 40, "factor": 0}]}
        """#
        let s = try OutbreakScenario.parse(Data(good.utf8))
        #expect(s.disease.beta == 0.02 && s.disease.layerBeta == [2.5, 0.6, 0.6, 0.3] && s.disease.overdispersion == nil)
        #expect(s.disease.mildToRecovered == DurationLaw(mean: 7, sd: 1) && s.marginals.communityContacts == 12)
        #expect(s.testing?.delay == 2 && s.tracing?.coverage == [1, 0.5, 0.5, 0.2])
        #expect(s.vaccinations.first?.priority == [.init(minAge: 65, maxAge: 120)] && s.distancing.first?.layer == .school)
        #expect(try OutbreakScenario.parse(Data("{}".utf8)) == .uncontrolled)

        let cases: [(String, String, String)] = [
            (#"{"interventions": [{"type": "lockdown"}]}"#, "interventions[0].type", "lockdown"),
            (#"{"interventions": [{"type": "testing", "symptomaticProbability": -0.1}]}"#, "interventions[0].symptomaticProbability", "-0.1"),
            (#"{"interventions": [{"type": "testing", "delay": -1}]}"#, "interventions[0].delay", "-1"),
            (#"{"interventions": [{"type": "tracing", "coverage": {"x": 1}}]}"#, "interventions[0].coverage.x", "x"),
            (#"{"interventions": [{"type": "vaccination", "dailyDoses": -5}]}"#, "interventions[0].dailyDoses", "-5"),
            (#"{"interventions": [{"type": "distancing", "layer": "q"}]}"#, "interventions[0].layer", "q"),
            (#"{"interventions": [{"type": "testing", "sensitivty": 0.9}]}"#, "interventions[0].sensitivty", "sensitivty"),
            (#"{"beta": -0.016}"#, "beta", "-0.016"),
            (#"{"betaa": 0.016}"#, "betaa", "betaa"),
            (#"{"layers": {"w": {"beta": -1}}}"#, "layers.w.beta", "-1"),
            (#"{"disease": {"durations": {"exposedToInfectious": {"mean": -4.5}}}}"#, "disease.durations.exposedToInfectious.mean", "-4.5"),
            (#"{"disease": {"prognoses": {"death": [0.1, 2]}}}"#, "disease.prognoses.death[1]", "2"),
            (#"{"population": {"school": {"enrolment": -0.5}}}"#, "population.school.enrolment", "-0.5"),
            (#"{"initialInfections": 2.5}"#, "initialInfections", "2.5"),
        ]
        for (json, key, value) in cases {
            let error = #expect(throws: PopulationError.self, "\(json)") { try OutbreakScenario.parse(Data(json.utf8)) }
            #expect(error?.code == .invalidScenario)
            #expect(error?.message.contains("'\(key)'") == true, "\(error?.message ?? "no error") should name \(key)")
            #expect(error?.value == value, "\(error?.message ?? "no error"): value \(error?.value ?? "nil")")
        }
    }

    @Test(arguments: [(10, 3), (7, 7), (5, 8), (1, 1), (100, 6)])
    func shardsCoverTheSweepExactlyOnce(total: Int, shards: Int) throws {
        var seen = [Int](repeating: 0, count: total)
        for k in 1...shards { for i in try OutbreakShard(index: k, count: shards).runs(of: total) { seen[i] += 1 } }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    @Test func aShardComputesTheSameRunsAsTheWholeSweep() throws {
        let population = try SyntheticPopulation.generate(size: 1500, seed: 2)
        let whole = try OutbreakEnsemble.simulate(population: population, scenario: .covasimFull, days: 40, seed: 7, runs: 0..<5)
        var pieces: [OutbreakRun] = []
        for k in 1...3 {
            let shard = try OutbreakShard(parsing: "\(k)/3")
            pieces += try OutbreakEnsemble.simulate(population: population, scenario: .covasimFull, days: 40, seed: 7,
                                                    runs: shard.runs(of: 5), parallelism: 1).runs
        }
        #expect(pieces.map(\.runIndex) == [0, 1, 2, 3, 4])
        #expect(pieces == whole.runs)
        for bad in ["3/2", "0/4", "a/b", "2", "1/0"] {
            let error = #expect(throws: PopulationError.self) { try OutbreakShard(parsing: bad) }
            #expect(error?.value == bad || error?.code == .invalidArgument)
        }
    }

    @Test func bandsAreOrderedAndTheEstimateIsReasonable() throws {
        let population = try SyntheticPopulation.generate(size: 4000, seed: 6)
        let e = try OutbreakEnsemble.simulate(population: population, scenario: .uncontrolled, days: 100, seed: 1, runs: 0..<6)
        let band = e.band(.recovered)
        for d in 0...100 { #expect(band.low[d] <= band.median[d] && band.median[d] <= band.high[d]) }
        let seir = try CompartmentalOutbreak(estimating: .uncontrolled, on: population)
        #expect(seir.r0 > 1.5 && seir.r0 < 6, "estimated R0 \(seir.r0)")
        #expect(OutbreakEnsemble.quantile([1, 2, 3, 4], 0.5) == 2.5)
    }
}

/// The scenario example in README.md ("### outbreak") parses and means what it says.
@Suite struct OutbreakReadmeExampleTests {
    @Test func readmeScenarioExampleParses() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### outbreak").map { readme[$0.upperBound...] })
        let start = try #require(section.range(of: "```json\n"))
        let end = try #require(section[start.upperBound...].range(of: "```"))
        let json = String(section[start.upperBound..<end.lowerBound])
        let s = try OutbreakScenario.parse(Data(json.utf8))
        #expect(s.testing?.delay == 1 && s.tracing?.delay == [0, 1, 1, 2] && s.vaccinations.count == 1 && s.distancing.count == 1)
        #expect(s.marginals.schoolMaxAge == 18 && s.marginals.employment == 0.7 && s.marginals.workplaceSizes.count == 2)
        let population = try SyntheticPopulation.generate(size: 2000, seed: 1, marginals: s.marginals)
        let run = try OutbreakModel.run(population: population, scenario: s, days: 30, seed: 1)
        #expect(run.series(.vaccinated)[30] > 0)
    }
}

/// Calibration of beta to reported counts recovers the beta that made them.
@Suite struct OutbreakCalibrationTests {
    @Test func recoversTheTransmissionRateFromDailyCounts() throws {
        let population = try SyntheticPopulation.generate(size: 6000, seed: 12)
        var truth = OutbreakScenario.uncontrolled
        truth.disease.beta = 0.012
        // "Reported" infections: the mean of 8 runs with other seeds than the fit uses.
        let reported = try OutbreakEnsemble.simulate(population: population, scenario: truth, days: 70, seed: 1000, runs: 0..<8)
        let observed = (0...70).map { d in reported.runs.reduce(0.0) { $0 + Double($1.counts[OutbreakSeries.newInfections.rawValue][d]) } / 8 }
        let fit = try OutbreakCalibration.fitBeta(observed: observed, series: .newInfections, population: population,
                                                  scenario: .uncontrolled, seed: 7, runs: 8, range: 0.004...0.05, tolerance: 0.01)
        #expect(abs(fit.beta - 0.012) < 0.0015, "fitted beta \(fit.beta)")
        #expect(fit.simulations > 0)
        #expect(throws: PopulationError.self) {
            try OutbreakCalibration.fitBeta(observed: [1, -2], population: population, scenario: .uncontrolled, seed: 1)
        }
    }
}
