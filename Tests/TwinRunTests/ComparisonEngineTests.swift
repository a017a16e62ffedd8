import Foundation
import Testing
import TwinBank
import TwinCore
import TwinModels
import TwinSimulation
@testable import TwinRun

/// A toy model for the engine: an option is a number `x`, a member has a parameter `k`, and its one outcome is
/// `loss = x·k` (lower is better) beside `gain = x` (higher is better). Bound to any twin.
struct ToyModel: ComparisonModel {
    struct Option: ComparisonOption { var name: String; var x: Double }
    static let loss = OutcomeMeasure(name: "loss", unit: "1", direction: .lowerIsBetter, summary: "x times k")
    static let gain = OutcomeMeasure(name: "gain", unit: "1", direction: .higherIsBetter, summary: "x")
    static let horizonLimit = 10.0
    static let ensembleLimit = 50
    static let failureContext = "toy model"
    let settings: ComparisonEngine.Settings
    init(twin: TwinID, in bank: Bank, settings: ComparisonEngine.Settings) throws { self.settings = settings }
    var measures: [OutcomeMeasure] { [Self.loss, Self.gain] }
    var ranking: [RankingCriterion] { [.by(Self.loss)] }
    func start(from given: ComparisonStart?, variation: Double) throws -> ComparisonStart {
        given ?? ComparisonStart(parameters: [.init("k", 1)], logStandardDeviations: [variation], source: "toy default")
    }
    func member(_ values: [String: Double]) throws -> Double {
        for name in values.keys where name != "k" { throw RunError(.invalidBinding, "'\(name)' is not a toy parameter", value: name) }
        return values["k"] ?? 1
    }
    func plan(_ option: Option) throws -> Double {
        guard option.x >= 0 else { throw RunError(.invalidBinding, "option '\(option.name)': x must be >= 0, not \(option.x)", value: "\(option.x)") }
        return option.x
    }
    func simulate(_ runs: [(member: Double, plan: Double)]) async throws -> [Double] { runs.map { $0.member * $0.plan } }
    func outcomes(of s: Double) -> [OutcomeMeasure: Double] { [Self.loss: s, Self.gain: s] }
    func interventions(for option: Option, plan: Double, in fork: TwinID) -> [EventDraft] { [] }
    func predictions(of s: Double) -> [PredictionWriter.Series] {
        [.init(code: Concept(system: "urn:test", code: "toy", display: nil), unit: "1", points: [(settings.start, s)])]
    }
    func provenance(seed: UInt64) -> RunProvenance {
        RunProvenance(model: "toy", modelVersion: "1", parametersHash: "-", solver: "none", relativeTolerance: 0, absoluteTolerance: 0, seed: seed)
    }
    func summary(of r: ComparisonEngine.OptionResult) -> String { "\(r.rank). \(r.name)" }
}

@Suite("One comparison engine: glucose and dose comparisons, typed measures, a pluggable start")
struct ComparisonEngineTests {
    let start = try! Instant(parsing: "2024-01-02T00:00:00Z")
    static let drug = Concept(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "11124", display: "vancomycin")

