import Foundation
import Testing
import TwinBank
import TwinCore
import TwinSimulation
@testable import TwinPrognostic

/// Prognostic twins on a generated cohort (issue 30 items 1, 3 and the bank side of 2): fit over an aggregate,
/// evaluation on held-out people, the stored content-addressed model, a prediction with provenance, the refusal of
/// a person outside the training ranges, and a PROCOVA analysis of a generated trial.
///
/// The cohort: each person has systolic pressure every ~4 months for 4 years, 118 + 0.4 (age − 50) + 4 male + bᵢ +
/// sᵢ t + e, with a person's level bᵢ ~ N(0, 8²), slope sᵢ ~ N(1, 1) mmHg/year and noise e ~ N(0, 4²), and a BMI.
@Suite("Prognostic models: fit, store, predict, refuse, PROCOVA")
struct PrognosticModelTests {
    static let systolic = Concept.loinc("8480-6", "Systolic blood pressure")
    static let bmi = Concept.loinc("39156-5", "BMI")
    static let start = try! Instant(parsing: "2018-01-01")
    static let year = 365.25 * 86_400

    /// `people` twins p0... in aggregate `cohort`; with `trialEffect`, half have `arm` = treated and their pressure after
    /// the first year is lowered by the effect, the others `arm` = control.
    static func cohort(people: Int, seed: UInt64, trialEffect: Double? = nil, prefix: String = "p") throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        var rng = Xoshiro256StarStar(seed: seed)
        var ids: [TwinID] = []
        for i in 0..<people {
            let id = try TwinID("\(prefix)\(i)")
            let age = 35 + 40 * rng.uniform()
            let male = rng.uniform() < 0.5
            var attributes: [String: Value] = ["birthDate": .date(start.advanced(bySeconds: -age * year)), "gender": .text(male ? "male" : "female")]
            let treated = i % 2 == 0
            if trialEffect != nil { attributes["arm"] = .text(treated ? "treated" : "control") }
            try bank.createTwin(Twin(id: id, kind: .person, attributes: attributes))
            let level = 8 * rng.normal(), slope = 1 + rng.normal(), bmi0 = 27 + 4 * rng.normal()
            var drafts: [EventDraft] = []
            var t = 0.0
            while t < 4 * year {
                let years = t / year
                var sbp = 118 + 0.4 * (age - 50) + (male ? 4 : 0) + level + slope * years + 4 * rng.normal() + 0.3 * (bmi0 - 27)
                if let e = trialEffect, treated, years > 3.3 { sbp += e }
                let time = start.advanced(bySeconds: t)
                drafts.append(.observation(id, at: time, code: systolic, Quantity(sbp.rounded(), "mm[Hg]"), source: Source(.device, "cuff")))
                drafts.append(.observation(id, at: time, code: bmi, Quantity(bmi0 + 0.2 * rng.normal(), "kg/m2"), source: Source(.device, "scale")))
                t += (100 + 40 * rng.uniform()) * 86_400
            }
            try bank.append(drafts)
            ids.append(id)
        }
        try bank.createAggregate("cohort", members: ids)
        return bank
    }

    static func spec() throws -> PrognosticSpec {
        try PrognosticSpec(outcome: systolic.key, horizonSeconds: 365 * 86_400, windowSeconds: 60 * 86_400, covariates: [bmi.key])
    }

    @Test func fitsEvaluatesOnHeldOutPeopleAndStoresAContentAddressedModel() throws {
        let bank = try Self.cohort(people: 60, seed: 7)
        let (hash, model) = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try Self.spec(), seed: 42)
        // the four sets of people are disjoint and cover the members with examples
        let sets = [model.cohort.fitting, model.cohort.validation, model.cohort.calibration ?? [], model.cohort.test].map(Set.init)
        for i in sets.indices { for j in sets.indices where j > i { #expect(sets[i].isDisjoint(with: sets[j])) } }
        #expect(sets.allSatisfy { !$0.isEmpty })
        #expect(model.cohort.members.count == 60)
        #expect(sets.map(\.count).reduce(0, +) == 60)
        let test = try #require(model.testMetrics)
        let lastValue = try #require(model.metrics.first { $0.model == "last-value" })
        // the noise alone has SD 4 and a year of drift adds SD ~1.4 (plus a 4-month jitter): a model should come
        // near that and beat carrying the last value forward (two noise draws, SD ~ 5.8, MAE ~ 4.6)
        #expect(test.meanAbsoluteError < 6, "test MAE \(test.meanAbsoluteError)")
        #expect(test.meanAbsoluteError < lastValue.meanAbsoluteError, "model \(test.meanAbsoluteError) vs last value \(lastValue.meanAbsoluteError)")
        // 90 % split-conformal interval: coverage on the test people near 0.9 (people's examples are correlated, so a
        // wide band)
        let coverage = try #require(test.coverage)
        #expect(coverage > 0.75 && coverage <= 1, "coverage \(coverage)")
        #expect(model.intervalHalfWidth > 0)
        // stored under its hash; the same cohort, spec and seed give the same model and hash
        let loaded = try PrognosticStore(bank: bank).load(hash.hex)
        #expect(loaded.model == model)
        #expect(try PrognosticStore(bank: bank).load(String(hash.hex.prefix(10))).hash == hash)
        let again = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try Self.spec(), seed: 42)
        #expect(again.hash == hash)
        #expect(try PrognosticStore(bank: bank).hashes() == [hash.hex])
        #expect(model.seed == 42 && model.codeVersion == TwinbankVersion.current)
        #expect(throws: PrognosticError.self) { try PrognosticStore(bank: bank).load("00000000") }
    }

    /// A densely sampled person (a reading every 6 hours for 3 years) gives at most 50 examples, spread over the
    /// index times, each paired with the value nearest to a year later (within the 60-day window: an index in the
    /// last year's window before the end pairs with the last reading).
    @Test func aDenselySampledPersonGivesBoundedExamples() throws {
        var points: [PersonHistory.Point] = []
        for k in 0..<(4 * 365 * 3) {
            let t = Self.start.advanced(bySeconds: Double(k) * 6 * 3600)
            points.append(.init(time: t, value: 100 + Double(k % 17), event: EventHasher.sha256(Array("\(k)".utf8))))
        }
        let person = PersonHistory(twin: "dense", birthDate: try Instant(parsing: "1970-01-01"), male: 1, series: [Self.systolic.key: points])
        let examples = FeatureExtractor(spec: try Self.spec()).examples(person)
        #expect(examples.count == FeatureExtractor.maxExamplesPerPerson)
        let gaps = examples.map { $0.targetTime.seconds - $0.features.index.seconds - 365 * 86_400 }
        #expect(gaps.allSatisfy { abs($0) <= 60 * 86_400 }, "gaps beyond a year: \(gaps.map { $0 / 86_400 })")
        #expect(gaps.filter { abs($0) <= 3 * 3600 }.count >= 45, "gaps beyond a year: \(gaps.map { $0 / 86_400 })")
        // spread over the two years of index times that have a target, not the first 50 readings
        let span = try #require(examples.last).features.index.seconds - examples[0].features.index.seconds
        #expect(span > 1.9 * Self.year)
    }

    @Test func predictionWritesAnEventWithProvenance() throws {
        let bank = try Self.cohort(people: 40, seed: 8)
        let (hash, model) = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try Self.spec(), seed: 1)
        // a member inside the training ranges (a dry run says which; the first such fitting person)
        let inside = try #require(model.cohort.fitting.first { id in
            (try? Prognostic.predict(bank: bank, twin: TwinID(id), model: hash.hex, write: false)) != nil
        })
        let twin = try TwinID(inside)
        let p = try Prognostic.predict(bank: bank, twin: twin, model: hash.hex)
        #expect(p.outsideTrainingRange.isEmpty)
        #expect(p.lower < p.value && p.value < p.upper)
        let events = try bank.events(ThreadQuery(twin: twin, category: .prediction))
        let e = try #require(events.last)
        #expect(e.id == p.event)
        #expect(e.code.key == Self.systolic.key)
        #expect(e.value?.quantity?.value == p.value)
        #expect(e.effective.start == p.index.advanced(bySeconds: 365 * 86_400))
        #expect(e.provenance.parametersHash == hash.hex)
        #expect(e.provenance.seed == 1)
        #expect(e.provenance.model == "prognostic/\(model.kind.rawValue)")
        #expect(!e.provenance.derivedFrom.isEmpty)
        #expect(e.provenance.notes?.contains("cohort=cohort") == true)
        #expect(e.provenance.notes?.contains("outcome.last=") == true)
        // predicting again from the same history is the same event, not a second one
        let again = try Prognostic.predict(bank: bank, twin: twin, model: hash.hex)
        #expect(again.event == p.event)
        #expect(try bank.events(ThreadQuery(twin: twin, category: .prediction)).count == events.count)
    }

    @Test func refusesAPersonOutsideTheTrainingRangesUnlessAllowed() throws {
        let bank = try Self.cohort(people: 40, seed: 9)
        let (hash, _) = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try Self.spec(), seed: 1)
        try bank.createTwin(Twin(id: "child", kind: .person, attributes: ["birthDate": .date(try Instant(parsing: "2012-05-01")), "gender": .text("female")]))
        try bank.append([.observation("child", at: try Instant(parsing: "2020-01-01"), code: Self.systolic, Quantity(100, "mm[Hg]"), source: Source(.device, "cuff"))])
        do {
            _ = try Prognostic.predict(bank: bank, twin: "child", model: hash.hex)
            Issue.record("a child was predicted by a model of adults")
        } catch let e as PrognosticError {
            #expect(e.code == .outsideTrainingRange)
            #expect(e.message.contains("ageYears"), "\(e.message)")
            #expect(e.message.contains("training range"), "\(e.message)")
        }
        #expect(try bank.events(ThreadQuery(twin: "child", category: .prediction)).isEmpty)
        let p = try Prognostic.predict(bank: bank, twin: "child", model: hash.hex, allowOutside: true)
        #expect(p.outsideTrainingRange.contains { $0.contains("ageYears") })
        let e = try #require(try bank.events(ThreadQuery(twin: "child", category: .prediction)).last)
        #expect(e.provenance.notes?.contains("WARNING outside training range") == true)
    }

    /// A historical cohort trains the model; a separate trial cohort (in the same bank) with a true effect of −6 mmHg
    /// after randomisation is analysed: the adjusted interval covers −6 and is narrower than the unadjusted one.
    @Test func procovaOverATrialAggregate() throws {
        let bank = try Self.cohort(people: 60, seed: 10)
        let (hash, _) = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try Self.spec(), seed: 3)
        let trialBank = try Self.cohort(people: 80, seed: 11, trialEffect: -6, prefix: "t")
        // copy the model into the trial's bank (it is a content-addressed object: same bytes, same hash)
        let model = try PrognosticStore(bank: bank).load(hash.hex).model
        #expect(try PrognosticStore(bank: trialBank).save(model) == hash)
        let report = try Prognostic.analyzeTrial(bank: trialBank, aggregate: "cohort", arm: "arm", model: hash.hex)
        #expect(report.treatedValue == "treated" && report.controlValue == "control")
        let a = report.analysis
        let adjusted = try #require(a.adjusted)
        #expect(a.treated + a.control + report.leftOut.count == 80)
        #expect(adjusted.lower < -6 && -6 < adjusted.upper, "adjusted \(adjusted)")
        #expect(adjusted.standardError < a.unadjusted.standardError, "adjusted SE \(adjusted.standardError) vs unadjusted \(a.unadjusted.standardError)")
        #expect(try #require(a.scoreOutcomeCorrelation) > 0.5)
        print("PROCOVA on the generated trial (true effect -6): unadjusted \(a.unadjusted.effect) SE \(a.unadjusted.standardError), adjusted \(adjusted.effect) SE \(adjusted.standardError) [\(adjusted.lower), \(adjusted.upper)], rho \(a.scoreOutcomeCorrelation ?? .nan), variance ratio \(a.varianceRatio ?? .nan), \(a.treated)+\(a.control) analysed, \(report.leftOut.count) left out, \(report.outsideTrainingRange.count) outside the ranges")
        #expect(throws: PrognosticError.self) { try Prognostic.analyzeTrial(bank: trialBank, aggregate: "cohort", arm: "gender", model: hash.hex) }
    }
}