    func glucoseBank() throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "alice", kind: .person, attributes: ["virtualPatient": .text("adult#001"), "birthDate": .date(try Instant(parsing: "1980-04-02"))]))
        try bank.append([(7.0, 45.0), (12.0, 70.0), (18.0, 80.0)].map { h, g in
            EventDraft(twin: "alice", effective: EffectiveTime(start.advanced(bySeconds: h * 3600)), category: .intervention,
                       code: GlucoseTwin.carbohydrateIntake, value: .quantity(Quantity(g, "g")), source: Source(.person, "alice"))
        })
        return bank
    }

    /// One compartment, CL 4 L/h, V 50 L, window 10-20 mg/L, a 1000 mg dose 12 h before the start.
    func doseBank(levels: Bool = false) throws -> Bank {
        let bank = Bank(storage: MemoryStorage())
        var attributes: [String: Value] = [
            "pk.clearance": .quantity(Quantity(4, "L/h")), "pk.volume": .quantity(Quantity(50, "L")),
            "pk.targetLow": .quantity(Quantity(10, "mg/L")), "pk.targetHigh": .quantity(Quantity(20, "mg/L")), "pk.code": .concept(Self.drug),
        ]
        let level = Concept.loinc("20578-1", "Vancomycin [Mass/volume] in Serum or Plasma")
        if levels { attributes["pk.levelCode"] = .concept(level) }
        try bank.createTwin(Twin(id: "pat", kind: .person, attributes: attributes))
        try bank.append([EventDraft(twin: "pat", effective: EffectiveTime(start.advanced(bySeconds: -12 * 3600)), category: .intervention,
                                    code: Self.drug, value: .quantity(Quantity(1000, "mg")), source: Source(.record, "mar"))])
        if levels {
            try bank.append([.observation("pat", at: start.advanced(bySeconds: -3600), code: level, Quantity(9, "mg/L"), source: Source(.device, "lab"))])
        }
        return bank
    }

    /// What the engine promises any conformer: a fork per option (child of the twin, holding member 0's
    /// predictions), one recommendation whose provenance names the model, the seed and the ensemble, a rank per
    /// option, every measure's spread, and the same outcomes again for the same seed.
    func checkEngineGuarantees<M: ComparisonModel>(_ type: M.Type, twin: TwinID, bank: Bank, options: [M.Option], hours: Double,
                                                   model name: String) async throws -> ComparisonEngine.Outcome {
        let settings = ComparisonEngine.Settings(start: start, hours: hours, ensemble: 4, variation: 0.2, seed: 9)
        let (outcome, model) = try await ComparisonEngine.compare(type, twin: twin, in: bank, options: options, settings: settings)
        #expect(outcome.ensemble == 4 && outcome.seed == 9 && !outcome.startWasGiven)
        #expect(Set(outcome.options.map(\.rank)) == Set(1...options.count))
        #expect(outcome.rankedBy == model.ranking.map(\.description))
        for o in outcome.options {
            #expect(Set(o.outcomes.keys) == Set(model.measures))
            for s in o.outcomes.values { #expect(s.p05 <= s.mean + 1e-12 && s.mean <= s.p95 + 1e-12) }
            #expect(try bank.twin(o.fork).fork?.parent == twin)
            #expect(o.fork.rawValue.hasPrefix("\(twin.rawValue).cmp") && o.fork.rawValue.hasSuffix(".\(o.name)"))
            #expect(try !bank.events(ThreadQuery(twin: o.fork, category: .prediction)).isEmpty)
        }
        let recs = try bank.events(ThreadQuery(twin: twin, category: .recommendation))
        let rec = try #require(recs.last)
        #expect(rec.id == outcome.recordedEvent)
        #expect(rec.provenance.model == name && rec.provenance.seed == 9)
        #expect(rec.provenance.notes?.contains("ensemble=4 variation=0.2 horizon=\(hours)h") == true)
        let best = try #require(outcome.options.first { $0.rank == 1 })
        if case .text(let text)? = rec.value { #expect(text.hasPrefix("1. \(best.name)")) } else { Issue.record("the recommendation is not text") }
        // read back as recorded: the options ranked with their figures and forks
        let recorded = try #require(try RecordedComparison.latest(of: twin, in: bank))
        #expect(recorded.event.id == outcome.recordedEvent)
        #expect(recorded.options.map(\.rank) == Array(1...options.count))
        for o in outcome.options {
            let r = try #require(recorded.options.first { $0.name == o.name })
            #expect(r.rank == o.rank && r.fork == o.fork && r.figures == String(model.summary(of: o).drop { $0 != ":" }.dropFirst(2)))
        }
        let (again, _) = try await ComparisonEngine.compare(type, twin: twin, in: bank, options: options, settings: settings)
        #expect(again.options.map(\.outcomes) == outcome.options.map(\.outcomes))
        return outcome
    }

    @Test func bothConformersRunThroughTheOneEngine() async throws {
        let g = try glucoseBank()
        let glucose = try await checkEngineGuarantees(InSilicoComparison.Model.self, twin: "alice", bank: g,
                                                      options: try ["usual=", "no-bolus=bolus=0"].map { try .init(parsing: $0) }, hours: 12,
                                                      model: GlucoseTwin.modelID)
        #expect(glucose.rankedBy == ["timeBelowRange <= 4 %", "timeInRange", "lowBGIndex"])
        let d = try doseBank()
        let dose = try await checkEngineGuarantees(DoseComparison.Model.self, twin: "pat", bank: d,
                                                   options: try ["q12=dose=1000,every=12", "hold="].map { try .init(parsing: $0) }, hours: 24,
                                                   model: DoseComparison.modelID)
        #expect(dose.rankedBy == ["timeInWindow - timeAboveWindow", "timeAboveWindow"])
        // the façades are the engine: the same bank state gives the same result
        let viaFacade = try await DoseComparison.compare("pat", in: try doseBank(), options: try ["q12=dose=1000,every=12", "hold="].map { try .init(parsing: $0) },
                                                         start: start, hours: 24, ensemble: 4, variation: 0.2, seed: 9)
        #expect(viaFacade.options.map(\.outcomes) == dose.options.map(\.outcomes))
        #expect(viaFacade.rankedBy == dose.rankedBy)
    }

    /// A recorded ranking is read back entry by entry (figures may hold `; `); an event that is not a comparison is none.
    @Test func recordedComparisonsAreReadBack() throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "t", kind: .person))
        let text = "1. b-2: loss 1; spread 2; 2. a_1: loss 3"
        try bank.append([EventDraft(twin: "t", effective: EffectiveTime(start), category: .recommendation, code: ComparisonEngine.comparisonCode,
                                    value: .text(text), source: Source(.model, "toy"), provenance: Provenance(notes: " ensemble=1 forks=t.cmp7.a_1,t.cmp7.b-2"))])
        let r = try #require(try RecordedComparison.latest(of: "t", in: bank))
        #expect(r.options.map(\.name) == ["b-2", "a_1"] && r.options.map(\.rank) == [1, 2])
        #expect(r.options.map(\.figures) == ["loss 1; spread 2", "loss 3"])
        #expect(r.options.map(\.fork) == [try TwinID("t.cmp7.b-2"), try TwinID("t.cmp7.a_1")])
        try bank.createTwin(Twin(id: "u", kind: .person))
        #expect(try RecordedComparison.latest(of: "u", in: bank) == nil)
        let other = try bank.append([EventDraft(twin: "u", effective: EffectiveTime(start), category: .recommendation, code: ComparisonEngine.comparisonCode,
                                                value: .text("take a walk"), source: Source(.model, "toy"))])
        #expect(try RecordedComparison.latest(of: "u", in: bank) == nil, "\(other.ids) is not a ranking")
    }

    /// A lower-is-better measure ranks ascending, a higher-is-better one descending; a limit puts the options
    /// beyond it last; a score weighs means; ties keep the given order.
    @Test func measureDirectionRanks() async throws {
        let low = OutcomeMeasure(name: "low", unit: "1", direction: .lowerIsBetter, summary: "")
        let high = OutcomeMeasure(name: "high", unit: "1", direction: .higherIsBetter, summary: "")
        let means: [[OutcomeMeasure: Double]] = [[low: 3, high: 3], [low: 1, high: 1], [low: 2, high: 2]]
        #expect(RankingCriterion.order(means, by: [.by(low)]) == [1, 2, 0])
        #expect(RankingCriterion.order(means, by: [.by(high)]) == [0, 2, 1])
        // at most 2.5 first (options 1 and 2), then by high: option 2 before 1, then 0
        #expect(RankingCriterion.order(means, by: [.within(low, 2.5), .by(high)]) == [2, 1, 0])
        #expect(RankingCriterion.order(means, by: [.within(high, 2), .by(low)]) == [2, 0, 1])
        // 2·high − low: 3, 1, 2 → descending
        #expect(RankingCriterion.order(means, by: [.score([.init(high, 2), .init(low, -1)], .higherIsBetter)]) == [0, 2, 1])
        #expect(RankingCriterion.score([.init(high, 2), .init(low, -1)], .higherIsBetter).description == "2·high - low")
        #expect(RankingCriterion.within(low, 0.04).description == "low <= 4 %")
        // within the tolerance nothing separates: the given order stays
        #expect(RankingCriterion.order([[low: 1 + 1e-12], [low: 1]], by: [.by(low)]) == [0, 1])
        #expect(RankingCriterion.order([[low: 1 + 1e-12], [low: 1]], by: [.by(low, tolerance: 0)]) == [1, 0])

        // through the engine: option x = 3, 1, 2 with loss = x·k, lower is better
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "toy", kind: .person))
        let options = [ToyModel.Option(name: "three", x: 3), .init(name: "one", x: 1), .init(name: "two", x: 2)]
        let (outcome, _) = try await ComparisonEngine.compare(ToyModel.self, twin: "toy", in: bank, options: options,
                                                               settings: .init(start: start, hours: 1, ensemble: 5, variation: 0.1, seed: 1))
        #expect(outcome.options.map(\.rank) == [3, 1, 2])
        #expect(outcome.options[1].outcomes[ToyModel.loss]!.mean < outcome.options[2].outcomes[ToyModel.loss]!.mean)
        #expect(outcome.rankedBy == ["loss"])
    }

    /// A ranking by a measure with no better direction is refused before anything runs.
    @Test func rankingByADirectionlessMeasureIsRefused() throws {
        #expect(RankingCriterion.by(.meanBG).problem?.contains("meanBG") == true)
        #expect(RankingCriterion.by(.timeInRange).problem == nil)
        #expect(RankingCriterion.score([.init(.peak, 1)], .neither).problem != nil)
    }

    @Test(arguments: [("x=basal=abc", "abc"), ("x=basal=-1", "-1"), ("x=shoes=2", "shoes"), ("x=meal=7", "7"), ("bad name=basal=1", "bad name")])
    func aBadGlucoseOptionNamesTheValue(_ spec: String, _ offending: String) {
        do { _ = try InSilicoComparison.Option(parsing: spec); Issue.record("accepted \(spec)") } catch let e as RunError {
            #expect(e.code == .invalidBinding)
            #expect(e.message.contains(offending), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test(arguments: [("x=dose=abc", "abc"), ("x=route=nasal", "nasal"), ("x=route=infusion:0", "infusion:0"), ("x=every=12", "dose=MG"), ("x=count=0", "0")])
    func aBadDoseOptionNamesTheValue(_ spec: String, _ offending: String) {
        do { _ = try DoseComparison.Option(parsing: spec); Issue.record("accepted \(spec)") } catch let e as RunError {
            #expect(e.message.contains(offending), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    /// An option the engine's plan step refuses (after parsing) names the option and its value; nothing is written.
    @Test func anOptionRefusedWhenPlannedNamesItAndWritesNothing() async throws {
        let g = try glucoseBank()
        let before = try g.lastSequence()
        do {
            _ = try await InSilicoComparison.compare("alice", in: g, options: [.init(name: "usual"), .init(name: "feast", extraMeals: [.init(hours: 3, grams: -40)])],
                                                     start: start, hours: 12, ensemble: 1)
            Issue.record("planned a negative meal")
        } catch let e as RunError {
            #expect(e.message.contains("option 'feast'") && e.message.contains("-40"), "\(e.message)")
        }
        #expect(try g.lastSequence() == before && g.twinIDs() == ["alice"])
        let d = try doseBank()
        do {
            _ = try await DoseComparison.compare("pat", in: d, options: [try .init(parsing: "pill=dose=500,route=oral")], start: start, hours: 24)
            Issue.record("planned an oral dose without an absorption rate")
        } catch let e as RunError {
            #expect(e.message.contains("option 'pill'") && e.message.contains("pk.absorptionRate"), "\(e.message)")
        }
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "toy", kind: .person))
        do {
            _ = try await ComparisonEngine.compare(ToyModel.self, twin: "toy", in: bank, options: [.init(name: "neg", x: -2)],
                                                   settings: .init(start: start, hours: 1, ensemble: 2, variation: 0, seed: 1))
            Issue.record("planned x = -2")
        } catch let e as RunError {
            #expect(e.message.contains("'neg'") && e.value == "-2.0", "\(e.message)")
        }
        #expect(try d.twinIDs() == ["pat"] && bank.twinIDs() == ["toy"])
    }

    /// The ensemble draws reproduce what the comparisons drew before the engine, bit for bit: independent
    /// parameters as `value × rng.nextLogNormal(sigma:)` in order, correlated ones through the 2 × 2 Cholesky factor.
    @Test func ensembleDrawsMatchTheDirectFormulas() throws {
        let start = ComparisonStart(parameters: [.init("Vmx", 0.047), .init("kp3", 0.0097), .init("kabs", 0.057)],
                                    logStandardDeviations: [0.1, 0.1, 0.1], source: "test")
        var rng = Xoshiro256StarStar(seed: 3)
        let members = try start.ensemble(6, using: &rng)
        var direct = Xoshiro256StarStar(seed: 3)
        #expect(members[0] == ["Vmx": 0.047, "kp3": 0.0097, "kabs": 0.057])
        for m in members.dropFirst() {
            let vmx = 0.047 * direct.nextLogNormal(sigma: 0.1), kp3 = 0.0097 * direct.nextLogNormal(sigma: 0.1), kabs = 0.057 * direct.nextLogNormal(sigma: 0.1)
            #expect(m == ["Vmx": vmx, "kp3": kp3, "kabs": kabs])
        }
        let c = [0.04, 0.012, 0.012, 0.09]
        let pk = ComparisonStart(parameters: [.init("clearance", 4), .init("centralVolume", 50), .init("absorptionRate", 1.5)],
                                 logCovariance: [[c[0], c[1], 0], [c[2], c[3], 0], [0, 0, 0.09]], source: "test")
        var a = Xoshiro256StarStar(seed: 8), b = Xoshiro256StarStar(seed: 8)
        let drawn = try pk.ensemble(4, using: &a)
        let l00 = c[0].squareRoot(), l10 = c[2] / l00, l11 = max(c[3] - l10 * l10, 0).squareRoot()
        for m in drawn.dropFirst() {
            let z0 = b.nextNormal(), z1 = b.nextNormal()
            #expect(m["clearance"] == 4 * exp(l00 * z0))
            #expect(m["centralVolume"] == 50 * exp(l10 * z0 + l11 * z1))
            #expect(m["absorptionRate"] == 1.5 * b.nextLogNormal(sigma: 0.3))
        }
    }

    @Test(arguments: [
        (ComparisonStart(parameters: [.init("k", 1), .init("k", 2)], logStandardDeviations: [0.1, 0.1], source: "t"), "'k' twice"),
        (ComparisonStart(parameters: [.init("k", -1)], logStandardDeviations: [0.1], source: "t"), "-1"),
        (ComparisonStart(parameters: [.init("k", 1)], logStandardDeviations: [0.1, 0.2], source: "t"), "1 × 1"),
        (ComparisonStart(parameters: [.init("k", 1), .init("j", 1)], logCovariance: [[1, 2], [2, 1]], source: "t"), "positive semi-definite"),
        (ComparisonStart(parameters: [.init("k", 1), .init("j", 1)], logCovariance: [[1, 0.5], [0.2, 1]], source: "t"), "symmetric"),
        (ComparisonStart(parameters: [.init("q", 1)], logStandardDeviations: [0.1], source: "t"), "'q'"),
    ])
    func aBadStartIsNamedAndWritesNothing(_ given: ComparisonStart, _ named: String) async throws {
        let bank = Bank(storage: MemoryStorage())
        try bank.createTwin(Twin(id: "toy", kind: .person))
        do {
            _ = try await ComparisonEngine.compare(ToyModel.self, twin: "toy", in: bank, options: [.init(name: "a", x: 1)],
                                                   settings: .init(start: start, hours: 1, ensemble: 3, variation: 0.1, seed: 1), startingFrom: given)
            Issue.record("accepted \(given)")
        } catch let e as RunError {
            #expect(e.code == .invalidBinding)
            #expect(e.message.contains(named), "\(e.message)")
        }
        #expect(try bank.lastSequence() == 0 && bank.twinIDs() == ["toy"])
    }

    /// A given start replaces the twin's default: the glucose twin with twice the insulin sensitivity (Vmx) runs
    /// lower, and the start is in the result and the recorded provenance (source, and the estimate event it came from).
    @Test func aGivenStartIsUsedAndRecorded() async throws {
        let bank = try glucoseBank()
        let usual = [InSilicoComparison.Option(name: "usual")]
        let plain = try await InSilicoComparison.compare("alice", in: bank, options: usual, start: start, hours: 12, ensemble: 1)
        #expect(plain.startedFrom == nil)
        let json = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!json.contains("startedFrom") && json.contains("\"timeInRange\":{"))
        let vmx = try VirtualPatient.named("adult#001").parameters.Vmx
        let marker = try bank.append([EventDraft(twin: "alice", effective: EffectiveTime(start.advanced(bySeconds: -60)), category: .observation,
                                                 code: Concept(system: "urn:test", code: "estimate", display: nil), value: .text("Vmx"), source: Source(.model, "sync"))]).ids[0]
        let given = ComparisonStart(parameters: [.init("Vmx", 2 * vmx)], logStandardDeviations: [0.05], source: "sync estimate", derivedFrom: [marker])
        let sensitive = try await InSilicoComparison.compare("alice", in: bank, options: usual, start: start, hours: 12, ensemble: 1, startingFrom: given)
        #expect(sensitive.startedFrom == given)
        #expect(sensitive.options[0].outcomes[.meanBG]!.mean < plain.options[0].outcomes[.meanBG]!.mean - 5)
        let rec = try #require(try bank.events(ThreadQuery(twin: "alice", category: .recommendation)).last)
        #expect(rec.id == sensitive.recordedEvent)
        #expect(rec.provenance.notes?.contains("start=sync estimate") == true)
        #expect(rec.provenance.derivedFrom.contains(marker))
        let first = try #require(try bank.events(ThreadQuery(twin: "alice", category: .recommendation)).first)
        #expect(first.provenance.parametersHash != rec.provenance.parametersHash)
        // a name the model does not have is refused, naming it
        await #expect(throws: RunError.self) {
            try await InSilicoComparison.compare("alice", in: bank, options: usual, start: start, hours: 12, ensemble: 1,
                                                 startingFrom: ComparisonStart(parameters: [.init("insulinSensitivity", 1)], logStandardDeviations: [0], source: "x"))
        }
    }

    /// The PK twin started from a given clearance and volume follows them in closed form, and its measured
    /// levels calibrate nothing then.
    @Test func aGivenStartReplacesThePKCalibration() async throws {
        let bank = try doseBank(levels: true)
        let calibrated = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: start, hours: 12, ensemble: 1)
        #expect(calibrated.calibration != nil && calibrated.startedFrom == nil)
        let given = ComparisonStart(parameters: [.init("clearance", 6), .init("centralVolume", 40)], logStandardDeviations: [0, 0], source: "sync estimate")
        let result = try await DoseComparison.compare("pat", in: bank, options: [try .init(parsing: "hold=")], start: start, hours: 12, ensemble: 3, startingFrom: given)
        #expect(result.calibration == nil)
        let expected = 1000.0 / 40 * exp(-6.0 / 40 * 24)
        let final = try #require(result.options[0].outcomes[.final])
        #expect(abs(final.mean - expected) / expected < 1e-6 && final.p95 - final.p05 < 1e-9)
        for (name, text) in [("absorptionRate", "absorptionRate"), ("kidney", "kidney")] {
            do {
                _ = try await DoseComparison.compare("pat", in: bank, options: [.init(name: "hold")], start: start, hours: 12,
                                                     startingFrom: ComparisonStart(parameters: [.init(name, 1)], logStandardDeviations: [0], source: "x"))
                Issue.record("accepted \(name)")
            } catch let e as RunError { #expect(e.message.contains(text)) }
        }
    }

    /// Outcomes are keyed by typed measure and written to JSON by name; a name outside the catalogue does not decode.
    @Test func outcomesAreTypedAndKeepTheirJSONNames() throws {
        let r = ComparisonEngine.OptionResult(name: "a", fork: "t.cmp1.a", outcomes: [.timeInWindow: .init(mean: 0.5, p05: 0.4, p95: 0.6), .auc24: .init(mean: 3, p05: 2, p95: 4)], rank: 1)
        let data = try JSONEncoder().encode(r)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let outcomes = try #require(object["outcomes"] as? [String: Any])
        #expect(Set(outcomes.keys) == ["timeInWindow", "auc24"])
        #expect(try JSONDecoder().decode(ComparisonEngine.OptionResult.self, from: data) == r)
        let unknown = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "auc24", with: "auc48").utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ComparisonEngine.OptionResult.self, from: unknown) }
        #expect(OutcomeMeasure.timeBelowRange.direction == .lowerIsBetter && OutcomeMeasure.timeInRange.direction == .higherIsBetter)
        #expect(Set(OutcomeMeasure.catalogue.map(\.name)).count == OutcomeMeasure.catalogue.count)
    }
}