/// The probabilistic sequence model (issue 30 item 1) on the generated cohort of ``PrognosticModelTests`` (whose
/// process it can represent: a personal level by age and sex, a personal slope, noise): its hyperparameters come back
/// near the generating ones, and on held-out people its own Gaussian interval covers about as often as it says.
@Suite("Prognostic sequence model")
struct PrognosticSequenceModelTests {
    @Test func recoversTheGeneratingProcessAndPredictsHeldOutPeople() throws {
        let bank = try PrognosticModelTests.cohort(people: 80, seed: 11)
        let (_, model) = try Prognostic.fit(bank: bank, aggregate: "cohort", spec: try PrognosticModelTests.spec(), seed: 5)
        // refit the sequence model alone on the fitting people, to read its hyperparameters
        let cohort = try bank.cohort(of: "cohort", for: .aggregate)
        var histories: [String: PersonHistory] = [:]
        for r in cohort.records {
            let events = try bank.events(ThreadQuery(twin: r.id))
            histories[r.id.description] = PersonHistory.read(twin: r.twin, events: events, codes: [PrognosticModelTests.systolic.key]).0
        }
        let fitting = model.cohort.fitting.compactMap { histories[$0] }
        let s = try StateSpaceTrajectory.fit(fitting.map { ($0.series[PrognosticModelTests.systolic.key] ?? [], $0.birthDate, $0.male) })
        print(String(format: "sequence model: level %.1f, per decade %.2f, male %.2f, level sd %.2f, slope %.2f sd %.2f, diffusion %.3f, reversion %.2f, deviation sd %.2f, noise sd %.2f",
                     s.level, s.levelPerDecade, s.levelMale, s.levelSD, s.slopeMean, s.slopeSD, s.levelDiffusion, s.reversionRate, s.deviationSD, s.noiseSD))
        // generating process: 4 mmHg per decade of age, +4 male, level sd 8 (plus 0.3 x a BMI of sd 4: 8.1), slope
        // 1 ± 1 per year, white noise sd 4 (which the model may split between its noise and a fast-reverting deviation)
        #expect(abs(s.levelPerDecade - 4) < 2, "per decade \(s.levelPerDecade)")
        #expect(abs(s.slopeMean - 1) < 0.6, "slope \(s.slopeMean)")
        #expect(abs(s.levelSD - 8.1) < 3, "level sd \(s.levelSD)")
        let whiteNoise = (s.noiseSD * s.noiseSD + s.deviationSD * s.deviationSD).squareRoot()
        #expect(abs(whiteNoise - 4) < 1, "noise \(whiteNoise)")
        // on the test people (used for nothing else), its error is below carrying the last value forward, and every
        // candidate has test metrics beside the chosen one's
        let metrics = try #require(model.metrics.first { $0.model == "sequence" && $0.split == "test" })
        let last = try #require(model.metrics.first { $0.model == "last-value" })
        print("sequence test MAE \(metrics.meanAbsoluteError), coverage \(metrics.coverage ?? .nan); last value \(last.meanAbsoluteError); chosen \(model.kind)")
        #expect(metrics.meanAbsoluteError < last.meanAbsoluteError)
        let coverage = try #require(metrics.coverage)
        #expect(coverage > 0.75 && coverage <= 1, "coverage \(coverage)")
        for kind in PrognosticModel.Kind.allCases {
            #expect(model.metrics.contains { $0.model == kind.rawValue && $0.split == "test" && $0.coverage != nil })
            #expect(model.metrics.contains { $0.model == kind.rawValue && $0.split == "validation" })
        }
    }

    /// A person's predictive sd shrinks as the model sees more of their sequence: one value is predicted from the
    /// population, many from the person.
    @Test func predictiveSpreadShrinksWithMoreOfThePersonsSequence() throws {
        let model = StateSpaceTrajectory(level: 120, levelPerDecade: 4, levelMale: 4, levelSD: 8, slopeMean: 1, slopeSD: 1, levelDiffusion: 0.01,
                                         reversionRate: 5, deviationSD: 1, noiseSD: 4, ageCentre: 55, negativeLogLikelihood: 0, fittedPeople: 0, fittedValues: 0)
        let start = try Instant(parsing: "2020-01-01")
        let points = (0..<12).map { k in
            PersonHistory.Point(time: start.advanced(bySeconds: Double(k) * 90 * 86_400), value: 140 + 2 * Double(k % 3), event: EventHasher.sha256(Array("\(k)".utf8)))
        }
        let one = try #require(model.predict(points.prefix(1), birthDate: nil, male: nil, aheadSeconds: 365 * 86_400))
        let all = try #require(model.predict(points[...], birthDate: nil, male: nil, aheadSeconds: 365 * 86_400))
        #expect(all.sd < one.sd)
        // with one value the prediction is pulled towards the population level (120); with twelve near 140-144 it is near them
        #expect(one.mean < 140 && one.mean > 120)
        #expect(abs(all.mean - 142) < 4, "mean \(all.mean)")
    }
}
